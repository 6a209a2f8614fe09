// Errors of the L2TP/IPsec composition (vpn::server, vpn::client): why a
// datagram or an IP packet was dropped, or why a connection failed.
#pragma once

#include <l2sec/core/error.hpp>

#include <system_error>
#include <type_traits>

namespace l2sec::vpn {

enum class errc : int {
    unknown_spi = 1,    ///< ESP with an SPI no SA has (stale, or never negotiated)
    unprotected_l2tp,   ///< L2TP outside an ESP SA: dropped (RFC 3193 section 4)
    not_l2tp,           ///< an ESP payload that is not UDP to port 1701
    no_route,           ///< an IP packet for an address no session holds
    session_down,       ///< the session's PPP link has no IPCP (yet)
    no_sa,              ///< no outbound ESP SA for the peer (yet)
    capacity_exceeded,  ///< peers, sessions or addresses are used up
    pool_exhausted,     ///< no address left in the pool
    bad_config,         ///< a configuration value that cannot work (field named)
    ike_failed,         ///< the IKE exchange failed (see the IKE error)
    l2tp_failed,        ///< the L2TP tunnel or session was refused or lost
    ppp_failed,         ///< LCP/IPCP did not come up
    auth_failed,        ///< PPP authentication failed (wrong user or password)
    timeout,            ///< the connection did not come up in time
    closed,             ///< shut down
    wrong_psk,          ///< IKE authentication failed: the pre-shared keys differ
    no_answer,          ///< the server never answered IKE
};

constexpr const char* to_string(errc e) noexcept {
    switch (e) {
        case errc::unknown_spi:
            return "ESP SPI unknown";
        case errc::unprotected_l2tp:
            return "L2TP outside IPsec dropped (RFC 3193)";
        case errc::not_l2tp:
            return "ESP payload is not L2TP (UDP 1701)";
        case errc::no_route:
            return "no session holds the destination address";
        case errc::session_down:
            return "PPP session not up";
        case errc::no_sa:
            return "no ESP SA to the peer";
        case errc::capacity_exceeded:
            return "peer or session capacity exceeded";
        case errc::pool_exhausted:
            return "address pool exhausted";
        case errc::bad_config:
            return "invalid configuration";
        case errc::ike_failed:
            return "IKE negotiation failed";
        case errc::l2tp_failed:
            return "L2TP tunnel or session failed";
        case errc::ppp_failed:
            return "PPP negotiation failed";
        case errc::auth_failed:
            return "PPP authentication failed (check user name and password)";
        case errc::timeout:
            return "timed out";
        case errc::closed:
            return "closed";
        case errc::wrong_psk:
            return "IKE authentication failed: the pre-shared key is most likely wrong (--psk)";
        case errc::no_answer:
            return "no answer from the server on UDP 500 (is it running, UDP 500/4500 open on the "
                   "way?)";
    }
    return "unknown error";
}
constexpr const char* category_name(errc) noexcept {
    return "l2sec.vpn";
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), l2sec::detail::category_of<errc>()};
}

}  // namespace l2sec::vpn

template <>
struct std::is_error_code_enum<l2sec::vpn::errc> : std::true_type {};
