// IKEv2 payload bodies (RFC 7296 §3.3-3.16, RFC 7383 §2.5). Each view has
// parse(payload) and encode(writer&) (the body), so decoded messages re-encode
// byte for byte; builders write with the same encode().
#pragma once

#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ike/error.hpp>
#include <l2sec/ike/payload.hpp>
#include <l2sec/ike/proposal.hpp>
#include <l2sec/ike/registry.hpp>

#include <array>
#include <cstdint>

namespace l2sec::ike::v2 {

/// SA (§3.3): a chain of proposals.
struct sa {
    bytes_view proposals_data;
    std::size_t proposals_offset = 0;

    constexpr payload_range proposals() const noexcept {
        return proposal_chain(proposals_data, proposals_offset);
    }
    static result<sa> parse(const payload& p) noexcept {
        sa v{p.body, p.body_offset()};
        if (p.body.empty()) return error(errc::truncated, p.body_offset(), "SA proposals");
        if (auto ok = check_proposals<transform_v2>(v.proposals()); !ok) return ok.error();
        return v;
    }
    constexpr void encode(writer& w) const noexcept { w.bytes(proposals_data); }
};

/// KE (§3.4): DH group, reserved, public value.
struct ke {
    std::uint16_t group = 0;  ///< dh_group
    bytes_view data;
    std::uint16_t reserved = 0;  ///< ignored on receipt, kept for byte-exact re-encoding
    static result<ke> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        ke v;
        v.group = r.u16();
        v.reserved = r.u16();
        if (r.failed()) return r.fail(errc::truncated, "KE");
        v.data = r.rest();
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u16(group);
        w.u16(reserved);
        w.bytes(data);
    }
};

/// IDi/IDr (§3.5): type, 3 reserved, data. Also AUTH (§3.8: method, 3
/// reserved, data) and CP's header share this "type + 3 reserved" shape.
struct id {
    std::uint8_t type = 0;
    std::array<std::byte, 3>
        reserved{};  ///< kept for byte-exact re-encoding (IKEv1-style proto/port)
    bytes_view data;
    static result<id> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        id v;
        v.type = r.u8();
        v.reserved = r.array<3>();
        if (r.failed()) return r.fail(errc::truncated, "ID");
        v.data = r.rest();
        std::size_t need = v.type == 1 ? 4 : v.type == 5 ? 16 : 0;
        if (need && v.data.size() != need)
            return error(errc::bad_field, p.body_offset() + 4, "ID address length");
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u8(type);
        w.bytes(reserved);
        w.bytes(data);
    }
};

/// AUTH (§3.8).
struct auth {
    std::uint8_t method = 0;  ///< auth_method
    bytes_view data;
    std::array<std::byte, 3> reserved{};
    static result<auth> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        auth v;
        v.method = r.u8();
        v.reserved = r.array<3>();
        if (r.failed()) return r.fail(errc::truncated, "AUTH");
        v.data = r.rest();
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u8(method);
        w.bytes(reserved);
        w.bytes(data);
    }
};

/// CERT (§3.6) / CERTREQ (§3.7): encoding + data.
using ike::cert;

/// Nonce (§3.9; 16..256 bytes), Vendor ID (§3.12), EAP (§3.16), SK (§3.14):
/// the body is the data.
using ike::opaque;

/// Notify (§3.10): protocol, SPI size, type, SPI, data.
struct notify {
    std::uint8_t protocol = 0;
    std::uint16_t type = 0;
    bytes_view spi;
    bytes_view data;

    constexpr notify_type kind() const noexcept { return notify_type{type}; }
    static result<notify> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        notify v;
        v.protocol = r.u8();
        std::uint8_t spi_size = r.u8();
        v.type = r.u16();
        if (r.failed()) return r.fail(errc::truncated, "notify");
        v.spi = r.bytes(spi_size);
        if (r.failed()) return error(errc::bad_spi_size, p.body_offset() + 1, "notify SPI size");
        v.data = r.rest();
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u8(protocol);
        w.u8(static_cast<std::uint8_t>(spi.size()));
        w.u16(type);
        w.bytes(spi);
        w.bytes(data);
    }
};

/// Delete (§3.11): protocol, SPI size, count, SPIs.
struct delete_ {
    std::uint8_t protocol = 0;
    std::uint8_t spi_size = 0;
    std::uint16_t count = 0;
    bytes_view spis;
    static result<delete_> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        delete_ v;
        v.protocol = r.u8();
        v.spi_size = r.u8();
        v.count = r.u16();
        if (r.failed()) return r.fail(errc::truncated, "delete");
        v.spis = r.rest();
        if (v.spis.size() != std::size_t{v.spi_size} * v.count)
            return error(errc::bad_field, p.body_offset() + 2, "delete SPI count");
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u8(protocol);
        w.u8(spi_size);
        w.u16(count);
        w.bytes(spis);
    }
};

/// One traffic selector (§3.13.1).
struct traffic_selector {
    std::uint8_t type = 7;  ///< ts_type
    std::uint8_t ip_protocol = 0;
    std::uint16_t start_port = 0;
    std::uint16_t end_port = 65535;
    bytes_view start_address;
    bytes_view end_address;

    constexpr void encode(writer& w) const noexcept {
        w.u8(type);
        w.u8(ip_protocol);
        w.u16(static_cast<std::uint16_t>(8 + start_address.size() + end_address.size()));
        w.u16(start_port);
        w.u16(end_port);
        w.bytes(start_address);
        w.bytes(end_address);
    }
};

/// TSi/TSr (§3.13): count, 3 reserved, selectors.
struct ts {
    std::uint8_t count = 0;
    bytes_view selectors_data;
    std::size_t selectors_offset = 0;
    std::array<std::byte, 3> reserved{};

