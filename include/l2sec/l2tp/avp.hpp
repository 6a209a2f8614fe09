// L2TP Attribute Value Pairs (RFC 2661 section 4.1): the AVP header, the
// catalogue of attribute and message types with their names, and a lazy,
// allocation-free iteration over the AVPs of a message.
//
//  |M|H| rsvd  |      Length       |           Vendor ID           |
//  |         Attribute Type        |        Attribute Value...
//
// AVPs are always keyed on (Vendor ID, Attribute Type): a vendor-specific AVP
// (e.g. vendor 3561, Broadband Forum, type 0) is never taken for a standard one.
// parse_avps() validates every AVP length once, so iterating the range it
// returns cannot fail and cannot read out of bounds.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/l2tp/error.hpp>
#include <l2sec/l2tp/header.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>

namespace l2sec::l2tp {

/// Vendor ID 0: the IETF attributes of RFC 2661 and its extensions.
inline constexpr std::uint16_t ietf_vendor = 0;
inline constexpr std::size_t avp_header_size = 6;
inline constexpr std::size_t max_avp_size = 0x3FF;  ///< the 10-bit Length field

namespace avp_flags {
inline constexpr std::uint16_t mandatory = 0x8000;  ///< M
inline constexpr std::uint16_t hidden = 0x4000;     ///< H
inline constexpr std::uint16_t reserved = 0x3C00;   ///< rsvd
inline constexpr std::uint16_t length = 0x03FF;     ///< Length
}  // namespace avp_flags

/// Control message types (RFC 2661 section 3.2). 0, 5 and 13 are reserved.
enum class message_type : std::uint16_t {
    sccrq = 1,    ///< Start-Control-Connection-Request
    sccrp = 2,    ///< Start-Control-Connection-Reply
    scccn = 3,    ///< Start-Control-Connection-Connected
    stopccn = 4,  ///< Stop-Control-Connection-Notification
    hello = 6,    ///< Hello
    ocrq = 7,     ///< Outgoing-Call-Request
    ocrp = 8,     ///< Outgoing-Call-Reply
    occn = 9,     ///< Outgoing-Call-Connected
    icrq = 10,    ///< Incoming-Call-Request
    icrp = 11,    ///< Incoming-Call-Reply
    iccn = 12,    ///< Incoming-Call-Connected
    cdn = 14,     ///< Call-Disconnect-Notify
    wen = 15,     ///< WAN-Error-Notify
    sli = 16,     ///< Set-Link-Info
};

/// True for the 14 message types RFC 2661 defines.
constexpr bool is_known(message_type t) noexcept {
    switch (t) {
        case message_type::sccrq:
        case message_type::sccrp:
        case message_type::scccn:
        case message_type::stopccn:
        case message_type::hello:
        case message_type::ocrq:
        case message_type::ocrp:
        case message_type::occn:
        case message_type::icrq:
        case message_type::icrp:
        case message_type::iccn:
        case message_type::cdn:
        case message_type::wen:
        case message_type::sli:
            return true;
    }
    return false;
}

/// RFC abbreviation ("SCCRQ", "StopCCN", "HELLO", ...), or "unknown".
/// A control message without AVPs is a ZLB: see message_view::is_zlb().
constexpr const char* to_string(message_type t) noexcept {
    switch (t) {
        case message_type::sccrq:
            return "SCCRQ";
        case message_type::sccrp:
            return "SCCRP";
        case message_type::scccn:
            return "SCCCN";
        case message_type::stopccn:
            return "StopCCN";
        case message_type::hello:
            return "HELLO";
        case message_type::ocrq:
            return "OCRQ";
        case message_type::ocrp:
            return "OCRP";
        case message_type::occn:
            return "OCCN";
        case message_type::icrq:
            return "ICRQ";
        case message_type::icrp:
            return "ICRP";
        case message_type::iccn:
            return "ICCN";
        case message_type::cdn:
            return "CDN";
        case message_type::wen:
            return "WEN";
        case message_type::sli:
            return "SLI";
    }
    return "unknown";
}
/// The name printed for a zero-length body (acknowledgement-only) message.
inline constexpr const char* zlb_name = "ZLB";

/// IETF attribute types (vendor 0): RFC 2661 section 4.4 (0..39; 20 is
/// reserved) and RFC 3145's PPP Disconnect Cause Code (46).
enum class avp_type : std::uint16_t {
    message_type = 0,
    result_code = 1,
    protocol_version = 2,
    framing_capabilities = 3,
    bearer_capabilities = 4,
    tie_breaker = 5,
    firmware_revision = 6,
    host_name = 7,
    vendor_name = 8,
    assigned_tunnel_id = 9,
    receive_window_size = 10,
    challenge = 11,
    q931_cause_code = 12,
    challenge_response = 13,
    assigned_session_id = 14,
    call_serial_number = 15,
    minimum_bps = 16,
    maximum_bps = 17,
    bearer_type = 18,
    framing_type = 19,
    called_number = 21,
    calling_number = 22,
    sub_address = 23,
    tx_connect_speed = 24,
    physical_channel_id = 25,
    initial_received_lcp_confreq = 26,
    last_sent_lcp_confreq = 27,
    last_received_lcp_confreq = 28,
    proxy_authen_type = 29,
    proxy_authen_name = 30,
    proxy_authen_challenge = 31,
    proxy_authen_id = 32,
    proxy_authen_response = 33,
    call_errors = 34,
    accm = 35,
    random_vector = 36,
    private_group_id = 37,
    rx_connect_speed = 38,
    sequencing_required = 39,
    ppp_disconnect_cause_code = 46,
};

/// The RFC's name for an IETF attribute ("Host Name"), or nullptr when unknown.
constexpr const char* avp_name_or_null(avp_type t) noexcept {
    switch (t) {
        case avp_type::message_type:
            return "Message Type";
        case avp_type::result_code:
            return "Result Code";
        case avp_type::protocol_version:
            return "Protocol Version";
        case avp_type::framing_capabilities:
            return "Framing Capabilities";
        case avp_type::bearer_capabilities:
            return "Bearer Capabilities";
        case avp_type::tie_breaker:
            return "Tie Breaker";
        case avp_type::firmware_revision:
            return "Firmware Revision";
        case avp_type::host_name:
            return "Host Name";
        case avp_type::vendor_name:
            return "Vendor Name";
        case avp_type::assigned_tunnel_id:
            return "Assigned Tunnel ID";
        case avp_type::receive_window_size:
            return "Receive Window Size";
        case avp_type::challenge:
            return "Challenge";
        case avp_type::q931_cause_code:
            return "Q.931 Cause Code";
        case avp_type::challenge_response:
            return "Challenge Response";
        case avp_type::assigned_session_id:
            return "Assigned Session ID";
        case avp_type::call_serial_number:
            return "Call Serial Number";
        case avp_type::minimum_bps:
            return "Minimum BPS";
        case avp_type::maximum_bps:
            return "Maximum BPS";
        case avp_type::bearer_type:
            return "Bearer Type";
        case avp_type::framing_type:
            return "Framing Type";
        case avp_type::called_number:
            return "Called Number";
        case avp_type::calling_number:
            return "Calling Number";
        case avp_type::sub_address:
            return "Sub-Address";
        case avp_type::tx_connect_speed:
            return "Tx Connect Speed";
        case avp_type::physical_channel_id:
            return "Physical Channel ID";
        case avp_type::initial_received_lcp_confreq:
            return "Initial Received LCP CONFREQ";
        case avp_type::last_sent_lcp_confreq:
            return "Last Sent LCP CONFREQ";
        case avp_type::last_received_lcp_confreq:
            return "Last Received LCP CONFREQ";
        case avp_type::proxy_authen_type:
            return "Proxy Authen Type";
        case avp_type::proxy_authen_name:
            return "Proxy Authen Name";
        case avp_type::proxy_authen_challenge:
            return "Proxy Authen Challenge";
        case avp_type::proxy_authen_id:
            return "Proxy Authen ID";
        case avp_type::proxy_authen_response:
            return "Proxy Authen Response";
        case avp_type::call_errors:
            return "Call Errors";
        case avp_type::accm:
            return "ACCM";
        case avp_type::random_vector:
            return "Random Vector";
        case avp_type::private_group_id:
            return "Private Group ID";
        case avp_type::rx_connect_speed:
            return "Rx Connect Speed";
        case avp_type::sequencing_required:
            return "Sequencing Required";
        case avp_type::ppp_disconnect_cause_code:
            return "PPP Disconnect Cause Code";
    }
    return nullptr;
}
/// The RFC's name for an IETF attribute, or "unknown".
constexpr const char* to_string(avp_type t) noexcept {
    const char* n = avp_name_or_null(t);
    return n ? n : "unknown";
}
/// True when (vendor, type) is an attribute l2sec decodes (vendor 0 only).
constexpr bool is_known_avp(std::uint16_t vendor, std::uint16_t type) noexcept {
    return vendor == ietf_vendor && avp_name_or_null(static_cast<avp_type>(type)) != nullptr;
}
/// Name for any (vendor, type): the RFC name, or "vendor-specific" / "unknown".
constexpr const char* avp_name(std::uint16_t vendor, std::uint16_t type) noexcept {
    if (vendor != ietf_vendor) return "vendor-specific";
    return to_string(static_cast<avp_type>(type));
}

/// The M bit RFC 2661 section 4.4 prescribes for each attribute when sent.
constexpr bool default_mandatory(avp_type t) noexcept {
    switch (t) {
        case avp_type::tie_breaker:
        case avp_type::firmware_revision:
        case avp_type::vendor_name:
        case avp_type::physical_channel_id:
        case avp_type::initial_received_lcp_confreq:
        case avp_type::last_sent_lcp_confreq:
        case avp_type::last_received_lcp_confreq:
        case avp_type::proxy_authen_type:
        case avp_type::proxy_authen_name:
        case avp_type::proxy_authen_challenge:
        case avp_type::proxy_authen_id:
        case avp_type::proxy_authen_response:
        case avp_type::private_group_id:
        case avp_type::rx_connect_speed:
        case avp_type::ppp_disconnect_cause_code:
            return false;
        default:
            return true;
    }
}

/// True for attributes that may never carry the H bit (RFC 2661 4.4.1, 4.4.3:
/// Message Type and Random Vector; hiding them would make the message unreadable).
constexpr bool must_not_hide(std::uint16_t vendor, std::uint16_t type) noexcept {
    return vendor == ietf_vendor && (type == static_cast<std::uint16_t>(avp_type::message_type) ||
                                     type == static_cast<std::uint16_t>(avp_type::random_vector));
}

/// One AVP inside a parsed message: a view, valid as long as the datagram.
class avp_view {
  public:
    constexpr avp_view() noexcept = default;
    /// `raw` is the whole AVP (header + value), already length-checked;
    /// `offset` its absolute offset; `random_vector` the value of the last
    /// Random Vector AVP before it in the message (empty if none).
    constexpr avp_view(bytes_view raw, std::size_t offset, bytes_view random_vector = {}) noexcept
        : raw_(raw), offset_(offset), rv_(random_vector) {}

