// What the IKEv1 engine reports (engine::poll_event), and why things fail:
// ike::v1::engine_errc, category "l2sec.ike.v1".
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/error.hpp>
#include <l2sec/ike/v1/child_sa.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <cstdint>
#include <system_error>
#include <type_traits>

namespace l2sec::ike::v1 {

/// Engine-level failures (codec errors keep their ike::errc).
enum class engine_errc : int {
    invalid_config = 1,     ///< make(): a configuration field is unusable
    no_proposal_chosen,     ///< no acceptable transform in the peer's SA
    authentication_failed,  ///< HASH_I / HASH_R / Quick Mode HASH mismatch (wrong PSK?)
    unknown_peer,           ///< the PSK store has no key for the peer
    invalid_cookie,         ///< no IKE SA with these cookies
    wrong_state,            ///< a message the exchange does not expect now
    missing_payload,        ///< a payload the exchange needs is absent
    invalid_payload,        ///< a payload with an unusable value (KE size, ID, SPI)
    capacity,               ///< no free slot (IKE SA, half-open, child)
    timeout,                ///< retransmissions exhausted
    peer_dead,              ///< DPD got no answer
    deleted,                ///< the peer sent a Delete
    closed,                 ///< closed locally
    expired,                ///< hard lifetime reached
    replaced,               ///< INITIAL-CONTACT or re-authentication replaced it
    notified,               ///< the peer sent an error notification
    crypto_failure,         ///< backend / random source refused
    wrong_psk,  ///< MM5/MM6 undecryptable or its HASH wrong, the peer says so, or MM5 unanswered
};

constexpr const char* to_string(engine_errc e) noexcept {
    switch (e) {
        case engine_errc::invalid_config:
            return "invalid configuration";
        case engine_errc::no_proposal_chosen:
            return "no acceptable proposal";
        case engine_errc::authentication_failed:
            return "authentication failed (hash mismatch)";
        case engine_errc::unknown_peer:
            return "no pre-shared key for the peer";
        case engine_errc::invalid_cookie:
            return "unknown IKE SA cookies";
        case engine_errc::wrong_state:
            return "message not expected in this state";
        case engine_errc::missing_payload:
            return "required payload missing";
        case engine_errc::invalid_payload:
            return "invalid payload value";
        case engine_errc::capacity:
            return "no free SA slot";
        case engine_errc::timeout:
            return "no answer after all retransmissions";
        case engine_errc::peer_dead:
            return "peer dead (DPD)";
        case engine_errc::deleted:
            return "deleted by the peer";
        case engine_errc::closed:
            return "closed locally";
        case engine_errc::expired:
            return "lifetime expired";
        case engine_errc::replaced:
            return "replaced by a new SA";
        case engine_errc::notified:
            return "peer sent an error notification";
        case engine_errc::crypto_failure:
            return "crypto backend or random source failure";
        case engine_errc::wrong_psk:
            return "likely wrong pre-shared key: Main Mode failed at its first encrypted message "
                   "(check that both sides use the same PSK)";
    }
    return "unknown error";
}
constexpr const char* category_name(engine_errc) noexcept {
    return "l2sec.ike.v1";
}
inline std::error_code make_error_code(engine_errc e) noexcept {
    return {static_cast<int>(e), l2sec::detail::category_of<engine_errc>()};
}

enum class event_kind : std::uint8_t {
    phase1_up,    ///< an IKE SA is established (ike, peer)
    phase1_down,  ///< an IKE SA is gone (reason)
    child_up,     ///< a Quick Mode SA pair is ready: install `child`
    child_down,   ///< remove the ESP SA pair whose inbound SPI is `spi_in`
    peer_dead,    ///< DPD declared the peer dead (its SAs follow as *_down)
    failed,       ///< a negotiation failed (reason, with the peer)
};

struct event {
    event_kind kind = event_kind::failed;
    sa_handle ike;
    transport::endpoint peer;
    child_sa child;                ///< child_up
    std::uint32_t old_spi_in = 0;  ///< child_up that replaces an SA (rekey), else 0
    std::uint32_t spi_in = 0;      ///< child_down: which one
    std::error_code reason;        ///< failed / *_down: why
};

/// A datagram to send from `local` to `peer`, exactly as given (on port
/// 4500 it starts with the 4-byte non-ESP marker). `data` stays valid until
/// the next call into the engine.
struct outgoing_datagram {
    transport::endpoint local, peer;
    bytes_view data;
};

/// Counters (engine::stats()).
struct engine_stats {
    std::uint64_t received = 0, sent = 0;
    std::uint64_t dropped = 0;     ///< messages refused (last_error says why)
    std::uint64_t duplicates = 0;  ///< retransmitted peer messages answered from the cache
    std::uint64_t retransmits = 0;
    std::uint64_t half_open_refused = 0, half_open_evicted = 0;
    std::uint64_t no_proposal = 0;
    std::uint64_t phase1_established = 0, children_installed = 0;
    std::uint64_t dpd_sent = 0, rekeys = 0;
    std::uint64_t events_dropped = 0, tx_dropped = 0;
    std::uint64_t timer_visits = 0;  ///< SAs tick() handled: only those whose time had come
    l2sec::error last_error{};       ///< the latest refused message: what and where
};

}  // namespace l2sec::ike::v1

template <>
struct std::is_error_code_enum<l2sec::ike::v1::engine_errc> : std::true_type {};
