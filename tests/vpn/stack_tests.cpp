// The whole L2TP/IPsec stack, server and clients, over a simulated network
// with NAT: IKEv1 Main Mode + Quick Mode, ESP transport mode (in UDP 4500
// behind NAT, raw otherwise), L2TP, PPP with MS-CHAPv2 and IPCP, pings,
// teardown; several clients behind one NAT; bad credentials; zero
// allocations per packet; rekeys under traffic; a lossy network.
#include "world.hpp"

#include "support/alloc_counter.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <set>

using namespace l2sec;
using namespace std::chrono_literals;
using test::world;

TEST_CASE_TEMPLATE_DEFINE(
    "vpn stack: a client without NAT connects (raw ESP), pings and hangs up cleanly", B,
    no_nat_suite) {
    world<64, B> w;
    auto& c = w.add_client(0xc6336407, false);  // 198.51.100.7
    w.start_all();
    REQUIRE(w.run([&] { return w.all_up(); }));
    CHECK(c.client->address() == 0x0a0a0064);
    CHECK(c.client->peer_address() == test::ppp_server_ip);
    CHECK(c.client->dns() == 0x0a0a0002);
    CHECK(w.server->sessions_up() == 1);
    auto esp_up = std::find_if(c.reports.begin(), c.reports.end(),
                               [](auto& r) { return r.kind == vpn::report_kind::esp_sa; });
    REQUIRE(esp_up != c.reports.end());
    CHECK(!esp_up->udp_encap);  // no NAT: raw ESP
    auto up = std::find_if(w.server_reports.begin(), w.server_reports.end(),
                           [](auto& r) { return r.kind == vpn::report_kind::ppp_up; });
    REQUIRE(up != w.server_reports.end());
    CHECK(up->user_name() == "alice");
    CHECK(up->peer_ip == 0x0a0a0064);
    CHECK(up->local_ip == test::ppp_server_ip);

    for (std::uint16_t i = 0; i < 5; ++i)
        REQUIRE(w.ping(c, i));
    REQUIRE(w.run([&] { return c.echo_replies == 5; }, 5s));

    c.client->shutdown(w.now);
    REQUIRE(w.run([&] { return c.client->state() == vpn::client_state::closed; }, 10s));
    REQUIRE(w.run([&] { return w.server->sessions_up() == 0 && w.server->clients() == 0; }, 10s));
    CHECK(w.count(w.server_reports, vpn::report_kind::l2tp_session_down) >= 1);
    CHECK(w.count(w.server_reports, vpn::report_kind::esp_sa_down) >= 1);
}

TEST_CASE_TEMPLATE_APPLY(no_nat_suite, test::full_backends);

TEST_CASE(
    "vpn stack: two clients behind one NAT (same public address, both to port 1701 inside) "
    "each get their own SAs, tunnel, session and address") {
    world<> w;
    auto& a = w.add_client(0xc0a80102, true);  // 192.168.1.2
    auto& b = w.add_client(0xc0a80103, true, "User", "clientPass");
    w.start_all();
    REQUIRE(w.run([&] { return w.all_up(); }));
    CHECK(a.client->address() != b.client->address());
    CHECK(w.server->clients() == 2);
    CHECK(w.server->sessions_up() == 2);
    std::set<std::uint16_t> ports;
    for (auto& r : w.server_reports)
        if (r.kind == vpn::report_kind::esp_sa) {
            CHECK(r.udp_encap);
            CHECK(r.endpoint.v4_host_order() == test::nat_ip);
            ports.insert(r.endpoint.port);
        }
    CHECK(ports.size() == 2);
    for (std::uint16_t i = 0; i < 3; ++i) {
        REQUIRE(w.ping(a, i));
        REQUIRE(w.ping(b, i));
    }
    REQUIRE(w.run([&] { return a.echo_replies == 3 && b.echo_replies == 3; }, 5s));
    // One client leaving does not disturb the other.
    a.client->shutdown(w.now);
    REQUIRE(w.run([&] { return a.client->state() == vpn::client_state::closed; }, 10s));
    REQUIRE(w.ping(b, 9));
    REQUIRE(w.run([&] { return b.echo_replies == 4; }, 5s));
    CHECK(b.client->state() == vpn::client_state::up);
}

