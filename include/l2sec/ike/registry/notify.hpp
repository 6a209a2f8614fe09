// IKE notify message types, IKEv1 (RFC 2408 3.14.1, RFC 3706) and IKEv2
// (RFC 7296 3.10.1) in one number space, with their names.
// Part of <l2sec/ike/registry.hpp>; a name function returns nullptr for a
// value it does not know.
#pragma once

#include <cstdint>

namespace l2sec::ike {

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
    v1_payload_malformed = 16,  ///< IKEv1 PAYLOAD-MALFORMED (RFC 2408 3.14.1)
    invalid_ke_payload = 17,
    v1_invalid_hash_information = 23,  ///< IKEv1 INVALID-HASH-INFORMATION
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
        case notify_type::v1_payload_malformed:
            return "PAYLOAD-MALFORMED";
        case notify_type::v1_invalid_hash_information:
            return "INVALID-HASH-INFORMATION";
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

}  // namespace l2sec::ike
