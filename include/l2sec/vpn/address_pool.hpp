// A fixed-capacity pool of IPv4 addresses for PPP clients (IPCP), first to
// last inclusive. Allocation and release are O(1) and never allocate; the
// address of a client that reconnects is not handed to the next client at
// once (released addresses go to the back of the queue), so a stale route
// or ARP entry does not send one client's traffic to another.
#pragma once

#include <l2sec/core/result.hpp>
#include <l2sec/vpn/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec::vpn {

template <std::size_t Capacity>
class address_pool {
    static_assert(Capacity > 0 && Capacity <= 0xffffff, "address_pool: 1 to 2^24 addresses");

  public:
    static constexpr std::size_t capacity = Capacity;

    address_pool() = default;

    /// The pool first..last (host order, inclusive). Errors: bad_config when
    /// last < first, or the range has more than Capacity addresses.
    static result<address_pool> make(std::uint32_t first, std::uint32_t last) noexcept {
        if (last < first) return error(errc::bad_config, 0, "pool range");
        std::uint64_t n = std::uint64_t{last} - first + 1;
        if (n > Capacity) return error(errc::bad_config, 0, "pool size above capacity");
        address_pool p;
        p.first_ = first;
        p.size_ = static_cast<std::size_t>(n);
        for (std::size_t i = 0; i < p.size_; ++i)
            p.ring_[i] = static_cast<std::uint32_t>(i);
        p.free_ = p.size_;
        return p;
    }

    std::uint32_t first() const noexcept { return first_; }
    std::size_t size() const noexcept { return size_; }
    std::size_t available() const noexcept { return free_; }
    bool contains(std::uint32_t a) const noexcept { return a - first_ < size_; }
    /// The address's index (0..size-1); only for addresses the pool contains.
    std::size_t index_of(std::uint32_t a) const noexcept { return a - first_; }

    /// The next free address, or nullopt when none is left.
    std::optional<std::uint32_t> allocate() noexcept {
        if (free_ == 0) return std::nullopt;
        std::uint32_t i = ring_[head_];
        head_ = (head_ + 1) % size_;
        --free_;
        used_[i] = true;
        return first_ + i;
    }
    /// Give `a` back; addresses the pool does not hold, or that are free, are ignored.
    void release(std::uint32_t a) noexcept {
        if (!contains(a) || !used_[index_of(a)]) return;
        used_[index_of(a)] = false;
        ring_[(head_ + free_) % size_] = static_cast<std::uint32_t>(index_of(a));
        ++free_;
    }

  private:
    std::uint32_t first_ = 0;
    std::size_t size_ = 0, head_ = 0, free_ = 0;
    std::array<std::uint32_t, Capacity> ring_{};
    std::array<bool, Capacity> used_{};
};

}  // namespace l2sec::vpn
