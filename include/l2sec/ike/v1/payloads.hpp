// IKEv1 / ISAKMP payload bodies (RFC 2408 §3, RFC 2407 §4.6, RFC 3947 §3-5).
// Each view has parse(payload) (the generic payload from a chain; offsets in
// errors are absolute) and encode(writer&) writing the body back, so a decoded
// message re-encodes byte for byte.
#pragma once

#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ike/error.hpp>
#include <l2sec/ike/fragment_slots.hpp>
#include <l2sec/ike/payload.hpp>
#include <l2sec/ike/proposal.hpp>
#include <l2sec/ike/registry.hpp>

#include <array>
#include <cstdint>

namespace l2sec::ike::v1 {

/// SA (RFC 2408 §3.4, RFC 2407 §4.6.1): DOI, situation, proposals.
struct sa {
    std::uint32_t doi = doi_ipsec;
    std::uint32_t situation = sit_identity_only;
    bytes_view proposals_data;
    std::size_t proposals_offset = 0;

    constexpr payload_range proposals() const noexcept {
        return proposal_chain(proposals_data, proposals_offset);
    }
    static result<sa> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        sa v;
        v.doi = r.u32();
        v.situation = r.u32();
        if (r.failed()) return r.fail(errc::truncated, "SA");
        v.proposals_offset = r.offset();
        v.proposals_data = r.rest();
        if (auto ok = check_proposals<transform_v1>(v.proposals()); !ok) return ok.error();
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u32(doi);
        w.u32(situation);
        w.bytes(proposals_data);
    }
};

/// KE (§3.7), HASH (§3.11), SIG (§3.12), Nonce (§3.13), Vendor ID (§3.16),
/// NAT-D (RFC 3947 §3.2): the body is the data.
using ike::opaque;

/// Identification (RFC 2407 §4.6.2): type, protocol, port, data. L2TP/IPsec
/// uses protocol 17 (UDP), port 1701 in Quick Mode IDs.
struct id {
    std::uint8_t type = 0;  ///< id_type
    std::uint8_t protocol = 0;
    std::uint16_t port = 0;
    bytes_view data;

    static result<id> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        id v;
        v.type = r.u8();
        v.protocol = r.u8();
        v.port = r.u16();
        if (r.failed()) return r.fail(errc::truncated, "ID");
        v.data = r.rest();
        std::size_t need = 0;
        switch (id_type{v.type}) {
            case id_type::ipv4_addr:
                need = 4;
                break;
            case id_type::ipv6_addr:
                need = 16;
                break;
            case id_type::ipv4_addr_subnet:
            case id_type::ipv4_addr_range:
                need = 8;
                break;
            case id_type::ipv6_addr_subnet:
            case id_type::ipv6_addr_range:
                need = 32;
                break;
            default:
                break;
        }
        if (need && v.data.size() != need)
            return error(errc::bad_field, p.body_offset() + 4, "ID address length");
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u8(type);
        w.u8(protocol);
        w.u16(port);
        w.bytes(data);
    }
};

/// CERT (§3.9) and CR (§3.10): encoding + data.
using ike::cert;

/// Notification (§3.14): DOI, protocol, SPI size, type, SPI, data.
struct notification {
    std::uint32_t doi = doi_ipsec;
    std::uint8_t protocol = 0;
    std::uint16_t type = 0;  ///< notify_type
    bytes_view spi;
    bytes_view data;

    constexpr notify_type kind() const noexcept { return notify_type{type}; }
    static result<notification> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        notification v;
        v.doi = r.u32();
        v.protocol = r.u8();
        std::uint8_t spi_size = r.u8();
        v.type = r.u16();
        if (r.failed()) return r.fail(errc::truncated, "notification");
        v.spi = r.bytes(spi_size);
        if (r.failed())
            return error(errc::bad_spi_size, p.body_offset() + 5, "notification SPI size");
        v.data = r.rest();
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u32(doi);
        w.u8(protocol);
        w.u8(static_cast<std::uint8_t>(spi.size()));
        w.u16(type);
        w.bytes(spi);
        w.bytes(data);
    }
};

/// Delete (§3.15): DOI, protocol, SPI size, count, SPIs.
struct delete_ {
    std::uint32_t doi = doi_ipsec;
    std::uint8_t protocol = 0;
    std::uint8_t spi_size = 0;
    std::uint16_t count = 0;
    bytes_view spis;

    constexpr bytes_view spi(std::size_t i) const noexcept {
        return spis.subspan(i * spi_size, spi_size);
    }
    static result<delete_> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        delete_ v;
        v.doi = r.u32();
        v.protocol = r.u8();
        v.spi_size = r.u8();
        v.count = r.u16();
        if (r.failed()) return r.fail(errc::truncated, "delete");
        v.spis = r.rest();
        if (v.spis.size() != std::size_t{v.spi_size} * v.count)
            return error(errc::bad_field, p.body_offset() + 6, "delete SPI count");
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u32(doi);
        w.u8(protocol);
        w.u8(spi_size);
        w.u16(count);
        w.bytes(spis);
    }
};

