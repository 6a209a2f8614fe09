// MTU/MRU arithmetic for PPP over L2TP over IPsec (transport mode, the
// L2TP/IPsec of RFC 3193, or tunnel mode): what a PPP packet really costs on the wire, and
// the largest MRU to offer so nothing fragments. The classic symptom of
// getting this wrong is "PPP MTU must be 1200-1450 on L2TP/IPsec".
//
//   ppp::link_params p;                        // 1500-byte link, NAT-T, AES-CBC + HMAC-SHA1-96
//   p.nat_traversal = true;
//   std::uint16_t mru = ppp::max_mru(p);      // 1404 -> offer lcp::mru{mru}
//
// Per packet, from the outside in:
//   outer IPv4 20 (IPv6 40) [+ UDP-encapsulation 8 for NAT-T, RFC 3948]
//   + ESP header 8 (SPI + sequence) + IV
//   + ESP payload = UDP 8 + L2TP header + PPP header + PPP information,
//     padded with the 2-byte trailer (pad length, next header) to the
//     cipher's block size (at least 4, RFC 4303 2.4)
//   + ICV.
#pragma once

#include <cstddef>
#include <cstdint>

namespace l2sec::ppp {

/// ESP cipher/integrity parameters that change the per-packet size.
struct esp_params {
    std::size_t iv_size = 16;     ///< bytes of IV carried in each packet
    std::size_t block_size = 16;  ///< padding alignment (>= 4)
    std::size_t icv_size = 12;    ///< integrity check value

    static constexpr esp_params aes_cbc_hmac_sha1_96() noexcept { return {16, 16, 12}; }
    static constexpr esp_params aes_cbc_hmac_sha256_128() noexcept { return {16, 16, 16}; }
    static constexpr esp_params aes_gcm_16() noexcept { return {8, 4, 16}; }
    static constexpr esp_params des3_cbc_hmac_sha1_96() noexcept { return {8, 8, 12}; }
};

/// Everything between the link and the PPP information field.
struct link_params {
    std::size_t link_mtu = 1500;
    bool outer_ipv6 = false;     ///< outer IP header 40 instead of 20
    bool nat_traversal = false;  ///< ESP in UDP port 4500 (+8)
    esp_params esp = esp_params::aes_cbc_hmac_sha1_96();
    bool tunnel_mode =
        false;  ///< ESP tunnel mode (e.g. strongSwan's libipsec): inner IP header too
    bool l2tp_length = false;              ///< L bit set on data messages (+2)
    bool l2tp_sequence = false;            ///< S bit: Ns/Nr on data messages (+4)
    std::size_t l2tp_offset = 0;           ///< O bit: Offset Size field (+2) plus this padding
    bool l2tp_offset_field = false;        ///< O bit set (the 2-byte Offset Size is present)
    bool ppp_address_control = true;       ///< FF 03 present (+2)
    bool ppp_protocol_compressed = false;  ///< 1-byte protocol field instead of 2
};

/// Bytes of L2TP data-message header (RFC 2661 3.1): flags/version 2,
/// tunnel 2, session 2, + Length 2, + Ns/Nr 4, + Offset Size 2 + padding.
constexpr std::size_t l2tp_header_size(const link_params& p) noexcept {
    return 6 + (p.l2tp_length ? 2 : 0) + (p.l2tp_sequence ? 4 : 0) +
           (p.l2tp_offset_field ? 2 + p.l2tp_offset : 0);
}
/// PPP address/control + protocol field.
constexpr std::size_t ppp_header_size(const link_params& p) noexcept {
    return (p.ppp_address_control ? 2 : 0) + (p.ppp_protocol_compressed ? 1 : 2);
}
/// Size of the ESP payload before padding: [inner IP in tunnel mode] + UDP +
/// L2TP + PPP + information.
constexpr std::size_t inner_size(std::size_t information, const link_params& p) noexcept {
    return (p.tunnel_mode ? (p.outer_ipv6 ? 40 : 20) : 0) + 8 + l2tp_header_size(p) +
           ppp_header_size(p) + information;
}
/// Fixed per-packet bytes outside the padded ESP payload.
constexpr std::size_t outer_fixed_size(const link_params& p) noexcept {
    return (p.outer_ipv6 ? 40 : 20) + (p.nat_traversal ? 8 : 0) + 8 + p.esp.iv_size +
           p.esp.icv_size;
}
constexpr std::size_t esp_alignment(const esp_params& e) noexcept {
    return e.block_size < 4 ? 4 : e.block_size;
}

/// The outer IP packet size for a PPP information field of `information` bytes.
constexpr std::size_t wire_size(std::size_t information, const link_params& p) noexcept {
    const std::size_t a = esp_alignment(p.esp);
    const std::size_t padded = (inner_size(information, p) + 2 + a - 1) / a * a;
    return outer_fixed_size(p) + padded;
}

/// Total overhead for a PPP information field of `information` bytes
/// (depends on it through the padding).
constexpr std::size_t overhead(std::size_t information, const link_params& p) noexcept {
    return wire_size(information, p) - information;
}

/// The largest PPP information field (the MRU to offer in LCP) whose packet
/// still fits link_mtu; 0 when not even an empty one fits.
constexpr std::uint16_t max_mru(const link_params& p) noexcept {
    const std::size_t fixed = outer_fixed_size(p);
    if (p.link_mtu <= fixed) return 0;
    const std::size_t a = esp_alignment(p.esp);
    const std::size_t padded = (p.link_mtu - fixed) / a * a;
    const std::size_t hdrs = inner_size(0, p) + 2;
    if (padded < hdrs) return 0;
    const std::size_t mru = padded - hdrs;
    return static_cast<std::uint16_t>(mru > 0xffff ? 0xffff : mru);
}

}  // namespace l2sec::ppp
