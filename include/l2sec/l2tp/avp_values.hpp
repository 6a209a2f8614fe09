// Typed values for every IETF AVP of RFC 2661 section 4.4 and RFC 3145's PPP
// Disconnect Cause Code, in namespace l2sec::l2tp::avps.
//
// Every value type V offers:
//   static constexpr avp_type type;                      // its attribute number
//   static result<V> decode(bytes_view value, std::size_t at);
//   constexpr std::size_t size() const;                  // encoded value size
//   constexpr void encode(writer&) const;                // value only, no AVP header
// Decoders are strict on fixed sizes and tolerant only where the RFC allows
// (strings of any length, optional Result Code fields, ...). A wrong size is
// errc::bad_avp_size at `at` (the AVP's offset) with the AVP name as field.
// Byte and string values are views into the message (no copies).
//
// decode<V>(avp) decodes an avp_view (checking vendor, type and H bit);
// visit_avp(avp, f) calls f with the typed value (or with the avp_view for
// attributes without a typed value), allocation-free.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/l2tp/avp.hpp>
#include <l2sec/l2tp/error.hpp>
#include <l2sec/l2tp/result_codes.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace l2sec::l2tp::avps {

namespace detail {
constexpr const char* name_of(avp_type t) noexcept {
    return to_string(t);
}
inline error bad_size(avp_type t, std::size_t at) noexcept {
    return error(errc::bad_avp_size, at, name_of(t));
}
}  // namespace detail

/// An attribute carrying one unsigned integer of fixed width (2, 4 or 8 octets).
template <avp_type T, class U>
struct uint_value {
    static_assert(std::is_unsigned_v<U> && (sizeof(U) == 2 || sizeof(U) == 4 || sizeof(U) == 8));
    static constexpr avp_type type = T;
    U value{};

    static result<uint_value> decode(bytes_view v, std::size_t at) noexcept {
        if (v.size() != sizeof(U)) return detail::bad_size(T, at);
        if constexpr (sizeof(U) == 2)
            return uint_value{load_be16(v.data())};
        else if constexpr (sizeof(U) == 4)
            return uint_value{load_be32(v.data())};
        else
            return uint_value{load_be64(v.data())};
    }
    constexpr std::size_t size() const noexcept { return sizeof(U); }
    constexpr void encode(writer& w) const noexcept {
        if constexpr (sizeof(U) == 2)
            w.u16(value);
        else if constexpr (sizeof(U) == 4)
            w.u32(value);
        else
            w.u64(value);
    }
    friend constexpr bool operator==(const uint_value&, const uint_value&) = default;
};

/// An attribute carrying octets (a string or opaque data) of Min..Max octets.
template <avp_type T, std::size_t Min = 0, std::size_t Max = max_avp_size - avp_header_size>
struct bytes_value {
    static constexpr avp_type type = T;
    bytes_view value{};

    static result<bytes_value> decode(bytes_view v, std::size_t at) noexcept {
        if (v.size() < Min || v.size() > Max) return detail::bad_size(T, at);
        return bytes_value{v};
    }
    constexpr std::size_t size() const noexcept { return value.size(); }
    constexpr void encode(writer& w) const noexcept { w.bytes(value); }
    /// The value as characters (no validation, no copy).
    std::string_view text() const noexcept { return as_chars(value); }
    friend constexpr bool operator==(const bytes_value& a, const bytes_value& b) noexcept {
        return equal(a.value, b.value);
    }
};

/// Message Type (0): 2 octets.
struct message_type {
    static constexpr avp_type type = avp_type::message_type;
    l2tp::message_type value{};

    static result<message_type> decode(bytes_view v, std::size_t at) noexcept {
        if (v.size() != 2) return detail::bad_size(type, at);
        return message_type{static_cast<l2tp::message_type>(load_be16(v.data()))};
    }
    constexpr std::size_t size() const noexcept { return 2; }
    constexpr void encode(writer& w) const noexcept { w.u16(static_cast<std::uint16_t>(value)); }
    friend constexpr bool operator==(const message_type&, const message_type&) = default;
};

