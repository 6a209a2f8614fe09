// L2TPv2 messages: parse() gives a view over a control or data message (header,
// AVPs, message type, payload); message_builder writes a control message into
// a caller's buffer (header with L and S set, Ns/Nr, Length patched at the end).
//
//   auto msg = l2sec::l2tp::parse(datagram);
//   if (!msg) return log(msg.error());
//   if (msg->is_control() && !msg->is_zlb())
//       for (l2sec::l2tp::avp_view avp : msg->avps()) ...
//
//   std::array<std::byte, 256> buf;
//   l2sec::l2tp::message_builder b(buf, tunnel_id, 0, ns, nr);
//   b.add(avps::message_type{message_type::sccrq})
//    .add(avps::protocol_version{})
//    .add(avps::host_name{as_bytes("lac")});
//   auto bytes = b.finish();   // result<bytes_view>
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/error.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/l2tp/avp.hpp>
#include <l2sec/l2tp/avp_values.hpp>
#include <l2sec/l2tp/error.hpp>
#include <l2sec/l2tp/header.hpp>
#include <l2sec/l2tp/hidden.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec::l2tp {

/// A parsed L2TP message, control or data: a view into the datagram.
class message_view {
  public:
    message_view() = default;
    message_view(const l2tp::header& h, bytes_view bytes, avp_range avps,
                 l2tp::message_type t) noexcept
        : hdr_(h), bytes_(bytes), avps_(avps), type_(t) {}

    const l2tp::header& hdr() const noexcept { return hdr_; }
    bool is_control() const noexcept { return hdr_.control; }
    /// A control message with no AVPs: a Zero-Length Body acknowledgement.
    bool is_zlb() const noexcept { return hdr_.control && avps_.empty(); }
    /// The Message Type (first AVP); meaningful only when is_control() && !is_zlb().
    l2tp::message_type type() const noexcept { return type_; }
    /// "SCCRQ", ..., "ZLB" for a ZLB, "DATA" for a data message.
    const char* type_name() const noexcept {
        if (!hdr_.control) return "DATA";
        if (is_zlb()) return zlb_name;
        return to_string(type_);
    }
    /// The AVPs of a control message (empty for data messages and ZLBs).
    const avp_range& avps() const noexcept { return avps_; }
    /// The payload of a data message (empty for control messages).
    bytes_view payload() const noexcept {
        return hdr_.control ? bytes_view{} : bytes_.subspan(hdr_.size);
    }
    /// The whole message (up to Length; trailing datagram bytes excluded).
    bytes_view bytes() const noexcept { return bytes_; }

    std::optional<avp_view> find(avp_type t) const noexcept { return avps_.find(t); }
    std::optional<avp_view> find(std::uint16_t vendor, std::uint16_t type) const noexcept {
        return avps_.find(vendor, type);
    }
    /// The typed value of the first IETF AVP of V's type: missing_avp (offset =
    /// message end, field = AVP name) if absent, otherwise as decode<V>().
    template <avps::avp_value V>
    result<V> get() const noexcept {
        auto a = avps_.find(V::type);
        if (!a) return error(errc::missing_avp, bytes_.size(), to_string(V::type));
        return decode<V>(*a);
    }
    /// As get<V>(), unhiding the AVP first when its H bit is set (RFC 2661
    /// 4.3) with `md5` and `secret` into `scratch` (which must outlive
    /// byte/string values taken from the result). Errors of unhide() are
    /// returned as is.
    template <avps::avp_value V, crypto::hash_context H>
    result<V> get(H& md5, bytes_view secret, mutable_bytes scratch) const noexcept {
        auto a = avps_.find(V::type);
        if (!a) return error(errc::missing_avp, bytes_.size(), to_string(V::type));
        auto p = unhide(md5, *a, secret, scratch);
        if (!p) return p.error();
        return V::decode(*p, a->offset());
    }

  private:
    l2tp::header hdr_{};
    bytes_view bytes_{};
    avp_range avps_{};
    l2tp::message_type type_{};
};

