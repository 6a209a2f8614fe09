// A FIFO of fixed capacity over an array: the engines' event queues and their
// queues of tunnels with something to send. Allocation-free.
#pragma once

#include <array>
#include <cstddef>
#include <optional>

namespace l2sec {

/// First in, first out, at most N elements. push() refuses (returns false,
/// nothing changes) when full; the caller decides what a lost element means.
template <class T, std::size_t N>
class ring_queue {
    static_assert(N > 0, "ring_queue needs a capacity of at least one element");

  public:
    static constexpr std::size_t capacity() noexcept { return N; }
    std::size_t size() const noexcept { return n_; }
    bool empty() const noexcept { return n_ == 0; }
    bool full() const noexcept { return n_ == N; }

    /// Append `v`; false when the queue is full.
    bool push(const T& v) noexcept {
        if (n_ == N) return false;
        items_[(head_ + n_) % N] = v;
        ++n_;
        return true;
    }
    /// The oldest element (the queue must not be empty).
    const T& front() const noexcept { return items_[head_]; }
    /// Remove the oldest element (nothing happens when empty).
    void pop_front() noexcept {
        if (n_ == 0) return;
        head_ = (head_ + 1) % N;
        --n_;
    }
    /// Remove and return the oldest element, or nothing when empty.
    std::optional<T> pop() noexcept {
        if (n_ == 0) return std::nullopt;
        std::optional<T> v{items_[head_]};
        pop_front();
        return v;
    }
    void clear() noexcept { head_ = n_ = 0; }

  private:
    std::array<T, N> items_{};
    std::size_t head_ = 0, n_ = 0;
};

}  // namespace l2sec