// The Result Code, General Error and Proxy Authen Type values and their
// names live in l2tp/result_codes.hpp (namespace l2tp); the names here are
// the same ones.
namespace stopccn_result = l2tp::stopccn_result;
namespace cdn_result = l2tp::cdn_result;
namespace general_error = l2tp::general_error;
namespace proxy_authen = l2tp::proxy_authen;
using l2tp::general_error_name;
using l2tp::proxy_authen_type_name;
using l2tp::result_code_name;

/// Result Code (1): result code, optional error code, optional error message.
/// Value sizes 2, 4 or more (RFC 2661 4.4.2: AVP Length 8, 10 or > 10).
struct result_code {
    static constexpr avp_type type = avp_type::result_code;
    std::uint16_t result = 0;
    bool has_error_code = false;
    std::uint16_t error_code = 0;
    bytes_view message{};  ///< the error message (implies has_error_code when sent)

    static l2sec::result<result_code> decode(bytes_view v, std::size_t at) noexcept {
        if (v.size() != 2 && v.size() < 4) return detail::bad_size(type, at);
        result_code r;
        r.result = load_be16(v.data());
        if (v.size() >= 4) {
            r.has_error_code = true;
            r.error_code = load_be16(v.data() + 2);
            r.message = v.subspan(4);
        }
        return r;
    }
    constexpr std::size_t size() const noexcept {
        return (has_error_code || !message.empty()) ? 4 + message.size() : 2;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u16(result);
        if (has_error_code || !message.empty()) {
            w.u16(error_code);
            w.bytes(message);
        }
    }
    std::string_view message_text() const noexcept { return as_chars(message); }
    friend constexpr bool operator==(const result_code& a, const result_code& b) noexcept {
        return a.result == b.result && a.has_error_code == b.has_error_code &&
               a.error_code == b.error_code && equal(a.message, b.message);
    }
};

/// Protocol Version (2): version 1, revision 0 for RFC 2661.
struct protocol_version {
    static constexpr avp_type type = avp_type::protocol_version;
    std::uint8_t version = 1;
    std::uint8_t revision = 0;

    static result<protocol_version> decode(bytes_view v, std::size_t at) noexcept {
        if (v.size() != 2) return detail::bad_size(type, at);
        return protocol_version{std::to_integer<std::uint8_t>(v[0]),
                                std::to_integer<std::uint8_t>(v[1])};
    }
    constexpr std::size_t size() const noexcept { return 2; }
    constexpr void encode(writer& w) const noexcept {
        w.u8(version);
        w.u8(revision);
    }
    friend constexpr bool operator==(const protocol_version&, const protocol_version&) = default;
};

/// Bits of Framing Capabilities / Framing Type (S = synchronous, A = asynchronous).
namespace framing {
inline constexpr std::uint32_t sync = 0x1;
inline constexpr std::uint32_t async = 0x2;
}  // namespace framing
/// Bits of Bearer Capabilities / Bearer Type (D = digital, A = analog).
namespace bearer {
inline constexpr std::uint32_t digital = 0x1;
inline constexpr std::uint32_t analog = 0x2;
}  // namespace bearer

/// Q.931 Cause Code (12): cause code, cause msg, optional advisory message.
struct q931_cause_code {
    static constexpr avp_type type = avp_type::q931_cause_code;
    std::uint16_t cause = 0;
    std::uint8_t msg = 0;
    bytes_view advisory{};

    static result<q931_cause_code> decode(bytes_view v, std::size_t at) noexcept {
        if (v.size() < 3) return detail::bad_size(type, at);
        return q931_cause_code{load_be16(v.data()), std::to_integer<std::uint8_t>(v[2]),
                               v.subspan(3)};
    }
    constexpr std::size_t size() const noexcept { return 3 + advisory.size(); }
    constexpr void encode(writer& w) const noexcept {
        w.u16(cause);
        w.u8(msg);
        w.bytes(advisory);
    }
    friend constexpr bool operator==(const q931_cause_code& a, const q931_cause_code& b) noexcept {
        return a.cause == b.cause && a.msg == b.msg && equal(a.advisory, b.advisory);
    }
};

/// Proxy Authen ID (32): a reserved octet (sent 0, ignored) and the ID.
struct proxy_authen_id {
    static constexpr avp_type type = avp_type::proxy_authen_id;
    std::uint8_t id = 0;

