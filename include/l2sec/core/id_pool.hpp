// A free list of the IDs 1..N: allocation of tunnel and session IDs (the
// index of their slot + 1) in O(1), with no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec {

/// Hands out the IDs 1..N, lowest first on a fresh pool, and takes them back
/// (last released, first reused). The pool does not know which IDs are out:
/// releasing an ID twice, or one it never gave, is the caller's bug (engines
/// keep a state per slot and release only live ones).
template <std::size_t N>
class id_pool {
    static_assert(N > 0 && N < 65535, "id_pool hands out 16-bit IDs 1..N (N < 65535)");

  public:
    id_pool() noexcept {
        for (std::size_t i = 0; i < N; ++i)
            free_[i] = static_cast<std::uint16_t>(N - i);
    }
    static constexpr std::size_t capacity() noexcept { return N; }
    /// IDs that are out (acquired and not released).
    std::size_t in_use() const noexcept { return N - n_free_; }
    std::size_t available() const noexcept { return n_free_; }

    /// An ID, or nothing when all N are out.
    std::optional<std::uint16_t> acquire() noexcept {
        if (n_free_ == 0) return std::nullopt;
        return free_[--n_free_];
    }
    /// Give `id` back. False (nothing changes) when the pool is already full
    /// or `id` is not in 1..N.
    bool release(std::uint16_t id) noexcept {
        if (n_free_ == N || id == 0 || id > N) return false;
        free_[n_free_++] = id;
        return true;
    }

  private:
    std::array<std::uint16_t, N> free_{};
    std::size_t n_free_ = N;
};

}  // namespace l2sec
