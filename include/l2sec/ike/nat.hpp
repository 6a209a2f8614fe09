// NAT detection (IKEv2: RFC 7296 §2.23, NAT_DETECTION_*_IP notify data;
// IKEv1: RFC 3947 §3.2, NAT-D payloads):
//   hash(SPIi | SPIr | IP address | port)
// IKEv2 always uses SHA-1; IKEv1 the negotiated phase 1 hash (SHA-1 for
// Windows/macOS/iOS/Android). Comparing the received hash of our own address
// with the one we compute says whether a NAT sits in between, which decides
// UDP encapsulation (port 4500) for L2TP/IPsec.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/algorithms.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/ike/error.hpp>
#include <l2sec/ike/prf.hpp>

#include <array>
#include <cstdint>

namespace l2sec::ike {

/// hash(SPIi | SPIr | address | port); `address` is 4 (IPv4) or 16 (IPv6) bytes.
template <crypto::backend B>
result<key> nat_detection_hash(crypto::hash_id h, std::uint64_t spi_i, std::uint64_t spi_r,
                               bytes_view address, std::uint16_t port) noexcept {
    if (address.size() != 4 && address.size() != 16)
        return error(l2sec::errc::invalid_argument, 0, "NAT-D address");
    auto ctx = B::make_hash(h);
    if (!ctx) return error(errc::crypto_failure, 0, "NAT-D hash");
    std::array<std::byte, 16> spis{};
    store_be64(spis.data(), spi_i);
    store_be64(spis.data() + 8, spi_r);
    std::array<std::byte, 2> p{};
    store_be16(p.data(), port);
    ctx->update(spis);
    ctx->update(address);
    ctx->update(p);
    key out;
    out.size = ctx->output_size();
    if (out.size > key::capacity) return error(errc::unsupported_algorithm, 0, "NAT-D hash");
    ctx->final(mutable_bytes(out.bytes.data(), out.size));
    return out;
}

}  // namespace l2sec::ike