    constexpr std::uint16_t flags_word() const noexcept { return load_be16(raw_.data()); }
    constexpr bool mandatory() const noexcept { return (flags_word() & avp_flags::mandatory) != 0; }
    constexpr bool hidden() const noexcept { return (flags_word() & avp_flags::hidden) != 0; }
    constexpr std::uint16_t reserved_bits() const noexcept {
        return flags_word() & avp_flags::reserved;
    }
    /// Total length (header + value), from the Length field.
    constexpr std::size_t length() const noexcept { return raw_.size(); }
    constexpr std::uint16_t vendor() const noexcept { return load_be16(raw_.data() + 2); }
    constexpr std::uint16_t type() const noexcept { return load_be16(raw_.data() + 4); }
    /// True when this is the IETF attribute t (vendor 0).
    constexpr bool is(avp_type t) const noexcept {
        return vendor() == ietf_vendor && type() == static_cast<std::uint16_t>(t);
    }
    constexpr bool known() const noexcept { return is_known_avp(vendor(), type()); }
    /// The attribute value as on the wire (still encrypted when hidden()).
    constexpr bytes_view value() const noexcept { return raw_.subspan(avp_header_size); }
    constexpr bytes_view raw() const noexcept { return raw_; }
    /// Absolute offset of the AVP header / of its value.
    constexpr std::size_t offset() const noexcept { return offset_; }
    constexpr std::size_t value_offset() const noexcept { return offset_ + avp_header_size; }
    /// The Random Vector in force for this AVP (RFC 2661 4.3), empty if none.
    constexpr bytes_view random_vector() const noexcept { return rv_; }
    constexpr const char* name() const noexcept { return avp_name(vendor(), type()); }

