// What the IKEv2 engine reports (engine::poll_event), and why things fail:
// ike::v2::engine_errc, category "l2sec.ike.v2". The Child SA output
// (child_sa: an ESP SA pair by value, keys wiped on destruction), handles,
// NAT state and outgoing datagrams are IKEv1's types: the same things.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/error.hpp>
#include <l2sec/ike/v1/child_sa.hpp>
#include <l2sec/ike/v1/events.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <cstdint>
#include <optional>
#include <system_error>
#include <type_traits>

namespace l2sec::ike::v2 {

using v1::child_sa;
using v1::nat_state;
using v1::outgoing_datagram;
using v1::sa_handle;

/// Engine-level failures (codec errors keep their ike::errc).
enum class engine_errc : int {
    invalid_config = 1,     ///< make(): a configuration field is unusable
    no_proposal_chosen,     ///< no acceptable transform set (IKE or ESP)
    authentication_failed,  ///< AUTH mismatch (wrong pre-shared key?) or peer's
                            ///< AUTHENTICATION_FAILED
    unknown_peer,           ///< the PSK store has no key for the peer
    invalid_spi,            ///< no IKE SA with these SPIs
    wrong_state,            ///< a message the exchange does not expect now
    invalid_message_id,     ///< outside the window (not the next request, not our response)
    missing_payload,        ///< a payload the exchange needs is absent
    invalid_payload,        ///< a payload with an unusable value (KE size/group, SPI, TS, ID)
    ts_unacceptable,        ///< traffic selectors we cannot narrow to our policy
    capacity,               ///< no free slot
    timeout,                ///< retransmissions exhausted
    peer_dead,              ///< the liveness check got no answer
    deleted,                ///< the peer sent a Delete
    closed,                 ///< closed locally
    replaced,               ///< a rekeyed SA after its overlap, or an SA the peer's
                            ///< INITIAL_CONTACT ended (it restarted)
    notified,               ///< the peer sent an error notification
    crypto_failure,         ///< backend / random source refused
};

constexpr const char* to_string(engine_errc e) noexcept {
    switch (e) {
        case engine_errc::invalid_config:
            return "invalid configuration";
        case engine_errc::no_proposal_chosen:
            return "no acceptable proposal";
        case engine_errc::authentication_failed:
            return "authentication failed (AUTH mismatch: wrong pre-shared key?)";
        case engine_errc::unknown_peer:
            return "no pre-shared key for the peer";
        case engine_errc::invalid_spi:
            return "unknown IKE SA SPIs";
        case engine_errc::wrong_state:
            return "message not expected in this state";
        case engine_errc::invalid_message_id:
            return "message ID outside the window";
        case engine_errc::missing_payload:
            return "required payload missing";
        case engine_errc::invalid_payload:
            return "invalid payload value";
        case engine_errc::ts_unacceptable:
            return "traffic selectors unacceptable";
        case engine_errc::capacity:
            return "no free SA slot";
        case engine_errc::timeout:
            return "no answer after all retransmissions";
        case engine_errc::peer_dead:
            return "peer dead (liveness check)";
        case engine_errc::deleted:
            return "deleted by the peer";
        case engine_errc::closed:
            return "closed locally";
        case engine_errc::replaced:
            return "replaced by a rekeyed SA or the peer's new one (INITIAL_CONTACT)";
        case engine_errc::notified:
            return "peer sent an error notification";
        case engine_errc::crypto_failure:
            return "crypto backend or random source failure";
    }
    return "unknown error";
}
constexpr const char* category_name(engine_errc) noexcept {
    return "l2sec.ike.v2";
}
inline std::error_code make_error_code(engine_errc e) noexcept {
    return {static_cast<int>(e), l2sec::detail::category_of<engine_errc>()};
}

enum class event_kind : std::uint8_t {
    ike_up,      ///< an IKE SA is established (ike, peer)
    ike_down,    ///< an IKE SA is gone (reason)
    child_up,    ///< a Child SA pair is ready: install `child`
    child_down,  ///< remove the ESP SA pair whose inbound SPI is `spi_in`
    peer_dead,   ///< the liveness check failed (its SAs follow as *_down)
    failed,      ///< a negotiation failed (reason, with the peer)
};

struct event {
    event_kind kind = event_kind::failed;
    sa_handle ike;
    transport::endpoint peer;
    child_sa child;                ///< child_up
    std::uint32_t old_spi_in = 0;  ///< child_up that replaces an SA (rekey), else 0
    std::uint32_t spi_in = 0;      ///< child_down: which one
    std::error_code reason;        ///< failed / *_down: why
    /// ike_up: the virtual address (and DNS server) assigned by CP, to the
    /// initiator that asked for one, and by the responder that gave it.
    std::optional<transport::endpoint> internal_address, internal_dns;
};

/// Counters (engine::stats()).
struct engine_stats {
    std::uint64_t received = 0, sent = 0;
    std::uint64_t dropped = 0;     ///< messages refused (last_error says why)
    std::uint64_t duplicates = 0;  ///< retransmitted peer requests answered from the cache
    std::uint64_t retransmits = 0;
    std::uint64_t half_open_refused = 0;
    std::uint64_t no_proposal = 0, invalid_ke_sent = 0, invalid_ke_retries = 0;
    std::uint64_t ike_established = 0, children_installed = 0;
    std::uint64_t liveness_sent = 0;
    std::uint64_t cookies_sent = 0, rekeys = 0;
    std::uint64_t events_dropped = 0, tx_dropped = 0;
    /// RFC 7383: SKF fragments sent and verified on receipt, messages that
    /// went whole because their fragments did not fit the slot's buffer.
    std::uint64_t fragments_sent = 0, fragments_received = 0, fragment_fallbacks = 0;
    /// SAs tick() looked at: only the due ones (a timer heap, not a scan).
    std::uint64_t timer_visits = 0;
    /// Both ends rekeyed the same Child SA or IKE SA at once (RFC 7296
    /// 2.8.1, 2.8.2), seen when our exchange ended; and our rekeys the peer
    /// put off with TEMPORARY_FAILURE (tried again later).
    std::uint64_t rekey_collisions = 0, rekeys_deferred = 0;
    l2sec::error last_error{};  ///< the latest refused message: what and where
};

}  // namespace l2sec::ike::v2

template <>
struct std::is_error_code_enum<l2sec::ike::v2::engine_errc> : std::true_type {};
