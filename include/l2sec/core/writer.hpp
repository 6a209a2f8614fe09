// Big-endian writer into a caller-provided buffer. Never grows: on overflow it
// stops writing, remembers it, and finish() reports buffer_too_small.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/error.hpp>
#include <l2sec/core/result.hpp>

namespace l2sec {

class writer {
  public:
    constexpr explicit writer(mutable_bytes out) noexcept : out_(out) {}

    constexpr std::size_t size() const noexcept { return pos_; }
    constexpr std::size_t capacity() const noexcept { return out_.size(); }
    constexpr std::size_t remaining() const noexcept { return out_.size() - pos_; }
    constexpr bool overflowed() const noexcept { return overflow_; }
    constexpr explicit operator bool() const noexcept { return !overflow_; }

    constexpr void u8(std::uint8_t v) noexcept {
        if (auto p = take(1)) *p = static_cast<std::byte>(v);
    }
    constexpr void u16(std::uint16_t v) noexcept {
        if (auto p = take(2)) store_be16(p, v);
    }
    constexpr void u24(std::uint32_t v) noexcept {
        if (auto p = take(3)) {
            p[0] = static_cast<std::byte>(v >> 16);
            store_be16(p + 1, static_cast<std::uint16_t>(v));
        }
    }
    constexpr void u32(std::uint32_t v) noexcept {
        if (auto p = take(4)) store_be32(p, v);
    }
    constexpr void u64(std::uint64_t v) noexcept {
        if (auto p = take(8)) store_be64(p, v);
    }
    constexpr void bytes(bytes_view b) noexcept {
        if (auto p = take(b.size()); p && !b.empty()) std::copy(b.begin(), b.end(), p);
    }
    constexpr void fill(std::size_t n, std::byte v = std::byte{0}) noexcept {
        if (auto p = take(n)) std::fill(p, p + n, v);
    }
    /// Reserve n bytes to patch later (e.g. a length field); returns their offset.
    constexpr std::size_t reserve(std::size_t n) noexcept {
        std::size_t at = pos_;
        fill(n);
        return at;
    }
    constexpr void patch_u8(std::size_t at, std::uint8_t v) noexcept {
        if (!overflow_ && at + 1 <= pos_) out_[at] = static_cast<std::byte>(v);
    }
    constexpr void patch_u16(std::size_t at, std::uint16_t v) noexcept {
        if (!overflow_ && at + 2 <= pos_) store_be16(out_.data() + at, v);
    }
    constexpr void patch_u32(std::size_t at, std::uint32_t v) noexcept {
        if (!overflow_ && at + 4 <= pos_) store_be32(out_.data() + at, v);
    }
    /// The bytes written so far (empty after an overflow is irrelevant: check first).
    constexpr mutable_bytes written() const noexcept { return out_.first(pos_); }
    /// A writable window of n bytes at the current position, advanced past.
    constexpr mutable_bytes take_span(std::size_t n) noexcept {
        auto p = take(n);
        return p ? mutable_bytes(p, n) : mutable_bytes{};
    }

    /// Number of bytes written, or buffer_too_small at the offset where it ran out.
    result<std::size_t> finish(const char* field = nullptr) const noexcept {
        if (overflow_) return error(errc::buffer_too_small, overflow_at_, field);
        return pos_;
    }

  private:
    constexpr std::byte* take(std::size_t n) noexcept {
        if (overflow_) return nullptr;
        if (remaining() < n) {
            overflow_ = true;
            overflow_at_ = pos_;
            return nullptr;
        }
        auto p = out_.data() + pos_;
        pos_ += n;
        return p;
    }

    mutable_bytes out_;
    std::size_t pos_ = 0;
    std::size_t overflow_at_ = 0;
    bool overflow_ = false;
};

}  // namespace l2sec
