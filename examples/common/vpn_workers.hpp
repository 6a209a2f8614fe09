// The I/O loop of l2sec-server and l2sec-client: poll(2) over the IKE
// sockets (UDP 500 and 4500), the raw ESP socket (IP protocol 50), an
// optional UDP 1701 socket (unprotected L2TP, refused and counted), the TUN
// device and, with several server workers, a mailbox; timers run from the
// stack's next deadline. The client and a one-worker server run the same
// loop (run_vpn) as each worker thread of a --workers N server (run_worker).
//
// Each server worker
// owns one vpn::server (its peers' IKE, ESP, L2TP and PPP state and a slice
// of the address pool), socket i of the SO_REUSEPORT groups on UDP 500 and
// 4500 (transport/shard.hpp steers a peer's datagrams to the same worker by
// its outer address), raw ESP socket i (filtered to the same shard), and
// queue i of a multi-queue TUN device. Nothing on the per-packet path is
// shared or locked.
//
// The kernel picks the TUN queue an IP packet leaves on from its flow hash
// (and the queue that last wrote that flow), not from our pool slices: a
// packet read on worker i for an address of worker j's slice is passed to j
// through j's mailbox, an AF_UNIX datagram socket pair (the kernel orders and
// wakes; no lock in userspace), and counted.
//
// Batching: UDP is read with recvmmsg (udp_batch), raw ESP with recvmmsg
// (raw_esp::receive_batch), and the IP packets a batch delivers go to the TUN
// device with one write_batch (with TUN offloads, a run of one TCP or UDP
// flow's segments becomes one super-packet: one write, and one pass of the
// kernel's receive path per 64 KiB); up to `tun_batch` packets
// from the TUN queue are each framed and protected in place in their own
// buffer, then sent with one sendmmsg (UDP: GSO for runs of equal-size
// datagrams to one peer, as a bulk TCP flow makes; raw ESP: sendmmsg alone).
#pragma once

#include "vpn_loop.hpp"

#include <l2sec/transport/udp_batch.hpp>
#include <l2sec/vpn/packets.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace l2sec::examples {

using worker_udp = transport::udp_batch<32, 2048>;

/// One worker's descriptors.
struct worker_io {
    worker_udp ike, nat;                        ///< socket i of the 500 and 4500 groups
    std::optional<transport::raw_esp> esp;      ///< raw ESP socket i (shard filter)
    std::optional<transport::posix_udp> plain;  ///< UDP 1701 outside IPsec (worker 0)
    std::optional<transport::linux_tun> tun;    ///< queue i
    int mailbox_rx = -1;                        ///< packets other workers pass to this one
    std::uint64_t send_errors = 0, passed_on = 0, taken_over = 0;

    void send(const vpn::outbound& o) noexcept {
        bool ok;
        if (o.raw_esp)
            ok = esp && esp->send_to(o.peer, o.data, o.local).has_value();
        else
            ok = (o.local.port == ike.local_endpoint().port ? ike : nat)
                     .send_to(o.peer, o.data)
                     .has_value();
        if (!ok) ++send_errors;
    }
};

/// The pool split into `n` slices: which worker owns `ip` (n when none).
struct pool_slices {
    std::uint32_t first = 0, last = 0;
    std::size_t n = 1;
    std::uint32_t size() const noexcept { return last - first + 1; }
    std::uint32_t slice_first(std::size_t i) const noexcept {
        return first + static_cast<std::uint32_t>(std::uint64_t{size()} * i / n);
    }
    std::uint32_t slice_last(std::size_t i) const noexcept { return slice_first(i + 1) - 1; }
    std::size_t owner(std::uint32_t ip) const noexcept {
        if (ip < first || ip > last) return n;
        for (std::size_t i = 0; i < n; ++i)
            if (ip <= slice_last(i)) return i;
        return n;
    }
};

