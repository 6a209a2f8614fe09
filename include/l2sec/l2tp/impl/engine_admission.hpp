// The bodies of l2tp::engine's admission of new tunnels: an SCCRQ with Tunnel
// ID 0 (new, retransmitted, or crossing ours: the tie breaker), the
// half-open limits against SCCRQ floods, and the index that finds a
// retransmitted SCCRQ's tunnel (declared in l2tp/engine.hpp; included by
// impl/engine.hpp).
#pragma once

#include <l2sec/l2tp/engine.hpp>

#include <cstdint>
#include <cstring>
#include <optional>

namespace l2sec::l2tp {

#define L2SEC_L2TP_ENGINE template <class Crypto, class Limits, class Random>
#define L2SEC_L2TP_ENGINE_T engine<Crypto, Limits, Random>

// Tunnel ID 0: only an SCCRQ, new or retransmitted. Null: we lost nothing
// and keep nothing (our crossing SCCRQ wins the tie).
L2SEC_L2TP_ENGINE
auto L2SEC_L2TP_ENGINE_T::accept_sccrq(const transport::endpoint& from, bytes_view dgram,
                                       time_point now) noexcept -> result<tunnel_type*> {
    auto m = parse_control(dgram);
    if (!m) return m.error();
    if (m->is_zlb() || m->type() != message_type::sccrq)
        return error(engine_errc::tunnel_id_zero, 4, "Tunnel ID");
    auto peer_tid = m->template get<avps::assigned_tunnel_id>();
    if (!peer_tid) return peer_tid.error();
    if (auto existing = index_find(from, peer_tid->value))
        return &tunnels_[*existing - 1];  // a retransmitted SCCRQ
    if (!cfg_.accept_tunnels) return error(engine_errc::refused, 0, "SCCRQ");
    if (auto a = admit_half_open(from); !a) return a.error();
    // Tie breaker: we have an SCCRQ outstanding to the same peer.
    if (auto* mine = pending_to(from); mine && mine->tie_breaker != 0) {
        if (auto theirs = m->template get<avps::tie_breaker>()) {
            if (mine->tie_breaker < theirs->value) return nullptr;  // we win
            // They win: discard ours silently.
            push_event({event_kind::tunnel_down,
                        mine->local_id,
                        0,
                        stopccn_result::already_exists,
                        0,
                        {}});
            free_tunnel(*mine);
        }
    }
    auto id = tunnel_ids_.acquire();
    if (!id) return error(engine_errc::out_of_tunnels, 0, "tunnels");
    auto& t = tunnels_[*id - 1];
    init_tunnel(t, *id, from, false, now);
    t.peer_id = peer_tid->value;
    t.channel.set_peer_tunnel_id(t.peer_id);
    t.state = tunnel_state::wait_ctl_conn;  // SCCRP goes out when the SCCRQ is processed
    t.half_open_until = now + cfg_.half_open_timeout;
    half_open_.push_back([this](std::uint16_t i) -> list_hook& { return half_open_hook(i); },
                         t.local_id);
    index_insert(t);
    return &t;
}

// Room for one more half-open tunnel from `from`: refuse it over the
// per-address limit, drop the oldest half-open tunnel over the total one.
// O(half-open tunnels), which the limit bounds.
L2SEC_L2TP_ENGINE
result<void> L2SEC_L2TP_ENGINE_T::admit_half_open(const transport::endpoint& from) noexcept {
    auto at = [this](std::uint16_t i) -> list_hook& { return half_open_hook(i); };
    if (cfg_.max_half_open_per_peer != 0) {
        std::size_t same = 0;
        for (auto id = half_open_.front(); id != 0; id = intrusive_list::next(at, id))
            same += tunnels_[id - 1].peer.addr == from.addr;
        if (same >= cfg_.max_half_open_per_peer) {
            ++stats_.half_open_refused;
            return error(engine_errc::half_open_limit, 0, "SCCRQ");
        }
    }
    if (half_open_.size() >= half_open_limit()) {
        ++stats_.half_open_evicted;
        free_tunnel(tunnels_[half_open_.front() - 1]);  // the oldest
    }
    return {};
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::leave_half_open(tunnel_type& t) noexcept {
    (void)half_open_.erase([this](std::uint16_t i) -> list_hook& { return half_open_hook(i); },
                           t.local_id);
}

// ---- data -----------------------------------------------------------------

L2SEC_L2TP_ENGINE
result<input> L2SEC_L2TP_ENGINE_T::handle_data(const data_message& d,
                                               const transport::endpoint& from,
                                               time_point now) noexcept {
    const std::size_t l = d.has_length() ? 2 : 0;  // the fields after Length move by 2
    auto* s = live_session(d.session_id);
    if (!s || s->tunnel != d.tunnel_id || s->state != session_state::established)
        return drop(error(engine_errc::unknown_session, 4 + l, "Session ID"));
    auto& t = tunnels_[s->tunnel - 1];
    // One fixed-size compare (two words), not std::array's out-of-line equal + memcmp.
    if (std::memcmp(t.peer.addr.data(), from.addr.data(), sizeof from.addr) != 0)
        return drop(error(engine_errc::wrong_peer, 0, "source"));
    // Data counts as life: Hello goes out only on a silent tunnel (some
    // peers, Android's among them, do not acknowledge Hello at all). The
    // Hello time moves later; its heap key stays early (see deadline()).
    t.last_rx = now;
    if (d.has_sequence()) {
        if (seq_before(d.ns, s->data_nr)) return drop(error(engine_errc::stale_ns, 6 + l, "Ns"));
        s->data_nr = static_cast<std::uint16_t>(d.ns + 1);
    }
    ++stats_.data_in;
    return input{true, d.tunnel_id, d.session_id, d.payload};
}

// ---- (peer endpoint, peer tunnel ID) -> local tunnel ID --------------------

L2SEC_L2TP_ENGINE
std::uint64_t L2SEC_L2TP_ENGINE_T::key_hash(const transport::endpoint& peer,
                                            std::uint16_t peer_tid) noexcept {
    return peer.hash() ^ (std::uint64_t{peer_tid} * 0x9e3779b97f4a7c15ull);
}

L2SEC_L2TP_ENGINE
std::optional<std::uint16_t> L2SEC_L2TP_ENGINE_T::index_find(
    const transport::endpoint& peer, std::uint16_t peer_tid) const noexcept {
    return index_.find(key_hash(peer, peer_tid), [&](std::uint16_t id) {
        const auto& t = tunnels_[id - 1];
        return t.peer.addr == peer.addr && t.peer.port == peer.port && t.peer_id == peer_tid;
    });
}

// Only tunnels whose peer ID is known are indexed (an initiator's is not
// before SCCRP).
L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::index_insert(const tunnel_type& t) noexcept {
    if (t.peer_id != 0) (void)index_.insert(t.local_id, key_hash(t.peer, t.peer_id));
}

L2SEC_L2TP_ENGINE
void L2SEC_L2TP_ENGINE_T::index_erase(const tunnel_type& t) noexcept {
    if (t.peer_id == 0) return;
    (void)index_.erase(t.local_id, key_hash(t.peer, t.peer_id), [this](std::uint16_t id) {
        const auto& o = tunnels_[id - 1];
        return key_hash(o.peer, o.peer_id);
    });
}

#undef L2SEC_L2TP_ENGINE_T
#undef L2SEC_L2TP_ENGINE

}  // namespace l2sec::l2tp
