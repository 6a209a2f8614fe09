// Bounds-checked big-endian reader with a sticky failure flag: a decoder reads
// its fields, then checks once. A short read never touches memory beyond the
// span; it returns zero/empty and remembers where the input ran out.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/error.hpp>

namespace l2sec {

class reader {
  public:
    constexpr reader() noexcept = default;
    /// `base` is the absolute offset of `data[0]` in the outermost buffer, so
    /// errors from nested readers still point into the original packet.
    constexpr explicit reader(bytes_view data, std::size_t base = 0) noexcept
        : data_(data), base_(base) {}

    /// Absolute offset of the next byte to read.
    constexpr std::size_t offset() const noexcept { return base_ + pos_; }
    /// Offset relative to the start of this reader's span.
    constexpr std::size_t position() const noexcept { return pos_; }
    constexpr std::size_t remaining() const noexcept { return data_.size() - pos_; }
    constexpr bool empty() const noexcept { return pos_ == data_.size(); }
    constexpr bool has(std::size_t n) const noexcept { return !failed_ && remaining() >= n; }
    constexpr bool failed() const noexcept { return failed_; }
    constexpr explicit operator bool() const noexcept { return !failed_; }
    /// Absolute offset at which the first short read happened.
    constexpr std::size_t fail_offset() const noexcept { return base_ + fail_pos_; }

    constexpr std::uint8_t u8() noexcept {
        if (!need(1)) return 0;
        return std::to_integer<std::uint8_t>(data_[pos_++]);
    }
    constexpr std::uint16_t u16() noexcept {
        if (!need(2)) return 0;
        auto v = load_be16(data_.data() + pos_);
        pos_ += 2;
        return v;
    }
    constexpr std::uint32_t u24() noexcept {
        if (!need(3)) return 0;
        auto p = data_.data() + pos_;
        pos_ += 3;
        return (std::uint32_t{std::to_integer<std::uint8_t>(p[0])} << 16) | load_be16(p + 1);
    }
    constexpr std::uint32_t u32() noexcept {
        if (!need(4)) return 0;
        auto v = load_be32(data_.data() + pos_);
        pos_ += 4;
        return v;
    }
    constexpr std::uint64_t u64() noexcept {
        if (!need(8)) return 0;
        auto v = load_be64(data_.data() + pos_);
        pos_ += 8;
        return v;
    }
    /// The next n bytes as a view (empty view on a short read).
    constexpr bytes_view bytes(std::size_t n) noexcept {
        if (!need(n)) return {};
        auto v = data_.subspan(pos_, n);
        pos_ += n;
        return v;
    }
    template <std::size_t N>
    constexpr std::array<std::byte, N> array() noexcept {
        std::array<std::byte, N> a{};
        auto v = bytes(N);
        if (!v.empty()) std::copy(v.begin(), v.end(), a.begin());
        return a;
    }
    constexpr void skip(std::size_t n) noexcept { (void)bytes(n); }
    /// Everything not yet read; the reader is then empty.
    constexpr bytes_view rest() noexcept {
        auto v = data_.subspan(pos_);
        pos_ = data_.size();
        return v;
    }
    /// A reader over the next n bytes (with correct absolute offsets); this
    /// reader advances past them. Fails (sticky) when fewer than n remain.
    constexpr reader sub(std::size_t n) noexcept {
        std::size_t start = offset();
        auto v = bytes(n);
        if (failed_) {
            reader r;
            r.failed_ = true;
            r.base_ = start;
            return r;
        }
        return reader(v, start);
    }
    constexpr bytes_view peek(std::size_t n) const noexcept {
        if (failed_ || remaining() < n) return {};
        return data_.subspan(pos_, n);
    }
    constexpr bytes_view data() const noexcept { return data_; }

    /// An error at the point of the first short read (or here, if none).
    error fail(std::error_code code, const char* field = nullptr) const noexcept {
        return error(code, failed_ ? fail_offset() : offset(), field);
    }
    template <class E>
    requires std::is_error_code_enum_v<E> error fail(E e, const char* field = nullptr)
    const noexcept { return fail(make_error_code(e), field); }
    /// An error at the current position, whatever happened before.
    template <class E>
    requires std::is_error_code_enum_v<E> error error_here(E e, const char* field = nullptr)
    const noexcept { return error(e, offset(), field); }

  private:
    constexpr bool need(std::size_t n) noexcept {
        if (failed_) return false;
        if (remaining() < n) {
            failed_ = true;
            fail_pos_ = pos_;
            return false;
        }
        return true;
    }

    bytes_view data_{};
    std::size_t base_ = 0;
    std::size_t pos_ = 0;
    std::size_t fail_pos_ = 0;
    bool failed_ = false;
};

}  // namespace l2sec
