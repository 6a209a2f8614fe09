// The L2TP reliable control channel (RFC 2661 section 5.8 and appendix A):
// Ns/Nr sequencing, the peer's receive window, slow start and congestion
// avoidance, per-message retransmission with exponential backoff and a cap,
// ZLB acknowledgements after a delayed-ack timer, duplicates acknowledged and
// dropped, out-of-order messages kept within the receive window and delivered
// in order (never dropped and stalled), and failure after too many
// retransmissions. Sans-I/O and allocation-free:
//
//   ch.send(message, now);                  // complete control message, 12-byte header
//   ch.receive(datagram, now);              // from the peer, already demultiplexed
//   while (auto m = ch.next_message()) ...  // in order, exactly once
//   while (auto n = ch.poll_transmit(now, buf)) transport.send_to(peer, buf.first(*n));
//   wake up at ch.deadline()
//
// The channel writes Ns and Nr into the messages it sends (offsets 8 and 10
// of the header, which a control message always has: T, L and S set, O clear).
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/clock.hpp>
#include <l2sec/core/error.hpp>
#include <l2sec/core/result.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec::l2tp {

/// Sequence-number arithmetic modulo 2^16 (RFC 2661 5.8).
constexpr bool seq_before(std::uint16_t a, std::uint16_t b) noexcept {
    return static_cast<std::int16_t>(static_cast<std::uint16_t>(a - b)) < 0;
}

struct control_channel_config {
    std::uint16_t peer_tunnel_id = 0;  ///< written into ZLB ACKs (0 until SCCRP/SCCRQ tells)
    std::uint16_t peer_window = 4;     ///< the peer's Receive Window Size (default 4)
    duration initial_timeout = std::chrono::seconds(1);
    duration max_timeout = std::chrono::seconds(8);       ///< backoff cap (RFC: at least 8 s)
    std::uint8_t max_retransmissions = 5;                 ///< then the channel fails
    duration ack_delay = std::chrono::milliseconds(100);  ///< delayed ZLB ACK
};

struct control_channel_stats {
    std::uint64_t sent = 0, retransmitted = 0, zlb_sent = 0, received = 0, duplicates = 0,
                  reordered = 0, out_of_window = 0, delivered = 0;
};

/// SendSlots: messages queued or unacknowledged at once (our send window
/// limit; the peer's window may be smaller). RecvWindow: our Receive Window
/// Size, the out-of-order messages we keep. MaxMessage: the largest control
/// message, in bytes.
template <std::size_t SendSlots = 8, std::size_t RecvWindow = 8, std::size_t MaxMessage = 512>
class control_channel {
    static_assert(SendSlots > 0 && RecvWindow > 0 && MaxMessage >= 12);

  public:
    static constexpr std::uint16_t receive_window_size = static_cast<std::uint16_t>(RecvWindow);
    static constexpr std::size_t header_size = 12;

    enum class received_kind : std::uint8_t {
        message,    ///< accepted (now or later available from next_message)
        zlb,        ///< an acknowledgement only
        duplicate,  ///< already received: dropped, acknowledged
        out_of_window,
    };

    control_channel() noexcept = default;
    explicit control_channel(const control_channel_config& c) noexcept : cfg_(c) {
        ssthresh_ = cfg_.peer_window ? cfg_.peer_window : 1;
    }

    void set_peer_tunnel_id(std::uint16_t id) noexcept { cfg_.peer_tunnel_id = id; }
    /// From the peer's Receive Window Size AVP (0 is invalid and ignored).
    void set_peer_window(std::uint16_t w) noexcept {
        if (w == 0) return;
        cfg_.peer_window = w;
        ssthresh_ = w;
    }
    const control_channel_config& config() const noexcept { return cfg_; }
    const control_channel_stats& stats() const noexcept { return stats_; }
    /// True after a message went unacknowledged max_retransmissions times.
    bool failed() const noexcept { return failed_; }
    /// Nothing queued, nothing unacknowledged.
    bool idle() const noexcept { return count_ == 0; }
    std::size_t unacknowledged() const noexcept { return count_; }
    /// An acknowledgement is owed to the peer (a ZLB will go out unless a message carries it).
    bool ack_pending() const noexcept { return ack_pending_; }
    std::uint16_t next_ns() const noexcept { return ns_; }
    std::uint16_t next_nr() const noexcept { return nr_; }
    std::uint16_t congestion_window() const noexcept { return cwnd_; }

