// IPCP (RFC 1332) and its DNS/NBNS extensions (RFC 1877): packets (codes
// 1-7, the generic ppp::packet_view) and the typed option catalogue:
// IP-Addresses(1, deprecated), IP-Compression-Protocol(2, Van Jacobson
// max-slot-id/comp-slot-id), IP-Address(3), Primary/Secondary DNS (129/131)
// and NBNS (130/132). Other types decode as ppp::unknown_option.
//
//   auto p = ipcp::decode(frame.information, off);
//   for (auto raw : p->options())
//       if (auto o = ipcp::parse_option(raw); o && std::holds_alternative<ipcp::ip_address>(*o))
//       ...
//
//   ppp::packet_writer pw(buf, ppp::code::configure_nak, id);
//   pw.option(ipcp::ip_address{0xC0A80002}).option(ipcp::primary_dns{0x08080808});
#pragma once

#include <l2sec/ppp/control.hpp>
#include <l2sec/ppp/detail/option_codec.hpp>

#include <cstdint>
#include <variant>

namespace l2sec::ppp::ipcp {

/// IPCP option type numbers.
namespace option_type {
inline constexpr std::uint8_t ip_addresses = 1;  ///< deprecated (RFC 1332)
inline constexpr std::uint8_t ip_compression_protocol = 2;
inline constexpr std::uint8_t ip_address = 3;
inline constexpr std::uint8_t mobile_ipv4 = 4;  ///< RFC 2290
inline constexpr std::uint8_t primary_dns = 129;
inline constexpr std::uint8_t primary_nbns = 130;
inline constexpr std::uint8_t secondary_dns = 131;
inline constexpr std::uint8_t secondary_nbns = 132;
}  // namespace option_type

/// "ip_addresses", "ip_compression_protocol", "ip_address", "primary_dns", ... or nullptr.
constexpr const char* option_name(std::uint8_t type) noexcept {
    switch (type) {
        case option_type::ip_addresses:
            return "ip_addresses";
        case option_type::ip_compression_protocol:
            return "ip_compression_protocol";
        case option_type::ip_address:
            return "ip_address";
        case option_type::mobile_ipv4:
            return "mobile_ipv4";
        case option_type::primary_dns:
            return "primary_dns";
        case option_type::primary_nbns:
            return "primary_nbns";
        case option_type::secondary_dns:
            return "secondary_dns";
        case option_type::secondary_nbns:
            return "secondary_nbns";
        default:
            return nullptr;
    }
}

/// IP-Addresses (1, deprecated): source and destination addresses, host order. Length 10.
struct ip_addresses {
    static constexpr std::uint8_t type = option_type::ip_addresses;
    static constexpr const char* name = "ip_addresses";
    std::uint32_t source = 0;
    std::uint32_t destination = 0;

    constexpr std::size_t data_size() const noexcept { return 8; }
    constexpr void encode_data(writer& w) const noexcept {
        w.u32(source);
        w.u32(destination);
    }
    static result<ip_addresses> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() != 8) return ppp::detail::option_size_error(off, "IPCP IP-Addresses");
        return ip_addresses{load_be32(d.data()), load_be32(d.data() + 4)};
    }
    friend constexpr bool operator==(const ip_addresses&, const ip_addresses&) = default;
};

/// IP-Compression-Protocol (2): the protocol (Van Jacobson 0x002D) and its
/// data. For VJ the data is Max-Slot-Id and Comp-Slot-Id (length 6), held in
/// the fields of the same name; other protocols keep their data in `data`.
struct ip_compression_protocol {
    static constexpr std::uint8_t type = option_type::ip_compression_protocol;
    static constexpr const char* name = "ip_compression_protocol";
    ppp::protocol protocol = ppp::protocol::vj_compressed;
    std::uint8_t max_slot_id = 15;  ///< VJ only: highest slot id (slots - 1)
    std::uint8_t comp_slot_id = 1;  ///< VJ only: 1 = the slot id may be compressed
    bytes_view data;                ///< other protocols' data (empty for VJ)

    constexpr bool is_vj() const noexcept { return protocol == ppp::protocol::vj_compressed; }
    constexpr std::size_t data_size() const noexcept { return 2 + (is_vj() ? 2 : 0) + data.size(); }
    constexpr void encode_data(writer& w) const noexcept {
        w.u16(to_underlying(protocol));
        if (is_vj()) {
            w.u8(max_slot_id);
            w.u8(comp_slot_id);
        }
        w.bytes(data);
    }
    static result<ip_compression_protocol> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() < 2)
            return ppp::detail::option_size_error(off, "IPCP IP-Compression-Protocol");
        ip_compression_protocol c{ppp::protocol{load_be16(d.data())}, 0, 0, d.subspan(2)};
        if (c.is_vj()) {
            if (c.data.size() != 2)
                return ppp::detail::option_size_error(off, "IPCP IP-Compression-Protocol VJ");
            c.max_slot_id = std::to_integer<std::uint8_t>(c.data[0]);
            c.comp_slot_id = std::to_integer<std::uint8_t>(c.data[1]);
            c.data = c.data.subspan(2);
        }
        return c;
    }
    friend constexpr bool operator==(const ip_compression_protocol& x,
                                     const ip_compression_protocol& y) noexcept {
        return x.protocol == y.protocol && x.max_slot_id == y.max_slot_id &&
               x.comp_slot_id == y.comp_slot_id && equal(x.data, y.data);
    }
};

