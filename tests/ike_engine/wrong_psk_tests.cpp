// A wrong pre-shared key is named as such (engine_errc::wrong_psk in the
// `failed` event), in both roles and as soon as it can be known, instead of
// ending as a retransmission timeout: the responder when MM5 fails under
// its keys (twice: once may be a corrupted copy), the initiator when MM6
// does, when the peer answers MM5 with a notification (in clear, or
// encrypted under keys we do not share), or when MM5 is never answered.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <string>

using namespace l2sec;
using namespace l2sec::test::ike1;
using std::chrono::milliseconds;

namespace {

const endpoint server_ep = ep(198, 51, 100, 1, 500);
const endpoint client_ep = ep(192, 0, 2, 10, 500);
const endpoint nowhere = ep(203, 0, 113, 99, 500);

struct pair_net {
    std::unique_ptr<engine_t<>> client, server;
    network<engine_t<>> net;
    std::size_t c = 0, s = 0;
    pair_net(std::string_view cpsk, std::string_view spsk)
        : client(make_engine(70, {}, cpsk)), server(make_engine(71, {}, spsk)) {
        c = net.add(*client);
        s = net.add(*server);
        net.hosts[c].addrs = {client_ep};
        net.hosts[s].addrs = {server_ep};
    }
    void connect() {
        REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    }
    std::vector<v1::event> failed(std::size_t who) const {
        return net.of(who, v1::event_kind::failed);
    }
};

/// An Informational from the server to the client's SA (cookies of `mm`, a
/// message of that SA): a notification in clear, or `encrypted` bytes.
std::vector<std::byte> informational(const std::vector<std::byte>& mm, bool encrypted,
                                     std::uint16_t type) {
    std::vector<std::byte> m(mm.begin(), mm.begin() + 16);  // both cookies
    const std::size_t len = encrypted ? 28 + 32 : 28 + 12;
    const std::uint8_t hdr[12] = {encrypted ? std::uint8_t{8} : std::uint8_t{11},  // HASH / N
                                  0x10,
                                  5,  // Informational
                                  encrypted ? std::uint8_t{1} : std::uint8_t{0},
                                  0x12,
                                  0x34,
                                  0x56,
                                  0x78,
                                  0,
                                  0,
                                  0,
                                  static_cast<std::uint8_t>(len)};
    for (auto b : hdr)
        m.push_back(std::byte{b});
    if (encrypted) {
        for (int i = 0; i < 32; ++i)  // two blocks that are not ours
            m.push_back(std::byte(static_cast<std::uint8_t>(0x5a ^ (i * 37))));
    } else {
        const std::uint8_t n[12] = {0,
                                    0,
                                    0,
                                    12,
                                    0,
                                    0,
                                    0,
                                    1,
                                    1,
                                    0,
                                    static_cast<std::uint8_t>(type >> 8),
                                    static_cast<std::uint8_t>(type)};
        for (auto b : n)
            m.push_back(std::byte{b});
    }
    return m;
}

}  // namespace

TEST_CASE(
    "wrong PSK, both ours: the responder names it on MM5's retransmission, "
    "tells the initiator, and both fail with wrong_psk within a second") {
    pair_net p("one key", "another key");
    p.connect();
    p.net.pump();
    // The first bad MM5 may be a corrupted copy: dropped, nothing else changes.
    CHECK(p.failed(p.s).empty());
    CHECK(p.server->half_open() == 1);
    CHECK(p.server->stats().last_error == v1::engine_errc::authentication_failed);
    p.net.run_for(milliseconds(1000));  // the client retransmits MM5 after 500 ms
    auto fs = p.failed(p.s);
    REQUIRE(fs.size() == 1);
    CHECK(fs[0].reason == v1::engine_errc::wrong_psk);
    CHECK(fs[0].reason.message().find("wrong pre-shared key") != std::string::npos);
    CHECK(fs[0].peer == client_ep);
    auto fc = p.failed(p.c);
    REQUIRE(fc.size() == 1);  // from the server's PAYLOAD-MALFORMED in clear
    CHECK(fc[0].reason == v1::engine_errc::wrong_psk);
    CHECK(p.client->stats().last_error == v1::engine_errc::wrong_psk);
    CHECK(p.client->size() == 0);
    CHECK(p.server->size() == 0);
}

