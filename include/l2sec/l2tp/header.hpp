// The L2TPv2 header (RFC 2661 section 3.1), for control and data messages.
//
//  |T|L|x|x|S|x|O|P|x|x|x|x|  Ver  |          Length (opt)         |
//  |           Tunnel ID           |           Session ID          |
//  |             Ns (opt)          |             Nr (opt)          |
//  |      Offset Size (opt)        |    Offset pad... (opt)
//
// decode_header() checks everything the RFC requires of a header: Ver = 2,
// control messages with L=1, S=1, O=0, P=0, the Length against the datagram
// (a Length larger than the buffer is an error, e.g. 17024 from a Meraki peer;
// bytes after Length are ignored), the Offset pad inside the message.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/l2tp/error.hpp>

#include <cstddef>
#include <cstdint>

namespace l2sec::l2tp {

/// Bits of the first header word.
namespace flags {
inline constexpr std::uint16_t type = 0x8000;      ///< T: 1 = control message
inline constexpr std::uint16_t length = 0x4000;    ///< L: Length field present
inline constexpr std::uint16_t sequence = 0x0800;  ///< S: Ns and Nr present
inline constexpr std::uint16_t offset = 0x0200;    ///< O: Offset Size present
inline constexpr std::uint16_t priority = 0x0100;  ///< P: data message priority
inline constexpr std::uint16_t reserved = 0x34F0;  ///< the x bits
inline constexpr std::uint16_t version = 0x000F;   ///< Ver
}  // namespace flags

inline constexpr std::uint8_t version2 = 2;
/// Size of a control message header (T, L, S set; no offset): 12 octets.
inline constexpr std::size_t control_header_size = 12;
/// The largest value the 16-bit Length field can carry.
inline constexpr std::size_t max_message_size = 0xFFFF;

/// Options for decoders. RFC 2661 says reserved header bits are "ignored on
/// incoming messages"; l2sec rejects them by default (a reserved bit set is
/// far more often a mis-framed or non-L2TP packet) and follows the RFC letter
/// with ignore_reserved_bits = true. The same option covers AVP rsvd bits.
struct parse_options {
    bool ignore_reserved_bits = false;
};

/// A decoded (or to-be-encoded) header. For decoding, `size` is the number of
/// octets the header occupies including the offset pad, and `length` the
/// message length (the Length field, or the datagram size when L=0).
struct header {
    bool control = false;       ///< T
    bool has_length = false;    ///< L
    bool has_sequence = false;  ///< S
    bool has_offset = false;    ///< O
    bool priority = false;      ///< P
    std::uint16_t length = 0;   ///< Length field (or derived length when absent)
    std::uint16_t tunnel_id = 0;
    std::uint16_t session_id = 0;
    std::uint16_t ns = 0;
    std::uint16_t nr = 0;
    std::uint16_t offset_size = 0;  ///< octets of offset pad after the Offset Size field
    std::size_t size = 0;           ///< header size including offset pad (decode only)

