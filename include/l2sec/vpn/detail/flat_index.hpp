// An open-addressing index from a 64-bit key to a slot number, fixed
// capacity, linear probing with backward-shift deletion (no tombstones, so
// lookups stay short after churn). The server's SPI -> peer and outer
// endpoint -> peer tables: O(1) per packet, no allocation.
#pragma once

#include <l2sec/core/warm.hpp>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec::vpn::detail {

template <std::size_t MaxEntries>
class flat_index {
    static constexpr std::size_t slots = std::bit_ceil(MaxEntries * 2 + 2);

  public:
    std::size_t size() const noexcept { return n_; }

    std::optional<std::uint32_t> find(std::uint64_t key) const noexcept {
        for (std::size_t i = home(key);; i = (i + 1) & (slots - 1)) {
            const auto& e = table_[i];
            if (!e.used) return std::nullopt;
            if (e.key == key) return e.value;
        }
    }
    /// Load the slot where find(key) starts (core/warm.hpp).
    void warm(std::uint64_t key) const noexcept { l2sec::warm(&table_[home(key)]); }
    /// Insert or overwrite. False when MaxEntries are already held.
    bool insert(std::uint64_t key, std::uint32_t value) noexcept {
        std::size_t i = home(key);
        for (;; i = (i + 1) & (slots - 1)) {
            auto& e = table_[i];
            if (!e.used) break;
            if (e.key == key) {
                e.value = value;
                return true;
            }
        }
        if (n_ == MaxEntries) return false;
        table_[i] = {key, value, true};
        ++n_;
        return true;
    }
    void erase(std::uint64_t key) noexcept {
        std::size_t i = home(key);
        for (;; i = (i + 1) & (slots - 1)) {
            if (!table_[i].used) return;
            if (table_[i].key == key) break;
        }
        // Backward shift: pull later members of the probe run into the hole.
        std::size_t hole = i;
        for (std::size_t j = (hole + 1) & (slots - 1); table_[j].used; j = (j + 1) & (slots - 1)) {
            std::size_t h = home(table_[j].key);
            // Move j into the hole unless its home lies cyclically in (hole, j].
            bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
            if (!stays) {
                table_[hole] = table_[j];
                hole = j;
            }
        }
        table_[hole].used = false;
        --n_;
    }

  private:
    struct entry {
        std::uint64_t key = 0;
        std::uint32_t value = 0;
        bool used = false;
    };
    static std::size_t home(std::uint64_t k) noexcept {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdull;
        k ^= k >> 33;
        return static_cast<std::size_t>(k) & (slots - 1);
    }
    std::array<entry, slots> table_{};
    std::size_t n_ = 0;
};

}  // namespace l2sec::vpn::detail
