// IKEv1 engine lifecycle in memory: DPD both ways, Delete, INITIAL-CONTACT,
// Quick Mode rekeying (initiator, and a responder with a shorter lifetime),
// phase 1 re-authentication, kilobyte lifetimes.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace l2sec;
using namespace l2sec::test::ike1;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const endpoint server_ep = ep(198, 51, 100, 1, 500);
const endpoint client_ep = ep(192, 0, 2, 10, 500);

struct rig {
    std::unique_ptr<engine_t<>> client, server;
    network<engine_t<>> net;
    std::size_t c = 0, s = 0;
    rig(const v1::config& cc = {}, const v1::config& sc = {}, std::uint64_t seed = 1) {
        client = make_engine(seed * 2, cc);
        server = make_engine(seed * 2 + 1, sc);
        c = net.add(*client);
        s = net.add(*server);
        net.hosts[c].addrs = {client_ep};
        net.hosts[s].addrs = {server_ep};
    }
    v1::sa_handle up() {
        auto h = client->connect(l2tp_connection(client_ep, server_ep), net.now);
        REQUIRE(h.has_value());
        net.pump();
        REQUIRE(net.of(c, v1::event_kind::child_up).size() == 1);
        REQUIRE(net.of(s, v1::event_kind::child_up).size() == 1);
        return *h;
    }
};

/// The SPIs each side has installed right now (child_up minus child_down).
std::set<std::uint32_t> live(const network<engine_t<>>& net, std::size_t host) {
    std::set<std::uint32_t> in;
    for (auto& e : net.events_of_host[host]) {
        if (e.kind == v1::event_kind::child_up) in.insert(e.child.spi_in);
        if (e.kind == v1::event_kind::child_down) in.erase(e.spi_in);
    }
    return in;
}

}  // namespace

TEST_CASE("DPD: an idle but live peer answers R-U-THERE; a silent one is declared dead") {
    rig r;
    r.up();
    r.net.run_for(seconds(300));  // idle: both send R-U-THERE, both answer
    CHECK(r.client->stats().dpd_sent > 0);
    CHECK(r.server->stats().dpd_sent > 0);
    CHECK(r.net.of(r.c, v1::event_kind::peer_dead).empty());
    CHECK(r.net.of(r.s, v1::event_kind::peer_dead).empty());
    CHECK(r.client->established() == 1);
    // The server goes silent: the client notices within dpd_interval + dpd_timeout.
    r.net.hosts[r.s].alive = false;
    const auto t0 = r.net.now;
    r.net.run_for(seconds(200));
    auto dead = r.net.of(r.c, v1::event_kind::peer_dead);
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].reason == v1::engine_errc::peer_dead);
    CHECK(r.client->size() == 0);
    auto downs = r.net.of(r.c, v1::event_kind::child_down);
    REQUIRE(downs.size() == 1);
    CHECK(downs[0].reason == v1::engine_errc::peer_dead);
    CHECK(r.net.of(r.c, v1::event_kind::phase1_down).size() == 1);
    (void)t0;
}

TEST_CASE("DPD the other way: the responder detects a client that vanished") {
    rig r;
    r.up();
    r.net.hosts[r.c].alive = false;
    r.net.run_for(seconds(200));
    CHECK(r.net.of(r.s, v1::event_kind::peer_dead).size() == 1);
    CHECK(r.server->size() == 0);
    CHECK(live(r.net, r.s).empty());
}

TEST_CASE("ESP traffic counts as liveness: no R-U-THERE while packets arrive") {
    rig r;
    r.up();
    const auto spi = r.net.of(r.c, v1::event_kind::child_up)[0].child.spi_in;
    const auto spi_s = r.net.of(r.s, v1::event_kind::child_up)[0].child.spi_in;
    for (int i = 0; i < 20; ++i) {
        r.net.now += seconds(10);
        r.client->note_esp_traffic(spi, 1400, r.net.now);
        r.server->note_esp_traffic(spi_s, 1400, r.net.now);
        r.client->tick(r.net.now);
        r.server->tick(r.net.now);
        r.net.pump();
    }
    CHECK(r.client->stats().dpd_sent == 0);
    CHECK(r.server->stats().dpd_sent == 0);
}

