// A seeded, deterministic, in-memory datagram network for tests, simulations
// and the demo: sockets bound to endpoints exchange datagrams through a fixed
// pool of packet slots, with loss, duplication, reordering and delay drawn
// from one seeded generator (testing::insecure_splitmix64: impairments are
// not secrets). Time is driven by the caller (advance_to), so a run is a pure
// function of the seed and the inputs. Never allocates.
#pragma once

#include <l2sec/core/clock.hpp>
#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/transport/datagram.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec::transport {

/// What the network does to each datagram. Probabilities are in [0, 1].
struct impairments {
    double loss = 0;       ///< the datagram vanishes
    double duplicate = 0;  ///< a second copy is delivered (with its own delay)
    double reorder = 0;    ///< the datagram is held back by reorder_extra
    duration delay_min{};  ///< one-way delay, uniform in [delay_min, delay_max]
    duration delay_max{};
    duration reorder_extra = std::chrono::milliseconds(30);
};

struct network_stats {
    std::uint64_t sent = 0, lost = 0, duplicated = 0, reordered = 0, delivered = 0, overflowed = 0,
                  unroutable = 0;
};

template <std::size_t MaxPackets = 256, std::size_t MaxSize = 2048, std::size_t MaxSockets = 8>
class memory_network {
  public:
    /// `seed` drives the impairments; the same seed and inputs replay the same run.
    explicit memory_network(std::uint64_t seed, impairments imp = {}) noexcept
        : rng_(seed), imp_(imp) {}
    memory_network(const memory_network&) = delete;
    memory_network& operator=(const memory_network&) = delete;

    /// A socket bound to one endpoint of this network; satisfies transport::datagram.
    class socket {
      public:
        socket() noexcept = default;
        result<std::size_t> send_to(const endpoint& to, bytes_view data) noexcept {
            if (!net_) return error(errc::address_invalid, 0, "socket");
            return net_->send(net_->bound_[index_], to, data);
        }
        result<received> receive_from(mutable_bytes buf) noexcept {
            if (!net_) return error(errc::address_invalid, 0, "socket");
            return net_->receive(net_->bound_[index_], buf);
        }
        endpoint local_endpoint() const noexcept {
            return net_ ? net_->bound_[index_] : endpoint{};
        }

      private:
        friend class memory_network;
        socket(memory_network* n, std::size_t i) noexcept : net_(n), index_(i) {}
        memory_network* net_ = nullptr;
        std::size_t index_ = 0;
    };

    /// Bind a socket to `local` (must be unique within the network).
    result<socket> open(const endpoint& local) noexcept {
        if (!local.valid()) return error(errc::address_invalid, 0, "local endpoint");
        for (std::size_t i = 0; i < nbound_; ++i)
            if (bound_[i] == local) return error(errc::address_invalid, 0, "endpoint in use");
        if (nbound_ == MaxSockets) return error(l2sec::errc::capacity_exceeded, 0, "sockets");
        bound_[nbound_] = local;
        return socket(this, nbound_++);
    }

    /// The network's notion of now; datagrams due at or before it can be received.
    void advance_to(time_point now) noexcept {
        if (now > now_) now_ = now;
    }
    time_point now() const noexcept { return now_; }
    /// When the next datagram becomes receivable, if any is in flight.
    std::optional<time_point> next_delivery() const noexcept {
        std::optional<time_point> best;
        for (const auto& p : slots_)
            if (p.used && (!best || p.due < *best)) best = p.due;
        return best;
    }
    std::size_t in_flight() const noexcept {
        std::size_t n = 0;
        for (const auto& p : slots_)
            n += p.used;
        return n;
    }
    const network_stats& stats() const noexcept { return stats_; }
    void set_impairments(const impairments& imp) noexcept { imp_ = imp; }
    const impairments& current_impairments() const noexcept { return imp_; }

  private:
    struct slot {
        bool used = false;
        time_point due{};
        std::uint64_t seq = 0;
        endpoint from{}, to{};
        std::size_t size = 0;
        std::array<std::byte, MaxSize> data{};
    };

    duration draw_delay() noexcept {
        auto span = imp_.delay_max - imp_.delay_min;
        duration d = imp_.delay_min;
        if (span.count() > 0)
            d += duration(static_cast<duration::rep>(
                rng_.below(static_cast<std::uint64_t>(span.count()) + 1)));
        if (imp_.reorder > 0 && rng_.uniform() < imp_.reorder) {
            d += imp_.reorder_extra;
            ++stats_.reordered;
        }
        return d;
    }

    bool enqueue(const endpoint& from, const endpoint& to, bytes_view data) noexcept {
        for (auto& p : slots_) {
            if (p.used) continue;
            p.used = true;
            p.due = now_ + draw_delay();
            p.seq = seq_++;
            p.from = from;
            p.to = to;
            p.size = data.size();
            copy_to(p.data, data);
            return true;
        }
        ++stats_.overflowed;  // a full link drops, like a real queue
        return false;
    }

    result<std::size_t> send(const endpoint& from, const endpoint& to, bytes_view data) noexcept {
        if (data.size() > MaxSize) return error(errc::message_too_large, 0, "datagram");
        ++stats_.sent;
        bool routable = false;
        for (std::size_t i = 0; i < nbound_; ++i)
            routable |= bound_[i] == to;
        if (!routable) {
            ++stats_.unroutable;
            return data.size();
        }
        if (imp_.loss > 0 && rng_.uniform() < imp_.loss) {
            ++stats_.lost;
            return data.size();
        }
        enqueue(from, to, data);
        if (imp_.duplicate > 0 && rng_.uniform() < imp_.duplicate) {
            ++stats_.duplicated;
            enqueue(from, to, data);
        }
        return data.size();
    }

    result<received> receive(const endpoint& me, mutable_bytes buf) noexcept {
        slot* best = nullptr;
        for (auto& p : slots_) {
            if (!p.used || !(p.to == me) || p.due > now_) continue;
            if (!best || p.due < best->due || (p.due == best->due && p.seq < best->seq)) best = &p;
        }
        if (!best) return error(errc::would_block);
        best->used = false;
        if (best->size > buf.size()) return error(errc::message_too_large, 0, "receive buffer");
        copy_to(buf, bytes_view(best->data.data(), best->size));
        ++stats_.delivered;
        return received{best->size, best->from};
    }

    testing::insecure_splitmix64 rng_;
    impairments imp_;
    time_point now_{};
    std::uint64_t seq_ = 0;
    std::array<slot, MaxPackets> slots_{};
    std::array<endpoint, MaxSockets> bound_{};
    std::size_t nbound_ = 0;
    network_stats stats_{};
};

static_assert(datagram<memory_network<>::socket>);

}  // namespace l2sec::transport
