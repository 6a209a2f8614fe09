// The packet format shared by LCP and the NCPs (RFC 1661 section 5):
//   Code(1) Identifier(1) Length(2) Data(Length-4)
// and the option list of the Configure-* packets (Type(1) Length(1) Data).
//
// One generic codec; per-protocol catalogues (lcp.hpp, ipcp.hpp, ipv6cp.hpp)
// give the typed options and the set of codes each protocol defines.
//
//   auto p = l2sec::ppp::lcp::decode(frame.information, frame_offset);
//   if (p && p->is_configure())
//       for (auto opt : p->options()) { auto typed = lcp::parse_option(opt); ... }
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ppp/detail/option_codec.hpp>
#include <l2sec/ppp/error.hpp>
#include <l2sec/ppp/frame.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <variant>

namespace l2sec::ppp {

/// Packet codes of RFC 1661 section 5 (LCP uses 1-11, the NCPs 1-7) plus
/// RFC 1570's Identification/Time-Remaining and CCP/ECP's Reset-Request/Ack.
enum class code : std::uint8_t {
    configure_request = 1,
    configure_ack = 2,
    configure_nak = 3,
    configure_reject = 4,
    terminate_request = 5,
    terminate_ack = 6,
    code_reject = 7,
    protocol_reject = 8,
    echo_request = 9,
    echo_reply = 10,
    discard_request = 11,
    identification = 12,  ///< RFC 1570 (LCP)
    time_remaining = 13,  ///< RFC 1570 (LCP)
    reset_request = 14,   ///< RFC 1962 (CCP)
    reset_ack = 15,       ///< RFC 1962 (CCP)
};

/// "configure_request", ... or nullptr for a code outside 1-15.
constexpr const char* code_name(code c) noexcept {
    switch (c) {
        case code::configure_request:
            return "configure_request";
        case code::configure_ack:
            return "configure_ack";
        case code::configure_nak:
            return "configure_nak";
        case code::configure_reject:
            return "configure_reject";
        case code::terminate_request:
            return "terminate_request";
        case code::terminate_ack:
            return "terminate_ack";
        case code::code_reject:
            return "code_reject";
        case code::protocol_reject:
            return "protocol_reject";
        case code::echo_request:
            return "echo_request";
        case code::echo_reply:
            return "echo_reply";
        case code::discard_request:
            return "discard_request";
        case code::identification:
            return "identification";
        case code::time_remaining:
            return "time_remaining";
        case code::reset_request:
            return "reset_request";
        case code::reset_ack:
            return "reset_ack";
    }
    return nullptr;
}

/// Whether `p` (a control protocol using the RFC 1661 packet format)
/// defines code `c`: LCP 1-13, CCP/ECP 1-7 and 14-15, other NCPs 1-7.
constexpr bool is_code_defined(protocol p, code c) noexcept {
    const auto v = static_cast<std::uint8_t>(c);
    if (v >= 1 && v <= 7) return true;
    if (p == protocol::lcp) return v >= 8 && v <= 13;
    if (p == protocol::ccp || p == protocol::ecp) return v == 14 || v == 15;
    return false;
}
/// code_name() restricted to the codes `p` defines (nullptr otherwise).
constexpr const char* code_name(protocol p, code c) noexcept {
    return is_code_defined(p, c) ? code_name(c) : nullptr;
}

constexpr bool is_configure_code(code c) noexcept {
    return c >= code::configure_request && c <= code::configure_reject;
}

// ---------------------------------------------------------------- options

/// One raw option: Type, the Data after the 2-byte header, and the absolute
/// offset of its Type byte (for errors and for echoing it back in a Reject).
struct option_view {
    std::uint8_t type = 0;
    bytes_view data;
    std::size_t offset = 0;
    /// The whole option (type + length + data) as it appeared on the wire:
    /// what Configure-Nak/Reject copy back. Only valid for decoded options.
    bytes_view wire;
};

/// Check an option list's Type/Length structure; `base` = absolute offset of data[0].
/// option_length_too_short / option_overrun at the offset of the bad Length byte.
inline result<void> validate_options(bytes_view data, std::size_t base = 0) noexcept {
    std::size_t i = 0;
    while (i < data.size()) {
        if (data.size() - i < 2) return error(errc::option_overrun, base + i, "option header");
        const std::size_t len = std::to_integer<std::size_t>(data[i + 1]);
        if (len < 2) return error(errc::option_length_too_short, base + i + 1, "option length");
        if (len > data.size() - i)
            return error(errc::option_overrun, base + i + 1, "option length");
        i += len;
    }
    return {};
}

/// Forward range over an option list. Iteration stops at the first malformed
/// option (run validate_options() first, as the packet decoders do).
class option_range {
  public:
    class iterator {
      public:
        using value_type = option_view;
        using difference_type = std::ptrdiff_t;
        using iterator_category = std::forward_iterator_tag;
        using reference = option_view;
        using pointer = void;

