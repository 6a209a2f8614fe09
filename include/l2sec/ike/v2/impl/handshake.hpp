// The IKEv2 engine's IKE_SA_INIT and IKE_AUTH exchanges (RFC 7296 1.2, 2.15,
// 2.23), pre-shared keys: the shared key work and the initiator (the
// responder is in responder.hpp). Included by impl/engine.hpp.
#pragma once

#include <l2sec/ike/v2/impl/engine.hpp>

namespace l2sec::ike::v2::detail {

#define L2SEC_IKE2_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE2_SELF engine_core<B, R, L, S>

L2SEC_IKE2_CORE
result<key> L2SEC_IKE2_SELF::nat_hash(const sa_t& s, std::uint64_t spi_r,
                                      const transport::endpoint& e) noexcept {
    return nat_detection_hash<B>(crypto::hash_id::sha1, s.spi_i, spi_r, address_bytes(e), e.port);
}

/// g^ir, SKEYSEED, the seven keys and the two SK contexts; on failure the
/// SA's keys are untouched.
L2SEC_IKE2_CORE
result<void> L2SEC_IKE2_SELF::derive(sa_t& s, bytes_view peer_ke) noexcept {
    std::array<std::byte, crypto::max_dh_shared_size> g{};
    auto n = s.kx->agree(peer_ke, g);
    if (!n) return error(engine_errc::invalid_payload, 0, "KE public value");
    auto seed = skeyseed<B>(s.info, bytes_view(s.ni.data(), s.ni_n),
                            bytes_view(s.nr.data(), s.nr_n), bytes_view(g.data(), *n));
    crypto::secure_zero(g);
    if (!seed) return seed.error();
    auto k = derive_ike_sa_keys<B>(s.info, seed->view(), bytes_view(s.ni.data(), s.ni_n),
                                   bytes_view(s.nr.data(), s.nr_n), s.spi_i, s.spi_r);
    crypto::secure_zero(mutable_bytes(seed->bytes));
    if (!k) return k.error();
    auto mine = s.initiator ? sk_protect<B>::make(s.info, k->ei, k->ai)
                            : sk_protect<B>::make(s.info, k->er, k->ar);
    auto theirs = s.initiator ? sk_protect<B>::make(s.info, k->er, k->ar)
                              : sk_protect<B>::make(s.info, k->ei, k->ai);
    if (!mine || !theirs) return error(engine_errc::crypto_failure, 0, "SK keys");
    s.keys = *k;
    for (auto* x : {&k->d, &k->ai, &k->ar, &k->ei, &k->er, &k->pi, &k->pr})
        crypto::secure_zero(mutable_bytes(x->bytes));
    s.sk_tx.emplace(std::move(*mine));
    s.sk_rx.emplace(std::move(*theirs));
    s.kx.reset();
    return {};
}

/// Our ID payload body: ID_FQDN (configured) or our address.
L2SEC_IKE2_CORE
std::size_t L2SEC_IKE2_SELF::id_body(const sa_t& s,
                                     std::array<std::byte, 4 + 128>& b) const noexcept {
    b = {};
    bytes_view data = cfg.local_id;
    if (data.empty()) {
        data = address_bytes(s.local);
        b[0] = std::byte{static_cast<std::uint8_t>(data.size() == 16 ? 5 : 1)};
    } else {
        b[0] = std::byte{cfg.local_id_type};
    }
    copy_to(mutable_bytes(b).subspan(4), data);
    return 4 + data.size();
}

/// AUTH of one side (RFC 7296 2.15): the initiator signs its IKE_SA_INIT
/// request with Nr and SK_pi, the responder its response with Ni and SK_pr.
/// The key is the peer's PSK (looked up by its outer address and ID data).
L2SEC_IKE2_CORE
result<key> L2SEC_IKE2_SELF::auth_value(const sa_t& s, bool of_initiator, bytes_view idb,
                                        bytes_view peer_id) noexcept {
    std::array<std::byte, 128> k{};
    auto kn = psk.find_psk(s.peer, peer_id, k);
    if (!kn) return error(engine_errc::unknown_peer, 0, "pre-shared key");
    auto a = of_initiator ? psk_auth<B>(s.info, bytes_view(k.data(), *kn),
                                        bytes_view(s.init_req.data(), s.init_req_n),
                                        bytes_view(s.nr.data(), s.nr_n), s.keys.pi, idb)
                          : psk_auth<B>(s.info, bytes_view(k.data(), *kn),
                                        bytes_view(s.init_resp.data(), s.init_resp_n),
                                        bytes_view(s.ni.data(), s.ni_n), s.keys.pr, idb);
    crypto::secure_zero(k);
    return a;
}

// ---- initiator ------------------------------------------------------------------

L2SEC_IKE2_CORE
result<sa_handle> L2SEC_IKE2_SELF::connect(const connection& c, time_point now) noexcept {
    if (!c.local.valid() || !c.peer.valid() || c.local.family != c.peer.family)
        return error(engine_errc::invalid_config, 0, "connection endpoints");
    sa_t* s = alloc(true);
    if (!s) return error(engine_errc::capacity, 0, "IKE SA slot");
    s->st = sa_state::i_init_sent;
    s->initiator = true;
    s->conn = c;
    s->local = c.local;
    s->peer = c.peer;
    s->created = s->last_rx = now;
    s->chosen = p1[0];
    s->ni_n = 32;
    auto fail = [&](const char* what) -> result<sa_handle> {
        free_sa(*s);
        return error(engine_errc::crypto_failure, 0, what);
    };
    if (!random_int(s->spi_i) || s->spi_i == 0) return fail("SPI");
    index(*s);
    if (!random(mutable_bytes(s->ni.data(), s->ni_n))) return fail("nonce");
    s->kx = make_dh<B>(crypto::dh_id{u16(s->chosen.group)}, rnd);
    if (!s->kx) return fail("DH key pair");
    if (auto ok = send_init(*s, now); !ok) {
        free_sa(*s);
        return ok.error();
    }
    return handle(index_of(*s));
}

/// IKE_SA_INIT request: [N(COOKIE)], SA, KE, Ni, N(NAT_DETECTION_*_IP).
L2SEC_IKE2_CORE
result<void> L2SEC_IKE2_SELF::send_init(sa_t& s, time_point now) noexcept {
    auto src = nat_hash(s, 0, s.local);
    auto dst = nat_hash(s, 0, s.peer);
    if (!src || !dst) return error(engine_errc::crypto_failure, 0, "NAT detection hash");
    message_builder b(mutable_bytes(s.tx.data() + marker, msg_capacity),
                      hdr(s, exchange::ike_sa_init, false, 0));
    if (s.cookie_n) {
        b.begin(payload_type::notify);
        notify{0, u16(notify_type::cookie), {}, bytes_view(s.cookie.data(), s.cookie_n)}.encode(
            b.out());
        b.end();
    }
    b.begin(payload_type::sa);
    write_ike_sa(b.out(), p1.span());
    b.end();
    b.begin(payload_type::ke);
    ke{u16(s.chosen.group), s.kx->public_value()}.encode(b.out());
    b.end();
    b.add(payload_type::nonce, bytes_view(s.ni.data(), s.ni_n));
    b.begin(payload_type::notify);
    notify{0, u16(notify_type::nat_detection_source_ip), {}, src->view()}.encode(b.out());
    b.end();
    b.begin(payload_type::notify);
    notify{0, u16(notify_type::nat_detection_destination_ip), {}, dst->view()}.encode(b.out());
    b.end();
    if (cfg.fragmentation) {  // RFC 7383 2.3
        b.begin(payload_type::notify);
        notify{0, u16(notify_type::ikev2_fragmentation_supported), {}, {}}.encode(b.out());
        b.end();
    }
    auto n = b.finish();
    if (!n) return n.error();
    s.tx_n = static_cast<std::uint16_t>(*n);
    s.tx_pieces.n = 0;
    copy_to(s.init_req, bytes_view(s.tx.data() + marker, *n));
    s.init_req_n = s.tx_n;
    s.pending = request::init;
    s.tries = 0;
    s.retx_at = retx_time(0, now);
    queue(s, 0);
    return {};
}

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::on_init_response(const message& m, const transport::endpoint& local,
                                       const transport::endpoint& peer, time_point now) noexcept {
    const header& h = m.header();
    sa_t* s = find_by(
        h.spi_i, [&](const sa_t& x) { return x.st == sa_state::i_init_sent && x.peer == peer; });
    if (!s) return fail_note(error(engine_errc::invalid_spi, 0, "IKE_SA_INIT response SPI"));
    if (h.initiator() || h.message_id != 0)
        return fail_note(error(engine_errc::invalid_message_id, 20, "IKE_SA_INIT response"));
    auto p = parts::of(m.payloads());
    if (p.bad) return fail_note(p.why);
    if (p.cookie) {  // RFC 7296 2.6: the same request again, the cookie first
        if (p.cookie->data.empty() || p.cookie->data.size() > s->cookie.size())
            return fail_note(error(engine_errc::invalid_payload, 0, "COOKIE length"));
        copy_to(s->cookie, p.cookie->data);
        s->cookie_n = static_cast<std::uint16_t>(p.cookie->data.size());
        if (auto ok = send_init(*s, now); !ok) remove_sa(*s, engine_errc::crypto_failure);
        return;
    }
    if (p.invalid_ke) {  // RFC 7296 1.2: retry with the group the responder wants
        const auto& d = p.invalid_ke->data;
        const ike_proposal* want = nullptr;
        if (d.size() == 2)
            for (const auto& q : p1)
                if (u16(q.group) == load_be16(d.data()) && q.group != s->chosen.group) {
                    want = &q;
                    break;
                }
        if (!want) {
            fail_note(error(engine_errc::no_proposal_chosen, 0, "INVALID_KE_PAYLOAD group"));
            return remove_sa(*s, engine_errc::no_proposal_chosen);
        }
        auto kx = make_dh<B>(crypto::dh_id{u16(want->group)}, rnd);
        if (!kx) return remove_sa(*s, engine_errc::crypto_failure);
        s->kx = std::move(kx);
        s->chosen = *want;
        ++st.invalid_ke_retries;
        if (auto ok = send_init(*s, now); !ok) remove_sa(*s, engine_errc::crypto_failure);
        return;
    }
    if (p.error_note) {
        const bool npc = p.error_note->kind() == notify_type::no_proposal_chosen;
        const auto why = npc ? engine_errc::no_proposal_chosen : engine_errc::notified;
        fail_note(error(why, 0, "IKE_SA_INIT response notify"));
        return remove_sa(*s, why);
    }
    if (!p.sa || !p.ke || !p.nonce || h.spi_r == 0)
        return fail_note(error(engine_errc::missing_payload, 0, "IKE_SA_INIT response SA/KE/Nr"));
    auto sa = v2::sa::parse(*p.sa);
    auto kp = v2::ke::parse(*p.ke);
    if (!sa || !kp) return fail_note(!sa ? sa.error() : kp.error());
    auto acc = accepted<ike_proposal>(p1.span(), *sa);
    if (!acc || acc->first.group != s->chosen.group)
        return fail_note(error(engine_errc::invalid_payload, p.sa->offset, "SA (not as offered)"));
    if (kp->group != u16(s->chosen.group) ||
        kp->data.size() != crypto::info(crypto::dh_id{kp->group}).public_size)
        return fail_note(error(engine_errc::invalid_payload, p.ke->offset, "KE group/length"));
    const auto nr = p.nonce->body;
    if (nr.size() < 16 || nr.size() > s->nr.size())
        return fail_note(error(engine_errc::invalid_payload, p.nonce->offset, "Nr length"));
    if (m.data().size() > msg_capacity)
        return fail_note(error(engine_errc::capacity, 0, "IKE_SA_INIT response size"));
    auto info = describe(acc->first.keys_suite());
    if (!info) return fail_note(info.error());
    // Derive on the SA, undoing the few fields if it fails.
    const auto old_chosen = s->chosen;
    s->chosen = acc->first;
    s->info = *info;
    s->spi_r = h.spi_r;
    copy_to(s->nr, nr);
    s->nr_n = static_cast<std::uint16_t>(nr.size());
    if (auto ok = derive(*s, kp->data); !ok) {
        s->chosen = old_chosen;
        s->spi_r = 0;
        s->nr_n = 0;
        return fail_note(ok.error());
    }
    if (p.nat_src && p.nat_dst) {
        auto src = nat_hash(*s, s->spi_r, peer);
        auto dst = nat_hash(*s, s->spi_r, local);
        if (src && dst) {
            s->nat.peer_behind = !crypto::constant_time_equal(src->view(), p.nat_src->data);
            s->nat.local_behind = !crypto::constant_time_equal(dst->view(), p.nat_dst->data);
        }
    }
    copy_to(s->init_resp, m.data());
    s->init_resp_n = static_cast<std::uint16_t>(m.data().size());
    s->frag = cfg.fragmentation && p.fragmentation;
    s->last_rx = now;
    if (s->nat.any()) {  // RFC 7296 2.23: float to 4500 for IKE_AUTH and after
        s->floated = true;
        s->local.port = 4500;
        s->peer.port = 4500;
    }
    s->my_mid = 1;
    s->st = sa_state::i_auth_sent;
    if (auto ok = send_auth(*s, now); !ok) {
        fail_note(ok.error());
        remove_sa(*s, ok.error().code);
    }
}

/// IKE_AUTH request: SK{IDi, AUTH, N(INITIAL_CONTACT), [N(USE_TRANSPORT_MODE)], SA, TSi, TSr}.
L2SEC_IKE2_CORE
result<void> L2SEC_IKE2_SELF::send_auth(sa_t& s, time_point now) noexcept {
    if (!random_int(s.pending_spi) || s.pending_spi == 0)
        return error(engine_errc::crypto_failure, 0, "SPI");
    std::array<std::byte, 4 + 128> idb{};
    const auto idn = id_body(s, idb);
    auto a = auth_value(s, true, bytes_view(idb.data(), idn), {});
    if (!a) return a.error();
    const auto& c = s.conn;
    const bool v6 = s.local.family == transport::endpoint::family_t::v6;
    const selector tsi = c.any_address ? selector::any(v6, c.protocol, c.local_port)
                                       : selector::host(c.local, c.protocol, c.local_port);
    const selector tsr = c.any_address ? selector::any(v6, c.protocol, c.remote_port)
                                       : selector::host(c.peer, c.protocol, c.remote_port);
    // INITIAL_CONTACT asserts this is our only IKE SA with the peer (RFC 7296
    // 2.4): not when another one to that address exists, which it would end.
    bool first = true;
    for (std::size_t i = 0; i < slots; ++i)
        first &= &tab[i] == &s || tab[i].st == sa_state::free || !same_host(tab[i].peer, s.peer);
    auto ok = send_request(s, exchange::ike_auth, request::auth, now, [&](chain_writer& w) {
        w.begin(payload_type::idi);
        w.out().bytes(bytes_view(idb.data(), idn));
        w.end();
        w.begin(payload_type::auth);
        v2::auth au;
        au.method = u16(auth_method::shared_key_mic);
        au.data = a->view();
        au.encode(w.out());
        w.end();
        if (first) write_notify(w, notify_type::initial_contact);
        if (c.mode == esp::mode::transport) write_notify(w, notify_type::use_transport_mode);
        if (c.request_address) {  // CFG_REQUEST: INTERNAL_IP4_ADDRESS, INTERNAL_IP4_DNS, empty
            w.begin(payload_type::cp);
            w.out().u8(static_cast<std::uint8_t>(cfg_type::request));
            w.out().u24(0);
            w.out().u16(cp_internal_ip4_address);
            w.out().u16(0);
            w.out().u16(cp_internal_ip4_dns);
            w.out().u16(0);
            w.end();
        }
        w.begin(payload_type::sa);
        write_esp_sa(w.out(), p2.span(), s.pending_spi, 1, 0,
                     cfg.esn ? esn_offer::both : esn_offer::off);
        w.end();
        write_ts(w, payload_type::tsi, tsi);
        write_ts(w, payload_type::tsr, tsr);
    });
    crypto::secure_zero(mutable_bytes(a->bytes));
    return ok;
}

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::on_auth_response(sa_t& s, const parts& p, time_point now) noexcept {
    if (s.st != sa_state::i_auth_sent || s.pending != request::auth)
        return fail_note(error(engine_errc::wrong_state, 18, "IKE_AUTH response"));
    if (p.error_note && (!p.idr || !p.auth)) {
        const bool af = p.error_note->kind() == notify_type::authentication_failed;
        const auto why = af ? engine_errc::authentication_failed
                         : p.error_note->kind() == notify_type::no_proposal_chosen
                             ? engine_errc::no_proposal_chosen
                             : engine_errc::notified;
        fail_note(error(why, 0,
                        af ? "peer sent AUTHENTICATION_FAILED (wrong pre-shared key?)"
                           : "IKE_AUTH response notify"));
        return remove_sa(s, why);
    }
    if (!p.idr || !p.auth)
        return fail_note(error(engine_errc::missing_payload, 0, "IKE_AUTH response IDr/AUTH"));
    auto id = v2::id::parse(*p.idr);
    auto au = v2::auth::parse(*p.auth);
    if (!id || !au) return fail_note(!id ? id.error() : au.error());
    auto want = auth_value(s, false, p.idr->body, id->data);
    if (!want) {
        fail_note(want.error());
        return remove_sa(s, want.error().code);
    }
    const bool good = au->method == u16(auth_method::shared_key_mic) &&
                      crypto::constant_time_equal(want->view(), au->data);
    crypto::secure_zero(mutable_bytes(want->bytes));
    if (!good) {
        fail_note(error(engine_errc::authentication_failed, p.auth->offset,
                        "responder AUTH (wrong pre-shared key?)"));
        return remove_sa(s, engine_errc::authentication_failed);
    }
    if (p.cp) {  // CFG_REPLY: our virtual address and DNS server
        if (auto cp = v2::cp::parse(*p.cp); cp && cp->type == u16(cfg_type::reply))
            cp->for_each([&](const cp_attribute& a) {
                if (a.type == cp_internal_ip4_address && a.value.size() == 4 && !s.has_vip) {
                    for (std::size_t i = 0; i < 4; ++i)
                        s.vip[i] = std::to_integer<std::uint8_t>(a.value[i]);
                    s.has_vip = true;
                }
                if (a.type == cp_internal_ip4_dns && a.value.size() == 4)
                    for (std::size_t i = 0; i < 4; ++i)
                        s.vdns[i] = std::to_integer<std::uint8_t>(a.value[i]);
            });
    }
    s.pending = request::none;
    s.retx_at = never;
    s.my_mid = 2;
    leave_half_open(s);  // before the state changes: it still counts as half-open
    s.st = sa_state::established;
    ++n_est;
    ++st.ike_established;
    ike_soft(s, now);
    emit(event_kind::ike_up, s);
    auto child_failed = [&](engine_errc why, const char* what) {
        st.last_error = error(why, 0, what);
        emit(event_kind::failed, s, why);
    };
    if (p.error_note) {
        const auto k = p.error_note->kind();
        return child_failed(k == notify_type::no_proposal_chosen ? engine_errc::no_proposal_chosen
                            : k == notify_type::ts_unacceptable  ? engine_errc::ts_unacceptable
                                                                 : engine_errc::notified,
                            "Child SA refused by the responder");
    }
    if (!p.sa || !p.tsi || !p.tsr)
        return child_failed(engine_errc::missing_payload, "IKE_AUTH response SA/TSi/TSr");
    auto sa = v2::sa::parse(*p.sa);
    auto ti = v2::ts::parse(*p.tsi);
    auto tr = v2::ts::parse(*p.tsr);
    if (!sa || !ti || !tr || ti->count == 0 || tr->count == 0)
        return child_failed(engine_errc::invalid_payload, "IKE_AUTH response SA/TS");
    const esp_match esp_want{any_dh, cfg.esn};
    auto acc = accepted<esp_proposal>(p2.span(), *sa, esp_want);
    if (!acc) return child_failed(engine_errc::no_proposal_chosen, "ESP SA (not as offered)");
    const auto mode = p.transport_mode ? esp::mode::transport : esp::mode::tunnel;
    if (mode != s.conn.mode) return child_failed(engine_errc::no_proposal_chosen, "Child SA mode");
    child_params cp;
    cp.proposal = acc->first;
    cp.esn = acc->second.picks_esn(esp_want);
    cp.spi_in = s.pending_spi;
    cp.spi_out = load_be32(acc->second.spi.data());
    cp.ts_i = selector::from(ti->selector(0));
    cp.ts_r = selector::from(tr->selector(0));
    cp.mode = mode;
    cp.ni = bytes_view(s.ni.data(), s.ni_n);
    cp.nr = bytes_view(s.nr.data(), s.nr_n);
    cp.ours = true;
    if (auto ok = install(s, cp, now); !ok)
        child_failed(engine_errc::crypto_failure, "Child SA keys");
}

#undef L2SEC_IKE2_CORE
#undef L2SEC_IKE2_SELF

}  // namespace l2sec::ike::v2::detail
