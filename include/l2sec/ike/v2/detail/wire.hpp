// IKEv2 engine wire helpers: SA payloads built from and matched against the
// proposal lists, traffic selectors, IDs. Not a public interface.
#pragma once

#include <l2sec/core/reader.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/crypto/dh.hpp>
#include <l2sec/esp/algorithms.hpp>
#include <l2sec/ike/message.hpp>
#include <l2sec/ike/proposal.hpp>
#include <l2sec/ike/v1/detail/wire.hpp>
#include <l2sec/ike/v2/config.hpp>
#include <l2sec/ike/v2/payloads.hpp>

#include <cstdint>
#include <optional>
#include <span>

namespace l2sec::ike::v2::detail {

using v1::detail::address_bytes;
using v1::detail::make_dh;

constexpr std::uint16_t u16(auto e) noexcept {
    return static_cast<std::uint16_t>(e);
}

/// The IKEv2 ENCR transform of an ESP suite (id, key bits), id 0 if none.
constexpr std::pair<encr_id, std::uint16_t> esp_encr(const esp::suite& s) noexcept {
    switch (s.enc) {
        case esp::encryption::aes_cbc:
            return {encr_id::aes_cbc, static_cast<std::uint16_t>(s.enc_key_size * 8)};
        case esp::encryption::aes_gcm_16:
            return {encr_id::aes_gcm_16, static_cast<std::uint16_t>(s.enc_key_size * 8)};
        default:
            return {encr_id{0}, 0};
    }
}
constexpr integ_id esp_integ(esp::integrity i) noexcept {
    switch (i) {
        case esp::integrity::hmac_sha1_96:
            return integ_id::hmac_sha1_96;
        case esp::integrity::hmac_sha2_256_128:
            return integ_id::hmac_sha2_256_128;
        case esp::integrity::hmac_sha2_384_192:
            return integ_id::hmac_sha2_384_192;
        case esp::integrity::hmac_sha2_512_256:
            return integ_id::hmac_sha2_512_256;
        case esp::integrity::hmac_md5_96:
            return integ_id::hmac_md5_96;
        default:
            return integ_id::none;
    }
}
constexpr bool dh_supported(dh_group g) noexcept {
    return crypto::known(crypto::dh_id{u16(g)});
}

inline void encr_transform(sa_writer& w, encr_id e, std::uint16_t bits) noexcept {
    w.transform_v2(u16(transform_type::encr), u16(e));
    if (bits) w.attribute(attribute::basic(u16(v2_attribute::key_length), bits));
}

/// One proposal per entry, numbered from 1 (`spi`: empty in IKE_SA_INIT).
inline void write_ike_sa(writer& out, std::span<const ike_proposal> list, bytes_view spi = {},
                         std::uint8_t number = 1) noexcept {
    sa_writer w(out);
    for (const auto& p : list) {
        w.begin_proposal(number++, u16(protocol_id::ike), spi);
        encr_transform(w, p.encr, p.key_bits);
        w.transform_v2(u16(transform_type::prf), u16(p.prf));
        if (p.integ != integ_id::none) w.transform_v2(u16(transform_type::integ), u16(p.integ));
        w.transform_v2(u16(transform_type::dh), u16(p.group));
    }
    w.finish();
}

/// How ESN transforms go into an ESP proposal.
enum class esn_offer : std::uint8_t { off, on, both };  ///< [0], [1], [1, 0]

/// ESP proposals with our inbound SPI; `number`: the first proposal number
/// (a responder echoes the peer's number with a single proposal); `dh`: the
/// PFS group of a CREATE_CHILD_SA with KE (0: no DH transform).
inline void write_esp_sa(writer& out, std::span<const esp_proposal> list, std::uint32_t spi,
                         std::uint8_t number = 1, std::uint16_t dh = 0,
                         esn_offer esn = esn_offer::off) noexcept {
    std::array<std::byte, 4> s{};
    store_be32(s.data(), spi);
    sa_writer w(out);
    for (const auto& p : list) {
        w.begin_proposal(number++, u16(protocol_id::esp), s);
        auto [e, bits] = esp_encr(p.suite);
        encr_transform(w, e, bits);
        if (p.suite.integ != esp::integrity::none)
            w.transform_v2(u16(transform_type::integ), u16(esp_integ(p.suite.integ)));
        if (dh) w.transform_v2(u16(transform_type::dh), dh);
        if (esn != esn_offer::off) w.transform_v2(u16(transform_type::esn), 1);
        if (esn != esn_offer::on) w.transform_v2(u16(transform_type::esn), 0);
    }
    w.finish();
}

/// What an ESP proposal must also match. dh: any_dh (IKE_AUTH: DH transforms
/// are not negotiated there, RFC 7296 1.2), 0 (no PFS: none offered, or NONE
/// among them), or the group of the exchange's KE, which must be offered.
/// esn: 64-bit sequence numbers acceptable (config::esn).
inline constexpr int any_dh = -1;
struct esp_match {
    int dh = any_dh;
    bool esn = false;
};

/// What one received proposal offers, per transform type (up to 16 each).
struct offer {
    std::uint8_t number = 0;
    std::uint8_t protocol = 0;
    bytes_view spi;
    struct item {
        std::uint16_t id = 0, bits = 0;
    };
    std::array<item, 16> encr{}, prf{}, integ{}, dh{}, esn{};
    std::uint8_t n_encr = 0, n_prf = 0, n_integ = 0, n_dh = 0, n_esn = 0;
    bool overflow = false;