/// Parse a control or data message. For control messages every AVP length is
/// checked (see parse_avps) and, unless the body is empty (a ZLB), the first AVP
/// must be the Message Type (first_avp_not_message_type at its offset; a value
/// other than 2 octets is bad_avp_size). Header errors are as decode_header.
inline result<message_view> parse(bytes_view in, parse_options opt = {}) noexcept {
    auto h = decode_header(in, opt);
    if (!h) return h.error();
    const std::size_t end = h->has_length ? h->length : in.size();
    bytes_view msg = in.first(end);
    if (!h->control) return message_view(*h, msg, avp_range(), {});
    auto avps = parse_avps(msg.subspan(h->size), h->size, opt);
    if (!avps) return avps.error();
    message_type t{};
    if (!avps->empty()) {
        avp_view first = *avps->begin();
        if (!first.is(avp_type::message_type))
            return error(errc::first_avp_not_message_type, first.offset(), "Message Type");
        auto mt = avps::message_type::decode(first.value(), first.offset());
        if (!mt) return mt.error();
        t = mt->value;
    }
    return message_view(*h, msg, *avps, t);
}

/// Parse a control message only (a data message gives errc::not_control at 0).
inline result<message_view> parse_control(bytes_view in, parse_options opt = {}) noexcept {
    auto m = parse(in, opt);
    if (m && !m->is_control()) return error(errc::not_control, 0, "T bit");
    return m;
}

/// Writes one control message into a caller's buffer. Calls chain; the first
/// failure sticks and finish() reports it: l2sec::errc::buffer_too_small (at
/// the offset where the buffer ran out), l2sec::errc::invalid_argument (an AVP
/// over 1023 octets, or a message over 65535), errc::hidden_without_random_vector
/// (add_hidden before any Random Vector), errc::hash_not_md5 (add_hidden
/// with a digest that is not MD5-sized). Allocation-free.
class message_builder {
  public:
    /// Starts the header (T, L, S set, Ver 2) for the given IDs and sequence numbers.
    message_builder(mutable_bytes out, std::uint16_t tunnel_id, std::uint16_t session_id,
                    std::uint16_t ns, std::uint16_t nr) noexcept
        : w_(out) {
        header h = control_header(tunnel_id, session_id, ns, nr);
        (void)encode_header(h, w_);
    }

    /// Add a typed AVP with the M bit RFC 2661 prescribes for it.
    template <avps::avp_value V>
    message_builder& add(const V& v) noexcept {
        return add(v, default_mandatory(V::type));
    }
    /// Add a typed AVP with an explicit M bit.
    template <avps::avp_value V>
    message_builder& add(const V& v, bool mandatory) noexcept {
        const std::size_t at =
            begin_avp(mandatory, false, ietf_vendor, static_cast<std::uint16_t>(V::type));
        v.encode(w_);
        end_avp(at);
        if constexpr (V::type == avp_type::random_vector) note_random_vector(at);
        return *this;
    }
    /// Add a hidden typed AVP (RFC 2661 4.3) using the last Random Vector AVP
    /// added to this message, hidden with `md5` (a crypto::hash_context from
    /// the backend) and `secret`; `padding` (random octets, may be empty) is
    /// appended to hide the value's length.
    template <crypto::hash_context H, avps::avp_value V>
    message_builder& add_hidden(H& md5, const V& v, bytes_view secret,
                                bytes_view padding = {}) noexcept {
        return add_hidden(md5, v, secret, padding, default_mandatory(V::type));
    }
    template <crypto::hash_context H, avps::avp_value V>
    message_builder& add_hidden(H& md5, const V& v, bytes_view secret, bytes_view padding,
                                bool mandatory) noexcept {
        return hidden_avp(md5, static_cast<std::uint16_t>(V::type), mandatory, secret, padding,
                          v.size(), [&](writer& w) { v.encode(w); });
    }
    /// Hide raw plain octets as IETF attribute `type` (for attributes whose value
    /// the caller already holds encoded). Same rules as add_hidden.
    template <crypto::hash_context H>
    message_builder& add_hidden_raw(H& md5, std::uint16_t type, bytes_view plain, bytes_view secret,
                                    bytes_view padding = {}, bool mandatory = true) noexcept {
        return hidden_avp(md5, type, mandatory, secret, padding, plain.size(),
                          [&](writer& w) { w.bytes(plain); });
    }
    /// Add an AVP given as raw octets (vendor-specific or unknown attributes,
    /// or a value already hidden). A raw IETF Random Vector is remembered too.
    message_builder& add_raw(std::uint16_t vendor, std::uint16_t type, bytes_view value,
                             bool mandatory = false, bool hidden = false) noexcept {
        const std::size_t at = begin_avp(mandatory, hidden, vendor, type);
        w_.bytes(value);
        end_avp(at);
        if (vendor == ietf_vendor && type == static_cast<std::uint16_t>(avp_type::random_vector))
            note_random_vector(at);
        return *this;
    }

