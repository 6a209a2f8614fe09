// LCP (RFC 1661): packets (codes 1-11) and the typed option catalogue:
// MRU(1), ACCM(2, RFC 1662), Authentication-Protocol(3), Quality-Protocol(4),
// Magic-Number(5), PFC(7), ACFC(8), MRRU(17), Short-Sequence(18) and
// Endpoint-Discriminator(19) (RFC 1990). Other types decode as unknown_option.
//
//   auto p = lcp::decode(frame.information, off);          // result<packet_view>
//   for (auto raw : p->options()) {
//       auto opt = lcp::parse_option(raw);                 // result<lcp::option>
//       if (!opt) ...;                                     // bad size: code + offset
//       std::visit([](const auto& o) { ... }, *opt);       // typed, no allocation
//   }
//
//   ppp::packet_writer pw(buf, ppp::code::configure_request, 1);
//   pw.option(lcp::mru{1400}).option(lcp::auth_protocol::chap_md5()).option(lcp::magic_number{m});
//   auto n = pw.finish();
#pragma once

#include <l2sec/ppp/control.hpp>
#include <l2sec/ppp/detail/option_codec.hpp>

#include <cstdint>
#include <variant>

namespace l2sec::ppp::lcp {

/// LCP option type numbers (IANA "LCP Option Types").
namespace option_type {
inline constexpr std::uint8_t vendor_specific = 0;  ///< RFC 2153
inline constexpr std::uint8_t mru = 1;
inline constexpr std::uint8_t accm = 2;
inline constexpr std::uint8_t auth_protocol = 3;
inline constexpr std::uint8_t quality_protocol = 4;
inline constexpr std::uint8_t magic_number = 5;
inline constexpr std::uint8_t pfc = 7;
inline constexpr std::uint8_t acfc = 8;
inline constexpr std::uint8_t fcs_alternatives = 9;         ///< RFC 1570
inline constexpr std::uint8_t self_describing_pad = 10;     ///< RFC 1570
inline constexpr std::uint8_t callback = 13;                ///< RFC 1570
inline constexpr std::uint8_t mrru = 17;                    ///< RFC 1990
inline constexpr std::uint8_t short_sequence = 18;          ///< RFC 1990
inline constexpr std::uint8_t endpoint_discriminator = 19;  ///< RFC 1990
}  // namespace option_type

/// "mru", "accm", "auth_protocol", ... or nullptr.
constexpr const char* option_name(std::uint8_t type) noexcept {
    switch (type) {
        case option_type::vendor_specific:
            return "vendor_specific";
        case option_type::mru:
            return "mru";
        case option_type::accm:
            return "accm";
        case option_type::auth_protocol:
            return "auth_protocol";
        case option_type::quality_protocol:
            return "quality_protocol";
        case option_type::magic_number:
            return "magic_number";
        case option_type::pfc:
            return "pfc";
        case option_type::acfc:
            return "acfc";
        case option_type::fcs_alternatives:
            return "fcs_alternatives";
        case option_type::self_describing_pad:
            return "self_describing_pad";
        case option_type::callback:
            return "callback";
        case option_type::mrru:
            return "mrru";
        case option_type::short_sequence:
            return "short_sequence";
        case option_type::endpoint_discriminator:
            return "endpoint_discriminator";
        default:
            return nullptr;
    }
}

/// CHAP algorithm byte of the Authentication-Protocol option (RFC 1994, RFC 2433, RFC 2759).
namespace chap_algorithm {
inline constexpr std::uint8_t md5 = 5;
inline constexpr std::uint8_t ms_chap = 0x80;
inline constexpr std::uint8_t ms_chap_v2 = 0x81;
}  // namespace chap_algorithm

/// Maximum-Receive-Unit (1): length 4.
struct mru {
    static constexpr std::uint8_t type = option_type::mru;
    static constexpr const char* name = "mru";
    std::uint16_t value = 1500;

    constexpr std::size_t data_size() const noexcept { return 2; }
    constexpr void encode_data(writer& w) const noexcept { w.u16(value); }
    static result<mru> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() != 2) return ppp::detail::option_size_error(off, "LCP MRU");
        return mru{load_be16(d.data())};
    }
    friend constexpr bool operator==(const mru&, const mru&) = default;
};

/// Async-Control-Character-Map (2): length 6.
struct accm {
    static constexpr std::uint8_t type = option_type::accm;
    static constexpr const char* name = "accm";
    std::uint32_t map = 0xffffffff;