/// IP-Address (3, RFC 1332): the sender's address (0 = please assign one). Length 6.
/// `address` is in host order (0xC0A80001 = 192.168.0.1).
struct ip_address {
    static constexpr std::uint8_t type = option_type::ip_address;
    static constexpr const char* name = "ip_address";
    std::uint32_t address = 0;

    constexpr std::size_t data_size() const noexcept { return 4; }
    constexpr void encode_data(writer& w) const noexcept { w.u32(address); }
    static result<ip_address> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() != 4) return ppp::detail::option_size_error(off, "IPCP IP-Address");
        return ip_address{load_be32(d.data())};
    }
    friend constexpr bool operator==(const ip_address&, const ip_address&) = default;
};

/// Primary-DNS-Server-Address (129, RFC 1877). Length 6.
/// `address` is in host order (0xC0A80001 = 192.168.0.1).
struct primary_dns {
    static constexpr std::uint8_t type = option_type::primary_dns;
    static constexpr const char* name = "primary_dns";
    std::uint32_t address = 0;

    constexpr std::size_t data_size() const noexcept { return 4; }
    constexpr void encode_data(writer& w) const noexcept { w.u32(address); }
    static result<primary_dns> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() != 4) return ppp::detail::option_size_error(off, "IPCP Primary-DNS");
        return primary_dns{load_be32(d.data())};
    }
    friend constexpr bool operator==(const primary_dns&, const primary_dns&) = default;
};

/// Primary-NBNS-Server-Address (130, RFC 1877). Length 6.
/// `address` is in host order (0xC0A80001 = 192.168.0.1).
struct primary_nbns {
    static constexpr std::uint8_t type = option_type::primary_nbns;
    static constexpr const char* name = "primary_nbns";
    std::uint32_t address = 0;

    constexpr std::size_t data_size() const noexcept { return 4; }
    constexpr void encode_data(writer& w) const noexcept { w.u32(address); }
    static result<primary_nbns> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() != 4) return ppp::detail::option_size_error(off, "IPCP Primary-NBNS");
        return primary_nbns{load_be32(d.data())};
    }
    friend constexpr bool operator==(const primary_nbns&, const primary_nbns&) = default;
};

/// Secondary-DNS-Server-Address (131, RFC 1877). Length 6.
/// `address` is in host order (0xC0A80001 = 192.168.0.1).
struct secondary_dns {
    static constexpr std::uint8_t type = option_type::secondary_dns;
    static constexpr const char* name = "secondary_dns";
    std::uint32_t address = 0;

    constexpr std::size_t data_size() const noexcept { return 4; }
    constexpr void encode_data(writer& w) const noexcept { w.u32(address); }
    static result<secondary_dns> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() != 4) return ppp::detail::option_size_error(off, "IPCP Secondary-DNS");
        return secondary_dns{load_be32(d.data())};
    }
    friend constexpr bool operator==(const secondary_dns&, const secondary_dns&) = default;
};

/// Secondary-NBNS-Server-Address (132, RFC 1877). Length 6.
/// `address` is in host order (0xC0A80001 = 192.168.0.1).
struct secondary_nbns {
    static constexpr std::uint8_t type = option_type::secondary_nbns;
    static constexpr const char* name = "secondary_nbns";
    std::uint32_t address = 0;

    constexpr std::size_t data_size() const noexcept { return 4; }
    constexpr void encode_data(writer& w) const noexcept { w.u32(address); }
    static result<secondary_nbns> decode(bytes_view d, std::size_t off) noexcept {
        if (d.size() != 4) return ppp::detail::option_size_error(off, "IPCP Secondary-NBNS");
        return secondary_nbns{load_be32(d.data())};
    }
    friend constexpr bool operator==(const secondary_nbns&, const secondary_nbns&) = default;
};

using catalogue =
    ppp::detail::option_catalogue<ip_addresses, ip_compression_protocol, ip_address, primary_dns,
                                  primary_nbns, secondary_dns, secondary_nbns>;
/// Any IPCP option, typed (unknown types as ppp::unknown_option).
using option = catalogue::variant;

/// Type a raw option; option_bad_length (at its Length byte) on a bad size.
inline result<option> parse_option(const option_view& o) noexcept {
    return catalogue::parse(o);
}

/// Decode an IPCP packet (codes 1-7; see ppp::decode_control).
inline result<packet_view> decode(bytes_view data, std::size_t base = 0) noexcept {
    return decode_control(ppp::protocol::ipcp, data, base);
}

}  // namespace l2sec::ppp::ipcp
