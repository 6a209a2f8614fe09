// The IKEv2 engine's INFORMATIONAL exchange (RFC 7296 1.4, 1.5: Delete,
// liveness checks) and its timers (retransmission, half-open and lifetime
// expiry, rekeys, DPD). Included by impl/engine.hpp.
#pragma once

#include <l2sec/ike/v2/impl/engine.hpp>

#include <cstdlib>

namespace l2sec::ike::v2::detail {

#define L2SEC_IKE2_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE2_SELF engine_core<B, R, L, S>

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::on_info_request(sa_t& s, const parts& p, std::uint32_t mid,
                                      std::uint64_t fp) noexcept {
    if (s.st != sa_state::established)
        return fail_note(error(engine_errc::wrong_state, 18, "INFORMATIONAL"));
    bool delete_ike = false;
    std::array<std::byte, 4 * 8> ours{};
    std::uint16_t n_ours = 0;
    for (const auto& d : p.deletes) {
        if (d.protocol == u16(protocol_id::ike)) delete_ike = true;
        if (d.protocol != u16(protocol_id::esp) || d.spi_size != 4) continue;
        for (std::size_t k = 0; k < d.count; ++k) {
            const std::uint32_t spi = load_be32(d.spis.data() + 4 * k);
            for (auto& c : s.children)
                if (c.used && c.sa.spi_out == spi) {
                    if (n_ours < 8) store_be32(ours.data() + 4 * n_ours++, c.sa.spi_in);
                    child_down(s, c, engine_errc::deleted);
                }
        }
    }
    if (delete_ike) {
        send_oneshot(s, exchange::informational, true, mid, [](chain_writer&) {});
        if (sa_t* from = get(s.coll_from);
            from && from->pending == request::rekey_ike && from->coll_ike == handle(index_of(s)))
            give_back(s, *from);
        remove_sa(s, engine_errc::deleted);
        return;
    }
    (void)send_response(s, exchange::informational, mid, fp, [&](chain_writer& c) {
        if (!n_ours) return;
        c.begin(payload_type::delete_);
        delete_{u16(protocol_id::esp), 4, n_ours, bytes_view(ours.data(), 4u * n_ours)}.encode(
            c.out());
        c.end();
    });
}
L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::on_info_response(sa_t& s, time_point) noexcept {
    const auto what = s.pending;
    s.pending = request::none;
    s.retx_at = never;
    ++s.my_mid;
    if (what == request::delete_ike) remove_sa(s, engine_errc::closed);
    if (what == request::delete_old) remove_sa(s, engine_errc::replaced);
}
/// Delete one of our Child SAs (INFORMATIONAL with our inbound SPI).
L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::send_child_delete(sa_t& s, std::uint32_t spi_in, time_point now) noexcept {
    std::array<std::byte, 4> b{};
    store_be32(b.data(), spi_in);
    (void)send_request(s, exchange::informational, request::delete_child, now,
                       [&](chain_writer& c) {
                           c.begin(payload_type::delete_);
                           delete_{u16(protocol_id::esp), 4, 1, b}.encode(c.out());
                           c.end();
                       });
}
L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::send_liveness(sa_t& s, time_point now) noexcept {
    ++st.liveness_sent;
    (void)send_request(s, exchange::informational, request::liveness, now, [](chain_writer&) {});
}
/// Delete the IKE SA (and with it its Child SAs, RFC 7296 1.4.1): sent
/// once, the SA is gone at once.
L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::close(sa_handle hd, time_point) noexcept {
    sa_t* s = get(hd);
    if (!s) return;
    if (s->st == sa_state::established && s->pending == request::none) {
        send_oneshot(*s, exchange::informational, false, s->my_mid, [](chain_writer& c) {
            c.begin(payload_type::delete_);
            delete_{u16(protocol_id::ike), 0, 0, {}}.encode(c.out());
            c.end();
        });
    }
    remove_sa(*s, engine_errc::closed);
}
L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::close_all(time_point now) noexcept {
    for (std::size_t i = 0; i < slots; ++i)
        if (tab[i].st != sa_state::free) close(handle(i), now);
}

// ---- timers ------------------------------------------------------------

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::tick_one(sa_t& s, time_point now) noexcept {
    if (half_open(s.st) && now - s.created >= cfg.half_open_timeout)
        return remove_sa(s, engine_errc::timeout);
    if (s.pending != request::none && now >= s.retx_at) {
        if (s.tries + 1 >= cfg.retransmit_tries) {
            if (s.pending == request::liveness) {
                emit(event_kind::peer_dead, s, engine_errc::peer_dead);
                return remove_sa(s, engine_errc::peer_dead);
            }
            return remove_sa(s, engine_errc::timeout);
        }
        ++s.tries;
        ++st.retransmits;
        s.retx_at = retx_time(s.tries, now);
        return queue(s, 0);
    }
    if (s.st != sa_state::established) return;
    if (now >= s.retire_at) return remove_sa(s, engine_errc::replaced);
    if (s.retire_at != never) return;  // rekeyed: no rekeys, no liveness checks
    if (now >= s.soft_at && s.pending == request::none) {
        s.soft_at = never;
        if (auto ok = send_ike_rekey(s, now); !ok) fail_note(ok.error());
    }
    for (auto& c : s.children) {
        if (c.used && now >= c.gone_at) child_down(s, c, engine_errc::replaced);
        if (c.used && now >= c.soft_at && c.gone_at == never && s.pending == request::none) {
            c.soft_at = never;
            if (auto ok = send_rekey(s, c, now); !ok) fail_note(ok.error());
        }
    }
    if (s.pending == request::none && cfg.dpd_interval.count() > 0 &&
        now - s.last_rx >= cfg.dpd_interval)
        send_liveness(s, now);
}

/// The SAs that are due, earliest first; each goes back on the heap at its
/// new deadline, or, still due (it waits for something else), at settle().
L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::tick(time_point now) noexcept {
    while (!timers->empty() && timers->top_deadline() <= now) {
        auto& s = tab[timers->top() - 1u];
        timers->erase(timers->top());
        ++st.timer_visits;
        tick_one(s, now);
        if (s.st == sa_state::free) continue;
        if (deadline_of(s) <= now)
            touch(s);
        else
            rearm(s);
    }
    settle();
}

L2SEC_IKE2_CORE
auto L2SEC_IKE2_SELF::deadline_of(const sa_t& s) const noexcept -> time_point {
    time_point t = never;
    if (s.st == sa_state::free) return t;
    if (half_open(s.st)) t = std::min(t, s.created + cfg.half_open_timeout);
    if (s.pending != request::none) t = std::min(t, s.retx_at);
    if (s.st == sa_state::established && s.pending == request::none && s.retire_at == never &&
        cfg.dpd_interval.count() > 0)
        t = std::min(t, s.last_rx + cfg.dpd_interval);
    t = std::min(t, s.retire_at);
    if (s.pending == request::none && s.retire_at == never) t = std::min(t, s.soft_at);
    if (s.st == sa_state::established && s.retire_at == never)
        for (const auto& c : s.children)
            if (c.used) {
                t = std::min(t, c.gone_at);
                if (s.pending == request::none) t = std::min(t, c.soft_at);
            }
    return t;
}

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::rearm(const sa_t& s) noexcept {
    const time_point t = deadline_of(s);
    if (t == never)
        timers->erase(id_of(s));
    else
        timers->set(id_of(s), t);
}

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::settle() noexcept {
    if (touched_all) {
        for (std::size_t i = 0; i < slots; ++i)
            rearm(tab[i]);
    } else {
        for (auto i : touched)
            rearm(tab[i]);
    }
    touched.clear();
    touched_all = false;
}

L2SEC_IKE2_CORE
std::optional<time_point> L2SEC_IKE2_SELF::next_deadline() const noexcept {
    const std::optional<time_point> t =
        timers->empty() ? std::nullopt : std::optional<time_point>(timers->top_deadline());
#ifdef L2SEC_IKE_V2_CHECK_TIMERS
    time_point scan = never;
    for (std::size_t i = 0; i < slots; ++i)
        scan = std::min(scan, deadline_of(tab[i]));
    if ((scan == never) != !t || (t && *t != scan)) std::abort();  // a change without touch()
#endif
    return t;
}

#undef L2SEC_IKE2_CORE
#undef L2SEC_IKE2_SELF

}  // namespace l2sec::ike::v2::detail
