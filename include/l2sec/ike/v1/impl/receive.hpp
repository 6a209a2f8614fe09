// The IKEv1 engine's input: a datagram's marker and header, finding its IKE
// SA, duplicate detection, dispatch by state; Cisco/Microsoft fragments.
#pragma once

#include <l2sec/ike/v1/detail/engine_core.hpp>

#include <algorithm>
#include <memory>

namespace l2sec::ike::v1::detail {

#define L2SEC_IKE_V1_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE_V1_CORE_T engine_core<B, R, L, S>

// ---- receive ------------------------------------------------------------

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::receive(bytes_view dg, const transport::endpoint& local,
                                  const transport::endpoint& peer, time_point now) noexcept {
    ++st.received;
    const bool on_4500 = local.port == 4500;
    bytes_view m = dg;
    if (on_4500) {
        auto r = strip_non_esp_marker(dg);
        if (!r) return fail_note(r.error());
        m = *r;
    }
    if (m.size() > rx_capacity) return fail_note(error(ike::errc::truncated, 0, "datagram size"));
    receive_ike(m, local, peer, now, true);
}

/// One IKE message (after the marker on 4500); `outer`: it came from the
/// wire (a reassembled message may not be fragmented again).
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::receive_ike(bytes_view m, const transport::endpoint& local,
                                      const transport::endpoint& peer, time_point now,
                                      bool outer) noexcept {
    auto msg = parse(m);
    if (!msg) return fail_note(msg.error());
    const header& h = msg->header();
    if (h.major != 1) return fail_note(error(ike::errc::unsupported_version, 17, "IKEv1 engine"));
    if (h.first_payload() == payload_type::fragment_v1) {
        if (!outer) return fail_note(error(engine_errc::invalid_payload, 28, "nested fragment"));
        return on_fragment(*msg, local, peer, now);
    }
    const std::uint64_t fp = fingerprint(m);

    // An unprotected error notification answering our MM1 (NO-PROPOSAL-CHOSEN).
    if (h.exchange_type == exchange::informational_v1 && !h.encrypted())
        return on_plain_notify(*msg, peer);
    // A new Main Mode: responder.
    if (h.spi_r == 0) {
        if ((h.exchange_type != exchange::main_mode && h.exchange_type != exchange::aggressive) ||
            h.encrypted() || h.message_id != 0)
            return fail_note(error(engine_errc::wrong_state, 16, "first message"));
        if (auto* sp =
                find_sa(h.spi_i, [&](const sa_t& s) { return !s.initiator && s.peer == peer; })) {
            auto& s = *sp;
            if ((s.st == p1_state::r_mm2_sent || s.st == p1_state::r_am2_sent) && s.rx_fp == fp) {
                ++st.duplicates;
                queue(s, 0);
                return;
            }
            return fail_note(error(engine_errc::wrong_state, 0, "MM1 for a known SA"));
        }
        if (h.exchange_type == exchange::aggressive) return on_am1(*msg, fp, local, peer, now);
        return on_mm1(*msg, fp, local, peer, now);
    }
    sa_t* sp = find_sa(h.spi_i, [&](const sa_t& s) {
        return s.cky_r == h.spi_r ||
               ((s.st == p1_state::i_mm1_sent || s.st == p1_state::i_am1_sent) && s.peer == peer);
    });
    if (!sp) return fail_note(error(engine_errc::invalid_cookie, 8, "IKE SA"));
    auto& s = *sp;
    if (s.st != p1_state::established && s.rx_fp == fp) {
        ++st.duplicates;
        if (!s.initiator || s.st == p1_state::established) queue(s, 0);
        return;
    }
    if (s.st == p1_state::established &&
        (h.exchange_type == exchange::main_mode || h.exchange_type == exchange::aggressive)) {
        if (s.rx_fp == fp) {  // MM5 again (MM6 lost), or AM2 again (AM3 lost)
            ++st.duplicates;
            if (s.tx_n) queue(s, 0);
            return;
        }
        return fail_note(error(engine_errc::wrong_state, 18, "Main Mode after establishment"));
    }
    // Copy into the scratch buffer: decryption works in place and a bad
    // message must leave nothing changed.
    mutable_bytes buf(rx.get(), m.size());
    copy_to(buf, m);
    result<void> r;
    switch (s.st) {
        case p1_state::i_mm1_sent:
            r = on_mm2(s, buf, now);
            break;
        case p1_state::r_mm2_sent:
            r = on_mm3(s, buf, now);
            break;
        case p1_state::i_mm3_sent:
            r = on_mm4(s, buf, now);
            break;
        case p1_state::r_mm4_sent:
            r = on_mm5(s, buf, local, peer, now);
            break;
        case p1_state::i_mm5_sent:
            if (h.exchange_type == exchange::informational_v1)
                r = on_mm5_answer(s, buf, h.message_id, now);
            else if (h.exchange_type == exchange::main_mode)
                r = on_mm6(s, buf, now);
            else
                r = error(engine_errc::wrong_state, 18, "exchange (waiting for MM6)");
            break;
        case p1_state::i_am1_sent:
            r = on_am2(s, buf, now);
            break;
        case p1_state::r_am2_sent:
            r = on_am3(s, buf, local, peer, now);
            break;
        case p1_state::established:
            r = on_established(s, buf, fp, local, peer, now);
            break;
        default:
            r = error(engine_errc::wrong_state, 18, "exchange");
            break;
    }
    if (!r) {
        fail_note(r.error());
        return;
    }
    if (s.st == p1_state::free) return;  // the handler removed it
    s.last_rx = now;
    rearm(s);
    if (s.st != p1_state::established || h.exchange_type == exchange::main_mode ||
        h.exchange_type == exchange::aggressive)
        s.rx_fp = fp;
}

// ---- IKEv1 fragments ----------------------------------------------------

/// Collect fragments (any order, duplicates ignored, up to 255 of them:
/// Windows cuts at 626 bytes) and process the message once complete.
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::on_fragment(const message& msg, const transport::endpoint& local,
                                      const transport::endpoint& peer, time_point now) noexcept {
    const header& h = msg.header();
    payload p = *msg.payloads().begin();
    auto f = fragment::parse(p);
    if (!f) return fail_note(f.error());
    bool known = h.spi_r == 0;
    if (!known) known = find_sa(h.spi_i, [&](const sa_t& s) { return s.cky_r == h.spi_r; });
    if (!known) return fail_note(error(engine_errc::invalid_cookie, 8, "fragment"));
    if (!reasm || frag_cky_i != h.spi_i || frag_cky_r != h.spi_r || !(frag_peer == peer) ||
        frag_id != f->id || now - frag_started > std::chrono::seconds(10)) {
        reasm.emplace(mutable_bytes(frag_store.get(), rx_capacity));
        frag_cky_i = h.spi_i;
        frag_cky_r = h.spi_r;
        frag_peer = peer;
        frag_id = f->id;
        frag_started = now;
    }
    auto done = reasm->add(*f, p.offset);
    if (!done) {
        reasm.reset();
        return fail_note(done.error());
    }
    if (!*done) return;
    auto whole = reasm->assemble(mutable_bytes(frag_out.get(), rx_capacity));
    reasm.reset();
    if (!whole) return fail_note(whole.error());
    receive_ike(*whole, local, peer, now, false);
}

#undef L2SEC_IKE_V1_CORE
#undef L2SEC_IKE_V1_CORE_T

}  // namespace l2sec::ike::v1::detail
