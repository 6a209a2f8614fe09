// Errors are values: an error_code (protocol category + enum), the byte offset
// where decoding failed and a static string naming the field involved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>

namespace l2sec {

/// Errors shared by every codec: bounds and buffers.
enum class errc : int {
    truncated = 1,      ///< input ended before a field that must be there
    buffer_too_small,   ///< the caller's output buffer cannot hold the encoding
    length_mismatch,    ///< a length field disagrees with the bytes available
    invalid_argument,   ///< a value the encoder was given cannot be encoded
    capacity_exceeded,  ///< a fixed-capacity container is full
};

constexpr const char* to_string(errc e) noexcept {
    switch (e) {
        case errc::truncated:
            return "input truncated";
        case errc::buffer_too_small:
            return "output buffer too small";
        case errc::length_mismatch:
            return "length field does not match the data";
        case errc::invalid_argument:
            return "value cannot be encoded";
        case errc::capacity_exceeded:
            return "fixed capacity exceeded";
    }
    return "unknown error";
}
constexpr const char* category_name(errc) noexcept {
    return "l2sec";
}

namespace detail {

// One category per protocol enum. The enum provides, found by ADL,
// `to_string(E)` and `category_name(E)`; both return static strings.
template <class E>
class enum_category final : public std::error_category {
  public:
    const char* name() const noexcept override { return category_name(E{}); }
    std::string message(int v) const override { return to_string(static_cast<E>(v)); }
};

template <class E>
const std::error_category& category_of() noexcept {
    static const enum_category<E> instance;
    return instance;
}

}  // namespace detail

inline const std::error_category& core_category() noexcept {
    return detail::category_of<errc>();
}
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), core_category()};
}

/// What went wrong, where (byte offset into the decoded buffer) and in which field.
/// Trivially copyable apart from error_code; never allocates.
struct error {
    std::error_code code;
    std::size_t offset = 0;
    const char* field = nullptr;  ///< static string naming the field, or null

    error() = default;
    error(std::error_code c, std::size_t off = 0, const char* f = nullptr) noexcept
        : code(c), offset(off), field(f) {}
    template <class E>
    requires std::is_error_code_enum_v<E> error(E e, std::size_t off = 0, const char* f = nullptr)
    noexcept : code(make_error_code(e)), offset(off), field(f) {}

    /// "l2sec.l2tp: AVP length below 6 (Result Code) at offset 14". Allocates: not for the hot
    /// path.
    std::string message() const {
        std::string s = code.category().name();
        s += ": ";
        s += code.message();
        if (field) {
            s += " (";
            s += field;
            s += ")";
        }
        s += " at offset ";
        s += std::to_string(offset);
        return s;
    }

    friend bool operator==(const error& a, const error& b) noexcept {
        return a.code == b.code && a.offset == b.offset;
    }
    template <class E>
    requires std::is_error_code_enum_v<E>
    friend bool operator==(const error& a, E e) noexcept { return a.code == make_error_code(e); }
};

}  // namespace l2sec

template <>
struct std::is_error_code_enum<l2sec::errc> : std::true_type {};
