// An indexed binary min-heap of (deadline, ID) for IDs 1..Capacity: what an
// engine with many timers (one per tunnel) needs to find the next one in O(1)
// and move one in O(log n), with no allocation.
#pragma once

#include <l2sec/core/clock.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace l2sec {

/// Fixed size, allocation-free. set() inserts an ID or moves its deadline
/// (either direction), erase() removes it, both O(log n); the earliest
/// deadline is at the top, O(1). IDs are 1..Capacity; 0 is never an ID.
/// `Time` is any totally ordered, copyable type (a time_point by default).
template <std::size_t Capacity, class Time = time_point>
class deadline_heap {
    static_assert(Capacity > 0 && Capacity < 65535,
                  "deadline_heap holds IDs 1..Capacity in 16 bits (Capacity < 65535)");

  public:
    static constexpr std::size_t capacity() noexcept { return Capacity; }
    bool empty() const noexcept { return n_ == 0; }
    std::size_t size() const noexcept { return n_; }
    /// Whether `id` (1..Capacity) has a deadline.
    bool contains(std::uint16_t id) const noexcept { return pos_[id - 1] != 0; }
    /// The ID with the earliest deadline (the heap must not be empty).
    std::uint16_t top() const noexcept { return heap_[0].id; }
    /// The earliest deadline (the heap must not be empty).
    Time top_deadline() const noexcept { return heap_[0].at; }

    /// Give `id` (1..Capacity) the deadline `at`, inserting it or moving it.
    void set(std::uint16_t id, Time at) noexcept {
        if (const std::size_t p = pos_[id - 1]; p != 0) {
            const bool earlier = at < heap_[p - 1].at;
            heap_[p - 1].at = at;
            if (earlier)
                sift_up(p - 1);
            else
                sift_down(p - 1);
            return;
        }
        heap_[n_] = {at, id};
        pos_[id - 1] = static_cast<std::uint16_t>(n_ + 1);
        sift_up(n_++);
    }

    /// Remove `id`'s deadline; nothing happens when it has none.
    void erase(std::uint16_t id) noexcept {
        const std::size_t p = pos_[id - 1];
        if (p == 0) return;
        pos_[id - 1] = 0;
        if (p == n_--) return;  // it was the last entry
        place(p - 1, heap_[n_]);
        // The moved entry may belong above or below its new place.
        sift_down(sift_up(p - 1));
    }

  private:
    struct entry {
        Time at{};
        std::uint16_t id = 0;
    };

    void place(std::size_t i, const entry& e) noexcept {
        heap_[i] = e;
        pos_[e.id - 1] = static_cast<std::uint16_t>(i + 1);
    }
    std::size_t sift_up(std::size_t i) noexcept {
        const entry e = heap_[i];
        while (i > 0 && e.at < heap_[(i - 1) / 2].at) {
            place(i, heap_[(i - 1) / 2]);
            i = (i - 1) / 2;
        }
        place(i, e);
        return i;
    }
    void sift_down(std::size_t i) noexcept {
        const entry e = heap_[i];
        for (std::size_t c = 2 * i + 1; c < n_; i = c, c = 2 * i + 1) {
            if (c + 1 < n_ && heap_[c + 1].at < heap_[c].at) ++c;
            if (!(heap_[c].at < e.at)) break;
            place(i, heap_[c]);
        }
        place(i, e);
    }

    std::array<entry, Capacity> heap_{};
    std::array<std::uint16_t, Capacity> pos_{};  ///< heap position + 1 by ID - 1; 0 = absent
    std::size_t n_ = 0;
};

}  // namespace l2sec