TEST_CASE("close sends Delete payloads: the peer removes the ESP SA and the IKE SA") {
    rig r;
    auto h = r.up();
    r.client->close(h, r.net.now);
    r.net.pump();
    auto cd = r.net.of(r.c, v1::event_kind::child_down);
    REQUIRE(cd.size() == 1);
    CHECK(cd[0].reason == v1::engine_errc::closed);
    auto sd = r.net.of(r.s, v1::event_kind::child_down);
    REQUIRE(sd.size() == 1);
    CHECK(sd[0].reason == v1::engine_errc::deleted);
    CHECK(sd[0].spi_in == r.net.of(r.s, v1::event_kind::child_up)[0].child.spi_in);
    auto pd = r.net.of(r.s, v1::event_kind::phase1_down);
    REQUIRE(pd.size() == 1);
    CHECK(pd[0].reason == v1::engine_errc::deleted);
    CHECK(r.server->size() == 0);
    CHECK(r.client->size() == 0);
    r.client->close(h, r.net.now);  // a stale handle does nothing
    CHECK(r.client->size() == 0);
}

TEST_CASE("INITIAL-CONTACT: a rebooted client (same address and port) replaces its old SAs") {
    rig r;
    r.up();
    // The client "reboots": a fresh engine at the same endpoint, the old one gone.
    auto fresh = make_engine(77);
    r.net.hosts[r.c].e = fresh.get();
    REQUIRE(fresh->connect(l2tp_connection(client_ep, server_ep), r.net.now).has_value());
    r.net.pump();
    auto pd = r.net.of(r.s, v1::event_kind::phase1_down);
    REQUIRE(pd.size() == 1);
    CHECK(pd[0].reason == v1::engine_errc::replaced);
    CHECK(r.server->established() == 1);
    CHECK(live(r.net, r.s).size() == 1);
    CHECK(r.net.of(r.s, v1::event_kind::child_up).size() == 2);
}

