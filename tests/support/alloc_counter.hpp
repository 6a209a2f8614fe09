// Counts global operator new calls (the replacement lives in support/main.cpp).
//
//   l2sec::test::alloc_guard g;
//   auto m = l2tp::parse(bytes);
//   CHECK(g.count() == 0);
#pragma once

#include <atomic>
#include <cstddef>

namespace l2sec::test {

extern std::atomic<std::size_t> g_allocations;
extern std::atomic<std::size_t> g_allocated_bytes;  // asked of operator new, never decreased

class alloc_guard {
  public:
    alloc_guard() noexcept : start_(g_allocations.load(std::memory_order_relaxed)) {}
    std::size_t count() const noexcept {
        return g_allocations.load(std::memory_order_relaxed) - start_;
    }

  private:
    std::size_t start_;
};

/// Runs f and returns how many times it called operator new.
template <class F>
std::size_t allocations_in(F&& f) {
    alloc_guard g;
    f();
    return g.count();
}

/// Runs f and returns how many bytes it asked of operator new (freed ones
/// included: an upper bound of what it keeps). Works under sanitizers,
/// whose allocators mallinfo2() does not see.
template <class F>
std::size_t allocated_bytes_in(F&& f) {
    const std::size_t start = g_allocated_bytes.load(std::memory_order_relaxed);
    f();
    return g_allocated_bytes.load(std::memory_order_relaxed) - start;
}

}  // namespace l2sec::test
