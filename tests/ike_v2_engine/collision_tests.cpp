// Rekeys on demand (engine::rekey_child, rekey_ike) and what happens when
// both ends rekey the same SA at once: RFC 7296 2.8.1 (Child SA) and 2.8.2
// (IKE SA): the redundant SA made with the lowest of the four nonces is
// closed by its creator, the other creator deletes the replaced SA; and
// 2.25: a request to rekey an SA that is already being replaced or closed
// gets TEMPORARY_FAILURE, and its sender tries again later.
#include "ike_v2_engine/support.hpp"

#include <algorithm>
#include <set>

using namespace l2sec;
using l2sec::test::ike1::network;
using l2sec::test::ike2::client_ep;
using l2sec::test::ike2::server_ep;
using std::chrono::seconds;
namespace v2 = l2sec::ike::v2;

namespace {
using engine_t = l2sec::test::ike2::engine<>;
using sa_handle_t = v2::sa_handle;

v2::config quiet() {
    v2::config c;
    c.dpd_interval = seconds(0);
    return c;
}

/// A client and a server with one IKE SA and one Child SA between them.
struct pair_up {
    std::unique_ptr<engine_t> client, server;
    network<engine_t> net;
    std::size_t c = 0, s = 0;
    v2::sa_handle ch{}, sh{};
    pair_up(std::uint64_t seed, const v2::config& cc = quiet(), const v2::config& sc = quiet())
        : client(l2sec::test::ike2::make(2 * seed + 1, cc)),
          server(l2sec::test::ike2::make(2 * seed + 2, sc)) {
        c = net.add(*client);
        s = net.add(*server);
        net.hosts[c].addrs = {client_ep};
        net.hosts[s].addrs = {server_ep};
        REQUIRE(client->connect(l2sec::test::ike2::conn(), net.now));
        net.pump();
        REQUIRE(up(c).size() == 1);
        REQUIRE(up(s).size() == 1);
        ch = up(c)[0].ike;
        sh = up(s)[0].ike;
    }
    std::vector<v2::event> up(std::size_t who) const {
        return net.of(who, v2::event_kind::child_up);
    }
    /// Inbound SPIs of the Child SAs `who` still has: up and not down.
    std::set<std::uint32_t> live(std::size_t who) const {
        std::set<std::uint32_t> r;
        for (const auto& e : net.events_of_host[who]) {
            if (e.kind == v2::event_kind::child_up) r.insert(e.child.spi_in);
            if (e.kind == v2::event_kind::child_down) r.erase(e.spi_in);
        }
        return r;
    }
    /// The newest Child SA of `who` with this inbound SPI.
    v2::child_sa child(std::size_t who, std::uint32_t spi_in) const {
        for (const auto& e : up(who))
            if (e.child.spi_in == spi_in) return e.child;
        FAIL("no such Child SA");
        return {};
    }
    /// The live Child SAs pair up (each one's outbound SPI is the other's
    /// inbound) and ESP crosses both ways.
    void check_pairs() const {
        const auto lc = live(c), ls = live(s);
        REQUIRE(lc.size() == ls.size());
        for (auto spi : lc) {
            const auto a = child(c, spi);
            REQUIRE(ls.count(a.spi_out) == 1);
            const auto b = child(s, a.spi_out);
            CHECK(b.spi_out == a.spi_in);
            CHECK(l2sec::test::ike2::esp_crosses(a, b));
            CHECK(l2sec::test::ike2::esp_crosses(b, a));
        }
    }
};
}  // namespace

TEST_CASE("rekey_child: either side rekeys a Child SA now, whoever created it") {
    for (bool from_server : {false, true}) {
        CAPTURE(from_server);
        pair_up p(1);
        const auto first = p.up(p.c)[0].child;
        auto& e = from_server ? *p.server : *p.client;
        const auto h = from_server ? p.sh : p.ch;
        const auto spi = from_server ? first.spi_out : first.spi_in;
        REQUIRE(e.rekey_child(h, spi, p.net.now));
        p.net.run_for(seconds(40));  // past the overlap: the old pair goes
        REQUIRE(p.up(p.c).size() == 2);
        REQUIRE(p.up(p.s).size() == 2);
        CHECK(p.live(p.c).size() == 1);
        CHECK(p.live(p.s).size() == 1);
        CHECK(p.live(p.c).count(first.spi_in) == 0);
        const auto by = from_server ? p.up(p.s)[1] : p.up(p.c)[1];
        CHECK(by.old_spi_in == spi);
        p.check_pairs();
        CHECK(p.client->stats().rekey_collisions == 0);
    }
}

TEST_CASE("rekey_child / rekey_ike: errors name what is wrong") {
    pair_up p(2);
    const auto spi = p.up(p.c)[0].child.spi_in;
    auto bad = p.client->rekey_child(p.ch, spi + 1, p.net.now);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == v2::engine_errc::invalid_spi);
    v2::sa_handle stale = p.ch;
    stale.generation += 1;
    CHECK(p.client->rekey_child(stale, spi, p.net.now).error().code ==
          v2::engine_errc::invalid_spi);
    CHECK(p.client->rekey_ike(stale, p.net.now).error().code == v2::engine_errc::invalid_spi);
    REQUIRE(p.client->rekey_child(p.ch, spi, p.net.now));
    p.net.pump();
    // the old one is now replaced (in its overlap): not again
    auto again = p.client->rekey_child(p.ch, spi, p.net.now);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == v2::engine_errc::wrong_state);
}

