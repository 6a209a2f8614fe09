// The PPP link engine: LCP, authentication (PAP, CHAP-MD5, MS-CHAPv2) and
// IPCP/IPV6CP between a client and a server, directly and over a lossy pipe.
#include <l2sec/crypto/botan.hpp>
#include <l2sec/ppp/engine/link.hpp>
#include <l2sec/testing/insecure_random.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "support/alloc_counter.hpp"
#include "support/hex.hpp"
#include "support/users.hpp"

using l2sec::bytes_view;
using l2sec::time_point;
using namespace l2sec::ppp;
using namespace std::chrono_literals;
namespace test = l2sec::test;
using B = l2sec::crypto::botan;
using rnd = l2sec::testing::insecure_deterministic_random;
using link_t = link_engine<B, rnd, test::users>;

namespace {

test::users store;

link_config client_cfg(std::string_view user = "alice", std::string_view pw = "wonderland") {
    link_config c;
    c.user = user;
    c.password = pw;
    c.ask_dns = true;
    return c;
}
link_config server_cfg(auth_method m) {
    link_config s;
    s.server = true;
    s.require = m;
    s.local_ip = 0x0a000001;
    s.peer_ip = 0x0a000064;
    s.dns1 = 0x08080808;
    return s;
}

struct frame_pipe {
    frame_pipe(link_t& x, link_t& y) : a(x), b(y) {}
    link_t& a;
    link_t& b;
    l2sec::testing::insecure_splitmix64 rng{5};
    double loss = 0;
    bool trace = false;
    time_point now{};
    std::vector<link_event> ea, eb;
    std::size_t frames = 0;

    void pump() {
        std::array<std::byte, 1600> buf{};
        for (int round = 0; round < 50; ++round) {
            bool any = false;
            while (auto n = a.poll_transmit(buf)) {
                any = true;
                ++frames;
                bool pass = rng.uniform() >= loss;
                if (trace)
                    fprintf(stderr, "%5lld C->S %s %s\n",
                            (long long)(now.time_since_epoch().count() / 1000000),
                            pass ? "    " : "LOST",
                            test::to_hex(bytes_view(buf.data(), *n)).substr(0, 40).c_str());
                if (pass) (void)b.handle_frame(bytes_view(buf.data(), *n), now);
            }
            while (auto n = b.poll_transmit(buf)) {
                any = true;
                ++frames;
                bool pass = rng.uniform() >= loss;
                if (trace)
                    fprintf(stderr, "%5lld S->C %s %s\n",
                            (long long)(now.time_since_epoch().count() / 1000000),
                            pass ? "    " : "LOST",
                            test::to_hex(bytes_view(buf.data(), *n)).substr(0, 40).c_str());
                if (pass) (void)a.handle_frame(bytes_view(buf.data(), *n), now);
            }
            if (!any) break;
        }
        while (auto e = a.poll_event())
            ea.push_back(*e);
        while (auto e = b.poll_event())
            eb.push_back(*e);
    }
    template <class P>
    bool run_until(P pred, l2sec::duration limit = 300s) {
        auto end = now + limit;
        pump();
        while (!pred() && now < end) {
            std::optional<time_point> t;
            for (auto d : {a.deadline(), b.deadline()})
                if (d && (!t || *d < *t)) t = d;
            if (!t) break;
            now = *t;
            a.on_timer(now);
            b.on_timer(now);
            pump();
        }
        return pred();
    }
    static const link_event* find(const std::vector<link_event>& v, link_event_kind k) {
        for (auto& e : v)
            if (e.kind == k) return &e;
        return nullptr;
    }
};

void bring_up(auth_method m, link_config cc = client_cfg()) {
    link_t client(cc, rnd(11)), server(server_cfg(m), rnd(22), store);
    frame_pipe p(client, server);
    client.start(p.now);
    server.start(p.now);
    REQUIRE(p.run_until([&] { return client.is_up() && server.is_up(); }));
    auto* up = p.find(p.ea, link_event_kind::ipcp_up);
    REQUIRE(up);
    CHECK(up->local_ip == 0x0a000064);  // the server's Nak gave us our address
    CHECK(up->peer_ip == 0x0a000001);
    CHECK(up->dns1 == 0x08080808);
    if (m != auth_method::none) {
        auto* a = p.find(p.eb, link_event_kind::auth_success);
        REQUIRE(a);
        CHECK(a->method == m);
        CHECK(p.find(p.ea, link_event_kind::auth_success));
    }
    CHECK(server.current_phase() == phase::network);
    // Data both ways.
    std::array<std::byte, 64> buf{};
    auto ip = test::hex("45 00 00 14 00 00 00 00 40 01 00 00 0a 00 00 64 0a 00 00 01");
    auto n = client.encode_ip(ip, buf);
    REQUIRE(n);
    auto got = server.handle_frame(bytes_view(buf.data(), *n), p.now);
    REQUIRE(got);
    REQUIRE(*got);
    CHECK(test::to_hex(**got) == test::to_hex(ip));
    // Clean teardown: LCP Terminate, both finish.
    client.close(p.now);
    REQUIRE(p.run_until([&] { return client.current_phase() == phase::dead; }));
    CHECK(p.find(p.eb, link_event_kind::lcp_down));
}

}  // namespace

