// IKEv2 engine against itself in memory: IKE_SA_INIT + IKE_AUTH with PSK in
// both roles, on both backends, transport and tunnel Child SAs, NAT-T through
// a simulated NAT, INVALID_KE_PAYLOAD, wrong PSK, no common proposal, loss,
// duplicates, corrupted messages, Delete, liveness and allocation counts. The
// ESP SAs produced open each other's packets with esp::sa.
#include "ike_v2_engine/support.hpp"
#include "support/backends.hpp"

#include <l2sec/esp/sa.hpp>
#include <l2sec/ike/v2/engine.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstring>

using namespace l2sec;
using l2sec::test::ike1::endpoint;
using l2sec::test::ike1::ep;
using l2sec::test::ike1::nat_box;
using l2sec::test::ike1::network;
using l2sec::test::ike1::packet;
using l2sec::test::ike1::rng;
using std::chrono::milliseconds;
using std::chrono::seconds;
namespace v2 = l2sec::ike::v2;

namespace {

template <class B = crypto::botan>
using engine_t = l2sec::test::ike2::engine<v2::default_limits, B>;

template <class B = crypto::botan>
std::unique_ptr<engine_t<B>> make(std::uint64_t seed, const v2::config& cfg = {},
                                  std::string_view psk = "l2sec-v2-psk") {
    return l2sec::test::ike2::make<engine_t<B>>(seed, cfg, psk);
}

using l2sec::test::ike2::client_ep;
using l2sec::test::ike2::server_ep;

template <class B = crypto::botan>
bool esp_roundtrip(const v2::child_sa& sender, const v2::child_sa& receiver) {
    return l2sec::test::ike2::esp_crosses<B>(sender, receiver);
}

v2::connection conn(esp::mode m = esp::mode::transport) {
    v2::connection c;
    c.local = client_ep;
    c.peer = server_ep;
    c.mode = m;
    return c;
}

template <class B = crypto::botan>
struct pair_setup {
    std::unique_ptr<engine_t<B>> client, server;
    network<engine_t<B>> net;
    std::size_t c = 0, s = 0;
    pair_setup(const v2::config& cc = {}, const v2::config& sc = {},
               std::string_view cpsk = "l2sec-v2-psk", std::string_view spsk = "l2sec-v2-psk",
               nat_box* client_nat = nullptr)
        : client(make<B>(1, cc, cpsk)), server(make<B>(2, sc, spsk)) {
        c = net.add(*client, client_nat);
        s = net.add(*server);
        net.hosts[c].addrs = {client_ep};
        net.hosts[s].addrs = {server_ep};
    }
    v2::sa_handle connect(const v2::connection& k = conn()) {
        auto h = client->connect(k, net.now);
        REQUIRE(h.has_value());
        return *h;
    }
};

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("IKE_SA_INIT + IKE_AUTH, no NAT: matching transport ESP SAs", B,
                          ike_v2_handshake) {
    pair_setup<B> t;
    t.connect();
    t.net.pump();
    REQUIRE(t.net.of(t.c, v2::event_kind::ike_up).size() == 1);
    REQUIRE(t.net.of(t.s, v2::event_kind::ike_up).size() == 1);
    auto cu = t.net.of(t.c, v2::event_kind::child_up);
    auto su = t.net.of(t.s, v2::event_kind::child_up);
    REQUIRE(cu.size() == 1);
    REQUIRE(su.size() == 1);
    const auto& ci = cu[0].child;
    const auto& si = su[0].child;
    CHECK(ci.spi_in == si.spi_out);
    CHECK(ci.spi_out == si.spi_in);
    CHECK(ci.suite == si.suite);
    CHECK(ci.suite.enc == esp::encryption::aes_gcm_16);  // the first default
    CHECK(ci.suite.enc_key_size == 32);
    CHECK(ci.mode == esp::mode::transport);
    CHECK(si.mode == esp::mode::transport);
    CHECK_FALSE(ci.udp_encap);
    CHECK_FALSE(si.nat.any());
    CHECK(si.protocol == 17);
    CHECK(si.local_port == 1701);
    CHECK(si.remote_port == 1701);
    CHECK(ci.local_port == 1701);
    CHECK(si.peer == client_ep);
    CHECK(ci.peer == server_ep);
    CHECK(esp_roundtrip<B>(ci, si));
    CHECK(esp_roundtrip<B>(si, ci));
    CHECK(t.client->established() == 1);
    CHECK(t.server->established() == 1);
    CHECK(t.server->half_open() == 0);
    CHECK(t.client->stats().dropped == 0);
    CHECK(t.server->stats().dropped == 0);
}
TEST_CASE_TEMPLATE_APPLY(ike_v2_handshake, l2sec::test::full_backends);

TEST_CASE("every AES-CBC + SHA-2 and GCM suite negotiates and carries ESP") {
    const v2::ike_proposal ikes[] = {
        {ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha1, ike::integ_id::hmac_sha1_96,
         ike::dh_group::modp2048},
        {ike::encr_id::aes_cbc, 256, ike::prf_id::hmac_sha2_384, ike::integ_id::hmac_sha2_384_192,
         ike::dh_group::ecp384},
        {ike::encr_id::aes_gcm_16, 128, ike::prf_id::hmac_sha2_256, ike::integ_id::none,
         ike::dh_group::ecp256},
    };
    const v2::esp_proposal esps[] = {
        {{esp::encryption::aes_cbc, 16, esp::integrity::hmac_sha1_96}},
        {{esp::encryption::aes_cbc, 32, esp::integrity::hmac_sha2_256_128}},
        {{esp::encryption::aes_gcm_16, 16, esp::integrity::none}},
    };
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        v2::config cc;
        cc.ike_proposals = std::span(&ikes[i], 1);
        cc.esp_proposals = std::span(&esps[i], 1);
        pair_setup<> t(cc);
        t.connect();
        t.net.pump();
        auto cu = t.net.of(t.c, v2::event_kind::child_up);
        auto su = t.net.of(t.s, v2::event_kind::child_up);
        REQUIRE(cu.size() == 1);
        REQUIRE(su.size() == 1);
        CHECK(cu[0].child.suite == esps[i].suite);
        CHECK(esp_roundtrip(cu[0].child, su[0].child));
        CHECK(esp_roundtrip(su[0].child, cu[0].child));
    }
}

