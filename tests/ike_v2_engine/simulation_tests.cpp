// The IKEv2 engine over the seeded lossy in-memory network, 200 seeds: a
// client (behind a NAT for odd seeds) and a server under 10 % loss with
// duplication, through Child SA and IKE SA rekeys from either side and
// simultaneous ones (RFC 7296 2.8.1, 2.8.2) in flight; then the loss stops
// and both must hold exactly one Child SA pair, the same one, over one IKE
// SA; then the server goes silent and the client's liveness check must find
// out.
#include "ike_v2_engine/support.hpp"

#include <map>

using namespace l2sec;
using l2sec::test::ike1::ep;
using l2sec::test::ike1::nat_box;
using l2sec::test::ike1::network;
using std::chrono::seconds;
namespace v2 = l2sec::ike::v2;

namespace {
using engine_t = l2sec::test::ike2::engine<>;

/// What a host holds now, from its events: Child SAs (inbound -> outbound
/// SPI) and IKE SAs (the newest last).
struct held {
    std::map<std::uint32_t, std::uint32_t> children;
    std::vector<v2::sa_handle> ike;
};
held now_held(const network<engine_t>& net, std::size_t host) {
    held h;
    for (const auto& e : net.events_of_host[host]) {
        if (e.kind == v2::event_kind::child_up) h.children[e.child.spi_in] = e.child.spi_out;
        if (e.kind == v2::event_kind::child_down) h.children.erase(e.spi_in);
        if (e.kind == v2::event_kind::ike_up) h.ike.push_back(e.ike);
        if (e.kind == v2::event_kind::ike_down)
            std::erase_if(h.ike, [&](const v2::sa_handle& x) { return x == e.ike; });
    }
    return h;
}
/// The newest IKE SA and Child SA `who` holds, rekeyed now (child or IKE);
/// true when the engine took it.
bool rekey(engine_t& e, const network<engine_t>& net, std::size_t who, bool child) {
    const auto h = now_held(net, who);
    if (h.ike.empty()) return false;
    if (!child) return e.rekey_ike(h.ike.back(), net.now).has_value();
    std::uint32_t newest = 0;
    for (const auto& ev : net.events_of_host[who])
        if (ev.kind == v2::event_kind::child_up && h.children.count(ev.child.spi_in))
            newest = ev.child.spi_in;
    return newest && e.rekey_child(h.ike.back(), newest, net.now).has_value();
}
}  // namespace

TEST_CASE(
    "simulation: 200 seeds of loss with rekeys and collisions in flight converge; "
    "the liveness check finds a silent peer") {
    v2::config cfg;
    cfg.child_lifetime = seconds(0);  // the rekeys come from the script below
    cfg.ike_lifetime = seconds(0);
    cfg.dpd_interval = seconds(5);
    int agreed = 0, gave_up = 0, dead_found = 0;
    std::uint64_t rekeys = 0, collisions = 0, deferred = 0, retx = 0, taken = 0;
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        CAPTURE(seed);
        auto client = l2sec::test::ike2::make(1000 + seed, cfg);
        auto server = l2sec::test::ike2::make(2000 + seed, cfg);
        nat_box nat(ep(203, 0, 113, 5, 0));
        network<engine_t> net;
        net.seed = seed;
        net.drop = 0.10;
        net.duplicate = true;
        const auto c = net.add(*client, seed % 2 ? &nat : nullptr);
        const auto s = net.add(*server);
        net.hosts[c].addrs = {l2sec::test::ike2::client_ep};
        net.hosts[s].addrs = {l2sec::test::ike2::server_ep};
        REQUIRE(client->connect(l2sec::test::ike2::conn(), net.now));
        net.run_for(seconds(20));
        // one rekey each way, then both ends at once, Child SA and IKE SA
        taken += rekey(*client, net, c, true);
        net.run_for(seconds(20));
        taken += rekey(*server, net, s, false);
        net.run_for(seconds(20));
        taken += rekey(*client, net, c, true);
        taken += rekey(*server, net, s, true);
        net.run_for(seconds(20));
        taken += rekey(*client, net, c, false);
        taken += rekey(*server, net, s, false);
        net.run_for(seconds(20));
        net.drop = 0;  // settle: what is in flight completes or times out; overlaps end
        net.duplicate = false;
        net.run_for(seconds(40));
        rekeys += client->stats().rekeys + server->stats().rekeys;
        collisions += client->stats().rekey_collisions + server->stats().rekey_collisions;
        deferred += client->stats().rekeys_deferred + server->stats().rekeys_deferred;
        retx += client->stats().retransmits + server->stats().retransmits;
        const auto hc = now_held(net, c), hs = now_held(net, s);
        if (client->established() == 0) {
            // every transmission of some request was lost: the client said so
            // and holds nothing
            CHECK(hc.children.empty());
            CHECK(hc.ike.empty());
            ++gave_up;
            continue;
        }
        // one IKE SA and one Child SA pair, the same at both ends
        CHECK(client->established() == 1);
        CHECK(server->established() == 1);
        CHECK(hc.ike.size() == 1);
        CHECK(hs.ike.size() == 1);
        const bool same = hc.children.size() == 1 && hs.children.size() == 1 &&
                          hs.children.count(hc.children.begin()->second) == 1 &&
                          hs.children.at(hc.children.begin()->second) == hc.children.begin()->first;
        agreed += same;
        if (!same)
            MESSAGE("seed ", seed, ": client holds ", hc.children.size(), " Child SAs, server ",
                    hs.children.size());
        // the server goes silent: the client's liveness check finds out
        const auto before = net.events_of_host[c].size();
        net.hosts[s].alive = false;
        net.run_for(seconds(60));
        bool dead = false;
        for (auto i = before; i < net.events_of_host[c].size(); ++i)
            dead |= net.events_of_host[c][i].kind == v2::event_kind::peer_dead;
        if (dead && client->established() == 0 && now_held(net, c).children.empty()) ++dead_found;
    }
    MESSAGE("agreed ", agreed, ", gave up ", gave_up, ", silent peer found ", dead_found,
            "; rekeys taken ", taken, ", done ", rekeys, ", collisions ", collisions, ", put off ",
            deferred, ", retransmissions ", retx);
    CHECK(agreed + gave_up == 200);
    CHECK(gave_up <= 4);
    CHECK(dead_found == agreed);
    CHECK(collisions >= 200);  // the simultaneous rekeys really collided, most of the time
    CHECK(retx > 0);
}
