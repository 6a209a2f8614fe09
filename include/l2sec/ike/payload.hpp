// The generic payload chain shared by IKEv1 and IKEv2: every payload (and
// every proposal and transform inside an SA) starts with
//   next payload (1) | flags/reserved (1) | length (2, header included)
// A payload_range walks such a chain lazily; on a bad length the iteration
// stops and error() says what and where. Data attributes (TV/TLV, RFC 2408
// §3.3) have their own lazy range. chain_writer builds chains into a writer.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ike/error.hpp>
#include <l2sec/ike/registry.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>

namespace l2sec::ike {

/// One payload (or substructure) of a chain: its generic header and body.
struct payload {
    static constexpr std::size_t header_size = 4;

    std::uint8_t type = 0;   ///< this payload's type (named by the previous one)
    std::uint8_t next = 0;   ///< the next payload's type (for SK/SKF: the first inner one)
    std::uint8_t flags = 0;  ///< byte 1: v2 critical bit (0x80) and reserved bits
    bytes_view body;         ///< the bytes after the 4-byte generic header
    std::size_t offset = 0;  ///< absolute offset of the generic header

    constexpr payload_type kind() const noexcept { return payload_type{type}; }
    constexpr bool critical() const noexcept { return flags & 0x80; }
    constexpr std::size_t body_offset() const noexcept { return offset + header_size; }
    constexpr std::size_t size() const noexcept { return body.size() + header_size; }
};

/// How a chain ends: a "next" of 0 ends it. SK (46) and SKF (53) end an IKEv2
/// chain too: their next field names the first payload inside the ciphertext.
constexpr bool ends_chain(std::uint8_t type) noexcept {
    return type == static_cast<std::uint8_t>(payload_type::sk) ||
           type == static_cast<std::uint8_t>(payload_type::skf);
}

/// The first error a lazy walk (payload_range, attribute_range) met; later
/// errors of the same walk are ignored, begin() clears it.
class walk_error {
  public:
    constexpr void clear() noexcept { ok_ = true; }
    constexpr void set(errc c, std::size_t off, const char* f) noexcept {
        if (ok_) {
            code_ = c;
            offset_ = off;
            field_ = f;
            ok_ = false;
        }
    }
    constexpr bool ok() const noexcept { return ok_; }
    error get() const noexcept { return error(code_, offset_, field_); }
    /// After a complete walk: the error, if any.
    result<void> status() const noexcept {
        if (!ok_) return get();
        return {};
    }

  private:
    errc code_{};
    std::size_t offset_ = 0;
    const char* field_ = nullptr;
    bool ok_ = true;
};

/// A lazily walked chain of generic payloads.
class payload_range {
  public:
    struct options {
        /// For substructures: every "next" must be 0 or this value (2 for
        /// proposals, 3 for transforms); 0 means any payload type.
        std::uint8_t substructure = 0;
        /// Allow bytes after the last payload (IKEv1 decrypted bodies end in padding).
        bool allow_trailing = false;
        /// Treat SK/SKF as the last payload (IKEv2 messages).
        bool sk_terminates = true;
        const char* field = "payload";
    };

    constexpr payload_range() noexcept = default;
    constexpr payload_range(bytes_view data, std::uint8_t first, std::size_t base,
                            options o) noexcept
        : data_(data), first_(first), base_(base), opt_(o) {}
    constexpr payload_range(bytes_view data, std::uint8_t first, std::size_t base) noexcept
        : payload_range(data, first, base, options{}) {}

    class iterator {
      public:
        using value_type = payload;
        using difference_type = std::ptrdiff_t;
        using reference = const payload&;
        using pointer = const payload*;
        using iterator_category = std::input_iterator_tag;