    static result<proxy_authen_id> decode(bytes_view v, std::size_t at) noexcept {
        if (v.size() != 2) return detail::bad_size(type, at);
        return proxy_authen_id{std::to_integer<std::uint8_t>(v[1])};
    }
    constexpr std::size_t size() const noexcept { return 2; }
    constexpr void encode(writer& w) const noexcept {
        w.u8(0);
        w.u8(id);
    }
    friend constexpr bool operator==(const proxy_authen_id&, const proxy_authen_id&) = default;
};

/// Call Errors (34): 2 reserved octets and six 32-bit counters (26 octets).
struct call_errors {
    static constexpr avp_type type = avp_type::call_errors;
    std::uint32_t crc_errors = 0;
    std::uint32_t framing_errors = 0;
    std::uint32_t hardware_overruns = 0;
    std::uint32_t buffer_overruns = 0;
    std::uint32_t timeout_errors = 0;
    std::uint32_t alignment_errors = 0;

    static result<call_errors> decode(bytes_view v, std::size_t at) noexcept {
        if (v.size() != 26) return detail::bad_size(type, at);
        reader r(v);
        r.skip(2);
        call_errors c;
        c.crc_errors = r.u32();
        c.framing_errors = r.u32();
        c.hardware_overruns = r.u32();
        c.buffer_overruns = r.u32();
        c.timeout_errors = r.u32();
        c.alignment_errors = r.u32();
        return c;
    }
    constexpr std::size_t size() const noexcept { return 26; }
    constexpr void encode(writer& w) const noexcept {
        w.u16(0);
        w.u32(crc_errors);
        w.u32(framing_errors);
        w.u32(hardware_overruns);
        w.u32(buffer_overruns);
        w.u32(timeout_errors);
        w.u32(alignment_errors);
    }
    friend constexpr bool operator==(const call_errors&, const call_errors&) = default;
};

/// ACCM (35): 2 reserved octets, Send ACCM, Receive ACCM (10 octets).
struct accm {
    static constexpr avp_type type = avp_type::accm;
    std::uint32_t send = 0xFFFFFFFFu;
    std::uint32_t recv = 0xFFFFFFFFu;

    static result<accm> decode(bytes_view v, std::size_t at) noexcept {
        if (v.size() != 10) return detail::bad_size(type, at);
        return accm{load_be32(v.data() + 2), load_be32(v.data() + 6)};
    }
    constexpr std::size_t size() const noexcept { return 10; }
    constexpr void encode(writer& w) const noexcept {
        w.u16(0);
        w.u32(send);
        w.u32(recv);
    }
    friend constexpr bool operator==(const accm&, const accm&) = default;
};

/// Sequencing Required (39): no value.
struct sequencing_required {
    static constexpr avp_type type = avp_type::sequencing_required;

    static result<sequencing_required> decode(bytes_view v, std::size_t at) noexcept {
        if (!v.empty()) return detail::bad_size(type, at);
        return sequencing_required{};
    }
    constexpr std::size_t size() const noexcept { return 0; }
    constexpr void encode(writer&) const noexcept {}
    friend constexpr bool operator==(const sequencing_required&,
                                     const sequencing_required&) = default;
};

/// PPP Disconnect Cause Code (46, RFC 3145): disconnect code, control
/// protocol number, direction, optional message (at least 5 octets).
struct ppp_disconnect_cause_code {
    static constexpr avp_type type = avp_type::ppp_disconnect_cause_code;
    std::uint16_t code = 0;
    std::uint16_t protocol = 0;
    std::uint8_t direction = 0;  ///< 0 global, 1 at peer, 2 at local (RFC 3145)
    bytes_view message{};

    static result<ppp_disconnect_cause_code> decode(bytes_view v, std::size_t at) noexcept {
        if (v.size() < 5) return detail::bad_size(type, at);
        return ppp_disconnect_cause_code{load_be16(v.data()), load_be16(v.data() + 2),
                                         std::to_integer<std::uint8_t>(v[4]), v.subspan(5)};
    }
    constexpr std::size_t size() const noexcept { return 5 + message.size(); }
    constexpr void encode(writer& w) const noexcept {
        w.u16(code);
        w.u16(protocol);
        w.u8(direction);
        w.bytes(message);
    }
    friend constexpr bool operator==(const ppp_disconnect_cause_code& a,
                                     const ppp_disconnect_cause_code& b) noexcept {
        return a.code == b.code && a.protocol == b.protocol && a.direction == b.direction &&
               equal(a.message, b.message);
    }
};

