// The IANA registries IKEv1 (RFC 2407/2408/2409/3947) and IKEv2 (RFC 7296 and
// later) need, as enums with their names. A name function returns nullptr for
// a value it does not know; callers print the number then.
#pragma once

#include <cstdint>

namespace l2sec::ike {

/// Exchange types: IKEv1 (RFC 2408 §3.1, 2409) and IKEv2 (RFC 7296 §3.1).
enum class exchange : std::uint8_t {
    none = 0,
    base = 1,
    main_mode = 2,  ///< identity protection
    auth_only = 3,
    aggressive = 4,
    informational_v1 = 5,
    transaction = 6,  ///< mode config / XAUTH
    quick_mode = 32,
    new_group_mode = 33,
    ike_sa_init = 34,
    ike_auth = 35,
    create_child_sa = 36,
    informational = 37,
    ike_session_resume = 38,
    ike_intermediate = 43,
};

constexpr const char* name(exchange e) noexcept {
    switch (e) {
        case exchange::none:
            return "none";
        case exchange::base:
            return "base";
        case exchange::main_mode:
            return "main_mode";
        case exchange::auth_only:
            return "auth_only";
        case exchange::aggressive:
            return "aggressive";
        case exchange::informational_v1:
            return "informational";
        case exchange::transaction:
            return "transaction";
        case exchange::quick_mode:
            return "quick_mode";
        case exchange::new_group_mode:
            return "new_group_mode";
        case exchange::ike_sa_init:
            return "IKE_SA_INIT";
        case exchange::ike_auth:
            return "IKE_AUTH";
        case exchange::create_child_sa:
            return "CREATE_CHILD_SA";
        case exchange::informational:
            return "INFORMATIONAL";
        case exchange::ike_session_resume:
            return "IKE_SESSION_RESUME";
        case exchange::ike_intermediate:
            return "IKE_INTERMEDIATE";
    }
    return nullptr;
}

/// Payload types of both versions (one IANA number space: v1 below 33, v2 from 33).
enum class payload_type : std::uint8_t {
    none = 0,
    // IKEv1 / ISAKMP (RFC 2408 §3.1, RFC 3947)
    sa_v1 = 1,
    proposal_v1 = 2,
    transform_v1 = 3,
    ke_v1 = 4,
    id_v1 = 5,
    cert_v1 = 6,
    cr_v1 = 7,
    hash = 8,
    sig = 9,
    nonce_v1 = 10,
    notification = 11,
    delete_v1 = 12,
    vendor_id_v1 = 13,
    attributes_v1 = 14,  ///< mode config
    nat_d = 20,
    nat_oa = 21,
    nat_d_draft = 130,
    nat_oa_draft = 131,
    fragment_v1 = 132,  ///< Cisco/Microsoft IKEv1 fragmentation
    // IKEv2 (RFC 7296 §3.2, RFC 7383)
    sa = 33,
    ke = 34,
    idi = 35,
    idr = 36,
    cert = 37,
    certreq = 38,
    auth = 39,
    nonce = 40,
    notify = 41,
    delete_ = 42,
    vendor_id = 43,
    tsi = 44,
    tsr = 45,
    sk = 46,
    cp = 47,
    eap = 48,
    gspm = 49,
    skf = 53,
};

constexpr const char* name(payload_type t) noexcept {
    switch (t) {
        case payload_type::none:
            return "NONE";
        case payload_type::sa_v1:
            return "SA";
        case payload_type::proposal_v1:
            return "P";
        case payload_type::transform_v1:
            return "T";
        case payload_type::ke_v1:
            return "KE";
        case payload_type::id_v1:
            return "ID";
        case payload_type::cert_v1:
            return "CERT";
        case payload_type::cr_v1:
            return "CR";
        case payload_type::hash:
            return "HASH";
        case payload_type::sig:
            return "SIG";
        case payload_type::nonce_v1:
            return "Nonce";
        case payload_type::notification:
            return "N";
        case payload_type::delete_v1:
            return "D";
        case payload_type::vendor_id_v1:
            return "VID";
        case payload_type::attributes_v1:
            return "ATTR";
        case payload_type::nat_d:
            return "NAT-D";
        case payload_type::nat_oa:
            return "NAT-OA";
        case payload_type::nat_d_draft:
            return "NAT-D(draft)";
        case payload_type::nat_oa_draft:
            return "NAT-OA(draft)";
        case payload_type::fragment_v1:
            return "FRAG";
        case payload_type::sa:
            return "SA";
        case payload_type::ke:
            return "KE";
        case payload_type::idi:
            return "IDi";
        case payload_type::idr:
            return "IDr";
        case payload_type::cert:
            return "CERT";
        case payload_type::certreq:
            return "CERTREQ";
        case payload_type::auth:
            return "AUTH";
        case payload_type::nonce:
            return "Nonce";
        case payload_type::notify:
            return "N";
        case payload_type::delete_:
            return "D";
        case payload_type::vendor_id:
            return "V";
        case payload_type::tsi:
            return "TSi";
        case payload_type::tsr:
            return "TSr";
        case payload_type::sk:
            return "SK";
        case payload_type::cp:
            return "CP";
        case payload_type::eap:
            return "EAP";
        case payload_type::gspm:
            return "GSPM";
        case payload_type::skf:
            return "SKF";
    }
    return nullptr;
}

/// IPsec protocol ids (RFC 2407 §4.4.1 for v1, RFC 7296 §3.3.1 for v2; 1..3 agree).
enum class protocol_id : std::uint8_t { none = 0, ike = 1, ah = 2, esp = 3, ipcomp = 4 };

constexpr const char* name(protocol_id p) noexcept {
    switch (p) {
        case protocol_id::none:
            return "none";
        case protocol_id::ike:
            return "IKE";
        case protocol_id::ah:
            return "AH";
        case protocol_id::esp:
            return "ESP";
        case protocol_id::ipcomp:
            return "IPCOMP";
    }
    return nullptr;
}

/// IKEv2 Notify Message Types (RFC 7296 §3.10.1 and the IANA registry);
/// IKEv1 notify types (RFC 2408 §3.14.1, RFC 3706) share the number space below 16384.
enum class notify_type : std::uint16_t {
    unsupported_critical_payload = 1,
    invalid_ike_spi = 4,
    invalid_major_version = 5,
    invalid_syntax = 7,
    invalid_message_id = 9,
    invalid_spi = 11,
    no_proposal_chosen = 14,
    invalid_ke_payload = 17,
    authentication_failed = 24,
    single_pair_required = 34,
    no_additional_sas = 35,
    internal_address_failure = 36,
    failed_cp_required = 37,
    ts_unacceptable = 38,
    invalid_selectors = 39,
    temporary_failure = 43,
    child_sa_not_found = 44,
    initial_contact = 16384,
    set_window_size = 16385,
    additional_ts_possible = 16386,
    ipcomp_supported = 16387,
    nat_detection_source_ip = 16388,
    nat_detection_destination_ip = 16389,
    cookie = 16390,
    use_transport_mode = 16391,
    http_cert_lookup_supported = 16392,
    rekey_sa = 16393,
    esp_tfc_padding_not_supported = 16394,
    non_first_fragments_also = 16395,
    mobike_supported = 16396,
    additional_ip4_address = 16397,
    additional_ip6_address = 16398,
    no_additional_addresses = 16399,
    update_sa_addresses = 16400,
    cookie2 = 16401,
    no_nats_allowed = 16402,
    multiple_auth_supported = 16404,
    another_auth_follows = 16405,
    redirect_supported = 16406,
    redirect = 16407,
    redirected_from = 16408,
    eap_only_authentication = 16417,
    childless_ikev2_supported = 16418,
    quick_crash_detection = 16419,
    ikev2_message_id_sync_supported = 16420,
    ikev2_fragmentation_supported = 16430,
    signature_hash_algorithms = 16431,
    // IKEv1 status values (RFC 2407 §4.6.3, RFC 3706)
    v1_responder_lifetime = 24576,
    v1_replay_status = 24577,
    v1_initial_contact = 24578,
    v1_dpd_r_u_there = 36136,
    v1_dpd_r_u_there_ack = 36137,
};

/// IKEv2 names (also right for the shared IKEv1 error numbers below 16384).
constexpr const char* name(notify_type n) noexcept {
    switch (n) {
        case notify_type::unsupported_critical_payload:
            return "UNSUPPORTED_CRITICAL_PAYLOAD";
        case notify_type::invalid_ike_spi:
            return "INVALID_IKE_SPI";
        case notify_type::invalid_major_version:
            return "INVALID_MAJOR_VERSION";
        case notify_type::invalid_syntax:
            return "INVALID_SYNTAX";
        case notify_type::invalid_message_id:
            return "INVALID_MESSAGE_ID";
        case notify_type::invalid_spi:
            return "INVALID_SPI";
        case notify_type::no_proposal_chosen:
            return "NO_PROPOSAL_CHOSEN";
        case notify_type::invalid_ke_payload:
            return "INVALID_KE_PAYLOAD";
        case notify_type::authentication_failed:
            return "AUTHENTICATION_FAILED";
        case notify_type::single_pair_required:
            return "SINGLE_PAIR_REQUIRED";
        case notify_type::no_additional_sas:
            return "NO_ADDITIONAL_SAS";
        case notify_type::internal_address_failure:
            return "INTERNAL_ADDRESS_FAILURE";
        case notify_type::failed_cp_required:
            return "FAILED_CP_REQUIRED";
        case notify_type::ts_unacceptable:
            return "TS_UNACCEPTABLE";
        case notify_type::invalid_selectors:
            return "INVALID_SELECTORS";
        case notify_type::temporary_failure:
            return "TEMPORARY_FAILURE";
        case notify_type::child_sa_not_found:
            return "CHILD_SA_NOT_FOUND";
        case notify_type::initial_contact:
            return "INITIAL_CONTACT";
        case notify_type::set_window_size:
            return "SET_WINDOW_SIZE";
        case notify_type::additional_ts_possible:
            return "ADDITIONAL_TS_POSSIBLE";
        case notify_type::ipcomp_supported:
            return "IPCOMP_SUPPORTED";
        case notify_type::nat_detection_source_ip:
            return "NAT_DETECTION_SOURCE_IP";
        case notify_type::nat_detection_destination_ip:
            return "NAT_DETECTION_DESTINATION_IP";
        case notify_type::cookie:
            return "COOKIE";
        case notify_type::use_transport_mode:
            return "USE_TRANSPORT_MODE";
        case notify_type::http_cert_lookup_supported:
            return "HTTP_CERT_LOOKUP_SUPPORTED";
        case notify_type::rekey_sa:
            return "REKEY_SA";
        case notify_type::esp_tfc_padding_not_supported:
            return "ESP_TFC_PADDING_NOT_SUPPORTED";
        case notify_type::non_first_fragments_also:
            return "NON_FIRST_FRAGMENTS_ALSO";
        case notify_type::mobike_supported:
            return "MOBIKE_SUPPORTED";
        case notify_type::additional_ip4_address:
            return "ADDITIONAL_IP4_ADDRESS";
        case notify_type::additional_ip6_address:
            return "ADDITIONAL_IP6_ADDRESS";
        case notify_type::no_additional_addresses:
            return "NO_ADDITIONAL_ADDRESSES";
        case notify_type::update_sa_addresses:
            return "UPDATE_SA_ADDRESSES";
        case notify_type::cookie2:
            return "COOKIE2";
        case notify_type::no_nats_allowed:
            return "NO_NATS_ALLOWED";
        case notify_type::multiple_auth_supported:
            return "MULTIPLE_AUTH_SUPPORTED";
        case notify_type::another_auth_follows:
            return "ANOTHER_AUTH_FOLLOWS";
        case notify_type::redirect_supported:
            return "REDIRECT_SUPPORTED";
        case notify_type::redirect:
            return "REDIRECT";
        case notify_type::redirected_from:
            return "REDIRECTED_FROM";
        case notify_type::eap_only_authentication:
            return "EAP_ONLY_AUTHENTICATION";
        case notify_type::childless_ikev2_supported:
            return "CHILDLESS_IKEV2_SUPPORTED";
        case notify_type::quick_crash_detection:
            return "QUICK_CRASH_DETECTION";
        case notify_type::ikev2_message_id_sync_supported:
            return "IKEV2_MESSAGE_ID_SYNC_SUPPORTED";
        case notify_type::ikev2_fragmentation_supported:
            return "IKEV2_FRAGMENTATION_SUPPORTED";
        case notify_type::signature_hash_algorithms:
            return "SIGNATURE_HASH_ALGORITHMS";
        case notify_type::v1_responder_lifetime:
            return "RESPONDER-LIFETIME";
        case notify_type::v1_replay_status:
            return "REPLAY-STATUS";
        case notify_type::v1_initial_contact:
            return "INITIAL-CONTACT";
        case notify_type::v1_dpd_r_u_there:
            return "R-U-THERE";
        case notify_type::v1_dpd_r_u_there_ack:
            return "R-U-THERE-ACK";
    }
    return nullptr;
}
/// Error types are below 16384 (RFC 7296 §3.10.1).
constexpr bool is_error(notify_type n) noexcept {
    return static_cast<std::uint16_t>(n) < 16384;
}

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
