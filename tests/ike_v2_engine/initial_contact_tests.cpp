// IKEv2 INITIAL_CONTACT (RFC 7296 2.4): a restarted client's new IKE SA ends
// its old ones (same IDi, same outer address, any port) with their Child
// SAs; other clients behind the same NAT, the same ID from elsewhere and a
// second SA without INITIAL_CONTACT are kept.
#include "ike_engine/harness.hpp"

#include <l2sec/ike/v2/engine.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string_view>

using namespace l2sec;
using l2sec::test::ike1::endpoint;
using l2sec::test::ike1::ep;
using l2sec::test::ike1::nat_box;
using l2sec::test::ike1::network;
using l2sec::test::ike1::rng;
using std::chrono::seconds;
namespace v2 = l2sec::ike::v2;

namespace {
using engine_t = v2::engine<crypto::botan, rng>;
const endpoint server_ep = ep(198, 51, 100, 1, 500);
const endpoint nat_public = ep(203, 0, 113, 7, 0);

std::unique_ptr<engine_t> make(std::uint64_t seed, std::string_view id, v2::config cfg = {}) {
    cfg.local_id = as_bytes(id);
    auto e = engine_t::make(cfg, rng(seed), v2::single_psk(as_bytes("l2sec-v2-psk")));
    REQUIRE(e.has_value());
    return std::make_unique<engine_t>(std::move(*e));
}
v2::connection conn(endpoint local) {
    v2::connection c;
    c.local = local;
    c.peer = server_ep;
    return c;
}
/// Position of the n-th event of kind `k` in the host's event list.
template <class Net>
std::ptrdiff_t position(const Net& net, std::size_t host, v2::event_kind k, std::size_t n = 0) {
    const auto& evs = net.events_of_host[host];
    for (std::size_t i = 0; i < evs.size(); ++i)
        if (evs[i].kind == k && n-- == 0) return static_cast<std::ptrdiff_t>(i);
    return -1;
}
}  // namespace

TEST_CASE("INITIAL_CONTACT from a restarted client (NAT rebound its port) ends its old SAs") {
    v2::config sc;
    sc.dpd_interval = seconds(0);
    auto server = make(2, "", sc);
    network<engine_t> net;
    const auto s = net.add(*server);
    net.hosts[s].addrs = {server_ep};
    const endpoint priv = ep(192, 168, 1, 10, 500);
    nat_box nat(nat_public);
    auto before = make(1, "alice@example.org");
    const auto c1 = net.add(*before, &nat);
    net.hosts[c1].addrs = {priv};
    REQUIRE(before->connect(conn(priv), net.now));
    net.pump();
    auto up = net.of(s, v2::event_kind::child_up);
    REQUIRE(up.size() == 1);
    const auto old_ike = net.of(s, v2::event_kind::ike_up).at(0).ike;
    const auto old_spi = up[0].child.spi_in;

    // the client restarts: its old SA is forgotten, the NAT maps it anew
    net.hosts[c1].alive = false;
    nat_box rebound(nat_public);
    rebound.next_port = 41000;
    auto after = make(3, "alice@example.org");
    const auto c2 = net.add(*after, &rebound);
    net.hosts[c2].addrs = {priv};
    REQUIRE(after->connect(conn(priv), net.now));
    net.pump();
    up = net.of(s, v2::event_kind::child_up);
    REQUIRE(up.size() == 2);
    CHECK(up[1].child.peer.addr == up[0].child.peer.addr);
    CHECK(up[1].child.peer.port != up[0].child.peer.port);
    auto cd = net.of(s, v2::event_kind::child_down);
    auto id = net.of(s, v2::event_kind::ike_down);
    REQUIRE(cd.size() == 1);
    REQUIRE(id.size() == 1);
    CHECK(cd[0].spi_in == old_spi);
    CHECK(cd[0].ike == old_ike);
    CHECK(cd[0].reason == v2::engine_errc::replaced);
    CHECK(id[0].ike == old_ike);
    CHECK(id[0].reason == v2::engine_errc::replaced);
    // the old ones go before the new IKE SA is reported up
    CHECK(position(net, s, v2::event_kind::child_down) <
          position(net, s, v2::event_kind::ike_up, 1));
    CHECK(position(net, s, v2::event_kind::ike_down) < position(net, s, v2::event_kind::ike_up, 1));
    CHECK(server->established() == 1);
    CHECK(server->size() == 1);
    CHECK(net.of(c2, v2::event_kind::child_up).size() == 1);
    CHECK(net.of(c2, v2::event_kind::ike_down).empty());
}

