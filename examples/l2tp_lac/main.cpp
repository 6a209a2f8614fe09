// l2sec-lac: an L2TP LAC over a real UDP socket. Connects to an LNS, brings
// up a tunnel and an incoming call, and tears both down cleanly.
//
//   l2sec-lac --lns 127.0.0.1:1701 [--bind 127.0.0.2:0] [--secret S] [--hold 2]
//
// Exit status: 0 when the tunnel and session came up and everything was torn
// down (a CDN from the LNS is handled and reported), 1 otherwise.
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/transport/posix_udp.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "common/udp_loop.hpp"

using namespace l2sec;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
    std::string lns_arg = "127.0.0.1:1701", bind_arg = "0.0.0.0:0", secret, host = "l2sec-lac";
    int hold = 2, limit = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--lns")
            lns_arg = v;
        else if (k == "--bind")
            bind_arg = v;
        else if (k == "--secret")
            secret = v;
        else if (k == "--host-name")
            host = v;
        else if (k == "--hold")
            hold = std::atoi(v.c_str());
        else if (k == "--timeout")
            limit = std::atoi(v.c_str());
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 1;
        }
    }
    auto lns = examples::parse_endpoint(lns_arg, 1701);
    auto local = examples::parse_endpoint(bind_arg, 0);
    if (!lns || !local) {
        std::fprintf(stderr, "bad address\n");
        return 1;
    }
    auto sock = transport::posix_udp::bind(*local);
    if (!sock) {
        std::fprintf(stderr, "bind %s: %s\n", bind_arg.c_str(), sock.error().message().c_str());
        return 1;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);

    l2tp::engine_config cfg;
    cfg.host_name = host;
    cfg.secret = as_bytes(secret);
    cfg.accept_tunnels = false;
    cfg.hold_time = 1s;
    std::array<std::byte, 8> seed{};
    auto rnd = std::fopen("/dev/urandom", "rb");
    if (rnd) {
        (void)!std::fread(seed.data(), 1, seed.size(), rnd);
        std::fclose(rnd);
    }
    auto e = std::make_unique<l2tp::engine<>>(cfg, l2tp::seeded_random(load_be64(seed.data())));

    auto t0 = examples::now();
    auto tid = e->open_tunnel(*lns, t0);
    if (!tid) {
        std::fprintf(stderr, "open_tunnel: %s\n", tid.error().message().c_str());
        return 1;
    }
    std::printf("l2tp: SCCRQ to %s from %s (local tunnel %u)\n", examples::to_text(*lns).c_str(),
                examples::to_text(sock->local_endpoint()).c_str(), *tid);

    bool tunnel_up = false, session_up = false, finished = false, ok = false;
    std::uint16_t sid = 0;
    time_point hang_up_at = time_point::max();
    auto on_event = [&](const l2tp::engine_event& ev, time_point now) {
        switch (ev.kind) {
            case l2tp::event_kind::tunnel_up: {
                tunnel_up = true;
                auto* t = e->find_tunnel(ev.tunnel);
                std::printf("l2tp: tunnel up: local %u, peer %u (%s)\n", ev.tunnel,
                            t ? t->peer_id : 0, t ? t->peer_host.data() : "?");
                auto s = e->open_session(ev.tunnel, now);
                if (!s) {
                    std::printf("l2tp: open_session failed: %s\n", s.error().message().c_str());
                    (void)e->close_tunnel(ev.tunnel, now);
                    break;
                }
                sid = *s;
                std::printf("l2tp: ICRQ (local session %u)\n", sid);
                break;
            }
            case l2tp::event_kind::session_up: {
                session_up = true;
                auto* s = e->find_session(ev.session);
                std::printf("l2tp: session up: local %u, peer %u\n", ev.session,
                            s ? s->peer_id : 0);
                hang_up_at = now + std::chrono::seconds(hold);
                break;
            }
            case l2tp::event_kind::session_down:
                std::printf("l2tp: session %u down: result code %u, error code %u\n", ev.session,
                            ev.result_code, ev.error_code);
                sid = 0;
                (void)e->close_tunnel(*tid, now);
                break;
            case l2tp::event_kind::tunnel_down:
                std::printf("l2tp: tunnel %u down: result code %u\n", ev.tunnel, ev.result_code);
                finished = true;
                ok = tunnel_up && session_up;
                break;
            case l2tp::event_kind::protocol_error:
                std::printf("l2tp: protocol error: %s\n", ev.error.message().c_str());
                break;
            default:
                std::printf("l2tp: %s\n", l2tp::to_string(ev.kind));
                break;
        }
    };
    auto on_data = [&](std::uint16_t, bytes_view payload, time_point) {
        std::printf("l2tp: data, %zu bytes\n", payload.size());
    };
    auto tick = [&](time_point now) {
        if (now >= hang_up_at) {
            hang_up_at = time_point::max();
            if (sid) {
                std::printf("l2tp: CDN (local session %u)\n", sid);
                (void)e->close_session(sid, now);
                sid = 0;
            }
            (void)e->close_tunnel(*tid, now);
        }
    };
    int rc = examples::run(
        *e, *sock, on_event, on_data, tick, [&] { return finished; }, std::chrono::seconds(limit));
    if (rc != 0) return 1;
    std::printf("%s\n", ok ? "OK: tunnel and session were up and are torn down" : "FAILED");
    return ok ? 0 : 1;
}
