// An in-memory TUN device for tests and the demo: two fixed-capacity rings of
// packet slots, one towards the datapath (what the "host" injects, read_packet
// returns it) and one from it (what write_packet gets, the host extracts it).
// No descriptor, no allocation after construction, no allocation per packet.
//
//   auto tun = std::make_unique<transport::memory_tun<>>();  // ~256 KiB: allocate once
//   tun->inject(icmp_echo_request);                            // the host sends a packet
//   auto pkt = tun->read_packet(buf, headroom);                // the VPN reads it
//   tun->write_packet(reply);  tun->extract(out);              // and back
#pragma once

#include <l2sec/transport/tun.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace l2sec::transport {

/// Counters of a memory_tun, for tests.
struct memory_tun_stats {
    std::uint64_t injected = 0, read = 0, written = 0, extracted = 0, overflowed = 0;
};

/// `Slots` packets of at most `MaxPacket` bytes in each direction; `Mtu` is
/// what write_packet accepts (like a real device, larger packets are refused).
template <std::size_t Slots = 64, std::size_t MaxPacket = 2048>
class memory_tun {
    static_assert(Slots > 0, "memory_tun needs at least one slot per direction");
    static_assert(MaxPacket >= 68, "memory_tun slots must hold a minimal IPv4 packet (68 bytes)");

  public:
    explicit memory_tun(std::size_t mtu = MaxPacket) noexcept
        : mtu_(mtu < MaxPacket ? mtu : MaxPacket) {}
    memory_tun(const memory_tun&) = delete;
    memory_tun& operator=(const memory_tun&) = delete;

    // --- the datapath side (tun_device) ---

    /// The next injected packet, copied to `buf[headroom, ...)`. Errors:
    /// would_block (none), message_too_large (it does not fit: the packet stays
    /// queued, so a retry with a larger buffer gets it), address_invalid
    /// (headroom beyond the buffer).
    result<mutable_bytes> read_packet(mutable_bytes buf, std::size_t headroom) noexcept {
        if (headroom > buf.size()) return error(errc::address_invalid, 0, "headroom");
        if (in_.empty()) return error(errc::would_block);
        const auto& s = in_.front();
        if (s.size > buf.size() - headroom) return error(errc::message_too_large, 0, "buffer");
        copy_to(buf.subspan(headroom), bytes_view(s.data.data(), s.size));
        auto out = buf.subspan(headroom, s.size);
        in_.pop();
        ++stats_.read;
        return out;
    }
    /// Queue a packet for the host. Errors: message_too_large (above the MTU),
    /// would_block (the ring is full; counted in stats().overflowed).
    result<std::size_t> write_packet(bytes_view pkt) noexcept {
        if (pkt.size() > mtu_) return error(errc::message_too_large, 0, "packet");
        if (!out_.push(pkt)) {
            ++stats_.overflowed;
            return error(errc::would_block);
        }
        ++stats_.written;
        return pkt.size();
    }
    /// No descriptor: a driver polls read_packet on each turn of its loop.
    int native_handle() const noexcept { return -1; }
    std::size_t mtu() const noexcept { return mtu_; }

    // --- the host side ---

    /// Put a packet where read_packet will find it (what the kernel would do
    /// when a local program sends through the device). Errors as write_packet.
    result<std::size_t> inject(bytes_view pkt) noexcept {
        if (pkt.size() > mtu_) return error(errc::message_too_large, 0, "packet");
        if (!in_.push(pkt)) {
            ++stats_.overflowed;
            return error(errc::would_block);
        }
        ++stats_.injected;
        return pkt.size();
    }
    /// Take the oldest packet the datapath wrote, copied to `out`. Errors:
    /// would_block (none), message_too_large (does not fit `out`; it stays queued).
    result<std::size_t> extract(mutable_bytes out) noexcept {
        if (out_.empty()) return error(errc::would_block);
        const auto& s = out_.front();
        if (s.size > out.size()) return error(errc::message_too_large, 0, "buffer");
        copy_to(out, bytes_view(s.data.data(), s.size));
        const std::size_t n = s.size;
        out_.pop();
        ++stats_.extracted;
        return n;
    }
    std::size_t pending_reads() const noexcept { return in_.count; }
    std::size_t pending_extracts() const noexcept { return out_.count; }
    const memory_tun_stats& stats() const noexcept { return stats_; }

  private:
    struct slot {
        std::size_t size = 0;
        std::array<std::byte, MaxPacket> data;
    };
    struct ring {
        std::array<slot, Slots> slots;
        std::size_t head = 0, count = 0;
        bool empty() const noexcept { return count == 0; }
        const slot& front() const noexcept { return slots[head]; }
        void pop() noexcept {
            head = (head + 1) % Slots;
            --count;
        }
        bool push(bytes_view p) noexcept {
            if (count == Slots) return false;
            slot& s = slots[(head + count) % Slots];
            copy_to(s.data, p);
            s.size = p.size();
            ++count;
            return true;
        }
    };

    std::size_t mtu_;
    ring in_{}, out_{};
    memory_tun_stats stats_{};
};

static_assert(tun_device<memory_tun<>>);

}  // namespace l2sec::transport
