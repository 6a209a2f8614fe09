// The I/O loop of l2sec-server and l2sec-client: poll(2) over the IKE
// sockets (UDP 500 and 4500), the raw ESP socket (IP protocol 50), an
// optional UDP 1701 socket (unprotected L2TP, refused and counted) and the
// TUN device, driving a vpn::server or vpn::client. Everything the stack
// produces is sent as it comes; each wake-up reads what is waiting on every
// descriptor (up to a batch), and timers run from the stack's next deadline.
#pragma once

#include <l2sec/transport/linux_tun.hpp>
#include <l2sec/transport/posix_udp.hpp>
#include <l2sec/transport/raw_esp.hpp>
#include <l2sec/vpn/packets.hpp>

#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>

namespace l2sec::examples {

struct vpn_io {
    transport::posix_udp ike, nat;              ///< UDP 500 and 4500
    std::optional<transport::raw_esp> esp;      ///< IP protocol 50 (no NAT in between)
    std::optional<transport::posix_udp> plain;  ///< UDP 1701 outside IPsec (server)
    std::optional<transport::linux_tun> tun;
    std::uint64_t send_errors = 0;
    std::uint64_t udp_received = 0;  ///< datagrams read from UDP 500 and 4500 (diagnostics)

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

/// What a user should read when a socket or device cannot be had at
/// startup: the error, and what to do about it. `sys` is errno right after
/// the failed call (posix_udp reports system_error without it).
inline std::string startup_failure(const error& e, int sys) {
    std::string s = e.message();
    if (e == transport::errc::permission_denied || sys == EACCES || sys == EPERM)
        return s + (sys ? std::string(": ") + std::strerror(sys) : std::string()) +
               " (run as root, or grant CAP_NET_BIND_SERVICE for ports below 1024, CAP_NET_RAW for "
               "raw ESP, CAP_NET_ADMIN for a TUN device)";
    if (sys == EADDRINUSE)
        return s + ": " + std::strerror(sys) +
               " (another IKE daemon, such as charon, pluto or racoon, or another l2sec program "
               "holds the port: stop it, or use --ike-port/--nat-port)";
    if (sys == EADDRNOTAVAIL)
        return s + ": " + std::strerror(sys) + " (the address is not on an interface of this host)";
    if (e == transport::errc::not_supported)
        return s +
               " (no /dev/net/tun: load the tun module, or pass /dev/net/tun into the "
               "container)";
    if (e == transport::errc::name_in_use)
        return s + " (pick another --tun name, or delete the interface)";
    if (sys != 0) return s + ": " + std::strerror(sys);
    return s;
}

/// A 4 MiB receive buffer (SO_RCVBUFFORCE as root, else SO_RCVBUF up to
/// net.core.rmem_max): with the default ~200 KiB a raw ESP socket holds about
/// 90 packets and drops the rest of a TCP window's burst (bench/throughput.sh
/// saw 10% loss before this).
inline void grow_receive_buffer(int fd) noexcept {
    int size = 4 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

/// A longer kernel queue toward the program on TUN device `name` (the
/// default txqueuelen of 500 overflows on a TCP burst while the loop is busy
/// with the other direction; bench/throughput.sh counts tx_dropped). Best
/// effort: false when the ioctl is refused.
inline bool grow_tun_queue(const char* name, int packets = 4096) noexcept {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    ifr.ifr_qlen = packets;
    const bool ok = ::ioctl(fd, SIOCSIFTXQLEN, &ifr) == 0;
    ::close(fd);
    return ok;
}

inline time_point vpn_now() {
    return std::chrono::steady_clock::now();
}

/// Run `stack` over `io` until stop() returns true. on_ip(delivered, now)
/// sees each IP packet the stack delivers first, and returns true when it
/// consumed it (a self-test's echo reply, an echo the server answers); the
/// others go to the TUN device when there is one, else nowhere. on_turn(now)
/// runs once per wake-up (reports, self-tests, shutdown).
template <class Stack, class OnIp, class OnTurn, class Stop>
void run_vpn(Stack& stack, vpn_io& io, OnIp on_ip, OnTurn on_turn, Stop stop) {
    constexpr int batch = 64;
    std::array<std::byte, vpn::packet_buffer_size> buf{}, scratch{};
    auto flush = [&](time_point now) {
        while (auto o = stack.poll(scratch, now))
            io.send(*o);
    };
    auto deliver = [&](const result<vpn::delivered>& d, time_point now) {
        if (!d || !*d) return;
        if (on_ip(*d, now)) return;
        if (io.tun) (void)io.tun->write_packet(d->ip);
    };
    auto udp_in = [&](transport::posix_udp& sock, time_point now) {
        for (int i = 0; i < batch; ++i) {
            auto r = sock.receive_from(buf);
            if (!r) break;
            ++io.udp_received;
            auto d = stack.receive(mutable_bytes(buf.data(), r->size), sock.local_endpoint(),
                                   r->from, now);
            deliver(d, now);
        }
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
        std::array<pollfd, 5> fds{};
        std::size_t n = 0;
        fds[n++] = {io.ike.fd(), POLLIN, 0};
        fds[n++] = {io.nat.fd(), POLLIN, 0};
        if (io.esp) fds[n++] = {io.esp->fd(), POLLIN, 0};
        if (io.plain) fds[n++] = {io.plain->fd(), POLLIN, 0};
        if (io.tun) fds[n++] = {io.tun->native_handle(), POLLIN, 0};
        if (::poll(fds.data(), static_cast<nfds_t>(n), timeout_ms) <= 0) continue;
        now = vpn_now();
        udp_in(io.ike, now);
        udp_in(io.nat, now);
        if (io.esp)
            for (int i = 0; i < batch; ++i) {
                auto r = io.esp->receive(buf);
                if (!r) break;
                deliver(stack.receive_esp(mutable_bytes(buf.data(), r->size), r->to, r->from, now),
                        now);
            }
        if constexpr (requires { stack.receive_plain_l2tp(bytes_view{}, transport::endpoint{}); })
            if (io.plain)
                for (int i = 0; i < batch; ++i) {
                    auto r = io.plain->receive_from(buf);
                    if (!r) break;
                    (void)stack.receive_plain_l2tp(bytes_view(buf.data(), r->size), r->from);
                }
        if (io.tun)
            for (int i = 0; i < batch; ++i) {
                auto p = io.tun->read_packet(buf, vpn::headroom);
                if (!p) break;
                if (auto o = stack.send_ip(buf, vpn::headroom, p->size(), now)) io.send(*o);
            }
        flush(now);
    }
}

}  // namespace l2sec::examples