TEST_CASE("tunnel mode with \"any\" selectors; the responder narrows to its policy") {
    v2::config sc;
    sc.child_protocol = 17;
    sc.child_local_port = 1701;
    pair_setup<> t({}, sc);
    auto k = conn(esp::mode::tunnel);
    k.any_address = true;
    k.protocol = 0;
    k.local_port = k.remote_port = 0;
    t.connect(k);
    t.net.pump();
    auto cu = t.net.of(t.c, v2::event_kind::child_up);
    auto su = t.net.of(t.s, v2::event_kind::child_up);
    REQUIRE(cu.size() == 1);
    REQUIRE(su.size() == 1);
    CHECK(cu[0].child.mode == esp::mode::tunnel);
    CHECK(su[0].child.mode == esp::mode::tunnel);
    CHECK(su[0].child.protocol == 17);  // narrowed from any
    CHECK(su[0].child.local_port == 1701);
    CHECK(su[0].child.remote_port == 0);  // any
    CHECK(cu[0].child.remote_port == 1701);
    CHECK(esp_roundtrip(cu[0].child, su[0].child));
}

TEST_CASE("traffic selectors outside the policy: TS_UNACCEPTABLE, the IKE SA stays") {
    v2::config sc;
    sc.child_protocol = 17;
    pair_setup<> t({}, sc);
    auto k = conn();
    k.protocol = 6;  // TCP
    t.connect(k);
    t.net.pump();
    CHECK(t.net.of(t.c, v2::event_kind::ike_up).size() == 1);
    CHECK(t.net.of(t.c, v2::event_kind::child_up).empty());
    auto f = t.net.of(t.c, v2::event_kind::failed);
    REQUIRE(f.size() == 1);
    CHECK(f[0].reason == v2::engine_errc::ts_unacceptable);
    auto fs = t.net.of(t.s, v2::event_kind::failed);
    REQUIRE(fs.size() == 1);
    CHECK(fs[0].reason == v2::engine_errc::ts_unacceptable);
    CHECK(t.client->established() == 1);
}