        constexpr iterator() noexcept = default;
        constexpr iterator(bytes_view d, std::size_t base, std::size_t pos) noexcept
            : data_(d), base_(base), pos_(pos) {
            load();
        }
        constexpr option_view operator*() const noexcept { return cur_; }
        constexpr iterator& operator++() noexcept {
            pos_ = next_;
            load();
            return *this;
        }
        constexpr iterator operator++(int) noexcept {
            auto t = *this;
            ++*this;
            return t;
        }
        friend constexpr bool operator==(const iterator& a, const iterator& b) noexcept {
            return a.pos_ == b.pos_;
        }

      private:
        constexpr void load() noexcept {
            if (pos_ >= data_.size()) {
                pos_ = data_.size();
                return;
            }
            const std::size_t left = data_.size() - pos_;
            const std::size_t len = left >= 2 ? std::to_integer<std::size_t>(data_[pos_ + 1]) : 0;
            if (len < 2 || len > left) {  // malformed: end here
                pos_ = data_.size();
                return;
            }
            cur_.type = std::to_integer<std::uint8_t>(data_[pos_]);
            cur_.data = data_.subspan(pos_ + 2, len - 2);
            cur_.wire = data_.subspan(pos_, len);
            cur_.offset = base_ + pos_;
            next_ = pos_ + len;
        }

        bytes_view data_{};
        std::size_t base_ = 0;
        std::size_t pos_ = 0;
        std::size_t next_ = 0;
        option_view cur_{};
    };

    constexpr option_range() noexcept = default;
    constexpr option_range(bytes_view data, std::size_t base = 0) noexcept
        : data_(data), base_(base) {}
    constexpr iterator begin() const noexcept { return {data_, base_, 0}; }
    constexpr iterator end() const noexcept { return {data_, base_, data_.size()}; }
    constexpr bool empty() const noexcept { return data_.empty(); }
    constexpr bytes_view bytes() const noexcept { return data_; }

  private:
    bytes_view data_{};
    std::size_t base_ = 0;
};

// ---------------------------------------------------------------- packets

/// A control packet: header fields plus the Data (Length - 4 bytes; any bytes
/// beyond Length are padding and ignored, RFC 1661 section 5).
struct packet_view {
    ppp::code code{};
    std::uint8_t identifier = 0;
    std::uint16_t length = 0;  ///< the Length field (header included)
    bytes_view data;           ///< Length - 4 bytes after the header
    std::size_t offset = 0;    ///< absolute offset of the Code byte

