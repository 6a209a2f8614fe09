// The IKEv2 engine's IKE SA rekey (RFC 7296 1.3.2, 2.18), the initiating
// side, and what both sides share: the new SA's keys and the move of the
// Child SAs. Included by impl/engine.hpp.
#pragma once

#include <l2sec/ike/v2/impl/engine.hpp>

namespace l2sec::ike::v2::detail {

#define L2SEC_IKE2_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE2_SELF engine_core<B, R, L, S>

/// SKEYSEED = prf(SK_d (old), g^ir | Ni | Nr), then the seven keys with the
/// new SPIs and the SK contexts (n: SPIs, nonces, info and role already set).
L2SEC_IKE2_CORE
result<void> L2SEC_IKE2_SELF::rekeyed_keys(const sa_t& old, sa_t& n, bytes_view g_ir) noexcept {
    const bytes_view ni(n.ni.data(), n.ni_n), nr(n.nr.data(), n.nr_n);
    auto seed = rekey_skeyseed<B>(old.info, old.keys.d, g_ir, ni, nr);
    if (!seed) return seed.error();
    auto k = derive_ike_sa_keys<B>(n.info, seed->view(), ni, nr, n.spi_i, n.spi_r);
    crypto::secure_zero(mutable_bytes(seed->bytes));
    if (!k) return k.error();
    auto tx = n.initiator ? sk_protect<B>::make(n.info, k->ei, k->ai)
                          : sk_protect<B>::make(n.info, k->er, k->ar);
    auto rx_ = n.initiator ? sk_protect<B>::make(n.info, k->er, k->ar)
                           : sk_protect<B>::make(n.info, k->ei, k->ai);
    if (!tx || !rx_) return error(engine_errc::crypto_failure, 0, "SK keys");
    n.keys = *k;
    for (auto* x : {&k->d, &k->ai, &k->ar, &k->ei, &k->er, &k->pi, &k->pr})
        crypto::secure_zero(mutable_bytes(x->bytes));
    n.sk_tx.emplace(std::move(*tx));
    n.sk_rx.emplace(std::move(*rx_));
    return {};
}

/// The Child SAs move to the new IKE SA, which is established; the old one
/// retires (its Delete, or the overlap).
L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::take_over(sa_t& old, sa_t& n, time_point now) noexcept {
    move_children(old, n);
    n.frag = old.frag;  // RFC 7383 2.3: negotiated for the IKE SA, its rekeyed successors keep it
    n.peer_id_set = old.peer_id_set;  // INITIAL_CONTACT still finds the rekeyed SA
    n.peer_id_type = old.peer_id_type;
    n.peer_id_n = old.peer_id_n;
    n.peer_id = old.peer_id;
    leave_half_open(n);
    ++n_est;
    n.st = sa_state::established;
    n.last_rx = now;
    ike_soft(n, now);
    old.retire_at = now + cfg.rekey_overlap;
    old.soft_at = never;
    ++st.rekeys;
    emit(event_kind::ike_up, n);
}

/// The Child SAs and the virtual address, which go with the SA (not back
/// to the pool), move from `from` to `to`.
L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::move_children(sa_t& from, sa_t& to) noexcept {
    to.has_vip = from.has_vip;
    to.vip = from.vip;
    to.vdns = from.vdns;
    to.vip_pool = from.vip_pool;
    from.has_vip = from.vip_pool = false;
    for (std::size_t i = 0; i < from.children.size(); ++i) {
        to.children[i] = from.children[i];
        to.children[i].sa.ike = handle(index_of(to));
        from.children[i] = child_slot{};
    }
}

/// The peer deleted `n`, the SA its colliding rekey made, as redundant
/// before our rekey of `old` ended (RFC 7296 2.8.2): what moved to `n` goes
/// back to `old`, so that our new SA takes it when our exchange ends.
L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::give_back(sa_t& n, sa_t& old) noexcept {
    move_children(n, old);
    old.retire_at = never;  // it stays until our rekey of it ends
    old.coll_ike = {};
    touch(old);
}

/// CREATE_CHILD_SA request: SA (our IKE proposals with the new SPIi), Ni, KEi
/// in the group of the current SA.
L2SEC_IKE2_CORE
result<void> L2SEC_IKE2_SELF::send_ike_rekey(sa_t& s, time_point now) noexcept {
    if (!random_int(s.rk_spi) || s.rk_spi == 0 || !random(s.rk_ni))
        return error(engine_errc::crypto_failure, 0, "SPI/nonce");
    s.rk_kx = make_dh<B>(crypto::dh_id{u16(s.chosen.group)}, rnd);
    if (!s.rk_kx) return error(engine_errc::crypto_failure, 0, "DH key pair");
    std::array<std::byte, 8> spi{};
    store_be64(spi.data(), s.rk_spi);
    return send_request(s, exchange::create_child_sa, request::rekey_ike, now,
                        [&](chain_writer& w) {
                            w.begin(payload_type::sa);
                            write_ike_sa(w.out(), p1.span(), spi);
                            w.end();
                            w.begin(payload_type::nonce);
                            w.out().bytes(s.rk_ni);
                            w.end();
                            w.begin(payload_type::ke);
                            ke{u16(s.chosen.group), s.rk_kx->public_value()}.encode(w.out());
                            w.end();
                        });
}

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::on_ike_rekey_response(sa_t& s, const parts& p, time_point now) noexcept {
    s.pending = request::none;
    s.retx_at = never;
    ++s.my_mid;
    sa_t* theirs = get(std::exchange(s.coll_ike, sa_handle{}));  // the peer's colliding rekey
    if (theirs && theirs->st != sa_state::established) theirs = nullptr;
    auto refused = [&](engine_errc why, const char* what) {
        st.last_error = error(why, 0, what);
        s.rk_kx.reset();
        emit(event_kind::failed, s, why);
    };
    if (p.error_note && p.error_note->kind() == notify_type::temporary_failure) {
        // RFC 7296 2.25.2: the peer is busy; again later if still ours to replace
        ++st.rekeys_deferred;
        s.rk_kx.reset();
        if (s.retire_at == never) s.soft_at = retry_time(now);
        return;
    }
    if (p.error_note) return refused(engine_errc::notified, "IKE SA rekey refused by the peer");
    if (!p.sa || !p.nonce || !p.ke)
        return refused(engine_errc::missing_payload, "IKE SA rekey response SA/Nr/KE");
    auto sa = v2::sa::parse(*p.sa);
    auto kp = v2::ke::parse(*p.ke);
    if (!sa || !kp) return refused(engine_errc::invalid_payload, "IKE SA rekey response SA/KE");
    auto acc = accepted<ike_proposal>(p1.span(), *sa);
    if (!acc || acc->second.spi.size() != 8 || acc->first.group != s.chosen.group ||
        kp->group != u16(s.chosen.group))
        return refused(engine_errc::invalid_payload, "IKE SA rekey response (not as offered)");
    const auto nr = p.nonce->body;
    if (nr.size() < 16 || nr.size() > 256)
        return refused(engine_errc::invalid_payload, "IKE SA rekey Nr length");
    auto info = describe(acc->first.keys_suite());
    if (!info) return refused(engine_errc::invalid_payload, "IKE SA rekey suite");
    sa_t* n = alloc(false);
    if (!n) return refused(engine_errc::capacity, "IKE SA slot");
    n->st = sa_state::i_auth_sent;  // half-open until take_over()
    n->initiator = true;
    n->spi_i = s.rk_spi;
    index(*n);
    n->spi_r = load_be64(acc->second.spi.data());
    n->local = s.local;
    n->peer = s.peer;
    n->floated = s.floated;
    n->nat = s.nat;
    n->conn = s.conn;
    n->created = now;
    n->chosen = acc->first;
    n->info = *info;
    copy_to(n->ni, s.rk_ni);
    n->ni_n = static_cast<std::uint16_t>(s.rk_ni.size());
    copy_to(n->nr, nr);
    n->nr_n = static_cast<std::uint16_t>(nr.size());
    std::array<std::byte, crypto::max_dh_shared_size> g{};
    auto gn = s.rk_kx->agree(kp->data, g);
    s.rk_kx.reset();
    if (!gn) {
        free_sa(*n);
        return refused(engine_errc::invalid_payload, "IKE SA rekey KE value");
    }
    auto keyed = rekeyed_keys(s, *n, bytes_view(g.data(), *gn));
    crypto::secure_zero(g);
    if (!keyed) {
        free_sa(*n);
        return refused(engine_errc::crypto_failure, "IKE SA rekey keys");
    }
    if (theirs) {
        ++st.rekey_collisions;
        if (ours_lowest(s, s.rk_ni, nr)) {
            // RFC 7296 2.8.2: ours is redundant and we, its creator, close
            // it; the Child SAs stay on the peer's, which deletes the old SA
            leave_half_open(*n);
            ++n_est;
            n->st = sa_state::established;
            n->redundant = true;
            n->frag = s.frag;
            n->last_rx = now;
            (void)send_request(*n, exchange::informational, request::delete_ike, now,
                               [](chain_writer& c) {
                                   c.begin(payload_type::delete_);
                                   delete_{u16(protocol_id::ike), 0, 0, {}}.encode(c.out());
                                   c.end();
                               });
            return;
        }
        // the peer's is redundant (it closes it): the Child SAs, which moved
        // to it, move on to ours, and we delete the old SA
        take_over(*theirs, *n, now);
        touch(*theirs);
    } else {
        take_over(s, *n, now);
    }
    // the rekey initiator deletes the old IKE SA (RFC 7296 2.18)
    (void)send_request(s, exchange::informational, request::delete_old, now, [](chain_writer& c) {
        c.begin(payload_type::delete_);
        delete_{u16(protocol_id::ike), 0, 0, {}}.encode(c.out());
        c.end();
    });
}

L2SEC_IKE2_CORE
result<void> L2SEC_IKE2_SELF::rekey_child(sa_handle hd, std::uint32_t spi_in,
                                          time_point now) noexcept {
    sa_t* s = get(hd);
    if (!s) return error(engine_errc::invalid_spi, 0, "rekey_child: no such IKE SA (stale handle)");
    if (s->st != sa_state::established || s->retire_at != never)
        return error(engine_errc::wrong_state, 0,
                     "rekey_child: the IKE SA is not established or is being replaced");
    for (auto& c : s->children) {
        if (!c.used || c.sa.spi_in != spi_in) continue;
        if (c.gone_at != never)
            return error(engine_errc::wrong_state, 0, "rekey_child: Child SA already replaced");
        c.soft_at = now;
        touch(*s);
        tick_one(*s, now);
        return {};
    }
    return error(engine_errc::invalid_spi, 0, "rekey_child: no Child SA with this inbound SPI");
}

L2SEC_IKE2_CORE
result<void> L2SEC_IKE2_SELF::rekey_ike(sa_handle hd, time_point now) noexcept {
    sa_t* s = get(hd);
    if (!s) return error(engine_errc::invalid_spi, 0, "rekey_ike: no such IKE SA (stale handle)");
    if (s->st != sa_state::established || s->retire_at != never)
        return error(engine_errc::wrong_state, 0,
                     "rekey_ike: the IKE SA is not established or is being replaced");
    s->soft_at = now;
    touch(*s);
    tick_one(*s, now);
    return {};
}

#undef L2SEC_IKE2_CORE
#undef L2SEC_IKE2_SELF

}  // namespace l2sec::ike::v2::detail
