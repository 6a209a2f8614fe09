// The IKEv1 engine's Aggressive Mode with pre-shared keys (RFC 2409 5.4),
// both roles, and the phase 1 transform choice it shares with Main Mode.
#pragma once

#include <l2sec/ike/v1/detail/engine_core.hpp>

#include <algorithm>
#include <memory>

namespace l2sec::ike::v1::detail {

#define L2SEC_IKE_V1_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE_V1_CORE_T engine_core<B, R, L, S>

// ---- Aggressive Mode (RFC 2409 5.4, pre-shared key) ----------------------

/// Our phase 1 ID for Aggressive Mode: the configured one, else our address.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::am_id(const sa_t& s, std::array<std::byte, 4 + 128>& b) const noexcept
    -> bytes_view {
    bytes_view data = s.conn.id.empty() ? cfg.local_id : s.conn.id;
    if (data.empty()) {
        std::array<std::byte, 20> a{};
        auto v = id_body(s, a);
        copy_to(b, v);
        return bytes_view(b.data(), v.size());
    }
    b[0] = std::byte{cfg.local_id_type};
    b[1] = b[2] = b[3] = std::byte{0};
    copy_to(mutable_bytes(b).subspan(4), data);
    return bytes_view(b.data(), 4 + data.size());
}

/// AM1: SA (every transform of the first proposal's group: the KE is sent
/// before the group is agreed), KE, Nonce, IDii, vendor IDs.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::start_aggressive(sa_t& s, time_point now) noexcept -> result<void> {
    const auto group = p1[0].group;
    s.aggressive = true;
    s.kx = make_dh<B>(group, rnd);
    if (!s.kx) return error(engine_errc::crypto_failure, 0, "DH key pair");
    s.ni_n = 32;
    if (!random(mutable_bytes(s.ni.data(), s.ni_n)))
        return error(engine_errc::crypto_failure, 0, "nonce");
    auto pub = s.kx->public_value();
    copy_to(s.gx_i, pub);
    s.gx_n = u16(pub.size());
    header h = v1_header(s, exchange::aggressive);
    message_builder b(mutable_bytes(s.tx).subspan(marker, tx_capacity), h);
    b.begin(payload_type::sa_v1);
    const std::size_t sa_at = b.out().size();
    v1::sa{doi_ipsec, sit_identity_only, {}, 0}.encode(b.out());
    sa_writer sw(b.out());
    sw.begin_proposal(1, 1, {});
    std::uint8_t n = 1;
    for (auto& p : p1)
        if (p.group == group)
            write_p1_transform(sw, b.out(), n++, p,
                               static_cast<std::uint32_t>(cfg.phase1_lifetime.count()));
    sw.finish();
    b.end();
    const std::size_t sa_end = b.out().size();
    b.add(payload_type::ke_v1, pub);
    b.add(payload_type::nonce_v1, bytes_view(s.ni.data(), s.ni_n));
    std::array<std::byte, 4 + 128> idb{};
    b.add(payload_type::id_v1, am_id(s, idb));
    add_vendor_ids(b, nat_t::rfc3947, true, true, true);
    auto sz = b.finish();
    if (!sz) return sz.error();
    copy_to(s.sai_b, bytes_view(s.tx).subspan(marker + sa_at, sa_end - sa_at));
    s.sai_n = u16(sa_end - sa_at);
    s.tx_n = u16(*sz);
    s.st = p1_state::i_am1_sent;
    s.tries = 0;
    s.retx_at = retx_time(0, now);
    queue(s, 0);
    return {};
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::choose_phase1(const v1::sa& v,
                                        std::optional<std::size_t> ke_size) const noexcept
    -> std::optional<p1_choice> {
    for (auto& want : p1) {
        if (ke_size && crypto::info(want.group).public_size != *ke_size) continue;
        for (const auto& pp : v.proposals()) {
            auto pr = proposal::parse(pp);
            if (!pr || pr->protocol != 1) continue;
            for (const auto& tp : pr->transforms()) {
                auto t = transform_v1::parse(tp);
                if (!t || t->id != 1) continue;
                auto a = read_p1(*t);
                if (matches(want, a)) return p1_choice{*pr, tp, want, a.life_s};
            }
        }
    }
    return std::nullopt;
}

// Responder: AM1 -> AM2 (SA, KE, Nonce, IDir, HASH_R, NAT-D).
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::on_am1(const message& msg, std::uint64_t fp,
                                 const transport::endpoint& local, const transport::endpoint& peer,
                                 time_point now) noexcept {
    if (!cfg.allow_aggressive) {
        notify_plain(msg.header(), local, peer, notify_type::no_proposal_chosen);
        return fail_note(
            error(engine_errc::wrong_state, 18, "Aggressive Mode (off: config::allow_aggressive)"));
    }
    auto chain = msg.payloads();
    std::optional<payload> sap, kep, np, idp;
    for (const auto& p : chain) {
        if (p.kind() == payload_type::sa_v1 && !sap) sap = p;
        if (p.kind() == payload_type::ke_v1 && !kep) kep = p;
        if (p.kind() == payload_type::nonce_v1 && !np) np = p;
        if (p.kind() == payload_type::id_v1 && !idp) idp = p;
    }
    if (!sap || !kep || !np || !idp)
        return fail_note(error(engine_errc::missing_payload, 28, "AM1 SA/KE/Nonce/ID"));
    if (np->body.size() < 8 || np->body.size() > 256 || idp->body.size() < 4 ||
        idp->body.size() > sizeof(sa_t::peer_id) || sap->body.size() > sizeof(sa_t::sai_b))
        return fail_note(error(engine_errc::invalid_payload, np->offset, "AM1 Nonce/ID size"));
    auto v = v1::sa::parse(*sap);
    if (!v) return fail_note(v.error());
    auto pick = choose_phase1(*v, kep->body.size());
    if (!pick) {
        ++st.no_proposal;
        notify_plain(msg.header(), local, peer, notify_type::no_proposal_chosen);
        return fail_note(error(engine_errc::no_proposal_chosen, sap->body_offset(), "AM1 SA"));
    }
    auto* sp = open_responder_sa(msg, chain, sap->body, *pick, local, peer, now);
    if (!sp) return fail_note(error(engine_errc::capacity, 0, "half-open SAs"));
    auto& s = *sp;
    s.aggressive = true;
    s.peer_id_n = u16(idp->body.size());
    copy_to(s.peer_id, idp->body);
    auto fail = [&](const error& e) {
        free_sa(s);
        fail_note(e);
    };
    if (!random_int(s.cky_r) || s.cky_r == 0)
        return fail(error(engine_errc::crypto_failure, 0, "responder cookie"));
    s.kx = make_dh<B>(pick->chosen.group, rnd);
    if (!s.kx) return fail(error(engine_errc::crypto_failure, 0, "DH key pair"));
    copy_to(s.gx_i, kep->body);
    s.gx_n = u16(kep->body.size());
    std::array<std::byte, crypto::max_dh_public_size> pub{};
    copy_to(pub, s.kx->public_value());
    copy_to(s.gx_r, s.kx->public_value());
    copy_to(s.ni, np->body);
    s.ni_n = u16(np->body.size());
    s.nr_n = 32;
    if (!random(mutable_bytes(s.nr.data(), 32)))
        return fail(error(engine_errc::crypto_failure, 0, "nonce"));
    // The PSK is looked up by the peer's ID data (after type/protocol/port).
    std::array<std::byte, 128> idcopy{};
    copy_to(idcopy, idp->body);
    s.peer_id_n = u16(idp->body.size());
    if (auto d = derive_am(s, kep->body, bytes_view(idcopy.data() + 4, idp->body.size() - 4)); !d)
        return fail(d.error());
    std::array<std::byte, 4 + 128> idb{};
    auto myid = am_id(s, idb);
    auto hr = phase1_hash<B>(s.info, s.keys.skeyid, false, bytes_view(s.gx_i.data(), s.gx_n),
                             bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                             bytes_view(s.sai_b.data(), s.sai_n), myid);
    if (!hr) return fail(hr.error());
    header h = v1_header(s, exchange::aggressive);
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
    b.add(payload_type::ke_v1, bytes_view(pub.data(), s.gx_n));
    b.add(payload_type::nonce_v1, bytes_view(s.nr.data(), s.nr_n));
    b.add(payload_type::id_v1, myid);
    b.add(payload_type::hash, *hr);
    add_vendor_ids(b, s.natt, false, s.peer_dpd, s.peer_frag);
    if (s.natt != nat_t::none) {
        auto d1 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.peer);
        auto d2 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.local);
        if (!d1 || !d2) return fail(error(engine_errc::crypto_failure, 0, "NAT-D"));
        b.add(nat_d_type(s), *d1);
        b.add(nat_d_type(s), *d2);
    }
    auto sz = b.finish();
    if (!sz) return fail(sz.error());
    s.tx_n = u16(*sz);
    s.st = p1_state::r_am2_sent;
    s.rx_fp = fp;
    s.tries = 0;
    s.retx_at = retx_time(0, now);  // AM3 is not answered: AM2 until it comes
    queue(s, 0);
}

