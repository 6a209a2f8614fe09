// The IKEv1 engine's Main Mode up to the keys (RFC 2409 5): connect() and
// MM1, the vendor IDs, MM1 to MM4 in both roles, NAT-D, SKEYID.
#pragma once

#include <l2sec/ike/v1/detail/engine_core.hpp>

#include <algorithm>
#include <memory>

namespace l2sec::ike::v1::detail {

#define L2SEC_IKE_V1_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE_V1_CORE_T engine_core<B, R, L, S>

// ---- initiator: Main Mode ----------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::connect(const connection& c, time_point now) noexcept
    -> result<sa_handle> {
    if (!c.local.valid() || !c.peer.valid() || c.local.family != c.peer.family)
        return error(engine_errc::invalid_config, 0, "connection endpoints");
    if (n_half >= L::max_half_open) return error(engine_errc::capacity, 0, "half-open SAs");
    sa_t* sp = first_free();
    if (!sp) return error(engine_errc::capacity, 0, "IKE SA slots");
    auto& s = *sp;
    reset(s);
    s.initiator = true;
    s.local = c.local;
    s.peer = c.peer;
    s.conn = c;
    s.created = now;
    s.last_rx = now;
    if (!random_int(s.cky_i) || s.cky_i == 0)
        return error(engine_errc::crypto_failure, 0, "initiator cookie");
    index_sa(s);
    if (c.aggressive) {
        if (c.id.size() > s.conn_id.size())
            return error(engine_errc::invalid_config, 0, "connection id");
        copy_to(s.conn_id, c.id);
        s.conn.id = bytes_view(s.conn_id.data(), c.id.size());
        auto r = start_aggressive(s, now);
        if (!r) return r.error();
        enter_half_open(s, c.peer);
        rearm(s);
        return handle(index_of(s));
    }
    // MM1: SA with every transform we accept, then our vendor IDs.
    header h = v1_header(s, exchange::main_mode);
    message_builder b(mutable_bytes(s.tx).subspan(marker, tx_capacity), h);
    b.begin(payload_type::sa_v1);
    const std::size_t sa_at = b.out().size();
    v1::sa{doi_ipsec, sit_identity_only, {}, 0}.encode(b.out());
    sa_writer sw(b.out());
    sw.begin_proposal(1, 1, {});
    std::uint8_t n = 1;
    for (auto& p : p1)
        write_p1_transform(sw, b.out(), n++, p,
                           static_cast<std::uint32_t>(cfg.phase1_lifetime.count()));
    sw.finish();
    b.end();
    const std::size_t sa_end = b.out().size();
    add_vendor_ids(b, nat_t::rfc3947, true, true, true);
    auto sz = b.finish();
    if (!sz) return sz.error();
    if (sa_end - sa_at > s.sai_b.size())
        return error(l2sec::errc::capacity_exceeded, 0, "SA payload");
    copy_to(s.sai_b, bytes_view(s.tx).subspan(marker + sa_at, sa_end - sa_at));
    s.sai_n = u16(sa_end - sa_at);
    s.tx_n = u16(*sz);
    s.st = p1_state::i_mm1_sent;
    enter_half_open(s, c.peer);
    if (c.id.size() <= s.conn_id.size()) copy_to(s.conn_id, c.id);
    s.conn.id = bytes_view(s.conn_id.data(), std::min(c.id.size(), s.conn_id.size()));
    s.tries = 0;
    s.retx_at = retx_time(0, now);
    queue(s, 0);
    rearm(s);
    return handle(index_of(s));
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::add_vendor_ids(message_builder& b, nat_t natt, bool all_natt, bool dpd,
                                         bool frag) noexcept {
    if (all_natt) {
        b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_rfc3947));
        b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_draft_03));
        b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_draft_02_n));
        b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_draft_02));
    } else if (natt == nat_t::rfc3947) {
        b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_rfc3947));
    } else if (natt == nat_t::draft03) {
        b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_draft_03));
    } else if (natt == nat_t::draft02) {
        b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_draft_02_n));
    }
    if (dpd && cfg.send_dpd_vendor_id)
        b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::dpd));
    if (frag && cfg.send_fragmentation_vendor_id) {
        // FRAGMENTATION + the capability flags Windows and Cisco send.
        std::array<std::byte, 20> v{};
        copy_to(v, vendor_id_bytes(vendor::fragmentation));
        v[16] = std::byte{0x80};
        b.add(payload_type::vendor_id_v1, v);
    }
}