        constexpr iterator() noexcept = default;
        constexpr reference operator*() const noexcept { return cur_; }
        constexpr pointer operator->() const noexcept { return &cur_; }
        constexpr iterator& operator++() noexcept {
            step();
            return *this;
        }
        constexpr void operator++(int) noexcept { step(); }
        friend constexpr bool operator==(const iterator& a, const iterator& b) noexcept {
            return a.done_ == b.done_ && (a.done_ || a.pos_ == b.pos_);
        }

      private:
        friend class payload_range;
        constexpr iterator(const payload_range* r) noexcept : r_(r), next_type_(r->first_) {
            step();
        }
        constexpr void step() noexcept {
            if (done_) return;
            auto& o = r_->opt_;
            auto d = r_->data_;
            if (next_type_ == 0) {
                if (pos_ != d.size() && !o.allow_trailing)
                    r_->set_error(errc::trailing_data, r_->base_ + pos_, o.field);
                done_ = true;
                return;
            }
            if (d.size() - pos_ < payload::header_size) {
                r_->set_error(errc::truncated, r_->base_ + pos_, o.field);
                done_ = true;
                return;
            }
            const std::byte* p = d.data() + pos_;
            std::uint8_t nxt = std::to_integer<std::uint8_t>(p[0]);
            std::uint16_t len = load_be16(p + 2);
            if (len < payload::header_size) {
                r_->set_error(errc::payload_length_too_small, r_->base_ + pos_ + 2, o.field);
                done_ = true;
                return;
            }
            if (len > d.size() - pos_) {
                r_->set_error(errc::payload_length_overrun, r_->base_ + pos_ + 2, o.field);
                done_ = true;
                return;
            }
            if (o.substructure && nxt != 0 && nxt != o.substructure) {
                r_->set_error(errc::bad_substructure, r_->base_ + pos_, o.field);
                done_ = true;
                return;
            }
            cur_.type = next_type_;
            cur_.next = nxt;
            cur_.flags = std::to_integer<std::uint8_t>(p[1]);
            cur_.body = d.subspan(pos_ + payload::header_size, len - payload::header_size);
            cur_.offset = r_->base_ + pos_;
            pos_ += len;
            next_type_ = (o.sk_terminates && !o.substructure && ends_chain(cur_.type)) ? 0 : nxt;
            // The payload itself is good; the next step() reports what follows.
            if (next_type_ == 0 && pos_ != d.size() && !o.allow_trailing) {
                // Report trailing bytes now, but still yield this payload.
                r_->set_error(errc::trailing_data, r_->base_ + pos_, o.field);
            }
        }

        const payload_range* r_ = nullptr;
        payload cur_{};
        std::size_t pos_ = 0;
        std::uint8_t next_type_ = 0;
        bool done_ = false;
    };

    /// Begin a walk (clears any previous error).
    constexpr iterator begin() const noexcept {
        err_.clear();
        return iterator(this);
    }
    constexpr iterator end() const noexcept {
        iterator it;
        it.done_ = true;
        return it;
    }

    /// Walk the whole chain; the first error, if any.
    result<void> check() const noexcept {
        for (auto it = begin(); it != end(); ++it) {
        }
        return err_.status();
    }
    /// The error that stopped the last walk (valid when !ok()).
    constexpr bool ok() const noexcept { return err_.ok(); }
    error last_error() const noexcept { return err_.get(); }

    constexpr bytes_view data() const noexcept { return data_; }
    constexpr std::uint8_t first() const noexcept { return first_; }
    constexpr std::size_t base() const noexcept { return base_; }

  private:
    constexpr void set_error(errc c, std::size_t off, const char* f) const noexcept {
        err_.set(c, off, f);
    }