// The rest of the catalogue: fixed-width integers and octet strings.
using framing_capabilities = uint_value<avp_type::framing_capabilities, std::uint32_t>;  ///< 3
using bearer_capabilities = uint_value<avp_type::bearer_capabilities, std::uint32_t>;    ///< 4
using tie_breaker = uint_value<avp_type::tie_breaker, std::uint64_t>;                    ///< 5
using firmware_revision = uint_value<avp_type::firmware_revision, std::uint16_t>;        ///< 6
using host_name = bytes_value<avp_type::host_name, 1>;   ///< 7, at least 1 octet
using vendor_name = bytes_value<avp_type::vendor_name>;  ///< 8
using assigned_tunnel_id = uint_value<avp_type::assigned_tunnel_id, std::uint16_t>;    ///< 9
using receive_window_size = uint_value<avp_type::receive_window_size, std::uint16_t>;  ///< 10
using challenge = bytes_value<avp_type::challenge, 1>;  ///< 11, at least 1 octet
using challenge_response = bytes_value<avp_type::challenge_response, 16, 16>;  ///< 13, exactly 16
using assigned_session_id = uint_value<avp_type::assigned_session_id, std::uint16_t>;  ///< 14
using call_serial_number = uint_value<avp_type::call_serial_number, std::uint32_t>;    ///< 15
using minimum_bps = uint_value<avp_type::minimum_bps, std::uint32_t>;                  ///< 16
using maximum_bps = uint_value<avp_type::maximum_bps, std::uint32_t>;                  ///< 17
using bearer_type = uint_value<avp_type::bearer_type, std::uint32_t>;                  ///< 18
using framing_type = uint_value<avp_type::framing_type, std::uint32_t>;                ///< 19
using called_number = bytes_value<avp_type::called_number>;                            ///< 21
using calling_number = bytes_value<avp_type::calling_number>;                          ///< 22
using sub_address = bytes_value<avp_type::sub_address>;                                ///< 23
using tx_connect_speed = uint_value<avp_type::tx_connect_speed, std::uint32_t>;        ///< 24
using physical_channel_id = uint_value<avp_type::physical_channel_id, std::uint32_t>;  ///< 25
/// 26-28: a copy of the LCP Configure-Request's options (from the first
/// option on, without the LCP header), RFC 2661 4.4.5.
using initial_received_lcp_confreq = bytes_value<avp_type::initial_received_lcp_confreq>;  ///< 26
using last_sent_lcp_confreq = bytes_value<avp_type::last_sent_lcp_confreq>;                ///< 27
using last_received_lcp_confreq = bytes_value<avp_type::last_received_lcp_confreq>;        ///< 28
using proxy_authen_type = uint_value<avp_type::proxy_authen_type, std::uint16_t>;          ///< 29
using proxy_authen_name = bytes_value<avp_type::proxy_authen_name>;                        ///< 30
using proxy_authen_challenge = bytes_value<avp_type::proxy_authen_challenge>;              ///< 31
using proxy_authen_response = bytes_value<avp_type::proxy_authen_response>;                ///< 33
using random_vector = bytes_value<avp_type::random_vector, 1>;     ///< 36, at least 1 octet
using private_group_id = bytes_value<avp_type::private_group_id>;  ///< 37
using rx_connect_speed = uint_value<avp_type::rx_connect_speed, std::uint32_t>;  ///< 38