TEST_CASE(
    "vpn stack: a wrong PSK fails in IKE, a wrong password fails in PPP, each with a reason") {
    world<> w;
    auto& bad_psk = w.add_client(0xc6336408, false, "alice", "wonderland", "not-the-psk");
    auto& bad_pw = w.add_client(0xc6336409, false, "alice", "nope");
    w.start_all();
    REQUIRE(w.run([&] {
        return bad_psk.client->state() == vpn::client_state::failed &&
               bad_pw.client->state() == vpn::client_state::failed;
    }));
    // Both ends name the cause: the client from how far the server answered,
    // the server from the Main Mode message 5 it could not decrypt.
    CHECK(bad_psk.client->failure() == vpn::errc::wrong_psk);
    CHECK(bad_psk.client->failure().message().find("pre-shared key") != std::string::npos);
    CHECK(std::any_of(w.server_reports.begin(), w.server_reports.end(), [](auto& r) {
        return r.kind == vpn::report_kind::failed && r.reason == vpn::errc::wrong_psk &&
               r.endpoint.v4_host_order() == 0xc6336408;
    }));
    CHECK(std::any_of(bad_psk.reports.begin(), bad_psk.reports.end(), [](auto& r) {
        return r.kind == vpn::report_kind::client_down && r.reason == vpn::errc::wrong_psk;
    }));
    CHECK(bad_pw.client->failure() == vpn::errc::auth_failed);
    CHECK(w.count(w.server_reports, vpn::report_kind::auth_failed) >= 1);
    CHECK(w.server->sessions_up() == 0);
}

TEST_CASE("vpn stack: L2TP outside ESP is refused (RFC 3193)") {
    world<> w;
    std::array<std::byte, 12> sccrq{std::byte{0xc8}, std::byte{0x02}};
    auto r = w.server->receive_plain_l2tp(sccrq, transport::endpoint::v4(0xc6336407, 1701));
    REQUIRE(!r);
    CHECK(r.error() == vpn::errc::unprotected_l2tp);
    CHECK(w.server->unprotected_l2tp() == 1);
    CHECK(w.server->core().l2tp().tunnel_count() == 0);
}

TEST_CASE_TEMPLATE_DEFINE("vpn stack: the datapath allocates nothing per packet, either way", B,
                          zero_alloc_suite) {
    world<64, B> w;
    auto& c = w.add_client(0xc0a80102, true);
    w.start_all();
    REQUIRE(w.run([&] { return w.all_up(); }));
    std::array<std::byte, vpn::packet_buffer_size> b{};
    // Warm up both directions once (first packet through each SA).
    REQUIRE(w.ping(c, 0));
    REQUIRE(w.run([&] { return c.echo_replies == 1; }, 2s));
    const auto client_ep = transport::endpoint::v4(0xc0a80102, 4500);
    const auto server_ep = transport::endpoint::v4(test::server_ip, 4500);
    std::size_t allocs = test::heap_allocations_in([&] {
        for (int i = 0; i < 200; ++i) {
            auto n = vpn::make_echo_request(mutable_bytes(b).subspan(vpn::headroom, 1400),
                                            c.client->address(), test::ppp_server_ip, 1,
                                            static_cast<std::uint16_t>(i), 1400);
            auto o = c.client->send_ip(b, vpn::headroom, n, w.now);
            REQUIRE(o);
            auto wire = mutable_bytes(const_cast<std::byte*>(o->data.data()), o->data.size());
            auto d = w.server->receive(wire, server_ep, o->peer, w.now);
            REQUIRE(d);
            REQUIRE(*d);
            REQUIRE(d->ip.size() == 1400);
            auto m = vpn::make_echo_request(mutable_bytes(b).subspan(vpn::headroom, 1400),
                                            test::ppp_server_ip, c.client->address(), 1,
                                            static_cast<std::uint16_t>(i), 1400);
            auto back = w.server->send_ip(b, vpn::headroom, m, w.now);
            REQUIRE(back);
            auto wire2 =
                mutable_bytes(const_cast<std::byte*>(back->data.data()), back->data.size());
            auto e = c.client->receive(wire2, client_ep, server_ep, w.now);
            REQUIRE(e);
            REQUIRE(*e);
        }
    });
    CHECK(allocs == 0);
}

