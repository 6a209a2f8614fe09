// IPV6CP (RFC 5072): packets (codes 1-7, the generic ppp::packet_view) and
// the typed options Interface-Identifier(1, 8 bytes) and
// IPv6-Compression-Protocol(2). Other types decode as ppp::unknown_option.
#pragma once

#include <l2sec/ppp/control.hpp>
#include <l2sec/ppp/detail/option_codec.hpp>

#include <array>
#include <cstdint>
#include <variant>

namespace l2sec::ppp::ipv6cp {

/// IPV6CP option type numbers.
namespace option_type {
inline constexpr std::uint8_t interface_identifier = 1;
inline constexpr std::uint8_t ipv6_compression_protocol = 2;
}  // namespace option_type

/// "interface_identifier", "ipv6_compression_protocol" or nullptr.
constexpr const char* option_name(std::uint8_t type) noexcept {
    switch (type) {
        case option_type::interface_identifier:
            return "interface_identifier";
        case option_type::ipv6_compression_protocol:
            return "ipv6_compression_protocol";
        default:
            return nullptr;
    }
}

/// Interface-Identifier (1): the 64-bit IID (big-endian as a number). Length 10.
struct interface_identifier {
    static constexpr std::uint8_t type = option_type::interface_identifier;
    static constexpr const char* name = "interface_identifier";
    std::uint64_t value = 0;

    constexpr std::size_t data_size() const noexcept { return 8; }
    constexpr void encode_data(writer& w) const noexcept { w.u64(value); }
    static result<interface_identifier> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() != 8)
            return ppp::detail::option_size_error(off, "IPV6CP Interface-Identifier");
        return interface_identifier{load_be64(d.data())};
    }
    friend constexpr bool operator==(const interface_identifier&,
                                     const interface_identifier&) = default;
};

/// IPv6-Compression-Protocol (2): protocol number (e.g. 0x004F IPHC, 0x0003
/// ROHC) and its data. Length >= 4.
struct ipv6_compression_protocol {
    static constexpr std::uint8_t type = option_type::ipv6_compression_protocol;
    static constexpr const char* name = "ipv6_compression_protocol";
    ppp::protocol protocol{};
    bytes_view data;

    constexpr std::size_t data_size() const noexcept { return 2 + data.size(); }
    constexpr void encode_data(writer& w) const noexcept {
        w.u16(to_underlying(protocol));
        w.bytes(data);
    }
    static result<ipv6_compression_protocol> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() < 2)
            return ppp::detail::option_size_error(off, "IPV6CP IPv6-Compression-Protocol");
        return ipv6_compression_protocol{ppp::protocol{load_be16(d.data())}, d.subspan(2)};
    }
    friend constexpr bool operator==(const ipv6_compression_protocol& x,
                                     const ipv6_compression_protocol& y) noexcept {
        return x.protocol == y.protocol && equal(x.data, y.data);
    }
};

using catalogue = ppp::detail::option_catalogue<interface_identifier, ipv6_compression_protocol>;
/// Any IPV6CP option, typed (unknown types as ppp::unknown_option).
using option = catalogue::variant;

/// Type a raw option; option_bad_length (at its Length byte) on a bad size.
inline result<option> parse_option(const option_view& o) noexcept {
    return catalogue::parse(o);
}

/// Decode an IPV6CP packet (codes 1-7; see ppp::decode_control).
inline result<packet_view> decode(bytes_view data, std::size_t base = 0) noexcept {
    return decode_control(ppp::protocol::ipv6cp, data, base);
}

}  // namespace l2sec::ppp::ipv6cp