TEST_CASE("rekey_ike: either side rekeys the IKE SA now; the Child SA moves to the new one") {
    for (bool from_server : {false, true}) {
        CAPTURE(from_server);
        pair_up p(3);
        auto& e = from_server ? *p.server : *p.client;
        REQUIRE(e.rekey_ike(from_server ? p.sh : p.ch, p.net.now));
        p.net.run_for(seconds(40));
        const auto ups_c = p.net.of(p.c, v2::event_kind::ike_up);
        const auto ups_s = p.net.of(p.s, v2::event_kind::ike_up);
        REQUIRE(ups_c.size() == 2);
        REQUIRE(ups_s.size() == 2);
        CHECK(p.client->established() == 1);
        CHECK(p.server->established() == 1);
        CHECK(p.live(p.c).size() == 1);  // the Child SA lives on
        // and the new IKE SA works: a Child SA rekey over it
        const auto spi = *p.live(p.c).begin();
        REQUIRE(p.client->rekey_child(ups_c[1].ike, spi, p.net.now));
        p.net.run_for(seconds(40));
        CHECK(p.up(p.c).size() == 2);
        CHECK(p.live(p.c).size() == 1);
        p.check_pairs();
    }
}

namespace {
/// Everything `e` has to send, held back (for deliveries in a chosen order).
std::vector<l2sec::test::ike1::packet> take(engine_t& e) {
    std::vector<l2sec::test::ike1::packet> r;
    while (auto d = e.poll_datagram())
        r.push_back({d->local, d->peer, {d->data.begin(), d->data.end()}});
    return r;
}
}  // namespace

TEST_CASE("Child SA collision (RFC 7296 2.8.1): both ends rekey it at once, one new SA survives") {
    int client_kept = 0, server_kept = 0;
    for (std::uint64_t seed = 1; seed <= 16; ++seed) {
        CAPTURE(seed);
        pair_up p(seed);
        const auto x = p.up(p.c)[0].child;
        REQUIRE(p.client->rekey_child(p.ch, x.spi_in, p.net.now));
        REQUIRE(p.server->rekey_child(p.sh, x.spi_out, p.net.now));
        p.net.run_for(seconds(40));  // both requests cross, then the Deletes, then the overlap
        CHECK(p.client->stats().rekey_collisions == 1);
        CHECK(p.server->stats().rekey_collisions == 1);
        CHECK(p.net.of(p.c, v2::event_kind::failed).empty());
        CHECK(p.net.of(p.s, v2::event_kind::failed).empty());
        // X, the server's SA (made when its request came in), the client's own
        const auto ups = p.up(p.c);
        REQUIRE(ups.size() == 3);
        const auto live = p.live(p.c);
        REQUIRE(live.size() == 1);
        CHECK(p.live(p.s).size() == 1);
        CHECK(live.count(x.spi_in) == 0);
        p.check_pairs();
        if (*live.begin() == ups[2].child.spi_in) ++client_kept;
        if (*live.begin() == ups[1].child.spi_in) ++server_kept;
        // the survivor is rekeyed later by its creator only: no new collision
        p.net.run_for(seconds(40));
        CHECK(p.live(p.c).size() == 1);
    }
    // the nonces decide: over 16 runs each end's SA survived sometimes
    CHECK(client_kept + server_kept == 16);
    CHECK(client_kept > 0);
    CHECK(server_kept > 0);
}

TEST_CASE("Child SA rekey of an SA already replaced gets TEMPORARY_FAILURE (RFC 7296 2.25.1)") {
    pair_up p(5);
    const auto x = p.up(p.c)[0].child;
    REQUIRE(p.client->rekey_child(p.ch, x.spi_in, p.net.now));
    auto a = take(*p.client);
    REQUIRE(p.server->rekey_child(p.sh, x.spi_out, p.net.now));
    auto b = take(*p.server);
    REQUIRE(a.size() == 1);
    REQUIRE(b.size() == 1);
    // the server gets the client's request while its own is out: it answers
    REQUIRE(p.net.deliver(a[0]));
    auto a_resp = take(*p.server);
    REQUIRE(a_resp.size() == 1);
    // the client's rekey ends before the server's request reaches it
    REQUIRE(p.net.deliver(a_resp[0]));
    auto del_x = take(*p.client);  // its Delete of X
    REQUIRE(del_x.size() == 1);
    REQUIRE(p.net.deliver(b[0]));
    auto b_resp = take(*p.client);  // TEMPORARY_FAILURE: X is being deleted
    REQUIRE(b_resp.size() == 1);
    REQUIRE(p.net.deliver(b_resp[0]));
    CHECK(p.server->stats().rekeys_deferred == 1);
    REQUIRE(p.net.deliver(del_x[0]));
    p.net.run_for(seconds(40));  // the server does not try X again: it is gone
    CHECK(p.client->stats().rekey_collisions == 0);
    CHECK(p.server->stats().rekey_collisions == 0);
    CHECK(p.up(p.c).size() == 2);
    CHECK(p.up(p.s).size() == 2);
    CHECK(p.live(p.c).size() == 1);
    CHECK(p.live(p.s).size() == 1);
    p.check_pairs();
}