TEST_CASE("PPP link: no authentication, IPCP assigns the address") {
    bring_up(auth_method::none);
}
TEST_CASE("PPP link: PAP") {
    bring_up(auth_method::pap);
}
TEST_CASE("PPP link: CHAP-MD5") {
    bring_up(auth_method::chap_md5);
}
TEST_CASE("PPP link: MS-CHAPv2 (mutual: the client checks the server's S=)") {
    bring_up(auth_method::mschapv2);
    bring_up(auth_method::mschapv2, client_cfg("DOMAIN\\User", "clientPass"));
}

TEST_CASE(
    "PPP link: a client without MS-CHAPv2 naks it and settles on CHAP-MD5 if the server allows") {
    auto cc = client_cfg();
    cc.can_answer = {false, false, true, false};
    link_t client(cc, rnd(11)), server(server_cfg(auth_method::mschapv2), rnd(22), store);
    frame_pipe p(client, server);
    client.start(p.now);
    server.start(p.now);
    // The server insists on MS-CHAPv2: LCP never converges; Max-Configure ends it.
    p.run_until([&] { return server.current_phase() == phase::dead || client.is_up(); }, 120s);
    CHECK_FALSE(client.is_up());
}

TEST_CASE("PPP link: wrong password fails authentication, both sides") {
    for (auto m : {auth_method::pap, auth_method::chap_md5, auth_method::mschapv2}) {
        CAPTURE(to_string(m));
        link_t client(client_cfg("alice", "wrong"), rnd(11)), server(server_cfg(m), rnd(22), store);
        frame_pipe p(client, server);
        client.start(p.now);
        server.start(p.now);
        REQUIRE(
            p.run_until([&] { return p.find(p.eb, link_event_kind::auth_failure) != nullptr; }));
        CHECK_FALSE(server.is_up());
        REQUIRE(p.run_until([&] { return server.current_phase() == phase::dead; }));
        CHECK(p.find(p.ea, link_event_kind::auth_failure));
    }
}

TEST_CASE("PPP link: IPV6CP interface identifiers") {
    auto cc = client_cfg();
    cc.ipv6 = true;
    auto sc = server_cfg(auth_method::chap_md5);
    sc.ipv6 = true;
    link_t client(cc, rnd(11)), server(sc, rnd(22), store);
    frame_pipe p(client, server);
    client.start(p.now);
    server.start(p.now);
    REQUIRE(p.run_until([&] {
        return client.ipv6cp_state() == state::opened && server.ipv6cp_state() == state::opened;
    }));
    auto* c = p.find(p.ea, link_event_kind::ipv6cp_up);
    auto* s = p.find(p.eb, link_event_kind::ipv6cp_up);
    REQUIRE(c);
    REQUIRE(s);
    CHECK(c->local_iid == s->peer_iid);
    CHECK(c->peer_iid == s->local_iid);
    CHECK(c->local_iid != c->peer_iid);
}