    bytes_view data_{};
    std::uint8_t first_ = 0;
    std::size_t base_ = 0;
    options opt_{};
    mutable walk_error err_;
};

/// A body that is all data, the same in both versions: IKEv1 KE, HASH, SIG,
/// Nonce, Vendor ID, NAT-D; IKEv2 Nonce, Vendor ID, EAP, SK; and any unknown type.
struct opaque {
    bytes_view data;
    static result<opaque> parse(const payload& p) noexcept { return opaque{p.body}; }
    constexpr void encode(writer& w) const noexcept { w.bytes(data); }
};

/// CERT / CR (IKEv1, RFC 2408 §3.9-3.10) and CERT / CERTREQ (IKEv2, RFC 7296
/// §3.6-3.7): the same layout in both versions, encoding + data.
struct cert {
    std::uint8_t encoding = 0;
    bytes_view data;
    static result<cert> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        cert v;
        v.encoding = r.u8();
        if (r.failed()) return r.fail(errc::truncated, "CERT encoding");
        v.data = r.rest();
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u8(encoding);
        w.bytes(data);
    }
};

/// A decoded payload view (the result of some view's parse()) written back with
/// its encode(); the decode error otherwise.
template <class View>
result<void> encode_decoded(const result<View>& r, writer& w) noexcept {
    if (!r) return r.error();
    r->encode(w);
    return {};
}

/// Only the decode result of a payload view (validation writes nothing).
template <class View>
result<void> decoded_ok(const result<View>& r) noexcept {
    if (!r) return r.error();
    return {};
}

/// `check_body` on every payload of a chain, then the chain's own error; the first.
template <class CheckBody>
result<void> check_each_body(const payload_range& chain, CheckBody check_body) noexcept {
    for (auto it = chain.begin(); it != chain.end(); ++it)
        if (auto ok = check_body(*it); !ok) return ok;
    if (!chain.ok()) return chain.last_error();
    return {};
}

/// An ISAKMP data attribute (RFC 2408 §3.3): TV (AF=1, 16-bit value) or TLV.
struct attribute {
    std::uint16_t type = 0;  ///< without the AF bit
    bool tv = true;          ///< basic (type/value) form
    std::uint16_t short_value = 0;
    bytes_view long_value;  ///< TLV value
    std::size_t offset = 0;

    /// The value as an integer (TV, or a TLV of up to 8 bytes).
    constexpr std::uint64_t value() const noexcept {
        if (tv) return short_value;
        std::uint64_t v = 0;
        for (auto b : long_value)
            v = (v << 8) | std::to_integer<std::uint8_t>(b);
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        if (tv) {
            w.u16(static_cast<std::uint16_t>(0x8000 | type));
            w.u16(short_value);
        } else {
            w.u16(type & 0x7fff);
            w.u16(static_cast<std::uint16_t>(long_value.size()));
            w.bytes(long_value);
        }
    }
    static constexpr attribute basic(std::uint16_t t, std::uint16_t v) noexcept {
        return {t, true, v, {}, 0};
    }
    static constexpr attribute variable(std::uint16_t t, bytes_view v) noexcept {
        return {t, false, 0, v, 0};
    }
};

/// Lazily decoded data attributes; stops with an error at a truncated one.
class attribute_range {
  public:
    constexpr attribute_range() noexcept = default;
    constexpr attribute_range(bytes_view data, std::size_t base) noexcept
        : data_(data), base_(base) {}

    class iterator {
      public:
        using value_type = attribute;
        using difference_type = std::ptrdiff_t;
        using reference = const attribute&;
        using pointer = const attribute*;
        using iterator_category = std::input_iterator_tag;

        constexpr iterator() noexcept = default;
        constexpr reference operator*() const noexcept { return cur_; }
        constexpr pointer operator->() const noexcept { return &cur_; }
        constexpr iterator& operator++() noexcept {
            step();
            return *this;
        }
        constexpr void operator++(int) noexcept { step(); }
        friend constexpr bool operator==(const iterator& a, const iterator& b) noexcept {
            return a.done_ == b.done_ && (a.done_ || a.pos_ == b.pos_);
        }

