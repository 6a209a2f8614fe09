// Anti-replay window (RFC 4303 3.4.3 and appendix A) as a ring of 64-bit
// blocks (RFC 6479): checking is O(1), sliding clears whole blocks, and the
// window size is a runtime value up to the compile-time capacity MaxSize.
// check() never changes anything; update() is called only once the packet's
// ICV has verified.
#pragma once

#include <l2sec/core/warm.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace l2sec::esp {

enum class replay_verdict : unsigned char { ok, duplicate, too_old };

template <std::size_t MaxSize = 4096>
class replay_window {
    static_assert(MaxSize % 64 == 0 && MaxSize > 0, "window capacity is a multiple of 64");
    static constexpr std::size_t nblocks = std::bit_ceil(MaxSize / 64 + 1);
    static constexpr std::uint64_t mask = nblocks - 1;

  public:
    static constexpr std::size_t capacity = MaxSize;

    /// size 0 disables replay checking (every packet is new).
    constexpr explicit replay_window(std::size_t size = 64) noexcept
        : size_(size > MaxSize ? MaxSize : size) {}

    constexpr std::size_t size() const noexcept { return size_; }
    /// Highest sequence number accepted so far (0: none yet).
    constexpr std::uint64_t top() const noexcept { return top_; }

    constexpr replay_verdict check(std::uint64_t seq) const noexcept {
        if (size_ == 0 || seq > top_) return replay_verdict::ok;
        if (top_ - seq >= size_) return replay_verdict::too_old;
        return (bits_[(seq >> 6) & mask] >> (seq & 63)) & 1u ? replay_verdict::duplicate
                                                             : replay_verdict::ok;
    }

    /// Load the block check(seq) reads (core/warm.hpp).
    void warm(std::uint64_t seq) const noexcept { l2sec::warm(&bits_[(seq >> 6) & mask]); }

    /// Record seq as received. Precondition: check(seq) == ok.
    constexpr void update(std::uint64_t seq) noexcept {
        if (seq > top_) {
            std::uint64_t old_block = top_ >> 6, new_block = seq >> 6;
            std::uint64_t diff = new_block - old_block;
            if (diff > nblocks) diff = nblocks;
            for (std::uint64_t i = 1; i <= diff; ++i)
                bits_[(old_block + i) & mask] = 0;
            top_ = seq;
        }
        bits_[(seq >> 6) & mask] |= std::uint64_t{1} << (seq & 63);
    }

  private:
    std::size_t size_;
    std::uint64_t top_ = 0;
    std::array<std::uint64_t, nblocks> bits_{};
};

/// RFC 4303 appendix A2.2: the high 32 bits of an extended sequence number,
/// inferred from the transmitted low 32 bits, the highest number received so
/// far and the window size. Where the appendix would pick the epoch before
/// the first one (case B while still in epoch 0), there is no such epoch: the
/// number is taken as ahead of the window in epoch 0, and the ICV decides.
constexpr bool infer_esn(std::uint32_t seql, std::uint64_t top, std::size_t window,
                         std::uint64_t& out) noexcept {
    auto tl = static_cast<std::uint32_t>(top);
    auto th = static_cast<std::uint32_t>(top >> 32);
    auto w = static_cast<std::uint32_t>(window == 0 ? 1 : window);
    std::uint32_t bottom = tl - w + 1;  // wraps in case B, as the RFC intends
    std::uint32_t seqh;
    if (tl >= w - 1) {  // case A: window within one epoch
        seqh = seql >= bottom ? th : th + 1;
    } else {  // case B: window spans two epochs
        if (seql >= bottom) {
            seqh = th == 0 ? 0 : th - 1;
        } else {
            seqh = th;
        }
    }
    out = (std::uint64_t{seqh} << 32) | seql;
    return true;
}

}  // namespace l2sec::esp
