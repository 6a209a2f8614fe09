// doctest's main, and a replacement of the global operator new that counts
// calls (and the bytes asked for), so tests can assert that codecs and
// datapaths never allocate, and how much an object's make() takes.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "support/alloc_counter.hpp"

#include <cstdlib>
#include <new>

namespace l2sec::test {
std::atomic<std::size_t> g_allocations{0};
std::atomic<std::size_t> g_allocated_bytes{0};
}  // namespace l2sec::test

void* operator new(std::size_t n) {
    l2sec::test::g_allocations.fetch_add(1, std::memory_order_relaxed);
    l2sec::test::g_allocated_bytes.fetch_add(n, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    l2sec::test::g_allocations.fetch_add(1, std::memory_order_relaxed);
    l2sec::test::g_allocated_bytes.fetch_add(n, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    l2sec::test::g_allocations.fetch_add(1, std::memory_order_relaxed);
    l2sec::test::g_allocated_bytes.fetch_add(n, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    l2sec::test::g_allocations.fetch_add(1, std::memory_order_relaxed);
    l2sec::test::g_allocated_bytes.fetch_add(n, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