    /// The first 16-bit word (flags and Ver = 2).
    constexpr std::uint16_t flags_word() const noexcept {
        std::uint16_t w = version2;
        if (control) w |= flags::type;
        if (has_length) w |= flags::length;
        if (has_sequence) w |= flags::sequence;
        if (has_offset) w |= flags::offset;
        if (priority) w |= flags::priority;
        return w;
    }
    /// Octets this header occupies when encoded (including offset pad).
    constexpr std::size_t encoded_size() const noexcept {
        return 6 + (has_length ? 2u : 0u) + (has_sequence ? 4u : 0u) +
               (has_offset ? 2u + offset_size : 0u);
    }
};

/// A control header as RFC 2661 requires it (T, L, S set; Length patched later).
constexpr header control_header(std::uint16_t tunnel_id, std::uint16_t session_id, std::uint16_t ns,
                                std::uint16_t nr) noexcept {
    header h;
    h.control = true;
    h.has_length = true;
    h.has_sequence = true;
    h.tunnel_id = tunnel_id;
    h.session_id = session_id;
    h.ns = ns;
    h.nr = nr;
    return h;
}

/// A minimal data header (T=0, no optional fields: 6 octets).
constexpr header data_header(std::uint16_t tunnel_id, std::uint16_t session_id) noexcept {
    header h;
    h.tunnel_id = tunnel_id;
    h.session_id = session_id;
    return h;
}

/// Decode the header at the start of `in`. Errors (offsets absolute in `in`):
/// truncated (where the input ran out), l2tpv3 / bad_version (offset 1),
/// reserved_bits_set and control_* (offset 0), length_exceeds_buffer /
/// length_below_header (offset 2), offset_exceeds_length (offset of Offset Size).
inline result<header> decode_header(bytes_view in, parse_options opt = {}) noexcept {
    reader r(in);
    const std::uint16_t w = r.u16();
    if (!r) return r.fail(errc::truncated, "flags");
    const unsigned ver = w & flags::version;
    if (ver == 3) return error(errc::l2tpv3, 1, "Ver");
    if (ver != version2) return error(errc::bad_version, 1, "Ver");
    if (!opt.ignore_reserved_bits && (w & flags::reserved))
        return error(errc::reserved_bits_set, 0, "flags");
    header h;
    h.control = (w & flags::type) != 0;
    h.has_length = (w & flags::length) != 0;
    h.has_sequence = (w & flags::sequence) != 0;
    h.has_offset = (w & flags::offset) != 0;
    h.priority = (w & flags::priority) != 0;
    if (h.control) {
        if (!h.has_length) return error(errc::control_without_length, 0, "L bit");
        if (!h.has_sequence) return error(errc::control_without_sequence, 0, "S bit");
        if (h.has_offset) return error(errc::control_with_offset, 0, "O bit");
        if (h.priority) return error(errc::control_with_priority, 0, "P bit");
    }
    if (h.has_length) h.length = r.u16();
    if (!r) return r.fail(errc::truncated, "Length");
    h.tunnel_id = r.u16();
    if (!r) return r.fail(errc::truncated, "Tunnel ID");
    h.session_id = r.u16();
    if (!r) return r.fail(errc::truncated, "Session ID");
    if (h.has_sequence) {
        h.ns = r.u16();
        if (!r) return r.fail(errc::truncated, "Ns");
        h.nr = r.u16();
        if (!r) return r.fail(errc::truncated, "Nr");
    }
    std::size_t offset_field_at = 0;
    if (h.has_offset) {
        offset_field_at = r.offset();
        h.offset_size = r.u16();
        if (!r) return r.fail(errc::truncated, "Offset Size");
    }
    const std::size_t fixed = r.offset();
    std::size_t extent = in.size();
    if (h.has_length) {
        if (h.length > in.size()) return error(errc::length_exceeds_buffer, 2, "Length");
        if (h.length < fixed) return error(errc::length_below_header, 2, "Length");
        extent = h.length;
    } else {
        // Without L the message is the whole datagram; record its size when it fits.
        h.length =
            static_cast<std::uint16_t>(in.size() > max_message_size ? max_message_size : in.size());
    }
    if (h.has_offset && fixed + h.offset_size > extent)
        return error(errc::offset_exceeds_length, offset_field_at, "Offset Size");
    h.size = fixed + h.offset_size;
    return h;
}

/// Encode `h` (Length written as h.length; offset pad zero-filled). Returns the
/// number of octets written or l2sec::errc::buffer_too_small.
inline result<std::size_t> encode_header(const header& h, writer& w) noexcept {
    const std::size_t start = w.size();
    w.u16(h.flags_word());
    if (h.has_length) w.u16(h.length);
    w.u16(h.tunnel_id);
    w.u16(h.session_id);
    if (h.has_sequence) {
        w.u16(h.ns);
        w.u16(h.nr);
    }
    if (h.has_offset) {
        w.u16(h.offset_size);
        w.fill(h.offset_size);
    }
    if (!w) return w.finish("L2TP header").error();
    return w.size() - start;
}

/// A data message: its header and the PPP frame it carries (a view into the
/// datagram, no copy). `payload_offset` is where the payload starts.
struct data_view {
    l2tp::header header;
    bytes_view payload;
    std::size_t payload_offset = 0;
};

/// Decode a data message (T=0); a control message gives errc::not_data at 0.
inline result<data_view> parse_data(bytes_view in, parse_options opt = {}) noexcept {
    auto h = decode_header(in, opt);
    if (!h) return h.error();
    if (h->control) return error(errc::not_data, 0, "T bit");
    const std::size_t end = h->has_length ? h->length : in.size();
    data_view d;
    d.header = *h;
    d.payload_offset = h->size;
    d.payload = in.subspan(h->size, end - h->size);
    return d;
}

/// A data message as the datapath needs it: the first header word, the IDs,
/// Ns/Nr (S=1) and the payload, a view into the datagram.
struct data_message {
    std::uint16_t flags = 0;  ///< the first header word (L, S, O, P, Ver)
    std::uint16_t tunnel_id = 0;
    std::uint16_t session_id = 0;
    std::uint16_t ns = 0;
    std::uint16_t nr = 0;
    bytes_view payload;

