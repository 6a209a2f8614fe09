// core/id_pool.hpp: every ID 1..N once, lowest first, last released reused
// first, refusal of bad releases, and no allocation.
#include <l2sec/core/id_pool.hpp>

#include <doctest/doctest.h>

#include <array>

#include "support/alloc_counter.hpp"

using l2sec::id_pool;

TEST_CASE("id_pool: hands out 1..N once each, lowest first, then nothing") {
    id_pool<5> p;
    CHECK(p.available() == 5);
    for (std::uint16_t want = 1; want <= 5; ++want)
        CHECK(p.acquire() == want);
    CHECK_FALSE(p.acquire());
    CHECK(p.in_use() == 5);
    CHECK(p.release(3));
    CHECK(p.release(1));
    CHECK(p.acquire() == 1);  // last released, first reused
    CHECK(p.acquire() == 3);
    CHECK_FALSE(p.acquire());
}

TEST_CASE("id_pool: refuses IDs outside 1..N and releases beyond capacity") {
    id_pool<2> p;
    CHECK_FALSE(p.release(1));  // nothing is out: the pool is full
    auto a = p.acquire();
    REQUIRE(a);
    CHECK_FALSE(p.release(0));
    CHECK_FALSE(p.release(3));
    CHECK(p.available() == 1);
    CHECK(p.release(*a));
    CHECK(p.available() == 2);
}

TEST_CASE("id_pool: acquire and release allocate nothing") {
    static id_pool<60000> p;
    static std::array<std::uint16_t, 60000> out{};
    const auto n = l2sec::test::allocations_in([&] {
        for (auto& id : out)
            id = *p.acquire();
        for (auto id : out)
            (void)p.release(id);
    });
    CHECK(n == 0);
    CHECK(p.available() == 60000);
}