/// What every typed AVP value offers (see the top of this file).
template <class V>
concept avp_value = requires(const V& v, bytes_view b, std::size_t at, writer& w) {
    { V::type } -> std::convertible_to<avp_type>;
    { V::decode(b, at) } -> std::same_as<result<V>>;
    { v.size() } -> std::convertible_to<std::size_t>;
    v.encode(w);
};
static_assert(avp_value<message_type> && avp_value<result_code> && avp_value<protocol_version> &&
              avp_value<framing_capabilities> && avp_value<bearer_capabilities> &&
              avp_value<tie_breaker> && avp_value<firmware_revision> && avp_value<host_name> &&
              avp_value<vendor_name> && avp_value<assigned_tunnel_id> &&
              avp_value<receive_window_size> && avp_value<challenge> &&
              avp_value<q931_cause_code> && avp_value<challenge_response> &&
              avp_value<assigned_session_id> && avp_value<call_serial_number> &&
              avp_value<minimum_bps> && avp_value<maximum_bps> && avp_value<bearer_type> &&
              avp_value<framing_type> && avp_value<called_number> && avp_value<calling_number> &&
              avp_value<sub_address> && avp_value<tx_connect_speed> &&
              avp_value<physical_channel_id> && avp_value<initial_received_lcp_confreq> &&
              avp_value<last_sent_lcp_confreq> && avp_value<last_received_lcp_confreq> &&
              avp_value<proxy_authen_type> && avp_value<proxy_authen_name> &&
              avp_value<proxy_authen_challenge> && avp_value<proxy_authen_id> &&
              avp_value<proxy_authen_response> && avp_value<call_errors> && avp_value<accm> &&
              avp_value<random_vector> && avp_value<private_group_id> &&
              avp_value<rx_connect_speed> && avp_value<sequencing_required> &&
              avp_value<ppp_disconnect_cause_code>);

/// Decode the plain value `v` (at absolute AVP offset `at`) as V.
template <class V>
result<V> decode_value(bytes_view v, std::size_t at) noexcept {
    return V::decode(v, at);
}

}  // namespace l2sec::l2tp::avps

