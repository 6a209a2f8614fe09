// core/ring_queue.hpp: FIFO order across the wrap-around, refusal when full,
// and no allocation.
#include <l2sec/core/ring_queue.hpp>

#include <doctest/doctest.h>

#include "support/alloc_counter.hpp"

using l2sec::ring_queue;

TEST_CASE("ring_queue: first in, first out across the wrap-around") {
    ring_queue<int, 3> q;
    CHECK(q.empty());
    CHECK_FALSE(q.pop());
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 10; ++round) {
        while (q.push(next_in))
            ++next_in;
        CHECK(q.full());
        CHECK(q.size() == 3);
        CHECK(q.front() == next_out);
        auto v = q.pop();
        REQUIRE(v);
        CHECK(*v == next_out++);
        q.pop_front();
        ++next_out;
        CHECK(q.size() == 1);
    }
    CHECK(next_in == 3 + 9 * 2);  // three at first, then two per round
}

TEST_CASE("ring_queue: push on a full queue changes nothing") {
    ring_queue<int, 2> q;
    CHECK(q.push(1));
    CHECK(q.push(2));
    CHECK_FALSE(q.push(3));
    CHECK(*q.pop() == 1);
    CHECK(*q.pop() == 2);
    CHECK_FALSE(q.pop());
    q.pop_front();  // on empty: no-op
    CHECK(q.empty());
    CHECK(q.push(4));
    q.clear();
    CHECK(q.empty());
}

TEST_CASE("ring_queue: push and pop allocate nothing") {
    ring_queue<long, 256> q;
    const auto n = l2sec::test::allocations_in([&] {
        for (long i = 0; i < 10000; ++i) {
            (void)q.push(i);
            if (i % 3 == 0) (void)q.pop();
        }
    });
    CHECK(n == 0);
    CHECK(q.size() == 255);  // filled up, then the last pop (i = 9999)
}
