// Many simulated L2TP/IPsec clients and one server in one process, over
// testing::vpn_network, with whatever crypto the server and client types
// carry: the scale test (tests/vpn/fleet_tests.cpp) and the setup-rate and
// memory benchmark (bench/vpn_fleet_bench.cpp). Test and bench code only:
// it allocates per packet (the network does) and routes by a hash map.
//
//   testing::vpn_fleet<server_t, client_t> f(std::move(server), server_ip, ppp_server_ip);
//   f.add(std::move(client), client_ip);          // client configured for client_ip:500
//   f.start_all();
//   f.run([&] { return f.up() == f.size(); }, std::chrono::seconds(60));
//   f.ping(i, seq);  ...  f.echo_replies(i)
#pragma once

#include <l2sec/testing/vpn_network.hpp>
#include <l2sec/vpn/client.hpp>
#include <l2sec/vpn/icmp.hpp>
#include <l2sec/vpn/packets.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace l2sec::testing {

template <class Server, class Client>
class vpn_fleet {
  public:
    using time_point = std::chrono::steady_clock::time_point;

    vpn_fleet(std::unique_ptr<Server> server, std::uint32_t server_ip, std::uint32_t ppp_server_ip,
              std::uint64_t seed = 1)
        : net_(seed), server_(std::move(server)), server_ip_(server_ip), ppp_ip_(ppp_server_ip) {}

    /// A client reached at `ip` (host order; its connection.local must say so).
    void add(std::unique_ptr<Client> c, std::uint32_t ip) {
        index_[ip] = parties_.size();
        parties_.push_back({std::move(c), ip, 0});
    }
    std::size_t size() const noexcept { return parties_.size(); }
    Client& client(std::size_t i) noexcept { return *parties_[i].client; }
    Server& server() noexcept { return *server_; }
    time_point now() const noexcept { return now_; }
    int echo_replies(std::size_t i) const noexcept { return parties_[i].echo_replies; }
    std::size_t reports() const noexcept { return reports_; }

    /// Start every client (false when one refuses).
    bool start_all() {
        for (auto& p : parties_)
            if (!p.client->start(now_)) return false;
        return true;
    }
    std::size_t up() const noexcept {
        std::size_t n = 0;
        for (auto& p : parties_)
            n += p.client->state() == vpn::client_state::up;
        return n;
    }
    std::size_t failed() const noexcept {
        std::size_t n = 0;
        for (auto& p : parties_)
            n += p.client->state() == vpn::client_state::failed;
        return n;
    }

    /// Run until done() or `limit` of simulated time.
    template <class Done>
    bool run(Done done, std::chrono::milliseconds limit) {
        const auto end = now_ + limit;
        while (now_ < end) {
            pump();
            if (done()) return true;
            std::optional<time_point> next = net_.next_delivery();
            auto take = [&](std::optional<time_point> t) {
                if (t && (!next || *t < *next)) next = t;
            };
            take(server_->next_deadline());
            for (auto& p : parties_)
                take(p.client->next_deadline());
            const auto cap = now_ + std::chrono::milliseconds(100);
            time_point t = next && *next < cap ? *next : cap;
            // Steps of at least step_: with thousands of clients every
            // deadline apart would cost a pass over all of them.
            now_ = t > now_ + step_ ? t : now_ + step_;
            server_->tick(now_);
            for (auto& p : parties_)
                p.client->tick(now_);
        }
        pump();
        return done();
    }

    /// An echo request from client i to the server's PPP address.
    bool ping(std::size_t i, std::uint16_t seq, std::size_t size = 84) {
        auto& c = *parties_[i].client;
        auto n = vpn::make_echo_request(mutable_bytes(buf_).subspan(vpn::headroom, size),
                                        c.address(), ppp_ip_, 7, seq, size);
        auto o = c.send_ip(buf_, vpn::headroom, n, now_);
        if (!o) return false;
        send(*o);
        return true;
    }

  private:
    struct party {
        std::unique_ptr<Client> client;
        std::uint32_t ip = 0;
        int echo_replies = 0;
    };

    void send(const vpn::outbound& o) { net_.send(o.local, o.peer, o.raw_esp, o.data, now_); }

    void pump() {
        for (int round = 0; round < 1000; ++round) {
            bool moved = false;
            while (auto o = server_->poll(scratch_, now_)) {
                send(*o);
                moved = true;
            }
            for (auto& p : parties_)
                while (auto o = p.client->poll(scratch_, now_)) {
                    send(*o);
                    moved = true;
                }
            for (auto& pk : net_.deliver(now_)) {
                moved = true;
                deliver(pk);
            }
            while (server_->poll_report())
                ++reports_;
            for (auto& p : parties_)
                while (p.client->poll_report())
                    ++reports_;
            if (!moved) break;
        }
    }

    void deliver(vpn_network::packet& pk) {
        const auto to = pk.to.v4_host_order();
        if (to == server_ip_) {
            auto d = pk.raw_esp ? server_->receive_esp(pk.data, pk.to, pk.from, now_)
                                : server_->receive(pk.data, pk.to, pk.from, now_);
            if (d && *d && vpn::answer_echo(d->ip, ppp_ip_)) {
                std::copy(d->ip.begin(), d->ip.end(), buf_.begin() + vpn::headroom);
                if (auto r = server_->send_ip(buf_, vpn::headroom, d->ip.size(), now_)) send(*r);
            }
            return;
        }
        auto it = index_.find(to);
        if (it == index_.end()) return;
        auto& p = parties_[it->second];
        auto d = pk.raw_esp ? p.client->receive_esp(pk.data, pk.to, pk.from, now_)
                            : p.client->receive(pk.data, pk.to, pk.from, now_);
        std::uint16_t id, seq;
        if (d && *d && vpn::is_echo_reply(d->ip, ppp_ip_, id, seq)) ++p.echo_replies;
    }

    vpn_network net_;
    std::unique_ptr<Server> server_;
    std::uint32_t server_ip_, ppp_ip_;
    std::vector<party> parties_;
    std::unordered_map<std::uint32_t, std::size_t> index_;
    time_point now_{};
    std::size_t reports_ = 0;
    std::chrono::microseconds step_{1000};
    std::array<std::byte, vpn::packet_buffer_size> scratch_{}, buf_{};
};

}  // namespace l2sec::testing
