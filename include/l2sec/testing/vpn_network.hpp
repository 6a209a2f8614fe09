// An in-memory IP network for simulations of the whole L2TP/IPsec stack:
// hosts send UDP datagrams and raw ESP packets to endpoints, NAT boxes
// rewrite the source address and port of the hosts behind them (a new
// public port per inside address and port, as a home router does) and
// translate replies back, and a seeded generator drops packets when asked.
// Test and demo code only: it allocates per packet and its randomness is
// the deterministic one.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

namespace l2sec::testing {

class vpn_network {
  public:
    using time_point = std::chrono::steady_clock::time_point;

    struct packet {
        transport::endpoint from, to;  ///< as the receiver sees them (after NAT)
        bool raw_esp = false;
        std::vector<std::byte> data;
        time_point at{};
    };
    struct stats_t {
        std::uint64_t sent = 0, delivered = 0, lost = 0, no_mapping = 0, raw_esp_dropped = 0;
    };

    explicit vpn_network(std::uint64_t seed = 1, double loss = 0,
                         std::chrono::microseconds latency = std::chrono::microseconds(500))
        : rng_(seed), loss_(loss), latency_(latency) {}

    /// A NAT box with public address `pub` (host order) for the inside
    /// addresses given later to put_behind().
    void add_nat(std::uint32_t pub) { nats_[pub] = nat{}; }
    void put_behind(std::uint32_t inside, std::uint32_t pub) { behind_[inside] = pub; }
    void set_loss(double loss) noexcept { loss_ = loss; }

    void send(const transport::endpoint& from, const transport::endpoint& to, bool raw_esp,
              bytes_view data, time_point now) {
        ++stats_.sent;
        packet p{from, to, raw_esp, std::vector<std::byte>(data.begin(), data.end()),
                 now + latency_};
        if (auto b = behind_.find(from.v4_host_order()); b != behind_.end()) {
            if (raw_esp) {  // a NAT without IPsec passthrough: no ports to translate
                ++stats_.raw_esp_dropped;
                return;
            }
            auto& n = nats_[b->second];
            auto key = std::make_pair(from.v4_host_order(), from.port);
            auto m = n.out.find(key);
            if (m == n.out.end()) {
                std::uint16_t port = n.next_port++;
                m = n.out.emplace(key, port).first;
                n.in[port] = from;
            }
            p.from = transport::endpoint::v4(b->second, m->second);
        }
        if (loss_ > 0 && uniform() < loss_) {
            ++stats_.lost;
            return;
        }
        q_.push_back(std::move(p));
    }

    /// The packets due by `now`, for their (inside) destinations.
    std::vector<packet> deliver(time_point now) {
        std::vector<packet> out;
        while (!q_.empty() && q_.front().at <= now) {
            auto p = std::move(q_.front());
            q_.pop_front();
            if (auto n = nats_.find(p.to.v4_host_order()); n != nats_.end()) {
                auto m = n->second.in.find(p.to.port);
                if (m == n->second.in.end()) {
                    ++stats_.no_mapping;
                    continue;
                }
                p.to = m->second;
            }
            ++stats_.delivered;
            out.push_back(std::move(p));
        }
        return out;
    }
    std::optional<time_point> next_delivery() const {
        if (q_.empty()) return std::nullopt;
        return q_.front().at;
    }
    const stats_t& stats() const noexcept { return stats_; }

  private:
    struct nat {
        std::map<std::pair<std::uint32_t, std::uint16_t>, std::uint16_t> out;
        std::map<std::uint16_t, transport::endpoint> in;
        std::uint16_t next_port = 40000;
    };
    double uniform() {
        std::array<std::byte, 8> b{};
        (void)rng_.fill(b);
        return static_cast<double>(load_be64(b.data()) >> 11) * 0x1.0p-53;
    }

    insecure_deterministic_random rng_;
    double loss_;
    std::chrono::microseconds latency_;
    std::map<std::uint32_t, nat> nats_;
    std::map<std::uint32_t, std::uint32_t> behind_;
    std::deque<packet> q_;
    stats_t stats_{};
};

}  // namespace l2sec::testing
