// Key logging: engine::key_material exposes an established IKE SA's cookies
// and Ka (and nothing while negotiating or after close), and the
// ikev1_decryption_table line has Wireshark's UAT field syntax. Whether
// Wireshark decrypts with it is checked against tshark in
// tests/interop/vpn_programs.sh.
#include "harness.hpp"

#include <l2sec/vpn/keylog.hpp>

#include <doctest/doctest.h>

#include <algorithm>

using namespace l2sec;
using namespace l2sec::test::ike1;

TEST_CASE("key_material: both ends expose the same cookies and Ka, only while established") {
    auto client = make_engine(11);
    auto server = make_engine(12);
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    const endpoint client_ep = ep(192, 0, 2, 10, 500), server_ep = ep(198, 51, 100, 1, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    auto h = client->connect(l2tp_connection(client_ep, server_ep), net.now);
    REQUIRE(h.has_value());
    CHECK_FALSE(client->key_material(*h).has_value());  // MM1 sent: no keys yet
    net.pump();
    auto cu = net.of(c, v1::event_kind::phase1_up);
    auto su = net.of(s, v1::event_kind::phase1_up);
    REQUIRE(cu.size() == 1);
    REQUIRE(su.size() == 1);
    auto mc = client->key_material(cu[0].ike);
    auto ms = server->key_material(su[0].ike);
    REQUIRE(mc.has_value());
    REQUIRE(ms.has_value());
    CHECK(mc->cky_i == ms->cky_i);
    CHECK(mc->cky_r == ms->cky_r);
    CHECK(mc->cky_i != 0);
    CHECK(mc->cky_r != 0);
    // The first default proposal is AES-256: Ka is exactly the cipher's key.
    REQUIRE(mc->encryption_key.size() == 32);
    REQUIRE(ms->encryption_key.size() == 32);
    CHECK(std::equal(mc->encryption_key.begin(), mc->encryption_key.end(),
                     ms->encryption_key.begin()));
    CHECK(std::any_of(mc->encryption_key.begin(), mc->encryption_key.end(),
                      [](std::byte b) { return b != std::byte{0}; }));

    client->close(cu[0].ike, net.now);
    CHECK_FALSE(client->key_material(cu[0].ike).has_value());  // stale handle
}

TEST_CASE("wireshark_ikev1_line: 16 hex digits of the initiator cookie, a comma, Ka in hex") {
    const std::byte ka[] = {std::byte{0x00}, std::byte{0x0f}, std::byte{0xa5}, std::byte{0xff}};
    vpn::ike_key_record r{};
    r.keys.cky_i = 0x0012'3456'789a'bcdeull;
    r.keys.cky_r = 0xffff'ffff'ffff'ffffull;  // not part of the line
    r.keys.encryption_key = bytes_view(ka, sizeof ka);
    CHECK(vpn::wireshark_ikev1_line(r) == "00123456789abcde,000fa5ff");
}

TEST_CASE("no_key_log logs IKE SAs as a no-op; a key log with only esp_sa still plugs in") {
    struct esp_only {
        void esp_sa(const vpn::esp_key_record&) noexcept {}
    };
    static_assert(vpn::key_log<esp_only> && !vpn::ike_key_log<esp_only>);
    static_assert(vpn::ike_key_log<vpn::no_key_log>);
    CHECK(true);
}