/// NAT-OA (RFC 3947 §5.2): ID type (IPv4/IPv6 address), 3 reserved, address.
struct nat_oa {
    std::uint8_t type = 1;
    bytes_view address;
    std::array<std::byte, 3> reserved{};
    static result<nat_oa> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        nat_oa v;
        v.type = r.u8();
        v.reserved = r.array<3>();
        if (r.failed()) return r.fail(errc::truncated, "NAT-OA");
        v.address = r.rest();
        std::size_t need = v.type == 1 ? 4 : v.type == 5 ? 16 : 0;
        if (need == 0) return error(errc::bad_field, p.body_offset(), "NAT-OA ID type");
        if (v.address.size() != need)
            return error(errc::bad_field, p.body_offset() + 4, "NAT-OA address length");
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u8(type);
        w.bytes(reserved);
        w.bytes(address);
    }
};

/// IKEv1 fragment (payload 132, the Cisco/Microsoft scheme announced by the
/// FRAGMENTATION vendor ID): fragment id, number (from 1), flags (1 = last),
/// then a slice of the whole original message (header included).
struct fragment {
    std::uint16_t id = 0;
    std::uint8_t number = 1;
    std::uint8_t flags = 0;
    bytes_view data;

    constexpr bool last() const noexcept { return flags & 0x01; }
    static result<fragment> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        fragment v;
        v.id = r.u16();
        v.number = r.u8();
        v.flags = r.u8();
        if (r.failed()) return r.fail(errc::truncated, "IKEv1 fragment");
        if (v.number == 0)
            return error(errc::fragment_mismatch, p.body_offset() + 2, "fragment number");
        v.data = r.rest();
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u16(id);
        w.u8(number);
        w.u8(flags);
        w.bytes(data);
    }
};

/// Reassembles IKEv1 fragments (any order, duplicates ignored) into the
/// original message; capacity by template parameter (fragment numbers are 8
/// bits, so at most 255).
template <std::size_t MaxFragments = 64>
class fragment_reassembler {
  public:
    explicit fragment_reassembler(mutable_bytes storage) noexcept : slots_(storage) {}

    /// Add one fragment; true once the last one and all before it have arrived.
    result<bool> add(const fragment& f, std::size_t offset = 0) noexcept {
        if (f.number == 0 || f.number > MaxFragments)
            return error(errc::too_many_fragments, offset, "fragment number");
        if (slots_.received() == 0) id_ = f.id;
        if (f.id != id_) return error(errc::fragment_mismatch, offset, "fragment id");
        if (f.last()) {
            if (last_ != 0 && last_ != f.number)
                return error(errc::fragment_mismatch, offset, "last fragment");
            last_ = f.number;
        }
        if (auto ok = slots_.store(f.number, f.data, offset, "fragment reassembly buffer"); !ok)
            return ok.error();
        return complete();
    }
    bool complete() const noexcept {
        if (last_ == 0) return false;
        for (std::size_t n = 1; n <= last_; ++n)
            if (!slots_.has(n)) return false;
        return true;
    }
    /// The original message, in order, into `out`.
    result<bytes_view> assemble(mutable_bytes out) const noexcept {
        if (!complete()) return error(errc::fragment_mismatch, 0, "fragments incomplete");
        return slots_.concat(last_, out, "fragments");
    }

  private:
    fragment_slots<MaxFragments> slots_;
    std::uint16_t id_ = 0;
    std::uint8_t last_ = 0;
};

/// Decode the body of `p` into its typed view (by payload type; unknown
/// types as opaque) and return go(result of that view's parse()).
template <class F>
result<void> with_decoded_body(const payload& p, F&& go) noexcept {
    switch (p.kind()) {
        case payload_type::sa_v1:
            return go(sa::parse(p));
        case payload_type::id_v1:
            return go(id::parse(p));
        case payload_type::cert_v1:
        case payload_type::cr_v1:
            return go(cert::parse(p));
        case payload_type::notification:
            return go(notification::parse(p));
        case payload_type::delete_v1:
            return go(delete_::parse(p));
        case payload_type::nat_oa:
        case payload_type::nat_oa_draft:
            return go(nat_oa::parse(p));
        case payload_type::fragment_v1:
            return go(fragment::parse(p));
        default:
            return go(opaque::parse(p));
    }
}

/// Validate and re-encode the body of any IKEv1 payload (unknown types are
/// copied as they are). Returns the first decoding error.
inline result<void> reencode_body(const payload& p, writer& w) noexcept {
    return with_decoded_body(p, [&](const auto& r) { return encode_decoded(r, w); });
}

/// Check every payload body of an IKEv1 chain (decode only); the first error.
inline result<void> validate(const payload_range& chain) noexcept {
    return check_each_body(chain, [](const payload& p) {
        return with_decoded_body(p, [](const auto& r) { return decoded_ok(r); });
    });
}

}  // namespace l2sec::ike::v1