TEST_CASE("client behind a NAT: both see it, float to 4500 with the marker, UDP-encapsulated ESP") {
    nat_box nat(ep(203, 0, 113, 7, 0));
    pair_setup<> t({}, {}, "l2sec-v2-psk", "l2sec-v2-psk", &nat);
    std::size_t on_4500 = 0, marker_ok = 0;
    t.net.tap = [&](packet& p) {
        if (p.dst.port == 4500 || p.src.port == 4500) {
            ++on_4500;
            if (p.data.size() > 4 && p.data[0] == std::byte{0} && p.data[1] == std::byte{0} &&
                p.data[2] == std::byte{0} && p.data[3] == std::byte{0})
                ++marker_ok;
        }
    };
    t.connect();
    t.net.pump();
    auto cu = t.net.of(t.c, v2::event_kind::child_up);
    auto su = t.net.of(t.s, v2::event_kind::child_up);
    REQUIRE(cu.size() == 1);
    REQUIRE(su.size() == 1);
    CHECK(cu[0].child.udp_encap);
    CHECK(su[0].child.udp_encap);
    CHECK(cu[0].child.nat.local_behind);
    CHECK_FALSE(cu[0].child.nat.peer_behind);
    CHECK(su[0].child.nat.peer_behind);
    CHECK_FALSE(su[0].child.nat.local_behind);
    CHECK(su[0].child.local.port == 4500);
    CHECK(su[0].child.peer.addr == nat.public_addr.addr);
    CHECK(cu[0].child.peer.port == 4500);
    CHECK(on_4500 == 2);  // IKE_AUTH request and response
    CHECK(marker_ok == on_4500);
    CHECK(esp_roundtrip(cu[0].child, su[0].child));
}

TEST_CASE("INVALID_KE_PAYLOAD: the initiator retries with the responder's group") {
    const v2::ike_proposal server_only[] = {{ike::encr_id::aes_gcm_16, 256,
                                             ike::prf_id::hmac_sha2_256, ike::integ_id::none,
                                             ike::dh_group::modp2048}};
    v2::config sc;
    sc.ike_proposals = server_only;
    pair_setup<> t({}, sc);  // the client's KE is Curve25519 (its first proposal)
    t.connect();
    t.net.pump();
    CHECK(t.server->stats().invalid_ke_sent == 1);
    CHECK(t.client->stats().invalid_ke_retries == 1);
    REQUIRE(t.net.of(t.c, v2::event_kind::child_up).size() == 1);
    REQUIRE(t.net.of(t.s, v2::event_kind::child_up).size() == 1);
    CHECK(t.server->half_open() == 0);
}

TEST_CASE("the responder prefers a common proposal with the KE's group over a round trip") {
    const v2::ike_proposal client_list[] = {
        {ike::encr_id::aes_gcm_16, 256, ike::prf_id::hmac_sha2_256, ike::integ_id::none,
         ike::dh_group::ecp256},
        {ike::encr_id::aes_gcm_16, 256, ike::prf_id::hmac_sha2_256, ike::integ_id::none,
         ike::dh_group::curve25519}};
    v2::config cc;
    cc.ike_proposals = client_list;
    pair_setup<> t(cc);  // the server prefers Curve25519, the client sent ECP-256
    t.connect();
    t.net.pump();
    CHECK(t.server->stats().invalid_ke_sent == 0);
    CHECK(t.net.of(t.c, v2::event_kind::child_up).size() == 1);
}

TEST_CASE("wrong PSK: AUTHENTICATION_FAILED, both report it, no SA left") {
    pair_setup<> t({}, {}, "client-secret", "server-secret");
    t.connect();
    t.net.pump();
    auto fs = t.net.of(t.s, v2::event_kind::failed);
    auto fc = t.net.of(t.c, v2::event_kind::failed);
    REQUIRE(fs.size() == 1);
    REQUIRE(fc.size() == 1);
    CHECK(fs[0].reason == v2::engine_errc::authentication_failed);
    CHECK(fc[0].reason == v2::engine_errc::authentication_failed);
    CHECK(t.client->stats().last_error.code == v2::engine_errc::authentication_failed);
    CHECK(std::string(t.client->stats().last_error.field).find("pre-shared key") !=
          std::string::npos);
    CHECK(t.net.of(t.c, v2::event_kind::ike_up).empty());
    CHECK(t.client->size() == 0);
    CHECK(t.server->size() == 0);
}

