// core/hash_index.hpp: random insert/erase/find against a brute-force model
// with a deliberately bad hash (long collision runs, so backward-shift
// deletion is exercised), a full index refusing, and no allocation.
#include <l2sec/core/hash_index.hpp>
#include <l2sec/testing/insecure_random.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstdint>

#include "support/alloc_counter.hpp"

using l2sec::hash_index;

namespace {
constexpr std::size_t n = 40;
struct model {
    std::array<std::uint32_t, n + 1> key{};                       // 0 = not indexed
    static std::uint64_t hash(std::uint32_t k) { return k % 7; }  // collides a lot
};
}  // namespace

TEST_CASE("hash_index: random insert/erase/find against a brute-force model") {
    hash_index<n> h;
    model m;
    l2sec::testing::insecure_splitmix64 g(11);
    auto hash_of = [&](std::uint16_t id) { return model::hash(m.key[id]); };
    for (int step = 0; step < 100000; ++step) {
        const auto id = static_cast<std::uint16_t>(1 + g.below(n));
        if (m.key[id] != 0) {
            REQUIRE(h.erase(id, model::hash(m.key[id]), hash_of));
            m.key[id] = 0;
        } else {
            m.key[id] = static_cast<std::uint32_t>(1 + g.below(1000));
            REQUIRE(h.insert(id, model::hash(m.key[id])));
        }
        // Every indexed key is found; a key nobody has is not.
        std::size_t size = 0;
        for (std::uint16_t i = 1; i <= n; ++i) {
            if (m.key[i] == 0) continue;
            ++size;
            const auto k = m.key[i];
            auto found = h.find(model::hash(k), [&](std::uint16_t x) { return m.key[x] == k; });
            REQUIRE(found);
            REQUIRE(m.key[*found] == k);
        }
        REQUIRE(h.size() == size);
        REQUIRE_FALSE(h.find(model::hash(5000), [&](std::uint16_t x) { return m.key[x] == 5000; }));
    }
}

TEST_CASE("hash_index: a full index refuses; erase of an absent ID fails; re-insert is a no-op") {
    hash_index<2> h;
    auto same = [](std::uint16_t) -> std::uint64_t { return 0; };
    CHECK(h.insert(1, 0));
    CHECK(h.insert(1, 0));  // already there
    CHECK(h.insert(2, 0));
    CHECK_FALSE(h.insert(3, 0));  // full
    CHECK_FALSE(h.insert(0, 0));  // 0 is never an ID
    CHECK_FALSE(h.erase(3, 0, same));
    CHECK(h.erase(1, 0, same));
    CHECK(h.find(0, [](std::uint16_t id) { return id == 2; }) == std::uint16_t{2});
    CHECK_FALSE(h.find(0, [](std::uint16_t id) { return id == 1; }));
    CHECK(h.size() == 1);
}

TEST_CASE("hash_index: insert, find and erase allocate nothing") {
    static hash_index<10000> h;
    auto hash_of = [](std::uint16_t id) -> std::uint64_t { return id * 0x9e3779b97f4a7c15ull; };
    const auto a = l2sec::test::allocations_in([&] {
        for (std::uint16_t id = 1; id <= 10000; ++id)
            (void)h.insert(id, hash_of(id));
        for (std::uint16_t id = 1; id <= 10000; ++id)
            (void)h.find(hash_of(id), [&](std::uint16_t x) { return x == id; });
        for (std::uint16_t id = 1; id <= 10000; id += 2)
            (void)h.erase(id, hash_of(id), hash_of);
    });
    CHECK(a == 0);
    CHECK(h.size() == 5000);
}
