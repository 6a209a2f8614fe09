// The path through the kernel: UDP on loopback in a network namespace of the
// benchmark's own (root only; skipped otherwise), a burst of 32 datagrams of
// n bytes per iteration, sent and received by the same thread. Names pair up:
//   l2sec-bench --benchmark_filter='transport_udp/.*/1400$'
// transport_udp/sendto/<n>      posix_udp: one sendto and one recvfrom per datagram (reference)
// transport_udp/sendmmsg/<n>    udp_batch, GSO off: one sendmmsg + recvmmsg per burst
// transport_udp/gso/<n>         udp_batch, GSO on: one GSO message per burst, recvmmsg
// transport_udp/gso_gro/<n>     GSO sender, GRO receiver (64 KiB slots): one slot per burst
// transport_tun/read_batch/<n>  linux_tun: a burst written by a UDP socket into a TUN, read back
// transport_tun/offload/<n>     the same burst sent with GSO into a TUN with offloads (USO):
//                               one super-packet read, cut into n-byte UDP packets
// transport_tun/write/<n>       inbound: 32 TCP segments of one flow written one by one into a
//                               TUN to a kernel TCP socket, and received by it
// transport_tun/write_batch/<n> the same burst coalesced: one write() of a TSO super-packet
// Counters: pkts/s (datagrams through both ends per second) and syscalls/pkt
// (system calls by both ends per datagram). Ratios go against transport_udp/sendto.
#include <benchmark/benchmark.h>

#include <l2sec/transport/linux_tun.hpp>
#include <l2sec/transport/udp_batch.hpp>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <sys/socket.h>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

namespace {

using namespace l2sec;
using namespace l2sec::transport;

constexpr std::size_t burst = 32;

// Moves the benchmark thread into a fresh network namespace once (lo up) and
// stays there: nothing else in l2sec-bench touches the network.
bool in_netns() {
    static const bool ok = [] {
        if (::geteuid() != 0) return false;
        if (::unshare(CLONE_NEWNET) != 0) return false;
        return static_cast<bool>(netdev::set_up("lo"));
    }();
    return ok;
}

void report(benchmark::State& state, std::uint64_t pkts, std::uint64_t syscalls, std::size_t n) {
    state.SetItemsProcessed(static_cast<std::int64_t>(pkts));
    state.SetBytesProcessed(static_cast<std::int64_t>(pkts * n));
    state.counters["pkts/s"] =
        benchmark::Counter(static_cast<double>(pkts), benchmark::Counter::kIsRate);
    state.counters["syscalls/pkt"] =
        pkts ? static_cast<double>(syscalls) / static_cast<double>(pkts) : 0.0;
}

void transport_udp_sendto(benchmark::State& state) {
    if (!in_netns()) return state.SkipWithError("needs root for a network namespace");
    const auto n = static_cast<std::size_t>(state.range(0));
    auto a = posix_udp::bind(endpoint::loopback_v4(0));
    auto b = posix_udp::bind(endpoint::loopback_v4(0), {.receive_buffer = 4 << 20});
    if (!a || !b) return state.SkipWithError("bind failed");
    std::vector<std::byte> pkt(n, std::byte{0x5a});
    std::array<std::byte, 2048> buf{};
    std::uint64_t pkts = 0, calls = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < burst; ++i, ++calls)
            (void)a->send_to(b->local_endpoint(), pkt);
        std::size_t got = 0;
        for (int spin = 0; got < burst && spin < 100000; ++spin, ++calls)
            if (b->receive_from(buf)) ++got;
        pkts += got;
    }
    report(state, pkts, calls, n);
}

template <std::size_t RxSize>
void run_batch(benchmark::State& state, bool gso, bool gro) {
    if (!in_netns()) return state.SkipWithError("needs root for a network namespace");
    const auto n = static_cast<std::size_t>(state.range(0));
    auto a = udp_batch<burst>::bind(endpoint::loopback_v4(0), {.try_gso = gso});
    auto b = std::make_unique<result<udp_batch<burst, RxSize>>>(udp_batch<burst, RxSize>::bind(
        endpoint::loopback_v4(0), {.socket = {.receive_buffer = 4 << 20}, .try_gro = gro}));
    if (!a || !*b) return state.SkipWithError("bind failed");
    auto& rx = **b;
    if (gso && !a->features().gso) return state.SkipWithError("no UDP GSO in this kernel");
    if (gro && !rx.features().gro) return state.SkipWithError("no UDP GRO in this kernel");
    std::vector<std::byte> pkt(n, std::byte{0x5a});
    std::array<tx_datagram, burst> tx;
    for (auto& t : tx)
        t = {pkt, rx.local_endpoint()};
    std::uint64_t pkts = 0;
    for (auto _ : state) {
        std::size_t sent = 0;
        while (sent < burst) {
            auto r = a->send_batch(std::span(tx).subspan(sent));
            if (!r) break;
            sent += *r;
        }
        std::size_t got = 0;
        for (int spin = 0; got < sent && spin < 100000; ++spin)
            if (auto r = rx.receive_batch()) got += *r;
        pkts += got;
    }
    report(state, pkts, a->stats().syscalls + rx.stats().syscalls, n);
}

