// What the server and client tell their user, one record per thing that
// happened: a peer's IKE SA, its ESP SAs, its L2TP tunnel and session, its
// PPP link (who logged in, which address it got), and every failure with a
// reason a user can act on. Fixed size, no allocation: the program formats it.
#pragma once

#include <l2sec/core/error.hpp>
#include <l2sec/esp/algorithms.hpp>
#include <l2sec/transport/endpoint.hpp>
#include <l2sec/vpn/packets.hpp>

#include <array>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace l2sec::vpn {

/// What a report is about. The names are the `event` of the programs'
/// --json lines (docs/programs.md), one name per thing.
enum class report_kind : std::uint8_t {
    ike_established,   ///< IKE SA established with the peer
    ike_down,          ///< IKE SA gone (deleted, expired, or the peer died); `reason`
    esp_sa,            ///< an ESP SA pair installed (spi_in, spi_out, suite; rekey when old_spi_in)
    esp_sa_down,       ///< an ESP SA removed (spi_in); `reason`
    l2tp_tunnel_up,    ///< L2TP tunnel established (tunnel)
    l2tp_tunnel_down,  ///< L2TP tunnel closed; `reason`
    l2tp_session_up,   ///< L2TP session (call) established (tunnel, session)
    l2tp_session_down,  ///< L2TP session ended (CDN)
    ppp_up,             ///< PPP up: user authenticated, addresses (user, local_ip, peer_ip, dns)
    ppp_down,           ///< PPP's IPCP went down (LCP Terminate, echo timeout)
    auth_failed,        ///< PPP authentication refused (user)
    client_down,        ///< the peer (server: one client; client: the connection) is gone; `reason`
    failed,             ///< something failed; `reason` says what
    dropped,  ///< a datagram or packet was dropped; `reason` says why (rate-limited by the caller)
};

constexpr const char* to_string(report_kind k) noexcept {
    switch (k) {
        case report_kind::ike_established:
            return "ike_established";
        case report_kind::ike_down:
            return "ike_down";
        case report_kind::esp_sa:
            return "esp_sa";
        case report_kind::esp_sa_down:
            return "esp_sa_down";
        case report_kind::l2tp_tunnel_up:
            return "l2tp_tunnel_up";
        case report_kind::l2tp_tunnel_down:
            return "l2tp_tunnel_down";
        case report_kind::l2tp_session_up:
            return "l2tp_session_up";
        case report_kind::l2tp_session_down:
            return "l2tp_session_down";
        case report_kind::ppp_up:
            return "ppp_up";
        case report_kind::ppp_down:
            return "ppp_down";
        case report_kind::auth_failed:
            return "auth_failed";
        case report_kind::client_down:
            return "client_down";
        case report_kind::failed:
            return "failed";
        case report_kind::dropped:
            return "dropped";
    }
    return "?";
}

struct report {
    report_kind kind{};
    peer_handle peer{};
    transport::endpoint endpoint{};  ///< the peer's outer address and port
    std::uint32_t spi_in = 0, spi_out = 0, old_spi_in = 0;
    esp::suite suite{};
    bool udp_encap = false;
    std::uint16_t tunnel = 0, session = 0;
    /// ppp_up: this side's and the other side's PPP address, the DNS server (host order)
    std::uint32_t local_ip = 0, peer_ip = 0, dns = 0;
    std::array<char, 64> user{};  ///< ppp_up / auth_failed
    l2sec::error reason{};        ///< failed / dropped / *_down
    /// dropped: how many drops went unreported since the previous dropped
    /// report (the server reports at most server_config::drop_reports_per_second).
    std::uint64_t suppressed = 0;

    std::string_view user_name() const noexcept {
        std::size_t n = 0;
        while (n < user.size() && user[n])
            ++n;
        return {user.data(), n};
    }
    void set_user(std::string_view u) noexcept {
        std::size_t n = u.size() < user.size() - 1 ? u.size() : user.size() - 1;
        for (std::size_t i = 0; i < n; ++i)
            user[i] = u[i];
        user[n] = 0;
    }
};

/// Totals, cheap to read at any time.
struct stack_stats {
    std::uint64_t esp_in = 0, esp_out = 0, ip_in = 0, ip_out = 0;
    std::uint64_t bytes_in = 0, bytes_out = 0;
    std::uint64_t dropped_unknown_spi = 0, dropped_auth = 0, dropped_not_l2tp = 0,
                  dropped_unprotected = 0, dropped_no_route = 0, dropped_other = 0;
    std::uint64_t reports_lost = 0;
};

/// Why the server dropped datagrams it could not use, by reason
/// (server::drops()). Each such datagram costs O(1) work and no allocation
/// (the IKE engine's half-open search excepted: it scans its half-open
/// slots).
struct drop_stats {
    std::uint64_t ike_flood = 0;    ///< IKE first messages refused by the half-open limits
    std::uint64_t ike_evicted = 0;  ///< half-open IKE SAs evicted (oldest first) for a newer one
    std::uint64_t garbage_500 = 0;  ///< UDP 500: IKE the engine refused (malformed, unknown cookie)
    std::uint64_t garbage_4500 = 0;      ///< UDP 4500: refused IKE, or ESP too short for an SPI
    std::uint64_t garbage_1701 = 0;      ///< UDP 1701 outside ESP that is not even L2TP
    std::uint64_t l2tp_outside_esp = 0;  ///< L2TP on UDP 1701 outside ESP (RFC 3193)
    std::uint64_t unknown_spi = 0;       ///< ESP whose SPI no SA has
    std::uint64_t esp_auth = 0;          ///< ESP that failed authentication or replay checks
    std::uint64_t inner = 0;  ///< authenticated ESP whose payload was not usable L2TP/PPP
    std::uint64_t reports_suppressed = 0;  ///< drops not reported (rate limit)

    std::uint64_t total() const noexcept {
        return ike_flood + garbage_500 + garbage_4500 + garbage_1701 + l2tp_outside_esp +
               unknown_spi + esp_auth + inner;
    }
};

}  // namespace l2sec::vpn
