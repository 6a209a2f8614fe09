// IKEv1 engine against itself in memory: Main Mode + Quick Mode in both
// roles, NAT-T through simulated NATs, several clients behind one NAT, and
// the negotiated ESP SAs opening each other's packets with esp::sa.
#include "harness.hpp"

#include <l2sec/esp/sa.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstring>

using namespace l2sec;
using namespace l2sec::test::ike1;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const endpoint server_ep = ep(198, 51, 100, 1, 500);

/// Protect a UDP payload with `out` and open it with `in`; the payload must survive.
bool esp_roundtrip(const v1::child_sa& sender, const v1::child_sa& receiver) {
    rng r(99);
    auto out = esp::sa<crypto::botan>::make(sender.outbound_config(), r);
    auto in = esp::sa<crypto::botan>::make(receiver.inbound_config(), r);
    if (!out || !in) return false;
    std::array<std::byte, 256> buf{};
    const char msg[] = "L2TP over ESP";
    std::memcpy(buf.data() + 64, msg, sizeof msg);
    auto pkt = out->protect(buf, 64, sizeof msg, esp::proto::udp);
    if (!pkt) return false;
    auto got = in->unprotect(*pkt);
    if (!got) return false;
    return got->payload.size() == sizeof msg &&
           std::memcmp(got->payload.data(), msg, sizeof msg) == 0;
}

struct pair_setup {
    std::unique_ptr<engine_t<>> client, server;
    network<engine_t<>> net;
    std::size_t c = 0, s = 0;
};

}  // namespace

