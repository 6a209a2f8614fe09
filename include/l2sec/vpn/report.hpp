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

enum class report_kind : std::uint8_t {
    ike_up,        ///< IKE SA established with the peer
    ike_down,      ///< IKE SA gone (deleted, expired, or the peer died)
    esp_up,        ///< an ESP SA pair installed (spi_in, spi_out, suite; rekey when old_spi_in)
    esp_down,      ///< an ESP SA removed (spi_in)
    tunnel_up,     ///< L2TP tunnel established
    tunnel_down,   ///< L2TP tunnel closed
    session_up,    ///< PPP up: user authenticated, address assigned (ip, user)
    session_down,  ///< PPP session ended
    auth_failed,   ///< PPP authentication refused (user)
    failed,        ///< something failed; `reason` says what
    dropped,  ///< a datagram or packet was dropped; `reason` says why (rate-limited by the caller)
};

constexpr const char* to_string(report_kind k) noexcept {
    switch (k) {
        case report_kind::ike_up:
            return "ike-up";
        case report_kind::ike_down:
            return "ike-down";
        case report_kind::esp_up:
            return "esp-up";
        case report_kind::esp_down:
            return "esp-down";
        case report_kind::tunnel_up:
            return "tunnel-up";
        case report_kind::tunnel_down:
            return "tunnel-down";
        case report_kind::session_up:
            return "session-up";
        case report_kind::session_down:
            return "session-down";
        case report_kind::auth_failed:
            return "auth-failed";
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
    std::uint32_t ip = 0, local_ip = 0, dns = 0;  ///< session_up: the PPP addresses (host order)
    std::array<char, 64> user{};                  ///< session_up / auth_failed
    l2sec::error reason{};                        ///< failed / dropped / *_down

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

}  // namespace l2sec::vpn