TEST_CASE("INITIAL_CONTACT ends nothing of another ID behind the NAT or the same ID elsewhere") {
    v2::config sc;
    sc.dpd_interval = seconds(0);
    auto server = make(2, "", sc);
    network<engine_t> net;
    const auto s = net.add(*server);
    net.hosts[s].addrs = {server_ep};
    nat_box nat(nat_public);
    const endpoint pa = ep(192, 168, 1, 10, 500), pb = ep(192, 168, 1, 11, 500);
    const endpoint elsewhere = ep(192, 0, 2, 20, 500);
    auto alice = make(1, "alice@example.org");
    auto bob = make(3, "bob@example.org");
    auto alice2 = make(4, "alice@example.org");
    const auto a = net.add(*alice, &nat);
    const auto b = net.add(*bob, &nat);
    const auto a2 = net.add(*alice2);
    net.hosts[a].addrs = {pa};
    net.hosts[b].addrs = {pb};
    net.hosts[a2].addrs = {elsewhere};
    // each one's first SA: all three send INITIAL_CONTACT
    REQUIRE(alice->connect(conn(pa), net.now));
    net.pump();
    REQUIRE(bob->connect(conn(pb), net.now));
    net.pump();
    REQUIRE(alice2->connect(conn(elsewhere), net.now));
    net.pump();
    CHECK(net.of(s, v2::event_kind::child_up).size() == 3);
    CHECK(net.of(s, v2::event_kind::ike_down).empty());
    CHECK(net.of(s, v2::event_kind::child_down).empty());
    CHECK(server->established() == 3);
    for (auto h : {a, b, a2}) {
        CHECK(net.of(h, v2::event_kind::child_up).size() == 1);
        CHECK(net.of(h, v2::event_kind::ike_down).empty());
    }
}

TEST_CASE("a second IKE SA to the same peer carries no INITIAL_CONTACT: both stay up") {
    v2::config sc;
    sc.dpd_interval = seconds(0);
    auto server = make(2, "", sc);
    auto client = make(1, "alice@example.org");
    network<engine_t> net;
    const auto s = net.add(*server);
    const auto c = net.add(*client);
    const endpoint local = ep(192, 0, 2, 10, 500);
    net.hosts[s].addrs = {server_ep};
    net.hosts[c].addrs = {local};
    REQUIRE(client->connect(conn(local), net.now));
    net.pump();
    REQUIRE(client->connect(conn(local), net.now));  // same ID, same address and port
    net.pump();
    CHECK(net.of(s, v2::event_kind::child_up).size() == 2);
    CHECK(net.of(c, v2::event_kind::child_up).size() == 2);
    CHECK(net.of(s, v2::event_kind::ike_down).empty());
    CHECK(net.of(s, v2::event_kind::child_down).empty());
    CHECK(server->established() == 2);
    CHECK(client->established() == 2);
}

TEST_CASE("after an IKE SA rekey the new SA keeps the IDi: INITIAL_CONTACT still ends it") {
    v2::config cc;
    cc.ike_lifetime = seconds(100);  // the client rekeys at 90 s
    cc.child_lifetime = seconds(1000);
    cc.dpd_interval = seconds(0);
    v2::config sc;
    sc.dpd_interval = seconds(0);
    auto server = make(2, "", sc);
    auto before = make(1, "alice@example.org", cc);
    network<engine_t> net;
    const auto s = net.add(*server);
    const auto c1 = net.add(*before);
    const endpoint local = ep(192, 0, 2, 10, 500);
    net.hosts[s].addrs = {server_ep};
    net.hosts[c1].addrs = {local};
    REQUIRE(before->connect(conn(local), net.now));
    net.run_for(seconds(95));
    REQUIRE(server->stats().rekeys == 1);
    auto su = net.of(s, v2::event_kind::ike_up);
    REQUIRE(su.size() == 2);
    REQUIRE(net.of(s, v2::event_kind::ike_down).size() == 1);  // the old one, on its Delete
    const auto spi = net.of(s, v2::event_kind::child_up).at(0).child.spi_in;

    net.hosts[c1].alive = false;
    auto after = make(3, "alice@example.org");
    const auto c2 = net.add(*after);
    net.hosts[c2].addrs = {local};
    REQUIRE(after->connect(conn(local), net.now));
    net.pump();
    auto sd = net.of(s, v2::event_kind::ike_down);
    REQUIRE(sd.size() == 2);
    CHECK(sd[1].ike == su[1].ike);
    CHECK(sd[1].reason == v2::engine_errc::replaced);
    auto cd = net.of(s, v2::event_kind::child_down);
    REQUIRE(cd.size() == 1);  // the Child SA that moved to the rekeyed IKE SA
    CHECK(cd[0].spi_in == spi);
    CHECK(server->established() == 1);
}