TEST_CASE("PPP link: converges over a 30% lossy pipe, 150 seeds (PAP, CHAP-MD5, MS-CHAPv2)") {
    int ok = 0;
    constexpr auth_method methods[] = {auth_method::pap, auth_method::chap_md5,
                                       auth_method::mschapv2};
    for (std::uint64_t seed = 1; seed <= 150; ++seed) {
        auto cc = client_cfg();
        auto sc = server_cfg(methods[seed % 3]);
        sc.timers.max_configure = 30;
        cc.timers.max_configure = 30;
        link_t client(cc, rnd(seed)), server(sc, rnd(seed + 1000), store);
        frame_pipe p(client, server);
        p.rng = l2sec::testing::insecure_splitmix64(seed);
        p.loss = 0.3;
        p.trace = getenv("PPPSEED") && std::strtoull(getenv("PPPSEED"), nullptr, 10) == seed;
        client.start(p.now);
        server.start(p.now);
        bool up = p.run_until([&] { return client.is_up() && server.is_up(); }, 600s);
        CAPTURE(seed);
        if (!up && getenv("PPPDEBUG"))
            MESSAGE("client " << std::string(to_string(client.current_phase())) << " lcp "
                              << std::string(to_string(client.lcp_state())) << " ipcp "
                              << std::string(to_string(client.ipcp_state())) << " | server "
                              << std::string(to_string(server.current_phase())) << " lcp "
                              << std::string(to_string(server.lcp_state())) << " ipcp "
                              << std::string(to_string(server.ipcp_state()))
                              << " t=" << p.now.time_since_epoch().count() / 1000000000);
        if (!up && getenv("PPPDEBUG")) {
            std::string a, b;
            for (auto& e : p.ea)
                a += std::string(to_string(e.kind)) + " ";
            for (auto& e : p.eb)
                b += std::string(to_string(e.kind)) + " ";
            MESSAGE("client: " << a << "\nserver: " << b);
        }
        CHECK(up);
        if (up) CHECK(client.local_ip() == server.peer_ip());
        ok += up;
    }
    CHECK(ok == 150);
}

TEST_CASE("PPP link: Echo keepalive, timeout, loop detection, Protocol-Reject") {
    auto cc = client_cfg();
    cc.echo_interval = 10s;
    link_t client(cc, rnd(11)), server(server_cfg(auth_method::pap), rnd(22), store);
    frame_pipe p(client, server);
    client.start(p.now);
    server.start(p.now);
    REQUIRE(p.run_until([&] { return client.is_up() && server.is_up(); }));
    // Echo every 10 s, answered: still up a minute later.
    p.run_until([] { return false; }, 60s);
    CHECK(client.is_up());
    // An unknown protocol gets a Protocol-Reject once LCP is open.
    std::array<std::byte, 64> buf{};
    auto odd = test::hex("ff 03 80 fd 01 01 00 04");  // CCP Configure-Request
    REQUIRE(server.handle_frame(odd, p.now));
    auto n = server.poll_transmit(buf);
    REQUIRE(n);
    CHECK(test::to_hex(bytes_view(buf.data(), *n)).substr(0, 10) ==
          "ff03c02108");  // LCP Protocol-Reject
    CHECK(test::to_hex(bytes_view(buf.data(), *n)).substr(16, 4) == "80fd");
    // Our own magic number in an Echo-Request: a looped-back link.
    auto echo = test::hex("ff 03 c0 21 09 07 00 08 00 00 00 00");
    l2sec::store_be32(echo.data() + 8, 0);
    (void)client.handle_frame(echo, p.now);  // magic 0: not a loop
    // Now the peer stops answering: three unanswered echoes end the link.
    std::vector<link_event> evs;
    for (int i = 0; i < 10 && client.current_phase() != phase::dead; ++i) {
        p.now += 10s;
        client.on_timer(p.now);
        while (client.poll_transmit(buf)) {
        }
        while (auto e = client.poll_event())
            evs.push_back(*e);
    }
    CHECK(frame_pipe::find(evs, link_event_kind::echo_timeout));
}

