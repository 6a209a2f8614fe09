// The TUN seam: anything that hands IP packets to the VPN datapath and takes
// them back (a Linux /dev/net/tun device, the in-memory one of the tests and
// the demo, a DPDK or VPP port of your own).
//
// A read writes one whole IP packet (IPv4 or IPv6, no link header) into the
// caller's buffer *at an offset*, so the headers that go in front of it (PPP,
// L2TP, UDP, ESP, UDP encapsulation, outer IP) are written backwards into the
// headroom of the same buffer and the packet is encrypted in place: one buffer
// per packet, no copy. A write takes one IP packet from a span.
//
//   std::array<std::byte, 2048> buf;
//   auto pkt = tun.read_packet(buf, 64);      // result<mutable_bytes>, a span of buf
//   if (!pkt && pkt.error() == transport::errc::would_block) wait(tun.native_handle());
//   tun.write_packet(decrypted_ip_packet);
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/transport/error.hpp>

#include <concepts>
#include <cstddef>
#include <span>

namespace l2sec::transport {

/// A TUN device policy. Every call is non-blocking and allocation-free:
/// - `read_packet(buf, headroom)` writes the next packet at `buf[headroom, ...)`
///   and returns the span it occupies. Errors: `would_block` (nothing waiting),
///   `message_too_large` (it does not fit in `buf.size() - headroom`; the packet
///   is dropped, the device is unchanged), `truncated_packet` (its IP length
///   field says more than arrived), `address_invalid` (headroom >= buf.size()),
///   `system_error`.
/// - `write_packet(pkt)` hands one IP packet to the device and returns its size.
///   Errors: `would_block` (device queue full), `message_too_large` (above the
///   MTU), `system_error`.
/// - `native_handle()` is a descriptor for poll/epoll/io_uring, or -1 when the
///   device is not a descriptor (then the driver polls it on each loop turn).
template <class T>
concept tun_device = requires(T& t, mutable_bytes buf, std::size_t headroom, bytes_view pkt) {
    { t.read_packet(buf, headroom) } -> std::same_as<result<mutable_bytes>>;
    { t.write_packet(pkt) } -> std::same_as<result<std::size_t>>;
    { t.native_handle() } -> std::convertible_to<int>;
};

/// The length an IP packet's own header claims (IPv4 Total Length, IPv6 40 +
/// Payload Length), or 0 when `p` does not start with an IPv4/IPv6 header.
constexpr std::size_t ip_packet_length(bytes_view p) noexcept {
    if (p.empty()) return 0;
    const unsigned version = std::to_integer<unsigned>(p[0]) >> 4;
    if (version == 4 && p.size() >= 4) return load_be16(p.data() + 2);
    if (version == 6 && p.size() >= 6) return 40u + load_be16(p.data() + 4);
    return 0;
}

/// Read up to `bufs.size()` packets, one per buffer, each at `headroom`, until
/// the device has no more (would_block ends the batch quietly). `out[i]` gets
/// the span of packet i. Returns how many were read (0 with would_block when
/// none was waiting); a packet that is too large or truncated is skipped and
/// counted in `*dropped` when given. The loop for devices that deliver one
/// packet per call (TUN file descriptors have no recvmmsg).
template <tun_device T>
result<std::size_t> read_batch(T& tun, std::span<const mutable_bytes> bufs, std::size_t headroom,
                               std::span<mutable_bytes> out,
                               std::size_t* dropped = nullptr) noexcept {
    const std::size_t n = bufs.size() < out.size() ? bufs.size() : out.size();
    std::size_t got = 0;
    while (got < n) {
        auto r = tun.read_packet(bufs[got], headroom);
        if (!r) {
            if (r.error() == errc::would_block) break;
            if (r.error() == errc::message_too_large || r.error() == errc::truncated_packet) {
                if (dropped) ++*dropped;
                continue;
            }
            if (got) break;  // report what we have; the error comes back on the next call
            return r.error();
        }
        out[got++] = *r;
    }
    if (got == 0) return error(errc::would_block);
    return got;
}

}  // namespace l2sec::transport