    constexpr bool is_configure() const noexcept { return is_configure_code(code); }
    /// Configure-*: the option list (validated by the protocol decoders).
    constexpr option_range options() const noexcept { return {data, offset + 4}; }
    /// Protocol-Reject: the rejected protocol (0 if too short).
    constexpr ppp::protocol rejected_protocol() const noexcept {
        return ppp::protocol{data.size() >= 2 ? load_be16(data.data()) : std::uint16_t{0}};
    }
    /// Protocol-Reject: the rejected information field.
    constexpr bytes_view rejected_information() const noexcept {
        return data.size() >= 2 ? data.subspan(2) : bytes_view{};
    }
    /// Code-Reject: the rejected packet (possibly truncated by the sender).
    constexpr bytes_view rejected_packet() const noexcept { return data; }
    /// Echo-Request/Reply, Discard-Request, Identification, Time-Remaining:
    /// the Magic-Number (0 if too short).
    constexpr std::uint32_t magic_number() const noexcept {
        return data.size() >= 4 ? load_be32(data.data()) : 0;
    }
    /// Echo/Discard: the Data after the magic number.
    constexpr bytes_view echo_data() const noexcept {
        return data.size() >= 4 ? data.subspan(4) : bytes_view{};
    }
};

/// Decode the RFC 1661 packet header of any control protocol. No check of
/// the code or the data: see lcp::decode(), ipcp::decode(), ipv6cp::decode().
/// Errors: truncated (fewer than 4 bytes), length_too_short (Length < 4),
/// length_exceeds_buffer (Length > bytes), both at the Length field.
inline result<packet_view> decode_packet(bytes_view data, std::size_t base = 0) noexcept {
    reader r(data, base);
    packet_view p;
    p.offset = base;
    p.code = ppp::code{r.u8()};
    p.identifier = r.u8();
    p.length = r.u16();
    if (!r) return r.fail(errc::truncated, "packet header");
    if (p.length < 4) return error(errc::length_too_short, base + 2, "packet length");
    if (p.length > data.size())
        return error(errc::length_exceeds_buffer, base + 2, "packet length");
    p.data = data.subspan(4, p.length - 4u);
    return p;
}

/// Decode a packet of control protocol `proto` and check what its code
/// requires: option list structure for Configure-*, 2 bytes for
/// Protocol-Reject, 4 for Echo/Discard/Identification/Time-Remaining.
/// A code the protocol does not define is NOT an error (the engine answers it
/// with a Code-Reject): check is_code_defined(proto, p.code).
inline result<packet_view> decode_control(protocol proto, bytes_view data,
                                          std::size_t base = 0) noexcept {
    auto p = decode_packet(data, base);
    if (!p) return p;
    if (!is_code_defined(proto, p->code)) return p;
    switch (p->code) {
        case code::configure_request:
        case code::configure_ack:
        case code::configure_nak:
        case code::configure_reject:
            if (auto v = validate_options(p->data, base + 4); !v) return v.error();
            break;
        case code::protocol_reject:
            if (p->data.size() < 2)
                return error(errc::length_too_short, base + 2, "Protocol-Reject");
            break;
        case code::echo_request:
        case code::echo_reply:
        case code::discard_request:
        case code::identification:
        case code::time_remaining:
            if (p->data.size() < 4) return error(errc::length_too_short, base + 2, "magic number");
            if (p->code == code::time_remaining && p->data.size() < 8)
                return error(errc::length_too_short, base + 2, "seconds remaining");
            break;
        default:
            break;
    }
    return p;
}

// ---------------------------------------------------------------- writing

/// An option of a type the catalogue does not know: kept raw so the engine
/// can Configure-Reject it.
struct unknown_option {
    std::uint8_t type = 0;
    bytes_view data;
    constexpr std::size_t data_size() const noexcept { return data.size(); }
    constexpr void encode_data(writer& w) const noexcept { w.bytes(data); }
};

/// Builds one control packet in a caller buffer: header, then options or
/// data, then finish() patches the Length.
///
///   ppp::packet_writer pw(buf, ppp::code::configure_request, id);
///   pw.option(lcp::mru{1400});
///   pw.option(lcp::magic_number{0x12345678});
///   auto n = pw.finish();   // result<size_t>: buffer_too_small if it did not fit
class packet_writer {
  public:
    packet_writer(mutable_bytes out, code c, std::uint8_t identifier) noexcept : w_(out) {
        w_.u8(static_cast<std::uint8_t>(c));
        w_.u8(identifier);
        w_.u16(0);
    }

    /// Append a typed option (any type with `type`, `data_size()` and `encode_data(writer&)`).
    template <class Opt>
    packet_writer& option(const Opt& o) noexcept {
        const std::size_t n = o.data_size();
        if (n > 253) {
            bad_ = true;
            return *this;
        }
        w_.u8(Opt::type);
        w_.u8(static_cast<std::uint8_t>(n + 2));
        o.encode_data(w_);
        return *this;
    }
    /// Append a raw option (type + data).
    packet_writer& option(std::uint8_t type, bytes_view data) noexcept {
        if (data.size() > 253) {
            bad_ = true;
            return *this;
        }
        w_.u8(type);
        w_.u8(static_cast<std::uint8_t>(data.size() + 2));
        w_.bytes(data);
        return *this;
    }
    /// Append a decoded option exactly as it was received (for Nak/Reject).
    packet_writer& option(const option_view& o) noexcept { return option(o.type, o.data); }
    packet_writer& option(const unknown_option& o) noexcept { return option(o.type, o.data); }
    /// Append whichever typed option a catalogue variant holds.
    template <class... Ts>
    packet_writer& option(const std::variant<Ts...>& v) noexcept {
        std::visit([this](const auto& o) { this->option(o); }, v);
        return *this;
    }
    packet_writer& u16(std::uint16_t v) noexcept {
        w_.u16(v);
        return *this;
    }
    packet_writer& u32(std::uint32_t v) noexcept {
        w_.u32(v);
        return *this;
    }
    packet_writer& bytes(bytes_view b) noexcept {
        w_.bytes(b);
        return *this;
    }
    /// Append as much of `b` as still fits (Code-Reject/Protocol-Reject
    /// truncate the rejected packet to the peer's MRU).
    packet_writer& bytes_truncated(bytes_view b, std::size_t max_total) noexcept {
        const std::size_t room = max_total > w_.size() ? max_total - w_.size() : 0;
        const std::size_t fit = std::min({b.size(), room, w_.remaining()});
        w_.bytes(b.first(fit));
        return *this;
    }
    std::size_t size() const noexcept { return w_.size(); }
    /// The underlying writer (for custom data).
    writer& raw() noexcept { return w_; }

