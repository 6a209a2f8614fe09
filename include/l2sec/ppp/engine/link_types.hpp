// The PPP link engine's vocabulary: link phases (RFC 1661 3.2), the link's
// configuration, and the events it reports.
#pragma once

#include <l2sec/core/clock.hpp>
#include <l2sec/ppp/auth.hpp>
#include <l2sec/ppp/automaton.hpp>
#include <l2sec/ppp/option_policies.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace l2sec::ppp {

enum class phase : std::uint8_t { dead, establish, authenticate, network, terminate };

constexpr const char* to_string(phase p) noexcept {
    switch (p) {
        case phase::dead:
            return "dead";
        case phase::establish:
            return "establish";
        case phase::authenticate:
            return "authenticate";
        case phase::network:
            return "network";
        case phase::terminate:
            return "terminate";
    }
    return "?";
}

struct link_config {
    bool server = false;                      ///< authenticator and address assigner (LNS side)
    auth_method require = auth_method::none;  ///< server: what the peer must do
    std::array<bool, 4> can_answer{false, true, true,
                                   true};  ///< client: none, PAP, CHAP-MD5, MS-CHAPv2
    std::string_view name = "l2sec";       ///< our CHAP name
    std::string_view user{}, password{};   ///< client credentials
    std::uint16_t mru = 1400;
    std::uint32_t local_ip = 0;  ///< server: its own address; client: 0 (ask)
    std::uint32_t peer_ip = 0;   ///< server: the address given to the client
    std::uint32_t dns1 = 0, dns2 = 0;
    bool ask_dns = false;                               ///< client: request DNS servers
    bool ipv6 = false;                                  ///< also run IPV6CP
    duration echo_interval = std::chrono::seconds(20);  ///< 0 = no keepalive
    std::uint8_t echo_failures = 3;
    automaton_config timers{};
    auth_timing auth{};
};

enum class link_event_kind : std::uint8_t {
    lcp_up,
    lcp_down,
    auth_success,
    auth_failure,
    ipcp_up,
    ipcp_down,
    ipv6cp_up,
    ipv6cp_down,
    echo_timeout,
    loopback,
    finished,  ///< LCP finished: the link is dead
};

constexpr const char* to_string(link_event_kind k) noexcept {
    switch (k) {
        case link_event_kind::lcp_up:
            return "lcp-up";
        case link_event_kind::lcp_down:
            return "lcp-down";
        case link_event_kind::auth_success:
            return "auth-success";
        case link_event_kind::auth_failure:
            return "auth-failure";
        case link_event_kind::ipcp_up:
            return "ipcp-up";
        case link_event_kind::ipcp_down:
            return "ipcp-down";
        case link_event_kind::ipv6cp_up:
            return "ipv6cp-up";
        case link_event_kind::ipv6cp_down:
            return "ipv6cp-down";
        case link_event_kind::echo_timeout:
            return "echo-timeout";
        case link_event_kind::loopback:
            return "loopback";
        case link_event_kind::finished:
            return "finished";
    }
    return "?";
}

struct link_event {
    link_event_kind kind{};
    std::uint32_t local_ip = 0, peer_ip = 0, dns1 = 0, dns2 = 0;
    std::uint64_t local_iid = 0, peer_iid = 0;
    auth_method method = auth_method::none;
};

}  // namespace l2sec::ppp
