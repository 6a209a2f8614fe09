// l2sec-demo: a LAC and an LNS in one process, over the seeded in-memory
// network. Tunnel (with a shared secret), session, PPP (LCP, MS-CHAPv2 or
// CHAP-MD5, IPCP), a few pings through the session, then a clean teardown,
// with a trace of every datagram as each layer sees it.
//
//   l2sec-demo [--loss 0.2] [--seed 7] [--quiet]
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/l2tp/message.hpp>
#include <l2sec/ppp/engine/link.hpp>
#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/transport/memory_network.hpp>

#include "common/crypto.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>

using namespace l2sec;
using namespace std::chrono_literals;

namespace {

using examples::crypto_backend;
constexpr auto demo_auth = ppp::auth_method::mschapv2;
// The demo replays the same run from --seed, so its randomness is the
// deterministic generator that says it is insecure: a simulation, not a VPN.
using demo_random = testing::insecure_deterministic_random;
using net_t = transport::memory_network<256, 1600, 2>;
using l2tp_engine = l2tp::engine<crypto_backend, l2tp::limits<4, 16>, demo_random>;

bool quiet = false;
time_point t0{};

std::string ip_text(std::uint32_t a) {
    char b[20];
    std::snprintf(b, sizeof b, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    return b;
}

double ms(time_point t) {
    return std::chrono::duration<double, std::milli>(t - t0).count();
}

void say(time_point now, const char* who, const std::string& what) {
    std::printf("%9.1f ms  %-4s %s\n", ms(now), who, what.c_str());
}

// What each layer sees in a datagram: L2TP message or data, then PPP inside.
std::string describe(bytes_view d) {
    auto m = l2tp::parse(d);
    if (!m) return "malformed: " + m.error().message();
    char b[160];
    const auto& h = m->hdr();
    if (m->is_control()) {
        std::snprintf(b, sizeof b, "L2TP %-7s tunnel %u session %u  Ns %u Nr %u", m->type_name(),
                      h.tunnel_id, h.session_id, h.ns, h.nr);
        return b;
    }
    auto f = ppp::decode_frame(m->payload());
    if (!f) return "L2TP data, bad PPP frame";
    const char* proto = ppp::protocol_name(f->protocol);
    std::string inner;
    if (f->protocol == ppp::protocol::ip) {
        inner = "IPv4 " + std::to_string(f->information.size()) + " bytes";
        if (f->information.size() >= 20) {
            inner += " " + ip_text(load_be32(f->information.data() + 12)) + " -> " +
                     ip_text(load_be32(f->information.data() + 16));
            if (f->information.size() >= 21 && std::to_integer<int>(f->information[9]) == 1)
                inner += std::to_integer<int>(f->information[20]) == 8 ? " ICMP echo request"
                                                                       : " ICMP echo reply";
        }
    } else if (f->protocol == ppp::protocol::pap || f->protocol == ppp::protocol::chap) {
        int c = f->information.empty() ? 0 : std::to_integer<int>(f->information[0]);
        static const char* chap[] = {"?", "Challenge", "Response", "Success", "Failure"};
        static const char* pap[] = {"?", "Authenticate-Request", "Authenticate-Ack",
                                    "Authenticate-Nak"};
        inner = std::string(f->protocol == ppp::protocol::chap ? "CHAP " : "PAP ") +
                ((f->protocol == ppp::protocol::chap ? c <= 4 : c <= 3)
                     ? (f->protocol == ppp::protocol::chap ? chap[c] : pap[c])
                     : "?");
    } else {
        auto p = ppp::decode_packet(f->information);
        const char* cn = p ? ppp::code_name(p->code) : nullptr;
        inner = std::string(proto ? proto : "?") + " " + (cn ? cn : "?");
        if (p) inner += " id " + std::to_string(p->identifier);
    }
    std::snprintf(b, sizeof b, "L2TP data    tunnel %u session %u  | PPP %s", h.tunnel_id,
                  h.session_id, inner.c_str());
    return b;
}

struct users {
    std::optional<std::size_t> find_password(std::string_view u, std::span<char> out) noexcept {
        constexpr std::string_view pw = "wonderland";
        if (u != "alice") return std::nullopt;
        std::copy(pw.begin(), pw.end(), out.begin());
        return pw.size();
    }
} user_store;
using ppp_link = ppp::link_engine<crypto_backend, demo_random, users>;

// One side: L2TP engine + (once the session is up) a PPP link.
struct side {
    const char* name;
    std::unique_ptr<l2tp_engine> l2tp;
    std::unique_ptr<ppp_link> ppp;
    ppp::link_config ppp_cfg;
    std::uint64_t ppp_seed = 0;
    net_t::socket sock;
    std::uint16_t tunnel = 0, session = 0;
    bool ipcp_up = false, done = false;
    int pings = 0, pongs = 0;
};

std::array<std::byte, 1600> scratch{};

void send_ppp(side& s, net_t& net, bytes_view frame, time_point now) {
    std::array<std::byte, 1600> out{};
    auto o = s.l2tp->encode_data(s.session, frame, out);
    if (!o) return;
    if (!quiet) say(now, s.name, "-> " + describe(bytes_view(out.data(), o->size)));
    (void)s.sock.send_to(o->to, bytes_view(out.data(), o->size));
    (void)net;
}

void flush(side& s, net_t& net, time_point now) {
    while (auto o = s.l2tp->poll_transmit(now, scratch)) {
        if (!quiet) say(now, s.name, "-> " + describe(bytes_view(scratch.data(), o->size)));
        (void)s.sock.send_to(o->to, bytes_view(scratch.data(), o->size));
    }
    if (s.ppp) {
        std::array<std::byte, 1600> f{};
        while (auto n = s.ppp->poll_transmit(f))
            send_ppp(s, net, bytes_view(f.data(), *n), now);
    }
}

// A minimal ICMP echo in IPv4 (checksums left zero: nothing here checks them).
std::array<std::byte, 28> icmp(std::uint32_t src, std::uint32_t dst, bool request,
                               std::uint16_t seq) {
    std::array<std::byte, 28> p{};
    p[0] = std::byte{0x45};
    store_be16(p.data() + 2, 28);
    p[8] = std::byte{64};
    p[9] = std::byte{1};
    store_be32(p.data() + 12, src);
    store_be32(p.data() + 16, dst);
    p[20] = std::byte{static_cast<unsigned char>(request ? 8 : 0)};
    store_be16(p.data() + 26, seq);
    return p;
}

}  // namespace

int main(int argc, char** argv) {
    double loss = 0;
    std::uint64_t seed = 7;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--loss" && i + 1 < argc)
            loss = std::atof(argv[++i]);
        else if (a == "--seed" && i + 1 < argc)
            seed = std::strtoull(argv[++i], nullptr, 10);
        else if (a == "--quiet")
            quiet = true;
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    auto net = std::make_unique<net_t>(seed, transport::impairments{loss, 0, 0, 5ms, 5ms});
    auto lac_ep = transport::endpoint::v4(192, 0, 2, 1, 1701),
         lns_ep = transport::endpoint::v4(192, 0, 2, 2, 1701);

    const char* secret = "demo-secret";
    l2tp::engine_config lc{.host_name = "demo-lac", .secret = as_bytes(secret), .hide_avps = true};
    lc.accept_tunnels = false;
    lc.hold_time = 2s;
    if (loss > 0) {  // a lossy network needs more patience than the RFC defaults
        lc.channel.max_retransmissions = 12;
        lc.hold_time = 120s;
    }
    l2tp::engine_config nc = lc;
    nc.host_name = "demo-lns";
    nc.accept_tunnels = true;

    side lac{"LAC",    std::make_unique<l2tp_engine>(lc, demo_random(seed)),
             nullptr,  {},
             seed * 3, *net->open(lac_ep)};
    side lns{"LNS",    std::make_unique<l2tp_engine>(nc, demo_random(seed + 1)),
             nullptr,  {},
             seed * 5, *net->open(lns_ep)};
    lac.ppp_cfg.user = "alice";
    lac.ppp_cfg.password = "wonderland";
    lac.ppp_cfg.ask_dns = true;
    lns.ppp_cfg.server = true;
    lns.ppp_cfg.require = demo_auth;
    lns.ppp_cfg.local_ip = 0x0a000001;
    lns.ppp_cfg.peer_ip = 0x0a000064;
    lns.ppp_cfg.dns1 = 0x0a000001;
    if (loss > 0)
        for (auto* c : {&lac.ppp_cfg, &lns.ppp_cfg})
            c->timers.max_configure = c->timers.max_terminate = 20;

    std::printf(
        "l2sec demo: LAC %s and LNS %s over the in-memory network (loss %.0f%%, seed %llu)\n",
        "192.0.2.1", "192.0.2.2", loss * 100, static_cast<unsigned long long>(seed));
    std::printf("tunnel secret \"%s\" (Challenge/Response, hidden AVPs), PPP user alice, %s\n\n",
                secret, ppp::to_string(demo_auth));

    time_point now = t0;
    auto tid = lac.l2tp->open_tunnel(lns_ep, now);
    if (!tid) return 1;
    say(now, "LAC", "open tunnel to 192.0.2.2:1701");
    bool closing = false;
    int exit_code = 1;

    auto l2tp_events = [&](side& sd) {
        side* s = &sd;
        while (auto ev = s->l2tp->poll_event()) {
            say(now, s->name,
                std::string("   l2tp: ") + l2tp::to_string(ev->kind) + " (tunnel " +
                    std::to_string(ev->tunnel) + ", session " + std::to_string(ev->session) +
                    (ev->result_code ? ", result " + std::to_string(ev->result_code) : "") + ")");
            switch (ev->kind) {
                case l2tp::event_kind::tunnel_up:
                    s->tunnel = ev->tunnel;
                    if (s == &lac) {
                        auto sid = lac.l2tp->open_session(ev->tunnel, now);
                        if (sid) lac.session = *sid;
                    }
                    break;
                case l2tp::event_kind::session_up:
                    s->session = ev->session;
                    s->ppp = s == &lns
                                 ? std::make_unique<ppp_link>(s->ppp_cfg, demo_random(s->ppp_seed),
                                                              user_store)
                                 : std::make_unique<ppp_link>(s->ppp_cfg, demo_random(s->ppp_seed));
                    s->ppp->start(now);
                    break;
                case l2tp::event_kind::session_down:
                    if (s->ppp) s->ppp->lower_down(now);
                    if (s == &lac) (void)lac.l2tp->close_tunnel(lac.tunnel, now);
                    break;
                case l2tp::event_kind::tunnel_down:
                    s->done = true;
                    break;
                default:
                    break;
            }
        }
    };
    time_point ping_due = time_point::max();
    for (int iter = 0; iter < 200000; ++iter) {
        net->advance_to(now);
        for (side* s : {&lac, &lns}) {
            while (auto r = s->sock.receive_from(scratch)) {
                bytes_view d(scratch.data(), r->size);
                auto in = s->l2tp->handle_datagram(r->from, d, now);
                l2tp_events(*s);  // a session that just came up gets its PPP link before its data
                if (in && in->data && s->ppp) {
                    auto ip = s->ppp->handle_frame(in->payload, now);
                    if (ip && *ip && (*ip)->size() >= 21) {
                        bool req = std::to_integer<int>((**ip)[20]) == 8;
                        if (s == &lns && req) {  // the LNS answers pings
                            auto reply =
                                icmp(load_be32((*ip)->data() + 16), load_be32((*ip)->data() + 12),
                                     false, load_be16((*ip)->data() + 26));
                            std::array<std::byte, 64> f{};
                            if (auto n = s->ppp->encode_ip(reply, f))
                                send_ppp(*s, *net, bytes_view(f.data(), *n), now);
                        } else if (s == &lac && !req) {
                            ++s->pongs;
                            say(now, "LAC",
                                "   ping reply " + std::to_string(s->pongs) + " received");
                        }
                    }
                }
            }
            s->l2tp->on_timer(now);
            if (s->ppp) s->ppp->on_timer(now);
            flush(*s, *net, now);  // may finish a closing tunnel: its event comes next
            l2tp_events(*s);
            if (s->ppp) {
                while (auto ev = s->ppp->poll_event()) {
                    std::string what = std::string("   ppp: ") + ppp::to_string(ev->kind);
                    if (ev->kind == ppp::link_event_kind::auth_success ||
                        ev->kind == ppp::link_event_kind::auth_failure)
                        what += std::string(" (") + ppp::to_string(ev->method) + ")";
                    if (ev->kind == ppp::link_event_kind::ipcp_up) {
                        what +=
                            ": local " + ip_text(ev->local_ip) + ", peer " + ip_text(ev->peer_ip);
                        if (ev->dns1) what += ", DNS " + ip_text(ev->dns1);
                        s->ipcp_up = true;
                    }
                    say(now, s->name, what);
                    if (ev->kind == ppp::link_event_kind::finished && s == &lac && lac.session) {
                        (void)lac.l2tp->close_session(lac.session, now);
                        lac.session = 0;
                    }
                    if (ev->kind == ppp::link_event_kind::auth_failure) closing = true;
                }
            }
        }
        // Once both ends have IPCP up, ping three times, then hang up.
        if (lac.ipcp_up && lns.ipcp_up && lac.pongs < 3 &&
            (lac.pings == lac.pongs || now >= ping_due)) {
            if (lac.pings == lac.pongs) ++lac.pings;  // else: resend the unanswered one
            ping_due = now + 1s;
            auto p = icmp(lac.ppp->local_ip(), lac.ppp->peer_ip(), true,
                          static_cast<std::uint16_t>(lac.pings));
            std::array<std::byte, 64> f{};
            if (auto n = lac.ppp->encode_ip(p, f))
                send_ppp(lac, *net, bytes_view(f.data(), *n), now);
        }
        if (lac.pongs == 3 && !closing) {
            closing = true;
            say(now, "LAC",
                "   three pings answered: closing PPP, then the session and the tunnel");
            lac.ppp->close(now);
        }
        for (side* s : {&lac, &lns})
            flush(*s, *net, now);
        if (lac.done && lns.done) {
            exit_code = lac.pongs == 3 ? 0 : 1;
            break;
        }
        // Next thing to happen.
        std::optional<time_point> t;
        auto take = [&](std::optional<time_point> d) {
            if (d && (!t || *d < *t)) t = d;
        };
        take(net->next_delivery());
        if (lac.ipcp_up && lac.pongs < 3) take(ping_due);
        for (side* s : {&lac, &lns}) {
            take(s->l2tp->deadline());
            if (s->ppp) take(s->ppp->deadline());
        }
        if (!t) break;
        now = *t > now ? *t : now + 1ms;
        if (now - t0 > 600s) break;
    }
    auto& st = net->stats();
    std::printf(
        "\n%s after %.1f ms of simulated time: %llu datagrams sent, %llu lost, %llu delivered\n",
        exit_code == 0 ? "done" : "FAILED", ms(now), static_cast<unsigned long long>(st.sent),
        static_cast<unsigned long long>(st.lost), static_cast<unsigned long long>(st.delivered));
    return exit_code;
}