    /// Patch the Length; the packet's size, buffer_too_small, or
    /// invalid_argument (an option over 255 bytes, a packet over 65535).
    result<std::size_t> finish() noexcept {
        if (bad_) return error(l2sec::errc::invalid_argument, 0, "option too long");
        if (!w_) return w_.finish("control packet");
        if (w_.size() > 0xffff) return error(l2sec::errc::invalid_argument, 0, "packet too long");
        w_.patch_u16(2, static_cast<std::uint16_t>(w_.size()));
        return w_.size();
    }

  private:
    writer w_;
    bool bad_ = false;
};

/// Terminate-Request/Ack with optional data.
inline result<std::size_t> encode_terminate(mutable_bytes out, code c, std::uint8_t id,
                                            bytes_view data = {}) noexcept {
    return packet_writer(out, c, id).bytes(data).finish();
}
/// Echo-Request/Reply or Discard-Request (LCP): magic number + data.
inline result<std::size_t> encode_echo(mutable_bytes out, code c, std::uint8_t id,
                                       std::uint32_t magic, bytes_view data = {}) noexcept {
    return packet_writer(out, c, id).u32(magic).bytes(data).finish();
}
/// Code-Reject carrying the rejected packet, truncated so the whole packet
/// stays within `max_size` (the peer's MRU).
inline result<std::size_t> encode_code_reject(mutable_bytes out, std::uint8_t id,
                                              bytes_view rejected,
                                              std::size_t max_size = 1500) noexcept {
    return packet_writer(out, code::code_reject, id).bytes_truncated(rejected, max_size).finish();
}
/// Protocol-Reject (LCP): the rejected protocol and its information field,
/// truncated to `max_size` overall.
inline result<std::size_t> encode_protocol_reject(mutable_bytes out, std::uint8_t id,
                                                  protocol rejected, bytes_view information,
                                                  std::size_t max_size = 1500) noexcept {
    return packet_writer(out, code::protocol_reject, id)
        .u16(to_underlying(rejected))
        .bytes_truncated(information, max_size)
        .finish();
}

// ---------------------------------------------------------------- catalogues

namespace detail {

// Tries each catalogue type whose `type` matches; falls back to unknown_option.
template <class Variant, class T, class... Rest>
result<Variant> parse_option_as(const option_view& o) noexcept {
    if (o.type == T::type) {
        auto v = T::decode(o.data, o.offset);
        if (!v) return v.error();
        return Variant{std::in_place_type<T>, *v};
    }
    if constexpr (sizeof...(Rest) > 0)
        return parse_option_as<Variant, Rest...>(o);
    else
        return Variant{std::in_place_type<unknown_option>, unknown_option{o.type, o.data}};
}

template <class... Ts>
struct option_catalogue {
    using variant = std::variant<Ts..., unknown_option>;
    static result<variant> parse(const option_view& o) noexcept {
        return parse_option_as<variant, Ts...>(o);
    }
};

}  // namespace detail

/// Write a typed option or unknown_option to a writer (outside packet_writer).
template <class Opt>
inline void encode_option(writer& w, const Opt& o) noexcept {
    w.u8(static_cast<std::uint8_t>(Opt::type));
    w.u8(static_cast<std::uint8_t>(o.data_size() + 2));
    o.encode_data(w);
}
inline void encode_option(writer& w, const unknown_option& o) noexcept {
    w.u8(o.type);
    w.u8(static_cast<std::uint8_t>(o.data.size() + 2));
    w.bytes(o.data);
}

}  // namespace l2sec::ppp
