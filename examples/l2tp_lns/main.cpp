// l2sec-lns: an L2TP LNS over a real UDP socket. Accepts tunnels and
// incoming calls, runs PPP as the authenticator (users from a small file),
// assigns addresses from a pool, answers pings to its own address, and
// exits after --sessions calls have ended (0 = run until --timeout).
//
//   l2sec-lns --bind 127.0.0.1:1701 --users users.txt [--auth chap|pap|mschapv2]
//             [--secret S] [--local-ip 10.99.0.1] [--pool 10.99.0.10-10.99.0.99]
//             [--dns 10.99.0.1] [--sessions 1] [--timeout 60] [--no-ppp]
//
// users.txt: one "name password" per line; '#' starts a comment.
#include <l2sec/core/checksum.hpp>
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/ppp/engine/link.hpp>
#include <l2sec/transport/posix_udp.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <span>
#include <sstream>
#include <string>

#include "common/options.hpp"
#include "common/ppp_session.hpp"
#include "common/udp_loop.hpp"

using namespace l2sec;
using examples::crypto_backend;
using examples::ipv4_text;
using examples::random_source;
using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string, std::less<>> users;

// The credential store: users.txt, read once at start.
struct file_users {
    std::optional<std::size_t> find_password(std::string_view user, std::span<char> out) noexcept {
        auto it = users.find(user);
        if (it == users.end() || it->second.size() > out.size()) return std::nullopt;
        std::copy(it->second.begin(), it->second.end(), out.begin());
        return it->second.size();
    }
};
file_users store;
using link_t = ppp::link_engine<crypto_backend, random_source, file_users>;

std::optional<std::uint32_t> parse_ip(const std::string& s) {
    auto e = examples::parse_endpoint(s, 0);
    if (!e) return std::nullopt;
    return e->v4_host_order();
}

struct call {
    std::unique_ptr<link_t> link;
    std::uint32_t address = 0;
};

}  // namespace