TEST_CASE("no common IKE proposal: NO_PROPOSAL_CHOSEN, no state on the responder") {
    const v2::ike_proposal a[] = {{ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha1,
                                   ike::integ_id::hmac_sha1_96, ike::dh_group::modp2048}};
    const v2::ike_proposal b[] = {{ike::encr_id::aes_cbc, 256, ike::prf_id::hmac_sha2_256,
                                   ike::integ_id::hmac_sha2_256_128, ike::dh_group::modp2048}};
    v2::config cc, sc;
    cc.ike_proposals = a;
    sc.ike_proposals = b;
    pair_setup<> t(cc, sc);
    t.connect();
    t.net.pump();
    auto fc = t.net.of(t.c, v2::event_kind::failed);
    REQUIRE(fc.size() == 1);
    CHECK(fc[0].reason == v2::engine_errc::no_proposal_chosen);
    CHECK(t.server->size() == 0);
    CHECK(t.server->stats().no_proposal == 1);
}

TEST_CASE("no common ESP proposal: the IKE SA is up, the Child SA fails on both sides") {
    const v2::esp_proposal a[] = {{{esp::encryption::aes_cbc, 16, esp::integrity::hmac_sha1_96}}};
    const v2::esp_proposal b[] = {{{esp::encryption::aes_gcm_16, 32, esp::integrity::none}}};
    v2::config cc, sc;
    cc.esp_proposals = a;
    sc.esp_proposals = b;
    pair_setup<> t(cc, sc);
    t.connect();
    t.net.pump();
    CHECK(t.net.of(t.c, v2::event_kind::ike_up).size() == 1);
    auto fc = t.net.of(t.c, v2::event_kind::failed);
    REQUIRE(fc.size() == 1);
    CHECK(fc[0].reason == v2::engine_errc::no_proposal_chosen);
    CHECK(t.net.of(t.s, v2::event_kind::child_up).empty());
}

TEST_CASE("lost messages are retransmitted with backoff; duplicates answered from the cache") {
    pair_setup<> t;
    int n = 0;
    std::vector<packet> held;
    t.net.tap = [&](packet& p) {
        ++n;
        if (n == 2 || n == 4) p.data.clear();  // lose both responses once
    };
    t.connect();
    t.net.run_for(seconds(10));
    CHECK(t.net.of(t.c, v2::event_kind::child_up).size() == 1);
    CHECK(t.net.of(t.s, v2::event_kind::child_up).size() == 1);
    CHECK(t.client->stats().retransmits == 2);
    CHECK(t.server->stats().duplicates == 2);  // each request seen twice, answered twice
    CHECK(t.server->stats().children_installed == 1);
}

TEST_CASE("40 seeds of 30 % loss with duplication converge to one SA pair") {
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        CAPTURE(seed);
        pair_setup<> t;
        t.net.drop = 0.3;
        t.net.duplicate = true;
        t.net.seed = seed;
        t.connect();
        t.net.run_for(seconds(60));
        auto cu = t.net.of(t.c, v2::event_kind::child_up);
        auto su = t.net.of(t.s, v2::event_kind::child_up);
        if (cu.empty()) {  // all retransmissions lost: reported, nothing half-open left
            CHECK(t.net.of(t.c, v2::event_kind::failed).size() == 1);
            continue;
        }
        REQUIRE(cu.size() == 1);
        REQUIRE(su.size() == 1);
        CHECK(cu[0].child.spi_in == su[0].child.spi_out);
        CHECK(esp_roundtrip(cu[0].child, su[0].child));
    }
}

TEST_CASE("a corrupted IKE_AUTH changes nothing; the retransmission then succeeds") {
    pair_setup<> t;
    int n = 0;
    t.net.tap = [&](packet& p) {
        if (++n == 3) p.data[p.data.size() - 5] ^= std::byte{1};  // the IKE_AUTH request
    };
    t.connect();
    t.net.pump();
    CHECK(t.server->stats().dropped == 1);
    CHECK(t.server->stats().last_error.code == ike::errc::integrity_check_failed);
    CHECK(t.server->half_open() == 1);
    t.net.run_for(seconds(5));
    CHECK(t.net.of(t.s, v2::event_kind::child_up).size() == 1);
    CHECK(t.net.of(t.c, v2::event_kind::child_up).size() == 1);
}

