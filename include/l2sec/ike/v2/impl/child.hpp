// The IKEv2 engine's CREATE_CHILD_SA exchange (RFC 7296 1.3, 2.8): Child SA
// rekeying in both roles (REKEY_SA, the old SA kept for an overlap), and the
// stateless COOKIE of RFC 7296 2.6. Included by impl/engine.hpp.
#pragma once

#include <l2sec/ike/v2/impl/engine.hpp>

namespace l2sec::ike::v2::detail {

#define L2SEC_IKE2_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE2_SELF engine_core<B, R, L, S>

/// COOKIE = HMAC-SHA-256(secret, Ni | IPi | SPIi): the same for the same
/// request, nothing stored.
L2SEC_IKE2_CORE
bool L2SEC_IKE2_SELF::cookie_of(const message& m, const transport::endpoint& peer,
                                std::array<std::byte, 32>& out) noexcept {
    bytes_view ni;
    for (const auto& pl : m.payloads())
        if (pl.kind() == payload_type::nonce) ni = pl.body;
    std::array<std::byte, 8> spi{};
    store_be64(spi.data(), m.header().spi_i);
    cookie_mac->update(ni);
    cookie_mac->update(address_bytes(peer));
    cookie_mac->update(spi);
    cookie_mac->final(out);
    return true;
}

L2SEC_IKE2_CORE
bool L2SEC_IKE2_SELF::narrow(const sa_t& s, const parts& p, selector& si,
                             selector& sr) const noexcept {
    if (!p.tsi || !p.tsr) return false;
    auto ti = v2::ts::parse(*p.tsi);
    auto tr = v2::ts::parse(*p.tsr);
    if (!ti || !tr) return false;
    // TSi is the exchange initiator's side, TSr ours (IKE_AUTH and a peer's
    // CREATE_CHILD_SA alike)
    const auto fam = static_cast<std::uint8_t>(address_bytes(s.peer).size());
    return narrow_ts(*ti, *tr, cfg.child_protocol, cfg.child_local_port, fam, si, sr);
}

/// CREATE_CHILD_SA request: N(REKEY_SA), [N(USE_TRANSPORT_MODE)], SA, Ni,
/// [KEi (config::child_pfs)], TSi, TSr.
L2SEC_IKE2_CORE
result<void> L2SEC_IKE2_SELF::send_rekey(sa_t& s, child_slot& c, time_point now) noexcept {
    if (!random_int(s.pending_spi) || s.pending_spi == 0 || !random(s.rk_ni))
        return error(engine_errc::crypto_failure, 0, "SPI/nonce");
    const std::uint16_t pfs = u16(cfg.child_pfs);
    s.rk_kx.reset();
    if (pfs) {
        s.rk_kx = make_dh<B>(crypto::dh_id{pfs}, rnd);
        if (!s.rk_kx) return error(engine_errc::crypto_failure, 0, "DH key pair (PFS)");
    }
    s.rekey_old = c.sa.spi_in;
    std::array<std::byte, 4> old{};
    store_be32(old.data(), c.sa.spi_in);
    // TSi: the exchange initiator's side, which is ours now
    const selector& mine = s.initiator ? c.ts_i : c.ts_r;
    const selector& theirs = s.initiator ? c.ts_r : c.ts_i;
    const auto mode = c.sa.mode;
    ++st.rekeys;
    return send_request(s, exchange::create_child_sa, request::rekey_child, now,
                        [&](chain_writer& w) {
                            write_notify(w, notify_type::rekey_sa, {}, u16(protocol_id::esp), old);
                            if (mode == esp::mode::transport)
                                write_notify(w, notify_type::use_transport_mode);
                            w.begin(payload_type::sa);
                            write_esp_sa(w.out(), p2.span(), s.pending_spi, 1, pfs,
                                         cfg.esn ? esn_offer::both : esn_offer::off);
                            w.end();
                            w.begin(payload_type::nonce);
                            w.out().bytes(s.rk_ni);
                            w.end();
                            if (pfs) {
                                w.begin(payload_type::ke);
                                ke{pfs, s.rk_kx->public_value()}.encode(w.out());
                                w.end();
                            }
                            write_ts(w, payload_type::tsi, mine);
                            write_ts(w, payload_type::tsr, theirs);
                        });
}

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::on_child_response(sa_t& s, const parts& p, time_point now) noexcept {
    if (s.pending == request::rekey_ike) return on_ike_rekey_response(s, p, now);
    if (s.pending != request::rekey_child)
        return fail_note(error(engine_errc::wrong_state, 18, "CREATE_CHILD_SA response"));
    s.pending = request::none;
    s.retx_at = never;
    ++s.my_mid;
    auto kx = std::move(s.rk_kx);  // our PFS key pair, if any: gone with this exchange
    s.rk_kx.reset();
    const std::uint32_t coll_spi = std::exchange(s.coll_spi, 0);
    child_slot* old = nullptr;
    for (auto& c : s.children)
        if (c.used && c.sa.spi_in == s.rekey_old) old = &c;
    auto refused = [&](engine_errc why, const char* what) {
        st.last_error = error(why, 0, what);
        emit(event_kind::failed, s, why);
    };
    if (p.error_note && p.error_note->kind() == notify_type::temporary_failure) {
        // RFC 7296 2.25: the peer is busy with this SA or the IKE SA; try
        // again later if it is still ours to replace
        ++st.rekeys_deferred;
        if (old && old->gone_at == never) old->soft_at = retry_time(now);
        return;
    }
    if (p.error_note) return refused(engine_errc::notified, "CREATE_CHILD_SA refused by the peer");
    if (p.invalid_ke)
        return refused(engine_errc::no_proposal_chosen,
                       "CREATE_CHILD_SA: the peer wants another PFS group (INVALID_KE_PAYLOAD; "
                       "set config::child_pfs to one of its groups)");
    if (!p.sa || !p.nonce || !p.tsi || !p.tsr)
        return refused(engine_errc::missing_payload, "CREATE_CHILD_SA response SA/Nr/TS");
    auto sa = v2::sa::parse(*p.sa);
    auto ti = v2::ts::parse(*p.tsi);
    auto tr = v2::ts::parse(*p.tsr);
    if (!sa || !ti || !tr || ti->count == 0 || tr->count == 0)
        return refused(engine_errc::invalid_payload, "CREATE_CHILD_SA response SA/TS");
    const std::uint16_t pfs = kx ? u16(cfg.child_pfs) : 0;
    const esp_match esp_want{pfs, cfg.esn};
    auto acc = accepted<esp_proposal>(p2.span(), *sa, esp_want);
    if (!acc) return refused(engine_errc::no_proposal_chosen, "ESP SA (not as offered)");
    const auto nr = p.nonce->body;
    if (nr.size() < 16 || nr.size() > 256)
        return refused(engine_errc::invalid_payload, "CREATE_CHILD_SA Nr length");
    std::array<std::byte, crypto::max_dh_shared_size> gir{};
    std::size_t gir_n = 0;
    if (pfs) {  // RFC 7296 1.3.1: KEr in the group of our KEi
        if (!p.ke) return refused(engine_errc::missing_payload, "CREATE_CHILD_SA KEr (PFS)");
        auto kp = v2::ke::parse(*p.ke);
        if (!kp || kp->group != pfs)
            return refused(engine_errc::invalid_payload, "CREATE_CHILD_SA KEr group (PFS)");
        auto n = kx->agree(kp->data, gir);
        if (!n) return refused(engine_errc::invalid_payload, "CREATE_CHILD_SA KEr value");
        gir_n = *n;
    }
    child_params cp;
    cp.proposal = acc->first;
    cp.spi_in = s.pending_spi;
    cp.spi_out = load_be32(acc->second.spi.data());
    cp.old_spi_in = old ? old->sa.spi_in : 0;
    cp.ts_i = selector::from(ti->selector(0));
    cp.ts_r = selector::from(tr->selector(0));
    if (!s.initiator) std::swap(cp.ts_i, cp.ts_r);  // kept as the IKE SA's TSi/TSr
    cp.mode = p.transport_mode ? esp::mode::transport : esp::mode::tunnel;
    cp.esn = acc->second.picks_esn(esp_want);
    cp.ni = s.rk_ni;
    cp.nr = nr;
    cp.g_ir = bytes_view(gir.data(), gir_n);
    cp.pfs_group = pfs;
    cp.ours = true;
    auto ok = install(s, cp, now);
    crypto::secure_zero(gir);
    if (!ok) return refused(engine_errc::capacity, "Child SA slot");
    child_slot* theirs = nullptr;  // what the peer's colliding rekey made
    for (auto& c : s.children)
        if (coll_spi && c.used && c.sa.spi_in == coll_spi) theirs = &c;
    if (theirs) {
        ++st.rekey_collisions;
        if (ours_lowest(s, s.rk_ni, nr)) {
            // ours is redundant: we close it; the peer, whose SA stays,
            // deletes the old one (RFC 7296 2.8.1)
            for (auto& c : s.children)
                if (c.used && c.sa.spi_in == cp.spi_in) {
                    c.soft_at = never;
                    c.gone_at = now + cfg.rekey_overlap;  // packets in flight still open
                }
            return send_child_delete(s, cp.spi_in, now);
        }
        // theirs is redundant: the peer closes it, we delete the old one
    }
    if (old) {
        old->gone_at = now + cfg.rekey_overlap;
        old->soft_at = never;
        send_child_delete(s, old->sa.spi_in, now);  // the rekey initiator deletes the old one
    }
}

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::on_child_request(sa_t& s, const parts& p, std::uint32_t mid, std::uint64_t fp,
                                       time_point now) noexcept {
    auto answer = [&](notify_type n) {
        (void)send_response(s, exchange::create_child_sa, mid, fp,
                            [&](chain_writer& c) { write_notify(c, n); });
    };
    if (!p.sa || !p.nonce) return answer(notify_type::invalid_syntax);
    auto sa = v2::sa::parse(*p.sa);
    if (!sa) return answer(notify_type::invalid_syntax);
    for (const auto& pp : sa->proposals()) {  // an IKE SA rekey (RFC 7296 1.3.2)
        auto o = offer::read(pp);
        if (o && o->protocol == u16(protocol_id::ike)) return on_ike_rekey(s, p, *sa, mid, fp, now);
        break;
    }
    // RFC 7296 2.25.2: not while this IKE SA is being rekeyed or closed
    if (s.retire_at != never || s.pending == request::rekey_ike || s.pending == request::delete_ike)
        return answer(notify_type::temporary_failure);
    const auto ni = p.nonce->body;
    if (ni.size() < 16 || ni.size() > 256) return answer(notify_type::invalid_syntax);
    // PFS: with a KE the proposal must name its group; without, none.
    std::optional<v2::ke> kp;
    if (p.ke)
        if (auto k = v2::ke::parse(*p.ke)) kp = *k;
    const esp_match esp_want{kp ? kp->group : 0, cfg.esn};
    auto pick = choose<esp_proposal>(
        p2.span(), *sa, [](const esp_proposal&) { return true; }, esp_want);
    if (!pick) {
        ++st.no_proposal;
        return answer(notify_type::no_proposal_chosen);
    }
    selector si, sr;
    if (!narrow(s, p, si, sr)) return answer(notify_type::ts_unacceptable);
    child_slot* old = nullptr;
    if (p.rekey_sa) {
        if (p.rekey_sa->spi.size() != 4) return answer(notify_type::invalid_syntax);
        const auto spi = load_be32(p.rekey_sa->spi.data());
        for (auto& c : s.children)
            if (c.used && c.sa.spi_out == spi) old = &c;
        if (!old) return answer(notify_type::child_sa_not_found);
        // RFC 7296 2.25.1: already replaced (our rekey of it ended first, and
        // we are deleting it): the peer's exchange fails, ours stands
        if (old->gone_at != never) return answer(notify_type::temporary_failure);
    }
    // RFC 7296 2.8.1: we are rekeying the same SA; both exchanges complete,
    // the nonces decide when ours ends (on_child_response)
    const bool collision =
        old && s.pending == request::rekey_child && s.rekey_old == old->sa.spi_in;
    bool room = false;
    for (auto& c : s.children)
        room |= !c.used;
    if (!room) return answer(notify_type::no_additional_sas);
    // PFS: a KE in a group we accept
    std::array<std::byte, crypto::max_dh_shared_size> gir{};
    std::size_t gir_n = 0;
    std::array<std::byte, crypto::max_dh_public_size> pub{};
    std::size_t pub_n = 0;
    std::uint16_t group = 0;
    if (p.ke) {
        bool ok_group = false;
        if (kp)
            for (const auto& q : p1)
                ok_group |= u16(q.group) == kp->group;
        if (!kp || !ok_group) {
            std::array<std::byte, 2> g{};
            store_be16(g.data(), u16(s.chosen.group));
            return (void)send_response(s, exchange::create_child_sa, mid, fp, [&](chain_writer& c) {
                write_notify(c, notify_type::invalid_ke_payload, g);
            });
        }
        auto kx = make_dh<B>(crypto::dh_id{kp->group}, rnd);
        if (!kx) return answer(notify_type::temporary_failure);
        auto n = kx->agree(kp->data, gir);
        if (!n) return answer(notify_type::invalid_syntax);
        gir_n = *n;
        const bytes_view pv = kx->public_value();
        copy_to(pub, pv);
        pub_n = pv.size();
        group = kp->group;
    }
    std::array<std::byte, 32> nr{};
    std::uint32_t spi_in = 0;
    if (!random(nr) || !random_int(spi_in) || spi_in == 0)
        return answer(notify_type::temporary_failure);
    const auto mode = p.transport_mode ? esp::mode::transport : esp::mode::tunnel;
    (void)send_response(s, exchange::create_child_sa, mid, fp, [&](chain_writer& c) {
        if (mode == esp::mode::transport) write_notify(c, notify_type::use_transport_mode);
        c.begin(payload_type::sa);
        write_esp_sa(c.out(), std::span<const esp_proposal>(&pick->first, 1), spi_in,
                     pick->second.number, group,
                     pick->second.picks_esn(esp_want) ? esn_offer::on : esn_offer::off);
        c.end();
        c.begin(payload_type::nonce);
        c.out().bytes(nr);
        c.end();
        if (pub_n) {
            c.begin(payload_type::ke);
            ke{group, bytes_view(pub.data(), pub_n)}.encode(c.out());
            c.end();
        }
        write_ts(c, payload_type::tsi, si);
        write_ts(c, payload_type::tsr, sr);
    });
    child_params cp;
    cp.proposal = pick->first;
    cp.spi_in = spi_in;
    cp.spi_out = load_be32(pick->second.spi.data());
    cp.old_spi_in = old ? old->sa.spi_in : 0;
    cp.ts_i = si;
    cp.ts_r = sr;
    // install() takes TSi as the IKE SA initiator's side; here TSi is the peer's
    if (s.initiator) std::swap(cp.ts_i, cp.ts_r);
    cp.mode = mode;
    cp.ni = ni;
    cp.nr = nr;
    cp.g_ir = bytes_view(gir.data(), gir_n);
    cp.pfs_group = group;
    cp.esn = pick->second.picks_esn(esp_want);
    cp.ours = false;
    auto ok = install(s, cp, now);
    crypto::secure_zero(gir);
    if (!ok) return emit(event_kind::failed, s, engine_errc::crypto_failure);
    ++st.rekeys;
    if (collision) {
        s.coll_spi = spi_in;
        note_collision(s, ni, nr);
    }
    if (old) {
        old->gone_at = now + cfg.rekey_overlap;
        old->soft_at = never;
    }
}

/// A peer's IKE SA rekey: a new slot with new SPIs and keys
/// (SKEYSEED = prf(SK_d old, g^ir | Ni | Nr)), the peer as its initiator; the
/// Child SAs move to it; the old SA answers this, then waits for the peer's
/// Delete (or retires after the overlap).
L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::on_ike_rekey(sa_t& s, const parts& p, const v2::sa& sa, std::uint32_t mid,
                                   std::uint64_t fp, time_point now) noexcept {
    auto answer = [&](notify_type n, bytes_view data = {}) {
        (void)send_response(s, exchange::create_child_sa, mid, fp,
                            [&](chain_writer& c) { write_notify(c, n, data); });
    };
    if (!p.ke || !p.nonce) return answer(notify_type::invalid_syntax);
    // RFC 7296 2.25.2: not while this SA is replaced or closing, nor while
    // one of its Child SAs is being rekeyed or deleted
    if (s.retire_at != never || s.pending == request::delete_ike ||
        s.pending == request::rekey_child || s.pending == request::delete_child)
        return answer(notify_type::temporary_failure);
    // RFC 7296 2.8.2: we are rekeying it too; the nonces decide when ours ends
    const bool collision = s.pending == request::rekey_ike;
    auto kp = v2::ke::parse(*p.ke);
    if (!kp) return answer(notify_type::invalid_syntax);
    auto pick = choose<ike_proposal>(p1.span(), sa, [](const ike_proposal&) { return true; });
    if (!pick || pick->second.spi.size() != 8) return answer(notify_type::no_proposal_chosen);
    if (u16(pick->first.group) != kp->group) {
        auto same = choose<ike_proposal>(
            p1.span(), sa, [&](const ike_proposal& q) { return u16(q.group) == kp->group; });
        if (!same) {
            std::array<std::byte, 2> g{};
            store_be16(g.data(), u16(pick->first.group));
            return answer(notify_type::invalid_ke_payload, g);
        }
        pick = same;
    }
    const auto ni = p.nonce->body;
    if (ni.size() < 16 || ni.size() > 256) return answer(notify_type::invalid_syntax);
    auto info = describe(pick->first.keys_suite());
    if (!info) return answer(notify_type::no_proposal_chosen);
    sa_t* n = alloc(false);
    if (!n) return answer(notify_type::no_additional_sas);
    auto undo = [&](notify_type why) {
        free_sa(*n);
        answer(why);
    };
    n->st = sa_state::r_init_done;  // counted as half-open until committed below
    n->initiator = false;           // the rekey initiator is the new SA's initiator
    n->spi_i = load_be64(pick->second.spi.data());
    index(*n);
    n->local = s.local;
    n->peer = s.peer;
    n->floated = s.floated;
    n->nat = s.nat;
    n->conn = s.conn;
    n->created = n->last_rx = now;
    n->chosen = pick->first;
    n->info = *info;
    copy_to(n->ni, ni);
    n->ni_n = static_cast<std::uint16_t>(ni.size());
    n->nr_n = 32;
    if (!random_int(n->spi_r) || n->spi_r == 0 || !random(mutable_bytes(n->nr.data(), n->nr_n)))
        return undo(notify_type::temporary_failure);
    auto kx = make_dh<B>(crypto::dh_id{kp->group}, rnd);
    if (!kx) return undo(notify_type::temporary_failure);
    std::array<std::byte, crypto::max_dh_shared_size> g{};
    auto gn = kx->agree(kp->data, g);
    if (!gn) return undo(notify_type::invalid_syntax);
    auto keyed = rekeyed_keys(s, *n, bytes_view(g.data(), *gn));
    crypto::secure_zero(g);
    if (!keyed) return undo(notify_type::temporary_failure);
    std::array<std::byte, 8> spi{};
    store_be64(spi.data(), n->spi_r);
    const bytes_view pub = kx->public_value();
    const ike_proposal chosen = pick->first;
    const std::uint8_t number = pick->second.number;
    (void)send_response(s, exchange::create_child_sa, mid, fp, [&](chain_writer& c) {
        c.begin(payload_type::sa);
        write_ike_sa(c.out(), std::span<const ike_proposal>(&chosen, 1), spi, number);
        c.end();
        c.begin(payload_type::nonce);
        c.out().bytes(bytes_view(n->nr.data(), n->nr_n));
        c.end();
        c.begin(payload_type::ke);
        ke{kp->group, pub}.encode(c.out());
        c.end();
    });
    if (collision) {
        s.coll_ike = handle(index_of(*n));
        n->coll_from = handle(index_of(s));
        note_collision(s, ni, bytes_view(n->nr.data(), n->nr_n));
    }
    take_over(s, *n, now);
}

#undef L2SEC_IKE2_CORE
#undef L2SEC_IKE2_SELF

}  // namespace l2sec::ike::v2::detail