void transport_udp_sendmmsg(benchmark::State& s) {
    run_batch<2048>(s, false, false);
}
void transport_udp_gso(benchmark::State& s) {
    run_batch<2048>(s, true, false);
}
void transport_udp_gso_gro(benchmark::State& s) {
    run_batch<65535>(s, true, true);
}

void run_tun(benchmark::State& state, bool offload) {
    if (!in_netns()) return state.SkipWithError("needs root for a network namespace");
    const auto n = static_cast<std::size_t>(state.range(0));
    auto tun = linux_tun::open(offload ? "l2sbench1" : "l2sbench0", {.offload = offload});
    if (!tun) return state.SkipWithError("no TUN device");
    if (!tun->set_mtu(1500) || !tun->set_ipv4(endpoint::v4(10, 98, 0, 1, 0), 24) || !tun->set_up())
        return state.SkipWithError("cannot configure the TUN device");
    if (offload && !tun->offloads().uso) return state.SkipWithError("no USO on this kernel's TUN");
    auto sock = udp_batch<burst>::bind(endpoint::v4(10, 98, 0, 1, 0), {.try_gso = offload});
    if (!sock) return state.SkipWithError("bind failed");
    std::vector<std::byte> pkt(n, std::byte{0x5a});
    std::array<tx_datagram, burst> tx;
    for (auto& t : tx)
        t = {pkt, endpoint::v4(10, 98, 0, 7, 9)};
    std::vector<std::array<std::byte, 2048>> store(burst);
    std::array<mutable_bytes, burst> bufs, out;
    for (std::size_t i = 0; i < burst; ++i)
        bufs[i] = store[i];
    std::uint64_t pkts = 0;
    for (auto _ : state) {
        auto s = sock->send_batch(tx);
        const std::size_t sent = s ? *s : 0;
        std::size_t got = 0;
        for (int spin = 0; got < sent && spin < 100000; ++spin) {
            auto r = read_batch(*tun, std::span(bufs).first(sent - got), 64, out);
            if (r) got += *r;
        }
        pkts += got;
    }
    report(state, pkts, tun->read_calls() + sock->stats().syscalls, n);
}
void transport_tun_read_batch(benchmark::State& s) {
    run_tun(s, false);
}
void transport_tun_offload(benchmark::State& s) {
    run_tun(s, true);
}

// An IPv4 TCP segment with correct checksums, for the write benchmarks.
std::vector<std::byte> tcp4(const endpoint& src, const endpoint& dst, std::uint32_t seq,
                            std::uint32_t ack, std::uint8_t flags, bytes_view payload) {
    std::vector<std::byte> p(40 + payload.size());
    p[0] = std::byte{0x45};
    store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
    p[6] = std::byte{0x40};
    p[8] = std::byte{64};
    p[9] = std::byte{6};
    std::memcpy(&p[12], src.addr.data(), 4);
    std::memcpy(&p[16], dst.addr.data(), 4);
    store_be16(&p[10], internet_checksum(bytes_view(p).first(20)));
    store_be16(&p[20], src.port);
    store_be16(&p[22], dst.port);
    store_be32(&p[24], seq);
    store_be32(&p[28], ack);
    p[32] = std::byte{0x50};
    p[33] = std::byte{flags};
    store_be16(&p[34], 65535);
    if (!payload.empty()) std::memcpy(&p[40], payload.data(), payload.size());
    std::uint32_t sum = checksum_add(0, bytes_view(p).subspan(12, 8)) + 6 +
                        static_cast<std::uint32_t>(20 + payload.size());
    store_be16(&p[36], checksum_fold(checksum_add(sum, bytes_view(p).subspan(20))));
    return p;
}

