// The IKEv1 engine's phase 2 keys: installing a Quick Mode SA pair (KEYMAT),
// the phase 2 IVs and HASH(1..3), soft lifetimes.
#pragma once

#include <l2sec/ike/v1/detail/engine_core.hpp>

#include <algorithm>
#include <memory>

namespace l2sec::ike::v1::detail {

#define L2SEC_IKE_V1_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE_V1_CORE_T engine_core<B, R, L, S>

/// KEYMAT for both directions; child_up.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::install(sa_t& s, child_slot& c, time_point now) noexcept -> result<void> {
    event e;
    e.kind = event_kind::child_up;
    e.ike = handle(index_of(s));
    e.peer = s.peer;
    auto& ch = e.child;
    ch.ike = e.ike;
    ch.local = s.local;
    ch.peer = s.peer;
    ch.udp_encap = encap_is_udp(c.encap);
    ch.nat = s.nat;
    ch.suite = c.suite;
    if (cfg.sha256_96_compat && ch.suite.integ == esp::integrity::hmac_sha2_256_128)
        ch.suite.integ = esp::integrity::hmac_sha2_256_96;  // Android 6/7
    ch.mode = encap_is_tunnel(c.encap) ? esp::mode::tunnel : esp::mode::transport;
    ch.spi_in = c.spi_in;
    ch.spi_out = c.spi_out;
    ch.protocol = c.protocol;
    ch.local_port = c.local_port;
    ch.remote_port = c.remote_port;
    ch.lifetime = std::chrono::seconds(c.life_s);
    ch.lifetime_kb = c.life_kb;
    ch.nat_oa_peer = c.nat_oa_peer;
    ch.pfs_group = c.pfs ? static_cast<std::uint16_t>(*c.pfs) : 0;
    const std::size_t ek = c.suite.enc_keymat_size(), ik = esp::integrity_key_size(c.suite.integ);
    std::array<std::byte, child_sa::max_enc_key + child_sa::max_integ_key> km{};
    auto ni = bytes_view(c.ni.data(), c.ni_n), nr = bytes_view(c.nr.data(), c.nr_n);
    for (int dir = 0; dir < 2; ++dir) {
        const std::uint32_t spi = dir == 0 ? c.spi_in : c.spi_out;
        auto r =
            keymat<B>(s.info, s.keys.d, static_cast<std::uint8_t>(protocol_id::esp), spi, ni, nr,
                      mutable_bytes(km.data(), ek + ik), bytes_view(c.gxy.data(), c.gxy_n));
        if (!r) return r.error();
        auto& enc = dir == 0 ? ch.enc_in : ch.enc_out;
        auto& integ = dir == 0 ? ch.integ_in : ch.integ_out;
        copy_to(enc, bytes_view(km.data(), ek));
        copy_to(integ, bytes_view(km.data() + ek, ik));
    }
    crypto::secure_zero(km);
    crypto::secure_zero(mutable_bytes(c.gxy));
    c.gxy_n = 0;
    // Which SA this one replaces: the one we rekeyed, or (peer rekey,
    // re-authentication) the live one with the same peer and selectors.
    child_slot* old = nullptr;
    sa_t* old_sa = nullptr;
    for (std::size_t i = 0; i < slots && !old; ++i) {
        auto& o = tab[i];
        if (o.st != p1_state::established || !(o.peer == s.peer)) continue;
        for (auto& oc : o.children) {
            if (&oc == &c || oc.st != child_slot::state::installed || oc.rekeyed) continue;
            const bool same = c.replaces
                                  ? oc.spi_in == c.replaces
                                  : oc.protocol == c.protocol && oc.local_port == c.local_port &&
                                        oc.remote_port == c.remote_port;
            if (same) {
                old = &oc;
                old_sa = &o;
                break;
            }
        }
    }
    if (old) {
        e.old_spi_in = old->spi_in;
        old->rekeyed = true;
        old->soft_at = never;
        old->hard_at = std::min(old->hard_at, now + cfg.rekey_overlap);
        ++st.rekeys;
        // A re-authentication replaced the old IKE SA: Delete it after the overlap.
        if (old_sa != &s && s.reauth_of && *s.reauth_of == handle(index_of(*old_sa)))
            old_sa->close_at = now + cfg.rekey_overlap;
        rearm(*old_sa);
    }
    c.st = child_slot::state::installed;
    index_child(s, c);
    c.retx_at = never;
    c.installed_at = now;
    c.hard_at = now + std::chrono::seconds(c.life_s);
    c.soft_at = soft_time(now, std::chrono::seconds(c.life_s), c.initiator || s.initiator);
    c.bytes = 0;
    rearm(s);
    crypto::secure_zero(mutable_bytes(c.ni));
    ++st.children_installed;
    push_event(std::move(e));
    return {};
}

/// Phase 2 IV, hash(last phase 1 block | M-ID), with the SA's own context
/// (no allocation).
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::p2_iv(sa_t& s, std::uint32_t mid) noexcept -> result<iv> {
    std::array<std::byte, 4> m{};
    store_be32(m.data(), mid);
    std::array<std::byte, 64> d{};
    s.ivh->update(s.p1_last.view());
    s.ivh->update(m);
    s.ivh->final(mutable_bytes(d.data(), s.ivh->output_size()));
    iv out;
    out.size = s.info.block_size;
    copy_to(out.bytes, bytes_view(d.data(), out.size));
    return out;
}

/// prf(SKEYID_a, M-ID | [Ni_b |] rest): Quick Mode HASH(1)/HASH(2), Informational HASH.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::hash_a(sa_t& s, std::uint32_t mid, bytes_view ni,
                                 bytes_view rest) noexcept -> result<key> {
    std::array<std::byte, 4> m{};
    store_be32(m.data(), mid);
    key out;
    out.size = s.prf_a->output_size();
    s.prf_a->update(m);
    s.prf_a->update(ni);
    s.prf_a->update(rest);
    s.prf_a->final(mutable_bytes(out.bytes.data(), out.size));
    return out;
}

/// HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::hash3_a(sa_t& s, std::uint32_t mid, bytes_view ni, bytes_view nr) noexcept
    -> result<key> {
    std::array<std::byte, 5> m{};
    store_be32(m.data() + 1, mid);
    key out;
    out.size = s.prf_a->output_size();
    s.prf_a->update(m);
    s.prf_a->update(ni);
    s.prf_a->update(nr);
    s.prf_a->final(mutable_bytes(out.bytes.data(), out.size));
    return out;
}

/// When to rekey something that lives `life` from `now`: at rekey_margin
/// of it less a random jitter; the side that did not start the exchange
/// waits half of the remaining margin longer, so that both rarely collide.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::soft_time(time_point now, std::chrono::seconds life, bool first) noexcept
    -> time_point {
    double f = first ? cfg.rekey_margin : cfg.rekey_margin + (1.0 - cfg.rekey_margin) / 2;
    std::uint32_t r = 0;
    (void)random_int(r);
    f -= cfg.rekey_jitter * (static_cast<double>(r) / 4294967296.0);
    auto ms = static_cast<std::int64_t>(static_cast<double>(life.count()) * 1000.0 * f);
    return now + std::chrono::milliseconds(ms);
}

#undef L2SEC_IKE_V1_CORE
#undef L2SEC_IKE_V1_CORE_T

}  // namespace l2sec::ike::v1::detail
