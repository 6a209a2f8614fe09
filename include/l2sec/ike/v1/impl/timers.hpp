// The IKEv1 engine's timers: retransmission, half-open timeouts, lifetimes
// and rekeys, DPD, the next deadline, ESP traffic accounting.
#pragma once

#include <l2sec/ike/v1/detail/engine_core.hpp>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace l2sec::ike::v1::detail {

#define L2SEC_IKE_V1_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE_V1_CORE_T engine_core<B, R, L, S>

// ---- timers -------------------------------------------------------------

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::tick(time_point now) noexcept {
    // Take the due SAs off the heap, then handle them in slot order (the
    // order of poll_datagram's output); only the due ones cost anything.
    std::size_t n = 0;
    while (!timers->empty() && timers->top_deadline() <= now) {
        due[n++] = timers->top();
        timers->erase(timers->top());
    }
    std::sort(due.get(), due.get() + n);
    st.timer_visits += n;
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t i = due[k] - 1u;
        tick_sa(i, now);
        rearm(tab[i]);
    }
}

// One SA's timers, when its deadline has come (or was keyed early).
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::tick_sa(std::size_t i, time_point now) noexcept {
    auto& s = tab[i];
    if (s.st == p1_state::free) return;
    // MM1 to MM4 were answered and MM5 never is: a peer that cannot
    // decrypt it stays silent (Linux strongSwan, libreswan), so this is
    // almost always a wrong PSK (else UDP 4500 blocked after NAT-T).
    const auto gave_up =
        s.st == p1_state::i_mm5_sent ? engine_errc::wrong_psk : engine_errc::timeout;
    if (half_open(s.st) && now - s.created >= cfg.half_open_timeout) {
        if (gave_up == engine_errc::wrong_psk)
            st.last_error = error(gave_up, 0, "MM5 unanswered (or UDP 4500 blocked)");
        remove_sa(s, make_error_code(gave_up));
        return;
    }
    if (s.retx_at <= now) {
        if (s.tries + 1 >= cfg.retransmit_tries) {
            if (gave_up == engine_errc::wrong_psk)
                st.last_error = error(gave_up, 0, "MM5 unanswered (or UDP 4500 blocked)");
            remove_sa(s, make_error_code(gave_up));
            return;
        }
        ++s.tries;
        ++st.retransmits;
        s.retx_at = retx_time(s.tries, now);
        queue(s, 0);
    }
    if (s.st != p1_state::established) return;
    if (s.expires_at <= now) {  // hard lifetime: tell the peer, then forget
        send_deletes(s);
        remove_sa(s, make_error_code(engine_errc::expired));
        return;
    }
    if (s.close_at <= now) {  // replaced by a re-authentication
        close(handle(i), now);
        return;
    }
    if (s.soft_at <= now) {  // re-authenticate: a new Main Mode, then Quick Mode
        s.soft_at = never;
        auto h = connect(s.conn, now);
        if (h) tab[h->index].reauth_of = handle(i);
    }
    if (dpd_on(s)) {
        if (s.dpd_deadline != never && now >= s.dpd_deadline) {
            emit(event_kind::peer_dead, s, make_error_code(engine_errc::peer_dead));
            remove_sa(s, make_error_code(engine_errc::peer_dead));
            return;
        }
        if (s.dpd_deadline == never ? now - s.last_rx >= cfg.dpd_interval : now >= s.dpd_resend_at)
            send_dpd(s, now);
    }
    for (auto& c : s.children) {
        if (c.st == child_slot::state::free) continue;
        if (c.st != child_slot::state::installed) {
            if (c.retx_at > now) continue;
            if (c.tries + 1 >= cfg.retransmit_tries) {
                c = child_slot{};
                event e;
                e.kind = event_kind::failed;
                e.ike = handle(i);
                e.peer = s.peer;
                e.reason = make_error_code(engine_errc::timeout);
                push_event(std::move(e));
                continue;
            }
            ++c.tries;
            ++st.retransmits;
            c.retx_at = retx_time(c.tries, now);
            queue(s, u8(child_index(s, c) + 1u));
            continue;
        }
        if (c.hard_at <= now) {
            child_down(s, c,
                       make_error_code(c.rekeyed ? engine_errc::replaced : engine_errc::expired));
            continue;
        }
        if (c.soft_at <= now && !c.rekeyed) {
            c.soft_at = never;
            (void)start_quick_mode(s, params_of(s, c), c.spi_in, now);
        }
    }
}

/// The earliest time any of `s`'s timers fires (never: none).
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::deadline_of(const sa_t& s) const noexcept -> time_point {
    time_point t = never;
    if (s.st == p1_state::free) return t;
    if (half_open(s.st)) t = std::min(t, s.created + cfg.half_open_timeout);
    t = std::min(t, s.retx_at);
    if (s.st != p1_state::established) return t;
    t = std::min({t, s.expires_at, s.close_at, s.soft_at});
    if (dpd_on(s)) {
        if (s.dpd_deadline == never)
            t = std::min(t, s.last_rx + cfg.dpd_interval);
        else
            t = std::min({t, s.dpd_deadline, s.dpd_resend_at});
    }
    for (const auto& c : s.children) {
        if (c.st == child_slot::state::free) continue;
        if (c.st != child_slot::state::installed)
            t = std::min(t, c.retx_at);
        else
            t = std::min({t, c.hard_at, c.rekeyed ? never : c.soft_at});
    }
    return t;
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::rearm(const sa_t& s) noexcept {
    const auto id = id_of(index_of(s));
    if (const auto t = deadline_of(s); t != never)
        timers->set(id, t);
    else
        timers->erase(id);
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::next_deadline() const noexcept -> std::optional<time_point> {
    std::optional<time_point> d;
    while (!timers->empty()) {  // move keys left early (last_rx moved on) to their place
        const auto id = timers->top();
        const auto t = deadline_of(tab[id - 1u]);
        if (t == timers->top_deadline()) {
            d = t;
            break;
        }
        if (t != never)
            timers->set(id, t);
        else
            timers->erase(id);
    }
#if defined(L2SEC_IKE_V1_CHECK_TIMERS)
    // Tests: the heap agrees with a scan of every slot.
    time_point scan = never;
    for (std::size_t i = 0; i < slots; ++i)
        scan = std::min(scan, deadline_of(tab[i]));
    if (scan != (d ? *d : never)) std::abort();
#endif
    return d;
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::note_esp_traffic(std::uint32_t spi_in, std::size_t bytes,
                                           time_point now) noexcept {
    auto found = find_child(spi_in);
    if (!found || found->first->st != p1_state::established) return;
    auto& s = *found->first;
    auto& c = *found->second;
    c.bytes += bytes;
    s.last_rx = now;
    if (!c.life_kb) return;
    const auto kb = c.bytes / 1024;
    if (kb >= c.life_kb) {
        child_down(s, c, make_error_code(engine_errc::expired));
    } else if (!c.rekeyed && c.soft_at != never &&
               static_cast<double>(kb) >= static_cast<double>(c.life_kb) * cfg.rekey_margin) {
        c.soft_at = now;  // tick() rekeys
        rearm(s);
    }
}

#undef L2SEC_IKE_V1_CORE
#undef L2SEC_IKE_V1_CORE_T

}  // namespace l2sec::ike::v1::detail