TEST_CASE(
    "PPP link: Configure-Reject of unknown options (l2tpns' MRRU and Endpoint Discriminator)") {
    link_t client(client_cfg(), rnd(11));
    client.start({});
    std::array<std::byte, 128> buf{};
    while (client.poll_transmit(buf)) {
    }
    // l2tpns' ConfReq: MRU 1462, MRRU 1614, Endpoint Discriminator, magic.
    auto req = test::hex(
        "ff 03 c0 21 01 01 00 1c 01 04 05 b6 11 04 06 4e 13 07 01 6c 32 74 70 05 06 12 34 56 78");
    // fix the length byte: 4 + 4 + 4 + 7 + 6 = 25
    req[7] = std::byte{25};
    auto r = client.handle_frame(bytes_view(req).first(4 + 25), {});
    REQUIRE(r);
    auto n = client.poll_transmit(buf);
    REQUIRE(n);
    // Configure-Reject (4) echoing only the MRRU option.
    CHECK(test::to_hex(bytes_view(buf.data(), *n)) ==
          "ff03c02104010008"
          "1104064e");
}

TEST_CASE("PPP link: malformed frames report the codec error and offset") {
    link_t client(client_cfg(), rnd(11));
    client.start({});
    auto bad = test::hex("ff 03 c0 21 01 01 00 30 01 04");  // Length beyond the frame
    auto r = client.handle_frame(bad, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().offset == 6);
    auto bad_opt = test::hex("ff 03 c0 21 01 01 00 07 01 09 05");  // option overruns
    auto o = client.handle_frame(bad_opt, {});
    REQUIRE_FALSE(o);
    CHECK(o.error().offset == 9);
}

TEST_CASE("PPP link: zero allocations in steady state (data, echo)") {
    link_t client(client_cfg(), rnd(11)), server(server_cfg(auth_method::chap_md5), rnd(22), store);
    frame_pipe p(client, server);
    p.ea.reserve(100);
    p.eb.reserve(100);
    client.start(p.now);
    server.start(p.now);
    REQUIRE(p.run_until([&] { return client.is_up() && server.is_up(); }));
    std::array<std::byte, 256> buf{};
    auto ip = test::hex("45 00 00 14 00 00 00 00 40 01 00 00 0a 00 00 64 0a 00 00 01");
    std::size_t allocs = test::allocations_in([&] {
        for (int i = 0; i < 100; ++i) {
            auto n = client.encode_ip(ip, buf);
            (void)server.handle_frame(bytes_view(buf.data(), *n), p.now);
            p.now += 1s;
            client.on_timer(p.now);
            server.on_timer(p.now);
            p.pump();
        }
    });
    CHECK(allocs == 0);
    CHECK(client.is_up());
}

namespace {

// What handle_frame() did with a frame, to compare with the fast path.
struct general_answer {
    bool ok = false;
    std::optional<bytes_view> payload;
    l2sec::error err{};
};

// The data fast path against the general dispatcher on one frame: when the
// fast path answers, handle_frame() returns the same view and changes
// nothing (no frame out, no event, the same deadline); when it declines, the
// frame is one handle_frame() must see. `general` says whether to also feed
// the frame to handle_frame() (not for control frames: they would renegotiate).
template <class L>
std::optional<bytes_view> fast_vs_general(L& link, bytes_view f, time_point now,
                                          bool general = true) {
    test::alloc_guard g;
    auto fast = link.data_payload(f);
    CHECK(g.count() == 0);
    if (!general) {
        CHECK_FALSE(fast);
        return fast;
    }
    const auto deadline = link.deadline();
    auto r = link.handle_frame(f, now);
    std::array<std::byte, 1600> out{};
    const bool sent = link.poll_transmit(out).has_value();
    const bool event = link.poll_event().has_value();
    if (fast) {
        REQUIRE(r);
        REQUIRE(*r);
        CHECK((*r)->data() == fast->data());
        CHECK((*r)->size() == fast->size());
        CHECK_FALSE(sent);
        CHECK_FALSE(event);
        CHECK(link.deadline() == deadline);
    }
    return fast;
}

}  // namespace