  private:
    bytes_view raw_{};
    std::size_t offset_ = 0;
    bytes_view rv_{};
};

/// A forward range over AVPs whose lengths were checked by parse_avps().
class avp_range {
  public:
    class iterator {
      public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = avp_view;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = avp_view;

        constexpr iterator() noexcept = default;
        constexpr iterator(bytes_view rest, std::size_t offset, bytes_view rv) noexcept
            : rest_(rest), offset_(offset), rv_(rv) {}

        /// `it->type()` works too: the view is returned in a small holder.
        struct arrow {
            avp_view v;
            constexpr const avp_view* operator->() const noexcept { return &v; }
        };
        constexpr arrow operator->() const noexcept { return arrow{**this}; }
        constexpr avp_view operator*() const noexcept {
            return avp_view(rest_.first(len()), offset_, rv_);
        }
        constexpr iterator& operator++() noexcept {
            avp_view a = **this;
            if (a.is(avp_type::random_vector)) rv_ = a.value();
            const std::size_t n = len();
            rest_ = rest_.subspan(n);
            offset_ += n;
            return *this;
        }
        constexpr iterator operator++(int) noexcept {
            iterator t = *this;
            ++*this;
            return t;
        }
        friend constexpr bool operator==(const iterator& a, const iterator& b) noexcept {
            return a.rest_.size() == b.rest_.size();
        }

