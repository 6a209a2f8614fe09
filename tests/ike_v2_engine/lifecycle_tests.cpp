// IKEv2 engine lifecycle: Child SA rekeying with CREATE_CHILD_SA (REKEY_SA,
// overlap, Delete of the old SA), and the COOKIE mechanism of RFC 7296 2.6
// (stateless under load, the initiator retrying with the cookie), and both
// rekeys in flight over a lossy, duplicating network.
#include "ike_v2_engine/support.hpp"
#include "support/alloc_counter.hpp"

using namespace l2sec;
using l2sec::test::ike1::endpoint;
using l2sec::test::ike1::ep;
using l2sec::test::ike1::network;
using l2sec::test::ike1::rng;
using l2sec::test::ike2::client_ep;
using l2sec::test::ike2::conn;
using l2sec::test::ike2::make;
using l2sec::test::ike2::server_ep;
using std::chrono::seconds;
namespace v2 = l2sec::ike::v2;

namespace {
using engine_t = l2sec::test::ike2::engine<>;
constexpr auto esp_roundtrip = [](const v2::child_sa& a, const v2::child_sa& b) {
    return l2sec::test::ike2::esp_crosses(a, b);
};
}  // namespace

TEST_CASE(
    "Child SA rekey at the soft lifetime: new pair, old one kept for the overlap, then gone") {
    v2::config cc;
    cc.child_lifetime = seconds(100);  // rekey at 90 s
    cc.dpd_interval = seconds(0);
    v2::config sc;
    sc.dpd_interval = seconds(0);
    auto client = make(1, cc), server = make(2, sc);
    network<engine_t> net;
    auto c = net.add(*client), s = net.add(*server);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    REQUIRE(client->connect(conn(), net.now));
    net.pump();
    REQUIRE(net.of(c, v2::event_kind::child_up).size() == 1);
    const auto first_c = net.of(c, v2::event_kind::child_up)[0].child;
    net.run_for(seconds(95));
    auto cu = net.of(c, v2::event_kind::child_up);
    auto su = net.of(s, v2::event_kind::child_up);
    INFO("client: " << client->stats().last_error.message() << " rekeys "
                    << client->stats().rekeys);
    INFO("server: " << server->stats().last_error.message());
    REQUIRE(cu.size() == 2);
    REQUIRE(su.size() == 2);
    CHECK(cu[1].old_spi_in == first_c.spi_in);
    CHECK(su[1].old_spi_in == su[0].child.spi_in);
    CHECK(cu[1].child.spi_in == su[1].child.spi_out);
    CHECK(cu[1].child.spi_out == su[1].child.spi_in);
    CHECK(cu[1].child.spi_in != first_c.spi_in);
    CHECK(cu[1].child.protocol == 17);
    CHECK(cu[1].child.local_port == 1701);
    CHECK(su[1].child.mode == esp::mode::transport);
    CHECK(esp_roundtrip(cu[1].child, su[1].child));
    CHECK(esp_roundtrip(su[1].child, cu[1].child));
    CHECK(client->stats().rekeys == 1);
    CHECK(server->stats().rekeys == 1);
    // the server removed the old SA on our Delete; we keep it for the overlap
    auto sd = net.of(s, v2::event_kind::child_down);
    REQUIRE(sd.size() == 1);
    CHECK(sd[0].spi_in == su[0].child.spi_in);
    CHECK(sd[0].reason == v2::engine_errc::deleted);
    net.run_for(seconds(12));
    auto cd = net.of(c, v2::event_kind::child_down);
    REQUIRE(cd.size() == 1);
    CHECK(cd[0].spi_in == first_c.spi_in);
    CHECK(cd[0].reason == v2::engine_errc::replaced);
    // and again at the next soft lifetime
    net.run_for(seconds(90));
    CHECK(net.of(c, v2::event_kind::child_up).size() == 3);
    CHECK(client->stats().dropped == 0);
    CHECK(server->stats().dropped == 0);
}