/// Vendor IDs of a peer message: the best NAT-T dialect, DPD, fragmentation.
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::read_vendor_ids(const payload_range& chain, sa_t& s) noexcept {
    nat_t best = nat_t::none;
    for (const auto& p : chain) {
        if (p.kind() != payload_type::vendor_id_v1) continue;
        auto* v = identify_vendor(p.body);
        if (!v) continue;
        switch (v->id) {
            case vendor::nat_t_rfc3947:
                best = nat_t::rfc3947;
                break;
            case vendor::nat_t_draft_03:
                if (best < nat_t::draft03) best = nat_t::draft03;
                break;
            case vendor::nat_t_draft_02:
            case vendor::nat_t_draft_02_n:
                if (best < nat_t::draft02) best = nat_t::draft02;
                break;
            case vendor::dpd:
                s.peer_dpd = true;
                break;
            case vendor::fragmentation:
                s.peer_frag = true;
                break;
            default:
                break;
        }
    }
    s.natt = best;
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::nat_d_type(const sa_t& s) const noexcept -> payload_type {
    return s.natt == nat_t::rfc3947 ? payload_type::nat_d : payload_type::nat_d_draft;
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::nat_oa_type(const sa_t& s) const noexcept -> payload_type {
    return s.natt == nat_t::rfc3947 ? payload_type::nat_oa : payload_type::nat_oa_draft;
}

// ---- responder: MM1 -----------------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::open_responder_sa(const message& msg, const payload_range& chain,
                                            bytes_view sa_body, const p1_choice& pick,
                                            const transport::endpoint& local,
                                            const transport::endpoint& peer,
                                            time_point now) noexcept -> sa_t* {
    auto* sp = alloc_half_open(peer, now);
    if (!sp) return nullptr;
    auto& s = *sp;
    s.initiator = false;
    s.local = local;
    s.peer = peer;
    s.last_rx = now;
    s.cky_i = msg.header().spi_i;
    index_sa(s);
    s.chosen = pick.chosen;
    s.info = *describe_p1(pick.chosen);
    const auto ours = static_cast<std::uint32_t>(cfg.phase1_lifetime.count());
    s.life_s = pick.life && pick.life < ours ? pick.life : ours;
    copy_to(s.sai_b, sa_body);
    s.sai_n = u16(sa_body.size());
    read_vendor_ids(chain, s);
    return sp;
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::on_mm1(const message& msg, std::uint64_t fp,
                                 const transport::endpoint& local, const transport::endpoint& peer,
                                 time_point now) noexcept {
    auto chain = msg.payloads();
    std::optional<payload> sap;
    for (const auto& p : chain)
        if (p.kind() == payload_type::sa_v1 && !sap) sap = p;
    if (!sap) return fail_note(error(engine_errc::missing_payload, 28, "MM1 SA"));
    auto v = v1::sa::parse(*sap);
    if (!v) return fail_note(v.error());
    if (v->doi != doi_ipsec || v->situation != sit_identity_only)
        return fail_note(error(engine_errc::invalid_payload, sap->body_offset(), "SA DOI"));
    // Our order of preference: the first of ours the peer offers.
    auto pick = choose_phase1(*v, std::nullopt);
    if (!pick) {
        ++st.no_proposal;
        notify_plain(msg.header(), local, peer, notify_type::no_proposal_chosen);
        event e;
        e.kind = event_kind::failed;
        e.peer = peer;
        e.reason = make_error_code(engine_errc::no_proposal_chosen);
        push_event(std::move(e));
        return fail_note(error(engine_errc::no_proposal_chosen, sap->body_offset(), "MM1 SA"));
    }
    if (sap->body.size() > sizeof(sa_t::sai_b))
        return fail_note(error(l2sec::errc::capacity_exceeded, sap->offset, "SA payload"));
    auto* sp = open_responder_sa(msg, chain, sap->body, *pick, local, peer, now);
    if (!sp) return fail_note(error(engine_errc::capacity, 0, "half-open SAs"));
    auto& s = *sp;
    if (!random_int(s.cky_r) || s.cky_r == 0) {
        free_sa(s);
        return fail_note(error(engine_errc::crypto_failure, 0, "responder cookie"));
    }
    // MM2: the chosen transform, our vendor IDs.
    header h = v1_header(s, exchange::main_mode);
    message_builder b(mutable_bytes(s.tx).subspan(marker, tx_capacity), h);
    b.begin(payload_type::sa_v1);
    v1::sa{doi_ipsec, sit_identity_only, {}, 0}.encode(b.out());
    auto& w = b.out();
    const std::size_t prop_at = w.size();
    w.u8(0);
    w.u8(0);
    w.u16(0);
    w.u8(pick->prop.number);
    w.u8(1);
    w.u8(0);
    w.u8(1);
    copy_transform(w, pick->transform);
    w.patch_u16(prop_at + 2, u16(w.size() - prop_at));
    b.end();
    add_vendor_ids(b, s.natt, false, s.peer_dpd, s.peer_frag);
    auto sz = b.finish();
    if (!sz) {
        free_sa(s);
        return fail_note(sz.error());
    }
    s.tx_n = u16(*sz);
    s.st = p1_state::r_mm2_sent;
    s.rx_fp = fp;
    queue(s, 0);
}

/// Only while our MM1 is unanswered, only from the peer we sent it to.
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::on_plain_notify(const message& msg,
                                          const transport::endpoint& peer) noexcept {
    const header& h = msg.header();
    if (auto* sp = find_sa(h.spi_i, [&](const sa_t& s) {
            return (s.st == p1_state::i_mm1_sent && s.peer == peer) ||
                   (s.st == p1_state::i_mm5_sent && s.cky_r == h.spi_r && s.peer == peer);
        })) {
        auto& s = *sp;
        for (const auto& p : msg.payloads()) {
            if (p.kind() != payload_type::notification) continue;
            auto n = notification::parse(p);
            if (n && n->type < 16384) {
                // Answering MM5 in clear: the peer could not read it or its
                // HASH_I did not verify, i.e. our keys differ.
                const bool keyed = s.st == p1_state::i_mm5_sent &&
                                   (n->kind() == notify_type::v1_payload_malformed ||
                                    n->kind() == notify_type::v1_invalid_hash_information ||
                                    n->kind() == notify_type::authentication_failed ||
                                    n->type == 1 /* INVALID-PAYLOAD-TYPE */);
                st.last_error = error(keyed ? engine_errc::wrong_psk : engine_errc::notified, 32,
                                      keyed ? "the peer could not read MM5 (its notification)"
                                            : "the peer's notification");
                remove_sa(s,
                          make_error_code(keyed ? engine_errc::wrong_psk : engine_errc::notified));
                return;
            }
        }
    }
    fail_note(error(engine_errc::wrong_state, 18, "unprotected Informational"));
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::notify_plain(const header& in, const transport::endpoint& local,
                                       const transport::endpoint& peer, notify_type t) noexcept {
    auto& o = take_shot(local, peer, local.port == 4500);
    header h;
    h.spi_i = in.spi_i;
    h.spi_r = in.spi_r;
    h.major = 1;
    h.exchange_type = exchange::informational_v1;
    message_builder b(mutable_bytes(o.buf).subspan(marker), h);
    b.begin(payload_type::notification);
    notification{doi_ipsec, 1, static_cast<std::uint16_t>(t), {}, {}}.encode(b.out());
    b.end();
    auto sz = b.finish();
    if (!sz) return;
    o.n = u16(*sz);
    queue_shot(o);
}

// ---- initiator: MM2 -> MM3 ---------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_mm2(sa_t& s, mutable_bytes buf, time_point now) noexcept
    -> result<void> {
    auto msg = parse(buf);
    if (!msg) return msg.error();
    if (msg->header().exchange_type != exchange::main_mode)
        return error(engine_errc::wrong_state, 18, "MM2 exchange type");
    auto chain = msg->payloads();
    std::optional<payload> sap;
    for (const auto& p : chain) {
        if (p.kind() == payload_type::sa_v1 && !sap) sap = p;
        if (p.kind() == payload_type::notification) {
            auto n = notification::parse(p);
            if (n && n->type < 16384) {
                remove_sa(s, make_error_code(engine_errc::notified));
                return {};
            }
        }
    }
    if (!sap) return error(engine_errc::missing_payload, 28, "MM2 SA");
    auto v = v1::sa::parse(*sap);
    if (!v) return v.error();
    std::optional<phase1_proposal> chosen;
    std::uint32_t life = 0;
    std::size_t np = 0;
    for (const auto& pp : v->proposals()) {
        ++np;
        auto pr = proposal::parse(pp);
        if (!pr || pr->protocol != 1 || pr->transform_count != 1)
            return error(engine_errc::no_proposal_chosen, pp.offset, "MM2 proposal");
        for (const auto& tp : pr->transforms()) {
            auto t = transform_v1::parse(tp);
            if (!t) return t.error();
            auto a = read_p1(*t);
            for (auto& want : p1)
                if (matches(want, a)) {
                    chosen = want;
                    life = a.life_s;
                    break;
                }
        }
    }
    if (np != 1 || !chosen)
        return error(engine_errc::no_proposal_chosen, sap->body_offset(), "MM2 SA");
    auto info = describe_p1(*chosen);
    if (!info) return error(engine_errc::no_proposal_chosen, sap->body_offset(), "MM2 SA");
    s.cky_r = msg->header().spi_r;
    s.chosen = *chosen;
    s.info = *info;
    const auto ours = static_cast<std::uint32_t>(cfg.phase1_lifetime.count());
    s.life_s = life && life < ours ? life : ours;
    read_vendor_ids(chain, s);
    // MM3: KE, Nonce, NAT-D.
    s.kx = make_dh<B>(s.chosen.group, rnd);
    if (!s.kx) return error(engine_errc::crypto_failure, 0, "DH key pair");
    s.ni_n = 32;
    if (!random(mutable_bytes(s.ni.data(), s.ni_n)))
        return error(engine_errc::crypto_failure, 0, "nonce");
    auto pub = s.kx->public_value();
    copy_to(s.gx_i, pub);
    s.gx_n = u16(pub.size());
    header h = v1_header(s, exchange::main_mode);
    message_builder b(mutable_bytes(s.tx).subspan(marker, tx_capacity), h);
    b.add(payload_type::ke_v1, pub);
    b.add(payload_type::nonce_v1, bytes_view(s.ni.data(), s.ni_n));
    if (s.natt != nat_t::none) {
        auto d1 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.peer);
        auto d2 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.local);
        if (!d1 || !d2) return error(engine_errc::crypto_failure, 0, "NAT-D");
        b.add(nat_d_type(s), *d1);
        b.add(nat_d_type(s), *d2);
    }
    auto sz = b.finish();
    if (!sz) return sz.error();
    s.tx_n = u16(*sz);
    s.st = p1_state::i_mm3_sent;
    s.tries = 0;
    s.retx_at = retx_time(0, now);
    queue(s, 0);
    return {};
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::read_ke_nonce(const sa_t& s, const message& msg) const noexcept
    -> result<ke_nonce> {
    ke_nonce k;
    auto chain = msg.payloads();
    for (const auto& p : chain) {
        if (p.kind() == payload_type::ke_v1) k.ke = p.body;
        if (p.kind() == payload_type::nonce_v1) k.nonce = p.body;
        if ((p.kind() == payload_type::nat_d || p.kind() == payload_type::nat_d_draft) &&
            k.n_natd < k.natd.size())
            k.natd[k.n_natd++] = p.body;
    }
    if (!chain.ok()) return chain.last_error();
    if (k.ke.empty()) return error(engine_errc::missing_payload, 28, "KE");
    if (k.nonce.empty()) return error(engine_errc::missing_payload, 28, "Nonce");
    if (k.ke.size() != crypto::info(s.chosen.group).public_size)
        return error(engine_errc::invalid_payload, 28, "KE size");
    if (k.nonce.size() < 8 || k.nonce.size() > 256)
        return error(engine_errc::invalid_payload, 28, "Nonce size");
    return k;
}

/// SKEYID.., the phase 1 IV and cipher, once both KE and nonces are known.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::derive(sa_t& s, bytes_view peer_ke) noexcept -> result<void> {
    if (!s.kx) return error(engine_errc::wrong_state, 0, "DH key pair (already spent)");
    std::array<std::byte, crypto::max_dh_shared_size> gxy{};
    auto n = s.kx->agree(peer_ke, gxy);
    if (!n) return error(engine_errc::invalid_payload, 28, "KE value");
    std::array<std::byte, 128> key{};
    auto kn = psk.find_psk(s.peer, bytes_view(s.peer_id.data(), s.peer_id_n), key);
    if (!kn) {
        crypto::secure_zero(gxy);
        return error(engine_errc::unknown_peer, 0, "pre-shared key");
    }
    auto ni = bytes_view(s.ni.data(), s.ni_n), nr = bytes_view(s.nr.data(), s.nr_n);
    auto skeyid = skeyid_psk<B>(s.info, bytes_view(key.data(), *kn), ni, nr);
    crypto::secure_zero(key);
    if (!skeyid) {
        crypto::secure_zero(gxy);
        return skeyid.error();
    }
    auto k = derive_phase1<B>(s.info, *skeyid, bytes_view(gxy.data(), *n), s.cky_i, s.cky_r);
    crypto::secure_zero(gxy);
    if (!k) return k.error();
    auto v =
        phase1_iv<B>(s.info, bytes_view(s.gx_i.data(), s.gx_n), bytes_view(s.gx_r.data(), s.gx_n));
    if (!v) return v.error();
    auto mc = message_crypto<B>::make(s.info, k->ka);
    if (!mc) return mc.error();
    auto pa = B::make_mac(s.info.prf, k->a);
    auto ih = B::make_hash(s.info.hash);
    if (!pa || !ih) return error(engine_errc::crypto_failure, 0, "phase 2 contexts");
    s.keys = *k;
    s.chain = *v;
    s.mc.emplace(std::move(*mc));
    s.prf_a.emplace(std::move(*pa));
    s.ivh.emplace(std::move(*ih));
    return {};  // the key pair stays until established(): a forged reply that
                // fails later (HASH_R in AM2, NAT-D) must not spend it
}

/// NAT detection from the peer's NAT-D payloads: the first names us as
/// the peer saw us, the others the peer's own addresses.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::detect_nat(sa_t& s, const ke_nonce& k) noexcept -> result<void> {
    if (s.natt == nat_t::none || k.n_natd == 0) return {};
    if (k.n_natd < 2) return error(engine_errc::missing_payload, 28, "NAT-D");
    auto me = nat_d<B>(s.info, s.cky_i, s.cky_r, s.local);
    auto him = nat_d<B>(s.info, s.cky_i, s.cky_r, s.peer);
    if (!me || !him) return error(engine_errc::crypto_failure, 0, "NAT-D");
    s.nat.local_behind = !crypto::constant_time_equal(k.natd[0], *me);
    bool seen = false;
    for (std::size_t i = 1; i < k.n_natd; ++i)
        seen |= crypto::constant_time_equal(k.natd[i], *him);
    s.nat.peer_behind = !seen;
    return {};
}

