// l2sec-lac: an L2TP LAC over a real UDP socket. Connects to an LNS, brings
// up a tunnel and an incoming call, optionally PPP through IPCP (printing the
// addresses it got and pinging the LNS), and tears everything down cleanly.
//
//   l2sec-lac --lns 127.0.0.1:1701 [--bind 127.0.0.2:0] [--secret S] [--hold 2]
//             [--ppp --user U --password P [--auth pap|chap|mschapv2|any]
//              [--pings 3] [--ping A.B.C.D] [--ipv6]]
//
// Exit status: 0 when the tunnel and session (and with --ppp, IPCP) came up
// and everything was torn down (a CDN from the LNS is handled and reported),
// 1 otherwise.
#include <l2sec/core/checksum.hpp>
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/ppp/engine/link.hpp>
#include <l2sec/transport/posix_udp.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "common/options.hpp"
#include "common/ppp_session.hpp"
#include "common/udp_loop.hpp"

using namespace l2sec;
using examples::crypto_backend;
using examples::ipv4_text;
using examples::random_source;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
    std::string lns_arg = "127.0.0.1:1701", bind_arg = "0.0.0.0:0", secret, host = "l2sec-lac";
    std::string user, password, auth = "any";
    std::optional<transport::endpoint> ping_target;  // default: the LNS's IPCP address
    int hold = 2, limit = 60, pings = 3;
    bool with_ppp = false, with_ipv6 = false;
    examples::options cli;
    cli.flag("--ppp", with_ppp)
        .flag("--ipv6", with_ipv6)
        .text("--lns", lns_arg)
        .text("--bind", bind_arg)
        .text("--secret", secret)
        .text("--host-name", host)
        .number("--hold", hold)
        .number("--timeout", limit)
        .text("--user", user)
        .text("--password", password)
        .number("--pings", pings)
        .text("--auth", auth)
        .custom("--ping",
                [&](const std::string& v) { ping_target = examples::parse_endpoint(v, 0); });
    if (!cli.parse(argc, argv)) return 1;
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
    auto e = std::make_unique<l2tp::engine<crypto_backend>>(cfg, random_source{});

    auto t0 = examples::now();
    auto tid = e->open_tunnel(*lns, t0);
    if (!tid) {
        std::fprintf(stderr, "open_tunnel: %s\n", tid.error().message().c_str());
        return 1;
    }
    std::printf("l2tp: SCCRQ to %s from %s (local tunnel %u)\n", examples::to_text(*lns).c_str(),
                examples::to_text(sock->local_endpoint()).c_str(), *tid);

    bool tunnel_up = false, session_up = false, finished = false, ok = false, ipcp_up = false;
    std::uint16_t sid = 0;
    time_point hang_up_at = time_point::max();
    std::unique_ptr<ppp::link_engine<crypto_backend>> link;
    ppp::link_config pcfg;
    pcfg.user = user;
    pcfg.password = password;
    pcfg.ask_dns = true;
    pcfg.ipv6 = with_ipv6;
    // --auth restricts what we answer: pap, chap (MD5), mschapv2, or any.
    if (auth == "pap")
        pcfg.can_answer = {false, true, false, false};
    else if (auth == "chap")
        pcfg.can_answer = {false, false, true, false};
    else if (auth == "mschapv2")
        pcfg.can_answer = {false, false, false, true};
    int sent_pings = 0, replies = 0;
    time_point next_ping = time_point::max();
    auto send_frames = [&] {
        if (link && sid) examples::send_link_frames(*e, *sock, sid, *link);
    };
    auto on_event = [&](const l2tp::engine_event& ev, time_point now) {
        switch (ev.kind) {
            case l2tp::event_kind::tunnel_up: {
                tunnel_up = true;
                const auto t = e->tunnel_info(ev.tunnel);
                const std::string peer_host(t ? t->peer_host : "?");
                std::printf("l2tp: tunnel up: local %u, peer %u (%s)\n", ev.tunnel,
                            t ? t->peer_id : 0, peer_host.c_str());
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
                const auto s = e->session_info(ev.session);
                std::printf("l2tp: session up: local %u, peer %u\n", ev.session,
                            s ? s->peer_id : 0);
                if (with_ppp) {
                    link =
                        std::make_unique<ppp::link_engine<crypto_backend>>(pcfg, random_source{});
                    link->start(now);
                    std::printf("ppp: LCP started (user %s)\n", user.c_str());
                    send_frames();
                    hang_up_at =
                        now + std::chrono::seconds(limit / 2);  // a bound, in case PPP stalls
                } else {
                    hang_up_at = now + std::chrono::seconds(hold);
                }
                break;
            }
            case l2tp::event_kind::session_down:
                examples::print_event(ev);
                sid = 0;
                if (link) link->lower_down(now);
                (void)e->close_tunnel(*tid, now);
                break;
            case l2tp::event_kind::tunnel_down:
                examples::print_event(ev);
                finished = true;
                ok = tunnel_up && session_up && (!with_ppp || ipcp_up);
                break;
            default:
                examples::print_event(ev);
                break;
        }
    };
    auto on_data = [&](std::uint16_t, bytes_view payload, time_point now) {
        if (!link) {
            std::printf("l2tp: data, %zu bytes\n", payload.size());
            return;
        }
        auto ip = link->handle_frame(payload, now);
        if (!ip) {
            std::printf("ppp: bad frame: %s\n", ip.error().message().c_str());
        } else if (*ip && (*ip)->size() >= 21 && std::to_integer<int>((**ip)[9]) == 1 &&
                   std::to_integer<int>((**ip)[20]) == 0) {
            ++replies;
            std::printf("ip: echo reply %d from %s\n", replies,
                        ipv4_text(load_be32((*ip)->data() + 12)).c_str());
        } else if (*ip) {
            std::printf("ip: %zu bytes\n", (*ip)->size());
        }
    };
    auto tick = [&](time_point now) {
        if (link) {
            link->on_timer(now);
            while (auto ev = link->poll_event()) {
                std::string what = std::string("ppp: ") + ppp::to_string(ev->kind);
                if (ev->kind == ppp::link_event_kind::auth_success ||
                    ev->kind == ppp::link_event_kind::auth_failure)
                    what += std::string(" (") + ppp::to_string(ev->method) + ")";
                if (ev->kind == ppp::link_event_kind::ipcp_up) {
                    ipcp_up = true;
                    what += ": local address " + ipv4_text(ev->local_ip) + ", peer address " +
                            ipv4_text(ev->peer_ip);
                    if (ev->dns1) what += ", DNS " + ipv4_text(ev->dns1);
                    if (ev->dns2) what += " " + ipv4_text(ev->dns2);
                    next_ping = now;
                    hang_up_at = now + std::chrono::seconds(hold + pings);
                }
                if (ev->kind == ppp::link_event_kind::ipv6cp_up) {
                    char b[80];
                    std::snprintf(b, sizeof b, ": interface identifier %016llx, peer %016llx",
                                  static_cast<unsigned long long>(ev->local_iid),
                                  static_cast<unsigned long long>(ev->peer_iid));
                    what += b;
                }
                std::printf("%s\n", what.c_str());
                if (ev->kind == ppp::link_event_kind::finished && sid) {
                    std::printf("l2tp: CDN (local session %u)\n", sid);
                    (void)e->close_session(sid, now);
                    sid = 0;
                    (void)e->close_tunnel(*tid, now);
                }
            }
            if (ipcp_up && sent_pings < pings && now >= next_ping && link->is_up()) {
                // ICMP echo request to the LNS's address (checksums computed).
                std::array<std::byte, 28> p{};
                p[0] = std::byte{0x45};
                store_be16(p.data() + 2, 28);
                p[8] = std::byte{64};
                p[9] = std::byte{1};
                store_be32(p.data() + 12, link->local_ip());
                std::uint32_t dst = ping_target ? ping_target->v4_host_order() : link->peer_ip();
                store_be32(p.data() + 16, dst);
                p[20] = std::byte{8};
                store_be16(p.data() + 24, 0x1234);
                store_be16(p.data() + 26, static_cast<std::uint16_t>(++sent_pings));
                store_be16(p.data() + 10, internet_checksum(bytes_view(p).first(20)));
                store_be16(p.data() + 22, internet_checksum(bytes_view(p).subspan(20)));
                if (examples::send_ip(*e, *sock, sid, *link, p)) {
                    std::printf("ip: echo request %d to %s\n", sent_pings, ipv4_text(dst).c_str());
                }
                next_ping = now + std::chrono::seconds(1);
            }
            send_frames();
        }
        if (now >= hang_up_at && link && link->current_phase() != ppp::phase::dead) {
            hang_up_at = now + std::chrono::seconds(10);  // then hang up regardless
            std::printf("ppp: closing (LCP Terminate-Request)\n");
            link->close(now);
            send_frames();
            return;
        }
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
    if (with_ppp) std::printf("ip: %d of %d echo requests answered\n", replies, sent_pings);
    std::printf(
        "%s\n",
        ok ? (with_ppp ? "OK: tunnel, session and PPP through IPCP were up and are torn down"
                       : "OK: tunnel and session were up and are torn down")
           : "FAILED");
    return ok ? 0 : 1;
}