TEST_CASE("under load the responder answers IKE_SA_INIT with a stateless COOKIE; clients retry") {
    v2::config sc;
    sc.cookie_threshold = 1;
    auto server = make(2, sc);
    std::chrono::steady_clock::time_point now{};
    // one half-open SA: a client whose responses are lost
    auto ghost = make(50);
    REQUIRE(ghost->connect(conn(ep(192, 0, 2, 99, 500)), now));
    while (auto d = ghost->poll_datagram())
        server->receive(d->data, d->peer, d->local, now);
    while (server->poll_datagram()) {
    }
    REQUIRE(server->half_open() == 1);
    // a flood of first messages: no state, no allocation on the server
    std::vector<std::vector<std::byte>> flood;
    for (int i = 0; i < 30; ++i) {
        auto f = make(static_cast<std::uint64_t>(100 + i));
        REQUIRE(f->connect(conn(ep(10, 1, 0, static_cast<std::uint8_t>(i), 500)), now));
        auto d = f->poll_datagram();
        REQUIRE(d);
        flood.emplace_back(d->data.begin(), d->data.end());
    }
    std::size_t cookies = 0;
    const auto allocs = test::allocations_in([&] {
        for (std::size_t i = 0; i < flood.size(); ++i) {
            server->receive(flood[i], server_ep, ep(10, 1, 0, static_cast<std::uint8_t>(i), 500),
                            now);
            while (auto d = server->poll_datagram())
                ++cookies;
        }
    });
    CHECK(allocs == 0);
    CHECK(cookies == 30);
    CHECK(server->half_open() == 1);
    CHECK(server->stats().cookies_sent == 30);
    // a real client gets the cookie, sends it back and is served
    auto client = make(1);
    network<engine_t> net;
    auto c = net.add(*client), s = net.add(*server);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    REQUIRE(client->connect(conn(), net.now));
    net.pump();
    CHECK(server->stats().cookies_sent == 31);
    CHECK(net.of(c, v2::event_kind::child_up).size() == 1);
    CHECK(net.of(s, v2::event_kind::child_up).size() == 1);
}

TEST_CASE(
    "IKE SA rekey at the soft lifetime: new SPIs and keys, the Child SA moves, old SA deleted") {
    v2::config cc;
    cc.ike_lifetime = seconds(100);  // rekey at 90 s
    cc.child_lifetime = seconds(1000);
    cc.dpd_interval = seconds(0);
    v2::config sc;
    sc.dpd_interval = seconds(0);
    auto client = make(1, cc), server = make(2, sc);
    network<engine_t> net;
    auto c = net.add(*client), s = net.add(*server);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    auto h = client->connect(conn(), net.now);
    REQUIRE(h);
    net.pump();
    REQUIRE(net.of(c, v2::event_kind::child_up).size() == 1);
    net.run_for(seconds(95));
    CHECK(client->stats().rekeys == 1);
    CHECK(server->stats().rekeys == 1);
    auto cu = net.of(c, v2::event_kind::ike_up);
    auto su = net.of(s, v2::event_kind::ike_up);
    REQUIRE(cu.size() == 2);
    REQUIRE(su.size() == 2);
    CHECK_FALSE(cu[1].ike == cu[0].ike);
    auto cd = net.of(c, v2::event_kind::ike_down);
    auto sd = net.of(s, v2::event_kind::ike_down);
    REQUIRE(cd.size() == 1);
    REQUIRE(sd.size() == 1);
    CHECK(cd[0].ike == *h);
    CHECK(cd[0].reason == v2::engine_errc::replaced);
    CHECK(sd[0].reason == v2::engine_errc::deleted);
    CHECK(net.of(c, v2::event_kind::child_down).empty());  // the Child SA survived
    CHECK(net.of(s, v2::event_kind::child_down).empty());
    CHECK(client->established() == 1);
    CHECK(server->established() == 1);
    // the new IKE SA works: a Child SA rekey over it, and a Delete that takes everything
    client->close(cu[1].ike, net.now);
    net.pump();
    CHECK(net.of(s, v2::event_kind::child_down).size() == 1);
    CHECK(server->size() == 0);
    // only the answer to our Delete, which came after we forgot the SA
    CHECK(client->stats().dropped == 1);
    CHECK(client->stats().last_error.code == v2::engine_errc::invalid_spi);
    CHECK(server->stats().dropped == 0);
}