    /// The i-th selector (precondition: parse() succeeded and i < count).
    constexpr traffic_selector selector(std::size_t i) const noexcept {
        reader r(selectors_data);
        traffic_selector s;
        for (std::size_t k = 0; k <= i; ++k) {
            s.type = r.u8();
            s.ip_protocol = r.u8();
            std::uint16_t len = r.u16();
            s.start_port = r.u16();
            s.end_port = r.u16();
            std::size_t alen = len >= 8 ? (len - 8u) / 2 : 0;
            s.start_address = r.bytes(alen);
            s.end_address = r.bytes(alen);
        }
        return s;
    }
    static result<ts> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        ts v;
        v.count = r.u8();
        v.reserved = r.array<3>();
        if (r.failed()) return r.fail(errc::truncated, "TS");
        v.selectors_offset = r.offset();
        v.selectors_data = r.rest();
        reader s(v.selectors_data, v.selectors_offset);
        for (std::size_t k = 0; k < v.count; ++k) {
            std::size_t at = s.offset();
            std::uint8_t type = s.u8();
            s.skip(1);
            std::uint16_t len = s.u16();
            if (s.failed()) return s.fail(errc::truncated, "traffic selector");
            std::size_t want = type == 7 ? 16 : type == 8 ? 40 : 0;
            if (want == 0) return error(errc::bad_field, at, "traffic selector type");
            if (len != want) return error(errc::bad_field, at + 2, "traffic selector length");
            s.skip(len - 4u);
            if (s.failed())
                return error(errc::payload_length_overrun, at + 2, "traffic selector length");
        }
        if (!s.empty()) return error(errc::trailing_data, s.offset(), "traffic selectors");
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u8(count);
        w.bytes(reserved);
        w.bytes(selectors_data);
    }
};

/// One configuration attribute (§3.15.1): type (15 bits), length, value.
struct cp_attribute {
    std::uint16_t type = 0;
    bytes_view value;
    std::size_t offset = 0;
};

/// CP (§3.15): cfg type, 3 reserved, attributes.
struct cp {
    std::uint8_t type = 1;  ///< cfg_type
    bytes_view attributes_data;
    std::size_t attributes_offset = 0;
    std::array<std::byte, 3> reserved{};

    template <class F>
    constexpr void for_each(F&& f) const noexcept {
        reader r(attributes_data, attributes_offset);
        while (!r.empty()) {
            cp_attribute a;
            a.offset = r.offset();
            a.type = r.u16() & 0x7fff;
            a.value = r.bytes(r.u16());
            if (r.failed()) return;
            f(a);
        }
    }
    static result<cp> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        cp v;
        v.type = r.u8();
        v.reserved = r.array<3>();
        if (r.failed()) return r.fail(errc::truncated, "CP");
        v.attributes_offset = r.offset();
        v.attributes_data = r.rest();
        reader a(v.attributes_data, v.attributes_offset);
        while (!a.empty()) {
            std::size_t at = a.offset();
            a.skip(2);
            std::uint16_t len = a.u16();
            if (a.failed()) return error(errc::bad_attribute, at, "CP attribute");
            a.skip(len);
            if (a.failed()) return error(errc::bad_attribute, at + 2, "CP attribute length");
        }
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u8(type);
        w.bytes(reserved);
        w.bytes(attributes_data);
    }
};

/// SKF (RFC 7383 §2.5): fragment number, total fragments, then IV/ciphertext/ICV.
struct skf {
    std::uint16_t number = 1;
    std::uint16_t total = 1;
    bytes_view encrypted;  ///< IV | ciphertext | ICV

    static result<skf> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        skf v;
        v.number = r.u16();
        v.total = r.u16();
        if (r.failed()) return r.fail(errc::truncated, "SKF");
        if (v.number == 0 || v.number > v.total)
            return error(errc::fragment_mismatch, p.body_offset(), "SKF fragment number");
        v.encrypted = r.rest();
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u16(number);
        w.u16(total);
        w.bytes(encrypted);
    }
};

/// Decode the body of `p` into its typed view (by payload type; unknown
/// types as opaque) and return go(result of that view's parse()).
template <class F>
result<void> with_decoded_body(const payload& p, F&& go) noexcept {
    switch (p.kind()) {
        case payload_type::sa:
            return go(sa::parse(p));
        case payload_type::ke:
            return go(ke::parse(p));
        case payload_type::idi:
        case payload_type::idr:
            return go(id::parse(p));
        case payload_type::cert:
        case payload_type::certreq:
            return go(cert::parse(p));
        case payload_type::auth:
            return go(auth::parse(p));
        case payload_type::notify:
            return go(notify::parse(p));
        case payload_type::delete_:
            return go(delete_::parse(p));
        case payload_type::tsi:
        case payload_type::tsr:
            return go(ts::parse(p));
        case payload_type::cp:
            return go(cp::parse(p));
        case payload_type::skf:
            return go(skf::parse(p));
        default:
            return go(opaque::parse(p));
    }
}

/// Validate and re-encode the body of any IKEv2 payload (unknown types are
/// copied as they are). Returns the first decoding error.
inline result<void> reencode_body(const payload& p, writer& w) noexcept {
    return with_decoded_body(p, [&](const auto& r) { return encode_decoded(r, w); });
}

/// Check every payload body of an IKEv2 chain (decode only); the first error.
inline result<void> validate(const payload_range& chain) noexcept {
    return check_each_body(chain, [](const payload& p) {
        return with_decoded_body(p, [](const auto& r) { return decoded_ok(r); });
    });
}

}  // namespace l2sec::ike::v2
