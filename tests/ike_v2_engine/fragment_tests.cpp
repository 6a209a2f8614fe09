// RFC 7383 IKEv2 fragmentation in the engine: announced in IKE_SA_INIT,
// protected messages larger than config::fragment_size sent as SKF
// fragments (each within the size, each with its own IV), reassembled in
// any order with duplicates, retransmitted requests answered only on
// fragment 1 (2.6.1), forged fragments refused without changing anything,
// and whole messages when one side does not support it.
#include "ike_v2_engine/support.hpp"
#include "support/alloc_counter.hpp"

#include <l2sec/ike/message.hpp>

#include <algorithm>
#include <set>
#include <vector>

using namespace l2sec;
using l2sec::test::ike1::network;
using l2sec::test::ike1::packet;
using l2sec::test::ike1::rng;
using l2sec::test::ike2::client_ep;
using l2sec::test::ike2::server_ep;
namespace v2 = l2sec::ike::v2;

namespace {

using engine_t = l2sec::test::ike2::engine<>;

std::unique_ptr<engine_t> make(std::uint64_t seed, const v2::config& cfg) {
    return l2sec::test::ike2::make(seed, cfg, "l2sec-frag-psk");
}

v2::config small_fragments() {
    v2::config c;
    c.fragment_size = 256;  // IKE_AUTH with PSK is ~300-500 bytes: 2-4 fragments
    // a long ID makes the responder's IKE_AUTH answer too large for one datagram as well
    c.local_id = as_bytes("a-rather-long-identity-for-the-fragmentation-tests.vpn.example.org");
    return c;
}

/// The SKF fragment number of a datagram (0: not a fragment).
std::uint16_t fragment_of(const packet& p) {
    bytes_view d = p.data;
    if (p.dst.port == 4500) d = d.subspan(4);
    auto m = ike::parse(d);
    if (!m) return 0;
    ike::payload last{};
    for (const auto& pl : m->payloads())
        last = pl;
    if (last.kind() != ike::payload_type::skf) return 0;
    auto f = v2::skf::parse(last);
    return f ? f->number : 0;
}

struct pair_t {
    std::unique_ptr<engine_t> client, server;
    network<engine_t> net;
    std::size_t c = 0, s = 0;
    pair_t(const v2::config& cc, const v2::config& sc) : client(make(1, cc)), server(make(2, sc)) {
        c = net.add(*client);
        s = net.add(*server);
        net.hosts[c].addrs = {client_ep};
        net.hosts[s].addrs = {server_ep};
    }
    void connect() { REQUIRE(client->connect(l2sec::test::ike2::conn(), net.now).has_value()); }
};

std::vector<packet> drain(engine_t& e) {
    std::vector<packet> out;
    while (auto d = e.poll_datagram())
        out.push_back({d->local, d->peer, {d->data.begin(), d->data.end()}});
    return out;
}
void deliver(engine_t& to, const packet& p, test::ike1::tp now) {
    to.receive(p.data, p.dst, p.src, now);
}

}  // namespace

TEST_CASE("RFC 7383: IKE_AUTH goes both ways in SKF fragments within fragment_size") {
    pair_t t(small_fragments(), small_fragments());
    std::size_t fragments = 0, whole_protected = 0, largest = 0;
    std::set<std::vector<std::byte>> ivs;
    t.net.tap = [&](packet& p) {
        if (auto k = fragment_of(p)) {
            ++fragments;
            largest = std::max(largest, p.data.size());  // the marker included
            bytes_view d = p.data;
            if (p.dst.port == 4500) d = d.subspan(4);
            ivs.insert(std::vector<std::byte>(d.begin() + 36, d.begin() + 52));  // AES-GCM: 8
            (void)k;
        } else if (p.data.size() > 28 && std::to_integer<int>(p.data[18]) == 35) {
            ++whole_protected;  // an IKE_AUTH that went whole
        }
    };
    t.connect();
    t.net.pump();
    REQUIRE(t.net.of(t.c, v2::event_kind::child_up).size() == 1);
    REQUIRE(t.net.of(t.s, v2::event_kind::child_up).size() == 1);
    const auto& cs = t.client->stats();
    const auto& ss = t.server->stats();
    CHECK(cs.fragments_sent >= 2);
    CHECK(ss.fragments_sent >= 2);
    CHECK(ss.fragments_received == cs.fragments_sent);
    CHECK(cs.fragments_received == ss.fragments_sent);
    CHECK(fragments == cs.fragments_sent + ss.fragments_sent);
    CHECK(whole_protected == 0);
    CHECK(largest <= 256);
    CHECK(ivs.size() == fragments);  // every fragment its own IV
    CHECK(cs.dropped == 0);
    CHECK(ss.dropped == 0);
    CHECK(cs.fragment_fallbacks == 0);
}

