// Worker-thread scaling of the server's per-packet path (issue 11, part 4),
// without sockets, TUN or a client competing for the cores:
//   workers_decap/<backend>/aes128gcm/<size>/real_time/threads:<n>
//       copy the ESP packet into the work buffer, then ESP open, UDP, L2TP,
//       PPP, out comes the IP packet (what a worker does with a datagram)
//   workers_encap/<backend>/aes128gcm/<size>/real_time/threads:<n>
//       copy the IP packet into the buffer (the TUN read), find the session
//       by destination (vpn::server::send_ip), PPP, L2TP, UDP, ESP in place
// <size>: 1400 or imix (7:4:1 of 64/576/1400, per packet averaged).
//
// Each benchmark thread is one worker of `l2sec-server --workers n`: it
// builds, on its own thread, its own server stack_core (the state one
// vpn::server owns), brings its own peers up through L2TP and PPP to IPCP
// with ESP pairs installed by stack_core::install (what the worker's IKE
// engine calls), and then runs packets of its own peers only. items_per_second
// is the aggregate over the threads (Google Benchmark sums the items and
// divides by the wall time); threads:2 / threads:1 is the scaling ratio.
//
// Shared between the threads on the per-packet path: nothing that is
// written. Every thread owns its stack_core (its stats counters, SAs,
// replay windows, sequence numbers, L2TP and PPP state, frame buffer), its
// random source (bench_stack::srng, only read at SA creation anyway), its
// packet store and its work buffer (on its own stack). The stack is built
// inside the thread, so its heap blocks come from that thread's malloc arena,
// OpenSSL's EVP contexts included. Botan 2 keeps key schedules and GCM/CTR
// state in secure_vector, which its mlock pool packs by size class for the
// whole process: two workers' cipher state may share a cache line there (run
// with BOTAN_MLOCK_POOL_SIZE=0 to take it from malloc and compare).
#include <benchmark/benchmark.h>

#include <l2sec/crypto/botan.hpp>
#if defined(L2SEC_BENCH_OPENSSL)
#include <l2sec/crypto/openssl.hpp>
#endif
#include <l2sec/vpn/icmp.hpp>

#include "stack_rig.hpp"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace l2sec;
using namespace l2sec::bench;

// Peers per worker: several, visited in turn, so a packet's SA and session
// are not always the last one's.
constexpr std::size_t worker_peers = 8;

// One thread's packets, each at a 64-byte aligned slot of its own: no line
// of one thread's store is next to the other's.
class packet_slots {
  public:
    explicit packet_slots(std::size_t n) : mem_(n * stride + 64), len_(n) {}
    std::byte* at(std::size_t i) noexcept {
        auto base = reinterpret_cast<std::uintptr_t>(mem_.data());
        return mem_.data() + ((base + 63) / 64 * 64 - base) + i * stride;
    }
    std::size_t& len(std::size_t i) noexcept { return len_[i]; }

    static constexpr std::size_t stride = (vpn::packet_buffer_size + 63) / 64 * 64;

  private:
    std::vector<std::byte> mem_;
    std::vector<std::size_t> len_;
};

// One worker's state, built on the worker's thread.
template <class B>
struct worker {
    using stack = bench_stack<B, worker_peers>;
    std::unique_ptr<stack> s;
    std::vector<std::unique_ptr<typename stack::client_core>> clients;
    std::vector<std::uint32_t> peer_ip;  ///< the pool address of client i
    rnd crng;

    worker(int thread, const char* suite) : crng(static_cast<std::uint64_t>(100 + thread)) {
        s = std::make_unique<stack>(*esp::parse_suite(suite));
        const auto t = static_cast<std::uint32_t>(thread);
        for (std::uint32_t i = 0; i < worker_peers; ++i) {
            // Outer endpoints of this worker's peers: distinct per thread, as
            // shard_of would have spread them; keys differ per peer and thread.
            auto ep = transport::endpoint::v4(0xcb007100u + t * 256 + i,
                                              static_cast<std::uint16_t>(40000 + i));
            clients.push_back(s->connect(ep, t * 1000 + i + 1, crng));
        }
        // The pool address each client got from IPCP: what the server routes it by.
        for (auto& c : clients)
            peer_ip.push_back(c->link(1) ? c->link(1)->local_ip() : 0);
    }
    bool up() const {
        for (std::size_t i = 0; i < worker_peers; ++i)
            if (clients[i]->sessions_up() != 1 || s->server->session_for(peer_ip[i]) == 0)
                return false;
        return s->server->sessions_up() == worker_peers;
    }
};

// Packet j of the cycle: peer j % peers, size (j / peers) % sizes: every peer
// sends every size, the peers interleaved.
std::size_t cycle_len(const std::vector<std::size_t>& sizes) {
    return sizes.size() * worker_peers;
}