/// Runs worker `self` until stop() returns true; `mailbox_tx[j]` writes to
/// worker j's mailbox. on_ip(delivered, now) sees each IP packet the stack
/// delivers first, and returns true when it consumed it (a self-test's echo
/// reply, an echo the server answers); the others go to the TUN device when
/// there is one, else nowhere. on_turn(now) runs once per wake-up (reports,
/// self-tests, shutdown).
template <class Stack, class OnIp, class OnTurn, class Stop>
void run_worker(Stack& stack, worker_io& io, std::size_t self, const pool_slices& slices,
                std::span<const int> mailbox_tx, OnIp on_ip, OnTurn on_turn, Stop stop) {
    constexpr std::size_t tun_batch = 32;
    using packet = std::array<std::byte, vpn::packet_buffer_size>;
    // Allocated once: a buffer per packet of a TUN batch, and the send list.
    auto bufs = std::make_unique<std::array<packet, tun_batch>>();
    auto scratch = std::make_unique<packet>();
    std::array<transport::tx_datagram, tun_batch> tx{}, rtx{};  // UDP 4500, raw ESP
    // Raw ESP receives into the same buffers, one slot each.
    std::array<mutable_bytes, tun_batch> esp_slots{};
    std::array<transport::esp_received, tun_batch> esp_got{};
    for (std::size_t i = 0; i < tun_batch; ++i)
        esp_slots[i] = (*bufs)[i];

    auto flush = [&](time_point now) {
        while (auto o = stack.poll(*scratch, now))
            io.send(*o);
    };
    // IP packets for the TUN device, views of the receive buffers of one
    // batch: written together before those buffers are read into again.
    std::array<bytes_view, 2 * tun_batch> to_tun{};
    std::size_t ntun = 0;
    auto tun_flush = [&] {
        if (io.tun && ntun) {
            auto w = io.tun->write_batch(std::span<const bytes_view>(to_tun.data(), ntun));
            if (!w || *w < ntun) io.send_errors += ntun - (w ? *w : 0);
        }
        ntun = 0;
    };
    auto deliver = [&](const result<vpn::delivered>& d, time_point now) {
        if (!d || !*d) return;
        if (on_ip(*d, now)) return;
        if (!io.tun) return;
        to_tun[ntun++] = d->ip;
        if (ntun == to_tun.size()) tun_flush();
    };
    // With many clients a batch's packets find their peers' state out of
    // cache: the server loads it for the whole batch first (server::warm),
    // the first 64 datagrams of it (GRO may hand over more). The client
    // has one peer and no warm().
    constexpr bool has_warm = requires {
        stack.warm(std::span<const bytes_view>{});
    };
    std::array<bytes_view, 64> warm_views{};
    auto warm = [&](std::size_t k) {
        if constexpr (has_warm) stack.warm(std::span<const bytes_view>(warm_views.data(), k));
    };
    auto udp_in = [&](worker_udp& sock, time_point now) {
        for (int round = 0; round < 4; ++round) {
            auto n = sock.receive_batch();
            if (!n || *n == 0) break;
            if (has_warm && &sock == &io.nat) {
                std::size_t k = 0;
                sock.for_each([&](const transport::rx_datagram& r) {
                    if (k < warm_views.size()) warm_views[k++] = r.data;
                });
                warm(k);
            }
            sock.for_each([&](const transport::rx_datagram& r) {
                deliver(stack.receive(r.data, sock.local_endpoint(), r.from, now), now);
            });
            tun_flush();
        }
    };
    // Frames and protects up to tun_batch packets read by `next(buf)` (the
    // packet's length at vpn::headroom, 0 when none is left), then sends the
    // UDP-encapsulated ones with one sendmmsg.
    auto protect_batch = [&](auto next, time_point now) {
        std::size_t ntx = 0, nrtx = 0, i = 0;
        for (; i < tun_batch; ++i) {
            auto& b = (*bufs)[i];
            const std::size_t len = next(b);
            if (len == 0) break;
            if (len >= 20 && slices.n > 1) {
                const auto* p = b.data() + vpn::headroom + 16;
                const std::uint32_t dst = (std::to_integer<std::uint32_t>(p[0]) << 24) |
                                          (std::to_integer<std::uint32_t>(p[1]) << 16) |
                                          (std::to_integer<std::uint32_t>(p[2]) << 8) |
                                          std::to_integer<std::uint32_t>(p[3]);
                const std::size_t owner = slices.owner(dst);
                if (owner < slices.n && owner != self) {
                    if (::send(mailbox_tx[owner], b.data() + vpn::headroom, len, MSG_DONTWAIT) < 0)
                        ++io.send_errors;
                    ++io.passed_on;
                    continue;
                }
            }
            auto o = stack.send_ip(b, vpn::headroom, len, now);
            if (!o) continue;
            if (o->raw_esp && io.esp) {
                rtx[nrtx++] = transport::tx_datagram{o->data, o->peer, o->local};
                continue;
            }
            if (o->raw_esp || o->local.port == io.ike.local_endpoint().port) {
                io.send(*o);
                continue;
            }
            tx[ntx++] = transport::tx_datagram{o->data, o->peer, {}};
        }
        auto send_all = [&](auto& sock, std::span<const transport::tx_datagram> items) {
            std::size_t done = 0;
            while (done < items.size()) {
                auto r = sock.send_batch(items.subspan(done));
                if (!r || *r == 0) {  // refused: drop it, keep the rest
                    ++io.send_errors;
                    ++done;
                    continue;
                }
                done += *r;
            }
        };
        send_all(io.nat, std::span<const transport::tx_datagram>(tx.data(), ntx));
        if (nrtx) send_all(*io.esp, std::span<const transport::tx_datagram>(rtx.data(), nrtx));
        return i;
    };

    while (!stop()) {
        auto now = vpn_now();
        stack.tick(now);
        flush(now);
        on_turn(now);
        flush(now);
        if (stop()) break;
        int timeout_ms = 100;
        if (auto d = stack.next_deadline()) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d - now).count() + 1;
            if (ms < timeout_ms) timeout_ms = ms < 0 ? 0 : static_cast<int>(ms);
        }
        std::array<pollfd, 6> fds{};
        nfds_t n = 0;
        fds[n++] = {io.ike.fd(), POLLIN, 0};
        fds[n++] = {io.nat.fd(), POLLIN, 0};
        if (io.esp) fds[n++] = {io.esp->fd(), POLLIN, 0};
        if (io.plain) fds[n++] = {io.plain->fd(), POLLIN, 0};
        if (io.tun) fds[n++] = {io.tun->native_handle(), POLLIN, 0};
        if (io.mailbox_rx >= 0) fds[n++] = {io.mailbox_rx, POLLIN, 0};
        if (::poll(fds.data(), n, timeout_ms) <= 0) continue;
        now = vpn_now();
        udp_in(io.ike, now);
        udp_in(io.nat, now);
        if (io.esp)
            for (int round = 0; round < 4; ++round) {
                auto got = io.esp->receive_batch(esp_slots, esp_got);
                if (!got) break;
                if (has_warm) {
                    std::size_t k = 0;
                    for (; k < *got && k < warm_views.size(); ++k)
                        warm_views[k] = esp_slots[k].first(esp_got[k].size);
                    warm(k);
                }
                for (std::size_t i = 0; i < *got; ++i)
                    if (esp_got[i].size)
                        deliver(stack.receive_esp(esp_slots[i].first(esp_got[i].size),
                                                  esp_got[i].to, esp_got[i].from, now),
                                now);
                tun_flush();
                if (*got < esp_slots.size()) break;
            }
        if constexpr (requires { stack.receive_plain_l2tp(bytes_view{}, transport::endpoint{}); })
            if (io.plain) {
                auto& buf = (*bufs)[0];
                for (int i = 0; i < 64; ++i) {
                    auto r = io.plain->receive_from(buf);
                    if (!r) break;
                    (void)stack.receive_plain_l2tp(bytes_view(buf.data(), r->size), r->from, now);
                }
            }
        if (io.tun)
            for (int round = 0; round < 4; ++round) {
                auto got = protect_batch(
                    [&](packet& b) -> std::size_t {
                        auto p = io.tun->read_packet(b, vpn::headroom);
                        return p ? p->size() : 0;
                    },
                    now);
                if (got < tun_batch) break;
            }
        if (io.mailbox_rx >= 0)
            (void)protect_batch(
                [&](packet& b) -> std::size_t {
                    auto r = ::recv(io.mailbox_rx, b.data() + vpn::headroom,
                                    b.size() - vpn::headroom - vpn::tailroom, MSG_DONTWAIT);
                    if (r <= 0) return 0;
                    ++io.taken_over;
                    return static_cast<std::size_t>(r);
                },
                now);
        flush(now);
    }
}

/// One stack and no other worker: the client, a one-worker server.
template <class Stack, class OnIp, class OnTurn, class Stop>
void run_vpn(Stack& stack, worker_io& io, OnIp on_ip, OnTurn on_turn, Stop stop) {
    run_worker(stack, io, 0, pool_slices{}, {}, std::move(on_ip), std::move(on_turn),
               std::move(stop));
}

}  // namespace l2sec::examples
