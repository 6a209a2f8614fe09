// The IKEv1 engine's Main Mode authentication: MM5 and MM6 (encrypted ID and
// HASH_I / HASH_R), INITIAL-CONTACT, the SA becoming established.
#pragma once

#include <l2sec/ike/v1/detail/engine_core.hpp>

#include <algorithm>
#include <memory>

namespace l2sec::ike::v1::detail {

#define L2SEC_IKE_V1_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE_V1_CORE_T engine_core<B, R, L, S>

// ---- initiator: MM4 -> MM5 ---------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_mm4(sa_t& s, mutable_bytes buf, time_point now) noexcept
    -> result<void> {
    auto msg = parse(buf);
    if (!msg) return msg.error();
    if (msg->header().encrypted() || msg->header().exchange_type != exchange::main_mode)
        return error(engine_errc::wrong_state, 18, "MM4");
    auto k = read_ke_nonce(s, *msg);
    if (!k) return k.error();
    copy_to(s.gx_r, k->ke);
    copy_to(s.nr, k->nonce);
    s.nr_n = u16(k->nonce.size());
    if (auto d = derive(s, k->ke); !d) return d.error();
    if (auto d = detect_nat(s, *k); !d) return d.error();
    if (s.nat.any()) {  // RFC 3947 4: float to 4500 from MM5 on
        s.local.port = 4500;
        s.peer.port = 4500;
        s.floated = true;
    }
    // MM5: IDii, HASH_I (encrypted).
    std::array<std::byte, 20> idb{};
    auto idv = id_body(s, idb);
    auto hi = phase1_hash<B>(s.info, s.keys.skeyid, true, bytes_view(s.gx_i.data(), s.gx_n),
                             bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                             bytes_view(s.sai_b.data(), s.sai_n), idv);
    if (!hi) return hi.error();
    header h = v1_header(s, exchange::main_mode);
    auto out = mutable_bytes(s.tx).subspan(marker, tx_capacity);
    message_builder b(out, h);
    b.add(payload_type::id_v1, idv);
    b.add(payload_type::hash, *hi);
    const auto ck = cookies(s);
    if (!s.reauth_of) {  // a re-authentication keeps the old SA for the overlap
        b.begin(payload_type::notification);
        notification{
            doi_ipsec, 1, static_cast<std::uint16_t>(notify_type::v1_initial_contact), ck, {}}
            .encode(b.out());
        b.end();
    }
    auto sz = b.finish();
    if (!sz) return sz.error();
    if (!seal(s, out, *sz, s.chain, s.tx_n)) return st.last_error;
    s.st = p1_state::i_mm5_sent;
    s.tries = 0;
    s.retx_at = retx_time(0, now);
    queue(s, 0);
    return {};
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::cookies(const sa_t& s) noexcept -> std::array<std::byte, 16> {
    std::array<std::byte, 16> c{};
    store_be64(c.data(), s.cky_i);
    store_be64(c.data() + 8, s.cky_r);
    return c;
}

/// Our phase 1 ID body: ID_IPV4_ADDR / ID_IPV6_ADDR of the local address.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::id_body(const sa_t& s, std::array<std::byte, 20>& b) noexcept
    -> bytes_view {
    b[0] = std::byte{address_id_type(s.local)};
    b[1] = std::byte{0};
    b[2] = std::byte{0};
    b[3] = std::byte{0};
    auto a = address_bytes(s.local);
    copy_to(mutable_bytes(b).subspan(4), a);
    return bytes_view(b.data(), 4 + a.size());
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::open(sa_t& s, mutable_bytes buf, const iv& chain) noexcept
    -> result<opened> {
    iv v = chain;
    auto r = s.mc->decrypt(buf, v);
    if (!r) return r.error();
    if (auto ok = v1::validate(*r); !ok) return ok.error();
    return opened{*r, v};
}

/// The first encrypted message does not parse: with a well-formed
/// ciphertext that is what a different pre-shared key looks like.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::garbled(const error& e, const char* what) noexcept -> error {
    if (e.code == make_error_code(ike::errc::bad_block_size) ||
        e.code == make_error_code(ike::errc::not_encrypted) ||
        e.code == make_error_code(ike::errc::header_length_mismatch))
        return e;
    return error(engine_errc::authentication_failed, e.offset, what);
}

// ---- responder: MM5 -> MM6 ---------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_mm5(sa_t& s, mutable_bytes buf, const transport::endpoint& local,
                                 const transport::endpoint& peer, time_point now) noexcept
    -> result<void> {
    auto o = open(s, buf, s.chain);
    // The first message under the keys: if it does not decrypt to an ID and
    // a HASH_I that verifies, the two sides' PSKs differ (almost always).
    // Say so when the peer retransmits it (once may be a corrupted or forged
    // copy), to the peer too (in clear: it cannot read our keys), instead of
    // letting its MM5 retransmissions run out.
    auto psk_fail = [&](const error& e, notify_type t) -> error {
        if (!keyed_failure(e) || peer.family != s.peer.family || !(peer.addr == s.peer.addr))
            return e;
        header in;
        in.spi_i = s.cky_i;
        in.spi_r = s.cky_r;
        auto r = wrong_psk(s, e);
        if (s.st == p1_state::free) notify_plain(in, local, peer, t);  // decided: tell the peer
        return r;
    };
    if (!o)
        return psk_fail(garbled(o.error(), "MM5 (garbage after decryption: wrong pre-shared key?)"),
                        notify_type::v1_payload_malformed);
    std::optional<payload> idp, hp;
    bool ic = false;
    for (const auto& p : o->chain) {
        if (p.kind() == payload_type::id_v1 && !idp) idp = p;
        if (p.kind() == payload_type::hash && !hp) hp = p;
        if (p.kind() == payload_type::notification) {
            auto n = notification::parse(p);
            if (n && n->kind() == notify_type::v1_initial_contact) ic = true;
        }
    }
    if (!idp || !hp)
        return psk_fail(error(engine_errc::missing_payload, 28, "MM5 ID/HASH"),
                        notify_type::v1_payload_malformed);
    auto hi = phase1_hash<B>(s.info, s.keys.skeyid, true, bytes_view(s.gx_i.data(), s.gx_n),
                             bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                             bytes_view(s.sai_b.data(), s.sai_n), idp->body);
    if (!hi) return hi.error();
    if (!crypto::constant_time_equal(hp->body, *hi))
        return psk_fail(error(engine_errc::authentication_failed, hp->body_offset(), "HASH_I"),
                        notify_type::v1_invalid_hash_information);
    if (n_est >= L::max_sas) return error(engine_errc::capacity, 0, "established SAs");
    // Authenticated: commit.
    s.chain = o->next;
    if (local.port == 4500) {
        s.local = local;
        s.peer = peer;
        s.floated = true;
    }
    s.peer_id_n = u16(std::min(idp->body.size(), s.peer_id.size()));
    copy_to(s.peer_id, idp->body.first(s.peer_id_n));
    s.initial_contact = ic;
    std::array<std::byte, 20> idb{};
    auto idv = id_body(s, idb);
    auto hr = phase1_hash<B>(s.info, s.keys.skeyid, false, bytes_view(s.gx_i.data(), s.gx_n),
                             bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                             bytes_view(s.sai_b.data(), s.sai_n), idv);
    if (!hr) return hr.error();
    header h = v1_header(s, exchange::main_mode);
    auto out = mutable_bytes(s.tx).subspan(marker, tx_capacity);
    message_builder b(out, h);
    b.add(payload_type::id_v1, idv);
    b.add(payload_type::hash, *hr);
    auto sz = b.finish();
    if (!sz) return sz.error();
    if (!seal(s, out, *sz, s.chain, s.tx_n)) return st.last_error;
    s.p1_last = s.chain;
    queue(s, 0);
    if (ic) initial_contact(s);
    established(s, now);
    return {};
}

/// INITIAL-CONTACT: the peer rebooted; drop its other SAs (same outer address and port).
/// A failure of the first encrypted message that a wrong key explains
/// (garbage after decryption, no ID/HASH, a HASH that does not verify); a
/// malformed ciphertext (block size, flag, length) is not one.
L2SEC_IKE_V1_CORE
bool L2SEC_IKE_V1_CORE_T::keyed_failure(const error& e) const noexcept {
    return e.code == make_error_code(engine_errc::authentication_failed) ||
           e.code == make_error_code(engine_errc::missing_payload);
}

/// MM5 or MM6 failed under our keys. The first time it is dropped like any
/// bad message (it may be a corrupted or forged copy); when it fails again
/// (the peer retransmitted it: it is what the peer sends), Main Mode cannot
/// finish with these keys: report `failed` (wrong_psk) and forget the SA.
/// `e` (what exactly failed, and where) stays in last_error.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::wrong_psk(sa_t& s, const error& e) noexcept -> error {
    if (!keyed_failure(e)) return e;
    if (++s.keyed_failures < 2) return e;
    remove_sa(s, make_error_code(engine_errc::wrong_psk));
    return e;
}