// Inbound: a burst of 32 TCP segments of one flow written into a TUN to a
// kernel TCP socket (the benchmark plays the peer: handshake by hand), then
// received by the socket. Per packet (write_packet) or coalesced (write_batch).
void run_tun_write(benchmark::State& state, bool coalesce) {
    if (!in_netns()) return state.SkipWithError("needs root for a network namespace");
    const auto n = static_cast<std::size_t>(state.range(0));
    auto tun = linux_tun::open(coalesce ? "l2sbench3" : "l2sbench2", {.offload = true});
    if (!tun) return state.SkipWithError("no TUN device");
    if (coalesce && !tun->offloads().tso) return state.SkipWithError("no TSO on this TUN");
    const auto net3 = static_cast<std::uint8_t>(coalesce ? 3 : 2);
    if (!tun->set_mtu(1500) || !tun->set_ipv4(endpoint::v4(10, 97, net3, 1, 0), 24) ||
        !tun->set_up())
        return state.SkipWithError("cannot configure the TUN device");
    static std::uint16_t run_no = 0;  // each run its own connection (old ones linger in FIN_WAIT)
    ++run_no;
    const auto me = endpoint::v4(10, 97, net3, 9, static_cast<std::uint16_t>(40000 + run_no));
    const auto srv = endpoint::v4(10, 97, net3, 1, static_cast<std::uint16_t>(5000 + run_no));
    int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_storage ss;
    socklen_t len = transport::detail::to_sockaddr(srv, ss);
    int big = 8 << 20, one = 1;
    (void)::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    (void)::setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (::bind(lfd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(lfd, 1) != 0)
        return state.SkipWithError("listen failed");
    std::array<std::byte, 2048> buf{};
    const std::uint32_t isn = 1000;
    (void)tun->write_packet(tcp4(me, srv, isn, 0, 0x02, {}));
    std::uint32_t sisn = 0;
    bool got_synack = false;
    for (int i = 0; i < 4000 && !got_synack; ++i) {
        auto p = tun->read_packet(buf, 0);
        if (p && std::to_integer<int>((*p)[9]) == 6 && std::to_integer<int>((*p)[33]) == 0x12) {
            sisn = load_be32(&(*p)[24]);
            got_synack = true;
        } else if (!p) {
            ::usleep(500);
        }
    }
    if (!got_synack) return state.SkipWithError("no SYN-ACK from the kernel");
    (void)tun->write_packet(tcp4(me, srv, isn + 1, sisn + 1, 0x10, {}));
    int cfd = -1;
    for (int i = 0; i < 4000 && cfd < 0; ++i, ::usleep(500))
        cfd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
    if (cfd < 0) return state.SkipWithError("accept failed");
    std::vector<std::byte> payload(n, std::byte{0x5a});
    std::vector<std::vector<std::byte>> segs(burst);
    std::vector<bytes_view> views(burst);
    std::uint32_t seq = isn + 1;
    std::vector<std::byte> rx(1 << 20);
    std::uint64_t pkts = 0, calls = 0;
    const auto writes0 = tun->write_calls(), reads0 = tun->read_calls();
    for (auto _ : state) {
        state.PauseTiming();
        for (std::size_t k = 0; k < burst; ++k) {
            segs[k] = tcp4(me, srv, seq, sisn + 1, 0x10, payload);
            views[k] = segs[k];
            seq += static_cast<std::uint32_t>(n);
        }
        state.ResumeTiming();
        if (coalesce) {
            (void)tun->write_batch(views);
        } else {
            for (auto& v : views)
                (void)tun->write_packet(v);
        }
        std::size_t want = burst * n, got = 0;
        for (int spin = 0; got < want && spin < 100000; ++spin, ++calls) {
            const ssize_t r = ::recv(cfd, rx.data(), rx.size(), 0);
            if (r > 0) got += static_cast<std::size_t>(r);
        }
        while (tun->read_packet(buf, 0)) {  // the kernel's ACKs
        }
        pkts += got / n;
    }
    calls += (tun->write_calls() - writes0) + (tun->read_calls() - reads0);
    ::close(cfd);
    ::close(lfd);
    report(state, pkts, calls, n);
}
void transport_tun_write(benchmark::State& s) {
    run_tun_write(s, false);
}
void transport_tun_write_batch(benchmark::State& s) {
    run_tun_write(s, true);
}

}  // namespace

BENCHMARK(transport_udp_sendto)->Name("transport_udp/sendto")->Arg(64)->Arg(1400);
BENCHMARK(transport_udp_sendmmsg)->Name("transport_udp/sendmmsg")->Arg(64)->Arg(1400);
BENCHMARK(transport_udp_gso)->Name("transport_udp/gso")->Arg(64)->Arg(1400);
BENCHMARK(transport_udp_gso_gro)->Name("transport_udp/gso_gro")->Arg(64)->Arg(1400);
BENCHMARK(transport_tun_read_batch)->Name("transport_tun/read_batch")->Arg(64)->Arg(1400);
BENCHMARK(transport_tun_offload)->Name("transport_tun/offload")->Arg(64)->Arg(1400);
BENCHMARK(transport_tun_write)->Name("transport_tun/write")->Arg(1400);
BENCHMARK(transport_tun_write_batch)->Name("transport_tun/write_batch")->Arg(1400);