// ---- responder: MM3 -> MM4 ---------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_mm3(sa_t& s, mutable_bytes buf, time_point now) noexcept
    -> result<void> {
    auto msg = parse(buf);
    if (!msg) return msg.error();
    if (msg->header().encrypted() || msg->header().exchange_type != exchange::main_mode)
        return error(engine_errc::wrong_state, 18, "MM3");
    auto k = read_ke_nonce(s, *msg);
    if (!k) return k.error();
    auto kx = make_dh<B>(s.chosen.group, rnd);
    if (!kx) return error(engine_errc::crypto_failure, 0, "DH key pair");
    std::array<std::byte, 32> nr{};
    if (!random(nr)) return error(engine_errc::crypto_failure, 0, "nonce");
    // Commit: the message is well formed.
    s.kx.emplace(std::move(*kx));
    copy_to(s.gx_i, k->ke);
    s.gx_n = u16(k->ke.size());
    copy_to(s.gx_r, s.kx->public_value());
    copy_to(s.ni, k->nonce);
    s.ni_n = u16(k->nonce.size());
    copy_to(s.nr, nr);
    s.nr_n = 32;
    std::array<std::byte, crypto::max_dh_public_size> pub{};
    copy_to(pub, s.kx->public_value());
    if (auto d = derive(s, k->ke); !d) {
        s.kx.reset();
        return d.error();
    }
    if (auto d = detect_nat(s, *k); !d) return d.error();
    header h = v1_header(s, exchange::main_mode);
    message_builder b(mutable_bytes(s.tx).subspan(marker, tx_capacity), h);
    b.add(payload_type::ke_v1, bytes_view(pub.data(), s.gx_n));
    b.add(payload_type::nonce_v1, bytes_view(s.nr.data(), s.nr_n));
    if (s.natt != nat_t::none && k->n_natd) {
        auto d1 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.peer);
        auto d2 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.local);
        if (!d1 || !d2) return error(engine_errc::crypto_failure, 0, "NAT-D");
        b.add(nat_d_type(s), *d1);
        // Behind a 1:1 NAT: echo the hash the peer computed for the
        // address it sent to, so it sees no NAT on our side.
        if (cfg.present_unnatted)
            b.add(nat_d_type(s), k->natd[0]);
        else
            b.add(nat_d_type(s), *d2);
    }
    auto sz = b.finish();
    if (!sz) return sz.error();
    s.tx_n = u16(*sz);
    s.st = p1_state::r_mm4_sent;
    (void)now;
    queue(s, 0);
    return {};
}

#undef L2SEC_IKE_V1_CORE
#undef L2SEC_IKE_V1_CORE_T

}  // namespace l2sec::ike::v1::detail