TEST_CASE_TEMPLATE_APPLY(zero_alloc_suite, test::full_backends);

TEST_CASE_TEMPLATE_DEFINE(
    "vpn stack: server::warm over a receive batch reads, changes and allocates nothing", B,
    warm_suite) {
    auto cfg = world<64, B>::default_server();
    cfg.warm_min_clients = 0;  // one client: warm for real
    world<64, B> w(1, 0, cfg);
    auto& c = w.add_client(0xc6336407, false);  // raw ESP
    w.start_all();
    REQUIRE(w.run([&] { return w.all_up(); }));
    REQUIRE(w.ping(c, 0));  // the server learns the session of the peer's data
    REQUIRE(w.run([&] { return c.echo_replies == 1; }, 2s));
    auto up = std::find_if(w.server_reports.begin(), w.server_reports.end(),
                           [](auto& r) { return r.kind == vpn::report_kind::ppp_up; });
    REQUIRE(up != w.server_reports.end());
    const auto* slot = w.server->core().peer(up->peer);
    REQUIRE(slot);
    CHECK(slot->session == up->session);  // what warm loads the session by

    // A batch as recvmmsg hands it over: eight sealed packets and every kind
    // of datagram warm must skip (too short, keepalive, IKE's non-ESP
    // marker, an unknown SPI, a known SPI with nothing after it).
    constexpr std::size_t n = 8;
    std::vector<std::vector<std::byte>> wire;
    std::array<std::byte, vpn::packet_buffer_size> b{};
    vpn::outbound last{};
    for (std::uint16_t i = 0; i < n; ++i) {
        auto len = vpn::make_echo_request(mutable_bytes(b).subspan(vpn::headroom, 1400),
                                          c.client->address(), test::ppp_server_ip, 1, i, 1400);
        auto o = c.client->send_ip(b, vpn::headroom, len, w.now);
        REQUIRE(o);
        last = *o;
        wire.emplace_back(o->data.begin(), o->data.end());
    }
    const std::uint32_t spi = load_be32(wire[0].data());
    wire.push_back({std::byte{1}, std::byte{2}, std::byte{3}});
    wire.push_back({std::byte{0xff}});
    wire.push_back(std::vector<std::byte>(40, std::byte{0}));
    wire.push_back(std::vector<std::byte>(40, std::byte{0x5a}));
    wire.push_back(std::vector<std::byte>(wire[0].begin(), wire[0].begin() + 8));
    std::vector<bytes_view> views(wire.begin(), wire.end());
    CHECK(load_be32(wire.back().data()) == spi);

    const auto stats0 = w.server->stats();
    const auto drops0 = w.server->drops();
    const auto copy = wire;
    auto allocs = test::heap_allocations_in([&] { w.server->warm(views); });
    CHECK(allocs == 0);
    CHECK(wire == copy);
    const auto stats1 = w.server->stats();
    const auto drops1 = w.server->drops();
    CHECK(std::memcmp(&stats0, &stats1, sizeof stats0) == 0);
    CHECK(std::memcmp(&drops0, &drops1, sizeof drops0) == 0);

    // Every packet of the batch still opens, once.
    for (std::size_t i = 0; i < n; ++i) {
        auto d = w.server->receive_esp(wire[i], last.peer, last.local, w.now);
        REQUIRE(d);
        REQUIRE(*d);
        CHECK(d->ip.size() == 1400);
    }
    CHECK(w.server->stats().ip_in == stats0.ip_in + n);
    w.server->warm(views);
    auto replay = copy[0];
    auto again = w.server->receive_esp(replay, last.peer, last.local, w.now);
    CHECK(!again);  // replayed: warm reset no window
}