    constexpr bool has_length() const noexcept { return (flags & flags::length) != 0; }
    constexpr bool has_sequence() const noexcept { return (flags & flags::sequence) != 0; }
};

namespace detail {
// What the fast path does not take (errors, control messages) goes through
// the general decoder, so both paths give the same answer by construction.
inline result<data_message> decode_data_general(bytes_view in, parse_options opt) noexcept {
    auto h = decode_header(in, opt);
    if (!h) return h.error();
    if (h->control) return error(errc::not_data, 0, "T bit");
    data_message d;
    d.flags = load_be16(in.data());
    d.tunnel_id = h->tunnel_id;
    d.session_id = h->session_id;
    d.ns = h->ns;
    d.nr = h->nr;
    const std::size_t end = h->has_length ? h->length : in.size();
    d.payload = in.subspan(h->size, end - h->size);
    return d;
}
}  // namespace detail

/// The data fast path: a well-formed data message (T=0) is located with a
/// few loads and compares (one mask for T, Ver and the reserved bits; the
/// optional fields' size from the L, S, O bits; the Length and Offset bounds),
/// without building a `header`. Anything else goes to decode_header(), so the
/// answer is parse_data()'s in every case: the same payload view, or the same
/// error (code, offset, field); a valid control message gives errc::not_data.
inline result<data_message> decode_data(bytes_view in, parse_options opt = {}) noexcept {
    const std::size_t n = in.size();
    const std::byte* p = in.data();
    const std::uint16_t must = opt.ignore_reserved_bits
                                   ? std::uint16_t{flags::type | flags::version}
                                   : std::uint16_t{flags::type | flags::version | flags::reserved};
    if (n >= 6) {
        const std::uint16_t w = load_be16(p);
        // L moves what follows by 2; S adds Ns, Nr (4); O adds Offset Size (2).
        const std::size_t l = (w >> 13) & 2u;
        const std::size_t at = 6 + l + ((w >> 9) & 4u) + ((w >> 8) & 2u);
        if ((w & must) == version2 && n >= at) {
            data_message d;
            d.flags = w;
            d.tunnel_id = load_be16(p + 2 + l);
            d.session_id = load_be16(p + 4 + l);
            if (w & flags::sequence) {
                d.ns = load_be16(p + 6 + l);
                d.nr = load_be16(p + 8 + l);
            }
            const std::size_t extent = l ? load_be16(p + 2) : n;
            const std::size_t start = (w & flags::offset) ? at + load_be16(p + at - 2) : at;
            if (extent <= n && extent >= at && start <= extent) {
                d.payload = bytes_view(p + start, extent - start);
                return d;
            }
        }
    }
    return detail::decode_data_general(in, opt);
}

/// Write a data header for a payload of `payload_size` octets at the start of
/// `out` (e.g. the headroom in front of a PPP frame). When h.has_length the
/// Length field is computed (header + payload). Returns the header size.
inline result<std::size_t> write_data_header(mutable_bytes out, header h,
                                             std::size_t payload_size) noexcept {
    h.control = false;
    const std::size_t total = h.encoded_size() + payload_size;
    if (h.has_length) {
        if (total > max_message_size) return error(l2sec::errc::invalid_argument, 2, "Length");
        h.length = static_cast<std::uint16_t>(total);
    }
    writer w(out);
    return encode_header(h, w);
}

}  // namespace l2sec::l2tp
