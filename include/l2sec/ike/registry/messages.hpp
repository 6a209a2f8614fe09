// The IKE registries of the message itself: exchange types, payload types
// and protocol ids (IKEv1 RFC 2408/2409, IKEv2 RFC 7296), with their names.
// Part of <l2sec/ike/registry.hpp>; a name function returns nullptr for a
// value it does not know.
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

}  // namespace l2sec::ike
