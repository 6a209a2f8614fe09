// The vocabulary the L2TP/IPsec server and client hand in and out: an ESP
// SA pair to install, a datagram to send, an IP packet delivered, and the
// headroom a caller reserves so every header is written in place.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/esp/sa.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <cstddef>
#include <cstdint>

namespace l2sec::vpn {

/// Bytes to leave before an IP packet handed to send_ip(): PPP 4 + L2TP 6 +
/// UDP 8 + ESP header 8 + IV up to 16, rounded up. The outer UDP (4500) and
/// IP headers are the kernel's.
inline constexpr std::size_t headroom = 48;
/// Bytes to leave after it: ESP padding (up to 15), trailer 2 and ICV (up to 32).
inline constexpr std::size_t tailroom = 64;
/// A buffer for one packet: headroom + the largest IP packet + tailroom.
inline constexpr std::size_t packet_buffer_size = headroom + 1500 + tailroom;

/// Opaque handle to a peer (an IKE peer: outer address and port).
struct peer_handle {
    std::uint32_t slot = 0;        ///< 1-based, 0 = none
    std::uint32_t generation = 0;  ///< tells a reused slot apart
    friend constexpr bool operator==(peer_handle, peer_handle) = default;
    constexpr explicit operator bool() const noexcept { return slot != 0; }
};

/// One negotiated ESP SA pair (from IKE, or keyed by hand), for one peer.
/// The key spans need to live only for the install() call.
struct esp_pair {
    transport::endpoint local, peer;      ///< outer endpoints (the peer's 4500 port after NAT-T)
    bool udp_encap = false;               ///< ESP in UDP (RFC 3948), else raw IP protocol 50
    esp::sa_config in, out;               ///< inbound (our SPI) and outbound (theirs)
    std::uint16_t peer_l2tp_port = 1701;  ///< the peer's L2TP port (the Quick Mode selector)
    std::uint32_t replaces_spi_in =
        0;  ///< a rekey: the SA this one supersedes (kept until removed)
};

/// A datagram to put on the wire, as is: over UDP from `local` to `peer`, or,
/// when raw_esp, as IP protocol 50 to peer's address.
struct outbound {
    transport::endpoint local, peer;
    bool raw_esp = false;
    bytes_view data;
};

/// What a received datagram produced: an IP packet for the TUN device (a
/// span of the caller's buffer), or nothing (control traffic, consumed).
struct delivered {
    mutable_bytes ip;  ///< empty when nothing is to be delivered
    bool ipv6 = false;
    std::uint16_t session = 0;
    explicit operator bool() const noexcept { return !ip.empty(); }
};

}  // namespace l2sec::vpn
