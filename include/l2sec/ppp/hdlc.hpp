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
//       if (r.what == hdlc::event::frame) handle(r.frame);   // FCS checked and removed
//       else if (r.what != hdlc::event::need_more) log(r.error()); // bad FCS, too long, abort,
//       runt
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
    for (auto b : data)
        fcs = fcs16_update(fcs, std::to_integer<std::uint8_t>(b));
    return fcs;
}
constexpr std::uint32_t fcs32(bytes_view data, std::uint32_t fcs = fcs32_init) noexcept {
    for (auto b : data)
        fcs = fcs32_update(fcs, std::to_integer<std::uint8_t>(b));
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
// Escapes and FCS for one frame; `emit(b)` writes one raw byte.
template <class Emit>
constexpr void encode_body(bytes_view frame, const encode_options& o, Emit&& emit) noexcept {
    auto put = [&](std::uint8_t b) {
        if (needs_escape(b, o.accm)) {
            emit(control_escape);
            emit(static_cast<std::uint8_t>(b ^ escape_xor));
        } else {
            emit(b);
        }
    };
    if (o.leading_flag) emit(flag);
    if (o.fcs == fcs_kind::fcs16) {
        std::uint16_t f = fcs16_init;
        for (auto x : frame) {
            const auto b = std::to_integer<std::uint8_t>(x);
            f = fcs16_update(f, b);
            put(b);
        }
        f = static_cast<std::uint16_t>(~f);
        put(static_cast<std::uint8_t>(f));
        put(static_cast<std::uint8_t>(f >> 8));
    } else {
        std::uint32_t f = fcs32_init;
        for (auto x : frame) {
            const auto b = std::to_integer<std::uint8_t>(x);
            f = fcs32_update(f, b);
            put(b);
        }
        f = ~f;
        for (int i = 0; i < 4; ++i)
            put(static_cast<std::uint8_t>(f >> (8 * i)));
    }
    emit(flag);
}
}  // namespace detail

/// Encode one frame: [7E] escaped(frame + FCS little-endian) 7E. Returns the
/// encoded size or buffer_too_small (at the offset where it ran out).
inline result<std::size_t> encode(mutable_bytes out, bytes_view frame,
                                  encode_options o = {}) noexcept {
    if (out.size() >= max_encoded_size(frame.size(), o.fcs)) {
        // Fast path: the worst case fits, no per-byte bounds checks.
        std::byte* p = out.data();
        detail::encode_body(frame, o, [&](std::uint8_t b) { *p++ = std::byte{b}; });
        return static_cast<std::size_t>(p - out.data());
    }
    writer w(out);
    detail::encode_body(frame, o, [&](std::uint8_t b) { w.u8(b); });
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
        : buf_(buffer), fcs_(fcs), rx_accm_(receive_accm) {
        reset_frame();
    }

    /// Consume input until a frame or an error completes, or the input ends.
    constexpr feed_result feed(bytes_view in) noexcept {
        std::size_t i = 0;
        while (i < in.size()) {
            const auto b = std::to_integer<std::uint8_t>(in[i++]);
            ++stream_;
            if (b == flag) {
                auto r = close_frame();
                if (r.what != event::need_more) {
                    r.consumed = i;
                    r.offset = stream_ - 1;
                    return r;
                }
                continue;
            }
            if (b < 0x20 && ((rx_accm_ >> b) & 1u) != 0) continue;
            if (b == control_escape) {
                escaped_ = true;
                continue;
            }
            push(escaped_ ? static_cast<std::uint8_t>(b ^ escape_xor) : b);
            escaped_ = false;
        }
        return {event::need_more, in.size(), {}, stream_};
    }

    /// Drop any partial frame (e.g. after a line reset).
    constexpr void reset() noexcept { reset_frame(); }
    /// Bytes fed so far (error offsets count from 0 at construction).
    constexpr std::size_t stream_offset() const noexcept { return stream_; }
    constexpr fcs_kind fcs() const noexcept { return fcs_; }
    /// Switch FCS or receive ACCM after LCP negotiation (applies from the next frame).
    constexpr void set_fcs(fcs_kind k) noexcept { fcs_ = k; }
    constexpr void set_receive_accm(std::uint32_t accm) noexcept { rx_accm_ = accm; }

  private:
    constexpr void push(std::uint8_t b) noexcept {
        ++count_;
        if (len_ < buf_.size())
            buf_[len_++] = std::byte{b};
        else
            overflow_ = true;
        if (fcs_ == fcs_kind::fcs16)
            f16_ = fcs16_update(f16_, b);
        else
            f32_ = fcs32_update(f32_, b);
    }
    constexpr void reset_frame() noexcept {
        len_ = 0;
        count_ = 0;
        overflow_ = false;
        escaped_ = false;
        f16_ = fcs16_init;
        f32_ = fcs32_init;
    }
    constexpr feed_result close_frame() noexcept {
        feed_result r;
        if (escaped_)
            r.what = event::aborted;
        else if (count_ == 0)
            r.what = event::need_more;  // back-to-back flags
        else if (overflow_)
            r.what = event::too_long;
        else if (count_ < fcs_size(fcs_) + 2)
            r.what = event::runt;
        else if (fcs_ == fcs_kind::fcs16 ? f16_ != fcs16_good : f32_ != fcs32_good)
            r.what = event::bad_fcs;
        else {
            r.what = event::frame;
            r.frame = bytes_view(buf_.data(), len_ - fcs_size(fcs_));
        }
        reset_frame();
        return r;
    }

    mutable_bytes buf_;
    fcs_kind fcs_;
    std::uint32_t rx_accm_;
    std::size_t len_ = 0;
    std::size_t count_ = 0;
    std::size_t stream_ = 0;
    std::uint16_t f16_ = fcs16_init;
    std::uint32_t f32_ = fcs32_init;
    bool overflow_ = false;
    bool escaped_ = false;
};

}  // namespace l2sec::ppp::hdlc
