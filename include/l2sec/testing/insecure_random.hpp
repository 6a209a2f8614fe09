// Deterministic "randomness" for simulations and tests ONLY.
//
// Everything an engine draws (CHAP challenges, LCP magic numbers, L2TP
// Random Vectors and tie breakers, IKE cookies, nonces and SPIs) is secret or
// must be unpredictable: in production it comes from a CSPRNG
// (crypto::botan::random, or any crypto::random_source backed by the system).
// This generator is splitmix64: fast, seedable, reproducible, and invertible:
// whoever sees one output can compute all the others. It exists so that a
// simulation over a lossy in-memory network replays the same run from the
// same seed. No library code path uses it by default; its name says what it is
// (compare quiche's InsecureRandBytes). transport::memory_network draws its
// impairments (loss, delay: not secrets) from insecure_splitmix64 too.
#pragma once

#include <l2sec/core/bytes.hpp>

#include <cstdint>

namespace l2sec::testing {

/// splitmix64 (Steele, Lea, Flood 2014): a tiny, well-mixed, seedable
/// generator. NOT cryptographic.
class insecure_splitmix64 {
  public:
    constexpr explicit insecure_splitmix64(std::uint64_t seed) noexcept : s_(seed) {}
    constexpr std::uint64_t next() noexcept {
        std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, 1).
    constexpr double uniform() noexcept {
        return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
    }
    /// Uniform in [0, n) (0 when n is 0).
    constexpr std::uint64_t below(std::uint64_t n) noexcept { return n ? next() % n : 0; }

  private:
    std::uint64_t s_;
};

/// A crypto::random_source that is reproducible from a seed and therefore
/// insecure: for tests, fuzzers and the in-memory demo. There is no default
/// seed, so every use names one.
class insecure_deterministic_random {
  public:
    explicit insecure_deterministic_random(std::uint64_t seed) noexcept : g_(seed) {}
    insecure_deterministic_random(insecure_deterministic_random&&) noexcept = default;
    insecure_deterministic_random& operator=(insecure_deterministic_random&&) noexcept = default;
    // Move-only, like the real sources: a copy would repeat the same stream.
    insecure_deterministic_random(const insecure_deterministic_random&) = delete;
    insecure_deterministic_random& operator=(const insecure_deterministic_random&) = delete;

    bool fill(mutable_bytes out) noexcept {
        std::uint64_t w = 0;
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (i % 8 == 0) w = g_.next();
            out[i] = static_cast<std::byte>(w >> (8 * (i % 8)));
        }
        return true;
    }

  private:
    insecure_splitmix64 g_;
};

}  // namespace l2sec::testing
