// The IKEv2 engine's input: one datagram checked and dispatched (see
// impl/engine.hpp). Included by impl/engine.hpp.
#pragma once

#include <l2sec/ike/v2/impl/engine.hpp>

namespace l2sec::ike::v2::detail {

#define L2SEC_IKE2_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE2_SELF engine_core<B, R, L, S>

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::receive(bytes_view data, const transport::endpoint& local,
                              const transport::endpoint& peer, time_point now) noexcept {
    ++st.received;
    bytes_view msg = data;
    if (local.port == 4500) {
        auto m = strip_non_esp_marker(data);
        if (!m) return fail_note(m.error());
        msg = *m;
    }
    if (msg.size() > rx_capacity) return fail_note(error(errc::bad_field, 0, "IKE message size"));
    auto m = ike::parse(msg);
    if (!m) return fail_note(m.error());
    const header& h = m->header();
    if (!h.is_v2()) return fail_note(error(errc::unsupported_version, 17, "IKEv2 only"));
    const std::uint64_t fp = fingerprint(msg);
    if (h.exchange_type == exchange::ike_sa_init) {
        if (!h.response()) return on_init_request(*m, local, peer, fp, now);
        return on_init_response(*m, local, peer, now);
    }
    sa_t* s = find(h.spi_i, h.spi_r);
    if (!s) return fail_note(error(engine_errc::invalid_spi, 0, "IKE SPIs"));
    if (h.initiator() == s->initiator)
        return fail_note(error(engine_errc::wrong_state, 19, "IKE header I flag"));
    const std::uint16_t piece = skf_number(*m);  // RFC 7383: 0 unless an SKF fragment
    if (h.response()) {
        if (piece && h.message_id + 1 == s->my_mid) {  // a late fragment of the last one
            ++st.duplicates;
            return;
        }
        if (s->pending == request::none || h.message_id != s->my_mid)
            return fail_note(error(engine_errc::invalid_message_id, 20, "response message ID"));
    } else if (s->resp_valid && h.message_id + 1 == s->peer_mid) {
        if (piece) return on_repeated_fragment(*s, msg, piece);
        if (fp != s->resp_fp)
            return fail_note(error(engine_errc::invalid_message_id, 20, "request message ID"));
        ++st.duplicates;  // a retransmission: the same answer, not processed twice
        queue(*s, 1);
        return;
    } else if (h.message_id != s->peer_mid || s->st == sa_state::i_init_sent ||
               s->st == sa_state::i_auth_sent) {
        return fail_note(error(engine_errc::invalid_message_id, 20, "request message ID"));
    }
    // Decrypt a copy: a message that fails leaves the SA as it was.
    mutable_bytes buf(rx.get(), msg.size());
    copy_to(buf, msg);
    auto pt = s->sk_rx->open(buf);
    if (!pt) return fail_note(pt.error());
    if (pt->fragment) {
        auto whole = reassemble(*s, h, *pt, now);
        if (!whole) return;  // more to come, or refused (noted)
        *pt = *whole;
    }
    auto p = parts::of(pt->payloads());
    if (p.bad) return fail_note(p.why);
    s->last_rx = now;
    if (s->st == sa_state::established || s->st == sa_state::r_init_done) {
        // the peer may have floated to 4500 (or its NAT rebound)
        s->peer = peer;
        s->local = local;
        s->floated = local.port == 4500;
    }
    switch (h.exchange_type) {
        case exchange::ike_auth:
            if (h.response()) return on_auth_response(*s, p, now);
            return on_auth_request(*s, p, h.message_id, fp, now);
        case exchange::informational:
            if (h.response()) return on_info_response(*s, now);
            return on_info_request(*s, p, h.message_id, fp);
        case exchange::create_child_sa:
            if (s->st != sa_state::established)
                return fail_note(error(engine_errc::wrong_state, 18, "CREATE_CHILD_SA"));
            if (h.response()) return on_child_response(*s, p, now);
            return on_child_request(*s, p, h.message_id, fp, now);
        default:
            return fail_note(error(engine_errc::wrong_state, 18, "exchange type"));
    }
}

#undef L2SEC_IKE2_CORE
#undef L2SEC_IKE2_SELF

}  // namespace l2sec::ike::v2::detail
