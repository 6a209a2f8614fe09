// Packets back to back at a cache-line stride in one 64-aligned allocation:
// the many-clients benches' pre-sealed packets and receive rings
// (bench/vpn_bench.cpp, bench/vpn_fleet_packets_bench.cpp). The bench's own
// data layout is then the same in every bench and is not what is measured
// (separate vectors would add a heap walk each).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace l2sec::bench {

class packet_arena {
  public:
    /// n slots of len bytes each.
    packet_arena(std::size_t n, std::size_t len)
        : len_(len), stride_((len + 63) / 64 * 64), mem_(n * stride_ + 64) {}
    std::byte* at(std::size_t i) noexcept {
        auto base = reinterpret_cast<std::uintptr_t>(mem_.data());
        auto aligned = (base + 63) / 64 * 64;
        return mem_.data() + (aligned - base) + i * stride_;
    }
    std::size_t len() const noexcept { return len_; }

  private:
    std::size_t len_, stride_;
    std::vector<std::byte> mem_;
};

}  // namespace l2sec::bench
