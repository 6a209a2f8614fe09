// The IKEv1 engine's Informational exchanges: notifications, Delete, DPD
// (RFC 3706), and closing SAs.
#pragma once

#include <l2sec/ike/v1/detail/engine_core.hpp>

#include <algorithm>
#include <memory>

namespace l2sec::ike::v1::detail {

#define L2SEC_IKE_V1_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE_V1_CORE_T engine_core<B, R, L, S>

// ---- informational ------------------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::on_informational(sa_t& s, mutable_bytes buf, std::uint32_t mid,
                                           time_point now) noexcept -> result<void> {
    auto v = p2_iv(s, mid);
    if (!v) return v.error();
    auto o = open(s, buf, *v);
    if (!o) return o.error();
    auto rest = after_first_hash(buf, o->chain);
    if (!rest) return error(engine_errc::missing_payload, 28, "Informational HASH");
    payload hp = *o->chain.begin();
    auto h = hash_a(s, mid, {}, *rest);
    if (!h) return h.error();
    if (!crypto::constant_time_equal(hp.body, *h))
        return error(engine_errc::authentication_failed, hp.body_offset(), "Informational HASH");
    (void)now;
    bool drop_sa = false;
    for (const auto& p : o->chain) {
        if (p.kind() == payload_type::notification) {
            auto n = notification::parse(p);
            if (n && n->type < 16384)
                on_error_notify(s, *n);
            else if (n)
                on_status_notify(s, *n, mid, now);
        }
        if (p.kind() == payload_type::delete_v1) {
            auto d = delete_::parse(p);
            if (!d) continue;
            if (d->protocol == 1) {
                drop_sa = true;
            } else if (d->protocol == static_cast<std::uint8_t>(protocol_id::esp) &&
                       d->spi_size == 4) {
                for (std::size_t i = 0; i < d->count; ++i) {
                    const auto spi = load_be32(d->spi(i).data());
                    for (auto& c : s.children)
                        if (c.st == child_slot::state::installed &&
                            (c.spi_out == spi || c.spi_in == spi))
                            child_down(s, c, make_error_code(engine_errc::deleted));
                }
            }
        }
    }
    if (drop_sa) remove_sa(s, make_error_code(engine_errc::deleted));
    return {};
}

/// An error notification (NO-PROPOSAL-CHOSEN after our QM2, INVALID-ID,
/// ...): the Quick Mode exchanges still in progress are abandoned.
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::on_error_notify(sa_t& s, const notification& n) noexcept {
    for (auto& c : s.children) {
        if (c.st == child_slot::state::free || c.st == child_slot::state::installed) continue;
        if (n.spi.size() == 4) {
            const auto spi = load_be32(n.spi.data());
            if (spi != c.spi_in && spi != c.spi_out) continue;
        }
        c = child_slot{};
        event e;
        e.kind = event_kind::failed;
        e.ike = handle(index_of(s));
        e.peer = s.peer;
        // NO-PROPOSAL-CHOSEN is the one a user can act on (the suites): name it.
        e.reason = make_error_code(n.kind() == notify_type::no_proposal_chosen
                                       ? engine_errc::no_proposal_chosen
                                       : engine_errc::notified);
        push_event(std::move(e));
    }
}

