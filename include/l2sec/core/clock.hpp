// The clock seam. Engines never read a clock themselves: callers pass the
// current time in. This concept says what a clock must offer for drivers that
// take one as a policy; std::chrono::steady_clock satisfies it.
#pragma once

#include <chrono>
#include <concepts>

namespace l2sec {

template <class C>
concept clock = requires {
    typename C::time_point;
    typename C::duration;
    { C::now() } -> std::convertible_to<typename C::time_point>;
    requires C::is_steady;
};

/// The time type every sans-I/O engine uses for "now" and for deadlines.
using time_point = std::chrono::steady_clock::time_point;
using duration = std::chrono::steady_clock::duration;

static_assert(clock<std::chrono::steady_clock>);

}  // namespace l2sec