    constexpr std::size_t data_size() const noexcept { return 4; }
    constexpr void encode_data(writer& w) const noexcept { w.u32(map); }
    static result<accm> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() != 4) return ppp::detail::option_size_error(off, "LCP ACCM");
        return accm{load_be32(d.data())};
    }
    friend constexpr bool operator==(const accm&, const accm&) = default;
};

/// Authentication-Protocol (3): protocol (PAP 0xC023, CHAP 0xC223, EAP
/// 0xC227) and its data; for CHAP the data is one algorithm byte (5 = MD5,
/// 0x81 = MS-CHAPv2), held in `algorithm` (length 5).
struct auth_protocol {
    static constexpr std::uint8_t type = option_type::auth_protocol;
    static constexpr const char* name = "auth_protocol";
    ppp::protocol protocol = ppp::protocol::pap;
    std::uint8_t algorithm = 0;  ///< CHAP only
    bytes_view data;             ///< any further data (empty for PAP/CHAP)

    static constexpr auth_protocol pap() noexcept { return {ppp::protocol::pap, 0, {}}; }
    static constexpr auth_protocol chap_md5() noexcept {
        return {ppp::protocol::chap, chap_algorithm::md5, {}};
    }
    static constexpr auth_protocol ms_chap_v2() noexcept {
        return {ppp::protocol::chap, chap_algorithm::ms_chap_v2, {}};
    }
    static constexpr auth_protocol eap() noexcept { return {ppp::protocol::eap, 0, {}}; }

    constexpr bool is_chap() const noexcept { return protocol == ppp::protocol::chap; }
    constexpr std::size_t data_size() const noexcept {
        return 2 + (is_chap() ? 1 : 0) + data.size();
    }
    constexpr void encode_data(writer& w) const noexcept {
        w.u16(to_underlying(protocol));
        if (is_chap()) w.u8(algorithm);
        w.bytes(data);
    }
    static result<auth_protocol> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() < 2) return ppp::detail::option_size_error(off, "LCP Authentication-Protocol");
        auth_protocol a{ppp::protocol{load_be16(d.data())}, 0, d.subspan(2)};
        if (a.is_chap()) {
            if (a.data.size() != 1)
                return ppp::detail::option_size_error(off,
                                                      "LCP Authentication-Protocol CHAP algorithm");
            a.algorithm = std::to_integer<std::uint8_t>(a.data[0]);
            a.data = a.data.subspan(1);
        }
        return a;
    }
    friend constexpr bool operator==(const auth_protocol& x, const auth_protocol& y) noexcept {
        return x.protocol == y.protocol && x.algorithm == y.algorithm && equal(x.data, y.data);
    }
};

/// Quality-Protocol (4): protocol (LQR 0xC025) and its data (LQR: reporting period).
struct quality_protocol {
    static constexpr std::uint8_t type = option_type::quality_protocol;
    static constexpr const char* name = "quality_protocol";
    ppp::protocol protocol = ppp::protocol::lqr;
    bytes_view data;

    constexpr std::size_t data_size() const noexcept { return 2 + data.size(); }
    constexpr void encode_data(writer& w) const noexcept {
        w.u16(to_underlying(protocol));
        w.bytes(data);
    }
    static result<quality_protocol> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() < 2) return ppp::detail::option_size_error(off, "LCP Quality-Protocol");
        return quality_protocol{ppp::protocol{load_be16(d.data())}, d.subspan(2)};
    }
    friend constexpr bool operator==(const quality_protocol& x,
                                     const quality_protocol& y) noexcept {
        return x.protocol == y.protocol && equal(x.data, y.data);
    }
};

/// Magic-Number (5): length 6.
struct magic_number {
    static constexpr std::uint8_t type = option_type::magic_number;
    static constexpr const char* name = "magic_number";
    std::uint32_t value = 0;

    constexpr std::size_t data_size() const noexcept { return 4; }
    constexpr void encode_data(writer& w) const noexcept { w.u32(value); }
    static result<magic_number> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() != 4) return ppp::detail::option_size_error(off, "LCP Magic-Number");
        return magic_number{load_be32(d.data())};
    }
    friend constexpr bool operator==(const magic_number&, const magic_number&) = default;
};