    /// Octets written so far.
    std::size_t size() const noexcept { return w_.size(); }
    bool ok() const noexcept { return !failed_; }

    /// Patch the Length field and return the message (a view into the buffer).
    /// With no AVP added the message is a ZLB.
    result<bytes_view> finish() noexcept {
        if (failed_) return err_;
        if (!w_) return w_.finish("L2TP message").error();
        if (w_.size() > max_message_size) return error(l2sec::errc::invalid_argument, 2, "Length");
        w_.patch_u16(2, static_cast<std::uint16_t>(w_.size()));
        return bytes_view(w_.written());
    }

  private:
    template <crypto::hash_context H, class Write>
    message_builder& hidden_avp(H& md5, std::uint16_t type, bool mandatory, bytes_view secret,
                                bytes_view padding, std::size_t plain_size,
                                Write&& write) noexcept {
        const char* name = avp_name(ietf_vendor, type);
        if (ok() && (rv_size_ == 0 || must_not_hide(ietf_vendor, type))) {
            fail(
                error(rv_size_ == 0 ? errc::hidden_without_random_vector : errc::must_not_be_hidden,
                      w_.size(), name));
            return *this;
        }
        const std::size_t at = begin_avp(mandatory, true, ietf_vendor, type);
        const std::size_t sub = w_.size();
        if (plain_size > 0xFFFF) fail(error(l2sec::errc::invalid_argument, at, name));
        w_.u16(static_cast<std::uint16_t>(plain_size));
        write(w_);
        w_.bytes(padding);
        if (ok() && w_) {
            mutable_bytes all = w_.written();
            if (auto h = hide_in_place(md5, type, secret, all.subspan(rv_at_, rv_size_),
                                       all.subspan(sub));
                !h)
                fail(error(h.error().code, at, name));
        }
        end_avp(at);
        return *this;
    }

    std::size_t begin_avp(bool mandatory, bool hidden, std::uint16_t vendor,
                          std::uint16_t type) noexcept {
        const std::size_t at = w_.size();
        std::uint16_t flags = 0;
        if (mandatory) flags |= avp_flags::mandatory;
        if (hidden) flags |= avp_flags::hidden;
        w_.u16(flags);
        w_.u16(vendor);
        w_.u16(type);
        return at;
    }
    void end_avp(std::size_t at) noexcept {
        if (!w_ || failed_) return;
        const std::size_t len = w_.size() - at;
        if (len > max_avp_size) {
            fail(error(l2sec::errc::invalid_argument, at, "AVP Length"));
            return;
        }
        const std::uint16_t flags = load_be16(w_.written().data() + at);
        w_.patch_u16(at, static_cast<std::uint16_t>(flags | len));
    }
    void note_random_vector(std::size_t at) noexcept {
        if (!w_ || failed_) return;
        rv_at_ = at + avp_header_size;
        rv_size_ = w_.size() - rv_at_;
    }
    void fail(const error& e) noexcept {
        if (!failed_) {
            failed_ = true;
            err_ = e;
        }
    }

    writer w_;
    std::size_t rv_at_ = 0;
    std::size_t rv_size_ = 0;
    error err_{};
    bool failed_ = false;
};

/// Write a ZLB acknowledgement (a 12-octet control header, no AVPs).
inline result<bytes_view> write_zlb(mutable_bytes out, std::uint16_t tunnel_id,
                                    std::uint16_t session_id, std::uint16_t ns,
                                    std::uint16_t nr) noexcept {
    return message_builder(out, tunnel_id, session_id, ns, nr).finish();
}

}  // namespace l2sec::l2tp
