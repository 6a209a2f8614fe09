// The shared L2TP/IPsec core, keyed by hand (no IKE): a server and a client
// core bring up L2TP + PPP (MS-CHAPv2, IPCP) inside ESP transport mode and
// exchange IP packets in place, allocation-free per packet.
#include <l2sec/crypto/botan.hpp>
#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/vpn/detail/stack_core.hpp>

#include "support/alloc_counter.hpp"
#include "support/users.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <vector>

using namespace l2sec;
using namespace std::chrono_literals;

namespace {

using rnd = testing::insecure_deterministic_random;
using server_core = vpn::detail::stack_core<crypto::botan, rnd, test::users, 8, 16, 64>;
using client_core = vpn::detail::stack_core<crypto::botan, rnd, ppp::no_credentials, 1, 1, 1>;

const auto server_ep = transport::endpoint::v4(192, 0, 2, 1, 4500);
const auto client_ep = transport::endpoint::v4(198, 51, 100, 7, 61000);

std::array<std::byte, 36> enc_a{}, enc_b{};

vpn::esp_pair pair_for(bool server, std::uint32_t spi_c2s, std::uint32_t spi_s2c) {
    for (std::size_t i = 0; i < enc_a.size(); ++i) {
        enc_a[i] = std::byte(i + 1);
        enc_b[i] = std::byte(0x80 + i);
    }
    esp::sa_config c2s, s2c;
    c2s.spi = spi_c2s;
    s2c.spi = spi_s2c;
    c2s.algorithms = s2c.algorithms = {esp::encryption::aes_gcm_16, 32, esp::integrity::none};
    c2s.enc_key = enc_a;
    s2c.enc_key = enc_b;
    vpn::esp_pair p;
    p.udp_encap = true;
    p.local = server ? server_ep : client_ep;
    p.peer = server ? client_ep : server_ep;
    p.in = server ? c2s : s2c;
    p.out = server ? s2c : c2s;
    return p;
}

struct rig {
    rnd srng{1}, crng{2};
    test::users users;
    std::unique_ptr<server_core> server;
    std::unique_ptr<client_core> client;
    time_point now{};
    std::vector<vpn::report> sreports, creports;

    rig() {
        server_core::config sc;
        sc.server = true;
        sc.link.server = true;
        sc.link.require = ppp::auth_method::mschapv2;
        sc.link.local_ip = 0x0a000001;
        sc.link.dns1 = 0x0a000001;
        server = std::make_unique<server_core>(
            sc, srng, &users, *vpn::address_pool<64>::make(0x0a000064, 0x0a000070));
        client_core::config cc;
        cc.server = false;
        cc.l2tp.accept_tunnels = false;
        cc.link.user = "alice";
        cc.link.password = "wonderland";
        cc.link.ask_dns = true;
        client = std::make_unique<client_core>(cc, crng, nullptr, std::nullopt);
        REQUIRE(server->install(pair_for(true, 0x1001, 0x2002)));
        auto h = client->install(pair_for(false, 0x1001, 0x2002));
        REQUIRE(h);
        REQUIRE(client->open_tunnel(*h, now));
    }

    // Deliver every queued datagram both ways until nothing moves; then time.
    void run_until(auto done, std::chrono::milliseconds limit = 20s) {
        auto end = now + limit;
        std::array<std::byte, vpn::packet_buffer_size> buf{};
        while (!done() && now < end) {
            bool moved = false;
            while (auto o = client->poll(buf, now)) {
                std::vector<std::byte> d(o->data.begin(), o->data.end());
                (void)server->on_esp(d, now);
                moved = true;
            }
            while (auto o = server->poll(buf, now)) {
                std::vector<std::byte> d(o->data.begin(), o->data.end());
                (void)client->on_esp(d, now);
                moved = true;
            }
            while (auto r = server->poll_report())
                sreports.push_back(*r);
            while (auto r = client->poll_report())
                creports.push_back(*r);
            if (moved) continue;
            auto d = server->next_deadline();
            auto c = client->next_deadline();
            time_point next = now + 10ms;
            if (d && *d < next) next = *d;
            if (c && *c < next) next = *c;
            now = next > now ? next : now + 1ms;
            server->tick(now);
            client->tick(now);
        }
    }
};

std::size_t make_ping(std::span<std::byte> buf, std::uint32_t src, std::uint32_t dst) {
    auto* p = buf.data() + vpn::headroom;
    std::fill_n(p, 84, std::byte{0});
    p[0] = std::byte{0x45};
    store_be16(p + 2, 84);
    p[8] = std::byte{64};
    p[9] = std::byte{1};
    store_be32(p + 12, src);
    store_be32(p + 16, dst);
    p[20] = std::byte{8};
    for (int i = 28; i < 84; ++i)
        p[i] = std::byte(i);
    return 84;
}

}  // namespace

