// pcap benchmarks: walking a real capture (file view, records, link layer,
// IPv4, UDP) and building synthetic Ethernet/IPv4/UDP frames with checksums.
//   l2sec-bench --benchmark_filter=pcap
#include <benchmark/benchmark.h>

#include <l2sec/pcap.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <vector>

namespace {

namespace pcap = l2sec::pcap;

// A capture built in memory: n Ethernet/IPv4/UDP frames with `size`-byte payloads.
std::vector<std::byte> capture(std::size_t n, std::size_t size) {
    pcap::vector_writer w;
    std::vector<std::byte> payload(size, std::byte{0x42});
    std::array<std::byte, 2048> frame{};
    for (std::size_t i = 0; i < n; ++i) {
        auto len = pcap::build_udp_ipv4(frame, {}, payload);
        if (len) w.add(std::span(frame).first(*len), static_cast<std::uint32_t>(i), 0);
    }
    return w.bytes();
}

// Every record of the file down to the UDP payload (file view, record header,
// Ethernet, IPv4, UDP): per-frame cost of a capture reader.
void pcap_walk_udp(benchmark::State& state) {
    auto data = capture(100, static_cast<std::size_t>(state.range(0)));
    std::size_t frames = 0, bytes = 0;
    for (auto _ : state) {
        auto f = pcap::file_view::parse(data);
        if (!f) {
            state.SkipWithError("bad capture");
            return;
        }
        for (const auto& r : f->records()) {
            if (!r) break;
            auto ip = pcap::decode_ip_frame(f->header().link, r->data);
            if (!ip) continue;
            auto u = pcap::decode_udp(*ip);
            if (!u) continue;
            benchmark::DoNotOptimize(u->payload.data());
            ++frames;
            bytes += r->data.size();
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(frames));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(pcap_walk_udp)->Name("pcap_walk/udp_ipv4")->Arg(64)->Arg(1400);

void pcap_build_udp_ipv4(benchmark::State& state) {
    std::vector<std::byte> payload(static_cast<std::size_t>(state.range(0)), std::byte{0x5a});
    std::array<std::byte, 2048> frame{};
    pcap::udp_endpoints ep{{10, 0, 0, 1}, {10, 0, 0, 2}, 1701, 1701};
    for (auto _ : state) {
        auto n = pcap::build_udp_ipv4(frame, ep, payload);
        benchmark::DoNotOptimize(n);
        benchmark::DoNotOptimize(frame.data());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(pcap_build_udp_ipv4)->Name("pcap_build/udp_ipv4")->Arg(64)->Arg(1400);

}  // namespace
