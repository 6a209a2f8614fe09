// In-memory harness for the IKEv1 engine: engines exchange datagrams through
// a tiny network that can put NATs (address + port rewriting) in front of
// hosts, drop or duplicate datagrams, and a clock the test advances.
#pragma once

#include <l2sec/crypto/botan.hpp>
#include <l2sec/ike/v1/engine.hpp>
#include <l2sec/testing/insecure_random.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace l2sec::test::ike1 {

namespace v1 = l2sec::ike::v1;
using tp = std::chrono::steady_clock::time_point;
using transport::endpoint;
using rng = testing::insecure_deterministic_random;
template <class L = v1::default_limits>
using engine_t = v1::engine<crypto::botan, rng, L>;

inline endpoint ep(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                   std::uint16_t port) {
    return endpoint::v4(a, b, c, d, port);
}

/// A NAT: private (address, port) <-> public address with a fresh port per mapping.
struct nat_box {
    explicit nat_box(endpoint pub) : public_addr(pub) {}
    endpoint public_addr;
    std::uint16_t next_port = 40000;
    std::map<std::pair<std::uint32_t, std::uint16_t>, std::uint16_t> out;  // private -> public port
    std::map<std::uint16_t, endpoint> in;                                  // public port -> private

    endpoint translate_out(const endpoint& priv) {
        auto key = std::make_pair(priv.v4_host_order(), priv.port);
        auto it = out.find(key);
        if (it == out.end()) {
            it = out.emplace(key, next_port).first;
            in[next_port] = priv;
            ++next_port;
        }
        endpoint e = public_addr;
        e.port = it->second;
        return e;
    }
    std::optional<endpoint> translate_in(const endpoint& pub) const {
        if (pub.addr != public_addr.addr) return std::nullopt;
        auto it = in.find(pub.port);
        if (it == in.end()) return std::nullopt;
        return it->second;
    }
};

struct packet {
    endpoint src, dst;
    std::vector<std::byte> data;
};

/// Hosts (engines), each with an optional NAT in front; `pump` moves
/// everything until quiet.
template <class E>
struct network {
    /// The engine's event type (v1::event, v2::event): the harness serves both.
    using event_t = typename decltype(std::declval<E&>().poll_event())::value_type;
    using kind_t = decltype(event_t::kind);
    struct host {
        E* e;
        nat_box* nat;  // nullptr: public
        std::vector<endpoint> addrs;
        bool alive = true;  ///< false: receives nothing, its output is lost
    };
    std::vector<host> hosts;
    std::vector<std::vector<event_t>> events_of_host;
    tp now{};
    double drop = 0;
    bool duplicate = false;
    std::uint64_t seed = 1;
    std::size_t delivered = 0;
    std::function<void(packet&)> tap;

    std::size_t add(E& e, nat_box* nat = nullptr) {
        hosts.push_back({&e, nat, {}});
        events_of_host.resize(hosts.size());
        return hosts.size() - 1;
    }
    double uniform() {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<double>(seed >> 11) / 9007199254740992.0;
    }
    /// Deliver `p` (src/dst as on the public wire, after the sender's NAT).
    bool deliver(const packet& p) {
        for (std::size_t i = 0; i < hosts.size(); ++i) {
            auto& h = hosts[i];
            if (!h.alive) continue;
            endpoint local = p.dst;
            if (h.nat) {
                auto priv = h.nat->translate_in(p.dst);
                if (!priv) continue;
                local = *priv;
            }
            bool mine = false;
            for (auto& a : h.addrs)
                if (a.addr == local.addr) mine = true;
            if (!mine) continue;
            h.e->receive(p.data, local, p.src, now);
            ++delivered;
            return true;
        }
        return false;
    }
    /// Move datagrams until none is left; collect events per host.
    void pump(int rounds = 200) {
        for (int r = 0; r < rounds; ++r) {
            std::vector<packet> wire;
            for (auto& h : hosts)
                while (auto d = h.e->poll_datagram()) {
                    if (!h.alive) continue;
                    packet p{d->local, d->peer, {d->data.begin(), d->data.end()}};
                    if (h.nat) p.src = h.nat->translate_out(d->local);
                    wire.push_back(std::move(p));
                }
            for (std::size_t i = 0; i < hosts.size(); ++i)
                while (auto ev = hosts[i].e->poll_event())
                    events_of_host[i].push_back(*ev);
            if (wire.empty()) return;
            for (auto& p : wire) {
                if (tap) tap(p);
                if (drop > 0 && uniform() < drop) continue;
                deliver(p);
                if (duplicate && uniform() < 0.3) deliver(p);
            }
        }
    }
    /// Advance the clock to each deadline (at most `limit`) and pump.
    void run_for(std::chrono::milliseconds d) {
        const tp end = now + d;
        for (int guard = 0; guard < 100000; ++guard) {
            pump();
            std::optional<tp> next;
            for (auto& h : hosts)
                if (auto t = h.e->next_deadline()) next = next ? std::min(*next, *t) : *t;
            if (!next || *next > end) break;
            now = std::max(now, *next);
            for (auto& h : hosts)
                h.e->tick(now);
        }
        now = std::max(now, end);
        for (auto& h : hosts)
            h.e->tick(now);
        pump();
    }
    std::vector<event_t> of(std::size_t who, kind_t k) const {
        std::vector<event_t> r;
        for (auto& e : events_of_host[who])
            if (e.kind == k) r.push_back(e);
        return r;
    }
};

inline v1::connection l2tp_connection(endpoint local, endpoint peer) {
    v1::connection c;
    c.local = local;
    c.peer = peer;
    return c;
}

template <class L = v1::default_limits>
std::unique_ptr<engine_t<L>> make_engine(std::uint64_t seed, const v1::config& cfg = {},
                                         std::string_view psk = "l2sec-test-psk") {
    auto e = engine_t<L>::make(cfg, rng(seed), v1::single_psk(as_bytes(psk)));
    REQUIRE(e.has_value());
    return std::make_unique<engine_t<L>>(std::move(*e));
}

}  // namespace l2sec::test::ike1