TEST_CASE("vpn core: L2TP and PPP come up inside ESP transport mode, then IP flows both ways") {
    rig r;
    r.run_until([&] { return r.server->sessions_up() == 1 && r.client->sessions_up() == 1; });
    REQUIRE(r.server->sessions_up() == 1);
    REQUIRE(r.client->sessions_up() == 1);
    auto up = std::find_if(r.sreports.begin(), r.sreports.end(),
                           [](auto& x) { return x.kind == vpn::report_kind::ppp_up; });
    REQUIRE(up != r.sreports.end());
    CHECK(up->user_name() == "alice");
    CHECK(up->peer_ip == 0x0a000064);
    CHECK(up->endpoint == client_ep);
    std::uint16_t sid = up->session;
    CHECK(r.server->session_for(0x0a000064) == sid);

    // Client -> server: an IP packet framed and sealed in place, opened in place.
    std::array<std::byte, vpn::packet_buffer_size> buf{};
    auto n = make_ping(buf, 0x0a000064, 0x0a000001);
    std::vector<std::byte> want(buf.begin() + vpn::headroom, buf.begin() + vpn::headroom + n);
    std::uint16_t csid = 1;
    auto o = r.client->send_ip(csid, buf, vpn::headroom, n);
    REQUIRE(o);
    CHECK(o->peer == server_ep);
    CHECK(!o->raw_esp);
    CHECK(load_be32(o->data.data()) == 0x1001);
    std::vector<std::byte> wire(o->data.begin(), o->data.end());
    auto d = r.server->on_esp(wire, r.now);
    REQUIRE(d);
    REQUIRE(*d);
    CHECK(d->session == sid);
    CHECK(std::equal(d->ip.begin(), d->ip.end(), want.begin(), want.end()));

    // A replay of the same datagram is refused; a flipped bit is refused.
    std::vector<std::byte> again(o->data.begin(), o->data.end());
    CHECK(!r.server->on_esp(again, r.now));

    // Server -> client, and zero allocations per packet each way.
    std::size_t allocs = test::allocations_in([&] {
        for (int i = 0; i < 100; ++i) {
            auto m = make_ping(buf, 0x0a000001, 0x0a000064);
            auto s = r.server->session_for(0x0a000064);
            auto p = r.server->send_ip(s, buf, vpn::headroom, m);
            REQUIRE(p);
            auto q = r.client->on_esp(
                mutable_bytes(const_cast<std::byte*>(p->data.data()), p->data.size()), r.now);
            REQUIRE(q);
            REQUIRE(*q);
            CHECK(q->ip.size() == m);
        }
    });
    CHECK(allocs == 0);
}

TEST_CASE("vpn core: L2TP outside ESP, unknown SPIs and forged packets change nothing") {
    rig r;
    r.run_until([&] { return r.server->sessions_up() == 1 && r.client->sessions_up() == 1; });
    REQUIRE(r.server->sessions_up() == 1);
    std::array<std::byte, 64> junk{};
    store_be32(junk.data(), 0xdeadbeef);
    auto e = r.server->on_esp(junk, r.now);
    REQUIRE(!e);
    CHECK(e.error() == vpn::errc::unknown_spi);
    store_be32(junk.data(), 0x1001);
    auto f = r.server->on_esp(junk, r.now);
    CHECK(!f);
    CHECK(r.server->stats().dropped_auth == 1);
    CHECK(r.server->sessions_up() == 1);
}

