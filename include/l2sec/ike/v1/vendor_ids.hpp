// Well-known IKEv1 Vendor IDs (RFC 3947 §4 and de-facto ones): what a peer
// announces in its first messages. Matching is by prefix, since some carry
// trailing version/flag bytes (MS NT5 ISAKMPOAKLEY + version, fragmentation + flags).
#pragma once

#include <l2sec/core/bytes.hpp>

#include <array>
#include <cstdint>

namespace l2sec::ike::v1 {

enum class vendor : std::uint8_t {
    unknown = 0,
    nat_t_rfc3947,        ///< MD5("RFC 3947")
    nat_t_draft_02,       ///< draft-ietf-ipsec-nat-t-ike-02
    nat_t_draft_02_n,     ///< draft-ietf-ipsec-nat-t-ike-02\n
    nat_t_draft_03,       ///< draft-ietf-ipsec-nat-t-ike-03
    dpd,                  ///< RFC 3706 Dead Peer Detection
    fragmentation,        ///< IKE fragmentation (Cisco/Microsoft)
    ms_nt5_isakmpoakley,  ///< Windows (+ 4-byte version)
    xauth,                ///< draft-ietf-ipsra-isakmp-xauth-06
};

struct vendor_id_entry {
    vendor id;
    const char* name;
    std::array<std::uint8_t, 16> prefix;
    std::uint8_t prefix_size;
};

inline constexpr std::array<vendor_id_entry, 8> known_vendor_ids{{
    {vendor::nat_t_rfc3947,
     "RFC 3947",
     {0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45,
      0x2f},
     16},
    {vendor::nat_t_draft_02,
     "draft-ietf-ipsec-nat-t-ike-02",
     {0xcd, 0x60, 0x46, 0x43, 0x35, 0xdf, 0x21, 0xf8, 0x7c, 0xfd, 0xb2, 0xfc, 0x68, 0xb6, 0xa4,
      0x48},
     16},
    {vendor::nat_t_draft_02_n,
     "draft-ietf-ipsec-nat-t-ike-02\\n",
     {0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e, 0x08, 0x63, 0x81, 0xb5, 0xec, 0x42, 0x7b,
      0x1f},
     16},
    {vendor::nat_t_draft_03,
     "draft-ietf-ipsec-nat-t-ike-03",
     {0x7d, 0x94, 0x19, 0xa6, 0x53, 0x10, 0xca, 0x6f, 0x2c, 0x17, 0x9d, 0x92, 0x15, 0x52, 0x9d,
      0x56},
     16},
    {vendor::dpd,
     "DPD",
     {0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01,
      0x00},
     16},
    {vendor::fragmentation,
     "FRAGMENTATION",
     {0x40, 0x48, 0xb7, 0xd5, 0x6e, 0xbc, 0xe8, 0x85, 0x25, 0xe7, 0xde, 0x7f, 0x00, 0xd6, 0xc2,
      0xd3},
     16},
    {vendor::ms_nt5_isakmpoakley,
     "MS NT5 ISAKMPOAKLEY",
     {0x1e, 0x2b, 0x51, 0x69, 0x05, 0x99, 0x1c, 0x7d, 0x7c, 0x96, 0xfc, 0xbf, 0xb5, 0x87, 0xe4,
      0x61},
     16},
    {vendor::xauth,
     "XAUTH",
     {0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12, 0, 0, 0, 0, 0, 0, 0, 0},
     8},
}};

/// The well-known vendor a Vendor ID payload announces, or nullptr.
constexpr const vendor_id_entry* identify_vendor(bytes_view data) noexcept {
    for (const auto& e : known_vendor_ids) {
        if (data.size() < e.prefix_size) continue;
        bool match = true;
        for (std::size_t i = 0; i < e.prefix_size; ++i)
            if (std::to_integer<std::uint8_t>(data[i]) != e.prefix[i]) {
                match = false;
                break;
            }
        if (match) return &e;
    }
    return nullptr;
}

/// The bytes of a known vendor ID (to put in a Vendor ID payload).
constexpr bytes_view vendor_id_bytes(vendor v) noexcept {
    for (const auto& e : known_vendor_ids)
        if (e.id == v)
            return bytes_view(reinterpret_cast<const std::byte*>(e.prefix.data()), e.prefix_size);
    return {};
}

}  // namespace l2sec::ike::v1
