// What the l2tp_lac and l2tp_lns examples both do around a PPP link carried
// in an L2TP session: sending the link's frames and IP packets as L2TP data,
// and the log line of an L2TP event. The crypto backend and random source
// are in common/crypto.hpp.
#pragma once

#include <l2sec/l2tp/engine.hpp>
#include <l2sec/ppp/engine/link.hpp>
#include <l2sec/transport/posix_udp.hpp>

#include "common/crypto.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>

namespace l2sec::examples {

/// "a.b.c.d" for an IPv4 address in host order.
inline std::string ipv4_text(std::uint32_t a) {
    char b[20];
    std::snprintf(b, sizeof b, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    return b;
}

/// Sends every frame `link` has queued as L2TP data of session `sid`.
template <class Engine, class Link>
void send_link_frames(Engine& e, transport::posix_udp& sock, std::uint16_t sid, Link& link) {
    std::array<std::byte, 2048> frame{}, dgram{};
    while (auto n = link.poll_transmit(frame))
        if (auto o = e.encode_data(sid, bytes_view(frame.data(), *n), dgram))
            (void)sock.send_to(o->to, bytes_view(dgram.data(), o->size));
}

/// Sends the IPv4 packet `ip` through `link` as L2TP data of session `sid`;
/// false if the link could not frame it.
template <class Engine, class Link>
bool send_ip(Engine& e, transport::posix_udp& sock, std::uint16_t sid, Link& link, bytes_view ip) {
    std::array<std::byte, 1600> frame{};
    std::array<std::byte, 2048> dgram{};
    auto n = link.encode_ip(ip, frame);
    if (!n) return false;
    if (auto o = e.encode_data(sid, bytes_view(frame.data(), *n), dgram))
        (void)sock.send_to(o->to, bytes_view(dgram.data(), o->size));
    return true;
}

/// Prints "l2tp: ..." for an event: the result codes of a session or tunnel
/// going down, the error of a protocol error, else the event's name.
inline void print_event(const l2tp::engine_event& ev) {
    switch (ev.kind) {
        case l2tp::event_kind::session_down:
            std::printf("l2tp: session %u down: result code %u, error code %u\n", ev.session,
                        ev.result_code, ev.error_code);
            break;
        case l2tp::event_kind::tunnel_down:
            std::printf("l2tp: tunnel %u down: result code %u\n", ev.tunnel, ev.result_code);
            break;
        case l2tp::event_kind::protocol_error:
            std::printf("l2tp: protocol error: %s\n", ev.error.message().c_str());
            break;
        default:
            std::printf("l2tp: %s\n", l2tp::to_string(ev.kind));
            break;
    }
}

}  // namespace l2sec::examples