/// Initiator waiting for MM6, an encrypted Informational arrives: a peer
/// that could not read our MM5 says so (charon: PAYLOAD-MALFORMED), under
/// keys from its PSK. Unreadable for us: the PSKs differ (decided at once,
/// as for the unprotected notifications of on_plain_notify). Readable: the
/// peer refused MM5 for another reason (reported as `notified`).
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_mm5_answer(sa_t& s, mutable_bytes buf, std::uint32_t mid,
                                        time_point now) noexcept -> result<void> {
    const iv saved = s.p1_last;
    s.p1_last = s.chain;  // the phase 2 IV base: the last block of MM5 (RFC 2409 Appendix B)
    auto r = on_informational(s, buf, mid, now);
    if (!r) {
        s.p1_last = saved;
        auto e = garbled(r.error(), "Informational answering MM5 (unreadable under our keys)");
        if (keyed_failure(e)) remove_sa(s, make_error_code(engine_errc::wrong_psk));
        return e;
    }
    if (s.st == p1_state::i_mm5_sent) remove_sa(s, make_error_code(engine_errc::notified));
    return {};
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::initial_contact(sa_t& keep) noexcept {
    // Through by_peer (O(1) per SA found): remove_sa unindexes each one.
    const auto h = key_hash(keep.peer.hash());
    while (auto id = by_peer.find(h, [&](std::uint16_t i) {
        const auto& o = tab[i - 1u];
        return &o != &keep && o.st == p1_state::established && o.peer == keep.peer;
    }))
        remove_sa(tab[*id - 1u], make_error_code(engine_errc::replaced));
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::established(sa_t& s, time_point now) noexcept {
    --n_half;
    ++n_est;
    (void)half_list.erase(hook_of(), id_of(index_of(s)));
    s.kx.reset();  // the DH private value is not needed again
    s.st = p1_state::established;
    index_peer(s);
    s.established_at = now;
    s.retx_at = never;
    s.expires_at = now + std::chrono::seconds(s.life_s);
    if (s.initiator) s.soft_at = soft_time(now, std::chrono::seconds(s.life_s), true);
    (void)random_int(s.dpd_seq);
    s.last_rx = now;
    emit(event_kind::phase1_up, s);
    ++st.phase1_established;
    // A re-authentication is up: the SA it replaces goes after the overlap.
    if (s.reauth_of)
        if (auto* old = get(*s.reauth_of); old && old != &s) {
            old->close_at = std::min(old->close_at, now + cfg.rekey_overlap);
            rearm(*old);
        }
    rearm(s);
}

// ---- initiator: MM6 -----------------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_mm6(sa_t& s, mutable_bytes buf, time_point now) noexcept
    -> result<void> {
    auto o = open(s, buf, s.chain);
    if (!o)
        return wrong_psk(
            s, garbled(o.error(), "MM6 (garbage after decryption: wrong pre-shared key?)"));
    std::optional<payload> idp, hp;
    for (const auto& p : o->chain) {
        if (p.kind() == payload_type::id_v1 && !idp) idp = p;
        if (p.kind() == payload_type::hash && !hp) hp = p;
    }
    if (!idp || !hp) return wrong_psk(s, error(engine_errc::missing_payload, 28, "MM6 ID/HASH"));
    auto hr = phase1_hash<B>(s.info, s.keys.skeyid, false, bytes_view(s.gx_i.data(), s.gx_n),
                             bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                             bytes_view(s.sai_b.data(), s.sai_n), idp->body);
    if (!hr) return hr.error();
    if (!crypto::constant_time_equal(hp->body, *hr))
        return wrong_psk(s, error(engine_errc::authentication_failed, hp->body_offset(), "HASH_R"));
    if (n_est >= L::max_sas) return error(engine_errc::capacity, 0, "established SAs");
    s.chain = o->next;
    s.p1_last = s.chain;
    s.peer_id_n = u16(std::min(idp->body.size(), s.peer_id.size()));
    copy_to(s.peer_id, idp->body.first(s.peer_id_n));
    s.tx_n = 0;
    established(s, now);
    return start_quick_mode(s, params_of(s), 0, now);
}

#undef L2SEC_IKE_V1_CORE
#undef L2SEC_IKE_V1_CORE_T

}  // namespace l2sec::ike::v1::detail
