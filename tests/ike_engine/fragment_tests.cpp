// IKEv1 fragments sent (Cisco/Microsoft scheme, payload 132): a message
// longer than config::fragment_size goes out in pieces to a peer that
// announced fragmentation, never to one that did not, and the other side
// (our engine, in memory) reassembles it; both directions.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <cstddef>

using namespace l2sec;
using namespace l2sec::test::ike1;

namespace {

const endpoint server_ep = ep(198, 51, 100, 1, 500);
const endpoint client_ep = ep(192, 0, 2, 10, 500);

struct counts {
    int whole = 0, pieces = 0, last = 0;
    std::size_t largest = 0, largest_piece = 0;
};

void count(counts& k, const packet& p) {
    k.largest = std::max(k.largest, p.data.size());
    if (p.data.size() > 28 && p.data[16] == std::byte{132}) {
        ++k.pieces;
        k.largest_piece = std::max(k.largest_piece, p.data.size());
        if (p.data.size() > 35 && (p.data[35] & std::byte{1}) != std::byte{0}) ++k.last;
    } else {
        ++k.whole;
    }
}

}  // namespace

TEST_CASE("fragments sent both ways: every datagram within fragment_size, the SAs come up") {
    v1::config cfg;
    cfg.fragment_size = 200;
    auto client = make_engine(80, cfg);
    auto server = make_engine(81, cfg);
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    counts to_server, to_client;
    bool first = true;
    net.tap = [&](packet& p) {
        if (first) {  // MM1: the peer's support is not known yet, sent whole
            CHECK(p.data[16] != std::byte{132});
            first = false;
        }
        count(p.dst.addr == server_ep.addr ? to_server : to_client, p);
    };
    REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    net.pump();
    REQUIRE(net.of(c, v1::event_kind::child_up).size() == 1);
    REQUIRE(net.of(s, v1::event_kind::child_up).size() == 1);
    CHECK(net.of(s, v1::event_kind::child_up)[0].child.spi_out ==
          net.of(c, v1::event_kind::child_up)[0].child.spi_in);
    CHECK(to_server.pieces > 4);   // MM3 (KE), QM1 at least
    CHECK(to_client.pieces >= 2);  // MM4 (its KE); QM2 (one proposal) fits whole
    CHECK(to_server.last >= 2);
    CHECK(to_client.last >= 1);
    CHECK(to_server.largest_piece <= 200);
    CHECK(to_client.largest_piece <= 200);
    CHECK(client->stats().dropped == 0);
    CHECK(server->stats().dropped == 0);
}

TEST_CASE("fragments only to a peer that announced them") {
    v1::config cc, sc;
    cc.fragment_size = 200;
    sc.fragment_size = 200;
    sc.send_fragmentation_vendor_id = false;  // the server does not announce it
    auto client = make_engine(82, cc);
    auto server = make_engine(83, sc);
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    counts to_server, to_client;
    net.tap = [&](packet& p) { count(p.dst.addr == server_ep.addr ? to_server : to_client, p); };
    REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    net.pump();
    REQUIRE(net.of(c, v1::event_kind::child_up).size() == 1);
    CHECK(to_server.pieces == 0);
    CHECK(to_server.largest > 200);
    CHECK(to_client.pieces > 0);  // the client announced it (initiators always do)
}

TEST_CASE("fragment_size is validated; 0 never fragments") {
    v1::config bad;
    bad.fragment_size = 100;
    auto e = engine_t<>::make(bad, rng(1), v1::single_psk(as_bytes("k")));
    REQUIRE(!e.has_value());
    CHECK(e.error() == v1::engine_errc::invalid_config);
    v1::config off;
    off.fragment_size = 0;
    auto client = make_engine(84, off);
    auto server = make_engine(85, off);
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    counts all;
    net.tap = [&](packet& p) { count(all, p); };
    REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    net.pump();
    CHECK(net.of(c, v1::event_kind::child_up).size() == 1);
    CHECK(all.pieces == 0);
}
