// Errors of the pcap reader/writer and of the IPv4/IPv6/UDP decoders.
#pragma once

#include <l2sec/core/error.hpp>

#include <system_error>
#include <type_traits>

namespace l2sec::pcap {

enum class errc : int {
    // file layer ("pcap")
    bad_magic = 1,            ///< the file does not start with a classic pcap magic number
    truncated_file_header,    ///< fewer than 24 bytes for the file header
    unsupported_version,      ///< major version is not 2
    truncated_record_header,  ///< fewer than 16 bytes left for a record header
    truncated_record,         ///< incl_len runs past the end of the file
    record_too_large,         ///< incl_len above the snap length (and above 256 KiB)
    unsupported_linktype,     ///< a link type this decoder does not know
    truncated_link_header,    ///< the frame is shorter than its link-layer header
    not_ip,                   ///< the link layer carries something other than IPv4/IPv6
    // network layer ("ip")
    truncated_ip_header,   ///< shorter than the fixed IPv4 (20) / IPv6 (40) header
    bad_ip_version,        ///< the version nibble disagrees with the link layer
    bad_ihl,               ///< IPv4 header length below 5 words or beyond the data
    bad_total_length,      ///< IP total/payload length below the header or beyond the data
    fragmented,            ///< a fragment (MF set or offset non-zero): payload not decodable
    bad_extension_header,  ///< an IPv6 extension header runs past the data
    jumbogram,             ///< IPv6 payload length 0 (jumbo payloads are not supported)
    // transport layer ("udp")
    not_udp,               ///< the upper-layer protocol is not UDP
    truncated_udp_header,  ///< fewer than 8 bytes for the UDP header
    bad_udp_length,        ///< UDP length below 8 or beyond the IP payload
    // pcapng file layer ("pcap"), appended to keep the values above stable
    bad_block_length,     ///< pcapng block length below 12, not a multiple of 4, or
                          ///< disagreeing with its trailing copy
    truncated_block,      ///< a pcapng block (or its body) runs past the end of the file
    unknown_interface,    ///< a packet block names an interface no IDB described
    too_many_interfaces,  ///< more interfaces than pcapng_view::max_interfaces
};

constexpr const char* to_string(errc e) noexcept {
    switch (e) {
        case errc::bad_magic:
            return "not a classic pcap file (bad magic)";
        case errc::truncated_file_header:
            return "pcap file header truncated";
        case errc::unsupported_version:
            return "unsupported pcap version";
        case errc::truncated_record_header:
            return "pcap record header truncated";
        case errc::truncated_record:
            return "pcap record data truncated";
        case errc::record_too_large:
            return "pcap record larger than the snap length";
        case errc::unsupported_linktype:
            return "unsupported link type";
        case errc::truncated_link_header:
            return "link-layer header truncated";
        case errc::not_ip:
            return "link layer does not carry IPv4 or IPv6";
        case errc::truncated_ip_header:
            return "IP header truncated";
        case errc::bad_ip_version:
            return "unexpected IP version";
        case errc::bad_ihl:
            return "bad IPv4 header length";
        case errc::bad_total_length:
            return "IP length field does not match the data";
        case errc::fragmented:
            return "IP fragment (not reassembled)";
        case errc::bad_extension_header:
            return "IPv6 extension header truncated";
        case errc::jumbogram:
            return "IPv6 jumbogram not supported";
        case errc::not_udp:
            return "not UDP";
        case errc::truncated_udp_header:
            return "UDP header truncated";
        case errc::bad_udp_length:
            return "UDP length field does not match the data";
        case errc::bad_block_length:
            return "bad pcapng block length";
        case errc::truncated_block:
            return "pcapng block truncated";
        case errc::unknown_interface:
            return "pcapng packet for an undescribed interface";
        case errc::too_many_interfaces:
            return "too many pcapng interfaces";
    }
    return "unknown error";
}
constexpr const char* category_name(errc) noexcept {
    return "l2sec.pcap";
}

/// Which layer an error belongs to: "pcap" (file and link layer), "ip" or "udp".
constexpr const char* layer_of(errc e) noexcept {
    if (e >= errc::bad_block_length) return "pcap";
    if (e >= errc::not_udp) return "udp";
    if (e >= errc::truncated_ip_header) return "ip";
    return "pcap";
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), l2sec::detail::category_of<errc>()};
}

}  // namespace l2sec::pcap

template <>
struct std::is_error_code_enum<l2sec::pcap::errc> : std::true_type {};