TEST_CASE_TEMPLATE_APPLY(warm_suite, test::full_backends);

TEST_CASE("vpn stack: forty clients behind one NAT, starting at once, all connect") {
    world<64> w;
    for (std::uint32_t i = 0; i < 40; ++i)
        w.add_client(0xc0a80110 + i, true);
    w.start_all();
    REQUIRE(w.run([&] { return w.all_up(); }, 120s));
    CHECK(w.server->sessions_up() == 40);
    std::set<std::uint32_t> addrs;
    for (auto& p : w.clients)
        addrs.insert(p.client->address());
    CHECK(addrs.size() == 40);
    for (auto& p : w.clients)
        REQUIRE(w.ping(p, 1));
    REQUIRE(w.run(
        [&] {
            for (auto& p : w.clients)
                if (p.echo_replies < 1) return false;
            return true;
        },
        10s));
}

TEST_CASE("vpn stack: Quick Mode rekeys under traffic keep the PPP session") {
    auto cfg = world<>::default_server();
    cfg.ike.phase2_lifetime = 60s;
    world<> w(3, 0, cfg);
    vpn::client_config cc;
    cc.ike.phase2_lifetime = 60s;
    auto& c = w.add_client(0xc0a80102, true, "alice", "wonderland", "secret", cc);
    w.start_all();
    REQUIRE(w.run([&] { return w.all_up(); }));
    auto addr = c.client->address();
    std::uint16_t seq = 0;
    int want = 0;
    // Five minutes of pings every second: several rekeys of the ESP SAs.
    for (int s = 0; s < 300; ++s) {
        INFO("second ", s, ", client ", vpn::to_string(c.client->state()));
        if (!w.ping(c, seq)) {
            for (auto& r : c.reports)
                MESSAGE("client ", vpn::to_string(r.kind), " spi ", r.spi_in, " old ", r.old_spi_in,
                        " ", r.reason.message());
            for (auto& r : w.server_reports)
                MESSAGE("server ", vpn::to_string(r.kind), " spi ", r.spi_in, " old ", r.old_spi_in,
                        " ", r.reason.message());
        }
        REQUIRE(w.ping(c, seq++));
        ++want;
        w.run([&] { return false; }, 1s);
    }
    REQUIRE(w.run([&] { return c.echo_replies >= want - 1; }, 5s));
    CHECK(c.client->state() == vpn::client_state::up);
    CHECK(c.client->address() == addr);
    std::size_t rekeys = 0;
    for (auto& r : c.reports)
        if (r.kind == vpn::report_kind::esp_sa && r.old_spi_in) ++rekeys;
    CHECK(rekeys >= 3);
    CHECK(w.count(w.server_reports, vpn::report_kind::l2tp_session_down) == 0);
}

TEST_CASE("vpn stack: a lossy network (10% loss each way) still converges") {
    world<> w(11, 0.10);
    auto& c = w.add_client(0xc0a80102, true);
    w.start_all();
    REQUIRE(w.run([&] { return w.all_up(); }, 120s));
    // One ping every half second, as a user would: the server's side of IPCP
    // may still be finishing (its last Configure-Ack lost) when ours is up.
    for (std::uint16_t i = 0; i < 20; ++i) {
        REQUIRE(w.ping(c, i));
        w.run([&] { return false; }, 500ms);
    }
    w.run([&] { return c.echo_replies >= 12; }, 5s);
    INFO("echo replies: ", c.echo_replies, ", client ", vpn::to_string(c.client->state()));
    CHECK(c.echo_replies >= 12);
}