TEST_CASE(
    "IKE SA collision (RFC 7296 2.8.2): both ends rekey it at once, one new IKE SA survives") {
    int client_kept = 0;
    for (std::uint64_t seed = 1; seed <= 16; ++seed) {
        CAPTURE(seed);
        pair_up p(seed);
        REQUIRE(p.client->rekey_ike(p.ch, p.net.now));
        REQUIRE(p.server->rekey_ike(p.sh, p.net.now));
        p.net.run_for(seconds(40));
        CHECK(p.client->stats().rekey_collisions == 1);
        CHECK(p.server->stats().rekey_collisions == 1);
        CHECK(p.client->established() == 1);
        CHECK(p.server->established() == 1);
        CHECK(p.client->half_open() == 0);
        CHECK(p.server->half_open() == 0);
        CHECK(p.net.of(p.c, v2::event_kind::failed).empty());
        CHECK(p.net.of(p.s, v2::event_kind::failed).empty());
        // every IKE SA reported up went down, but one: the survivor
        std::set<std::uint32_t> ike_c;
        sa_handle_t last{};
        for (const auto& e : p.net.events_of_host[p.c]) {
            if (e.kind == v2::event_kind::ike_up) ike_c.insert(e.ike.index), last = e.ike;
            if (e.kind == v2::event_kind::ike_down) ike_c.erase(e.ike.index);
        }
        REQUIRE(ike_c.size() == 1);
        // the Child SA moved to it, still pairs up, and is rekeyed over it
        REQUIRE(p.live(p.c).size() == 1);
        CHECK(p.live(p.s).size() == 1);
        p.check_pairs();
        const auto spi = *p.live(p.c).begin();
        REQUIRE(p.client->rekey_child(last, spi, p.net.now));
        p.net.run_for(seconds(40));
        CHECK(p.live(p.c).size() == 1);
        CHECK(p.live(p.c).count(spi) == 0);
        p.check_pairs();
        // the client's own new SA has the initiator's role in its SPIs
        client_kept += p.net.of(p.c, v2::event_kind::ike_up).size() == 3;
    }
    CHECK(client_kept > 0);
    CHECK(client_kept < 16);
}

TEST_CASE(
    "an IKE SA rekey and a Child SA rekey cross: both put off, then both done (RFC 7296 2.25.2)") {
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
        CAPTURE(seed);
        pair_up p(seed);
        const auto x = p.up(p.c)[0].child;
        REQUIRE(p.client->rekey_child(p.ch, x.spi_in, p.net.now));
        REQUIRE(p.server->rekey_ike(p.sh, p.net.now));
        p.net.run_for(seconds(60));
        CHECK(p.client->stats().rekeys_deferred >= 1);
        CHECK(p.server->stats().rekeys_deferred >= 1);
        CHECK(p.net.of(p.c, v2::event_kind::failed).empty());
        CHECK(p.net.of(p.c, v2::event_kind::ike_up).size() == 2);  // rekeyed once
        CHECK(p.client->established() == 1);
        CHECK(p.server->established() == 1);
        REQUIRE(p.live(p.c).size() == 1);
        CHECK(p.live(p.c).count(x.spi_in) == 0);  // and the Child SA too
        p.check_pairs();
    }
}

TEST_CASE("collisions under loss and duplication: Child SA and IKE SA rekeys at once converge") {
    for (std::uint64_t seed = 1; seed <= 24; ++seed) {
        CAPTURE(seed);
        pair_up p(seed);
        p.net.seed = seed;
        p.net.drop = 0.15;
        p.net.duplicate = true;
        const auto x = p.up(p.c)[0].child;
        if (seed % 2) {
            REQUIRE(p.client->rekey_child(p.ch, x.spi_in, p.net.now));
            REQUIRE(p.server->rekey_child(p.sh, x.spi_out, p.net.now));
        } else {
            REQUIRE(p.client->rekey_ike(p.ch, p.net.now));
            REQUIRE(p.server->rekey_ike(p.sh, p.net.now));
        }
        p.net.run_for(seconds(90));
        p.net.drop = 0;
        p.net.run_for(seconds(30));
        CHECK(p.client->established() == 1);
        CHECK(p.server->established() == 1);
        CHECK(p.net.of(p.c, v2::event_kind::failed).empty());
        CHECK(p.net.of(p.s, v2::event_kind::failed).empty());
        REQUIRE(p.live(p.c).size() == 1);
        CHECK(p.live(p.c).count(x.spi_in) == (seed % 2 ? 0u : 1u));
        p.check_pairs();
    }
}
