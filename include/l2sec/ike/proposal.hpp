// Proposal and transform substructures inside an SA payload. The proposal
// layout is the same in IKEv1 (RFC 2408 §3.5) and IKEv2 (RFC 7296 §3.3.1);
// the transform differs (v1 §3.6: number + id; v2 §3.3.2: type + id).
#pragma once

#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ike/error.hpp>
#include <l2sec/ike/payload.hpp>

#include <cstdint>

namespace l2sec::ike {

inline constexpr std::uint8_t substruc_proposal = 2;
inline constexpr std::uint8_t substruc_transform = 3;

/// A chain of proposals (the body of an IKEv2 SA, or an IKEv1 SA after DOI/situation).
constexpr payload_range proposal_chain(bytes_view data, std::size_t base) noexcept {
    payload_range::options o;
    o.substructure = substruc_proposal;
    o.field = "proposal";
    return payload_range(data, substruc_proposal, base, o);
}

struct proposal {
    std::uint8_t number = 1;
    std::uint8_t protocol = 0;  ///< protocol_id
    bytes_view spi;
    std::uint8_t transform_count = 0;
    bytes_view transforms_data;  ///< the transform substructures
    std::size_t transforms_offset = 0;

    constexpr payload_range transforms() const noexcept {
        payload_range::options o;
        o.substructure = substruc_transform;
        o.field = "transform";
        return payload_range(transforms_data, substruc_transform, transforms_offset, o);
    }

    static result<proposal> parse(const payload& p) noexcept {
        return parse(p, [](const payload&) { return result<void>{}; });
    }
    /// parse(), also handing each transform to `check_transform` in the same
    /// walk; the first transform error comes after the proposal's own errors.
    template <class CheckTransform>
    static result<proposal> parse(const payload& p, CheckTransform check_transform) noexcept {
        reader r(p.body, p.body_offset());
        proposal v;
        v.number = r.u8();
        v.protocol = r.u8();
        std::uint8_t spi_size = r.u8();
        v.transform_count = r.u8();
        if (r.failed()) return r.fail(errc::truncated, "proposal");
        std::size_t spi_at = r.offset();
        v.spi = r.bytes(spi_size);
        if (r.failed()) return error(errc::bad_spi_size, spi_at - 2, "proposal SPI size");
        v.transforms_offset = r.offset();
        v.transforms_data = r.rest();
        std::size_t n = 0;
        result<void> transform_ok;
        auto ts = v.transforms();
        for (auto it = ts.begin(); it != ts.end(); ++it) {
            ++n;
            if (transform_ok) transform_ok = check_transform(*it);
        }
        if (!ts.ok()) return ts.last_error();
        if (n != v.transform_count)
            return error(errc::bad_field, p.body_offset() + 3, "proposal transform count");
        if (!transform_ok) return transform_ok.error();
        return v;
    }
    /// Body only (the chain_writer writes the generic header).
    constexpr void encode(writer& w) const noexcept {
        w.u8(number);
        w.u8(protocol);
        w.u8(static_cast<std::uint8_t>(spi.size()));
        w.u8(transform_count);
        w.bytes(spi);
    }
};

/// IKEv1 transform (RFC 2408 §3.6): number, id, SA attributes.
struct transform_v1 {
    std::uint8_t number = 1;
    std::uint8_t id = 0;  ///< KEY_IKE (1) in phase 1; v1_esp_id in phase 2
    bytes_view attributes_data;
    std::size_t attributes_offset = 0;

    constexpr attribute_range attributes() const noexcept {
        return attribute_range(attributes_data, attributes_offset);
    }
    static result<transform_v1> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        transform_v1 v;
        v.number = r.u8();
        v.id = r.u8();
        r.skip(2);
        if (r.failed()) return r.fail(errc::truncated, "transform");
        v.attributes_offset = r.offset();
        v.attributes_data = r.rest();
        if (auto ok = v.attributes().check(); !ok) return ok.error();
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u8(number);
        w.u8(id);
        w.u16(0);
        w.bytes(attributes_data);
    }
};