TEST_CASE("Main Mode + Quick Mode, no NAT: both ends get matching ESP SAs") {
    auto client = make_engine(1);
    auto server = make_engine(2);
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    const endpoint client_ep = ep(192, 0, 2, 10, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    auto h = client->connect(l2tp_connection(client_ep, server_ep), net.now);
    REQUIRE(h.has_value());
    net.pump();
    REQUIRE(net.of(c, v1::event_kind::phase1_up).size() == 1);
    REQUIRE(net.of(s, v1::event_kind::phase1_up).size() == 1);
    auto cu = net.of(c, v1::event_kind::child_up);
    auto su = net.of(s, v1::event_kind::child_up);
    REQUIRE(cu.size() == 1);
    REQUIRE(su.size() == 1);
    const auto& ci = cu[0].child;
    const auto& si = su[0].child;
    CHECK(ci.spi_in == si.spi_out);
    CHECK(ci.spi_out == si.spi_in);
    CHECK(ci.spi_in != ci.spi_out);
    CHECK(ci.suite == si.suite);
    CHECK(ci.suite.enc == esp::encryption::aes_cbc);  // the first default: AES-256 + SHA-256
    CHECK(ci.suite.enc_key_size == 32);
    CHECK(ci.suite.integ == esp::integrity::hmac_sha2_256_128);
    CHECK(ci.mode == esp::mode::transport);
    CHECK_FALSE(ci.udp_encap);
    CHECK_FALSE(ci.nat.any());
    CHECK_FALSE(si.nat.any());
    CHECK(si.protocol == 17);
    CHECK(si.local_port == 1701);
    CHECK(si.remote_port == 1701);
    CHECK(si.peer == client_ep);
    CHECK(ci.peer == server_ep);
    CHECK(ci.lifetime == seconds(3600));
    CHECK(esp_roundtrip(ci, si));
    CHECK(esp_roundtrip(si, ci));
    CHECK(client->established() == 1);
    CHECK(server->established() == 1);
    CHECK(server->half_open() == 0);
}

TEST_CASE("client behind a NAT: NAT-D detects it, both float to 4500, UDP-encapsulated ESP") {
    auto client = make_engine(3);
    auto server = make_engine(4);
    nat_box nat(ep(203, 0, 113, 5, 0));
    network<engine_t<>> net;
    auto c = net.add(*client, &nat);
    auto s = net.add(*server);
    const endpoint client_ep = ep(192, 168, 1, 10, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    std::size_t on_4500 = 0, with_marker = 0;
    net.tap = [&](packet& p) {
        if (p.dst.port == 4500 || p.src.port == 4500 || p.dst.port >= 40000) {
            if (p.src.port == 4500 || p.dst.port == 4500) ++on_4500;
            if (p.data.size() >= 4 && p.data[0] == std::byte{0} && p.data[1] == std::byte{0} &&
                p.data[2] == std::byte{0} && p.data[3] == std::byte{0})
                ++with_marker;
        }
    };
    REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    net.pump();
    auto cu = net.of(c, v1::event_kind::child_up);
    auto su = net.of(s, v1::event_kind::child_up);
    REQUIRE(cu.size() == 1);
    REQUIRE(su.size() == 1);
    const auto& ci = cu[0].child;
    const auto& si = su[0].child;
    CHECK(ci.nat.local_behind);
    CHECK_FALSE(ci.nat.peer_behind);
    CHECK(si.nat.peer_behind);
    CHECK_FALSE(si.nat.local_behind);
    CHECK(ci.udp_encap);
    CHECK(si.udp_encap);
    CHECK(ci.local.port == 4500);
    CHECK(ci.peer.port == 4500);
    CHECK(si.local.port == 4500);
    CHECK(si.peer == ep(203, 0, 113, 5, 40001));  // the NAT's mapping of the client's 4500
    REQUIRE(si.nat_oa_peer.has_value());          // NAT-OAi: the client's private address
    CHECK(si.nat_oa_peer->addr == client_ep.addr);
    CHECK(on_4500 >= 4);            // MM5, MM6, QM1..QM3
    CHECK(with_marker == on_4500);  // every IKE datagram on 4500 has the non-ESP marker
    CHECK(esp_roundtrip(ci, si));
    CHECK(esp_roundtrip(si, ci));
}

TEST_CASE("a server behind a 1:1 NAT with present_unnatted shows no NAT on its side") {
    v1::config sc;
    sc.present_unnatted = true;
    auto client = make_engine(5);
    auto server = make_engine(6, sc);
    nat_box cnat(ep(203, 0, 113, 5, 0));
    // The server's NAT: public 198.51.100.1 maps to private 10.0.0.1 one to one.
    nat_box snat(ep(198, 51, 100, 1, 0));
    const endpoint server_private = ep(10, 0, 0, 1, 500);
    snat.out[{server_private.v4_host_order(), 500}] = 500;
    snat.in[500] = server_private;
    snat.out[{server_private.v4_host_order(), 4500}] = 4500;
    snat.in[4500] = ep(10, 0, 0, 1, 4500);
    network<engine_t<>> net;
    auto c = net.add(*client, &cnat);
    auto s = net.add(*server, &snat);
    const endpoint client_ep = ep(192, 168, 1, 10, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_private};
    REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    net.pump();
    auto cu = net.of(c, v1::event_kind::child_up);
    auto su = net.of(s, v1::event_kind::child_up);
    REQUIRE(cu.size() == 1);
    REQUIRE(su.size() == 1);
    CHECK(cu[0].child.nat.local_behind);
    CHECK_FALSE(cu[0].child.nat.peer_behind);  // what Windows checks: the server is not NATed
    CHECK(esp_roundtrip(cu[0].child, su[0].child));
}

TEST_CASE("two clients behind one NAT (same public address, same selectors) get their own SAs") {
    auto a = make_engine(7);
    auto b = make_engine(8);
    auto server = make_engine(9);
    nat_box nat(ep(203, 0, 113, 5, 0));
    network<engine_t<>> net;
    auto ia = net.add(*a, &nat);
    auto ib = net.add(*b, &nat);
    auto s = net.add(*server);
    const endpoint a_ep = ep(192, 168, 1, 10, 500), b_ep = ep(192, 168, 1, 11, 500);
    net.hosts[ia].addrs = {a_ep};
    net.hosts[ib].addrs = {b_ep};
    net.hosts[s].addrs = {server_ep};
    REQUIRE(a->connect(l2tp_connection(a_ep, server_ep), net.now).has_value());
    REQUIRE(b->connect(l2tp_connection(b_ep, server_ep), net.now).has_value());
    net.pump();
    auto au = net.of(ia, v1::event_kind::child_up);
    auto bu = net.of(ib, v1::event_kind::child_up);
    auto su = net.of(s, v1::event_kind::child_up);
    REQUIRE(au.size() == 1);
    REQUIRE(bu.size() == 1);
    REQUIRE(su.size() == 2);
    CHECK(server->established() == 2);
    // Same public address, different ports; same inner selectors.
    CHECK(su[0].child.peer.addr == su[1].child.peer.addr);
    CHECK(su[0].child.peer.port != su[1].child.peer.port);
    CHECK(su[0].child.remote_port == su[1].child.remote_port);
    CHECK(su[0].ike != su[1].ike);
    // Each client's SA pairs with exactly one of the server's.
    for (auto* cl : {&au[0].child, &bu[0].child}) {
        int matches = 0;
        for (auto& e : su)
            if (e.child.spi_in == cl->spi_out) {
                ++matches;
                CHECK(e.child.spi_out == cl->spi_in);
                CHECK(esp_roundtrip(*cl, e.child));
                CHECK(esp_roundtrip(e.child, *cl));
            }
        CHECK(matches == 1);
    }
}

TEST_CASE("wrong PSK: the responder refuses MM5 once, reports why, then names the wrong PSK") {
    auto client = make_engine(10, {}, "one key");
    auto server = make_engine(11, {}, "another key");
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    const endpoint client_ep = ep(192, 0, 2, 10, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    net.pump();
    CHECK(net.of(s, v1::event_kind::phase1_up).empty());
    CHECK(server->stats().last_error == v1::engine_errc::authentication_failed);
    CHECK(std::string(server->stats().last_error.field).find("pre-shared key") !=
          std::string::npos);
    CHECK(server->half_open() == 1);
    // MM5 again: both sides say wrong PSK (tests/ike_engine/wrong_psk_tests.cpp).
    net.run_for(milliseconds(60000));
    auto f = net.of(c, v1::event_kind::failed);
    REQUIRE(f.size() == 1);
    CHECK(f[0].reason == v1::engine_errc::wrong_psk);
    REQUIRE(net.of(s, v1::event_kind::failed).size() == 1);
    CHECK(net.of(s, v1::event_kind::failed)[0].reason == v1::engine_errc::wrong_psk);
    CHECK(client->size() == 0);
    CHECK(server->size() == 0);
}

TEST_CASE("no common proposal: NO-PROPOSAL-CHOSEN, nothing allocated") {
    v1::config cc;
    static const v1::phase1_proposal only_weak[] = {
        {ike::v1_encr::aes_cbc, 128, ike::v1_hash::sha1, crypto::dh_id::modp1024}};
    cc.ike_proposals = only_weak;
    cc.allow_weak = true;
    auto client = make_engine(12, cc);
    auto server = make_engine(13);  // no MODP-1024 without allow_weak
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    const endpoint client_ep = ep(192, 0, 2, 10, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    net.pump();
    CHECK(server->size() == 0);
    CHECK(server->stats().no_proposal == 1);
    auto f = net.of(c, v1::event_kind::failed);
    REQUIRE(f.size() == 1);
    CHECK(f[0].reason == v1::engine_errc::notified);
}

TEST_CASE("Quick Mode with no common ESP suite: the responder says NO-PROPOSAL-CHOSEN at once") {
    v1::config cc;
    static const v1::esp_proposal only_sha512[] = {{*esp::parse_suite("aes256-cbc-sha512")}};
    cc.esp_proposals = only_sha512;  // not in the server's defaults
    auto client = make_engine(14, cc);
    auto server = make_engine(15);
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    const endpoint client_ep = ep(192, 0, 2, 10, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    const auto t0 = net.now;
    net.pump();
    CHECK(server->stats().no_proposal == 1);
    CHECK(net.of(s, v1::event_kind::child_up).empty());
    auto f = net.of(c, v1::event_kind::failed);
    REQUIRE(f.size() == 1);
    CHECK(f[0].reason == v1::engine_errc::no_proposal_chosen);  // not a timeout
    CHECK(net.now - t0 < milliseconds(1000));
}

TEST_CASE("config validation names the field") {
    v1::config c;
    c.ike_proposals = {};
    auto e = engine_t<>::make(c, rng(1), v1::single_psk(as_bytes("k")));
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error() == v1::engine_errc::invalid_config);
    CHECK(std::string(e.error().field) == "ike_proposals");
    v1::config w;
    static const v1::phase1_proposal weak[] = {
        {ike::v1_encr::des3_cbc, 192, ike::v1_hash::sha1, crypto::dh_id::modp1024}};
    w.ike_proposals = weak;
    auto e2 = engine_t<>::make(w, rng(1), v1::single_psk(as_bytes("k")));
    REQUIRE_FALSE(e2.has_value());
    CHECK(std::string(e2.error().field).find("weak") != std::string::npos);
}

TEST_CASE("loss and duplication: retransmission and cached replies converge (40 seeds)") {
    int converged = 0;
    std::uint64_t dups = 0, retx = 0;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        auto client = make_engine(100 + seed);
        auto server = make_engine(200 + seed);
        nat_box nat(ep(203, 0, 113, 5, 0));
        network<engine_t<>> net;
        net.seed = seed;
        net.drop = 0.25;
        net.duplicate = true;
        auto c = net.add(*client, seed % 2 ? &nat : nullptr);
        auto s = net.add(*server);
        const endpoint client_ep = ep(192, 168, 1, 10, 500);
        net.hosts[c].addrs = {client_ep};
        net.hosts[s].addrs = {server_ep};
        REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
        net.run_for(milliseconds(40000));
        auto cu = net.of(c, v1::event_kind::child_up);
        auto su = net.of(s, v1::event_kind::child_up);
        // Either both ends agree on one SA pair, or the initiator gave up
        // (every retransmission lost) and said so.
        if (cu.size() == 1 && su.size() == 1) {
            ++converged;
            CHECK(cu[0].child.spi_in == su[0].child.spi_out);
            CHECK(cu[0].child.spi_out == su[0].child.spi_in);
            CHECK(esp_roundtrip(cu[0].child, su[0].child));
            CHECK(esp_roundtrip(su[0].child, cu[0].child));
        } else {
            CHECK(cu.empty());
            CHECK(net.of(c, v1::event_kind::failed).size() == 1);
        }
        CHECK(su.size() <= 1);
        dups += server->stats().duplicates + client->stats().duplicates;
        retx += client->stats().retransmits + server->stats().retransmits;
    }
    CHECK(converged >= 36);
    CHECK(dups > 0);
    CHECK(retx > 0);
}

TEST_CASE("Quick Mode with PFS: KE in QM1/QM2, KEYMAT over the new g^xy, rekeys keep PFS") {
    v1::config cc;
    cc.phase2_lifetime = seconds(100);
    auto client = make_engine(30, cc);
    auto server = make_engine(31);
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    const endpoint client_ep = ep(192, 0, 2, 10, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    auto conn = l2tp_connection(client_ep, server_ep);
    conn.pfs = crypto::dh_id::ecp256;
    std::size_t qm_with_ke = 0;
    REQUIRE(client->connect(conn, net.now).has_value());
    net.run_for(seconds(250));
    auto cu = net.of(c, v1::event_kind::child_up);
    auto su = net.of(s, v1::event_kind::child_up);
    REQUIRE(cu.size() >= 3);
    REQUIRE(su.size() == cu.size());
    for (std::size_t i = 0; i < cu.size(); ++i) {
        CHECK(cu[i].child.spi_in == su[i].child.spi_out);
        CHECK(esp_roundtrip(cu[i].child, su[i].child));
        CHECK(esp_roundtrip(su[i].child, cu[i].child));
    }
    (void)qm_with_ke;
}

TEST_CASE("PFS with MODP-1024 is refused unless allow_weak") {
    v1::config cc;
    cc.allow_weak = true;
    auto client = make_engine(32, cc);
    auto server = make_engine(33);
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    const endpoint client_ep = ep(192, 0, 2, 10, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    auto conn = l2tp_connection(client_ep, server_ep);
    conn.pfs = crypto::dh_id::modp1024;
    REQUIRE(client->connect(conn, net.now).has_value());
    net.pump();
    CHECK(net.of(c, v1::event_kind::phase1_up).size() == 1);
    CHECK(net.of(c, v1::event_kind::child_up).empty());
    CHECK(server->stats().no_proposal == 1);
    CHECK(server->stats().last_error == v1::engine_errc::no_proposal_chosen);
}

TEST_CASE("Aggressive Mode: refused by default, both roles with allow_aggressive, PSK by ID") {
    for (bool behind_nat : {false, true}) {
        CAPTURE(behind_nat);
        for (bool allow : {false, true}) {
            CAPTURE(allow);
            v1::config sc;
            sc.allow_aggressive = allow;
            auto client = make_engine(40);
            auto server = make_engine(41, sc);
            nat_box nat(ep(203, 0, 113, 5, 0));
            network<engine_t<>> net;
            auto c = net.add(*client, behind_nat ? &nat : nullptr);
            auto s = net.add(*server);
            const endpoint client_ep = ep(192, 168, 1, 10, 500);
            net.hosts[c].addrs = {client_ep};
            net.hosts[s].addrs = {server_ep};
            auto conn = l2tp_connection(client_ep, server_ep);
            conn.aggressive = true;
            conn.id = as_bytes("android@example.net");
            REQUIRE(client->connect(conn, net.now).has_value());
            net.run_for(seconds(5));
            auto cu = net.of(c, v1::event_kind::child_up);
            auto su = net.of(s, v1::event_kind::child_up);
            if (!allow) {
                CHECK(cu.empty());
                CHECK(server->size() == 0);
                CHECK(std::string(server->stats().last_error.field).find("allow_aggressive") !=
                      std::string::npos);
                continue;
            }
            REQUIRE(cu.size() == 1);
            REQUIRE(su.size() == 1);
            CHECK(cu[0].child.spi_in == su[0].child.spi_out);
            CHECK(su[0].child.nat.peer_behind == behind_nat);
            CHECK(cu[0].child.nat.local_behind == behind_nat);
            CHECK(su[0].child.udp_encap == behind_nat);
            CHECK(esp_roundtrip(cu[0].child, su[0].child));
            CHECK(esp_roundtrip(su[0].child, cu[0].child));
        }
    }
}

TEST_CASE("Aggressive Mode with a wrong PSK: HASH_R fails, and on AM2's repeat it is wrong_psk") {
    v1::config sc;
    sc.allow_aggressive = true;
    auto client = make_engine(42, {}, "right");
    auto server = make_engine(43, sc, "wrong");
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    const endpoint client_ep = ep(192, 0, 2, 10, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    auto conn = l2tp_connection(client_ep, server_ep);
    conn.aggressive = true;
    REQUIRE(client->connect(conn, net.now).has_value());
    net.pump();
    CHECK(net.of(c, v1::event_kind::phase1_up).empty());
    CHECK(client->stats().last_error == v1::engine_errc::authentication_failed);
    CHECK(std::string(client->stats().last_error.field) == "HASH_R");
    CHECK(net.of(c, v1::event_kind::failed).empty());  // one bad AM2 may be a forgery
    // AM1 is retransmitted, the server answers with its AM2 again: decided.
    net.run_for(seconds(2));
    auto fc = net.of(c, v1::event_kind::failed);
    REQUIRE(fc.size() == 1);
    CHECK(fc[0].reason == v1::engine_errc::wrong_psk);
    CHECK(client->size() == 0);
}

TEST_CASE("IKEv1 fragments (payload 132): MM5 in 20+ pieces, out of order, duplicated") {
    auto client = make_engine(50);
    auto server = make_engine(51);
    network<engine_t<>> net;
    auto c = net.add(*client);
    auto s = net.add(*server);
    const endpoint client_ep = ep(192, 0, 2, 10, 500);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    int to_server = 0;
    bool fragmented = false;
    net.tap = [&](packet& p) {
        if (p.dst.addr != server_ep.addr || ++to_server != 3) return;  // MM5
        auto h = ike::decode_header(p.data);
        REQUIRE(h.has_value());
        const std::size_t piece = 5;
        const std::size_t count = (p.data.size() + piece - 1) / piece;
        REQUIRE(count > 16);
        std::vector<std::vector<std::byte>> frags;
        for (std::size_t i = 0; i < count; ++i) {
            std::vector<std::byte> buf(64);
            ike::header fh = *h;
            fh.flags = 0;
            fh.message_id = 0;
            ike::message_builder b(buf, fh);
            b.begin(ike::payload_type::fragment_v1);
            auto part = bytes_view(p.data).subspan(i * piece);
            ike::v1::fragment{3, static_cast<std::uint8_t>(i + 1),
                              static_cast<std::uint8_t>(i + 1 == count ? 1 : 0),
                              part.first(std::min(piece, part.size()))}
                .encode(b.out());
            b.end();
            auto n = b.finish();
            REQUIRE(n.has_value());
            buf.resize(*n);
            frags.push_back(buf);
        }
        for (std::size_t k = 0; k < count; ++k) {  // reversed, every other one twice
            packet f{p.src, p.dst, frags[count - 1 - k]};
            net.deliver(f);
            if (k % 2) net.deliver(f);
        }
        fragmented = true;
        p.data.clear();  // the original is not delivered
    };
    REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    net.pump();
    CHECK(fragmented);
    CHECK(net.of(s, v1::event_kind::phase1_up).size() == 1);
    CHECK(net.of(c, v1::event_kind::child_up).size() == 1);
    CHECK(net.of(s, v1::event_kind::child_up).size() == 1);
}