    static void add(std::array<item, 16>& a, std::uint8_t& n, item it, bool& of) noexcept {
        if (n == a.size()) {
            of = true;
            return;
        }
        a[n++] = it;
    }
    static bool has(const std::array<item, 16>& a, std::uint8_t n, std::uint16_t id,
                    std::uint16_t bits = 0) noexcept {
        for (std::uint8_t i = 0; i < n; ++i)
            if (a[i].id == id && a[i].bits == bits) return true;
        return false;
    }
    static std::optional<offer> read(const payload& pp) noexcept {
        auto pr = proposal::parse(pp);
        if (!pr) return std::nullopt;
        offer o;
        o.number = pr->number;
        o.protocol = pr->protocol;
        o.spi = pr->spi;
        for (const auto& tp : pr->transforms()) {
            auto t = transform_v2::parse(tp);
            if (!t) return std::nullopt;
            item it{t->id, t->key_length()};
            switch (transform_type{t->type}) {
                case transform_type::encr:
                    add(o.encr, o.n_encr, it, o.overflow);
                    break;
                case transform_type::prf:
                    add(o.prf, o.n_prf, it, o.overflow);
                    break;
                case transform_type::integ:
                    add(o.integ, o.n_integ, it, o.overflow);
                    break;
                case transform_type::dh:
                    add(o.dh, o.n_dh, it, o.overflow);
                    break;
                case transform_type::esn:
                    add(o.esn, o.n_esn, it, o.overflow);
                    break;
                default:
                    break;  // unknown transform types: the proposal still counts without them
            }
        }
        return o;
    }
    /// Does it offer exactly `p` (AEAD: no INTEG or INTEG none)? (The
    /// esp_match of the ESP overload does not apply to IKE proposals.)
    bool offers(const ike_proposal& p, esp_match = {}) const noexcept {
        if (protocol != u16(protocol_id::ike)) return false;
        if (!has(encr, n_encr, u16(p.encr), p.key_bits)) return false;
        if (!has(prf, n_prf, u16(p.prf))) return false;
        if (p.integ == integ_id::none) {
            if (n_integ && !has(integ, n_integ, 0)) return false;
        } else if (!has(integ, n_integ, u16(p.integ))) {
            return false;
        }
        return has(dh, n_dh, u16(p.group));
    }
    /// ESN chosen from this offer: offered and acceptable (preferred then).
    bool picks_esn(const esp_match& m) const noexcept { return m.esn && has(esn, n_esn, 1); }
    bool offers(const esp_proposal& p, esp_match m = {}) const noexcept {
        const int group = m.dh;
        if (protocol != u16(protocol_id::esp) || spi.size() != 4) return false;
        auto [e, bits] = esp_encr(p.suite);
        if (!has(encr, n_encr, u16(e), bits)) return false;
        if (p.suite.integ == esp::integrity::none) {
            if (n_integ && !has(integ, n_integ, 0)) return false;
        } else if (!has(integ, n_integ, u16(esp_integ(p.suite.integ)))) {
            return false;
        }
        if (group == 0 && n_dh && !has(dh, n_dh, 0)) return false;
        if (group > 0 && !has(dh, n_dh, static_cast<std::uint16_t>(group))) return false;
        return n_esn == 0 || has(esn, n_esn, 0) || picks_esn(m);
    }
};

/// The first of `ours` that one of the peer's proposals offers (the
/// responder's choice), with the peer's proposal; `pred` filters ours.
template <class P, class Pred>
std::optional<std::pair<P, offer>> choose(std::span<const P> ours, const v2::sa& theirs,
                                          Pred&& pred, esp_match m = {}) noexcept {
    for (const auto& mine : ours) {
        if (!pred(mine)) continue;
        for (const auto& pp : theirs.proposals()) {
            auto o = offer::read(pp);
            if (o && o->offers(mine, m)) return std::pair<P, offer>{mine, *o};
        }
    }
    return std::nullopt;
}

/// A responder's answer must be one proposal with one transform of each type,
/// one we offered: which of ours it is.
template <class P>
std::optional<std::pair<P, offer>> accepted(std::span<const P> ours, const v2::sa& answer,
                                            esp_match m = {}) noexcept {
    std::size_t n = 0;
    std::optional<offer> got;
    for (const auto& pp : answer.proposals()) {
        ++n;
        got = offer::read(pp);
    }
    if (n != 1 || !got || got->n_encr != 1 || got->n_prf > 1 || got->n_integ > 1 || got->n_dh > 1 ||
        got->n_esn > 1)
        return std::nullopt;
    for (const auto& mine : ours)
        if (got->offers(mine, m)) return std::pair<P, offer>{mine, *got};
    return std::nullopt;
}

/// A traffic selector range we write or narrow to.
struct selector {
    std::uint8_t protocol = 0;
    std::uint16_t start_port = 0, end_port = 65535;
    std::array<std::byte, 16> start{}, end{};
    std::uint8_t alen = 4;

