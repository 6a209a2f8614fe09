// core/intrusive_list.hpp: two lists threaded through one array, removal at
// the head, middle and tail, double removal refused, and no allocation.
#include <l2sec/core/intrusive_list.hpp>

#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "support/alloc_counter.hpp"

using l2sec::intrusive_list;
using l2sec::list_hook;

namespace {
struct slot {
    int value = 0;
    list_hook hook{};
};
std::vector<std::uint16_t> ids(const intrusive_list& l, std::array<slot, 8>& s) {
    std::vector<std::uint16_t> v;
    auto at = [&](std::uint16_t id) -> list_hook& { return s[id - 1].hook; };
    for (auto id = l.front(); id != 0; id = intrusive_list::next(at, id))
        v.push_back(id);
    return v;
}
}  // namespace

TEST_CASE("intrusive_list: push_front and erase at head, middle and tail") {
    std::array<slot, 8> s{};
    auto at = [&](std::uint16_t id) -> list_hook& { return s[id - 1].hook; };
    intrusive_list a, b;
    for (std::uint16_t id = 1; id <= 4; ++id)
        a.push_front(at, id);
    for (std::uint16_t id = 5; id <= 6; ++id)
        b.push_front(at, id);
    CHECK(ids(a, s) == std::vector<std::uint16_t>{4, 3, 2, 1});
    CHECK(ids(b, s) == std::vector<std::uint16_t>{6, 5});
    CHECK(a.size() == 4);
    CHECK(a.erase(at, 3));  // middle
    CHECK(ids(a, s) == std::vector<std::uint16_t>{4, 2, 1});
    CHECK(a.erase(at, 4));  // head
    CHECK(a.erase(at, 1));  // tail
    CHECK(ids(a, s) == std::vector<std::uint16_t>{2});
    CHECK_FALSE(a.erase(at, 3));  // already off
    CHECK_FALSE(a.erase(at, 0));
    CHECK(a.size() == 1);
    CHECK(ids(b, s) == std::vector<std::uint16_t>{6, 5});  // the other list is untouched
    CHECK(a.erase(at, 2));
    CHECK(a.empty());
    CHECK(a.size() == 0);
}

TEST_CASE("intrusive_list: push_back keeps the oldest first; back() follows erasures") {
    std::array<slot, 8> s{};
    auto at = [&](std::uint16_t id) -> list_hook& { return s[id - 1].hook; };
    intrusive_list l;
    CHECK(l.back() == 0);
    for (std::uint16_t id = 1; id <= 3; ++id)
        l.push_back(at, id);
    l.push_front(at, 4);
    CHECK(ids(l, s) == std::vector<std::uint16_t>{4, 1, 2, 3});
    CHECK(l.front() == 4);
    CHECK(l.back() == 3);
    CHECK(l.erase(at, 3));
    CHECK(l.back() == 2);
    CHECK(l.erase(at, 4));
    CHECK(l.front() == 1);
    CHECK(l.erase(at, 1));
    CHECK(l.erase(at, 2));
    CHECK(l.front() == 0);
    CHECK(l.back() == 0);
    l.push_back(at, 5);
    CHECK(l.front() == 5);
    CHECK(l.back() == 5);
}

TEST_CASE("intrusive_list: push and erase allocate nothing") {
    std::array<slot, 8> s{};
    auto at = [&](std::uint16_t id) -> list_hook& { return s[id - 1].hook; };
    intrusive_list l;
    const auto n = l2sec::test::allocations_in([&] {
        for (int round = 0; round < 1000; ++round) {
            for (std::uint16_t id = 1; id <= 8; ++id)
                l.push_front(at, id);
            for (std::uint16_t id = 8; id >= 1; --id)
                (void)l.erase(at, id);
        }
    });
    CHECK(n == 0);
    CHECK(l.empty());
}
