// Hidden AVPs (RFC 2661 section 4.3) and tunnel authentication (4.2, 5.1.1).
//
// Hiding: the plain value is wrapped in the hidden subformat
//   | Original Length (2) | Original Attribute Value ... | Padding ... |
// and XORed with an MD5 key stream:
//   b(1) = MD5(Attribute Type (2 octets) + secret + Random Vector)
//   b(i) = MD5(secret + c(i-1)),    c(i) = p(i) XOR b(i)  (16-octet chunks;
//   the last chunk may be shorter and uses the leading part of b(i)).
// MD5 comes from the crypto backend: every function takes an MD5 context
// (crypto::hash_context, e.g. `*B::make_hash(crypto::hash_id::md5)`) made
// once by the caller, so nothing here allocates or picks an implementation.
// A context whose output is not 16 octets is refused with errc::hash_not_md5.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/l2tp/avp.hpp>
#include <l2sec/l2tp/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace l2sec::l2tp {

/// An RFC 2661 MD5 digest (Challenge Response, one key-stream chunk).
using md5_digest = std::array<std::byte, 16>;

namespace detail {

/// XOR `in` into `out` (same size; may alias exactly) with the RFC 2661 4.3
/// key stream. `encrypt` says whether `in` is plain (then the chaining uses the
/// output) or cipher text (the chaining uses the input).
template <crypto::hash_context H>
void hidden_xor(H& md5, std::uint16_t attr_type, bytes_view secret, bytes_view random_vector,
                bytes_view in, mutable_bytes out, bool encrypt) noexcept {
    std::array<std::byte, 2> t{static_cast<std::byte>(attr_type >> 8),
                               static_cast<std::byte>(attr_type)};
    md5.update(t);
    md5.update(secret);
    md5.update(random_vector);
    md5_digest b{};
    md5_digest prev{};  // previous cipher chunk
    for (std::size_t pos = 0; pos < in.size(); pos += 16) {
        const std::size_t n = in.size() - pos < 16 ? in.size() - pos : 16;
        if (pos != 0) {
            md5.update(secret);
            md5.update(prev);
        }
        md5.final(b);
        for (std::size_t i = 0; i < n; ++i) {
            const std::byte x = in[pos + i];
            const std::byte y = x ^ b[i];
            prev[i] = encrypt ? y : x;
            out[pos + i] = y;
        }
    }
    if (in.empty()) md5.final(b);  // leave the context reset
}

template <crypto::hash_context H>
bool is_md5_sized(const H& md5) noexcept {
    return md5.output_size() == 16;
}

}  // namespace detail

/// Size of the hidden value for a plain value of n octets and p octets of padding.
constexpr std::size_t hidden_size(std::size_t plain_size, std::size_t padding = 0) noexcept {
    return 2 + plain_size + padding;
}

/// Hide in place: `subformat` holds Original Length, value and padding in
/// plain text on entry, the hidden value on return. Errors: hash_not_md5.
template <crypto::hash_context H>
result<void> hide_in_place(H& md5, std::uint16_t attr_type, bytes_view secret,
                           bytes_view random_vector, mutable_bytes subformat) noexcept {
    if (!detail::is_md5_sized(md5)) return error(errc::hash_not_md5, 0, "MD5 context");
    detail::hidden_xor(md5, attr_type, secret, random_vector, subformat, subformat, true);
    return {};
}

/// Unhide the value `hidden` of attribute `attr_type` into `out` (which must
/// hold hidden.size() octets; it may be the same memory) and return the
/// original value, a view into `out`. `at` is the absolute AVP offset used in
/// errors: hidden_too_short (value under 2 octets), hidden_bad_length (the
/// Original Length exceeds the value: wrong secret or Random Vector),
/// buffer_too_small (out too small), hidden_without_random_vector (empty RV),
/// hash_not_md5 (the context is not MD5-sized).
template <crypto::hash_context H>
result<bytes_view> unhide_value(H& md5, std::uint16_t attr_type, bytes_view secret,
                                bytes_view random_vector, bytes_view hidden, mutable_bytes out,
                                std::size_t at = 0) noexcept {
    if (!detail::is_md5_sized(md5)) return error(errc::hash_not_md5, at, "MD5 context");
    if (random_vector.empty())
        return error(errc::hidden_without_random_vector, at, avp_name(ietf_vendor, attr_type));
    if (hidden.size() < 2)
        return error(errc::hidden_too_short, at, avp_name(ietf_vendor, attr_type));
    if (out.size() < hidden.size())
        return error(l2sec::errc::buffer_too_small, at, "unhide buffer");
    mutable_bytes o = out.first(hidden.size());
    detail::hidden_xor(md5, attr_type, secret, random_vector, hidden, o, false);
    const std::size_t len = load_be16(o.data());
    if (len > hidden.size() - 2)
        return error(errc::hidden_bad_length, at, avp_name(ietf_vendor, attr_type));
    return bytes_view(o.subspan(2, len));
}

/// Unhide a hidden AVP of a parsed message, using the Random Vector that
/// precedes it (avp_view::random_vector()). A non-hidden AVP returns its value.
/// The hidden subformat applies to the AVP's attribute type as on the wire.
template <crypto::hash_context H>
result<bytes_view> unhide(H& md5, const avp_view& a, bytes_view secret,
                          mutable_bytes out) noexcept {
    if (!a.hidden()) return a.value();
    return unhide_value(md5, a.type(), secret, a.random_vector(), a.value(), out, a.offset());
}

/// RFC 2661 tunnel authentication: Challenge Response =
/// MD5(Message Type value as one octet + secret + Challenge), CHAP-style
/// (5.1.1): 2 for a response in SCCRP, 3 in SCCCN. Errors: hash_not_md5.
template <crypto::hash_context H>
result<md5_digest> challenge_response(H& md5, std::uint8_t msg_type, bytes_view secret,
                                      bytes_view challenge) noexcept {
    if (!detail::is_md5_sized(md5)) return error(errc::hash_not_md5, 0, "MD5 context");
    std::array<std::byte, 1> id{static_cast<std::byte>(msg_type)};
    md5_digest d{};
    crypto::digest(md5, d, id, secret, challenge);
    return d;
}
/// The Challenge Response an SCCRP carries for the SCCRQ's Challenge.
template <crypto::hash_context H>
result<md5_digest> sccrp_response(H& md5, bytes_view secret, bytes_view challenge) noexcept {
    return challenge_response(md5, static_cast<std::uint8_t>(message_type::sccrp), secret,
                              challenge);
}
/// The Challenge Response an SCCCN carries for the SCCRP's Challenge.
template <crypto::hash_context H>
result<md5_digest> scccn_response(H& md5, bytes_view secret, bytes_view challenge) noexcept {
    return challenge_response(md5, static_cast<std::uint8_t>(message_type::scccn), secret,
                              challenge);
}
/// Check a received Challenge Response in constant time (over its 16 octets).
template <crypto::hash_context H>
bool verify_challenge_response(H& md5, std::uint8_t msg_type, bytes_view secret,
                               bytes_view challenge, bytes_view response) noexcept {
    auto d = challenge_response(md5, msg_type, secret, challenge);
    return d && crypto::constant_time_equal(*d, response);
}

}  // namespace l2sec::l2tp
