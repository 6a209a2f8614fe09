// An address and port: IPv4 or IPv6, a plain value (no sockaddr, no allocation).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>

namespace l2sec::transport {

struct endpoint {
    enum class family_t : std::uint8_t { none = 0, v4 = 4, v6 = 6 };

    family_t family = family_t::none;
    std::uint16_t port = 0;
    /// IPv4 in the first four bytes (network order), IPv6 in all sixteen.
    std::array<std::uint8_t, 16> addr{};

    static constexpr endpoint v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                                 std::uint16_t port) noexcept {
        endpoint e;
        e.family = family_t::v4;
        e.port = port;
        e.addr[0] = a;
        e.addr[1] = b;
        e.addr[2] = c;
        e.addr[3] = d;
        return e;
    }
    /// IPv4 from a host-order 32-bit value (0x7f000001 is 127.0.0.1).
    static constexpr endpoint v4(std::uint32_t host_order, std::uint16_t port) noexcept {
        return v4(static_cast<std::uint8_t>(host_order >> 24),
                  static_cast<std::uint8_t>(host_order >> 16),
                  static_cast<std::uint8_t>(host_order >> 8), static_cast<std::uint8_t>(host_order),
                  port);
    }
    static constexpr endpoint v6(const std::array<std::uint8_t, 16>& a,
                                 std::uint16_t port) noexcept {
        endpoint e;
        e.family = family_t::v6;
        e.port = port;
        e.addr = a;
        return e;
    }
    static constexpr endpoint loopback_v4(std::uint16_t port) noexcept {
        return v4(127, 0, 0, 1, port);
    }

    constexpr std::uint32_t v4_host_order() const noexcept {
        return (std::uint32_t{addr[0]} << 24) | (std::uint32_t{addr[1]} << 16) |
               (std::uint32_t{addr[2]} << 8) | addr[3];
    }
    constexpr bool valid() const noexcept { return family != family_t::none; }

    friend constexpr bool operator==(const endpoint&, const endpoint&) noexcept = default;

    /// A cheap hash for open-addressing tables keyed on endpoints.
    constexpr std::uint64_t hash() const noexcept {
        std::uint64_t h = 0xcbf29ce484222325ull ^ static_cast<std::uint64_t>(family);
        for (auto b : addr)
            h = (h ^ b) * 0x100000001b3ull;
        h = (h ^ port) * 0x100000001b3ull;
        return h ^ (h >> 29);
    }
};

}  // namespace l2sec::transport
