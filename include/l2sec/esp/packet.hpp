// The ESP packet format (RFC 4303 section 2), as views over a buffer:
//
//   0                   1                   2                   3
//   | Security Parameters Index (SPI)                               |
//   | Sequence Number                                               |
//   | IV (optional, algorithm-specific) ...                         |
//   | Payload Data ... | Padding (0-255) | Pad Length | Next Header |
//   | Integrity Check Value (ICV, variable) ...                     |
//
// IV and ICV sizes come from the SA's algorithms, so the decoder takes them
// as parameters. Nothing here decrypts; sa.hpp does.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/esp/error.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace l2sec::esp {

inline constexpr std::size_t header_size = 8;   ///< SPI + sequence number
inline constexpr std::size_t trailer_size = 2;  ///< Pad Length + Next Header

/// IP protocol numbers that matter to ESP.
namespace proto {
inline constexpr std::uint8_t ipv4 = 4;  ///< tunnel mode, IPv4 inner packet
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
inline constexpr std::uint8_t ipv6 = 41;  ///< tunnel mode, IPv6 inner packet
inline constexpr std::uint8_t esp = 50;
inline constexpr std::uint8_t none = 59;  ///< "no next header": a dummy packet (RFC 4303 2.6)
}  // namespace proto

/// SPI and (low 32 bits of the) sequence number: readable before decryption.
struct header {
    std::uint32_t spi = 0;
    std::uint32_t seq = 0;
};

inline result<header> parse_header(bytes_view packet) noexcept {
    reader r(packet);
    header h;
    h.spi = r.u32();
    h.seq = r.u32();
    if (!r) return r.fail(errc::truncated, "ESP header");
    return h;
}

/// f(header) for each view of a receive batch that can be ESP (8 bytes or
/// more, SPI not 0: IKE's non-ESP marker is 0) and whose SPI is not that of
/// the ESP view before it: a train of one SA's packets is visited once. What
/// warming a batch (vpn::server::warm) walks over.
template <class F>
void for_each_new_spi(std::span<const bytes_view> batch, F&& f) noexcept {
    std::uint32_t prev = 0;
    for (const auto& d : batch) {
        auto h = parse_header(d);
        if (!h || h->spi == 0 || h->spi == prev) continue;
        prev = h->spi;
        f(*h);
    }
}

/// An ESP packet split into its fields (still encrypted).
struct packet_view {
    std::uint32_t spi = 0;
    std::uint32_t seq = 0;
    bytes_view iv;
    bytes_view ciphertext;  ///< payload, padding, pad length, next header (encrypted)
    bytes_view icv;
};

namespace detail {
// The field-by-field split, with the error of the first field that fails.
inline result<packet_view> parse_general(bytes_view packet, std::size_t iv_size,
                                         std::size_t icv_size, std::size_t block) noexcept {
    reader r(packet);
    packet_view v;
    v.spi = r.u32();
    v.seq = r.u32();
    v.iv = r.bytes(iv_size);
    if (!r) return r.fail(errc::truncated, r.offset() < header_size ? "ESP header" : "IV");
    if (r.remaining() < icv_size + trailer_size)
        return error(errc::truncated, packet.size(), "ESP trailer/ICV");
    std::size_t ct = r.remaining() - icv_size;
    if (block > 1 && ct % block != 0) return r.error_here(errc::bad_length, "ciphertext");
    v.ciphertext = r.bytes(ct);
    v.icv = r.rest();
    return v;
}
}  // namespace detail

/// Split `packet` given the SA's IV and ICV sizes; `block` is the cipher's
/// block size (1 for stream/AEAD ciphers), which the ciphertext must fill.
/// A packet long enough for every field is split with one size check; any
/// other goes field by field for its error.
inline result<packet_view> parse(bytes_view packet, std::size_t iv_size, std::size_t icv_size,
                                 std::size_t block = 1) noexcept {
    const std::size_t fixed = header_size + iv_size + icv_size + trailer_size;
    if (packet.size() >= fixed) {
        const std::size_t ct = packet.size() - header_size - iv_size - icv_size;
        if (block <= 1 || ct % block == 0) {
            const std::byte* p = packet.data();
            packet_view v;
            v.spi = load_be32(p);
            v.seq = load_be32(p + 4);
            v.iv = bytes_view(p + header_size, iv_size);
            v.ciphertext = bytes_view(p + header_size + iv_size, ct);
            v.icv = bytes_view(p + header_size + iv_size + ct, icv_size);
            return v;
        }
    }
    return detail::parse_general(packet, iv_size, icv_size, block);
}

/// Padding needed after `payload_len` bytes so that payload + padding + 2
/// fills whole `align`-byte units (RFC 4303 2.4: at least 4-byte alignment).
constexpr std::size_t padding_for(std::size_t payload_len, std::size_t align) noexcept {
    std::size_t a = align < 4 ? 4 : align;
    std::size_t r = (payload_len + trailer_size) % a;
    return r == 0 ? 0 : a - r;
}

/// Write padding (1, 2, 3, ...), Pad Length and Next Header at `out`;
/// returns the bytes written.
inline result<std::size_t> write_trailer(mutable_bytes out, std::size_t pad_len,
                                         std::uint8_t next_header) noexcept {
    if (pad_len > 255) return error(errc::invalid_config, 0, "Pad Length");
    if (out.size() < pad_len + trailer_size)
        return error(errc::no_tailroom, out.size(), "ESP trailer");
    for (std::size_t i = 0; i < pad_len; ++i)
        out[i] = static_cast<std::byte>(i + 1);
    out[pad_len] = static_cast<std::byte>(pad_len);
    out[pad_len + 1] = static_cast<std::byte>(next_header);
    return pad_len + trailer_size;
}

/// The decrypted trailer: where the payload ends and what it carries.
struct trailer {
    std::size_t payload_len = 0;
    std::uint8_t pad_length = 0;
    std::uint8_t next_header = 0;
};

/// Parse the trailer at the end of decrypted `plaintext` (which starts at
/// absolute offset `base` in the packet) and check the default padding.
inline result<trailer> parse_trailer(bytes_view plaintext, std::size_t base = 0,
                                     bool check_padding = true) noexcept {
    if (plaintext.size() < trailer_size)
        return error(errc::truncated, base + plaintext.size(), "ESP trailer");
    trailer t;
    std::size_t n = plaintext.size();
    t.pad_length = std::to_integer<std::uint8_t>(plaintext[n - 2]);
    t.next_header = std::to_integer<std::uint8_t>(plaintext[n - 1]);
    if (std::size_t{t.pad_length} + trailer_size > n)
        return error(errc::bad_pad_length, base + n - 2, "Pad Length");
    t.payload_len = n - trailer_size - t.pad_length;
    if (check_padding) {
        for (std::size_t i = 0; i < t.pad_length; ++i)
            if (std::to_integer<std::size_t>(plaintext[t.payload_len + i]) != i + 1)
                return error(errc::bad_padding, base + t.payload_len + i, "Padding");
    }
    return t;
}

}  // namespace l2sec::esp
