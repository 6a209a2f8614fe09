// core/deadline_heap.hpp: random set/erase against a brute-force model, moves
// in both directions, and no allocation.
#include <l2sec/core/deadline_heap.hpp>
#include <l2sec/testing/insecure_random.hpp>

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <optional>

#include "support/alloc_counter.hpp"

using l2sec::deadline_heap;
using l2sec::time_point;
using std::chrono::milliseconds;

TEST_CASE("deadline_heap: random set/erase against a brute-force model") {
    constexpr std::size_t n = 50;
    deadline_heap<n> h;
    std::array<std::optional<time_point>, n + 1> model{};
    l2sec::testing::insecure_splitmix64 g(7);
    for (int step = 0; step < 200000; ++step) {
        const auto id = static_cast<std::uint16_t>(1 + g.below(n));
        if (g.below(3) == 0) {
            h.erase(id);
            model[id].reset();
        } else {
            const auto at = time_point{} + milliseconds(g.below(1000));
            h.set(id, at);
            model[id] = at;
        }
        std::size_t size = 0;
        std::optional<time_point> best;
        for (std::uint16_t i = 1; i <= n; ++i) {
            REQUIRE(h.contains(i) == model[i].has_value());
            if (!model[i]) continue;
            ++size;
            if (!best || *model[i] < *best) best = model[i];
        }
        REQUIRE(h.size() == size);
        REQUIRE(h.empty() == !best);
        if (best) {
            REQUIRE(h.top_deadline() == *best);
            REQUIRE(model[h.top()] == best);
        }
    }
}

TEST_CASE(
    "deadline_heap: moving a deadline later or earlier reorders; erase of an absent ID is a "
    "no-op") {
    deadline_heap<4, int> h;
    h.set(1, 10);
    h.set(2, 20);
    h.set(3, 30);
    CHECK(h.top() == 1);
    h.set(1, 40);  // later: sinks
    CHECK(h.top() == 2);
    h.set(3, 5);  // earlier: rises
    CHECK(h.top() == 3);
    CHECK(h.top_deadline() == 5);
    h.erase(4);  // never inserted
    CHECK(h.size() == 3);
    h.erase(3);
    h.erase(2);
    CHECK(h.top() == 1);
    CHECK(h.top_deadline() == 40);
    h.erase(1);
    CHECK(h.empty());
    CHECK_FALSE(h.contains(1));
}

TEST_CASE("deadline_heap: set, erase and top allocate nothing") {
    static deadline_heap<1000> h;
    const auto n = l2sec::test::allocations_in([&] {
        for (std::uint16_t i = 1; i <= 1000; ++i)
            h.set(i, time_point{} + milliseconds((i * 7919) % 1000));
        for (std::uint16_t i = 1; i <= 1000; i += 2)
            h.erase(i);
        (void)h.top();
    });
    CHECK(n == 0);
    CHECK(h.size() == 500);
}
