// The IKEv1 engine's Quick Mode (RFC 2409 5.5): QM1 to QM3 in both roles,
// proposals, IDs, NAT-OA, PFS.
#pragma once

#include <l2sec/ike/v1/detail/engine_core.hpp>

#include <algorithm>
#include <memory>

namespace l2sec::ike::v1::detail {

#define L2SEC_IKE_V1_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE_V1_CORE_T engine_core<B, R, L, S>

// ---- Quick Mode ---------------------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::free_child(sa_t& s) noexcept -> child_slot* {
    for (auto& c : s.children)
        if (c.st == child_slot::state::free) return &c;
    return nullptr;
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::child_index(const sa_t& s, const child_slot& c) const noexcept
    -> std::uint8_t {
    return u8(static_cast<std::size_t>(&c - s.children.data()));
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::params_of(const sa_t& s) const noexcept -> qm_params {
    return {s.conn.protocol,
            s.conn.local_port,
            s.conn.remote_port,
            s.conn.mode,
            s.conn.pfs,
            s.conn.local,
            s.peer,
            {},
            {}};
}

/// To rekey `c`: the same selectors; our IDs name our address and the
/// peer's original one (NAT-OA) when we know it.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::params_of(const sa_t& s, const child_slot& c) const noexcept
    -> qm_params {
    if (s.initiator) {
        auto p = params_of(s);
        p.protocol = c.protocol;
        p.local_port = c.local_port;
        p.remote_port = c.remote_port;
        p.mode = c.mode;
        return p;
    }
    qm_params p{c.protocol, c.local_port, c.remote_port, c.mode, c.pfs, s.local, s.peer, {}, {}};
    p.id_local.port = 0;
    if (c.nat_oa_peer) p.id_peer = *c.nat_oa_peer;
    // The selectors the peer proposed (a tunnel's subnets, not our outer
    // addresses): the same SA again, or the peer finds no policy for it.
    if (c.raw_id_local_n && c.raw_id_peer_n) {
        p.raw_id_local = bytes_view(c.raw_id_local.data(), c.raw_id_local_n);
        p.raw_id_peer = bytes_view(c.raw_id_peer.data(), c.raw_id_peer_n);
    }
    return p;
}

/// QM1 (`replaces`: the inbound SPI of the SA this one rekeys, else 0).
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::start_quick_mode(sa_t& s, const qm_params& qp, std::uint32_t replaces,
                                           time_point now) noexcept -> result<void> {
    auto* cp = free_child(s);
    if (!cp) return error(engine_errc::capacity, 0, "child SA slots");
    auto& c = *cp;
    child_slot fresh;
    fresh.initiator = true;
    fresh.replaces = replaces;
    fresh.protocol = qp.protocol;
    fresh.local_port = qp.local_port;
    fresh.remote_port = qp.remote_port;
    fresh.mode = qp.mode;
    fresh.id_local = qp.id_local;
    fresh.id_peer = qp.id_peer;
    if (!qp.raw_id_local.empty() && qp.raw_id_local.size() <= fresh.raw_id_local.size() &&
        !qp.raw_id_peer.empty() && qp.raw_id_peer.size() <= fresh.raw_id_peer.size()) {
        copy_to(fresh.raw_id_local, qp.raw_id_local);
        copy_to(fresh.raw_id_peer, qp.raw_id_peer);
        fresh.raw_id_local_n = u8(qp.raw_id_local.size());
        fresh.raw_id_peer_n = u8(qp.raw_id_peer.size());
    }
    fresh.pfs = qp.pfs;
    do {
        if (!random_int(fresh.mid)) return error(engine_errc::crypto_failure, 0, "message ID");
    } while (fresh.mid == 0);
    do {
        if (!random_int(fresh.spi_in)) return error(engine_errc::crypto_failure, 0, "SPI");
    } while (fresh.spi_in < 256);
    fresh.ni_n = 32;
    if (!random(mutable_bytes(fresh.ni.data(), 32)))
        return error(engine_errc::crypto_failure, 0, "nonce");
    const auto ci = child_index(s, c);
    if (fresh.pfs) {
        s.qm_kx[ci] = make_dh<B>(*fresh.pfs, rnd);
        if (!s.qm_kx[ci]) return error(engine_errc::crypto_failure, 0, "PFS key pair");
    }
    auto v = p2_iv(s, fresh.mid);
    if (!v) return v.error();
    fresh.chain = *v;
    c = fresh;
    header h = v1_header(s, exchange::quick_mode, c.mid);
    auto out = mutable_bytes(c.tx).subspan(marker, qm_capacity);
    message_builder b(out, h);
    b.begin(payload_type::hash);
    const std::size_t hash_at = b.out().size();
    b.out().fill(crypto::info(s.info.prf).output_size);
    b.end();
    b.begin(payload_type::sa_v1);
    v1::sa{doi_ipsec, sit_identity_only, {}, 0}.encode(b.out());
    sa_writer sw(b.out());
    std::array<std::byte, 4> spi{};
    store_be32(spi.data(), c.spi_in);
    sw.begin_proposal(1, static_cast<std::uint8_t>(protocol_id::esp), spi);
    std::uint8_t n = 1;
    const auto encap = encap_value(c.mode, udp_encap(s), s.natt);
    for (auto& p : p2)
        write_esp_transform(sw, b.out(), n++, p, encap,
                            static_cast<std::uint32_t>(cfg.phase2_lifetime.count()),
                            cfg.phase2_lifetime_kb, c.pfs);
    sw.finish();
    b.end();
    b.add(payload_type::nonce_v1, bytes_view(c.ni.data(), c.ni_n));
    if (c.pfs) b.add(payload_type::ke_v1, s.qm_kx[ci]->public_value());
    write_qm_ids(b, s, c);
    if (udp_encap(s) && c.mode == esp::mode::transport) {
        for (const auto* e : {&c.id_local, &c.id_peer}) {
            b.begin(nat_oa_type(s));
            b.out().u8(address_id_type(*e));
            b.out().fill(3);
            b.out().bytes(address_bytes(*e));
            b.end();
        }
    }
    auto sz = b.finish();
    if (!sz) return sz.error();
    auto plain = parse(bytes_view(out.data(), *sz));
    if (!plain) return plain.error();
    auto rest = after_first_hash(plain->data(), plain->payloads());
    if (!rest) return error(engine_errc::invalid_payload, 0, "QM1 hash");
    auto h1 = hash_a(s, c.mid, {}, *rest);
    if (!h1) return h1.error();
    copy_to(out.subspan(hash_at), h1->view());
    if (!seal(s, out, *sz, c.chain, c.tx_n)) return st.last_error;
    c.st = child_slot::state::i_qm1_sent;
    c.tries = 0;
    c.retx_at = retx_time(0, now);
    queue(s, u8(child_index(s, c) + 1u));
    return {};
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::write_qm_ids(message_builder& b, const sa_t&,
                                       const child_slot& c) noexcept {
    if (c.raw_id_local_n && c.raw_id_peer_n) {  // as negotiated: IDci ours, IDcr theirs
        b.add(payload_type::id_v1, bytes_view(c.raw_id_local.data(), c.raw_id_local_n));
        b.add(payload_type::id_v1, bytes_view(c.raw_id_peer.data(), c.raw_id_peer_n));
        return;
    }
    b.begin(payload_type::id_v1);
    id{address_id_type(c.id_local), c.protocol, c.local_port, address_bytes(c.id_local)}.encode(
        b.out());
    b.end();
    b.begin(payload_type::id_v1);
    id{address_id_type(c.id_peer), c.protocol, c.remote_port, address_bytes(c.id_peer)}.encode(
        b.out());
    b.end();
}

/// Informational and Quick Mode messages of an established SA.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_established(sa_t& s, mutable_bytes buf, std::uint64_t fp,
                                         const transport::endpoint& local,
                                         const transport::endpoint& peer, time_point now) noexcept
    -> result<void> {
    auto hdr = decode_header(buf);
    if (!hdr) return hdr.error();
    if (!hdr->encrypted()) return error(ike::errc::not_encrypted, 19, "phase 2 message");
    if (hdr->message_id == 0) return error(engine_errc::wrong_state, 20, "phase 2 message ID");
    (void)local;
    (void)peer;
    if (hdr->exchange_type == exchange::informational_v1)
        return on_informational(s, buf, hdr->message_id, now);
    if (hdr->exchange_type != exchange::quick_mode)
        return error(engine_errc::wrong_state, 18, "exchange type");
    for (auto& c : s.children) {
        if (c.st == child_slot::state::free || c.mid != hdr->message_id) continue;
        if (c.rx_fp == fp) {  // retransmitted peer message: resend our answer
            ++st.duplicates;
            if (c.tx_n && (c.st == child_slot::state::installed ? c.initiator : true))
                queue(s, u8(child_index(s, c) + 1u));
            return {};
        }
        if (c.st == child_slot::state::i_qm1_sent) return on_qm2(s, c, buf, fp, now);
        if (c.st == child_slot::state::r_qm2_sent) return on_qm3(s, c, buf, fp, now);
        return error(engine_errc::wrong_state, 20, "Quick Mode message ID");
    }
    return on_qm1(s, buf, fp, now);
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::open_qm(sa_t& s, mutable_bytes buf, const iv& chain, std::uint32_t mid,
                                  bytes_view ni) noexcept -> result<qm_view> {
    auto o = open(s, buf, chain);
    if (!o) return o.error();
    auto rest = after_first_hash(buf, o->chain);
    if (!rest) return error(engine_errc::missing_payload, 28, "Quick Mode HASH");
    payload hp = *o->chain.begin();
    auto h = ni.empty() ? hash_a(s, mid, {}, *rest) : hash_a(s, mid, ni, *rest);
    if (!h) return h.error();
    if (!crypto::constant_time_equal(hp.body, *h))
        return error(engine_errc::authentication_failed, hp.body_offset(),
                     ni.empty() ? "Quick Mode HASH(1)" : "Quick Mode HASH(2)");
    qm_view q{o->chain, o->next, {}, {}, {}, {}, {}, {}, {}};
    for (const auto& p : o->chain) {
        switch (p.kind()) {
            case payload_type::sa_v1:
                if (!q.sap) q.sap = p;
                break;
            case payload_type::nonce_v1:
                if (!q.nonce) q.nonce = p;
                break;
            case payload_type::ke_v1:
                if (!q.ke) q.ke = p;
                break;
            case payload_type::id_v1:
                if (!q.idci)
                    q.idci = p;
                else if (!q.idcr)
                    q.idcr = p;
                break;
            case payload_type::nat_oa:
            case payload_type::nat_oa_draft:
                if (!q.oai)
                    q.oai = p;
                else if (!q.oar)
                    q.oar = p;
                break;
            default:
                break;
        }
    }
    if (!q.sap || !q.nonce) return error(engine_errc::missing_payload, 28, "Quick Mode SA/Nonce");
    if (q.nonce->body.size() < 8 || q.nonce->body.size() > 256)
        return error(engine_errc::invalid_payload, q.nonce->body_offset(), "Nonce size");
    if (q.idci && !q.idcr) return error(engine_errc::missing_payload, 28, "IDcr");
    return q;
}

// ---- responder: QM1 -> QM2 ---------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_qm1(sa_t& s, mutable_bytes buf, std::uint64_t fp,
                                 time_point now) noexcept -> result<void> {
    auto* cp = free_child(s);
    if (!cp) return error(engine_errc::capacity, 0, "child SA slots");
    const std::uint32_t mid = load_be32(buf.data() + 20);
    auto v = p2_iv(s, mid);
    if (!v) return v.error();
    auto q = open_qm(s, buf, *v, mid, {});
    if (!q) return q.error();
    auto sav = v1::sa::parse(*q->sap);
    if (!sav) return sav.error();
    // Choose: our order, over every single-protocol ESP proposal.
    std::optional<payload> chosen_t;
    std::optional<proposal> chosen_p;
    esp_proposal chosen{};
    esp_attrs attrs{};
    for (auto& want : p2) {
        for (const auto& pp : sav->proposals()) {
            auto pr = proposal::parse(pp);
            if (!pr || pr->protocol != static_cast<std::uint8_t>(protocol_id::esp) ||
                pr->spi.size() != 4)
                continue;
            for (const auto& tp : pr->transforms()) {
                auto t = transform_v1::parse(tp);
                if (!t) continue;
                auto a = read_esp(*t);
                if (a.group) {  // PFS: a group we know and allow, with a KE
                    const auto g = crypto::dh_id{a.group};
                    if (!crypto::known(g) || !q->ke ||
                        q->ke->body.size() != crypto::info(g).public_size ||
                        (g == crypto::dh_id::modp1024 && !cfg.allow_weak))
                        continue;
                }
                if (matches(want, t->id, a)) {
                    chosen_t = tp;
                    chosen_p = *pr;
                    chosen = want;
                    attrs = a;
                    break;
                }
            }
            if (chosen_t) break;
        }
        if (chosen_t) break;
    }
    if (!chosen_t) {
        ++st.no_proposal;
        // Say so (protected, RFC 2408 5.5): the initiator stops retransmitting
        // QM1 and can tell its user the suites did not meet, instead of timing out.
        send_informational(s, payload_type::notification, [&](writer& w) {
            notification{doi_ipsec,
                         static_cast<std::uint8_t>(protocol_id::esp),
                         static_cast<std::uint16_t>(notify_type::no_proposal_chosen),
                         {},
                         {}}
                .encode(w);
        });
        return error(engine_errc::no_proposal_chosen, q->sap->body_offset(), "Quick Mode SA");
    }
    child_slot c;
    c.initiator = false;
    c.mid = mid;
    c.chain = q->next;
    c.ni_n = u16(q->nonce->body.size());
    copy_to(c.ni, q->nonce->body);
    c.nr_n = 32;
    if (!random(mutable_bytes(c.nr.data(), 32)))
        return error(engine_errc::crypto_failure, 0, "nonce");
    do {
        if (!random_int(c.spi_in)) return error(engine_errc::crypto_failure, 0, "SPI");
    } while (c.spi_in < 256);
    c.spi_out = load_be32(chosen_p->spi.data());
    std::optional<typename B::key_exchange> qkx;
    if (attrs.group) {
        c.pfs = crypto::dh_id{attrs.group};
        qkx = make_dh<B>(*c.pfs, rnd);
        if (!qkx) return error(engine_errc::crypto_failure, 0, "PFS key pair");
        auto n = qkx->agree(q->ke->body, c.gxy);
        if (!n) return error(engine_errc::invalid_payload, q->ke->body_offset(), "PFS KE");
        c.gxy_n = u16(*n);
    }
    c.suite = chosen.suite;
    c.encap = attrs.encap ? attrs.encap : 1;
    c.mode = encap_is_tunnel(c.encap) ? esp::mode::tunnel : esp::mode::transport;
    const auto ours = static_cast<std::uint32_t>(cfg.phase2_lifetime.count());
    c.life_s = attrs.life_s && attrs.life_s < ours ? attrs.life_s : ours;
    c.life_kb = attrs.life_kb;
    if (cfg.phase2_lifetime_kb && (!c.life_kb || cfg.phase2_lifetime_kb < c.life_kb))
        c.life_kb = cfg.phase2_lifetime_kb;
    if (q->idci) {
        auto i = id::parse(*q->idci);
        auto r = id::parse(*q->idcr);
        if (!i) return i.error();
        if (!r) return r.error();
        c.protocol = i->protocol;
        c.remote_port = i->port;
        c.local_port = r->port;
        if (q->idci->body.size() <= c.raw_id_peer.size() &&
            q->idcr->body.size() <= c.raw_id_local.size()) {
            copy_to(c.raw_id_peer, q->idci->body);
            copy_to(c.raw_id_local, q->idcr->body);
            c.raw_id_peer_n = u8(q->idci->body.size());
            c.raw_id_local_n = u8(q->idcr->body.size());
        }
    }
    if (q->oai) {
        auto oa = nat_oa::parse(*q->oai);
        if (oa) c.nat_oa_peer = endpoint_of(oa->type, oa->address);
    }
    // QM2: HASH(2), SA (the chosen transform, our SPI), Nonce, IDs echoed.
    header h = v1_header(s, exchange::quick_mode, mid);
    auto out = mutable_bytes(cp->tx).subspan(marker, qm_capacity);
    message_builder b(out, h);
    b.begin(payload_type::hash);
    const std::size_t hash_at = b.out().size();
    const std::size_t hash_n = q->chain.begin()->body.size();
    b.out().fill(hash_n);
    b.end();
    b.begin(payload_type::sa_v1);
    v1::sa{doi_ipsec, sit_identity_only, {}, 0}.encode(b.out());
    auto& w = b.out();
    const std::size_t prop_at = w.size();
    w.u8(0);
    w.u8(0);
    w.u16(0);
    w.u8(chosen_p->number);
    w.u8(static_cast<std::uint8_t>(protocol_id::esp));
    w.u8(4);
    w.u8(1);
    w.u32(c.spi_in);
    copy_transform(w, *chosen_t);
    w.patch_u16(prop_at + 2, u16(w.size() - prop_at));
    b.end();
    b.add(payload_type::nonce_v1, bytes_view(c.nr.data(), c.nr_n));
    if (qkx) b.add(payload_type::ke_v1, qkx->public_value());
    if (q->idci) {
        b.add(payload_type::id_v1, q->idci->body);
        b.add(payload_type::id_v1, q->idcr->body);
    }
    auto sz = b.finish();
    if (!sz) return sz.error();
    auto plain = parse(bytes_view(out.data(), *sz));
    if (!plain) return plain.error();
    auto rest = after_first_hash(plain->data(), plain->payloads());
    if (!rest) return error(engine_errc::invalid_payload, 0, "QM2 hash");
    auto h2 = hash_a(s, mid, bytes_view(c.ni.data(), c.ni_n), *rest);
    if (!h2) return h2.error();
    copy_to(out.subspan(hash_at), h2->view().first(std::min(hash_n, h2->size)));
    std::uint16_t tx_n = 0;
    if (!seal(s, out, *sz, c.chain, tx_n)) return st.last_error;
    c.tx = cp->tx;
    c.tx_n = tx_n;
    c.st = child_slot::state::r_qm2_sent;
    c.rx_fp = fp;
    c.tries = 0;
    c.retx_at = retx_time(0, now);
    *cp = c;
    queue(s, u8(child_index(s, *cp) + 1u));
    return {};
}

// ---- initiator: QM2 -> QM3 ---------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_qm2(sa_t& s, child_slot& c, mutable_bytes buf, std::uint64_t fp,
                                 time_point now) noexcept -> result<void> {
    auto q = open_qm(s, buf, c.chain, c.mid, bytes_view(c.ni.data(), c.ni_n));
    if (!q) return q.error();
    auto sav = v1::sa::parse(*q->sap);
    if (!sav) return sav.error();
    std::optional<esp_proposal> chosen;
    esp_attrs attrs{};
    std::uint32_t spi_out = 0;
    std::size_t np = 0;
    for (const auto& pp : sav->proposals()) {
        ++np;
        auto pr = proposal::parse(pp);
        if (!pr || pr->protocol != static_cast<std::uint8_t>(protocol_id::esp) ||
            pr->spi.size() != 4 || pr->transform_count != 1)
            return error(engine_errc::no_proposal_chosen, pp.offset, "QM2 proposal");
        spi_out = load_be32(pr->spi.data());
        for (const auto& tp : pr->transforms()) {
            auto t = transform_v1::parse(tp);
            if (!t) return t.error();
            auto a = read_esp(*t);
            for (auto& want : p2)
                if (matches(want, t->id, a)) {
                    chosen = want;
                    attrs = a;
                    break;
                }
        }
    }
    if (np != 1 || !chosen || spi_out < 256)
        return error(engine_errc::no_proposal_chosen, q->sap->body_offset(), "QM2 SA");
    auto h3 = hash3_a(s, c.mid, bytes_view(c.ni.data(), c.ni_n), q->nonce->body);
    if (!h3) return h3.error();
    const auto ci = child_index(s, c);
    if (c.pfs) {  // the responder must have answered with the group and a KE
        if (attrs.group != static_cast<std::uint16_t>(*c.pfs) || !q->ke || !s.qm_kx[ci])
            return error(engine_errc::no_proposal_chosen, q->sap->body_offset(),
                         "QM2 without the PFS group");
        auto n = s.qm_kx[ci]->agree(q->ke->body, c.gxy);
        if (!n) return error(engine_errc::invalid_payload, q->ke->body_offset(), "PFS KE");
        c.gxy_n = u16(*n);
        s.qm_kx[ci].reset();
    } else if (attrs.group) {
        return error(engine_errc::no_proposal_chosen, q->sap->body_offset(),
                     "QM2 with a PFS group we did not offer");
    }
    // Commit.
    c.chain = q->next;
    c.nr_n = u16(q->nonce->body.size());
    copy_to(c.nr, q->nonce->body);
    c.spi_out = spi_out;
    c.suite = chosen->suite;
    c.encap = attrs.encap ? attrs.encap : 1;
    c.mode = encap_is_tunnel(c.encap) ? esp::mode::tunnel : esp::mode::transport;
    const auto ours = static_cast<std::uint32_t>(cfg.phase2_lifetime.count());
    c.life_s = attrs.life_s && attrs.life_s < ours ? attrs.life_s : ours;
    c.life_kb = attrs.life_kb ? attrs.life_kb : cfg.phase2_lifetime_kb;
    if (q->oar) {
        auto oa = nat_oa::parse(*q->oar);
        if (oa) c.nat_oa_peer = endpoint_of(oa->type, oa->address);
    }
    header h = v1_header(s, exchange::quick_mode, c.mid);
    auto out = mutable_bytes(c.tx).subspan(marker, qm_capacity);
    message_builder b(out, h);
    b.add(payload_type::hash, *h3);
    auto sz = b.finish();
    if (!sz) return sz.error();
    if (!seal(s, out, *sz, c.chain, c.tx_n)) return st.last_error;
    c.rx_fp = fp;
    queue(s, u8(child_index(s, c) + 1u));
    return install(s, c, now);
}

// ---- responder: QM3 -----------------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_qm3(sa_t& s, child_slot& c, mutable_bytes buf, std::uint64_t fp,
                                 time_point now) noexcept -> result<void> {
    auto o = open(s, buf, c.chain);
    if (!o) return o.error();
    std::optional<payload> hp;
    for (const auto& p : o->chain)
        if (!hp && p.kind() == payload_type::hash) hp = p;
    if (!hp) return error(engine_errc::missing_payload, 28, "QM3 HASH");
    auto h3 = hash3_a(s, c.mid, bytes_view(c.ni.data(), c.ni_n), bytes_view(c.nr.data(), c.nr_n));
    if (!h3) return h3.error();
    if (!crypto::constant_time_equal(hp->body, *h3))
        return error(engine_errc::authentication_failed, hp->body_offset(), "Quick Mode HASH(3)");
    c.chain = o->next;
    c.rx_fp = fp;
    c.tx_n = 0;
    return install(s, c, now);
}

#undef L2SEC_IKE_V1_CORE
#undef L2SEC_IKE_V1_CORE_T

}  // namespace l2sec::ike::v1::detail