TEST_CASE("RFC 7383: a peer that does not announce fragmentation gets whole messages") {
    auto off = small_fragments();
    off.fragmentation = false;
    for (int server_off = 0; server_off < 2; ++server_off) {
        CAPTURE(server_off);
        pair_t t(server_off ? small_fragments() : off, server_off ? off : small_fragments());
        std::size_t fragments = 0;
        t.net.tap = [&](packet& p) { fragments += fragment_of(p) != 0; };
        t.connect();
        t.net.pump();
        CHECK(t.net.of(t.c, v2::event_kind::child_up).size() == 1);
        CHECK(t.net.of(t.s, v2::event_kind::child_up).size() == 1);
        CHECK(fragments == 0);
        CHECK(t.client->stats().fragments_sent == 0);
        CHECK(t.server->stats().fragments_sent == 0);
    }
}

TEST_CASE("RFC 7383: fragments reassembled in reverse order with duplicates, no allocation") {
    pair_t t(small_fragments(), small_fragments());
    auto& now = t.net.now;
    t.connect();
    for (auto& p : drain(*t.client))
        deliver(*t.server, p, now);  // IKE_SA_INIT
    for (auto& p : drain(*t.server))
        deliver(*t.client, p, now);
    auto auth = drain(*t.client);  // IKE_AUTH request, fragmented
    REQUIRE(auth.size() >= 2);
    for (auto& p : auth)
        REQUIRE(fragment_of(p) != 0);
    std::reverse(auth.begin(), auth.end());
    std::size_t allocs = test::allocations_in([&] {
        for (std::size_t i = 0; i + 1 < auth.size(); ++i) {  // all but the one that completes
            deliver(*t.server, auth[i], now);
            deliver(*t.server, auth[i], now);
        }
    });
    CHECK(allocs == 0);
    CHECK(t.server->established() == 0);
    CHECK(t.server->stats().dropped == 0);
    deliver(*t.server, auth.back(), now);  // fragment 1, the last to come
    REQUIRE(t.server->established() == 1);
    auto answer = drain(*t.server);
    REQUIRE(answer.size() >= 2);
    // Fragments of the request again: only fragment 1 brings the answer back
    // (RFC 7383 2.6.1), and nothing is processed twice.
    const auto dups = t.server->stats().duplicates;
    for (std::size_t i = 0; i + 1 < auth.size(); ++i)
        deliver(*t.server, auth[i], now);
    CHECK(drain(*t.server).empty());
    deliver(*t.server, auth.back(), now);
    CHECK(drain(*t.server).size() == answer.size());
    CHECK(t.server->stats().duplicates == dups + auth.size());
    CHECK(t.server->established() == 1);
    CHECK(t.net.of(t.s, v2::event_kind::child_up).empty());  // (events not pumped yet)
    std::reverse(answer.begin(), answer.end());
    for (auto& p : answer)
        deliver(*t.client, p, now);
    CHECK(t.client->established() == 1);
    // A late copy of the response's fragments is a duplicate, not an error.
    const auto cdrop = t.client->stats().dropped;
    deliver(*t.client, answer.front(), now);
    CHECK(t.client->stats().dropped == cdrop);
    int up = 0;
    while (auto ev = t.client->poll_event())
        up += ev->kind == v2::event_kind::child_up;
    CHECK(up == 1);
}

TEST_CASE("RFC 7383: a forged fragment is refused and changes nothing") {
    pair_t t(small_fragments(), small_fragments());
    auto& now = t.net.now;
    t.connect();
    for (auto& p : drain(*t.client))
        deliver(*t.server, p, now);
    for (auto& p : drain(*t.server))
        deliver(*t.client, p, now);
    auto auth = drain(*t.client);
    REQUIRE(auth.size() >= 2);
    for (std::size_t k = 0; k < auth.size(); ++k) {
        auto bad = auth[k];
        bad.data[bad.data.size() - 20] ^= std::byte{0x40};  // in the ciphertext or ICV
        deliver(*t.server, bad, now);
        CHECK(t.server->stats().last_error.code == ike::errc::integrity_check_failed);
    }
    CHECK(t.server->stats().dropped == auth.size());
    CHECK(t.server->stats().fragments_received == 0);
    CHECK(drain(*t.server).empty());
    for (auto& p : auth)
        deliver(*t.server, p, now);
    CHECK(t.server->established() == 1);
    CHECK(t.server->stats().fragments_received == auth.size());
}

TEST_CASE("RFC 7383: fragmented handshakes converge under loss and duplication") {
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        CAPTURE(seed);
        pair_t t(small_fragments(), small_fragments());
        t.net.seed = seed;
        t.net.drop = 0.15;
        t.net.duplicate = true;
        t.connect();
        t.net.run_for(std::chrono::seconds(20));
        CHECK(t.net.of(t.c, v2::event_kind::child_up).size() == 1);
        CHECK(t.net.of(t.s, v2::event_kind::child_up).size() == 1);
    }
}

TEST_CASE("config: fragment_size below 200 is refused, naming the field") {
    v2::config c;
    c.fragment_size = 199;
    auto e = engine_t::make(c, rng(1), v2::single_psk(as_bytes("x")));
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error().code == v2::engine_errc::invalid_config);
    CHECK(std::string(e.error().field).find("fragment_size") != std::string::npos);
}
