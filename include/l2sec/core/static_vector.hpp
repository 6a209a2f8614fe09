// A vector with capacity fixed at compile time: the engines' and builders'
// storage, so that nothing on the datapath allocates.
#pragma once

#include <array>
#include <cstddef>
#include <span>

namespace l2sec {

template <class T, std::size_t N>
class static_vector {
  public:
    using value_type = T;
    using iterator = T*;
    using const_iterator = const T*;

    constexpr static_vector() = default;

    static constexpr std::size_t capacity() noexcept { return N; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr bool full() const noexcept { return size_ == N; }

    /// False (and no change) when full.
    constexpr bool push_back(const T& v) noexcept(std::is_nothrow_copy_assignable_v<T>) {
        if (size_ == N) return false;
        items_[size_++] = v;
        return true;
    }
    constexpr void pop_back() noexcept {
        if (size_) --size_;
    }
    constexpr void clear() noexcept { size_ = 0; }
    /// Remove element i by moving the last one into its place (order not kept).
    constexpr void swap_remove(std::size_t i) noexcept {
        if (i < size_) {
            items_[i] = items_[size_ - 1];
            --size_;
        }
    }
    /// Remove element i, keeping order.
    constexpr void erase(std::size_t i) noexcept {
        if (i >= size_) return;
        for (std::size_t j = i + 1; j < size_; ++j)
            items_[j - 1] = items_[j];
        --size_;
    }

    constexpr T& operator[](std::size_t i) noexcept { return items_[i]; }
    constexpr const T& operator[](std::size_t i) const noexcept { return items_[i]; }
    constexpr T& back() noexcept { return items_[size_ - 1]; }
    constexpr const T& back() const noexcept { return items_[size_ - 1]; }
    constexpr T* begin() noexcept { return items_.data(); }
    constexpr T* end() noexcept { return items_.data() + size_; }
    constexpr const T* begin() const noexcept { return items_.data(); }
    constexpr const T* end() const noexcept { return items_.data() + size_; }
    constexpr T* data() noexcept { return items_.data(); }
    constexpr const T* data() const noexcept { return items_.data(); }
    constexpr std::span<T> span() noexcept { return {items_.data(), size_}; }
    constexpr std::span<const T> span() const noexcept { return {items_.data(), size_}; }

  private:
    std::array<T, N> items_{};
    std::size_t size_ = 0;
};

}  // namespace l2sec