namespace {
struct pool_state {
    int assigned = 0, released = 0;
};
bool pool_assign(void* ctx, const transport::endpoint&, bytes_view, std::array<std::uint8_t, 4>& a,
                 std::array<std::uint8_t, 4>& dns) {
    auto* p = static_cast<pool_state*>(ctx);
    a = {10, 10, 0, static_cast<std::uint8_t>(2 + p->assigned++)};
    dns = {10, 10, 0, 1};
    return true;
}
void pool_release(void* ctx, const std::array<std::uint8_t, 4>&) {
    ++static_cast<pool_state*>(ctx)->released;
}
}  // namespace

TEST_CASE("CP: the initiator asks for a virtual address, the responder's pool gives it") {
    pool_state ps;
    v2::config sc;
    sc.pool = {pool_assign, pool_release, &ps};
    auto client = make(1), server = make(2, sc);
    network<engine_t> net;
    auto c = net.add(*client), s = net.add(*server);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    auto k = conn();
    k.mode = esp::mode::tunnel;
    k.any_address = true;
    k.protocol = 0;
    k.local_port = k.remote_port = 0;
    k.request_address = true;
    auto h = client->connect(k, net.now);
    REQUIRE(h);
    net.pump();
    auto cu = net.of(c, v2::event_kind::ike_up);
    auto su = net.of(s, v2::event_kind::ike_up);
    REQUIRE(cu.size() == 1);
    REQUIRE(su.size() == 1);
    REQUIRE(cu[0].internal_address);
    CHECK(*cu[0].internal_address == transport::endpoint::v4(10, 10, 0, 2, 0));
    REQUIRE(cu[0].internal_dns);
    CHECK(*cu[0].internal_dns == transport::endpoint::v4(10, 10, 0, 1, 0));
    REQUIRE(su[0].internal_address);
    CHECK(*su[0].internal_address == *cu[0].internal_address);
    CHECK(net.of(c, v2::event_kind::child_up).size() == 1);
    CHECK(ps.assigned == 1);
    client->close(*h, net.now);
    net.pump();
    CHECK(ps.released == 1);
}

TEST_CASE("Child SA and IKE SA rekeys in flight under loss and duplication converge (16 seeds)") {
    for (std::uint64_t seed = 1; seed <= 16; ++seed) {
        CAPTURE(seed);
        v2::config cc;
        cc.child_lifetime = seconds(100);  // Child SA rekeys at 90, 180, 270 s
        cc.ike_lifetime = seconds(150);    // IKE SA rekey at 135 s, then 270 s
        cc.dpd_interval = seconds(0);
        v2::config sc;
        sc.dpd_interval = seconds(0);
        auto client = make(seed, cc), server = make(seed + 100, sc);
        network<engine_t> net;
        net.seed = seed;
        net.drop = 0.1;
        net.duplicate = true;
        auto c = net.add(*client), s = net.add(*server);
        net.hosts[c].addrs = {client_ep};
        net.hosts[s].addrs = {server_ep};
        REQUIRE(client->connect(conn(), net.now));
        net.run_for(seconds(300));
        INFO("client: " << client->stats().last_error.message());
        INFO("server: " << server->stats().last_error.message());
        CHECK(client->established() == 1);
        CHECK(server->established() == 1);
        auto cu = net.of(c, v2::event_kind::child_up);
        auto su = net.of(s, v2::event_kind::child_up);
        CHECK(cu.size() >= 4);  // the first and three rekeys
        CHECK(net.of(c, v2::event_kind::ike_up).size() >= 2);
        REQUIRE_FALSE(cu.empty());
        REQUIRE_FALSE(su.empty());
        // the newest pair on both sides is the same one, and it carries packets
        CHECK(cu.back().child.spi_in == su.back().child.spi_out);
        CHECK(esp_roundtrip(cu.back().child, su.back().child));
        CHECK(esp_roundtrip(su.back().child, cu.back().child));
        CHECK(net.of(c, v2::event_kind::failed).empty());
        CHECK(net.of(c, v2::event_kind::peer_dead).empty());
    }
}