TEST_CASE("malformed and unknown messages are refused with the reason, no state, no allocation") {
    pair_setup<> t;
    t.connect();
    t.net.pump();
    REQUIRE(t.server->established() == 1);
    std::array<std::byte, 64> junk{};
    junk[17] = std::byte{0x20};  // version 2.0
    junk[18] = std::byte{37};    // INFORMATIONAL
    store_be32(junk.data() + 24, 64);
    std::size_t allocs = test::allocations_in([&] {
        t.server->receive(junk, server_ep, client_ep, t.net.now);
        t.server->receive(bytes_view(junk.data(), 10), server_ep, client_ep, t.net.now);
    });
    CHECK(allocs == 0);
    CHECK(t.server->stats().dropped == 2);
    CHECK(t.server->established() == 1);
}

TEST_CASE("liveness checks, duplicates and Delete allocate nothing once established") {
    v2::config cfg;
    cfg.dpd_interval = seconds(5);
    pair_setup<> t(cfg, cfg);
    t.connect();
    t.net.pump();
    REQUIRE(t.client->established() == 1);
    t.net.pump();
    std::size_t allocs = 0;
    for (int i = 0; i < 5; ++i) {
        t.net.now += seconds(6);
        test::alloc_guard g;
        t.client->tick(t.net.now);
        t.server->tick(t.net.now);
        while (auto d = t.client->poll_datagram())
            t.server->receive(d->data, d->peer, d->local, t.net.now);
        while (auto d = t.server->poll_datagram())
            t.client->receive(d->data, d->peer, d->local, t.net.now);
        while (t.client->poll_datagram() || t.server->poll_datagram()) {
        }
        allocs += g.count();
    }
    CHECK(allocs == 0);
    CHECK(t.client->stats().liveness_sent >= 1);
    CHECK(t.client->established() == 1);
    CHECK(t.server->established() == 1);
    CHECK(t.client->stats().dropped == 0);
    CHECK(t.server->stats().dropped == 0);
}

TEST_CASE("a silent peer is declared dead after the liveness retransmissions") {
    v2::config cfg;
    cfg.dpd_interval = seconds(5);
    cfg.retransmit_tries = 3;
    pair_setup<> t(cfg);
    t.connect();
    t.net.pump();
    REQUIRE(t.client->established() == 1);
    t.net.hosts[t.s].alive = false;
    t.net.run_for(seconds(60));
    CHECK(t.net.of(t.c, v2::event_kind::peer_dead).size() == 1);
    auto down = t.net.of(t.c, v2::event_kind::child_down);
    REQUIRE(down.size() == 1);
    CHECK(down[0].reason == v2::engine_errc::peer_dead);
    CHECK(t.client->size() == 0);
}

TEST_CASE("close(): Delete reaches the peer, both report the SAs down") {
    pair_setup<> t;
    auto h = t.connect();
    t.net.pump();
    REQUIRE(t.server->established() == 1);
    t.client->close(h, t.net.now);
    t.net.pump();
    auto cd = t.net.of(t.c, v2::event_kind::ike_down);
    auto sd = t.net.of(t.s, v2::event_kind::ike_down);
    REQUIRE(cd.size() == 1);
    REQUIRE(sd.size() == 1);
    CHECK(cd[0].reason == v2::engine_errc::closed);
    CHECK(sd[0].reason == v2::engine_errc::deleted);
    CHECK(t.net.of(t.s, v2::event_kind::child_down).size() == 1);
    CHECK(t.server->size() == 0);
    CHECK(t.client->size() == 0);
    t.client->close(h, t.net.now);  // stale handle: nothing
}

