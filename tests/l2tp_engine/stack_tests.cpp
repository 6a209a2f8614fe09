// The whole stack in simulation: L2TP engines (LAC and LNS) carrying PPP
// links (MS-CHAPv2 or CHAP-MD5, IPCP) over the in-memory network with 30%
// loss, duplication and reordering; every seed must bring the session up to
// IPCP with agreeing addresses, carry a datagram, and tear down cleanly.
#include <l2sec/crypto/botan.hpp>
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/ppp/engine/link.hpp>
#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/transport/memory_network.hpp>

#include <doctest/doctest.h>

#include <memory>

#include "support/users.hpp"

using namespace l2sec;
using namespace std::chrono_literals;

namespace {

using net_t = transport::memory_network<512, 1600, 2>;
using rnd = testing::insecure_deterministic_random;
using eng = l2tp::engine<crypto::botan, l2tp::limits<2, 4>, rnd>;
using link_t = ppp::link_engine<crypto::botan, rnd, test::users>;

struct end_point {
    std::unique_ptr<eng> l2tp;
    std::unique_ptr<link_t> ppp;
    ppp::link_config cfg;
    std::uint64_t ppp_seed = 0;
    test::users* store = nullptr;
    net_t::socket sock;
    std::uint16_t tunnel = 0, session = 0;
    bool ipcp_up = false, tunnel_down = false;
    int got_ip = 0;
};

struct outcome {
    bool up = false, data = false, down = false;
    std::uint32_t lac_ip = 0, lns_peer_ip = 0;
};

outcome run(std::uint64_t seed, ppp::auth_method method) {
    auto net =
        std::make_unique<net_t>(seed, transport::impairments{0.3, 0.1, 0.2, 1ms, 20ms, 40ms});
    auto lac_ep = transport::endpoint::v4(10, 0, 0, 1, 1701),
         lns_ep = transport::endpoint::v4(10, 0, 0, 2, 1701);
    l2tp::engine_config lc{.host_name = "lac", .secret = as_bytes("k"), .hide_avps = true};
    lc.accept_tunnels = false;
    lc.channel.max_retransmissions = 20;
    lc.hold_time = 200s;
    lc.half_open_timeout = 200s;  // the SCCRP may need many retransmissions too
    auto nc = lc;
    nc.accept_tunnels = true;
    test::users users;
    end_point lac{
        std::make_unique<eng>(lc, rnd(seed)), nullptr, {}, seed * 7, nullptr, *net->open(lac_ep)};
    end_point lns{
        std::make_unique<eng>(nc, rnd(~seed)), nullptr, {}, seed * 11, &users, *net->open(lns_ep)};
    lac.cfg.user = "alice";
    lac.cfg.password = "wonderland";
    lns.cfg.server = true;
    lns.cfg.require = method;
    lns.cfg.local_ip = 0x0a000001;
    lns.cfg.peer_ip = 0x0a000064;
    for (auto* c : {&lac.cfg, &lns.cfg})
        c->timers.max_configure = c->timers.max_terminate = 30;

    outcome o;
    time_point now{};
    auto tid = lac.l2tp->open_tunnel(lns_ep, now);
    if (!tid) return o;
    std::array<std::byte, 1600> buf{}, frame{};
    bool sent_ip = false, closing = false;
    auto flush = [&](end_point& s) {
        while (auto x = s.l2tp->poll_transmit(now, buf))
            (void)s.sock.send_to(x->to, bytes_view(buf.data(), x->size));
        if (s.ppp && s.session)
            while (auto n = s.ppp->poll_transmit(frame))
                if (auto x = s.l2tp->encode_data(s.session, bytes_view(frame.data(), *n), buf))
                    (void)s.sock.send_to(x->to, bytes_view(buf.data(), x->size));
    };
    auto events = [&](end_point& s, bool is_lac) {
        while (auto ev = s.l2tp->poll_event()) {
            if (ev->kind == l2tp::event_kind::tunnel_up && is_lac)
                (void)s.l2tp->open_session(ev->tunnel, now);
            if (ev->kind == l2tp::event_kind::session_up) {
                s.session = ev->session;
                s.ppp = s.store ? std::make_unique<link_t>(s.cfg, rnd(s.ppp_seed), *s.store)
                                : std::make_unique<link_t>(s.cfg, rnd(s.ppp_seed));
                s.ppp->start(now);
            }
            if (ev->kind == l2tp::event_kind::session_down) {
                if (s.ppp) s.ppp->lower_down(now);
                s.session = 0;
                if (is_lac) (void)s.l2tp->close_tunnel(*tid, now);
            }
            if (ev->kind == l2tp::event_kind::tunnel_down) s.tunnel_down = true;
        }
        if (s.ppp)
            while (auto ev = s.ppp->poll_event()) {
                if (ev->kind == ppp::link_event_kind::ipcp_up) s.ipcp_up = true;
                if (ev->kind == ppp::link_event_kind::finished && is_lac && s.session) {
                    (void)s.l2tp->close_session(s.session, now);
                    s.session = 0;
                }
            }
    };
    for (int i = 0; i < 200000 && now < time_point{} + 1500s; ++i) {
        net->advance_to(now);
        for (auto* s : {&lac, &lns}) {
            bool is_lac = s == &lac;
            while (auto r = s->sock.receive_from(buf)) {
                auto in = s->l2tp->handle_datagram(r->from, bytes_view(buf.data(), r->size), now);
                events(*s, is_lac);
                if (in && in->data && s->ppp) {
                    auto ip = s->ppp->handle_frame(in->payload, now);
                    if (ip && *ip) ++s->got_ip;
                }
            }
            s->l2tp->on_timer(now);
            if (s->ppp) s->ppp->on_timer(now);
            flush(*s);
            events(*s, is_lac);
            flush(*s);
        }
        if (lac.ipcp_up && lns.ipcp_up && !o.up) {
            o.up = true;
            o.lac_ip = lac.ppp->local_ip();
            o.lns_peer_ip = lns.ppp->peer_ip();
        }
        // One datagram, repeated until it arrives (the network may drop it), then hang up.
        if (o.up && !sent_ip && lac.session && lac.ppp->is_up()) {
            std::array<std::byte, 20> ip{};
            ip[0] = std::byte{0x45};
            if (auto n = lac.ppp->encode_ip(ip, frame))
                if (auto x = lac.l2tp->encode_data(lac.session, bytes_view(frame.data(), *n), buf))
                    (void)lac.sock.send_to(x->to, bytes_view(buf.data(), x->size));
            if (lns.got_ip > 0) sent_ip = true;
        }
        if (sent_ip && !closing) {
            o.data = true;
            closing = true;
            lac.ppp->close(now);
        }
        if (lac.tunnel_down && lns.tunnel_down && lac.l2tp->tunnel_count() == 0 &&
            lns.l2tp->tunnel_count() == 0) {
            o.down = true;
            break;
        }
        std::optional<time_point> t;
        auto take = [&](std::optional<time_point> d) {
            if (d && (!t || *d < *t)) t = d;
        };
        take(net->next_delivery());
        for (auto* s : {&lac, &lns}) {
            take(s->l2tp->deadline());
            if (s->ppp) take(s->ppp->deadline());
        }
        if (o.up && !sent_ip) take(now + 50ms);
        if (!t) break;
        now = *t > now ? *t : now + 1ms;
    }
    return o;
}

}  // namespace

TEST_CASE("full stack: 60 seeds of L2TP + PPP (MS-CHAPv2, CHAP-MD5) over a 30% lossy network") {
    int ok = 0;
    for (std::uint64_t seed = 1; seed <= 60; ++seed) {
        auto m = seed % 2 ? ppp::auth_method::mschapv2 : ppp::auth_method::chap_md5;
        auto o = run(seed, m);
        CAPTURE(seed);
        CHECK(o.up);
        CHECK(o.lac_ip == 0x0a000064);
        CHECK(o.lns_peer_ip == 0x0a000064);
        CHECK(o.data);
        CHECK(o.down);
        ok += o.up && o.data && o.down;
    }
    CHECK(ok == 60);
}