TEST_CASE("PPP link: the data fast path gives handle_frame()'s answer for every header form") {
    auto cc = client_cfg();
    cc.ipv6 = true;
    auto sc = server_cfg(auth_method::none);
    sc.ipv6 = true;
    link_t client(cc, rnd(11)), server(sc, rnd(22), store);
    frame_pipe p(client, server);
    // Not started: nothing is data yet.
    auto ip4 = test::hex("45 00 00 14 00 00 00 00 40 01 00 00 0a 00 00 64 0a 00 00 01");
    std::vector<std::byte> f = test::hex("ff 03 00 21");
    f.insert(f.end(), ip4.begin(), ip4.end());
    CHECK_FALSE(server.data_payload(f));
    client.start(p.now);
    server.start(p.now);
    CHECK_FALSE(server.data_payload(f));  // LCP still negotiating
    REQUIRE(p.run_until([&] {
        return server.ipcp_state() == state::opened && server.ipv6cp_state() == state::opened &&
               client.ipv6cp_state() == state::opened;
    }));
    while (server.poll_event()) {
    }

    const std::vector<std::vector<std::byte>> addr = {{}, test::hex("ff 03")};
    struct proto_form {
        std::vector<std::byte> bytes;
        bool data;     // IPv4 or IPv6: the fast path must take it
        bool control;  // a control protocol: handle_frame() would act on it
    };
    const std::vector<proto_form> protos = {
        {test::hex("21"), true, false},     {test::hex("00 21"), true, false},
        {test::hex("57"), true, false},     {test::hex("00 57"), true, false},
        {test::hex("00 20"), false, false},  // invalid (even low octet)
        {test::hex("01 21"), false, false},  // invalid (odd high octet)
        {test::hex("2d"), false, false},     // VJ compressed, Protocol-Rejected
        {test::hex("00 3d"), false, false},  // MP, Protocol-Rejected
        {test::hex("80 21"), false, true},  {test::hex("80 57"), false, true},
        {test::hex("c0 21"), false, true},  {test::hex("c0 23"), false, true},
    };
    const std::vector<std::vector<std::byte>> payloads = {{}, ip4, test::hex("60 00 00 00")};
    int fast_taken = 0;
    for (const auto& a : addr)
        for (const auto& pr : protos)
            for (const auto& pl : payloads) {
                std::vector<std::byte> frame = a;
                frame.insert(frame.end(), pr.bytes.begin(), pr.bytes.end());
                const std::size_t header = frame.size();
                frame.insert(frame.end(), pl.begin(), pl.end());
                CAPTURE(test::to_hex(frame));
                // Every truncation of the header (and the whole frame).
                for (std::size_t n = 0; n <= frame.size(); ++n) {
                    bytes_view v(frame.data(), n);
                    CAPTURE(n);
                    const bool whole_header = n >= header;
                    if (!whole_header || !pr.control) {
                        auto got = fast_vs_general(server, v, p.now);
                        if (pr.data && whole_header) {
                            REQUIRE(got);  // a data frame must take the fast path
                            CHECK(got->data() == frame.data() + header);
                            CHECK(got->size() == n - header);
                            ++fast_taken;
                        } else if (!pr.data && whole_header) {
                            CHECK_FALSE(got);
                        }
                    } else {
                        (void)fast_vs_general(server, v, p.now, false);
                    }
                }
            }
    CHECK(fast_taken > 0);
    // Malformed address/control fields: the general path's errors.
    for (auto bad : {test::hex("ff"), test::hex("ff 02 00 21 45"), test::hex("ff 03"),
                     test::hex("ff 03 00"), test::hex("00")}) {
        CAPTURE(test::to_hex(bad));
        CHECK_FALSE(fast_vs_general(server, bad, p.now));
        CHECK_FALSE(server.handle_frame(bad, p.now));
    }
    REQUIRE(server.ipcp_state() == state::opened);  // nothing above disturbed the link

    // An NCP that is not open: IPv6 on a link without IPV6CP.
    link_t c4(client_cfg(), rnd(11)), s4(server_cfg(auth_method::none), rnd(22), store);
    frame_pipe p4(c4, s4);
    c4.start(p4.now);
    s4.start(p4.now);
    REQUIRE(p4.run_until([&] { return c4.is_up() && s4.is_up(); }));
    while (s4.poll_event()) {
    }
    for (auto v6 : {test::hex("57 60 00"), test::hex("ff 03 00 57 60 00")}) {
        CHECK_FALSE(fast_vs_general(s4, v6, p4.now));
    }
    CHECK(fast_vs_general(s4, f, p4.now));
    // Once LCP goes down, IP frames are the general path's again.
    c4.close(p4.now);
    REQUIRE(p4.run_until([&] { return s4.ipcp_state() != state::opened; }));
    CHECK_FALSE(s4.data_payload(f));
    auto r = s4.handle_frame(f, p4.now);
    REQUIRE(r);
    CHECK_FALSE(*r);
}