    /// Queue a complete control message (header included; Ns/Nr are filled in).
    result<void> send(bytes_view message, time_point now) noexcept {
        if (message.size() < header_size)
            return error(l2sec::errc::truncated, message.size(), "control header");
        if (message.size() > MaxMessage)
            return error(l2sec::errc::capacity_exceeded, MaxMessage, "control message");
        if (count_ == SendSlots) return error(l2sec::errc::capacity_exceeded, 0, "send window");
        auto& s = tx_[(head_ + count_) % SendSlots];
        copy_to(s.data, message);
        s.size = message.size();
        s.ns = ns_++;
        s.sent = false;
        s.retries = 0;
        s.timeout = cfg_.initial_timeout;
        s.due = now;
        ++count_;
        return {};
    }

    /// One datagram from the peer for this tunnel.
    result<received_kind> receive(bytes_view datagram, time_point now) noexcept {
        if (datagram.size() < header_size)
            return error(l2sec::errc::truncated, datagram.size(), "control header");
        std::uint16_t flags = load_be16(datagram.data());
        if ((flags & 0xC800) != 0xC800)
            return error(l2sec::errc::invalid_argument, 0, "control flags");
        std::uint16_t len = load_be16(datagram.data() + 2);
        if (len < header_size || len > datagram.size())
            return error(l2sec::errc::length_mismatch, 2, "length");
        if (len > MaxMessage) return error(l2sec::errc::capacity_exceeded, 2, "control message size");
        std::uint16_t ns = load_be16(datagram.data() + 8);
        std::uint16_t nr = load_be16(datagram.data() + 10);
        acknowledge(nr, now);
        release();
        ++stats_.received;
        if (len == header_size) return received_kind::zlb;
        if (seq_before(ns, nr_)) {
            ++stats_.duplicates;
            ack_due_ = now;  // acknowledge duplicates at once: our ACK was probably lost
            ack_pending_ = true;
            return received_kind::duplicate;
        }
        // Room is counted from the oldest message not yet handed to the user.
        if (static_cast<std::uint16_t>(ns - deliver_) >= RecvWindow) {
            ++stats_.out_of_window;
            return received_kind::out_of_window;
        }
        auto& slot = rx_[ns % RecvWindow];
        if (slot.used) {
            if (slot.ns == ns) {
                ++stats_.duplicates;
                return received_kind::duplicate;
            }
        }
        if (ns != nr_) ++stats_.reordered;
        copy_to(slot.data, datagram.first(len));
        slot.size = len;
        slot.ns = ns;
        slot.used = true;
        // Advance Nr over every consecutive message we now hold.
        while (rx_[nr_ % RecvWindow].used && rx_[nr_ % RecvWindow].ns == nr_ &&
               !rx_[nr_ % RecvWindow].ready) {
            rx_[nr_ % RecvWindow].ready = true;
            ++nr_;
            if (!ack_pending_) {
                ack_pending_ = true;
                ack_due_ = now + cfg_.ack_delay;
            }
        }
        return received_kind::message;
    }

    /// The next in-order message, exactly once; the view stays valid until
    /// the next call to next_message() or receive().
    std::optional<bytes_view> next_message() noexcept {
        release();
        auto& s = rx_[deliver_ % RecvWindow];
        if (!s.used || !s.ready || s.ns != deliver_) return std::nullopt;
        release_ = deliver_++;
        ++stats_.delivered;
        return bytes_view(s.data.data(), s.size);
    }

