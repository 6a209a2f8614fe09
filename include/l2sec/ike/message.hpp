// A whole IKE message: header + payload chain, for both versions.
//
//   auto m = l2sec::ike::parse(udp_payload);        // result<message>
//   for (const auto& p : m->payloads()) ...         // generic payloads, lazily
//
// parse() checks the header and walks the chain once, so a message that parsed
// iterates without errors. An IKEv1 message with the encryption flag keeps its
// body opaque (decrypt it with ike::v1::phase_crypto, then parse_body()).
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ike/error.hpp>
#include <l2sec/ike/header.hpp>
#include <l2sec/ike/payload.hpp>

namespace l2sec::ike {

class message {
  public:
    constexpr message() noexcept = default;
    constexpr message(const ike::header& h, bytes_view data, std::size_t base) noexcept
        : hdr_(h), data_(data), base_(base) {}

    constexpr const ike::header& header() const noexcept { return hdr_; }
    /// The whole message, header included.
    constexpr bytes_view data() const noexcept { return data_; }
    /// Everything after the header (ciphertext for an encrypted IKEv1 message).
    constexpr bytes_view body() const noexcept { return data_.subspan(header::size); }
    constexpr std::size_t base() const noexcept { return base_; }

    /// The payload chain (empty for an encrypted IKEv1 message).
    constexpr payload_range payloads() const noexcept {
        if (hdr_.encrypted()) return payload_range(bytes_view{}, 0, base_ + header::size);
        return payload_range(body(), hdr_.next_payload, base_ + header::size, chain_options(hdr_));
    }

    static constexpr payload_range::options chain_options(const ike::header& h) noexcept {
        payload_range::options o;
        o.sk_terminates = h.is_v2();
        return o;
    }

  private:
    ike::header hdr_{};
    bytes_view data_{};
    std::size_t base_ = 0;
};

/// Parse one IKE message (the UDP payload on port 500, or after the non-ESP
/// marker on 4500). The header length must equal the datagram's size.
inline result<message> parse(bytes_view datagram, std::size_t base = 0) noexcept {
    auto h = decode_header(datagram, base);
    if (!h) return h.error();
    if (h->length != datagram.size())
        return error(
            h->length > datagram.size() ? errc::header_length_mismatch : errc::trailing_data,
            base + 24, "IKE header length");
    message m(*h, datagram, base);
    if (auto ok = m.payloads().check(); !ok) return ok.error();
    return m;
}

/// The payload chain of a decrypted IKEv1 body (padding after the last payload allowed).
constexpr payload_range parse_v1_plaintext(bytes_view plaintext, std::uint8_t first,
                                           std::size_t base = header::size) noexcept {
    payload_range::options o;
    o.allow_trailing = true;
    o.sk_terminates = false;
    return payload_range(plaintext, first, base, o);
}

/// The chain inside a decrypted IKEv2 SK payload.
constexpr payload_range parse_v2_inner(bytes_view plaintext, std::uint8_t first,
                                       std::size_t base = 0) noexcept {
    payload_range::options o;
    o.sk_terminates = false;
    return payload_range(plaintext, first, base, o);
}

/// Builds a message into a caller buffer: header, then payloads; finish()
/// patches the header length and returns the size.
///
///   message_builder b(buf, hdr);
///   b.begin(payload_type::nonce); b.out().bytes(nonce); b.end();
///   auto n = b.finish();
class message_builder {
  public:
    constexpr message_builder(mutable_bytes out, const header& h) noexcept
        : w_(out), chain_(w_, 16) {
        header hh = h;
        hh.next_payload = 0;
        hh.length = 0;
        encode(w_, hh);
    }
    message_builder(const message_builder&) = delete;
    message_builder& operator=(const message_builder&) = delete;
    constexpr void begin(payload_type type, bool critical = false) noexcept {
        chain_.begin(type, critical);
    }
    constexpr void begin_raw(std::uint8_t type, std::uint8_t flags) noexcept {
        chain_.begin(type, flags);
    }
    constexpr void end() noexcept { chain_.end(); }
    constexpr writer& out() noexcept { return w_; }
    constexpr chain_writer& chain() noexcept { return chain_; }
    /// Add a payload whose body is given as bytes.
    constexpr void add(payload_type type, bytes_view body, bool critical = false) noexcept {
        begin(type, critical);
        w_.bytes(body);
        end();
    }
    /// Patch the length and return the message size.
    result<std::size_t> finish() noexcept {
        w_.patch_u32(24, static_cast<std::uint32_t>(w_.size()));
        return w_.finish("IKE message");
    }

  private:
    writer w_;
    chain_writer chain_;
};

}  // namespace l2sec::ike