TEST_CASE("vpn core: after a rekey the new inbound SA and its predecessor both open packets") {
    rig r;
    r.run_until([&] { return r.server->sessions_up() == 1 && r.client->sessions_up() == 1; });
    REQUIRE(r.server->sessions_up() == 1);
    std::array<std::byte, vpn::packet_buffer_size> buf{};
    auto seal = [&] {
        auto n = make_ping(buf, 0x0a000064, 0x0a000001);
        auto o = r.client->send_ip(1, buf, vpn::headroom, n);
        REQUIRE(o);
        return std::vector<std::byte>(o->data.begin(), o->data.end());
    };
    auto old1 = seal(), old2 = seal();
    auto h = r.server->find_peer(client_ep);
    REQUIRE(h);
    // on_esp picks the SA from the slot's copy (in_live, in_spi): it follows in[].
    auto mirrors = [&](std::uint8_t live, std::uint32_t spi0, std::uint32_t spi1) {
        const auto* p = r.server->peer(*h);
        REQUIRE(p);
        CHECK(p->in_live == live);
        CHECK(p->in_spi[0] == spi0);
        CHECK(p->in_spi[1] == spi1);
        CHECK(bool(p->in[0]) == bool(live & 1));
        CHECK(bool(p->in[1]) == bool(live & 2));
    };
    mirrors(1, 0x1001, 0);

    auto sp = pair_for(true, 0x1003, 0x2004);
    sp.replaces_spi_in = 0x1001;
    REQUIRE(r.server->install(sp));
    auto cp = pair_for(false, 0x1003, 0x2004);
    cp.replaces_spi_in = 0x2002;
    REQUIRE(r.client->install(cp));
    mirrors(3, 0x1003, 0x1001);

    auto fresh = seal();
    CHECK(load_be32(fresh.data()) == 0x1003);
    auto d = r.server->on_esp(fresh, r.now);
    REQUIRE(d);
    CHECK(*d);
    d = r.server->on_esp(old1, r.now);  // the previous SA, during the overlap
    REQUIRE(d);
    CHECK(*d);

    r.server->remove_sa(0x1001, r.now);
    mirrors(1, 0x1003, 0);
    auto e = r.server->on_esp(old2, r.now);
    REQUIRE(!e);
    CHECK(e.error() == vpn::errc::unknown_spi);

    // A new SA that replaces nothing: the current one goes, nothing is kept.
    REQUIRE(r.server->install(pair_for(true, 0x1005, 0x2006)));
    mirrors(1, 0x1005, 0);
    REQUIRE(r.client->install(pair_for(false, 0x1005, 0x2006)));
    auto last = seal(), on1005 = seal();
    d = r.server->on_esp(last, r.now);
    REQUIRE(d);
    CHECK(*d);

    // Two rekeys crossing: 0x1007 replaces 0x1005, then 0x1009 replaces
    // 0x1005 too (now the previous SA). The two newest stay open; 0x1005, the
    // oldest, goes and leaves the SPI index.
    auto x = pair_for(true, 0x1007, 0x2008);
    x.replaces_spi_in = 0x1005;
    REQUIRE(r.server->install(x));
    mirrors(3, 0x1007, 0x1005);
    x = pair_for(true, 0x1009, 0x200a);
    x.replaces_spi_in = 0x1005;
    REQUIRE(r.server->install(x));
    mirrors(3, 0x1009, 0x1007);
    auto gone = r.server->on_esp(on1005, r.now);
    REQUIRE(!gone);
    CHECK(gone.error() == vpn::errc::unknown_spi);
    // Again and again: the index (16 SPIs here) never fills. It did when the
    // overwritten current SA stayed in it.
    std::uint32_t cur = 0x1009, prev = 0x1007;
    for (std::uint32_t i = 0; i < 40; ++i) {
        x = pair_for(true, 0x3000 + i, 0x2008);
        x.replaces_spi_in = prev;
        REQUIRE(r.server->install(x));
        mirrors(3, 0x3000 + i, cur);
        prev = cur;
        cur = 0x3000 + i;
    }
}