/// derive() with the PSK looked up by the peer's Aggressive Mode ID.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::derive_am(sa_t& s, bytes_view peer_ke, bytes_view peer_id_data) noexcept
    -> result<void> {
    const auto saved = s.peer_id_n;
    std::array<std::byte, 128> keep{};
    copy_to(keep, bytes_view(s.peer_id.data(), s.peer_id_n));
    copy_to(s.peer_id, peer_id_data);
    s.peer_id_n = u16(peer_id_data.size());
    auto r = derive(s, peer_ke);
    copy_to(s.peer_id, bytes_view(keep.data(), saved));
    s.peer_id_n = saved;
    return r;
}

/// Initiator: AM2 -> AM3 (HASH_I, NAT-D; encrypted).
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_am2(sa_t& s, mutable_bytes buf, time_point now) noexcept
    -> result<void> {
    auto msg = parse(buf);
    if (!msg) return msg.error();
    if (msg->header().exchange_type != exchange::aggressive || msg->header().encrypted())
        return error(engine_errc::wrong_state, 18, "AM2");
    std::optional<payload> sap, idp, hp;
    auto chain = msg->payloads();
    for (const auto& p : chain) {
        if (p.kind() == payload_type::sa_v1 && !sap) sap = p;
        if (p.kind() == payload_type::id_v1 && !idp) idp = p;
        if (p.kind() == payload_type::hash && !hp) hp = p;
    }
    if (!sap || !idp || !hp) return error(engine_errc::missing_payload, 28, "AM2 SA/ID/HASH");
    auto v = v1::sa::parse(*sap);
    if (!v) return v.error();
    std::optional<phase1_proposal> chosen;
    std::uint32_t life = 0;
    for (const auto& pp : v->proposals()) {
        auto pr = proposal::parse(pp);
        if (!pr || pr->protocol != 1 || pr->transform_count != 1) continue;
        for (const auto& tp : pr->transforms()) {
            auto t = transform_v1::parse(tp);
            if (!t) continue;
            auto a = read_p1(*t);
            for (auto& want : p1)
                if (want.group == p1[0].group && matches(want, a)) {
                    chosen = want;
                    life = a.life_s;
                }
        }
    }
    if (!chosen) return error(engine_errc::no_proposal_chosen, sap->body_offset(), "AM2 SA");
    s.cky_r = msg->header().spi_r;
    s.chosen = *chosen;
    s.info = *describe_p1(*chosen);
    auto k = read_ke_nonce(s, *msg);
    if (!k) return k.error();
    const auto ours = static_cast<std::uint32_t>(cfg.phase1_lifetime.count());
    s.life_s = life && life < ours ? life : ours;
    read_vendor_ids(chain, s);
    copy_to(s.gx_r, k->ke);
    copy_to(s.nr, k->nonce);
    s.nr_n = u16(k->nonce.size());
    if (idp->body.size() < 4 || idp->body.size() > s.peer_id.size())
        return error(engine_errc::invalid_payload, idp->body_offset(), "AM2 ID");
    if (auto d = derive_am(s, k->ke, idp->body.subspan(4)); !d) return d.error();
    auto hr = phase1_hash<B>(s.info, s.keys.skeyid, false, bytes_view(s.gx_i.data(), s.gx_n),
                             bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                             bytes_view(s.sai_b.data(), s.sai_n), idp->body);
    if (!hr) return hr.error();
    // Twice (AM2 again, answering our retransmitted AM1) is a wrong PSK:
    // once may be a forged AM2, which anyone who saw AM1 can send.
    if (!crypto::constant_time_equal(hp->body, *hr))
        return wrong_psk(s, error(engine_errc::authentication_failed, hp->body_offset(), "HASH_R"));
    if (auto d = detect_nat(s, *k); !d) return d.error();
    if (n_est >= L::max_sas) return error(engine_errc::capacity, 0, "established SAs");
    s.peer_id_n = u16(idp->body.size());
    copy_to(s.peer_id, idp->body);
    std::array<std::byte, 4 + 128> idb{};
    auto myid = am_id(s, idb);
    auto hi = phase1_hash<B>(s.info, s.keys.skeyid, true, bytes_view(s.gx_i.data(), s.gx_n),
                             bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                             bytes_view(s.sai_b.data(), s.sai_n), myid);
    if (!hi) return hi.error();
    header h = v1_header(s, exchange::aggressive);
    auto out = mutable_bytes(s.tx).subspan(marker, tx_capacity);
    message_builder b(out, h);
    b.add(payload_type::hash, *hi);
    if (s.natt != nat_t::none && k->n_natd) {  // over the addresses of AM1/AM2
        auto d1 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.peer);
        auto d2 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.local);
        if (!d1 || !d2) return error(engine_errc::crypto_failure, 0, "NAT-D");
        b.add(nat_d_type(s), *d1);
        b.add(nat_d_type(s), *d2);
    }
    if (s.nat.any()) {
        s.local.port = 4500;
        s.peer.port = 4500;
        s.floated = true;
    }
    auto sz = b.finish();
    if (!sz) return sz.error();
    if (!seal(s, out, *sz, s.chain, s.tx_n)) return st.last_error;
    s.p1_last = s.chain;
    queue(s, 0);
    established(s, now);
    return start_quick_mode(s, params_of(s), 0, now);
}

