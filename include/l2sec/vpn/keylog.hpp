// Key logging for Wireshark/tshark: each ESP SA the server or client
// installs, written as a line of Wireshark's "esp_sa" UAT file, so a capture
// of the tunnel decrypts down to the PPP inside (tshark -o
// "uat:esp_sa:<line>", or the file copied into a profile as `esp_sa`), and
// each IKEv1 SA as a line of its "ikev1_decryption_table" UAT, so Main Mode
// 5/6 and Quick Mode decrypt too. Secrets leave the process only through a
// key_log the user plugs in: the default, no_key_log, writes nothing. Both
// are called once per SA, never per packet.
#pragma once

#include <l2sec/core/hex.hpp>
#include <l2sec/esp/algorithms.hpp>
#include <l2sec/esp/sa.hpp>
#include <l2sec/ike/v1/child_sa.hpp>
#include <l2sec/ike/v1/keys.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <concepts>
#include <cstdio>
#include <string>

namespace l2sec::vpn {

/// One ESP SA: traffic from src to dst under spi.
struct esp_key_record {
    transport::endpoint src, dst;
    const esp::sa_config* sa = nullptr;
};

/// One IKEv1 SA, as it comes up. `keys` views the engine's slot: valid only
/// during the call (copy what you log, keep nothing).
struct ike_key_record {
    transport::endpoint peer;
    ike::v1::phase1_key_material keys;
};

/// esp_sa(r) for each ESP SA; optionally ike_sa(r) for each IKE SA (a key
/// log without it, written before IKE lines existed, still plugs in and
/// simply logs no IKE keys).
template <class K>
concept key_log = requires(K& k, const esp_key_record& r) {
    { k.esp_sa(r) } -> std::same_as<void>;
};
template <class K>
concept ike_key_log = key_log<K> && requires(K& k, const ike_key_record& r) {
    { k.ike_sa(r) } -> std::same_as<void>;
};

struct no_key_log {
    void esp_sa(const esp_key_record&) noexcept {}
    void ike_sa(const ike_key_record&) noexcept {}
};
static_assert(ike_key_log<no_key_log>);

namespace detail {
/// Hand an IKE SA's keys to `k` if it logs them; otherwise nothing.
template <class K, class Engine>
void log_ike_sa(K& k, Engine& e, ike::v1::sa_handle h, const transport::endpoint& peer) noexcept {
    if constexpr (ike_key_log<K>) {
        if (auto m = e.key_material(h)) k.ike_sa(ike_key_record{peer, *m});
    }
}
}  // namespace detail

/// Wireshark's names for the ESP algorithms (epan/dissectors/packet-ipsec.c).
constexpr const char* wireshark_encryption(const esp::suite& s) noexcept {
    switch (s.enc) {
        case esp::encryption::null:
            return "NULL";
        case esp::encryption::aes_cbc:
            return "AES-CBC [RFC3602]";
        case esp::encryption::tdes_cbc:
            return "TripleDES-CBC [RFC2451]";
        case esp::encryption::des_cbc:
            return "DES-CBC [RFC2405]";
        case esp::encryption::aes_gcm_16:
            return "AES-GCM with 16 octet ICV [RFC4106]";
        case esp::encryption::chacha20_poly1305:
            return "ChaCha20 with Poly1305 [RFC7634]";
    }
    return "NULL";
}
constexpr const char* wireshark_integrity(const esp::suite& s) noexcept {
    switch (s.integ) {
        case esp::integrity::none:
            return "NULL";
        case esp::integrity::hmac_md5_96:
            return "HMAC-MD5-96 [RFC2403]";
        case esp::integrity::hmac_sha1_96:
            return "HMAC-SHA-1-96 [RFC2404]";
        case esp::integrity::hmac_sha2_256_128:
            return "HMAC-SHA-256-128 [RFC4868]";
        case esp::integrity::hmac_sha2_384_192:
            return "HMAC-SHA-384-192 [RFC4868]";
        case esp::integrity::hmac_sha2_512_256:
            return "HMAC-SHA-512-256 [RFC4868]";
        default:
            return "NULL";
    }
}

/// The esp_sa UAT line for `r` (no newline). Allocates: control plane only.
inline std::string wireshark_esp_sa_line(const esp_key_record& r) {
    auto ip = [](const transport::endpoint& e) {
        char b[48];
        if (e.family == transport::endpoint::family_t::v6) {
            std::string s;
            for (std::size_t i = 0; i < 16; i += 2) {
                std::snprintf(b, sizeof b, "%s%x", i ? ":" : "",
                              static_cast<unsigned>((e.addr[i] << 8) | e.addr[i + 1]));
                s += b;
            }
            return s;
        }
        std::snprintf(b, sizeof b, "%u.%u.%u.%u", e.addr[0], e.addr[1], e.addr[2], e.addr[3]);
        return std::string(b);
    };
    auto hex = [](bytes_view k) {
        std::string s = "0x";
        append_hex(s, k);
        return k.empty() ? std::string() : s;
    };
    char spi[16];
    std::snprintf(spi, sizeof spi, "0x%08x", r.sa->spi);
    const bool v6 = r.src.family == transport::endpoint::family_t::v6;
    return std::string("\"") + (v6 ? "IPv6" : "IPv4") + "\",\"" + ip(r.src) + "\",\"" + ip(r.dst) +
           "\",\"" + spi + "\",\"" + wireshark_encryption(r.sa->algorithms) + "\",\"" +
           hex(r.sa->enc_key) + "\",\"" + wireshark_integrity(r.sa->algorithms) + "\",\"" +
           hex(r.sa->integ_key) + "\"";
}

/// The ikev1_decryption_table UAT line for `r` (no newline): the
/// initiator's cookie as 16 hex digits, then Ka in hex, both unquoted (UAT
/// byte fields). Wireshark keys the table on the initiator cookie alone and
/// wants the cipher's key, exactly its length. Allocates: control plane only.
inline std::string wireshark_ikev1_line(const ike_key_record& r) {
    std::string s;
    s.reserve(17 + 2 * r.keys.encryption_key.size());
    append_hex(s, r.keys.cky_i);
    s += ',';
    append_hex(s, r.keys.encryption_key);
    return s;
}

}  // namespace l2sec::vpn
