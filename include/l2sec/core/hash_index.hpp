// An open-addressing hash index from a key to a 16-bit ID (1..65534), for
// keys that live elsewhere (in the slot the ID names): the L2TP engine finds
// a retransmitted SCCRQ's tunnel by (peer endpoint, peer tunnel ID) this way.
// Linear probing, backward-shift deletion, fixed size, no allocation.
#pragma once

#include <l2sec/core/warm.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec {

/// A 64-bit mix of `v` under a secret `key` (two shift-xor-multiply rounds): keys a
/// peer chose (cookies, SPIs) cannot be aimed at one bucket. A hash for an
/// index, not a random generator.
constexpr std::uint64_t keyed_mix(std::uint64_t v, std::uint64_t key) noexcept {
    v ^= key;
    v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
    v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
    return v ^ (v >> 31);
}

/// At most `MaxEntries` IDs; the table has the next power of two at or above
/// twice that many slots, so probes stay short. The index stores IDs only:
/// every operation gets the key's hash, and find() a predicate that says
/// whether an ID's key is the one looked for; erase() needs `hash_of(id)` to
/// move entries that follow the erased one.
template <std::size_t MaxEntries>
class hash_index {
    static_assert(MaxEntries > 0 && MaxEntries < 65535,
                  "hash_index stores 16-bit IDs (at most 65534 entries)");

  public:
    static constexpr std::size_t slots = [] {
        std::size_t n = 1;
        while (n < 2 * MaxEntries)
            n <<= 1;
        return n;
    }();

    std::size_t size() const noexcept { return n_; }

    /// The ID whose key hashes to `hash` and satisfies `is_key(id)`.
    template <class Pred>
    std::optional<std::uint16_t> find(std::uint64_t hash, Pred&& is_key) const noexcept {
        for (std::size_t i = slot(hash), n = 0; n < slots; i = (i + 1) & mask, ++n) {
            const auto id = table_[i];
            if (id == 0) return std::nullopt;
            if (is_key(id)) return id;
        }
        return std::nullopt;
    }

    /// Load the slot where find(hash) starts (core/warm.hpp).
    void warm(std::uint64_t hash) const noexcept { l2sec::warm(&table_[slot(hash)]); }

    /// Index `id` under `hash`. False when `id` is 0 or the index is full;
    /// inserting an ID already there under the same hash changes nothing.
    bool insert(std::uint16_t id, std::uint64_t hash) noexcept {
        if (id == 0) return false;
        for (std::size_t i = slot(hash), n = 0; n < slots; i = (i + 1) & mask, ++n) {
            if (table_[i] == id) return true;
            if (table_[i] == 0) {
                if (n_ == MaxEntries) return false;
                table_[i] = id;
                ++n_;
                return true;
            }
        }
        return false;
    }

    /// Remove `id`, indexed under `hash`; `hash_of(other)` gives the hash of
    /// any other indexed ID. False when `id` is not there.
    template <class HashOf>
    bool erase(std::uint16_t id, std::uint64_t hash, HashOf&& hash_of) noexcept {
        if (id == 0) return false;
        std::size_t i = slot(hash);
        for (std::size_t n = 0; table_[i] != id; i = (i + 1) & mask, ++n)
            if (table_[i] == 0 || n == slots) return false;
        table_[i] = 0;
        --n_;
        // Backward-shift deletion: re-place every entry of the run after i
        // so that no probe sequence crosses the new hole.
        for (std::size_t j = (i + 1) & mask; table_[j] != 0; j = (j + 1) & mask) {
            const auto moved = table_[j];
            table_[j] = 0;
            for (std::size_t k = slot(hash_of(moved));; k = (k + 1) & mask)
                if (table_[k] == 0) {
                    table_[k] = moved;
                    break;
                }
        }
        return true;
    }

  private:
    static constexpr std::size_t mask = slots - 1;
    static constexpr std::size_t slot(std::uint64_t hash) noexcept {
        return static_cast<std::size_t>(hash) & mask;
    }

    std::array<std::uint16_t, slots> table_{};
    std::size_t n_ = 0;
};

}  // namespace l2sec