/// Responder: AM3 (HASH_I), encrypted or not.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_am3(sa_t& s, mutable_bytes buf, const transport::endpoint& local,
                                 const transport::endpoint& peer, time_point now) noexcept
    -> result<void> {
    auto hdr = decode_header(buf);
    if (!hdr) return hdr.error();
    if (hdr->exchange_type != exchange::aggressive)
        return error(engine_errc::wrong_state, 18, "AM3");
    payload_range chain;
    iv next = s.chain;
    if (hdr->encrypted()) {
        auto o = open(s, buf, s.chain);
        if (!o) return garbled(o.error(), "AM3 (garbage after decryption: wrong pre-shared key?)");
        chain = o->chain;
        next = o->next;
    } else {
        auto m = parse(buf);
        if (!m) return m.error();
        chain = m->payloads();
    }
    std::optional<payload> hp;
    ke_nonce nd;
    for (const auto& p : chain) {
        if (p.kind() == payload_type::hash && !hp) hp = p;
        if ((p.kind() == payload_type::nat_d || p.kind() == payload_type::nat_d_draft) &&
            nd.n_natd < nd.natd.size())
            nd.natd[nd.n_natd++] = p.body;
    }
    if (!hp) return error(engine_errc::missing_payload, 28, "AM3 HASH");
    auto hi = phase1_hash<B>(s.info, s.keys.skeyid, true, bytes_view(s.gx_i.data(), s.gx_n),
                             bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                             bytes_view(s.sai_b.data(), s.sai_n),
                             bytes_view(s.peer_id.data(), s.peer_id_n));
    if (!hi) return hi.error();
    if (!crypto::constant_time_equal(hp->body, *hi))
        return error(engine_errc::authentication_failed, hp->body_offset(), "HASH_I");
    if (n_est >= L::max_sas) return error(engine_errc::capacity, 0, "established SAs");
    if (auto d = detect_nat(s, nd); !d) return d.error();  // before the float
    s.chain = next;
    s.p1_last = s.chain;
    if (local.port == 4500) {
        s.local = local;
        s.peer = peer;
        s.floated = true;
    }
    s.tx_n = 0;
    established(s, now);
    return {};
}

#undef L2SEC_IKE_V1_CORE
#undef L2SEC_IKE_V1_CORE_T

}  // namespace l2sec::ike::v1::detail
