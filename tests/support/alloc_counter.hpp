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

}  // namespace l2sec::test