    void write(writer& w) const noexcept {
        traffic_selector t;
        t.type = alen == 4 ? 7 : 8;
        t.ip_protocol = protocol;
        t.start_port = start_port;
        t.end_port = end_port;
        t.start_address = bytes_view(start.data(), alen);
        t.end_address = bytes_view(end.data(), alen);
        t.encode(w);
    }
    static selector host(const transport::endpoint& e, std::uint8_t proto,
                         std::uint16_t port) noexcept {
        selector s;
        auto a = address_bytes(e);
        s.alen = static_cast<std::uint8_t>(a.size());
        copy_to(s.start, a);
        copy_to(s.end, a);
        s.protocol = proto;
        s.start_port = port;
        s.end_port = port ? port : 65535;
        return s;
    }
    static selector any(bool v6, std::uint8_t proto, std::uint16_t port) noexcept {
        selector s;
        s.alen = v6 ? 16 : 4;
        for (std::size_t i = 0; i < s.alen; ++i)
            s.end[i] = std::byte{0xff};
        s.protocol = proto;
        s.start_port = port;
        s.end_port = port ? port : 65535;
        return s;
    }
    static selector from(const traffic_selector& t) noexcept {
        selector s;
        s.alen = static_cast<std::uint8_t>(t.start_address.size());
        copy_to(s.start, t.start_address);
        copy_to(s.end, t.end_address);
        s.protocol = t.ip_protocol;
        s.start_port = t.start_port;
        s.end_port = t.end_port;
        return s;
    }
    /// Narrow to our policy (protocol/port, 0 = any); false when disjoint.
    bool narrow(std::uint8_t proto, std::uint16_t port) noexcept {
        if (proto) {
            if (protocol && protocol != proto) return false;
            protocol = proto;
        }
        if (port) {
            if (port < start_port || port > end_port) return false;
            start_port = end_port = port;
        }
        return true;
    }
    /// The single port, or 0 for a range.
    std::uint16_t port() const noexcept { return start_port == end_port ? start_port : 0; }
};

/// A responder's choice from the peer's TSi and TSr (RFC 7296 2.9): the
/// first pair of one address family that narrows to our policy (`proto`,
/// 0 = any, on both sides; `local_port`, 0 = any, on TSr, our side), the
/// family `prefer_alen` (4 or 16: the outer addresses') tried first, so a
/// client that offers ::/0 before 0.0.0.0/0 still gets the IPv4 SA it
/// connected over. Only the first 16 selectors of each payload count.
/// False: none does (TS_UNACCEPTABLE).
inline bool narrow_ts(const ts& tsi, const ts& tsr, std::uint8_t proto, std::uint16_t local_port,
                      std::uint8_t prefer_alen, selector& si, selector& sr) noexcept {
    constexpr std::size_t most = 16;
    const std::size_t ni = std::min<std::size_t>(tsi.count, most);
    const std::size_t nr = std::min<std::size_t>(tsr.count, most);
    for (int pass = 0; pass < 2; ++pass)
        for (std::size_t i = 0; i < ni; ++i) {
            selector a = selector::from(tsi.selector(i));
            if ((a.alen == prefer_alen) != (pass == 0) || !a.narrow(proto, 0)) continue;
            for (std::size_t j = 0; j < nr; ++j) {
                selector b = selector::from(tsr.selector(j));
                if (b.alen != a.alen || !b.narrow(proto, 0)) continue;
                if (local_port && !b.narrow(0, local_port)) continue;
                selector x = a;
                if (x.protocol != b.protocol) {  // one side "any": both the other's
                    if (x.protocol && b.protocol) continue;
                    x.protocol = b.protocol = static_cast<std::uint8_t>(x.protocol | b.protocol);
                }
                si = x;
                sr = b;
                return true;
            }
        }
    return false;
}

inline void write_ts(chain_writer& c, payload_type t, const selector& s) noexcept {
    c.begin(t);
    c.out().u8(1);
    c.out().u24(0);
    s.write(c.out());
    c.end();
}
inline void write_notify(chain_writer& c, notify_type t, bytes_view data = {},
                         std::uint8_t protocol = 0, bytes_view spi = {}) noexcept {
    c.begin(payload_type::notify);
    notify{protocol, u16(t), spi, data}.encode(c.out());
    c.end();
}

}  // namespace l2sec::ike::v2::detail