int main(int argc, char** argv) {
    std::string bind_arg = "127.0.0.1:1701", users_file, secret, auth = "chap", host = "l2sec-lns";
    std::string local_arg = "10.99.0.1", pool_arg = "10.99.0.10-10.99.0.99", dns_arg;
    int sessions_wanted = 1, limit = 60;
    bool with_ppp = true;
    examples::options cli;
    cli.flag("--no-ppp", with_ppp, false)
        .text("--bind", bind_arg)
        .text("--users", users_file)
        .text("--auth", auth)
        .text("--secret", secret)
        .text("--host-name", host)
        .text("--local-ip", local_arg)
        .text("--pool", pool_arg)
        .text("--dns", dns_arg)
        .number("--sessions", sessions_wanted)
        .number("--timeout", limit);
    if (!cli.parse(argc, argv)) return 1;
    if (!users_file.empty()) {
        std::ifstream in(users_file);
        if (!in) {
            std::fprintf(stderr, "cannot read %s\n", users_file.c_str());
            return 1;
        }
        std::string line;
        while (std::getline(in, line)) {
            if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
            std::istringstream ls(line);
            std::string u, p;
            if (ls >> u >> p) users[u] = p;
        }
    }
    ppp::auth_method method = ppp::auth_method::chap_md5;
    if (auth == "pap")
        method = ppp::auth_method::pap;
    else if (auth == "mschapv2")
        method = ppp::auth_method::mschapv2;
    else if (auth == "none")
        method = ppp::auth_method::none;
    auto local_ip = parse_ip(local_arg);
    auto dash = pool_arg.find('-');
    auto pool_lo = parse_ip(pool_arg.substr(0, dash));
    auto pool_hi = dash == std::string::npos ? pool_lo : parse_ip(pool_arg.substr(dash + 1));
    auto local = examples::parse_endpoint(bind_arg, 1701);
    if (!local_ip || !pool_lo || !pool_hi || !local || *pool_hi < *pool_lo) {
        std::fprintf(stderr, "bad address or pool\n");
        return 1;
    }
    std::uint32_t dns = dns_arg.empty() ? 0 : parse_ip(dns_arg).value_or(0);
    auto sock = transport::posix_udp::bind(*local);
    if (!sock) {
        std::fprintf(stderr, "bind %s: %s\n", bind_arg.c_str(), sock.error().message().c_str());
        return 1;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    l2tp::engine_config cfg;
    cfg.host_name = host;
    cfg.secret = as_bytes(secret);
    cfg.hold_time = 2s;
    auto e = std::make_unique<l2tp::engine<crypto_backend>>(cfg, random_source{});
    std::printf("l2tp: LNS listening on %s (%zu users, auth %s, pool %s)\n",
                examples::to_text(sock->local_endpoint()).c_str(), users.size(), auth.c_str(),
                pool_arg.c_str());

    std::map<std::uint16_t, call> calls;
    std::vector<bool> pool_used(*pool_hi - *pool_lo + 1, false);
    int ended = 0;
    auto send_frames = [&](std::uint16_t sid, call& c) {
        if (c.link) examples::send_link_frames(*e, *sock, sid, *c.link);
    };
    auto release = [&](call& c) {
        if (c.address) pool_used[c.address - *pool_lo] = false;
        c.address = 0;
    };
    auto on_event = [&](const l2tp::engine_event& ev, time_point now) {
        switch (ev.kind) {
            case l2tp::event_kind::tunnel_up: {
                const auto t = e->tunnel_info(ev.tunnel);
                const std::string peer_host(t ? t->peer_host : "?");
                std::printf("l2tp: tunnel %u up (peer %s, tunnel %u, host %s)\n", ev.tunnel,
                            t ? examples::to_text(t->peer).c_str() : "?", t ? t->peer_id : 0,
                            peer_host.c_str());
                break;
            }
            case l2tp::event_kind::incoming_call:
                std::printf("l2tp: incoming call, session %u on tunnel %u\n", ev.session,
                            ev.tunnel);
                break;
            case l2tp::event_kind::session_up: {
                std::printf("l2tp: session %u up\n", ev.session);
                if (!with_ppp) break;
                call c;
                for (std::size_t i = 0; i < pool_used.size(); ++i)
                    if (!pool_used[i]) {
                        pool_used[i] = true;
                        c.address = *pool_lo + static_cast<std::uint32_t>(i);
                        break;
                    }
                if (!c.address) {
                    std::printf("l2tp: address pool exhausted: CDN\n");
                    (void)e->close_session(ev.session, now,
                                           l2tp::cdn_result::temporary_lack_of_resources);
                    break;
                }
                ppp::link_config pc;
                pc.server = true;
                pc.require = method;
                pc.local_ip = *local_ip;
                pc.peer_ip = c.address;
                pc.dns1 = dns;
                pc.name = host;
                c.link = std::make_unique<link_t>(pc, random_source{}, store);
                c.link->start(now);
                auto& slot = calls[ev.session] = std::move(c);
                send_frames(ev.session, slot);
                break;
            }
            case l2tp::event_kind::session_down: {
                examples::print_event(ev);
                if (auto it = calls.find(ev.session); it != calls.end()) {
                    release(it->second);
                    calls.erase(it);
                }
                ++ended;
                break;
            }
            default:
                examples::print_event(ev);
                break;
        }
    };
    auto on_data = [&](std::uint16_t sid, bytes_view payload, time_point now) {
        auto it = calls.find(sid);
        if (it == calls.end()) return;
        auto& c = it->second;
        auto ip = c.link->handle_frame(payload, now);
        if (ip && *ip && (*ip)->size() >= 28 && std::to_integer<int>((**ip)[9]) == 1 &&
            std::to_integer<int>((**ip)[20]) == 8 && load_be32((*ip)->data() + 16) == *local_ip) {
            // Echo request to us: swap addresses, type 0, fix the ICMP checksum.
            std::array<std::byte, 1500> r{};
            auto n = std::min<std::size_t>((*ip)->size(), r.size());
            copy_to(r, (*ip)->first(n));
            copy_to(mutable_bytes(r).subspan(12, 4), (*ip)->subspan(16, 4));
            copy_to(mutable_bytes(r).subspan(16, 4), (*ip)->subspan(12, 4));
            r[20] = std::byte{0};
            store_be16(r.data() + 22, 0);
            store_be16(r.data() + 22, internet_checksum(bytes_view(r).subspan(20, n - 20)));
            (void)examples::send_ip(*e, *sock, sid, *c.link, bytes_view(r.data(), n));
            std::printf("ip: echo request from %s answered\n",
                        ipv4_text(load_be32((*ip)->data() + 12)).c_str());
        }
        send_frames(sid, c);
    };
    auto tick = [&](time_point now) {
        for (auto& [sid, c] : calls) {
            c.link->on_timer(now);
            while (auto ev = c.link->poll_event()) {
                std::string what = "ppp[" + std::to_string(sid) + "]: " + ppp::to_string(ev->kind);
                if (ev->kind == ppp::link_event_kind::auth_success ||
                    ev->kind == ppp::link_event_kind::auth_failure)
                    what += std::string(" (") + ppp::to_string(ev->method) + ", user " +
                            std::string(c.link->authenticated_user()) + ")";
                if (ev->kind == ppp::link_event_kind::ipcp_up)
                    what += ": assigned " + ipv4_text(ev->peer_ip) + ", local " +
                            ipv4_text(ev->local_ip);
                std::printf("%s\n", what.c_str());
                if (ev->kind == ppp::link_event_kind::finished) {
                    std::printf("l2tp: CDN for session %u\n", sid);
                    (void)e->close_session(sid, now);
                }
            }
            send_frames(sid, c);
        }
    };
    int rc = examples::run(
        *e, *sock, on_event, on_data, tick,
        [&] { return sessions_wanted > 0 && ended >= sessions_wanted && e->tunnel_count() == 0; },
        std::chrono::seconds(limit));
    std::printf("%s: %d session(s) ended\n", rc == 0 ? "OK" : "stopped", ended);
    return rc == 0 ? 0 : 1;
}
