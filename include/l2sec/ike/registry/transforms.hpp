// The IKEv2 transform registries (RFC 7296 3.3): transform types, encryption,
// PRF, integrity and DH ids, attributes, and the ID, auth, TS and CP types.
// Part of <l2sec/ike/registry.hpp>; a name function returns nullptr for a
// value it does not know.
#pragma once

#include <cstdint>

namespace l2sec::ike {

/// IKEv2 transform types (RFC 7296 §3.3.2).
enum class transform_type : std::uint8_t { encr = 1, prf = 2, integ = 3, dh = 4, esn = 5 };

constexpr const char* name(transform_type t) noexcept {
    switch (t) {
        case transform_type::encr:
            return "ENCR";
        case transform_type::prf:
            return "PRF";
        case transform_type::integ:
            return "INTEG";
        case transform_type::dh:
            return "D-H";
        case transform_type::esn:
            return "ESN";
    }
    return nullptr;
}

/// IKEv2 encryption algorithm ids (transform type 1).
enum class encr_id : std::uint16_t {
    des3 = 3,
    null = 11,
    aes_cbc = 12,
    aes_ctr = 13,
    aes_ccm_8 = 14,
    aes_ccm_12 = 15,
    aes_ccm_16 = 16,
    aes_gcm_8 = 18,
    aes_gcm_12 = 19,
    aes_gcm_16 = 20,
    chacha20_poly1305 = 28,
};
constexpr const char* name(encr_id e) noexcept {
    switch (e) {
        case encr_id::des3:
            return "ENCR_3DES";
        case encr_id::null:
            return "ENCR_NULL";
        case encr_id::aes_cbc:
            return "ENCR_AES_CBC";
        case encr_id::aes_ctr:
            return "ENCR_AES_CTR";
        case encr_id::aes_ccm_8:
            return "ENCR_AES_CCM_8";
        case encr_id::aes_ccm_12:
            return "ENCR_AES_CCM_12";
        case encr_id::aes_ccm_16:
            return "ENCR_AES_CCM_16";
        case encr_id::aes_gcm_8:
            return "ENCR_AES_GCM_8";
        case encr_id::aes_gcm_12:
            return "ENCR_AES_GCM_12";
        case encr_id::aes_gcm_16:
            return "ENCR_AES_GCM_16";
        case encr_id::chacha20_poly1305:
            return "ENCR_CHACHA20_POLY1305";
    }
    return nullptr;
}

/// IKEv2 pseudo-random functions (transform type 2).
enum class prf_id : std::uint16_t {
    hmac_md5 = 1,
    hmac_sha1 = 2,
    aes128_xcbc = 4,
    hmac_sha2_256 = 5,
    hmac_sha2_384 = 6,
    hmac_sha2_512 = 7,
    aes128_cmac = 8,
};
constexpr const char* name(prf_id p) noexcept {
    switch (p) {
        case prf_id::hmac_md5:
            return "PRF_HMAC_MD5";
        case prf_id::hmac_sha1:
            return "PRF_HMAC_SHA1";
        case prf_id::aes128_xcbc:
            return "PRF_AES128_XCBC";
        case prf_id::hmac_sha2_256:
            return "PRF_HMAC_SHA2_256";
        case prf_id::hmac_sha2_384:
            return "PRF_HMAC_SHA2_384";
        case prf_id::hmac_sha2_512:
            return "PRF_HMAC_SHA2_512";
        case prf_id::aes128_cmac:
            return "PRF_AES128_CMAC";
    }
    return nullptr;
}

/// IKEv2 integrity algorithms (transform type 3).
enum class integ_id : std::uint16_t {
    none = 0,
    hmac_md5_96 = 1,
    hmac_sha1_96 = 2,
    aes_xcbc_96 = 5,
    hmac_sha2_256_128 = 12,
    hmac_sha2_384_192 = 13,
    hmac_sha2_512_256 = 14,
};
constexpr const char* name(integ_id i) noexcept {
    switch (i) {
        case integ_id::none:
            return "NONE";
        case integ_id::hmac_md5_96:
            return "AUTH_HMAC_MD5_96";
        case integ_id::hmac_sha1_96:
            return "AUTH_HMAC_SHA1_96";
        case integ_id::aes_xcbc_96:
            return "AUTH_AES_XCBC_96";
        case integ_id::hmac_sha2_256_128:
            return "AUTH_HMAC_SHA2_256_128";
        case integ_id::hmac_sha2_384_192:
            return "AUTH_HMAC_SHA2_384_192";
        case integ_id::hmac_sha2_512_256:
            return "AUTH_HMAC_SHA2_512_256";
    }
    return nullptr;
}

/// Diffie-Hellman groups (RFC 2409, 3526, 5903, 8031; both versions).
enum class dh_group : std::uint16_t {
    none = 0,
    modp768 = 1,
    modp1024 = 2,
    modp1536 = 5,
    modp2048 = 14,
    modp3072 = 15,
    modp4096 = 16,
    ecp256 = 19,
    ecp384 = 20,
    ecp521 = 21,
    curve25519 = 31,
    curve448 = 32,
};
constexpr const char* name(dh_group g) noexcept {
    switch (g) {
        case dh_group::none:
            return "NONE";
        case dh_group::modp768:
            return "MODP_768";
        case dh_group::modp1024:
            return "MODP_1024";
        case dh_group::modp1536:
            return "MODP_1536";
        case dh_group::modp2048:
            return "MODP_2048";
        case dh_group::modp3072:
            return "MODP_3072";
        case dh_group::modp4096:
            return "MODP_4096";
        case dh_group::ecp256:
            return "ECP_256";
        case dh_group::ecp384:
            return "ECP_384";
        case dh_group::ecp521:
            return "ECP_521";
        case dh_group::curve25519:
            return "CURVE_25519";
        case dh_group::curve448:
            return "CURVE_448";
    }
    return nullptr;
}

/// IKEv2 transform attribute types (RFC 7296 §3.3.5).
enum class v2_attribute : std::uint16_t { key_length = 14 };

/// IKEv2 identification types (RFC 7296 §3.5).
enum class id_type : std::uint8_t {
    ipv4_addr = 1,
    fqdn = 2,
    user_fqdn = 3,  ///< RFC822_ADDR in IKEv2
    ipv4_addr_subnet = 4,
    ipv6_addr = 5,
    ipv6_addr_subnet = 6,
    ipv4_addr_range = 7,
    ipv6_addr_range = 8,
    der_asn1_dn = 9,
    der_asn1_gn = 10,
    key_id = 11,
};
constexpr const char* name(id_type t) noexcept {
    switch (t) {
        case id_type::ipv4_addr:
            return "IPV4_ADDR";
        case id_type::fqdn:
            return "FQDN";
        case id_type::user_fqdn:
            return "USER_FQDN";
        case id_type::ipv4_addr_subnet:
            return "IPV4_ADDR_SUBNET";
        case id_type::ipv6_addr:
            return "IPV6_ADDR";
        case id_type::ipv6_addr_subnet:
            return "IPV6_ADDR_SUBNET";
        case id_type::ipv4_addr_range:
            return "IPV4_ADDR_RANGE";
        case id_type::ipv6_addr_range:
            return "IPV6_ADDR_RANGE";
        case id_type::der_asn1_dn:
            return "DER_ASN1_DN";
        case id_type::der_asn1_gn:
            return "DER_ASN1_GN";
        case id_type::key_id:
            return "KEY_ID";
    }
    return nullptr;
}

/// IKEv2 authentication methods (RFC 7296 §3.8, RFC 7427).
enum class auth_method : std::uint8_t {
    rsa_sig = 1,
    shared_key_mic = 2,
    dss_sig = 3,
    ecdsa_256 = 9,
    ecdsa_384 = 10,
    ecdsa_521 = 11,
    digital_signature = 14,
};

/// IKEv2 traffic selector types (RFC 7296 §3.13.1).
enum class ts_type : std::uint8_t { ipv4_addr_range = 7, ipv6_addr_range = 8 };

/// IKEv2 configuration payload types (RFC 7296 §3.15).
enum class cfg_type : std::uint8_t { request = 1, reply = 2, set = 3, ack = 4 };

}  // namespace l2sec::ike
