// RFC 1662 "HDLC-like framing" for asynchronous links (serial lines, ptys):
// flag 0x7E, control escape 0x7D with the async control character map
// (ACCM), and the 16- or 32-bit frame check sequence.
//
//   // Encode: frame = address/control + protocol + information (what
//   // ppp::encode_frame writes), output = 7E ... FCS ... 7E, escaped.
//   auto n = hdlc::encode(out, frame, {.accm = 0xffffffff});
//
//   // Decode a byte stream fed in arbitrary chunks:
//   hdlc::decoder dec(frame_buffer);                 // caller's storage, no allocation
//   while (!chunk.empty()) {
//       auto r = dec.feed(chunk);
//       chunk = chunk.subspan(r.consumed);
//       if (r.what == hdlc::event::frame) handle(r.frame);  // FCS checked and removed
//       else if (r.what != hdlc::event::need_more) log(r.error());  // bad FCS, too long, ...
//   }
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ppp/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace l2sec::ppp::hdlc {

inline constexpr std::uint8_t flag = 0x7e;
inline constexpr std::uint8_t control_escape = 0x7d;
inline constexpr std::uint8_t escape_xor = 0x20;

/// Which frame check sequence the link uses (RFC 1662 appendix C; FCS-32
/// once negotiated with LCP FCS-Alternatives). The value is its size.
enum class fcs_kind : std::uint8_t { fcs16 = 2, fcs32 = 4 };

constexpr std::size_t fcs_size(fcs_kind k) noexcept {
    return static_cast<std::size_t>(k);
}

inline constexpr std::uint16_t fcs16_init = 0xffff;
inline constexpr std::uint16_t fcs16_good = 0xf0b8;  ///< residue over data + FCS
inline constexpr std::uint32_t fcs32_init = 0xffffffff;
inline constexpr std::uint32_t fcs32_good = 0xdebb20e3;

namespace detail {
// Reflected CRC tables (x^16 + x^12 + x^5 + 1 -> 0x8408; CRC-32 -> 0xEDB88320),
// computed at compile time.
template <class T, T Poly>
constexpr std::array<T, 256> make_table() noexcept {
    std::array<T, 256> t{};
    for (unsigned b = 0; b < 256; ++b) {
        T v = static_cast<T>(b);
        for (int i = 0; i < 8; ++i)
            v = static_cast<T>((v & 1u) ? (v >> 1) ^ Poly : (v >> 1));
        t[b] = v;
    }
    return t;
}
inline constexpr auto fcs16_table = make_table<std::uint16_t, 0x8408>();
inline constexpr auto fcs32_table = make_table<std::uint32_t, 0xedb88320u>();

// Slicing-by-4: slice k is the effect of a byte followed by k zero bytes, so
// four independent lookups advance the CRC by four bytes.
template <class T>
constexpr std::array<std::array<T, 256>, 4> make_slices(const std::array<T, 256>& t0) noexcept {
    std::array<std::array<T, 256>, 4> s{};
    s[0] = t0;
    for (std::size_t k = 1; k < 4; ++k)
        for (std::size_t b = 0; b < 256; ++b)
            s[k][b] = static_cast<T>((s[k - 1][b] >> 8) ^ t0[s[k - 1][b] & 0xffu]);
    return s;
}
inline constexpr auto fcs16_slices = make_slices(fcs16_table);
inline constexpr auto fcs32_slices = make_slices(fcs32_table);

constexpr std::uint32_t byte_at(bytes_view d, std::size_t i) noexcept {
    return std::to_integer<std::uint32_t>(d[i]);
}
}  // namespace detail

/// One FCS-16 step over byte `b`.
constexpr std::uint16_t fcs16_update(std::uint16_t fcs, std::uint8_t b) noexcept {
    return static_cast<std::uint16_t>((fcs >> 8) ^ detail::fcs16_table[(fcs ^ b) & 0xffu]);
}
constexpr std::uint32_t fcs32_update(std::uint32_t fcs, std::uint8_t b) noexcept {
    return (fcs >> 8) ^ detail::fcs32_table[(fcs ^ b) & 0xffu];
}
/// Running FCS-16 over `data` (not complemented): the transmitted FCS is
/// ~fcs16(frame), and fcs16(frame + FCS) == fcs16_good for a good frame.
constexpr std::uint16_t fcs16(bytes_view data, std::uint16_t fcs = fcs16_init) noexcept {
    using detail::byte_at;
    constexpr const auto& s = detail::fcs16_slices;
    std::size_t i = 0;
    for (; i + 4 <= data.size(); i += 4) {
        const std::uint32_t c = fcs ^ std::uint32_t{load_le16(data.data() + i)};
        fcs = static_cast<std::uint16_t>(s[3][c & 0xffu] ^ s[2][c >> 8] ^
                                         s[1][byte_at(data, i + 2)] ^ s[0][byte_at(data, i + 3)]);
    }
    for (; i < data.size(); ++i)
        fcs = fcs16_update(fcs, std::to_integer<std::uint8_t>(data[i]));
    return fcs;
}
/// Running FCS-32 over `data` (not complemented); good residue fcs32_good.
constexpr std::uint32_t fcs32(bytes_view data, std::uint32_t fcs = fcs32_init) noexcept {
    constexpr const auto& s = detail::fcs32_slices;
    std::size_t i = 0;
    for (; i + 4 <= data.size(); i += 4) {
        const std::uint32_t c = fcs ^ load_le32(data.data() + i);
        fcs = s[3][c & 0xffu] ^ s[2][(c >> 8) & 0xffu] ^ s[1][(c >> 16) & 0xffu] ^ s[0][c >> 24];
    }
    for (; i < data.size(); ++i)
        fcs = fcs32_update(fcs, std::to_integer<std::uint8_t>(data[i]));
    return fcs;
}

/// Whether byte `b` must be escaped under `accm` (bit n = character n, for
/// n < 0x20); the flag and the escape are always escaped.
constexpr bool needs_escape(std::uint8_t b, std::uint32_t accm) noexcept {
    return b == flag || b == control_escape || (b < 0x20 && ((accm >> b) & 1u) != 0);
}

struct encode_options {
    std::uint32_t accm = 0xffffffff;  ///< the peer's receive ACCM (default: all escaped)
    fcs_kind fcs = fcs_kind::fcs16;
    bool leading_flag = true;  ///< omit when the previous frame's closing flag serves
};

/// Worst-case encoded size of a `frame_size`-byte frame (everything escaped).
constexpr std::size_t max_encoded_size(std::size_t frame_size,
                                       fcs_kind k = fcs_kind::fcs16) noexcept {
    return 2 + 2 * (frame_size + fcs_size(k));
}

namespace detail {
// The complemented FCS of `frame` as the little-endian bytes to transmit.
constexpr std::array<std::byte, 4> fcs_bytes(bytes_view frame, fcs_kind k) noexcept {
    const std::uint32_t f =
        k == fcs_kind::fcs16 ? static_cast<std::uint16_t>(~fcs16(frame)) : ~fcs32(frame);
    return {std::byte{static_cast<std::uint8_t>(f)}, std::byte{static_cast<std::uint8_t>(f >> 8)},
            std::byte{static_cast<std::uint8_t>(f >> 16)},
            std::byte{static_cast<std::uint8_t>(f >> 24)}};
}
}  // namespace detail

/// Encode one frame: [7E] escaped(frame + FCS little-endian) 7E. Returns the
/// encoded size or buffer_too_small (at the offset where it ran out).
inline result<std::size_t> encode(mutable_bytes out, bytes_view frame,
                                  encode_options o = {}) noexcept {
    const auto fcs_all = detail::fcs_bytes(frame, o.fcs);
    const bytes_view fcs = bytes_view(fcs_all).first(fcs_size(o.fcs));
    if (out.size() >= max_encoded_size(frame.size(), o.fcs)) {
        // Fast path, the worst case fits: no bounds checks, and branch-free
        // escaping (always store the escaped pair, advance by one or two).
        std::byte* p = out.data();
        if (o.leading_flag) *p++ = std::byte{flag};
        auto put = [&](bytes_view bytes) {
            for (auto x : bytes) {
                const auto b = std::to_integer<std::uint8_t>(x);
                const bool esc = needs_escape(b, o.accm);
                p[0] = esc ? std::byte{control_escape} : x;
                p[1] = x ^ std::byte{escape_xor};
                p += esc ? 2 : 1;
            }
        };
        put(frame);
        put(fcs);
        *p++ = std::byte{flag};
        return static_cast<std::size_t>(p - out.data());
    }
    writer w(out);
    auto put = [&](bytes_view bytes) {
        for (auto x : bytes) {
            const auto b = std::to_integer<std::uint8_t>(x);
            if (needs_escape(b, o.accm)) {
                w.u8(control_escape);
                w.u8(static_cast<std::uint8_t>(b ^ escape_xor));
            } else {
                w.u8(b);
            }
        }
    };
    if (o.leading_flag) w.u8(flag);
    put(frame);
    put(fcs);
    w.u8(flag);
    return w.finish("HDLC frame");
}

/// What one decoder::feed() call produced.
enum class event : std::uint8_t {
    need_more,  ///< all input consumed, no frame completed yet
    frame,      ///< a good frame (FCS verified and stripped) is in `frame`
    bad_fcs,    ///< a frame ended whose FCS did not verify (discarded)
    too_long,   ///< a frame ended that did not fit the buffer (discarded)
    aborted,    ///< 7D 7E: the sender aborted the frame (discarded)
    runt,       ///< a frame shorter than RFC 1662 4.3's minimum (discarded)
};

/// "need_more", "frame", "bad_fcs", "too_long", "aborted", "runt".
constexpr const char* event_name(event e) noexcept {
    switch (e) {
        case event::need_more:
            return "need_more";
        case event::frame:
            return "frame";
        case event::bad_fcs:
            return "bad_fcs";
        case event::too_long:
            return "too_long";
        case event::aborted:
            return "aborted";
        case event::runt:
            return "runt";
    }
    return nullptr;
}

struct feed_result {
    event what = event::need_more;
    std::size_t consumed = 0;  ///< bytes of the input used (up to and including the closing flag)
    bytes_view frame;          ///< event::frame: the frame, valid until the next feed()
    std::size_t offset = 0;    ///< stream offset of the closing flag (for errors)

    /// The event as an error (errc::bad_fcs, frame_too_long, frame_aborted,
    /// runt_frame) at the stream offset of the closing flag.
    l2sec::error error() const noexcept {
        switch (what) {
            case event::bad_fcs:
                return {errc::bad_fcs, offset, "HDLC FCS"};
            case event::too_long:
                return {errc::frame_too_long, offset, "HDLC frame"};
            case event::aborted:
                return {errc::frame_aborted, offset, "HDLC frame"};
            case event::runt:
                return {errc::runt_frame, offset, "HDLC frame"};
            default:
                return {};
        }
    }
};

/// Incremental async-HDLC decoder. Holds no storage of its own: unescaped
/// bytes (frame + FCS) go into the caller's buffer, so the largest frame it
/// accepts is buffer.size() - fcs_size(). Bytes before the first flag are
/// treated as a frame (a stream may start without a flag).
class decoder {
  public:
    /// `receive_accm`: control characters in this map that arrive unescaped
    /// are dropped (RFC 1662 7.1: inserted by the DCE). Default 0: keep all.
    constexpr explicit decoder(mutable_bytes buffer, fcs_kind fcs = fcs_kind::fcs16,
                               std::uint32_t receive_accm = 0) noexcept
        : buf_(buffer), fcs_(fcs), rx_accm_(receive_accm) {}

    /// Consume input until a frame or an error completes, or the input ends.
    /// Unescaped bytes collect in the buffer; the FCS is checked (sliced, 4
    /// bytes at a time) when the closing flag arrives.
    constexpr feed_result feed(bytes_view in) noexcept {
        const std::size_t start = stream_;
        for (std::size_t i = 0; i < in.size(); ++i) {
            auto b = std::to_integer<std::uint8_t>(in[i]);
            if (b <= flag && (b == flag || b == control_escape || b < 0x20)) {
                if (b == flag) {
                    auto r = close_frame();
                    if (r.what == event::need_more) continue;  // idle/shared flag
                    stream_ = start + i + 1;
                    r.consumed = i + 1;
                    r.offset = start + i;
                    return r;
                }
                if (b == control_escape) {
                    escaped_ = true;
                    continue;
                }
                if (((rx_accm_ >> b) & 1u) != 0) continue;  // inserted by the DCE
            }
            if (escaped_) {
                b = static_cast<std::uint8_t>(b ^ escape_xor);
                escaped_ = false;
            }
            if (len_ < buf_.size())
                buf_[len_++] = std::byte{b};
            else
                overflow_ = true;
        }
        stream_ = start + in.size();
        return {event::need_more, in.size(), {}, stream_};
    }

    /// Drop any partial frame (e.g. after a line reset).
    constexpr void reset() noexcept { reset_frame(); }
    /// Bytes fed so far (error offsets count from 0 at construction).
    constexpr std::size_t stream_offset() const noexcept { return stream_; }
    constexpr fcs_kind fcs() const noexcept { return fcs_; }
    /// Switch FCS or receive ACCM after LCP negotiation (the FCS applies to
    /// the next frame that closes, the ACCM to the next byte).
    constexpr void set_fcs(fcs_kind k) noexcept { fcs_ = k; }
    constexpr void set_receive_accm(std::uint32_t accm) noexcept { rx_accm_ = accm; }

  private:
    constexpr void reset_frame() noexcept {
        len_ = 0;
        overflow_ = false;
        escaped_ = false;
    }
    constexpr feed_result close_frame() noexcept {
        feed_result r;
        const bytes_view got(buf_.data(), len_);
        if (escaped_)
            r.what = event::aborted;
        else if (overflow_)
            r.what = event::too_long;
        else if (len_ == 0)
            r.what = event::need_more;  // back-to-back flags
        else if (len_ < fcs_size(fcs_) + 2)
            r.what = event::runt;
        else if (fcs_ == fcs_kind::fcs16 ? fcs16(got) != fcs16_good : fcs32(got) != fcs32_good)
            r.what = event::bad_fcs;
        else {
            r.what = event::frame;
            r.frame = got.first(len_ - fcs_size(fcs_));
        }
        reset_frame();
        return r;
    }

    mutable_bytes buf_;
    fcs_kind fcs_;
    std::uint32_t rx_accm_;
    std::size_t len_ = 0;
    std::size_t stream_ = 0;
    bool overflow_ = false;
    bool escaped_ = false;
};

}  // namespace l2sec::ppp::hdlc
