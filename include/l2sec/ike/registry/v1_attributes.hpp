// The IKEv1 data attributes (RFC 2409 Appendix A, RFC 2407 4.5) and their
// values, with their names, and the IPsec DOI.
// Part of <l2sec/ike/registry.hpp>; a name function returns nullptr for a
// value it does not know.
#pragma once

#include <cstdint>

namespace l2sec::ike {

/// IKEv1 phase 1 (IKE) data attribute classes (RFC 2409 Appendix A).
namespace v1_attr {
enum : std::uint16_t {
    encryption_algorithm = 1,
    hash_algorithm = 2,
    authentication_method = 3,
    group_description = 4,
    group_type = 5,
    life_type = 11,
    life_duration = 12,
    prf = 13,
    key_length = 14,
    field_size = 15,
    group_order = 16,
};
}  // namespace v1_attr

/// IKEv1 phase 2 (IPsec DOI) SA attributes (RFC 2407 §4.5, RFC 3947 §5).
namespace v1_ipsec_attr {
enum : std::uint16_t {
    sa_life_type = 1,
    sa_life_duration = 2,
    group_description = 3,
    encapsulation_mode = 4,
    auth_algorithm = 5,
    key_length = 6,
    key_rounds = 7,
};
}  // namespace v1_ipsec_attr

/// IKEv1 phase 1 encryption algorithms (RFC 2409 Appendix A).
enum class v1_encr : std::uint16_t {
    des_cbc = 1,
    idea_cbc = 2,
    blowfish_cbc = 3,
    des3_cbc = 5,
    aes_cbc = 7
};
/// IKEv1 phase 1 hash algorithms.
enum class v1_hash : std::uint16_t {
    md5 = 1,
    sha1 = 2,
    tiger = 3,
    sha2_256 = 4,
    sha2_384 = 5,
    sha2_512 = 6
};
/// IKEv1 authentication methods (RFC 2409 Appendix A; XAUTH draft values).
enum class v1_auth : std::uint16_t {
    pre_shared_key = 1,
    dss_sig = 2,
    rsa_sig = 3,
    rsa_enc = 4,
    rsa_rev_enc = 5,
    xauth_init_psk = 65001,
    xauth_resp_psk = 65002,
    xauth_init_rsa = 65005,
    xauth_resp_rsa = 65006,
};
/// IKEv1 life types.
enum class v1_life : std::uint16_t { seconds = 1, kilobytes = 2 };
/// IPsec DOI encapsulation modes (RFC 2407 §4.5, RFC 3947 §5; draft values 61443/61444).
enum class encapsulation_mode : std::uint16_t {
    tunnel = 1,
    transport = 2,
    udp_tunnel = 3,
    udp_transport = 4,
    udp_tunnel_draft = 61443,
    udp_transport_draft = 61444,
};
/// IPsec DOI transform ids for ESP (RFC 2407 §4.4.4).
enum class v1_esp_id : std::uint8_t {
    des = 2,
    des3 = 3,
    null = 11,
    aes = 12,
    aes_ctr = 13,
    aes_gcm_16 = 20
};
/// IPsec DOI authentication algorithms (SA attribute 5).
enum class v1_auth_alg : std::uint16_t {
    hmac_md5 = 1,
    hmac_sha1 = 2,
    hmac_sha2_256 = 5,
    hmac_sha2_384 = 6,
    hmac_sha2_512 = 7
};

/// Name of an IKEv1 phase 1 attribute class (RFC 2409 Appendix A), or nullptr.
constexpr const char* v1_attr_name(std::uint16_t t) noexcept {
    switch (t) {
        case v1_attr::encryption_algorithm:
            return "Encryption-Algorithm";
        case v1_attr::hash_algorithm:
            return "Hash-Algorithm";
        case v1_attr::authentication_method:
            return "Authentication-Method";
        case v1_attr::group_description:
            return "Group-Description";
        case v1_attr::group_type:
            return "Group-Type";
        case v1_attr::life_type:
            return "Life-Type";
        case v1_attr::life_duration:
            return "Life-Duration";
        case v1_attr::prf:
            return "PRF";
        case v1_attr::key_length:
            return "Key-Length";
        case v1_attr::field_size:
            return "Field-Size";
        case v1_attr::group_order:
            return "Group-Order";
        default:
            return nullptr;
    }
}

/// Name of an IPsec DOI SA attribute (RFC 2407 §4.5), or nullptr.
constexpr const char* v1_ipsec_attr_name(std::uint16_t t) noexcept {
    switch (t) {
        case v1_ipsec_attr::sa_life_type:
            return "SA-Life-Type";
        case v1_ipsec_attr::sa_life_duration:
            return "SA-Life-Duration";
        case v1_ipsec_attr::group_description:
            return "Group-Description";
        case v1_ipsec_attr::encapsulation_mode:
            return "Encapsulation-Mode";
        case v1_ipsec_attr::auth_algorithm:
            return "Authentication-Algorithm";
        case v1_ipsec_attr::key_length:
            return "Key-Length";
        case v1_ipsec_attr::key_rounds:
            return "Key-Rounds";
        default:
            return nullptr;
    }
}

constexpr const char* name(v1_encr e) noexcept {
    switch (e) {
        case v1_encr::des_cbc:
            return "DES-CBC";
        case v1_encr::idea_cbc:
            return "IDEA-CBC";
        case v1_encr::blowfish_cbc:
            return "Blowfish-CBC";
        case v1_encr::des3_cbc:
            return "3DES-CBC";
        case v1_encr::aes_cbc:
            return "AES-CBC";
    }
    return nullptr;
}
constexpr const char* name(v1_hash h) noexcept {
    switch (h) {
        case v1_hash::md5:
            return "MD5";
        case v1_hash::sha1:
            return "SHA";
        case v1_hash::tiger:
            return "Tiger";
        case v1_hash::sha2_256:
            return "SHA2-256";
        case v1_hash::sha2_384:
            return "SHA2-384";
        case v1_hash::sha2_512:
            return "SHA2-512";
    }
    return nullptr;
}
constexpr const char* name(v1_auth a) noexcept {
    switch (a) {
        case v1_auth::pre_shared_key:
            return "Pre-shared key";
        case v1_auth::dss_sig:
            return "DSS signatures";
        case v1_auth::rsa_sig:
            return "RSA signatures";
        case v1_auth::rsa_enc:
            return "Encryption with RSA";
        case v1_auth::rsa_rev_enc:
            return "Revised encryption with RSA";
        case v1_auth::xauth_init_psk:
            return "XAUTHInitPreShared";
        case v1_auth::xauth_resp_psk:
            return "XAUTHRespPreShared";
        case v1_auth::xauth_init_rsa:
            return "XAUTHInitRSA";
        case v1_auth::xauth_resp_rsa:
            return "XAUTHRespRSA";
    }
    return nullptr;
}
constexpr const char* name(encapsulation_mode m) noexcept {
    switch (m) {
        case encapsulation_mode::tunnel:
            return "Tunnel";
        case encapsulation_mode::transport:
            return "Transport";
        case encapsulation_mode::udp_tunnel:
            return "UDP-Encapsulated-Tunnel";
        case encapsulation_mode::udp_transport:
            return "UDP-Encapsulated-Transport";
        case encapsulation_mode::udp_tunnel_draft:
            return "UDP-Encapsulated-Tunnel (draft)";
        case encapsulation_mode::udp_transport_draft:
            return "UDP-Encapsulated-Transport (draft)";
    }
    return nullptr;
}

/// The IPsec DOI (RFC 2407) and its one situation bit.
inline constexpr std::uint32_t doi_ipsec = 1;
inline constexpr std::uint32_t sit_identity_only = 1;

}  // namespace l2sec::ike