TEST_CASE("initiator: MM5 unanswered after MM1-MM4 is reported as wrong_psk, not a timeout") {
    pair_net p("same", "same");
    int to_server = 0;
    p.net.tap = [&](packet& pk) {
        if (pk.dst.addr == server_ep.addr && ++to_server >= 3) pk.dst = nowhere;  // MM5 and after
    };
    p.connect();
    p.net.run_for(milliseconds(60000));
    auto fc = p.failed(p.c);
    REQUIRE(fc.size() == 1);
    CHECK(fc[0].reason == v1::engine_errc::wrong_psk);
    CHECK(std::string(p.client->stats().last_error.field).find("MM5 unanswered") !=
          std::string::npos);
    // A peer silent from MM1 on is still a plain timeout.
    pair_net q("same", "same");
    q.net.tap = [&](packet& pk) {
        if (pk.dst.addr == server_ep.addr) pk.dst = nowhere;
    };
    q.connect();
    q.net.run_for(milliseconds(60000));
    REQUIRE(q.failed(q.c).size() == 1);
    CHECK(q.failed(q.c)[0].reason == v1::engine_errc::timeout);
}

TEST_CASE("initiator: a notification in clear answering MM5 ends Main Mode at once") {
    struct expect {
        std::uint16_t type;
        v1::engine_errc why;
    };
    for (auto x : {expect{16, v1::engine_errc::wrong_psk},  // PAYLOAD-MALFORMED (charon)
                   expect{23, v1::engine_errc::wrong_psk},  // INVALID-HASH-INFORMATION
                   expect{24, v1::engine_errc::wrong_psk},  // AUTHENTICATION-FAILED
                   expect{14, v1::engine_errc::notified}}) {
        CAPTURE(x.type);
        pair_net p("same", "same");
        std::vector<std::byte> mm5;
        int to_server = 0;
        p.net.tap = [&](packet& pk) {
            if (pk.dst.addr != server_ep.addr || ++to_server != 3) return;
            mm5 = pk.data;
            pk.dst = nowhere;
        };
        p.connect();
        p.net.pump();
        REQUIRE(!mm5.empty());
        REQUIRE(p.failed(p.c).empty());
        // From another address first: ignored.
        p.client->receive(informational(mm5, false, x.type), client_ep, nowhere, p.net.now);
        p.net.pump();
        CHECK(p.failed(p.c).empty());
        p.client->receive(informational(mm5, false, x.type), client_ep, server_ep, p.net.now);
        p.net.pump();
        auto fc = p.failed(p.c);
        REQUIRE(fc.size() == 1);
        CHECK(fc[0].reason == x.why);
        CHECK(p.client->size() == 0);
    }
}

TEST_CASE(
    "initiator: an encrypted Informational answering MM5 that our keys cannot read "
    "(charon's PAYLOAD-MALFORMED under its PSK) is wrong_psk at once") {
    pair_net p("same", "same");
    std::vector<std::byte> mm5;
    int to_server = 0;
    p.net.tap = [&](packet& pk) {
        if (pk.dst.addr != server_ep.addr || ++to_server != 3) return;
        mm5 = pk.data;
        pk.dst = nowhere;
    };
    p.connect();
    p.net.pump();
    REQUIRE(!mm5.empty());
    p.client->receive(informational(mm5, true, 0), client_ep, server_ep, p.net.now);
    p.net.pump();
    auto fc = p.failed(p.c);
    REQUIRE(fc.size() == 1);
    CHECK(fc[0].reason == v1::engine_errc::wrong_psk);
}

TEST_CASE("initiator: MM6 that fails under our keys twice is wrong_psk; once is a bad copy") {
    for (bool every : {false, true}) {
        CAPTURE(every);
        pair_net p("same", "same");
        int to_client = 0;
        p.net.tap = [&](packet& pk) {
            if (pk.dst.addr != client_ep.addr) return;
            ++to_client;  // 1 MM2, 2 MM4, 3 MM6, 4.. MM6 again
            if (to_client == 3 || (every && to_client > 3)) pk.data[40] ^= std::byte{0x40};
        };
        p.connect();
        p.net.pump();
        CHECK(p.failed(p.c).empty());  // the first bad MM6 changes nothing
        CHECK(p.client->stats().last_error == v1::engine_errc::authentication_failed);
        p.net.run_for(milliseconds(3000));  // MM5 again: the server answers with MM6 again
        if (every) {
            auto fc = p.failed(p.c);
            REQUIRE(fc.size() == 1);
            CHECK(fc[0].reason == v1::engine_errc::wrong_psk);
        } else {
            CHECK(p.failed(p.c).empty());
            CHECK(p.net.of(p.c, v1::event_kind::child_up).size() == 1);
        }
    }
}