    /// The next datagram to put on the wire now, written into `out`
    /// (retransmissions first, then new messages the window allows, then a
    /// ZLB ACK when one is due). nullopt when there is nothing to send.
    std::optional<std::size_t> poll_transmit(time_point now, mutable_bytes out) noexcept {
        if (failed_) return std::nullopt;
        std::size_t window = cwnd_ < cfg_.peer_window ? cwnd_ : cfg_.peer_window;
        for (std::size_t i = 0; i < count_ && i < window; ++i) {
            auto& s = tx_[(head_ + i) % SendSlots];
            if (s.due > now) continue;
            if (s.sent) {
                if (s.retries >= cfg_.max_retransmissions) {
                    failed_ = true;
                    return std::nullopt;
                }
                ++s.retries;
                ++stats_.retransmitted;
                s.timeout = s.timeout * 2 > cfg_.max_timeout ? cfg_.max_timeout : s.timeout * 2;
                // Appendix A: a retransmission means congestion.
                ssthresh_ = static_cast<std::uint16_t>(cwnd_ / 2 ? cwnd_ / 2 : 1);
                cwnd_ = 1;
                acked_in_cwnd_ = 0;
            }
            if (out.size() < s.size) return std::nullopt;
            s.sent = true;
            s.due = now + s.timeout;
            copy_to(out, bytes_view(s.data.data(), s.size));
            store_be16(out.data() + 8, s.ns);
            store_be16(out.data() + 10, nr_);
            ack_pending_ = false;
            ++stats_.sent;
            return s.size;
        }
        if (ack_pending_ && ack_due_ <= now) {
            if (out.size() < header_size) return std::nullopt;
            store_be16(out.data(), 0xC802);
            store_be16(out.data() + 2, header_size);
            store_be16(out.data() + 4, cfg_.peer_tunnel_id);
            store_be16(out.data() + 6, 0);
            store_be16(out.data() + 8, static_cast<std::uint16_t>(ns_ - count_ + sent_count()));
            store_be16(out.data() + 10, nr_);
            ack_pending_ = false;
            ++stats_.zlb_sent;
            return header_size;
        }
        return std::nullopt;
    }

    /// The earliest time poll_transmit has something to do.
    std::optional<time_point> deadline() const noexcept {
        if (failed_) return std::nullopt;
        std::optional<time_point> d;
        auto take = [&](time_point t) {
            if (!d || t < *d) d = t;
        };
        std::size_t window = cwnd_ < cfg_.peer_window ? cwnd_ : cfg_.peer_window;
        for (std::size_t i = 0; i < count_ && i < window; ++i)
            take(tx_[(head_ + i) % SendSlots].due);
        if (ack_pending_) take(ack_due_);
        return d;
    }

  private:
    struct tx_slot {
        std::array<std::byte, MaxMessage> data{};
        std::size_t size = 0;
        std::uint16_t ns = 0;
        bool sent = false;
        std::uint8_t retries = 0;
        duration timeout{};
        time_point due{};
    };
    struct rx_slot {
        std::array<std::byte, MaxMessage> data{};
        std::uint16_t size = 0;
        std::uint16_t ns = 0;
        bool used = false;
        bool ready = false;
    };

    // The Ns a ZLB carries is the next new Ns not yet transmitted: the Ns of
    // the oldest queued message plus the number already sent.
    std::uint16_t sent_count() const noexcept {
        std::uint16_t n = 0;
        for (std::size_t i = 0; i < count_; ++i)
            if (tx_[(head_ + i) % SendSlots].sent) ++n;
        return n;
    }

    void release() noexcept {
        if (!release_) return;
        auto& s = rx_[*release_ % RecvWindow];
        if (s.used && s.ns == *release_) {
            s.used = false;
            s.ready = false;
        }
        release_.reset();
    }

    void acknowledge(std::uint16_t nr, time_point) noexcept {
        while (count_ > 0) {
            auto& s = tx_[head_];
            if (!s.sent || !seq_before(s.ns, nr)) break;
            head_ = (head_ + 1) % SendSlots;
            --count_;
            // Slow start below ssthresh, congestion avoidance above (appendix A).
            if (cwnd_ < ssthresh_) {
                if (cwnd_ < cfg_.peer_window) ++cwnd_;
            } else if (++acked_in_cwnd_ >= cwnd_) {
                acked_in_cwnd_ = 0;
                if (cwnd_ < cfg_.peer_window) ++cwnd_;
            }
        }
    }

    control_channel_config cfg_{};
    std::array<tx_slot, SendSlots> tx_{};
    std::array<rx_slot, RecvWindow> rx_{};
    std::size_t head_ = 0, count_ = 0;
    std::uint16_t ns_ = 0, nr_ = 0, deliver_ = 0;
    std::optional<std::uint16_t> release_{};
    std::uint16_t cwnd_ = 1, ssthresh_ = 4, acked_in_cwnd_ = 0;
    bool ack_pending_ = false;
    time_point ack_due_{};
    bool failed_ = false;
    control_channel_stats stats_{};
};

}  // namespace l2sec::l2tp
