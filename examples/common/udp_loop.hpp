// A tiny poll(2) loop shared by the l2tp_lac and l2tp_lns examples: one
// non-blocking UDP socket, an L2TP engine, and a callback per event.
#pragma once

#include <l2sec/l2tp/engine.hpp>
#include <l2sec/transport/posix_udp.hpp>

#include <poll.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace l2sec::examples {

inline std::optional<transport::endpoint> parse_endpoint(const std::string& s,
                                                         std::uint16_t def_port) {
    unsigned a, b, c, d, port = def_port;
    char tail = 0;
    int n = std::sscanf(s.c_str(), "%u.%u.%u.%u:%u%c", &a, &b, &c, &d, &port, &tail);
    if (n < 4 || n == 6 || a > 255 || b > 255 || c > 255 || d > 255 || port > 65535)
        return std::nullopt;
    return transport::endpoint::v4(static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b),
                                   static_cast<std::uint8_t>(c), static_cast<std::uint8_t>(d),
                                   static_cast<std::uint16_t>(port));
}

inline std::string to_text(const transport::endpoint& e) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", e.addr[0], e.addr[1], e.addr[2], e.addr[3],
                  e.port);
    return buf;
}

inline time_point now() {
    return std::chrono::steady_clock::now();
}

/// Drive `e` over `sock` until `done()`; `on_event` sees every engine event,
/// `on_data` every data payload; `tick()` runs once per loop turn.
template <class Engine, class OnEvent, class OnData, class Tick, class Done>
int run(Engine& e, transport::posix_udp& sock, OnEvent on_event, OnData on_data, Tick tick,
        Done done, std::chrono::seconds limit) {
    std::array<std::byte, 2048> buf{};
    auto end = now() + limit;
    while (!done()) {
        auto t = now();
        if (t > end) {
            std::printf("timeout after %lld s\n", static_cast<long long>(limit.count()));
            return 2;
        }
        e.on_timer(t);
        tick(t);
        while (auto o = e.poll_transmit(t, buf))
            (void)sock.send_to(o->to, bytes_view(buf.data(), o->size));
        while (auto ev = e.poll_event())
            on_event(*ev, t);
        while (auto o = e.poll_transmit(t, buf))
            (void)sock.send_to(o->to, bytes_view(buf.data(), o->size));
        if (done()) break;
        int timeout_ms = 200;
        if (auto d = e.deadline()) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d - t).count();
            if (ms < timeout_ms) timeout_ms = ms < 0 ? 0 : static_cast<int>(ms);
        }
        pollfd p{sock.fd(), POLLIN, 0};
        ::poll(&p, 1, timeout_ms);
        while (auto r = sock.receive_from(buf)) {
            auto in = e.handle_datagram(r->from, bytes_view(buf.data(), r->size), now());
            if (in && in->data)
                on_data(in->session, in->payload, now());
            else if (!in)
                std::printf("  dropped datagram from %s: %s\n", to_text(r->from).c_str(),
                            in.error().message().c_str());
        }
    }
    return 0;
}

}  // namespace l2sec::examples
