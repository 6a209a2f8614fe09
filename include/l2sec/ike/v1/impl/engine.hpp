// The IKEv1 engine's implementation (see ../engine.hpp for the interface):
// the SA table and its helpers, the output queues and validation; the
// exchanges are in the rooms included below, one job each.
#pragma once

#include <l2sec/ike/v1/detail/engine_core.hpp>
#include <l2sec/ike/v1/impl/aggressive_mode.hpp>
#include <l2sec/ike/v1/impl/informational.hpp>
#include <l2sec/ike/v1/impl/main_mode.hpp>
#include <l2sec/ike/v1/impl/main_mode_auth.hpp>
#include <l2sec/ike/v1/impl/quick_mode.hpp>
#include <l2sec/ike/v1/impl/quick_mode_keys.hpp>
#include <l2sec/ike/v1/impl/receive.hpp>
#include <l2sec/ike/v1/impl/timers.hpp>

#include <algorithm>
#include <memory>

namespace l2sec::ike::v1::detail {

#define L2SEC_IKE_V1_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE_V1_CORE_T engine_core<B, R, L, S>

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::validate(const config& c) noexcept -> result<void> {
    if (c.ike_proposals.empty() || c.ike_proposals.size() > 54)
        return error(engine_errc::invalid_config, 0, "ike_proposals");
    if (c.esp_proposals.empty() || c.esp_proposals.size() > 26)
        return error(engine_errc::invalid_config, 0, "esp_proposals");
    bool strong1 = false, strong2 = false;
    for (auto& p : c.ike_proposals) {
        if (!describe_p1(p) || !crypto::known(p.group))
            return error(engine_errc::invalid_config, 0, "ike_proposals (algorithm)");
        strong1 |= !is_weak(p);
    }
    for (auto& p : c.esp_proposals) {
        if (!esp_transform_id(p.suite) ||
            esp::is_aead(p.suite.enc) != (p.suite.integ == esp::integrity::none))
            return error(engine_errc::invalid_config, 0, "esp_proposals (algorithm)");
        strong2 |= !is_weak(p);
    }
    if (!c.allow_weak && !strong1)
        return error(engine_errc::invalid_config, 0, "ike_proposals (all weak, allow_weak off)");
    if (!c.allow_weak && !strong2)
        return error(engine_errc::invalid_config, 0, "esp_proposals (all weak, allow_weak off)");
    if (c.phase1_lifetime.count() <= 0 || c.phase2_lifetime.count() <= 0)
        return error(engine_errc::invalid_config, 0, "lifetime");
    if (c.retransmit_initial.count() <= 0 || c.retransmit_tries == 0)
        return error(engine_errc::invalid_config, 0, "retransmit");
    if (c.local_id.size() > 128) return error(engine_errc::invalid_config, 0, "local_id");
    if (c.rekey_margin <= 0.1 || c.rekey_margin > 1.0 || c.rekey_jitter < 0 || c.rekey_jitter > 0.5)
        return error(engine_errc::invalid_config, 0, "rekey_margin / rekey_jitter");
    if (c.fragment_size != 0 && (c.fragment_size < 128 || c.fragment_size > 8192))
        return error(engine_errc::invalid_config, 0, "fragment_size (0 or 128..8192)");
    if (c.half_open_per_address == 0)
        return error(engine_errc::invalid_config, 0, "half_open_per_address");
    return {};
}

// ---- small helpers ------------------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::handle(std::size_t i) const noexcept -> sa_handle {
    return {static_cast<std::uint32_t>(i), tab[i].generation};
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::get(sa_handle h) noexcept -> sa_t* {
    if (h.index >= slots) return nullptr;
    auto& s = tab[h.index];
    if (s.st == p1_state::free || s.generation != h.generation) return nullptr;
    return &s;
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::index_of(const sa_t& s) const noexcept -> std::size_t {
    return static_cast<std::size_t>(&s - tab.get());
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::fail_note(const error& e) noexcept {
    st.last_error = e;
    ++st.dropped;
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::push_event(event&& e) noexcept {
    if (ev_count == event_capacity) {  // drop the oldest
        ev_head = (ev_head + 1) % event_capacity;
        --ev_count;
        ++st.events_dropped;
    }
    events[(ev_head + ev_count) % event_capacity] = std::move(e);
    ++ev_count;
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::emit(event_kind k, const sa_t& s, std::error_code why) noexcept {
    event e;
    e.kind = k;
    e.ike = handle(index_of(s));
    e.peer = s.peer;
    e.reason = why;
    push_event(std::move(e));
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::queue(const sa_t& s, std::uint8_t which) noexcept {
    if (out_count == out_capacity) {
        ++st.tx_dropped;
        return;
    }
    outq[(out_head + out_count) % out_capacity] = {static_cast<std::uint32_t>(index_of(s)),
                                                   s.generation, which};
    ++out_count;
    rearm(s);  // every send that sets a retransmission time comes through here
}

L2SEC_IKE_V1_CORE
template <class T>
auto L2SEC_IKE_V1_CORE_T::random_int(T& v) noexcept -> bool {
    std::array<std::byte, sizeof(T)> b{};
    if (!rnd.fill(b)) return false;
    v = 0;
    for (auto x : b)
        v = static_cast<T>((v << 8) | std::to_integer<std::uint8_t>(x));
    return true;
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::free_sa(sa_t& s) noexcept {
    const auto id = id_of(index_of(s));
    const bool was_free = s.st == p1_state::free;
    if (half_open(s.st)) {
        --n_half;
        (void)half_list.erase(hook_of(), id);
    } else if (s.st == p1_state::established) {
        --n_est;
    }
    s.st = p1_state::free;
    reset(s);
    auto gen = s.generation + 1;
    s.generation = gen == 0 ? 1 : gen;
    timers->erase(id);
    if (!was_free) free_list.push_front(hook_of(), id);  // reused first: its lines are warm
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::enter_half_open(sa_t& s, const transport::endpoint& peer) noexcept {
    const auto id = id_of(index_of(s));
    (void)free_list.erase(hook_of(), id);
    half_list.push_back(hook_of(), id);
    half_peer[id - 1u] = peer;
    ++n_half;
}

/// Back to a fresh slot (keys wiped), same generation.
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::reset(sa_t& s) noexcept {
    for (auto& c : s.children)
        if (c.st == child_slot::state::installed) unindex_child(s, c);
    unindex_sa(s);
    unindex_peer(s);
    s.wipe();
    const auto gen = s.generation;
    s.~sa_t();
    new (&s) sa_t();
    s.generation = gen;
}

/// Drop an SA, reporting its children and itself as down.
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::remove_sa(sa_t& s, std::error_code why) noexcept {
    for (auto& c : s.children)
        if (c.st == child_slot::state::installed) child_down(s, c, why);
    if (s.st == p1_state::established)
        emit(event_kind::phase1_down, s, why);
    else
        emit(event_kind::failed, s, why);
    free_sa(s);
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::child_down(sa_t& s, child_slot& c, std::error_code why) noexcept {
    if (c.st == child_slot::state::installed) unindex_child(s, c);
    event e;
    e.kind = event_kind::child_down;
    e.ike = handle(index_of(s));
    e.peer = s.peer;
    e.spi_in = c.spi_in;
    e.reason = why;
    push_event(std::move(e));
    c = child_slot{};
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::retx_time(unsigned tries, time_point now) const noexcept -> time_point {
    auto d = cfg.retransmit_initial * (1u << std::min(tries, 10u));
    return now + d;
}

/// Allocate a half-open slot for `peer`, evicting per the limits. The
/// half-open list is oldest first, so the victims are its first entries.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::alloc_half_open(const transport::endpoint& peer, time_point now) noexcept
    -> sa_t* {
    std::size_t same = 0;
    sa_t* oldest_same = nullptr;
    for (auto id = half_list.front(); id != 0 && same < cfg.half_open_per_address;
         id = intrusive_list::next(hook_of(), id)) {
        const auto& p = half_peer[id - 1u];
        if (p.family == peer.family && p.addr == peer.addr)
            if (same++ == 0) oldest_same = &tab[id - 1u];
    }
    sa_t* victim = nullptr;
    if (same >= cfg.half_open_per_address)
        victim = oldest_same;
    else if (n_half >= L::max_half_open)
        victim = &tab[half_list.front() - 1u];
    if (victim) {
        if (now - victim->created < cfg.under_load_timeout) {
            ++st.half_open_refused;
            return nullptr;
        }
        ++st.half_open_evicted;
        free_sa(*victim);
    }
    auto* s = first_free();
    if (!s) return nullptr;
    reset(*s);
    s->st = p1_state::r_mm2_sent;
    s->created = now;
    enter_half_open(*s, peer);
    return s;
}

// ---- output -------------------------------------------------------------

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::poll_datagram() noexcept -> std::optional<outgoing_datagram> {
    if (frag_tx_next)
        if (auto d = next_fragment()) return d;
    while (out_count) {
        out_ref r = outq[out_head];
        out_head = (out_head + 1) % out_capacity;
        --out_count;
        if (r.which == 255) {
            auto& o = shots[r.slot];
            if (o.n == 0) continue;
            bytes_view d(o.buf.data() + (o.with_marker ? 0 : marker),
                         o.n + (o.with_marker ? marker : 0));
            ++st.sent;
            return outgoing_datagram{o.local, o.peer, d};
        }
        auto& s = tab[r.slot];
        if (s.generation != r.gen || s.st == p1_state::free) continue;
        const bool m = s.floated;
        if (r.which != 0) {
            auto& c = s.children[r.which - 1u];
            if (c.st == child_slot::state::free || !c.tx_n) continue;
        }
        if (auto msg = message_of(s, r.which); !msg.empty() && send_fragmented(s, msg.size())) {
            frag_tx = r;
            frag_tx_next = 1;
            frag_tx_id = u16(frag_tx_id + 1u);
            if (auto d = next_fragment()) return d;
            continue;
        }
        if (r.which == 0) {
            if (!s.tx_n) continue;
            ++st.sent;
            return outgoing_datagram{
                s.local, s.peer,
                bytes_view(s.tx.data() + (m ? 0 : marker), s.tx_n + (m ? marker : 0))};
        }
        auto& c = s.children[r.which - 1u];
        if (c.st == child_slot::state::free || !c.tx_n) continue;
        ++st.sent;
        return outgoing_datagram{
            s.local, s.peer, bytes_view(c.tx.data() + (m ? 0 : marker), c.tx_n + (m ? marker : 0))};
    }
    return std::nullopt;
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::poll_event() noexcept -> std::optional<event> {
    if (!ev_count) return std::nullopt;
    event e = std::move(events[ev_head]);
    events[ev_head] = event{};
    ev_head = (ev_head + 1) % event_capacity;
    --ev_count;
    return e;
}

/// An unprotected or protected one-off message (informational) to `to`.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::take_shot(const transport::endpoint& local,
                                    const transport::endpoint& peer, bool with_marker) noexcept
    -> oneshot& {
    auto idx = shot_next;
    shot_next = (shot_next + 1) % oneshot_count;
    auto& o = shots[idx];
    o.local = local;
    o.peer = peer;
    o.with_marker = with_marker;
    o.n = 0;
    return o;
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::queue_shot(const oneshot& o) noexcept {
    if (out_count == out_capacity) {
        ++st.tx_dropped;
        return;
    }
    outq[(out_head + out_count) % out_capacity] = {static_cast<std::uint32_t>(&o - shots.data()), 0,
                                                   255};
    ++out_count;
}

L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::v1_header(const sa_t& s, exchange x, std::uint32_t mid) const noexcept
    -> header {
    header h;
    h.spi_i = s.cky_i;
    h.spi_r = s.cky_r;
    h.major = 1;
    h.minor = 0;
    h.exchange_type = x;
    h.message_id = mid;
    return h;
}

/// Encrypt the message built in `buf` (size n, after the marker room) and
/// store the size; returns false on failure.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::seal(sa_t& s, mutable_bytes buf, std::size_t n, iv& chain,
                               std::uint16_t& out_n) noexcept -> bool {
    auto e = s.mc->encrypt(buf, n, chain);
    if (!e) {
        st.last_error = e.error();
        return false;
    }
    out_n = u16(*e);
    return true;
}

// ---- the indexes ----------------------------------------------------------

// A 64-bit integer mixer (two xor-shift-multiply rounds) over the value xor
// a secret: an initiator cookie a peer chose cannot be aimed at a bucket.
// A hash for the index, not a random generator.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::key_hash(std::uint64_t v) const noexcept -> std::uint64_t {
    return keyed_mix(v, hash_key);
}

// An SA is indexed from the moment its initiator cookie is known until
// reset(); the cookie does not change in between.
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::index_sa(sa_t& s) noexcept {
    if (s.indexed) return;
    s.indexed = by_cky.insert(static_cast<std::uint16_t>(index_of(s) + 1), key_hash(s.cky_i));
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::unindex_sa(sa_t& s) noexcept {
    if (!s.indexed) return;
    (void)by_cky.erase(static_cast<std::uint16_t>(index_of(s) + 1), key_hash(s.cky_i),
                       [this](std::uint16_t id) { return key_hash(tab[id - 1u].cky_i); });
    s.indexed = false;
}

// An established SA is indexed by its peer endpoint until reset(), so that
// INITIAL-CONTACT finds the others of a rebooted peer without a scan of every
// slot (Windows sends it on every connect). The endpoint does not change
// once established: NAT-T floats to 4500 at MM5 / AM3, before.
L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::index_peer(sa_t& s) noexcept {
    if (s.peer_indexed) return;
    s.peer_indexed =
        by_peer.insert(static_cast<std::uint16_t>(index_of(s) + 1), key_hash(s.peer.hash()));
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::unindex_peer(sa_t& s) noexcept {
    if (!s.peer_indexed) return;
    (void)by_peer.erase(static_cast<std::uint16_t>(index_of(s) + 1), key_hash(s.peer.hash()),
                        [this](std::uint16_t id) { return key_hash(tab[id - 1u].peer.hash()); });
    s.peer_indexed = false;
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::index_child(sa_t& s, child_slot& c) noexcept {
    if constexpr (!spi_indexed) return;
    const auto id = index_of(s) * children + child_index(s, c) + 1;
    (void)by_spi.insert(static_cast<std::uint16_t>(id), key_hash(c.spi_in));
}

L2SEC_IKE_V1_CORE
void L2SEC_IKE_V1_CORE_T::unindex_child(sa_t& s, child_slot& c) noexcept {
    if constexpr (!spi_indexed) return;
    const auto id = index_of(s) * children + child_index(s, c) + 1;
    (void)by_spi.erase(static_cast<std::uint16_t>(id), key_hash(c.spi_in), [this](std::uint16_t o) {
        return key_hash(tab[(o - 1u) / children].children[(o - 1u) % children].spi_in);
    });
}

/// The in-use SA with initiator cookie `cky_i` for which `is_it(sa)` holds.
L2SEC_IKE_V1_CORE
template <class Pred>
auto L2SEC_IKE_V1_CORE_T::find_sa(std::uint64_t cky_i, Pred&& is_it) noexcept -> sa_t* {
    auto id = by_cky.find(key_hash(cky_i), [&](std::uint16_t i) {
        const auto& s = tab[i - 1u];
        return s.st != p1_state::free && s.cky_i == cky_i && is_it(s);
    });
    return id ? &tab[*id - 1u] : nullptr;
}

/// The installed Quick Mode SA whose inbound SPI is `spi_in`, with its IKE SA.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::find_child(std::uint32_t spi_in) noexcept
    -> std::optional<std::pair<sa_t*, child_slot*>> {
    if constexpr (!spi_indexed) {
        for (std::size_t i = 0; i < slots; ++i)
            for (auto& c : tab[i].children)
                if (c.st == child_slot::state::installed && c.spi_in == spi_in)
                    return std::pair{&tab[i], &c};
        return std::nullopt;
    }
    auto id = indexed_child(spi_in);
    if (!id) return std::nullopt;
    auto& s = tab[(*id - 1u) / children];
    return std::pair{&s, &s.children[(*id - 1u) % children]};
}

/// The SPI index's ID (IKE SA slot * children + child + 1) of the installed
/// child whose inbound SPI is `spi_in`. Only when spi_indexed.
L2SEC_IKE_V1_CORE
std::optional<std::uint16_t> L2SEC_IKE_V1_CORE_T::indexed_child(
    std::uint32_t spi_in) const noexcept {
    return by_spi.find(key_hash(spi_in), [&](std::uint16_t i) {
        const auto& c = tab[(i - 1u) / children].children[(i - 1u) % children];
        return c.st == child_slot::state::installed && c.spi_in == spi_in;
    });
}

// ---- sending fragments ----------------------------------------------------

/// The IKE message (no marker) queued as `which` of `s`: 0 phase 1, else a child's.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::message_of(sa_t& s, std::uint8_t which) const noexcept -> bytes_view {
    if (which == 0) return bytes_view(s.tx.data() + marker, s.tx_n);
    auto& c = s.children[which - 1u];
    return bytes_view(c.tx.data() + marker, c.tx_n);
}

/// Only to a peer that announced fragmentation, only when too long whole.
L2SEC_IKE_V1_CORE
bool L2SEC_IKE_V1_CORE_T::send_fragmented(const sa_t& s, std::size_t n) const noexcept {
    return cfg.fragment_size != 0 && s.peer_frag &&
           n + (s.floated ? marker : 0) > cfg.fragment_size;
}

/// The next piece of `frag_tx` as a message of one fragment payload (the
/// Cisco/Microsoft scheme: the whole message, header included, cut in
/// order; the last piece flagged), each datagram at most fragment_size.
L2SEC_IKE_V1_CORE
auto L2SEC_IKE_V1_CORE_T::next_fragment() noexcept -> std::optional<outgoing_datagram> {
    auto& s = tab[frag_tx.slot];
    const std::uint8_t i = frag_tx_next;
    frag_tx_next = 0;
    if (s.generation != frag_tx.gen || s.st == p1_state::free) return std::nullopt;
    const bytes_view msg = message_of(s, frag_tx.which);
    auto h = decode_header(msg);
    if (!h) return std::nullopt;
    const bool m = s.floated;
    const std::size_t room = cfg.fragment_size - (m ? marker : 0) - 28 - 8;  // header, payload
    const std::size_t count = (msg.size() + room - 1) / room;
    if (count > 255 || i == 0 || i > count) return std::nullopt;
    const std::size_t at = (i - 1u) * room;
    const auto piece = msg.subspan(at, std::min(room, msg.size() - at));
    header fh = *h;
    fh.flags = 0;
    fh.message_id = 0;
    message_builder b(mutable_bytes(frag_tx_buf.get() + marker, frag_tx_capacity - marker), fh);
    b.begin(payload_type::fragment_v1);
    fragment{frag_tx_id, i, static_cast<std::uint8_t>(i == count ? 1 : 0), piece}.encode(b.out());
    b.end();
    auto n = b.finish();
    if (!n) return std::nullopt;
    if (i < count) frag_tx_next = static_cast<std::uint8_t>(i + 1);
    std::fill_n(frag_tx_buf.get(), marker, std::byte{0});
    ++st.sent;
    return outgoing_datagram{
        s.local, s.peer, bytes_view(frag_tx_buf.get() + (m ? 0 : marker), *n + (m ? marker : 0))};
}

#undef L2SEC_IKE_V1_CORE
#undef L2SEC_IKE_V1_CORE_T

}  // namespace l2sec::ike::v1::detail
