// A simulated world for the whole L2TP/IPsec stack: one vpn::server on a
// public address and any number of vpn::clients, some behind NAT boxes, over
// testing::vpn_network, with real crypto (Botan) and the deterministic
// generator (so a failing run replays).
#pragma once

#include <l2sec/crypto/botan.hpp>
#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/testing/vpn_network.hpp>
#include <l2sec/vpn/client.hpp>
#include <l2sec/vpn/icmp.hpp>
#include <l2sec/vpn/server.hpp>

#include "support/backends.hpp"
#include "support/users.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <memory>
#include <vector>

namespace l2sec::test {

using world_random = testing::insecure_deterministic_random;
template <std::size_t N, class B = crypto::botan>
using world_server = vpn::server<B, test::users, N, world_random, ike::v1::single_psk>;
template <class B = crypto::botan>
using world_client = vpn::client<B, world_random, ike::v1::single_psk>;

inline constexpr std::uint32_t server_ip = 0xc0000201;  // 192.0.2.1
inline constexpr std::uint32_t nat_ip = 0xcb007101;     // 203.0.113.1
inline constexpr std::uint32_t ppp_server_ip = 0x0a0a0001;

template <std::size_t N = 64, class B = crypto::botan>
struct world {
    testing::vpn_network net;
    test::users users;
    std::unique_ptr<world_server<N, B>> server;
    struct party {
        std::unique_ptr<world_client<B>> client;
        std::uint32_t ip = 0;
        std::vector<vpn::report> reports;
        int echo_replies = 0;
    };
    std::deque<party> clients;  // stable references for add_client()
    std::vector<vpn::report> server_reports;
    time_point now{};
    std::uint64_t seed;
    std::array<std::byte, vpn::packet_buffer_size> scratch{};

    explicit world(std::uint64_t s = 1, double loss = 0, vpn::server_config cfg = default_server())
        : net(s, loss), seed(s) {
        net.add_nat(nat_ip);
        auto srv = world_server<N, B>::make(
            cfg, world_random(seed * 7919),
            ike::v1::single_psk(as_bytes(std::string_view("secret"))), users);
        REQUIRE_MESSAGE(srv, (srv ? "" : srv.error().message()));
        server = std::move(*srv);
    }

    static vpn::server_config default_server() {
        vpn::server_config c;
        c.link.require = ppp::auth_method::mschapv2;
        c.link.local_ip = ppp_server_ip;
        c.link.dns1 = 0x0a0a0002;
        c.pool_first = 0x0a0a0064;
        c.pool_last = 0x0a0a0064 + 2 * N - 1;
        return c;
    }

    /// A client at `ip` (behind the NAT when `natted`), not started yet.
    party& add_client(std::uint32_t ip, bool natted, std::string_view user = "alice",
                      std::string_view password = "wonderland", std::string_view psk = "secret",
                      vpn::client_config cfg = {}) {
        if (natted) net.put_behind(ip, nat_ip);
        cfg.connection.local = transport::endpoint::v4(ip, 500);
        cfg.connection.peer = transport::endpoint::v4(server_ip, 500);
        cfg.link.user = user;
        cfg.link.password = password;
        cfg.link.ask_dns = true;
        auto c = world_client<B>::make(cfg, world_random(seed * 31 + clients.size() + 1),
                                       ike::v1::single_psk(as_bytes(psk)));
        REQUIRE(c);
        clients.push_back({std::move(*c), ip, {}, 0});
        return clients.back();
    }

    void start_all() {
        for (auto& p : clients)
            REQUIRE(p.client->start(now));
    }

    void send(const vpn::outbound& o) { net.send(o.local, o.peer, o.raw_esp, o.data, now); }

    /// Run the world until done() or `limit` of simulated time.
    template <class Done>
    bool run(Done done, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
        auto end = now + limit;
        while (now < end) {
            pump();
            if (done()) return true;
            std::optional<time_point> next = net.next_delivery();
            auto take = [&](std::optional<time_point> t) {
                if (t && (!next || *t < *next)) next = t;
            };
            take(server->next_deadline());
            for (auto& p : clients)
                take(p.client->next_deadline());
            time_point t = next ? *next : now + std::chrono::milliseconds(100);
            if (t > now + std::chrono::milliseconds(100)) t = now + std::chrono::milliseconds(100);
            now = t > now ? t : now + std::chrono::microseconds(100);
            server->tick(now);
            for (auto& p : clients)
                p.client->tick(now);
        }
        pump();
        return done();
    }

    void pump() {
        for (int round = 0; round < 1000; ++round) {
            bool moved = false;
            while (auto o = server->poll(scratch, now)) {
                send(*o);
                moved = true;
            }
            for (auto& p : clients)
                while (auto o = p.client->poll(scratch, now)) {
                    send(*o);
                    moved = true;
                }
            for (auto& pk : net.deliver(now)) {
                moved = true;
                if (pk.to.v4_host_order() == server_ip) {
                    auto d = pk.raw_esp ? server->receive_esp(pk.data, pk.to, pk.from, now)
                                        : server->receive(pk.data, pk.to, pk.from, now);
                    if (d && *d && vpn::answer_echo(d->ip, ppp_server_ip)) {
                        std::array<std::byte, vpn::packet_buffer_size> b{};
                        std::copy(d->ip.begin(), d->ip.end(), b.begin() + vpn::headroom);
                        if (auto r = server->send_ip(b, vpn::headroom, d->ip.size(), now)) send(*r);
                    }
                    continue;
                }
                for (auto& p : clients) {
                    if (pk.to.v4_host_order() != p.ip) continue;
                    auto d = pk.raw_esp ? p.client->receive_esp(pk.data, pk.to, pk.from, now)
                                        : p.client->receive(pk.data, pk.to, pk.from, now);
                    std::uint16_t id, seq;
                    if (d && *d && vpn::is_echo_reply(d->ip, ppp_server_ip, id, seq))
                        ++p.echo_replies;
                }
            }
            while (auto r = server->poll_report())
                server_reports.push_back(*r);
            for (auto& p : clients)
                while (auto r = p.client->poll_report())
                    p.reports.push_back(*r);
            if (!moved) break;
        }
    }

    bool all_up() const {
        for (auto& p : clients)
            if (p.client->state() != vpn::client_state::up) return false;
        return true;
    }

    /// An echo request from client i to the server's PPP address.
    bool ping(party& p, std::uint16_t seq, std::size_t size = 84) {
        std::array<std::byte, vpn::packet_buffer_size> b{};
        auto n = vpn::make_echo_request(mutable_bytes(b).subspan(vpn::headroom, size),
                                        p.client->address(), ppp_server_ip, 7, seq, size);
        auto o = p.client->send_ip(b, vpn::headroom, n, now);
        if (!o) {
            MESSAGE("send_ip: " << o.error().message());
            return false;
        }
        send(*o);
        return true;
    }

    std::size_t count(const std::vector<vpn::report>& rs, vpn::report_kind k) const {
        std::size_t n = 0;
        for (auto& r : rs)
            n += r.kind == k;
        return n;
    }
};

}  // namespace l2sec::test