/// IKEv2 transform (RFC 7296 §3.3.2): type, id, attributes (key length).
struct transform_v2 {
    std::uint8_t type = 0;  ///< transform_type
    std::uint16_t id = 0;
    bytes_view attributes_data;
    std::size_t attributes_offset = 0;

    constexpr attribute_range attributes() const noexcept {
        return attribute_range(attributes_data, attributes_offset);
    }
    /// The Key Length attribute in bits, or 0 when absent.
    constexpr std::uint16_t key_length() const noexcept {
        attribute a;
        if (attributes().find(static_cast<std::uint16_t>(v2_attribute::key_length), a))
            return static_cast<std::uint16_t>(a.value());
        return 0;
    }
    static result<transform_v2> parse(const payload& p) noexcept {
        reader r(p.body, p.body_offset());
        transform_v2 v;
        v.type = r.u8();
        r.skip(1);
        v.id = r.u16();
        if (r.failed()) return r.fail(errc::truncated, "transform");
        v.attributes_offset = r.offset();
        v.attributes_data = r.rest();
        if (auto ok = v.attributes().check(); !ok) return ok.error();
        return v;
    }
    constexpr void encode(writer& w) const noexcept {
        w.u8(type);
        w.u8(0);
        w.u16(id);
        w.bytes(attributes_data);
    }
};

/// Decode every proposal of an SA and every transform in it (Transform:
/// transform_v1 or transform_v2); the first error.
template <class Transform>
result<void> check_proposals(const payload_range& proposals) noexcept {
    for (auto it = proposals.begin(); it != proposals.end(); ++it) {
        auto pr =
            proposal::parse(*it, [](const payload& t) { return decoded_ok(Transform::parse(t)); });
        if (!pr) return pr.error();
    }
    if (!proposals.ok()) return proposals.last_error();
    return {};
}

/// Builds an SA body: proposals and their transforms, with counts and
/// lengths patched. Usage: proposal(...); transform(...) x n; ... finish().
class sa_writer {
  public:
    constexpr explicit sa_writer(writer& w) noexcept : w_(&w), props_(w) {}

    constexpr void begin_proposal(std::uint8_t number, std::uint8_t protocol,
                                  bytes_view spi) noexcept {
        end_proposal();
        props_.begin(substruc_proposal, 0);
        count_at_ = w_->size() + 3;
        proposal{number, protocol, spi, 0, {}, 0}.encode(*w_);
        transforms_ = chain_writer(*w_);
        count_ = 0;
        open_ = true;
    }
    /// The transform body (v1: number/id/reserved; v2: type/reserved/id) then attributes.
    constexpr void begin_transform() noexcept {
        if (!open_) return;
        transforms_.end();
        transforms_.begin(substruc_transform, 0);
        ++count_;
    }
    constexpr void transform_v1(std::uint8_t number, std::uint8_t id) noexcept {
        begin_transform();
        w_->u8(number);
        w_->u8(id);
        w_->u16(0);
    }
    constexpr void transform_v2(std::uint8_t type, std::uint16_t id) noexcept {
        begin_transform();
        w_->u8(type);
        w_->u8(0);
        w_->u16(id);
    }
    constexpr void attribute(const ike::attribute& a) noexcept { a.encode(*w_); }
    constexpr void end_proposal() noexcept {
        if (!open_) return;
        transforms_.end();
        w_->patch_u8(count_at_, count_);
        props_.end();
        open_ = false;
    }
    constexpr void finish() noexcept { end_proposal(); }

  private:
    writer* w_;
    chain_writer props_;
    chain_writer transforms_{*w_};
    std::size_t count_at_ = 0;
    std::uint8_t count_ = 0;
    bool open_ = false;
};

}  // namespace l2sec::ike
