// Key logging for Wireshark/tshark: an IKEv2 SA's keys as a line of its
// "ikev2_decryption_table" UAT (tshark -o "uat:ikev2_decryption_table:LINE",
// or the file copied into a profile under that name), so IKE_AUTH,
// CREATE_CHILD_SA and INFORMATIONAL decrypt. Control plane only: one line
// per IKE SA, and the line allocates.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/hex.hpp>
#include <l2sec/ike/registry/transforms.hpp>

#include <cstdint>
#include <string>

namespace l2sec::ike::v2 {

/// An established IKE SA's SPIs and SK_e/SK_a keys (engine::key_material).
/// The views point into the engine's slot: valid until the next call into
/// the engine; copy what you log and keep nothing.
struct ike_key_material {
    std::uint64_t spi_i = 0, spi_r = 0;
    bytes_view sk_ei, sk_er, sk_ai, sk_ar;  ///< AEADs: SK_e with its salt, no SK_a
    encr_id encr = encr_id::aes_gcm_16;
    std::uint16_t key_bits = 0;
    integ_id integ = integ_id::none;
};

/// Wireshark's names (epan/dissectors/packet-isakmp.c), or null for a
/// transform its table does not have.
constexpr const char* wireshark_encryption(encr_id e, std::uint16_t bits) noexcept {
    switch (e) {
        case encr_id::des3:
            return "3DES [RFC2451]";
        case encr_id::aes_cbc:
            return bits == 128   ? "AES-CBC-128 [RFC3602]"
                   : bits == 192 ? "AES-CBC-192 [RFC3602]"
                   : bits == 256 ? "AES-CBC-256 [RFC3602]"
                                 : nullptr;
        case encr_id::aes_gcm_16:
            return bits == 128   ? "AES-GCM-128 with 16 octet ICV [RFC5282]"
                   : bits == 192 ? "AES-GCM-192 with 16 octet ICV [RFC5282]"
                   : bits == 256 ? "AES-GCM-256 with 16 octet ICV [RFC5282]"
                                 : nullptr;
        default:
            return nullptr;
    }
}
constexpr const char* wireshark_integrity(integ_id i) noexcept {
    switch (i) {
        case integ_id::none:
            return "NONE [RFC4306]";
        case integ_id::hmac_md5_96:
            return "HMAC_MD5_96 [RFC2403]";
        case integ_id::hmac_sha1_96:
            return "HMAC_SHA1_96 [RFC2404]";
        case integ_id::hmac_sha2_256_128:
            return "HMAC_SHA2_256_128 [RFC4868]";
        case integ_id::hmac_sha2_384_192:
            return "HMAC_SHA2_384_192 [RFC4868]";
        case integ_id::hmac_sha2_512_256:
            return "HMAC_SHA2_512_256 [RFC4868]";
        default:
            return nullptr;
    }
}

/// The UAT line for `k` (no newline): SPIi and SPIr as 16 hex digits,
/// SK_ei, SK_er in hex, the encryption name quoted, SK_ai, SK_ar, the
/// integrity name quoted. Empty when Wireshark has no name for the suite.
inline std::string wireshark_ikev2_line(const ike_key_material& k) {
    const char* e = wireshark_encryption(k.encr, k.key_bits);
    const char* i = wireshark_integrity(k.integ);
    if (!e || !i) return {};
    std::string s;
    append_hex(s, k.spi_i);
    s += ',';
    append_hex(s, k.spi_r);
    s += ',';
    append_hex(s, k.sk_ei);
    s += ',';
    append_hex(s, k.sk_er);
    s += ",\"";
    s += e;
    s += "\",";
    append_hex(s, k.sk_ai);
    s += ',';
    append_hex(s, k.sk_ar);
    s += ",\"";
    s += i;
    s += '"';
    return s;
}

}  // namespace l2sec::ike::v2