/// DPD (RFC 3706): answer R-U-THERE, take R-U-THERE-ACK.
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::on_status_notify(sa_t& s, const notification& n, std::uint32_t,
                                           time_point now) noexcept {
    if (n.data.size() != 4) return;
    const std::uint32_t seq = load_be32(n.data.data());
    if (n.kind() == notify_type::v1_dpd_r_u_there) {
        std::array<std::byte, 4> d{};
        store_be32(d.data(), seq);
        auto ck = cookies(s);
        send_informational(s, payload_type::notification, [&](writer& w) {
            notification{doi_ipsec, 1,
                         static_cast<std::uint16_t>(notify_type::v1_dpd_r_u_there_ack), ck, d}
                .encode(w);
        });
    } else if (n.kind() == notify_type::v1_dpd_r_u_there_ack && seq == s.dpd_seq &&
               s.dpd_deadline != never) {
        s.dpd_deadline = never;
        s.dpd_resend_at = never;
        s.last_rx = now;
    }
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::dpd_on(const sa_t& s) const noexcept -> bool {
    return s.st == p1_state::established && s.peer_dpd && cfg.dpd_interval.count() > 0;
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::send_dpd(sa_t& s, time_point now) noexcept {
    if (s.dpd_deadline == never) {
        ++s.dpd_seq;
        s.dpd_deadline = now + cfg.dpd_timeout;
        s.dpd_tries = 0;
    }
    std::array<std::byte, 4> d{};
    store_be32(d.data(), s.dpd_seq);
    auto ck = cookies(s);
    send_informational(s, payload_type::notification, [&](writer& w) {
        notification{doi_ipsec, 1, static_cast<std::uint16_t>(notify_type::v1_dpd_r_u_there), ck, d}
            .encode(w);
    });
    ++st.dpd_sent;
    s.dpd_resend_at = retx_time(++s.dpd_tries, now);
}

/// A protected Informational exchange with one payload built by `body`.
L2SEC_IKE_V1_CORE
template <class Body>
void L2SEC_IKE_V1_CORE_T::send_informational(sa_t& s, payload_type type, Body&& body) noexcept {
    std::uint32_t mid = 0;
    while (mid == 0)
        if (!random_int(mid)) return;
    auto v = p2_iv(s, mid);
    if (!v) return;
    auto& o = take_shot(s.local, s.peer, s.floated);
    header h = v1_header(s, exchange::informational_v1, mid);
    auto out = mutable_bytes(o.buf).subspan(marker);
    message_builder b(out, h);
    b.begin(payload_type::hash);
    const std::size_t hash_at = b.out().size();
    const std::size_t hn = crypto::info(s.info.prf).output_size;
    b.out().fill(hn);
    b.end();
    b.begin(type);
    body(b.out());
    b.end();
    auto sz = b.finish();
    if (!sz) return;
    auto plain = parse(bytes_view(out.data(), *sz));
    if (!plain) return;
    auto rest = after_first_hash(plain->data(), plain->payloads());
    if (!rest) return;
    auto hh = hash_a(s, mid, {}, *rest);
    if (!hh) return;
    copy_to(out.subspan(hash_at), hh->view());
    if (!seal(s, out, *sz, *v, o.n)) return;
    queue_shot(o);
}

/// Delete payloads for the SA's ESP SAs and itself (one Informational each).
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::send_deletes(sa_t& s) noexcept {
    if (s.st != p1_state::established) return;
    for (auto& c : s.children) {
        if (c.st != child_slot::state::installed) continue;
        std::array<std::byte, 4> spi{};
        store_be32(spi.data(), c.spi_in);
        send_informational(s, payload_type::delete_v1, [&](writer& w) {
            delete_{doi_ipsec, 3, 4, 1, spi}.encode(w);
        });
    }
    auto ck = cookies(s);
    send_informational(s, payload_type::delete_v1, [&](writer& w) {
        delete_{doi_ipsec, 1, 16, 1, ck}.encode(w);
    });
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::close(sa_handle hd, time_point now) noexcept {
    auto* s = get(hd);
    if (!s) return;
    (void)now;
    send_deletes(*s);
    remove_sa(*s, make_error_code(engine_errc::closed));
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::close_all(time_point now) noexcept {
    for (std::size_t i = 0; i < slots; ++i)
        if (tab[i].st != p1_state::free) close(handle(i), now);
}

#undef L2SEC_IKE_V1_CORE
#undef L2SEC_IKE_V1_CORE_T

}  // namespace l2sec::ike::v1::detail