      private:
        constexpr std::size_t len() const noexcept {
            return load_be16(rest_.data()) & avp_flags::length;
        }
        bytes_view rest_{};
        std::size_t offset_ = 0;
        bytes_view rv_{};
    };

    constexpr avp_range() noexcept = default;
    /// Precondition: `data` holds whole AVPs, each of length >= 6 (parse_avps checks).
    constexpr avp_range(bytes_view data, std::size_t base) noexcept : data_(data), base_(base) {}

    constexpr iterator begin() const noexcept { return iterator(data_, base_, {}); }
    constexpr iterator end() const noexcept {
        return iterator(data_.last(0), base_ + data_.size(), {});
    }
    constexpr bool empty() const noexcept { return data_.empty(); }
    /// The AVP area (all AVPs back to back) and its absolute offset.
    constexpr bytes_view bytes() const noexcept { return data_; }
    constexpr std::size_t offset() const noexcept { return base_; }

    /// The first AVP with this (vendor, type), if any.
    constexpr std::optional<avp_view> find(std::uint16_t vendor,
                                           std::uint16_t type) const noexcept {
        for (avp_view a : *this)
            if (a.vendor() == vendor && a.type() == type) return a;
        return std::nullopt;
    }
    constexpr std::optional<avp_view> find(avp_type t) const noexcept {
        return find(ietf_vendor, static_cast<std::uint16_t>(t));
    }
    constexpr std::size_t count(avp_type t) const noexcept {
        std::size_t n = 0;
        for (avp_view a : *this)
            n += a.is(t) ? 1u : 0u;
        return n;
    }

  private:
    bytes_view data_{};
    std::size_t base_ = 0;
};

/// Check every AVP of an AVP area (`data`, whose first byte is at absolute
/// offset `base`) and return the range over them. Errors, each at the offset
/// of the offending AVP: truncated (fewer than 6 octets left), avp_too_short
/// (Length < 6), avp_overrun (Length past the end), reserved_bits_set,
/// must_not_be_hidden (H on Message Type / Random Vector),
/// hidden_without_random_vector (H before any Random Vector).
inline result<avp_range> parse_avps(bytes_view data, std::size_t base,
                                    parse_options opt = {}) noexcept {
    std::size_t pos = 0;
    bool have_rv = false;
    while (pos < data.size()) {
        const std::size_t at = base + pos;
        if (data.size() - pos < avp_header_size) return error(errc::truncated, at, "AVP header");
        const std::uint16_t w = load_be16(data.data() + pos);
        const std::size_t len = w & avp_flags::length;
        if (len < avp_header_size) return error(errc::avp_too_short, at, "AVP Length");
        if (len > data.size() - pos) return error(errc::avp_overrun, at, "AVP Length");
        if (!opt.ignore_reserved_bits && (w & avp_flags::reserved))
            return error(errc::reserved_bits_set, at, "AVP flags");
        const std::uint16_t vendor = load_be16(data.data() + pos + 2);
        const std::uint16_t type = load_be16(data.data() + pos + 4);
        if (w & avp_flags::hidden) {
            if (must_not_hide(vendor, type))
                return error(errc::must_not_be_hidden, at, avp_name(vendor, type));
            if (!have_rv)
                return error(errc::hidden_without_random_vector, at, avp_name(vendor, type));
        }
        if (vendor == ietf_vendor && type == static_cast<std::uint16_t>(avp_type::random_vector))
            have_rv = true;
        pos += len;
    }
    return avp_range(data, base);
}

/// The first unrecognised AVP with the M bit set (RFC 2661 4.1: the receiver
/// must then tear down the session or tunnel; the engine decides), as
/// errc::unknown_mandatory_avp at its offset; success when there is none.
inline result<void> check_mandatory(const avp_range& avps) noexcept {
    for (avp_view a : avps)
        if (a.mandatory() && !a.known())
            return error(errc::unknown_mandatory_avp, a.offset(), a.name());
    return {};
}

}  // namespace l2sec::l2tp