      private:
        friend class attribute_range;
        constexpr explicit iterator(const attribute_range* r) noexcept : r_(r) { step(); }
        constexpr void step() noexcept {
            auto d = r_->data_;
            if (pos_ == d.size()) {
                done_ = true;
                return;
            }
            std::size_t at = pos_;
            if (d.size() - pos_ < 4) {
                r_->set_error(errc::bad_attribute, r_->base_ + at, "data attribute");
                done_ = true;
                return;
            }
            std::uint16_t t = load_be16(d.data() + pos_);
            std::uint16_t v = load_be16(d.data() + pos_ + 2);
            cur_ = attribute{};
            cur_.offset = r_->base_ + at;
            cur_.type = t & 0x7fff;
            if (t & 0x8000) {
                cur_.tv = true;
                cur_.short_value = v;
                pos_ += 4;
                return;
            }
            if (d.size() - pos_ - 4 < v) {
                r_->set_error(errc::bad_attribute, r_->base_ + at + 2, "data attribute length");
                done_ = true;
                return;
            }
            cur_.tv = false;
            cur_.long_value = d.subspan(pos_ + 4, v);
            pos_ += 4 + std::size_t{v};
        }

        const attribute_range* r_ = nullptr;
        attribute cur_{};
        std::size_t pos_ = 0;
        bool done_ = false;
    };

    constexpr iterator begin() const noexcept {
        err_.clear();
        return iterator(this);
    }
    constexpr iterator end() const noexcept {
        iterator it;
        it.done_ = true;
        return it;
    }
    result<void> check() const noexcept {
        for (auto it = begin(); it != end(); ++it) {
        }
        return err_.status();
    }
    constexpr bool ok() const noexcept { return err_.ok(); }
    error last_error() const noexcept { return err_.get(); }
    /// First attribute of the given type, if any.
    constexpr bool find(std::uint16_t type, attribute& out) const noexcept {
        for (auto& a : *this)
            if (a.type == type) {
                out = a;
                return true;
            }
        return false;
    }
    constexpr bytes_view data() const noexcept { return data_; }

  private:
    constexpr void set_error(errc c, std::size_t off, const char* f) const noexcept {
        err_.set(c, off, f);
    }
    bytes_view data_{};
    std::size_t base_ = 0;
    mutable walk_error err_;
};

/// Builds a chain of generic payloads into a writer: begin() patches the
/// previous payload's "next" field (or the header's) with the new type,
/// end() patches the length.
class chain_writer {
  public:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    /// `first_next_at`: writer offset of the byte that names the first payload
    /// (the header's next-payload field), or npos for substructures.
    constexpr chain_writer(writer& w, std::size_t first_next_at = npos) noexcept
        : w_(&w), prev_next_at_(first_next_at) {}

    /// For substructures pass the fixed "more" value (2 or 3) as `type`.
    constexpr void begin(std::uint8_t type, std::uint8_t flags = 0) noexcept {
        if (prev_next_at_ != npos) w_->patch_u8(prev_next_at_, type);
        open_at_ = w_->size();
        w_->u8(0);
        w_->u8(flags);
        w_->u16(0);
        prev_next_at_ = open_at_;
    }
    constexpr void begin(payload_type type, bool critical = false) noexcept {
        begin(static_cast<std::uint8_t>(type), critical ? std::uint8_t{0x80} : std::uint8_t{0});
    }
    constexpr void end() noexcept {
        if (open_at_ == npos) return;
        w_->patch_u16(open_at_ + 2, static_cast<std::uint16_t>(w_->size() - open_at_));
        open_at_ = npos;
    }
    /// Set the last payload's "next" field explicitly (SK: the first inner type).
    constexpr void set_last_next(std::uint8_t type) noexcept {
        if (prev_next_at_ != npos) w_->patch_u8(prev_next_at_, type);
    }
    /// Offset of the last payload's next field (npos if none yet).
    constexpr std::size_t last_next_at() const noexcept { return prev_next_at_; }
    constexpr writer& out() noexcept { return *w_; }

  private:
    writer* w_;
    std::size_t prev_next_at_ = npos;
    std::size_t open_at_ = npos;
};

}  // namespace l2sec::ike
