// The IKEv2 engine's IKE_SA_INIT and IKE_AUTH exchanges as responder (RFC
// 7296 1.2, 2.6, 2.15, 2.21.2), and the Child SA install both roles share.
// Included by impl/engine.hpp.
#pragma once

#include <l2sec/ike/v2/impl/engine.hpp>

namespace l2sec::ike::v2::detail {

#define L2SEC_IKE2_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE2_SELF engine_core<B, R, L, S>

// ---- responder ------------------------------------------------------------------

/// An unprotected IKE_SA_INIT answer that keeps no state (NO_PROPOSAL_CHOSEN,
/// INVALID_KE_PAYLOAD with the group we want, COOKIE).
L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::refuse_init(const message& m, const transport::endpoint& local,
                                  const transport::endpoint& peer, notify_type why,
                                  bytes_view data) noexcept {
    auto& o = take_shot(local, peer, local.port == 4500);
    header h;
    h.spi_i = m.header().spi_i;
    h.exchange_type = exchange::ike_sa_init;
    h.flags = flag::response;
    message_builder b(mutable_bytes(o.buf.data() + marker, o.buf.size() - marker), h);
    b.begin(payload_type::notify);
    notify{0, u16(why), {}, data}.encode(b.out());
    b.end();
    auto n = b.finish();
    if (!n) return;
    o.n = static_cast<std::uint16_t>(*n);
    queue_shot(o);
}

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::on_init_request(const message& m, const transport::endpoint& local,
                                      const transport::endpoint& peer, std::uint64_t fp,
                                      time_point now) noexcept {
    const header& h = m.header();
    if (h.spi_r != 0 || h.message_id != 0 || !h.initiator())
        return fail_note(error(engine_errc::invalid_spi, 8, "IKE_SA_INIT request SPIr/I flag"));
    if (auto* s = find_by(h.spi_i, [&](const sa_t& x) { return !x.initiator && x.peer == peer; })) {
        if (s->init_fp == fp && s->st == sa_state::r_init_done) {
            ++st.duplicates;  // our response was lost: the same one again
            queue(*s, 1);
            return;
        }
        return fail_note(error(engine_errc::wrong_state, 0, "IKE_SA_INIT for an existing SA"));
    }
    auto p = parts::of(m.payloads());
    if (p.bad) return fail_note(p.why);
    if (!p.sa || !p.ke || !p.nonce)
        return fail_note(error(engine_errc::missing_payload, 0, "IKE_SA_INIT request SA/KE/Ni"));
    auto sa = v2::sa::parse(*p.sa);
    auto kp = v2::ke::parse(*p.ke);
    if (!sa || !kp) return fail_note(!sa ? sa.error() : kp.error());
    const auto ni = p.nonce->body;
    if (ni.size() < 16 || ni.size() > 256)
        return fail_note(error(engine_errc::invalid_payload, p.nonce->offset, "Ni length"));
    if (m.data().size() > msg_capacity)
        return fail_note(error(engine_errc::capacity, 0, "IKE_SA_INIT request size"));
    if (n_half >= cfg.cookie_threshold && cookie_mac) {  // under load: stateless COOKIE first
        std::array<std::byte, 32> want{};
        if (!cookie_of(m, peer, want)) return;
        if (!p.cookie || !crypto::constant_time_equal(want, p.cookie->data)) {
            ++st.cookies_sent;
            return refuse_init(m, local, peer, notify_type::cookie, want);
        }
    }
    auto any = [](const ike_proposal&) { return true; };
    auto pick = choose<ike_proposal>(p1.span(), *sa, any);
    if (!pick) {
        ++st.no_proposal;
        fail_note(error(engine_errc::no_proposal_chosen, p.sa->offset, "IKE SA proposals"));
        return refuse_init(m, local, peer, notify_type::no_proposal_chosen);
    }
    if (u16(pick->first.group) != kp->group) {
        auto same = choose<ike_proposal>(
            p1.span(), *sa, [&](const ike_proposal& q) { return u16(q.group) == kp->group; });
        if (!same) {
            std::array<std::byte, 2> g{};
            store_be16(g.data(), u16(pick->first.group));
            ++st.invalid_ke_sent;
            return refuse_init(m, local, peer, notify_type::invalid_ke_payload, g);
        }
        pick = same;
    }
    if (kp->data.size() != crypto::info(crypto::dh_id{kp->group}).public_size)
        return fail_note(error(engine_errc::invalid_payload, p.ke->offset, "KE length"));
    auto info = describe(pick->first.keys_suite());
    if (!info) return fail_note(info.error());
    sa_t* s = alloc(true, &peer);
    if (!s) return fail_note(error(engine_errc::capacity, 0, "half-open IKE SA slot"));
    s->st = sa_state::r_init_done;
    s->spi_i = h.spi_i;
    index(*s);
    s->frag = cfg.fragmentation && p.fragmentation;
    s->local = local;
    s->peer = peer;
    s->floated = local.port == 4500;
    s->created = s->last_rx = now;
    s->chosen = pick->first;
    s->info = *info;
    copy_to(s->ni, ni);
    s->ni_n = static_cast<std::uint16_t>(ni.size());
    s->nr_n = 32;
    auto drop = [&](const error& e) {
        free_sa(*s);
        fail_note(e);
    };
    if (!random_int(s->spi_r) || s->spi_r == 0 || !random(mutable_bytes(s->nr.data(), s->nr_n)))
        return drop(error(engine_errc::crypto_failure, 0, "SPI/nonce"));
    s->kx = make_dh<B>(crypto::dh_id{kp->group}, rnd);
    if (!s->kx) return drop(error(engine_errc::crypto_failure, 0, "DH key pair"));
    std::array<std::byte, crypto::max_dh_public_size> pub{};
    const bytes_view pv = s->kx->public_value();
    copy_to(pub, pv);
    const std::size_t pub_n = pv.size();
    if (auto ok = derive(*s, kp->data); !ok) return drop(ok.error());
    if (p.nat_src && p.nat_dst) {  // the request's hashes use SPIr = 0
        auto src = nat_hash(*s, 0, peer);
        auto dst = nat_hash(*s, 0, local);
        if (!src || !dst) return drop(error(engine_errc::crypto_failure, 0, "NAT detection hash"));
        s->nat.peer_behind = !crypto::constant_time_equal(src->view(), p.nat_src->data);
        s->nat.local_behind = !crypto::constant_time_equal(dst->view(), p.nat_dst->data);
    }
    auto src = nat_hash(*s, s->spi_r, local);
    auto dst = nat_hash(*s, s->spi_r, peer);
    if (!src || !dst) return drop(error(engine_errc::crypto_failure, 0, "NAT detection hash"));
    message_builder b(mutable_bytes(s->resp.data() + marker, msg_capacity),
                      hdr(*s, exchange::ike_sa_init, true, 0));
    b.begin(payload_type::sa);
    write_ike_sa(b.out(), std::span<const ike_proposal>(&pick->first, 1), {}, pick->second.number);
    b.end();
    b.begin(payload_type::ke);
    ke{kp->group, bytes_view(pub.data(), pub_n)}.encode(b.out());
    b.end();
    b.add(payload_type::nonce, bytes_view(s->nr.data(), s->nr_n));
    b.begin(payload_type::notify);
    notify{0, u16(notify_type::nat_detection_source_ip), {}, src->view()}.encode(b.out());
    b.end();
    b.begin(payload_type::notify);
    notify{0, u16(notify_type::nat_detection_destination_ip), {}, dst->view()}.encode(b.out());
    b.end();
    if (s->frag) {  // RFC 7383 2.3: only when the initiator announced it
        b.begin(payload_type::notify);
        notify{0, u16(notify_type::ikev2_fragmentation_supported), {}, {}}.encode(b.out());
        b.end();
    }
    auto n = b.finish();
    if (!n) return drop(n.error());
    s->resp_n = static_cast<std::uint16_t>(*n);
    s->resp_valid = true;
    s->resp_fp = fp;
    s->init_fp = fp;
    s->peer_mid = 1;
    copy_to(s->init_resp, bytes_view(s->resp.data() + marker, *n));
    s->init_resp_n = s->resp_n;
    copy_to(s->init_req, m.data());
    s->init_req_n = static_cast<std::uint16_t>(m.data().size());
    queue(*s, 1);
}

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::on_auth_request(sa_t& s, const parts& p, std::uint32_t mid, std::uint64_t fp,
                                      time_point now) noexcept {
    if (s.st != sa_state::r_init_done)
        return fail_note(error(engine_errc::wrong_state, 18, "IKE_AUTH request"));
    if (!p.idi || !p.auth)
        return fail_note(error(engine_errc::missing_payload, 0, "IKE_AUTH request IDi/AUTH"));
    auto id = v2::id::parse(*p.idi);
    auto au = v2::auth::parse(*p.auth);
    if (!id || !au) return fail_note(!id ? id.error() : au.error());
    auto refuse = [&](engine_errc why, const char* what) {
        fail_note(error(why, p.auth->offset, what));
        send_oneshot(s, exchange::ike_auth, true, mid,
                     [](chain_writer& c) { write_notify(c, notify_type::authentication_failed); });
        remove_sa(s, why);
    };
    if (au->method != u16(auth_method::shared_key_mic))
        return refuse(engine_errc::authentication_failed, "AUTH method (PSK only)");
    auto want = auth_value(s, true, p.idi->body, id->data);
    if (!want) return refuse(engine_errc::unknown_peer, "no pre-shared key for the peer");
    const bool good = crypto::constant_time_equal(want->view(), au->data);
    crypto::secure_zero(mutable_bytes(want->bytes));
    if (!good)
        return refuse(engine_errc::authentication_failed, "initiator AUTH (wrong pre-shared key?)");
    std::array<std::byte, 4 + 128> idb{};
    const auto idn = id_body(s, idb);
    auto mine = auth_value(s, false, bytes_view(idb.data(), idn), id->data);
    if (!mine) return refuse(engine_errc::crypto_failure, "responder AUTH");
    s.peer_id_set = id->data.size() <= s.peer_id.size();
    if (s.peer_id_set) {
        s.peer_id_type = id->type;
        s.peer_id_n = static_cast<std::uint16_t>(id->data.size());
        copy_to(s.peer_id, id->data);
    }
    if (p.initial_contact) initial_contact(s);  // before ike_up: the old SAs go first

    // The Child SA: ESP proposal, traffic selectors narrowed to our policy, mode.
    notify_type child_err{0};
    std::optional<std::pair<esp_proposal, offer>> esp_pick;
    const esp_match esp_want{any_dh, cfg.esn};
    selector si, sr;
    const auto mode = p.transport_mode ? esp::mode::transport : esp::mode::tunnel;
    if (!p.sa || !p.tsi || !p.tsr) {
        child_err = notify_type::no_proposal_chosen;
    } else {
        auto sa = v2::sa::parse(*p.sa);
        auto ti = v2::ts::parse(*p.tsi);
        auto tr = v2::ts::parse(*p.tsr);
        if (sa)
            esp_pick = choose<esp_proposal>(
                p2.span(), *sa, [](const esp_proposal&) { return true; }, esp_want);
        if (!esp_pick || (mode == esp::mode::tunnel && !cfg.allow_tunnel)) {
            child_err = notify_type::no_proposal_chosen;
        } else if (!narrow(s, p, si, sr)) {
            child_err = notify_type::ts_unacceptable;
        }
    }
    if (child_err == notify_type{0} && (!random_int(s.pending_spi) || s.pending_spi == 0))
        child_err = notify_type::temporary_failure;
    bool reply_cp = false;
    if (p.cp && cfg.pool.valid() && child_err == notify_type{0}) {
        auto cp = v2::cp::parse(*p.cp);
        if (cp && cp->type == u16(cfg_type::request)) {
            if (cfg.pool.assign(cfg.pool.ctx, s.peer, id->data, s.vip, s.vdns)) {
                s.has_vip = s.vip_pool = reply_cp = true;
                if (si.alen == 4) {  // the peer's side of the Child SA is its virtual address
                    copy_to(si.start, std::as_bytes(std::span<const std::uint8_t>(s.vip)));
                    copy_to(si.end, std::as_bytes(std::span<const std::uint8_t>(s.vip)));
                }
            } else {
                child_err = notify_type::internal_address_failure;
            }
        }
    }

    leave_half_open(s);
    ++n_est;
    s.st = sa_state::established;
    s.my_mid = 0;
    ++st.ike_established;
    ike_soft(s, now);
    emit(event_kind::ike_up, s);
    (void)send_response(s, exchange::ike_auth, mid, fp, [&](chain_writer& c) {
        c.begin(payload_type::idr);
        c.out().bytes(bytes_view(idb.data(), idn));
        c.end();
        c.begin(payload_type::auth);
        v2::auth a;
        a.method = u16(auth_method::shared_key_mic);
        a.data = mine->view();
        a.encode(c.out());
        c.end();
        if (child_err != notify_type{0}) return write_notify(c, child_err);
        if (reply_cp) {
            c.begin(payload_type::cp);
            c.out().u8(static_cast<std::uint8_t>(cfg_type::reply));
            c.out().u24(0);
            c.out().u16(cp_internal_ip4_address);
            c.out().u16(4);
            c.out().bytes(std::as_bytes(std::span<const std::uint8_t>(s.vip)));
            if (s.vdns != std::array<std::uint8_t, 4>{}) {
                c.out().u16(cp_internal_ip4_dns);
                c.out().u16(4);
                c.out().bytes(std::as_bytes(std::span<const std::uint8_t>(s.vdns)));
            }
            c.end();
        }
        if (mode == esp::mode::transport) write_notify(c, notify_type::use_transport_mode);
        c.begin(payload_type::sa);
        write_esp_sa(c.out(), std::span<const esp_proposal>(&esp_pick->first, 1), s.pending_spi,
                     esp_pick->second.number, 0,
                     esp_pick->second.picks_esn(esp_want) ? esn_offer::on : esn_offer::off);
        c.end();
        write_ts(c, payload_type::tsi, si);
        write_ts(c, payload_type::tsr, sr);
    });
    crypto::secure_zero(mutable_bytes(mine->bytes));
    if (child_err != notify_type{0}) {
        const auto why = child_err == notify_type::ts_unacceptable
                             ? engine_errc::ts_unacceptable
                             : engine_errc::no_proposal_chosen;
        st.last_error = error(why, 0, "Child SA in IKE_AUTH");
        if (why == engine_errc::no_proposal_chosen) ++st.no_proposal;
        emit(event_kind::failed, s, why);
        return;
    }
    child_params cp;
    cp.proposal = esp_pick->first;
    cp.esn = esp_pick->second.picks_esn(esp_want);
    cp.spi_in = s.pending_spi;
    cp.spi_out = load_be32(esp_pick->second.spi.data());
    cp.ts_i = si;
    cp.ts_r = sr;
    cp.mode = mode;
    cp.ni = bytes_view(s.ni.data(), s.ni_n);
    cp.nr = bytes_view(s.nr.data(), s.nr_n);
    if (!install(s, cp, now)) emit(event_kind::failed, s, engine_errc::crypto_failure);
}

/// INITIAL_CONTACT (RFC 7296 2.4): the peer asserts that `keep` is its only
/// IKE SA with us (it restarted), so the others it authenticated with the
/// same IDi from the same outer address go, with their Child SAs
/// (`replaced`). The port is not compared: a NAT may have rebound it. Another
/// ID behind the same NAT, or the same ID from another address, is another
/// client; SAs we initiated carry no IDi and are kept.
L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::initial_contact(const sa_t& keep) noexcept {
    if (!keep.peer_id_set) return;
    const bytes_view id(keep.peer_id.data(), keep.peer_id_n);
    for (std::size_t i = 0; i < slots; ++i) {
        auto& o = tab[i];
        if (&o == &keep || o.st != sa_state::established || !o.peer_id_set) continue;
        if (!same_host(o.peer, keep.peer) || o.peer_id_type != keep.peer_id_type ||
            !std::ranges::equal(bytes_view(o.peer_id.data(), o.peer_id_n), id))
            continue;
        remove_sa(o, engine_errc::replaced);
    }
}

/// KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) (RFC 7296 2.17) into a child_sa and
/// the child_up event (with old_spi_in when it replaces one).
L2SEC_IKE2_CORE
result<void> L2SEC_IKE2_SELF::install(sa_t& s, const child_params& cp, time_point now) noexcept {
    child_slot* slot = nullptr;
    for (auto& c : s.children)
        if (!c.used) {
            slot = &c;
            break;
        }
    if (!slot) return error(engine_errc::capacity, 0, "Child SA slot");
    auto [e, bits] = esp_encr(cp.proposal.suite);
    auto ci = describe(suite{e, bits, prf_id::hmac_sha2_256, esp_integ(cp.proposal.suite.integ)});
    if (!ci) return ci.error();
    auto k = derive_child_sa_keys<B>(s.info, *ci, s.keys.d, cp.ni, cp.nr, cp.g_ir);
    if (!k) return k.error();
    *slot = child_slot{};
    child_sa& c = slot->sa;
    c.ike = handle(index_of(s));
    c.local = s.local;
    c.peer = s.peer;
    c.udp_encap = s.nat.any();
    c.nat = s.nat;
    c.suite = cp.proposal.suite;
    c.mode = cp.mode;
    c.spi_in = cp.spi_in;
    c.spi_out = cp.spi_out;
    const selector& mine = s.initiator ? cp.ts_i : cp.ts_r;
    const selector& theirs = s.initiator ? cp.ts_r : cp.ts_i;
    c.protocol = mine.protocol;
    c.local_port = mine.port();
    c.remote_port = theirs.port();
    c.lifetime = cfg.child_lifetime;
    c.pfs_group = cp.g_ir.empty() ? 0 : cp.pfs_group;
    c.esn = cp.esn;
    // The exchange initiator's keys are the "i" half (RFC 7296 2.17).
    const bool i_side = cp.ours;
    const key& eout = i_side ? k->ei : k->er;
    const key& aout = i_side ? k->ai : k->ar;
    const key& ein = i_side ? k->er : k->ei;
    const key& ain = i_side ? k->ar : k->ai;
    copy_to(c.enc_in, ein.view());
    copy_to(c.enc_out, eout.view());
    copy_to(c.integ_in, ain.view());
    copy_to(c.integ_out, aout.view());
    for (auto* x : {&k->ei, &k->ai, &k->er, &k->ar})
        crypto::secure_zero(mutable_bytes(x->bytes));
    slot->used = true;
    slot->ours = cp.ours;
    slot->ts_i = cp.ts_i;
    slot->ts_r = cp.ts_r;
    if (cp.ours && cfg.child_lifetime.count() > 0)
        slot->soft_at = rekey_time(cfg.child_lifetime, now);
    ++st.children_installed;
    event ev;
    ev.kind = event_kind::child_up;
    ev.ike = c.ike;
    ev.peer = s.peer;
    ev.child = c;
    ev.old_spi_in = cp.old_spi_in;
    push_event(std::move(ev));
    return {};
}

#undef L2SEC_IKE2_CORE
#undef L2SEC_IKE2_SELF

}  // namespace l2sec::ike::v2::detail