TEST_CASE("INITIAL-CONTACT among other peers: only the rebooted endpoint's SAs go, every time") {
    // a and b behind one NAT (same public address, other ports), c public.
    // a reboots three times; b's and c's SAs must survive each time.
    auto a = make_engine(21), b = make_engine(22), c = make_engine(23), server = make_engine(24);
    nat_box nat(ep(203, 0, 113, 5, 0));
    network<engine_t<>> net;
    auto ia = net.add(*a, &nat), ib = net.add(*b, &nat), ic = net.add(*c);
    auto s = net.add(*server);
    const endpoint a_ep = ep(192, 168, 1, 10, 500), b_ep = ep(192, 168, 1, 11, 500);
    net.hosts[ia].addrs = {a_ep};
    net.hosts[ib].addrs = {b_ep};
    net.hosts[ic].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    REQUIRE(a->connect(l2tp_connection(a_ep, server_ep), net.now).has_value());
    REQUIRE(b->connect(l2tp_connection(b_ep, server_ep), net.now).has_value());
    REQUIRE(c->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    net.pump();
    REQUIRE(server->established() == 3);
    REQUIRE(live(net, s).size() == 3);
    // a's SA as the server sees it: the NAT's public port for a's 4500 (NAT-T floated).
    const endpoint a_public = nat.translate_out(ep(192, 168, 1, 10, 4500));
    std::vector<std::unique_ptr<engine_t<>>> reboots;
    for (std::size_t round = 1; round <= 3; ++round) {
        reboots.push_back(make_engine(100 + round));
        net.hosts[ia].e = reboots.back().get();
        REQUIRE(reboots.back()->connect(l2tp_connection(a_ep, server_ep), net.now).has_value());
        net.pump();
        auto pd = net.of(s, v1::event_kind::phase1_down);
        REQUIRE(pd.size() == round);
        CHECK(pd.back().reason == v1::engine_errc::replaced);
        CHECK(pd.back().peer == a_public);
        CHECK(server->established() == 3);
        CHECK(live(net, s).size() == 3);
    }
    CHECK(net.of(ib, v1::event_kind::phase1_down).empty());
    CHECK(net.of(ic, v1::event_kind::phase1_down).empty());
    CHECK(net.of(ib, v1::event_kind::child_down).empty());
}

TEST_CASE(
    "Quick Mode rekey by the initiator: child_up with old_spi_in, the old SA goes after the "
    "overlap") {
    v1::config cc;
    cc.phase2_lifetime = seconds(120);
    rig r(cc);
    r.up();
    r.net.run_for(seconds(600));
    auto cu = r.net.of(r.c, v1::event_kind::child_up);
    auto su = r.net.of(r.s, v1::event_kind::child_up);
    CHECK(cu.size() >= 5);  // one SA + a rekey about every 108-114 s
    CHECK(su.size() == cu.size());
    for (std::size_t i = 1; i < cu.size(); ++i) {
        CHECK(cu[i].old_spi_in == cu[i - 1].child.spi_in);
        CHECK(su[i].old_spi_in == su[i - 1].child.spi_in);
        CHECK(cu[i].child.spi_in == su[i].child.spi_out);
    }
    CHECK(r.client->stats().rekeys == cu.size() - 1);
    // Never more than the new SA and the one it replaces; exactly one at the end.
    CHECK(live(r.net, r.c).size() == 1);
    CHECK(live(r.net, r.s).size() == 1);
    for (auto& e : r.net.of(r.c, v1::event_kind::child_down))
        CHECK(e.reason == v1::engine_errc::replaced);
}

TEST_CASE("a responder with a shorter Quick Mode lifetime rekeys every time, not only once") {
    v1::config sc;
    sc.phase2_lifetime = seconds(60);
    rig r({}, sc);
    r.up();
    CHECK(r.net.of(r.s, v1::event_kind::child_up)[0].child.lifetime == seconds(60));
    r.net.run_for(seconds(600));
    auto su = r.net.of(r.s, v1::event_kind::child_up);
    auto cu = r.net.of(r.c, v1::event_kind::child_up);
    CHECK(su.size() >= 10);
    CHECK(cu.size() == su.size());
    for (std::size_t i = 1; i < su.size(); ++i)
        CHECK(su[i].old_spi_in == su[i - 1].child.spi_in);
    // No SA outlived its 60 s: every one was replaced before expiring.
    for (auto& e : r.net.of(r.s, v1::event_kind::child_down))
        CHECK(e.reason == v1::engine_errc::replaced);
    CHECK(live(r.net, r.s).size() == 1);
    CHECK(r.net.of(r.s, v1::event_kind::failed).empty());
}

TEST_CASE("phase 1 re-authentication: a new IKE SA and ESP SA, then the old ones are deleted") {
    v1::config cc;
    cc.phase1_lifetime = seconds(200);
    rig r(cc);
    r.up();
    r.net.run_for(seconds(500));
    auto sp = r.net.of(r.s, v1::event_kind::phase1_up);
    CHECK(sp.size() >= 2);
    auto su = r.net.of(r.s, v1::event_kind::child_up);
    REQUIRE(su.size() >= 2);
    CHECK(su[1].old_spi_in == su[0].child.spi_in);
    CHECK(su[1].ike != su[0].ike);
    CHECK(r.server->established() == 1);
    CHECK(r.client->established() == 1);
    CHECK(live(r.net, r.s).size() == 1);
    CHECK(live(r.net, r.c).size() == 1);
    CHECK(r.net.of(r.c, v1::event_kind::failed).empty());
}

TEST_CASE("kilobyte lifetime: traffic triggers the rekey, the hard limit removes the SA") {
    v1::config cc;
    cc.phase2_lifetime_kb = 1000;
    rig r(cc);
    r.up();
    auto first = r.net.of(r.c, v1::event_kind::child_up)[0].child;
    CHECK(first.lifetime_kb == 1000);
    r.client->note_esp_traffic(first.spi_in, 950 * 1024, r.net.now);
    r.client->tick(r.net.now);
    r.net.pump();
    auto cu = r.net.of(r.c, v1::event_kind::child_up);
    REQUIRE(cu.size() == 2);
    CHECK(cu[1].old_spi_in == first.spi_in);
    r.client->note_esp_traffic(cu[1].child.spi_in, 1001 * 1024, r.net.now);
    auto down = r.net.of(r.c, v1::event_kind::child_down);
    r.net.pump();
    down = r.net.of(r.c, v1::event_kind::child_down);
    REQUIRE_FALSE(down.empty());
    CHECK(down.back().spi_in == cu[1].child.spi_in);
    CHECK(down.back().reason == v1::engine_errc::expired);
}