namespace detail {
// Options that are just a flag (length 2).
template <std::uint8_t Type, class Self>
struct flag_option {
    static constexpr std::uint8_t type = Type;
    constexpr std::size_t data_size() const noexcept { return 0; }
    constexpr void encode_data(writer&) const noexcept {}
    static result<Self> decode(bytes_view d, std::size_t off) noexcept {
        if (!d.empty()) return ppp::detail::option_size_error(off, Self::name);
        return Self{};
    }
    friend constexpr bool operator==(const Self&, const Self&) noexcept { return true; }
};
}  // namespace detail

/// Protocol-Field-Compression (7): length 2.
struct pfc : detail::flag_option<option_type::pfc, pfc> {
    static constexpr const char* name = "pfc";
};
/// Address-and-Control-Field-Compression (8): length 2.
struct acfc : detail::flag_option<option_type::acfc, acfc> {
    static constexpr const char* name = "acfc";
};
/// Multilink Short-Sequence-Number-Header-Format (18, RFC 1990): length 2.
struct short_sequence : detail::flag_option<option_type::short_sequence, short_sequence> {
    static constexpr const char* name = "short_sequence";
};

/// Multilink Max-Receive-Reconstructed-Unit (17, RFC 1990): length 4.
struct mrru {
    static constexpr std::uint8_t type = option_type::mrru;
    static constexpr const char* name = "mrru";
    std::uint16_t value = 1500;

    constexpr std::size_t data_size() const noexcept { return 2; }
    constexpr void encode_data(writer& w) const noexcept { w.u16(value); }
    static result<mrru> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() != 2) return ppp::detail::option_size_error(off, "LCP MRRU");
        return mrru{load_be16(d.data())};
    }
    friend constexpr bool operator==(const mrru&, const mrru&) = default;
};

/// Endpoint-Discriminator (19, RFC 1990): class byte + address (0-20 bytes).
struct endpoint_discriminator {
    static constexpr std::uint8_t type = option_type::endpoint_discriminator;
    static constexpr const char* name = "endpoint_discriminator";
    /// RFC 1990 section 5.1.3 classes.
    enum class class_type : std::uint8_t {
        null = 0,
        locally_assigned = 1,
        ip_address = 2,
        mac_address = 3,
        magic_number_block = 4,
        directory_number = 5,
    };
    class_type cls = class_type::null;
    bytes_view address;

    constexpr std::size_t data_size() const noexcept { return 1 + address.size(); }
    constexpr void encode_data(writer& w) const noexcept {
        w.u8(static_cast<std::uint8_t>(cls));
        w.bytes(address);
    }
    static result<endpoint_discriminator> decode(bytes_view d, std::size_t off) noexcept {
        if (d.empty()) return ppp::detail::option_size_error(off, "LCP Endpoint-Discriminator");
        return endpoint_discriminator{class_type{std::to_integer<std::uint8_t>(d[0])},
                                      d.subspan(1)};
    }
    friend constexpr bool operator==(const endpoint_discriminator& x,
                                     const endpoint_discriminator& y) noexcept {
        return x.cls == y.cls && equal(x.address, y.address);
    }
};

/// "null", "locally_assigned", "ip_address", "mac_address", "magic_number_block",
/// "directory_number" or nullptr.
constexpr const char* class_name(endpoint_discriminator::class_type c) noexcept {
    using C = endpoint_discriminator::class_type;
    switch (c) {
        case C::null:
            return "null";
        case C::locally_assigned:
            return "locally_assigned";
        case C::ip_address:
            return "ip_address";
        case C::mac_address:
            return "mac_address";
        case C::magic_number_block:
            return "magic_number_block";
        case C::directory_number:
            return "directory_number";
    }
    return nullptr;
}

using catalogue =
    ppp::detail::option_catalogue<mru, accm, auth_protocol, quality_protocol, magic_number, pfc,
                                  acfc, mrru, short_sequence, endpoint_discriminator>;
/// Any LCP option, typed (unknown types as ppp::unknown_option).
using option = catalogue::variant;

/// Type a raw option; option_bad_length (at its Length byte) when the size
/// does not fit the type.
inline result<option> parse_option(const option_view& o) noexcept {
    return catalogue::parse(o);
}

/// Decode an LCP packet (see ppp::decode_control for what is checked).
inline result<packet_view> decode(bytes_view data, std::size_t base = 0) noexcept {
    return decode_control(ppp::protocol::lcp, data, base);
}

/// Whether LCP defines `c` (1-11, plus RFC 1570's 12-13).
constexpr bool is_code_defined(code c) noexcept {
    return ppp::is_code_defined(ppp::protocol::lcp, c);
}

}  // namespace l2sec::ppp::lcp
