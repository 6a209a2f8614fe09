// Fragment storage shared by the IKEv1 fragment (Cisco/Microsoft scheme) and
// IKEv2 SKF (RFC 7383 §2.6) reassemblers: fragments numbered from 1 are
// copied into one caller buffer as they arrive (duplicates ignored) and
// concatenated in number order on assembly. The callers check the numbers.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/ike/error.hpp>

#include <array>
#include <cstddef>

namespace l2sec::ike {

template <std::size_t MaxFragments>
class fragment_slots {
  public:
    explicit fragment_slots(mutable_bytes storage) noexcept : buf_(storage) {}

    /// Fragment `number` (1..MaxFragments) has arrived.
    bool has(std::size_t number) const noexcept { return slots_[number - 1].present; }
    /// How many distinct fragments have arrived.
    std::size_t received() const noexcept { return received_; }
    mutable_bytes storage() const noexcept { return buf_; }

    /// Copy fragment `number` (1..MaxFragments) into the buffer, unless it is
    /// there already; `field` names the buffer in a capacity error.
    result<void> store(std::size_t number, bytes_view data, std::size_t offset,
                       const char* field) noexcept {
        auto& s = slots_[number - 1];
        if (s.present) return {};
        if (used_ + data.size() > buf_.size())
            return error(l2sec::errc::capacity_exceeded, offset, field);
        copy_to(buf_.subspan(used_), data);
        s = {used_, data.size(), true};
        used_ += data.size();
        ++received_;
        return {};
    }

    /// Fragments 1..count (all present) in order into `out`.
    result<bytes_view> concat(std::size_t count, mutable_bytes out,
                              const char* field) const noexcept {
        std::size_t at = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const auto& s = slots_[i];
            if (at + s.size > out.size()) return error(l2sec::errc::buffer_too_small, at, field);
            copy_to(out.subspan(at), bytes_view(buf_).subspan(s.at, s.size));
            at += s.size;
        }
        return bytes_view(out.data(), at);
    }

  private:
    struct slot_info {
        std::size_t at = 0, size = 0;
        bool present = false;
    };
    mutable_bytes buf_;
    std::array<slot_info, MaxFragments> slots_{};
    std::size_t used_ = 0, received_ = 0;
};

}  // namespace l2sec::ike