TEST_CASE("half-open IKE SAs time out; the responder keeps at most MaxHalfOpen") {
    using small = v2::limits<2, 2>;
    auto srv = engine_t<>::make({}, rng(5), v2::single_psk(as_bytes("x")));
    REQUIRE(srv);
    using E = v2::engine<crypto::botan, rng, small>;
    v2::config no_cookies;
    no_cookies.cookie_threshold = 100;
    auto server = E::make(no_cookies, rng(6), v2::single_psk(as_bytes("x")));
    REQUIRE(server);
    std::vector<std::unique_ptr<engine_t<>>> clients;
    std::chrono::steady_clock::time_point now{};
    for (int i = 0; i < 4; ++i) {
        clients.push_back(make(static_cast<std::uint64_t>(100 + i)));
        auto k = conn();
        k.local = ep(192, 0, 2, static_cast<std::uint8_t>(20 + i), 500);
        REQUIRE(clients.back()->connect(k, now));
        while (auto d = clients.back()->poll_datagram())
            server->receive(d->data, d->peer, d->local, now);
    }
    CHECK(server->half_open() == 2);
    CHECK(server->stats().half_open_refused == 2);
    server->tick(now + seconds(31));
    CHECK(server->half_open() == 0);
}

TEST_CASE("config validation names the field") {
    v2::config c;
    c.ike_proposals = {};
    auto e = engine_t<>::make(c, rng(1), v2::single_psk(as_bytes("x")));
    REQUIRE_FALSE(e);
    CHECK(e.error().code == v2::engine_errc::invalid_config);
    CHECK(std::string(e.error().field) == "ike_proposals");
    const v2::ike_proposal weak[] = {{ike::encr_id::aes_cbc, 256, ike::prf_id::hmac_sha1,
                                      ike::integ_id::hmac_sha1_96, ike::dh_group::modp1024}};
    v2::config w;
    w.ike_proposals = weak;
    auto e2 = engine_t<>::make(w, rng(1), v2::single_psk(as_bytes("x")));
    REQUIRE_FALSE(e2);
    CHECK(std::string(e2.error().field).find("allow_weak") != std::string::npos);
    w.allow_weak = true;
    CHECK(engine_t<>::make(w, rng(1), v2::single_psk(as_bytes("x"))));
    const v2::ike_proposal gcm_with_integ[] = {
        {ike::encr_id::aes_gcm_16, 256, ike::prf_id::hmac_sha2_256, ike::integ_id::hmac_sha1_96,
         ike::dh_group::ecp256}};
    v2::config g;
    g.ike_proposals = gcm_with_integ;
    CHECK_FALSE(engine_t<>::make(g, rng(1), v2::single_psk(as_bytes("x"))));
}

TEST_CASE("Windows' out-of-the-box MODP-1024 list needs allow_weak on the responder") {
    const v2::ike_proposal windows[] = {{ike::encr_id::aes_cbc, 256, ike::prf_id::hmac_sha2_256,
                                         ike::integ_id::hmac_sha2_256_128,
                                         ike::dh_group::modp1024}};
    v2::config cc;
    cc.ike_proposals = windows;
    cc.allow_weak = true;
    {
        pair_setup<> t(cc);
        t.connect();
        t.net.pump();
        CHECK(t.net.of(t.c, v2::event_kind::failed).size() == 1);
    }
    v2::config sc;
    sc.allow_weak = true;
    pair_setup<> t(cc, sc);
    t.connect();
    t.net.pump();
    CHECK(t.net.of(t.c, v2::event_kind::child_up).size() == 1);
}

TEST_CASE("memory per IKE SA") {
    MESSAGE("IKEv2 slot: " << engine_t<>::slot_size() << " bytes");
    CHECK(engine_t<>::slot_size() < 16384);
}

TEST_CASE("half-open IKE SAs per outer address are capped; other addresses still get in") {
    v2::config sc;
    sc.half_open_per_address = 3;
    sc.cookie_threshold = 1000;
    auto server = engine_t<>::make(sc, rng(6), v2::single_psk(as_bytes("x")));
    REQUIRE(server);
    std::chrono::steady_clock::time_point now{};
    auto first = [&](std::uint64_t seed, endpoint from) {
        auto c = make(seed);
        auto k = conn();
        k.local = from;
        REQUIRE(c->connect(k, now));
        auto d = c->poll_datagram();
        REQUIRE(d);
        server->receive(d->data, server_ep, from, now);
    };
    for (std::uint16_t i = 0; i < 6; ++i)  // six clients behind one NAT, one public address
        first(200 + i, ep(203, 0, 113, 5, static_cast<std::uint16_t>(40000 + i)));
    CHECK(server->half_open() == 3);
    CHECK(server->stats().half_open_refused == 3);
    first(300, ep(203, 0, 113, 6, 500));
    CHECK(server->half_open() == 4);
    // timed out, they leave the address's count: it gets in again (and the
    // freed slots are used again)
    now += sc.half_open_timeout;
    server->tick(now);
    CHECK(server->half_open() == 0);
    for (std::uint16_t i = 0; i < 4; ++i)
        first(400 + i, ep(203, 0, 113, 5, static_cast<std::uint16_t>(41000 + i)));
    CHECK(server->half_open() == 3);
    CHECK(server->stats().half_open_refused == 4);
}