template <class B>
void workers_decap(benchmark::State& st, const char* suite, std::string which) {
    worker<B> w(st.thread_index(), suite);
    if (!w.up()) return st.SkipWithError("sessions did not come up");
    const auto sizes = sizes_of(which);
    const std::size_t n = cycle_len(sizes);
    packet_slots pkts(n);
    std::array<std::byte, vpn::packet_buffer_size> buf{};
    for (std::size_t j = 0; j < n; ++j) {
        const std::size_t c = j % worker_peers, len = sizes[(j / worker_peers) % sizes.size()];
        vpn::make_echo_request(mutable_bytes(buf).subspan(vpn::headroom, len), w.peer_ip[c],
                               0x0a000001, 1, 1, len);
        auto o = w.clients[c]->send_ip(1, buf, vpn::headroom, len);
        if (!o || o->data.size() > packet_slots::stride) return st.SkipWithError("send_ip failed");
        std::memcpy(pkts.at(j), o->data.data(), o->data.size());
        pkts.len(j) = o->data.size();
    }
    auto work = std::make_unique<std::array<std::byte, vpn::packet_buffer_size>>();
    std::size_t k = 0, bytes = 0;
    time_point now{};
    for (auto _ : st) {
        const std::size_t j = k++ % n;
        std::memcpy(work->data(), pkts.at(j), pkts.len(j));
        auto d = w.s->server->on_esp(mutable_bytes(work->data(), pkts.len(j)), now);
        benchmark::DoNotOptimize(d);
        if (!d || !*d) return st.SkipWithError("on_esp failed");
        bytes += d->ip.size();
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

template <class B>
void workers_encap(benchmark::State& st, const char* suite, std::string which) {
    worker<B> w(st.thread_index(), suite);
    if (!w.up()) return st.SkipWithError("sessions did not come up");
    const auto sizes = sizes_of(which);
    const std::size_t n = cycle_len(sizes);
    packet_slots ips(n);  // the IP packets as the TUN device would hand them over
    for (std::size_t j = 0; j < n; ++j) {
        const std::size_t c = j % worker_peers, len = sizes[(j / worker_peers) % sizes.size()];
        vpn::make_echo_request(mutable_bytes(ips.at(j), len), 0x0a000001, w.peer_ip[c], 1, 1, len);
        ips.len(j) = len;
    }
    auto buf = std::make_unique<std::array<std::byte, vpn::packet_buffer_size>>();
    // Once per peer outside the loop: what the server seals, the client opens.
    for (std::size_t c = 0; c < worker_peers; ++c) {
        std::memcpy(buf->data() + vpn::headroom, ips.at(c), ips.len(c));
        auto sid = w.s->server->session_for(load_be32(buf->data() + vpn::headroom + 16));
        auto o = w.s->server->send_ip(sid, *buf, vpn::headroom, ips.len(c));
        if (!o) return st.SkipWithError("send_ip failed");
        std::vector<std::byte> d(o->data.begin(), o->data.end());
        auto got = w.clients[c]->on_esp(d, time_point{});
        if (!got || !*got || got->ip.size() != ips.len(c))
            return st.SkipWithError("the client did not get the packet");
    }
    std::size_t k = 0, bytes = 0;
    for (auto _ : st) {
        const std::size_t j = k++ % n;
        std::memcpy(buf->data() + vpn::headroom, ips.at(j), ips.len(j));
        // vpn::server::send_ip: the session by destination address, then the core.
        auto sid = w.s->server->session_for(load_be32(buf->data() + vpn::headroom + 16));
        auto o = w.s->server->send_ip(sid, *buf, vpn::headroom, ips.len(j));
        benchmark::DoNotOptimize(o);
        if (!o) return st.SkipWithError("send_ip failed");
        bytes += ips.len(j);
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

template <class B>
void register_backend() {
    const std::string bn = backend_name(static_cast<B*>(nullptr));
    for (std::string size : {"1400", "imix"}) {
        auto tail = bn + "/aes128gcm/" + size;
        benchmark::RegisterBenchmark(("workers_decap/" + tail).c_str(), workers_decap<B>,
                                     "aes128-gcm", size)
            ->Threads(1)
            ->Threads(2)
            ->UseRealTime();
        benchmark::RegisterBenchmark(("workers_encap/" + tail).c_str(), workers_encap<B>,
                                     "aes128-gcm", size)
            ->Threads(1)
            ->Threads(2)
            ->UseRealTime();
    }
}

const int registered = [] {
    register_backend<crypto::botan>();
#if defined(L2SEC_BENCH_OPENSSL)
    register_backend<crypto::openssl>();
#endif
    return 0;
}();

}  // namespace