namespace l2sec::l2tp {

/// Decode `a` as the typed value V. Errors at a.offset(): missing_avp when
/// `a` is another attribute (or vendor-specific), avp_is_hidden when H is set
/// (unhide first and use avps::decode_value), bad_avp_size.
template <class V>
result<V> decode(const avp_view& a) noexcept {
    if (!a.is(V::type)) return error(errc::missing_avp, a.offset(), to_string(V::type));
    if (a.hidden()) return error(errc::avp_is_hidden, a.offset(), to_string(V::type));
    return V::decode(a.value(), a.offset());
}

/// Calls f(typed value) for the IETF attribute (vendor, type) whose plain
/// value is `v` (the AVP at absolute offset `at`); for any other attribute
/// calls nothing and returns success with *known = false. Decode errors
/// (bad_avp_size) are returned. Allocation-free.
template <class F>
result<void> visit_value(std::uint16_t vendor, std::uint16_t type, bytes_view v, std::size_t at,
                         F&& f, bool* known = nullptr) noexcept {
    if (known) *known = true;
    auto call = [&](auto tag) -> result<void> {
        using V = typename decltype(tag)::type;
        auto r = V::decode(v, at);
        if (!r) return r.error();
        f(*r);
        return {};
    };
    if (vendor == ietf_vendor) {
        switch (static_cast<avp_type>(type)) {
            case avp_type::message_type:
                return call(std::type_identity<avps::message_type>{});
            case avp_type::result_code:
                return call(std::type_identity<avps::result_code>{});
            case avp_type::protocol_version:
                return call(std::type_identity<avps::protocol_version>{});
            case avp_type::framing_capabilities:
                return call(std::type_identity<avps::framing_capabilities>{});
            case avp_type::bearer_capabilities:
                return call(std::type_identity<avps::bearer_capabilities>{});
            case avp_type::tie_breaker:
                return call(std::type_identity<avps::tie_breaker>{});
            case avp_type::firmware_revision:
                return call(std::type_identity<avps::firmware_revision>{});
            case avp_type::host_name:
                return call(std::type_identity<avps::host_name>{});
            case avp_type::vendor_name:
                return call(std::type_identity<avps::vendor_name>{});
            case avp_type::assigned_tunnel_id:
                return call(std::type_identity<avps::assigned_tunnel_id>{});
            case avp_type::receive_window_size:
                return call(std::type_identity<avps::receive_window_size>{});
            case avp_type::challenge:
                return call(std::type_identity<avps::challenge>{});
            case avp_type::q931_cause_code:
                return call(std::type_identity<avps::q931_cause_code>{});
            case avp_type::challenge_response:
                return call(std::type_identity<avps::challenge_response>{});
            case avp_type::assigned_session_id:
                return call(std::type_identity<avps::assigned_session_id>{});
            case avp_type::call_serial_number:
                return call(std::type_identity<avps::call_serial_number>{});
            case avp_type::minimum_bps:
                return call(std::type_identity<avps::minimum_bps>{});
            case avp_type::maximum_bps:
                return call(std::type_identity<avps::maximum_bps>{});
            case avp_type::bearer_type:
                return call(std::type_identity<avps::bearer_type>{});
            case avp_type::framing_type:
                return call(std::type_identity<avps::framing_type>{});
            case avp_type::called_number:
                return call(std::type_identity<avps::called_number>{});
            case avp_type::calling_number:
                return call(std::type_identity<avps::calling_number>{});
            case avp_type::sub_address:
                return call(std::type_identity<avps::sub_address>{});
            case avp_type::tx_connect_speed:
                return call(std::type_identity<avps::tx_connect_speed>{});
            case avp_type::physical_channel_id:
                return call(std::type_identity<avps::physical_channel_id>{});
            case avp_type::initial_received_lcp_confreq:
                return call(std::type_identity<avps::initial_received_lcp_confreq>{});
            case avp_type::last_sent_lcp_confreq:
                return call(std::type_identity<avps::last_sent_lcp_confreq>{});
            case avp_type::last_received_lcp_confreq:
                return call(std::type_identity<avps::last_received_lcp_confreq>{});
            case avp_type::proxy_authen_type:
                return call(std::type_identity<avps::proxy_authen_type>{});
            case avp_type::proxy_authen_name:
                return call(std::type_identity<avps::proxy_authen_name>{});
            case avp_type::proxy_authen_challenge:
                return call(std::type_identity<avps::proxy_authen_challenge>{});
            case avp_type::proxy_authen_id:
                return call(std::type_identity<avps::proxy_authen_id>{});
            case avp_type::proxy_authen_response:
                return call(std::type_identity<avps::proxy_authen_response>{});
            case avp_type::call_errors:
                return call(std::type_identity<avps::call_errors>{});
            case avp_type::accm:
                return call(std::type_identity<avps::accm>{});
            case avp_type::random_vector:
                return call(std::type_identity<avps::random_vector>{});
            case avp_type::private_group_id:
                return call(std::type_identity<avps::private_group_id>{});
            case avp_type::rx_connect_speed:
                return call(std::type_identity<avps::rx_connect_speed>{});
            case avp_type::sequencing_required:
                return call(std::type_identity<avps::sequencing_required>{});
            case avp_type::ppp_disconnect_cause_code:
                return call(std::type_identity<avps::ppp_disconnect_cause_code>{});
        }
    }
    if (known) *known = false;
    return {};
}

/// Calls f with the typed value of `a` (an avps:: type), or with `a` itself
/// (an avp_view) when the attribute is vendor-specific or unknown, kept raw.
/// A hidden AVP gives errc::avp_is_hidden: unhide it (hidden.hpp) and call the
/// overload taking the plain value. Bad sizes give errc::bad_avp_size.
///
///   l2tp::visit_avp(avp, [](const auto& v) {
///       if constexpr (std::is_same_v<std::decay_t<decltype(v)>, l2tp::avps::host_name>) ...
///   });
template <class F>
result<void> visit_avp(const avp_view& a, F&& f) noexcept {
    if (a.hidden()) return error(errc::avp_is_hidden, a.offset(), a.name());
    bool known = false;
    auto r = visit_value(a.vendor(), a.type(), a.value(), a.offset(), f, &known);
    if (r && !known) f(a);
    return r;
}

/// As visit_avp(a, f), with the value given in plain text (an unhidden value).
template <class F>
result<void> visit_avp(const avp_view& a, bytes_view plain_value, F&& f) noexcept {
    bool known = false;
    auto r = visit_value(a.vendor(), a.type(), plain_value, a.offset(), f, &known);
    if (r && !known) f(a);
    return r;
}

}  // namespace l2sec::l2tp