TEST_CASE("established SAs leave their address's half-open count") {
    v2::config sc;
    sc.half_open_per_address = 1;
    sc.cookie_threshold = 1000;
    auto server = make(7, sc);
    network<engine_t<>> net;
    const auto s = net.add(*server);
    net.hosts[s].addrs = {server_ep};
    std::vector<std::unique_ptr<engine_t<>>> clients;
    static const char* ids[] = {"a.example", "b.example", "c.example", "d.example"};
    for (std::uint16_t i = 0; i < 4; ++i) {  // one after the other from one address
        v2::config cc;
        cc.local_id = as_bytes(std::string_view(ids[i]));  // other IDs: no INITIAL_CONTACT match
        clients.push_back(make(500 + i, cc));
        const auto c = net.add(*clients.back());
        const auto from = ep(192, 0, 2, 10, static_cast<std::uint16_t>(500 + i));
        net.hosts[c].addrs = {from};
        auto k = conn();
        k.local = from;
        REQUIRE(clients.back()->connect(k, net.now));
        net.pump();
        net.hosts[c].alive =
            false;  // done: the next one has the address (the harness routes by it)
    }
    CHECK(server->established() == 4);
    CHECK(server->half_open() == 0);
    CHECK(server->stats().half_open_refused == 0);
}

TEST_CASE("key_material: both ends hold the same SK_e for the key log; the UAT line's syntax") {
    pair_setup<> t;
    const auto h = t.connect();
    CHECK_FALSE(t.client->key_material(h).has_value());  // still negotiating
    t.net.pump();
    auto su = t.net.of(t.s, v2::event_kind::ike_up);
    REQUIRE(su.size() == 1);
    auto c = t.client->key_material(h);
    auto s = t.server->key_material(su[0].ike);
    REQUIRE(c.has_value());
    REQUIRE(s.has_value());
    CHECK(c->spi_i == s->spi_i);
    CHECK(c->spi_r == s->spi_r);
    CHECK(c->sk_ei.size() == 36);  // AES-256-GCM: key + 4-byte salt (RFC 5282)
    CHECK(std::equal(c->sk_ei.begin(), c->sk_ei.end(), s->sk_ei.begin(), s->sk_ei.end()));
    CHECK(std::equal(c->sk_er.begin(), c->sk_er.end(), s->sk_er.begin(), s->sk_er.end()));
    CHECK(c->sk_ai.empty());
    CHECK(v2::wireshark_ikev2_line(*c) == v2::wireshark_ikev2_line(*s));
    t.client->close(h, t.net.now);
    CHECK_FALSE(t.client->key_material(h).has_value());

    // The line itself, for fixed material (Wireshark's UAT field order).
    const std::array<std::byte, 2> e{std::byte{0xab}, std::byte{0x01}}, a{std::byte{0xff}};
    v2::ike_key_material k{0x0102030405060708ULL,
                           0xa0b0c0d0e0f00010ULL,
                           e,
                           e,
                           a,
                           a,
                           ike::encr_id::aes_cbc,
                           128,
                           ike::integ_id::hmac_sha2_256_128};
    CHECK(v2::wireshark_ikev2_line(k) ==
          "0102030405060708,a0b0c0d0e0f00010,ab01,ab01,\"AES-CBC-128 [RFC3602]\",ff00,ff00,"
          "\"HMAC_SHA2_256_128 [RFC4868]\"");
    k.key_bits = 100;  // no such Wireshark entry: no line rather than a wrong one
    CHECK(v2::wireshark_ikev2_line(k).empty());
}
