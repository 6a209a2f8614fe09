// The IKEv1 engine over the seeded lossy in-memory network, 200 seeds: a
// client (behind a NAT for odd seeds) and a server under 10 % loss with
// duplication, through Quick Mode rekeys and phase 1 re-authentications
// in flight; then the loss stops and both sides must agree on their ESP
// SAs (at the latest once a one-sided SA, left by a lost QM3 or Delete,
// expired); then the server goes silent and the client must find out.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>

using namespace l2sec;
using namespace l2sec::test::ike1;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const endpoint server_ep = ep(198, 51, 100, 1, 500);
const endpoint client_ep = ep(192, 168, 1, 10, 500);

/// The ESP SAs a host has installed now: inbound SPI -> outbound SPI.
std::map<std::uint32_t, std::uint32_t> live(const network<engine_t<>>& net, std::size_t host) {
    std::map<std::uint32_t, std::uint32_t> in;
    for (auto& e : net.events_of_host[host]) {
        if (e.kind == v1::event_kind::child_up) in[e.child.spi_in] = e.child.spi_out;
        if (e.kind == v1::event_kind::child_down) in.erase(e.spi_in);
    }
    return in;
}

}  // namespace

TEST_CASE("simulation: 200 seeds of loss with rekeys in flight converge; DPD finds a silent peer") {
    v1::config cfg;
    cfg.phase2_lifetime = seconds(40);  // Quick Mode rekeys at ~36 s, ~72 s, ~108 s
    cfg.phase1_lifetime = seconds(60);  // re-authentications at ~54 s, ~108 s, ~162 s
    cfg.dpd_interval = seconds(5);
    cfg.dpd_timeout = seconds(15);
    int agreed = 0, gave_up = 0, dead_found = 0, late = 0;
    std::uint64_t rekeys = 0, retx = 0;
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        CAPTURE(seed);
        auto client = make_engine(1000 + seed, cfg);
        auto server = make_engine(2000 + seed, cfg);
        nat_box nat(ep(203, 0, 113, 5, 0));
        network<engine_t<>> net;
        net.seed = seed;
        net.drop = 0.10;
        net.duplicate = true;
        auto c = net.add(*client, seed % 2 ? &nat : nullptr);
        auto s = net.add(*server);
        net.hosts[c].addrs = {client_ep};
        net.hosts[s].addrs = {server_ep};
        REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
        net.run_for(milliseconds(130000));
        net.drop = 0;  // settle: whatever was in flight completes or times out
        net.duplicate = false;
        net.run_for(milliseconds(40000));
        rekeys += client->stats().rekeys + server->stats().rekeys;
        retx += client->stats().retransmits + server->stats().retransmits;
        auto cl = live(net, c), sl = live(net, s);
        auto agree = [&] {
            bool same = !cl.empty() && cl.size() == sl.size();
            for (auto [in, out] : cl) {
                auto it = sl.find(out);
                same = same && it != sl.end() && it->second == in;
            }
            return same;
        };
        if (client->established() != 0 && !agree()) {
            // A lost QM3 or Delete (IKEv1 does not retransmit them) leaves an
            // SA on one side only, until its lifetime ends: wait for that.
            net.run_for(milliseconds(45000));
            cl = live(net, c);
            sl = live(net, s);
            ++late;
        }
        if (client->established() == 0) {
            // Every retransmission of some exchange was lost: the client
            // said so, and holds nothing.
            const bool said = !net.of(c, v1::event_kind::failed).empty() ||
                              !net.of(c, v1::event_kind::phase1_down).empty();
            CHECK(said);
            CHECK(cl.empty());
            ++gave_up;
            continue;
        }
        // Both sides hold the same pairs: each of the client's inbound SAs
        // is one of the server's outbound ones and the other way round.
        const bool same = agree();
        agreed += same;
        if (!same) {
            MESSAGE("seed ", seed, ": client holds ", cl.size(), ", server ", sl.size(),
                    ", client IKE SAs ", client->size(), ", server ", server->size());
            for (auto [in, out] : cl)
                MESSAGE("  client in ", in, " out ", out);
            for (auto [in, out] : sl)
                MESSAGE("  server in ", in, " out ", out);
        }
        // The server goes silent: the client finds out (DPD, or a rekey's
        // retransmissions running out first) and nothing is left.
        const auto before = net.events_of_host[c].size();
        net.hosts[s].alive = false;
        net.run_for(milliseconds(60000));
        bool noticed = false;
        for (auto i = before; i < net.events_of_host[c].size(); ++i) {
            const auto& e = net.events_of_host[c][i];
            if (e.kind == v1::event_kind::peer_dead ||
                (e.kind == v1::event_kind::phase1_down && e.reason == v1::engine_errc::timeout))
                noticed = true;
        }
        // (A re-authentication due meanwhile may still be retrying: half-open.)
        if (noticed && client->established() == 0 && live(net, c).empty()) ++dead_found;
    }
    MESSAGE("agreed ", agreed, " (", late, " after a one-sided SA expired), gave up ", gave_up,
            ", DPD found the silent peer ", dead_found, "; rekeys ", rekeys, ", retransmissions ",
            retx);
    CHECK(agreed + gave_up == 200);
    CHECK(gave_up <= 10);
    CHECK(dead_found == 200 - gave_up);
    CHECK(rekeys >= 400);  // rekeys really ran (two sides, several per seed)
    CHECK(retx > 0);
}
