// The IKEv2 engine's core: slots, queues and dispatch (see ../engine.hpp
// for the interface; the IKE_SA_INIT / IKE_AUTH handlers are in
// handshake.hpp, INFORMATIONAL and the timers in info.hpp).
#pragma once

#include <l2sec/core/deadline_heap.hpp>
#include <l2sec/core/hash_index.hpp>
#include <l2sec/core/static_vector.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/ike/header.hpp>
#include <l2sec/ike/message.hpp>
#include <l2sec/ike/nat.hpp>
#include <l2sec/ike/v2/config.hpp>
#include <l2sec/ike/v2/detail/parts.hpp>
#include <l2sec/ike/v2/detail/state.hpp>
#include <l2sec/ike/v2/detail/wire.hpp>
#include <l2sec/ike/v2/events.hpp>

#include <algorithm>
#include <memory>
#include <new>
#include <utility>

namespace l2sec::ike::v2::detail {

template <class B, class R, class L, class S>
class engine_core {
  public:
    using sa_t = ike_sa<B, L::max_children>;
    static constexpr std::size_t slots = L::slots;
    static constexpr std::size_t event_capacity = 4 * slots + 16;
    static constexpr std::size_t out_capacity = 4 * slots + 2 * pieces::max;
    static constexpr std::size_t oneshot_count = 16;
    static constexpr std::size_t rx_capacity = 65536;

    struct out_ref {
        std::uint32_t slot = 0;
        std::uint32_t gen = 0;
        std::uint8_t which = 0;  ///< 0: our request, 1: our cached response, 255: oneshot
        std::uint8_t piece = 0;  ///< which RFC 7383 fragment of it
    };
    /// RFC 7383 reassembly, a few messages at a time: fragments come only from
    /// peers that hold the SA's keys (each is verified first); when all are
    /// busy the one started longest ago gives way.
    static constexpr std::size_t reassembly_slots = 4;
    static constexpr std::size_t reassembly_capacity = 8192;
    struct reassembly {
        std::uint32_t slot = 0, gen = 0, mid = 0;  ///< gen 0: free
        bool response = false;
        std::uint64_t started = 0;
        std::array<std::byte, reassembly_capacity> store{};
        std::optional<fragment_reassembler<64>> r;
    };
    struct oneshot {
        transport::endpoint local, peer;
        std::array<std::byte, marker + 512> buf{};
        std::uint16_t n = 0;
        bool with_marker = false;
    };

    config cfg;
    static_vector<ike_proposal, 64> p1;
    static_vector<esp_proposal, 32> p2;
    std::array<std::byte, 128> local_id{};
    R rnd;
    S psk;
    std::unique_ptr<sa_t[]> tab;
    std::unique_ptr<event[]> events;
    std::size_t ev_head = 0, ev_count = 0;
    std::unique_ptr<out_ref[]> outq;
    std::size_t out_head = 0, out_count = 0;
    std::array<oneshot, oneshot_count> shots{};
    std::size_t shot_next = 0;
    std::unique_ptr<std::byte[]> rx;
    /// The inner payloads of the message being sealed, in the clear, then
    /// room for one SKF fragment while it is sealed.
    std::unique_ptr<std::byte[]> frag_buf;
    std::unique_ptr<reassembly[]> reasm;
    std::uint64_t reasm_clock = 0;
    std::optional<typename B::mac> cookie_mac;  ///< keyed once with a random secret (RFC 7296 2.6)
    // Scale: IKE SAs found by SPIi through an index, and on a timer heap at
    // their next deadline (deadline_of()), which settle() keeps exact at the
    // end of every entry point for the SAs it touched; tick() visits only
    // the SAs that are due. (L2SEC_IKE_V2_CHECK_TIMERS checks each
    // next_deadline() against a scan of every SA.)
    hash_index<slots> by_spi;
    std::uint64_t hash_key = 0;
    std::unique_ptr<deadline_heap<slots, time_point>> timers;
    static_vector<std::uint32_t, 16> touched;
    bool touched_all = false;
    std::size_t n_half = 0, n_est = 0;
    // New SAs without a scan of every slot: the free slots (a stack, lowest
    // first at the start) and the responder's half-open SAs from
    // IKE_SA_INIT (at most MaxHalfOpen), counted per address on each new one.
    std::unique_ptr<static_vector<std::uint32_t, slots>> free_ids;
    std::unique_ptr<static_vector<std::uint32_t, L::max_half_open>> r_half;
    engine_stats st{};

    engine_core(const config& c, R&& r, S&& s) : cfg(c), rnd(std::move(r)), psk(std::move(s)) {
        tab = std::make_unique<sa_t[]>(slots);
        events = std::make_unique<event[]>(event_capacity);
        outq = std::make_unique<out_ref[]>(out_capacity);
        rx = std::make_unique<std::byte[]>(rx_capacity);
        frag_buf = std::make_unique<std::byte[]>(2 * msg_capacity);
        reasm = std::make_unique<reassembly[]>(reassembly_slots);
        timers = std::make_unique<deadline_heap<slots, time_point>>();
        free_ids = std::make_unique<static_vector<std::uint32_t, slots>>();
        for (std::size_t i = slots; i-- > 0;)
            free_ids->push_back(static_cast<std::uint32_t>(i));
        r_half = std::make_unique<static_vector<std::uint32_t, L::max_half_open>>();
        (void)rnd.fill(as_writable_bytes(std::span(&hash_key, 1)));  // 0 still works
        for (auto& p : c.ike_proposals)
            if (c.allow_weak || !is_weak(p)) p1.push_back(p);
        if (c.allow_weak && c.ike_proposals.data() == default_ike_proposals().data())
            for (auto& p : weak_ike_proposals())
                if (std::find(p1.begin(), p1.end(), p) == p1.end()) p1.push_back(p);
        for (auto& p : c.esp_proposals)
            if (c.allow_weak || !is_weak(p)) p2.push_back(p);
        std::size_t n = std::min(c.local_id.size(), local_id.size());
        copy_to(local_id, c.local_id.first(n));
        cfg.local_id = bytes_view(local_id.data(), n);
        cfg.ike_proposals = p1.span();
        cfg.esp_proposals = p2.span();
        if (cfg.cookie_threshold == 0) cfg.cookie_threshold = (L::max_half_open + 1) / 2;
        std::array<std::byte, 32> secret{};
        if (rnd.fill(secret)) {
            auto m = B::make_mac(crypto::mac_id::hmac_sha256, secret);
            if (m) cookie_mac.emplace(std::move(*m));
        }
        crypto::secure_zero(secret);
    }

    static result<void> validate(const config& c) noexcept {
        if (c.ike_proposals.empty() || c.ike_proposals.size() > 48)
            return error(engine_errc::invalid_config, 0, "ike_proposals");
        if (c.esp_proposals.empty() || c.esp_proposals.size() > 24)
            return error(engine_errc::invalid_config, 0, "esp_proposals");
        bool strong1 = false, strong2 = false;
        for (auto& p : c.ike_proposals) {
            if (!describe(p.keys_suite()) || !dh_supported(p.group) ||
                (p.encr == encr_id::aes_gcm_16) != (p.integ == integ_id::none))
                return error(engine_errc::invalid_config, 0, "ike_proposals (algorithm)");
            strong1 |= !is_weak(p);
        }
        for (auto& p : c.esp_proposals) {
            auto [e, bits] = esp_encr(p.suite);
            if (e == encr_id{0} ||
                esp::is_aead(p.suite.enc) != (p.suite.integ == esp::integrity::none))
                return error(engine_errc::invalid_config, 0, "esp_proposals (algorithm)");
            (void)bits;
            strong2 |= !is_weak(p);
        }
        if (!c.allow_weak && !strong1)
            return error(engine_errc::invalid_config, 0,
                         "ike_proposals (all weak, allow_weak off)");
        if (!c.allow_weak && !strong2)
            return error(engine_errc::invalid_config, 0,
                         "esp_proposals (all weak, allow_weak off)");
        if (c.retransmit_initial.count() <= 0 || c.retransmit_tries == 0)
            return error(engine_errc::invalid_config, 0, "retransmit");
        if (c.half_open_per_address == 0)
            return error(engine_errc::invalid_config, 0, "half_open_per_address");
        if (c.half_open_timeout.count() <= 0)
            return error(engine_errc::invalid_config, 0, "half_open_timeout");
        if (c.local_id.size() > 128) return error(engine_errc::invalid_config, 0, "local_id");
        if (c.child_lifetime.count() < 0 || c.rekey_margin <= 0.1 || c.rekey_margin > 1.0)
            return error(engine_errc::invalid_config, 0, "child_lifetime / rekey_margin");
        if (c.child_pfs != dh_group{0} &&
            (!dh_supported(c.child_pfs) || (!c.allow_weak && c.child_pfs == dh_group::modp1024)))
            return error(engine_errc::invalid_config, 0, "child_pfs (group)");
        if (c.fragment_size < 200 || c.fragment_size > 65535)
            return error(engine_errc::invalid_config, 0, "fragment_size (200..65535)");
        return {};
    }

    // ---- small helpers ------------------------------------------------------

    sa_handle handle(std::size_t i) const noexcept {
        return {static_cast<std::uint32_t>(i), tab[i].generation};
    }
    sa_t* get(sa_handle h) noexcept {
        if (h.index >= slots) return nullptr;
        auto& s = tab[h.index];
        if (s.st == sa_state::free || s.generation != h.generation) return nullptr;
        return &s;
    }
    std::size_t index_of(const sa_t& s) const noexcept {
        return static_cast<std::size_t>(&s - tab.get());
    }
    void fail_note(const error& e) noexcept {
        st.last_error = e;
        ++st.dropped;
    }
    void push_event(event&& e) noexcept {
        if (ev_count == event_capacity) {  // drop the oldest
            ev_head = (ev_head + 1) % event_capacity;
            --ev_count;
            ++st.events_dropped;
        }
        events[(ev_head + ev_count) % event_capacity] = std::move(e);
        ++ev_count;
    }
    void emit(event_kind k, const sa_t& s, std::error_code why = {}) noexcept {
        event e;
        e.kind = k;
        e.ike = handle(index_of(s));
        e.peer = s.peer;
        e.reason = why;
        if (k == event_kind::ike_up && s.has_vip) {
            e.internal_address = transport::endpoint::v4(s.vip[0], s.vip[1], s.vip[2], s.vip[3], 0);
            if (s.vdns != std::array<std::uint8_t, 4>{})
                e.internal_dns =
                    transport::endpoint::v4(s.vdns[0], s.vdns[1], s.vdns[2], s.vdns[3], 0);
        }
        push_event(std::move(e));
    }
    void queue_ref(out_ref r) noexcept {
        if (out_count == out_capacity) {
            ++st.tx_dropped;
            return;
        }
        outq[(out_head + out_count) % out_capacity] = r;
        ++out_count;
    }
    /// Our request (0) or cached response (1), every fragment of it.
    void queue(const sa_t& s, std::uint8_t which) noexcept {
        const auto& pc = which == 0 ? s.tx_pieces : s.resp_pieces;
        for (std::size_t k = 0; k < std::max<std::size_t>(pc.n, 1); ++k)
            queue_ref({static_cast<std::uint32_t>(index_of(s)), s.generation, which,
                       static_cast<std::uint8_t>(k)});
    }
    bool random(mutable_bytes b) noexcept { return rnd.fill(b); }
    template <class T>
    bool random_int(T& v) noexcept {
        std::array<std::byte, sizeof(T)> b{};
        if (!rnd.fill(b)) return false;
        v = 0;
        for (auto x : b)
            v = static_cast<T>((v << 8) | std::to_integer<std::uint8_t>(x));
        return true;
    }
    time_point retx_time(unsigned tries, time_point now) const noexcept {
        return now + cfg.retransmit_initial * (1u << std::min(tries, 10u));
    }

    void free_sa(sa_t& s) noexcept {
        if (s.vip_pool && cfg.pool.release) cfg.pool.release(cfg.pool.ctx, s.vip);
        unindex(s);
        timers->erase(id_of(s));
        if (half_open(s.st))
            leave_half_open(s);
        else if (s.st == sa_state::established)
            --n_est;
        reset(s);
        auto gen = s.generation + 1;
        s.generation = gen == 0 ? 1 : gen;
        free_ids->push_back(static_cast<std::uint32_t>(index_of(s)));
    }
    /// `s` is established or gone: one half-open SA less (and out of the
    /// responder's list, if it came from IKE_SA_INIT).
    void leave_half_open(const sa_t& s) noexcept {
        --n_half;
        const auto i = static_cast<std::uint32_t>(index_of(s));
        for (std::size_t k = 0; k < r_half->size(); ++k)
            if ((*r_half)[k] == i) return r_half->swap_remove(k);
    }
    static void reset(sa_t& s) noexcept {
        s.wipe();
        const auto gen = s.generation;
        s.~sa_t();
        new (&s) sa_t();
        s.generation = gen;
    }
    void child_down(sa_t& s, child_slot& c, std::error_code why) noexcept {
        event e;
        e.kind = event_kind::child_down;
        e.ike = handle(index_of(s));
        e.peer = s.peer;
        e.spi_in = c.sa.spi_in;
        e.reason = why;
        push_event(std::move(e));
        c = child_slot{};
    }
    /// Drop an SA, reporting its children and itself as down.
    void remove_sa(sa_t& s, std::error_code why) noexcept {
        for (auto& c : s.children)
            if (c.used) child_down(s, c, why);
        if (!s.redundant)
            emit(s.st == sa_state::established ? event_kind::ike_down : event_kind::failed, s, why);
        free_sa(s);
    }
    /// The same outer address, any port (clients behind one NAT share it).
    static bool same_host(const transport::endpoint& a, const transport::endpoint& b) noexcept {
        return a.family == b.family && a.addr == b.addr;
    }
    /// A free slot; `peer`: a responder's half-open SA, capped per outer
    /// address (several clients behind one NAT share it, a flood from one
    /// address cannot take every half-open slot).
    sa_t* alloc(bool half, const transport::endpoint* peer = nullptr) noexcept {
        if (half && n_half >= L::max_half_open) {
            ++st.half_open_refused;
            return nullptr;
        }
        if (peer) {
            std::size_t same = 0;
            for (auto i : *r_half)
                same += same_host(tab[i].peer, *peer);
            if (same >= cfg.half_open_per_address || r_half->full()) {
                ++st.half_open_refused;
                return nullptr;
            }
        }
        if (free_ids->empty()) {
            ++st.half_open_refused;
            return nullptr;
        }
        const auto i = free_ids->back();
        free_ids->pop_back();
        reset(tab[i]);
        ++n_half;
        if (peer) r_half->push_back(i);
        touch(tab[i]);
        return &tab[i];
    }
    /// The slot's ID in the index and on the timer heap (1..slots).
    std::uint16_t id_of(const sa_t& s) const noexcept {
        return static_cast<std::uint16_t>(index_of(s) + 1);
    }
    /// Index an SA under its SPIi, once that is known (it never changes).
    void index(sa_t& s) noexcept {
        s.indexed = by_spi.insert(id_of(s), keyed_mix(s.spi_i, hash_key));
    }
    void unindex(sa_t& s) noexcept {
        if (!s.indexed) return;
        (void)by_spi.erase(id_of(s), keyed_mix(s.spi_i, hash_key), [&](std::uint16_t id) {
            return keyed_mix(tab[id - 1].spi_i, hash_key);
        });
        s.indexed = false;
    }
    /// The SA with this SPIi that `is_it` accepts (touched: its timers may change).
    template <class Pred>
    sa_t* find_by(std::uint64_t spi_i, Pred&& is_it) noexcept {
        auto id = by_spi.find(keyed_mix(spi_i, hash_key), [&](std::uint16_t i) {
            const auto& s = tab[i - 1];
            return s.st != sa_state::free && s.spi_i == spi_i && is_it(s);
        });
        if (!id) return nullptr;
        touch(tab[*id - 1]);
        return &tab[*id - 1];
    }
    sa_t* find(std::uint64_t spi_i, std::uint64_t spi_r) noexcept {
        return find_by(spi_i, [&](const sa_t& s) { return s.spi_r == spi_r; });
    }
    /// `s` may have new deadlines: settle() puts it where they say.
    void touch(const sa_t& s) noexcept {
        if (touched.size() < touched.capacity())
            touched.push_back(static_cast<std::uint32_t>(index_of(s)));
        else
            touched_all = true;
    }

    // ---- output -------------------------------------------------------------

    std::optional<outgoing_datagram> poll_datagram() noexcept {
        while (out_count) {
            out_ref r = outq[out_head];
            out_head = (out_head + 1) % out_capacity;
            --out_count;
            if (r.which == 255) {
                auto& o = shots[r.slot];
                if (o.n == 0) continue;
                ++st.sent;
                return outgoing_datagram{o.local, o.peer,
                                         bytes_view(o.buf.data() + (o.with_marker ? 0 : marker),
                                                    o.n + (o.with_marker ? marker : 0))};
            }
            auto& s = tab[r.slot];
            if (s.generation != r.gen || s.st == sa_state::free) continue;
            const std::size_t m = s.floated ? 0 : marker;  // the non-ESP marker on 4500
            const auto& buf = r.which == 0 ? s.tx : s.resp;
            const std::uint16_t n = r.which == 0 ? s.tx_n : s.resp_n;
            const auto& pc = r.which == 0 ? s.tx_pieces : s.resp_pieces;
            if (!n || (pc.n && r.piece >= pc.n)) continue;
            ++st.sent;
            if (pc.n == 0)
                return outgoing_datagram{s.local, s.peer,
                                         bytes_view(buf.data() + m, n + marker - m)};
            const std::size_t at = pc.start(r.piece);
            return outgoing_datagram{s.local, s.peer,
                                     bytes_view(buf.data() + at + m, pc.end[r.piece] - at - m)};
        }
        return std::nullopt;
    }
    std::optional<event> poll_event() noexcept {
        if (!ev_count) return std::nullopt;
        event e = std::move(events[ev_head]);
        events[ev_head] = event{};
        ev_head = (ev_head + 1) % event_capacity;
        --ev_count;
        return e;
    }
    oneshot& take_shot(const transport::endpoint& local, const transport::endpoint& peer,
                       bool with_marker) noexcept {
        auto& o = shots[shot_next];
        shot_next = (shot_next + 1) % oneshot_count;
        o.local = local;
        o.peer = peer;
        o.with_marker = with_marker;
        o.n = 0;
        return o;
    }
    void queue_shot(const oneshot& o) noexcept {
        queue_ref({static_cast<std::uint32_t>(&o - shots.data()), 0, 255});
    }

    // ---- building messages ----------------------------------------------------

    header hdr(const sa_t& s, exchange x, bool response, std::uint32_t mid) const noexcept {
        header h;
        h.spi_i = s.spi_i;
        h.spi_r = s.spi_r;
        h.major = 2;
        h.exchange_type = x;
        h.flags = static_cast<std::uint8_t>((s.initiator ? flag::initiator : 0) |
                                            (response ? flag::response : 0));
        h.message_id = mid;
        return h;
    }
    /// The inner payloads body(chain_writer&) writes, in the clear, at the
    /// start of frag_buf: the first one's type and the chain.
    template <class Body>
    result<std::pair<std::uint8_t, bytes_view>> inner_chain(Body&& body) noexcept;
    /// One SK payload around an inner chain, a fresh IV from the random source.
    result<std::size_t> seal_whole(sa_t& s, mutable_bytes out, const header& h, std::uint8_t first,
                                   bytes_view chain) noexcept;
    /// An SK-protected message into `out`; body(chain_writer&) writes the inner payloads.
    template <class Body>
    result<std::size_t> seal(sa_t& s, mutable_bytes out, exchange x, bool response,
                             std::uint32_t mid, Body&& body) noexcept {
        auto in = inner_chain(body);
        if (!in) return in.error();
        return seal_whole(s, out, hdr(s, x, response, mid), in->first, in->second);
    }
    /// A protected message into a slot's buffer (tx or resp, room for the
    /// non-ESP marker first): whole, or as SKF fragments (RFC 7383 2.5) when
    /// both sides support them and the datagram would exceed fragment_size;
    /// whole again when the fragments do not fit the buffer. The bytes used.
    template <class Body>
    result<std::uint16_t> seal_out(sa_t& s, mutable_bytes buf, pieces& pc, exchange x,
                                   bool response, std::uint32_t mid, Body&& body) noexcept;
    /// Send a protected request and keep it for retransmission.
    template <class Body>
    result<void> send_request(sa_t& s, exchange x, request what, time_point now,
                              Body&& body) noexcept {
        auto n = seal_out(s, s.tx, s.tx_pieces, x, false, s.my_mid, body);
        if (!n) return n.error();
        s.tx_n = *n;
        s.pending = what;
        s.tries = 0;
        s.retx_at = retx_time(0, now);
        queue(s, 0);
        return {};
    }
    /// Answer the peer's request `mid` (cached for its retransmissions).
    template <class Body>
    result<void> send_response(sa_t& s, exchange x, std::uint32_t mid, std::uint64_t fp,
                               Body&& body) noexcept {
        auto n = seal_out(s, s.resp, s.resp_pieces, x, true, mid, body);
        if (!n) return n.error();
        s.resp_n = *n;
        s.resp_valid = true;
        s.resp_fp = fp;
        s.peer_mid = mid + 1;
        queue(s, 1);
        return {};
    }
    /// A protected message that outlives the SA (the last word before it goes).
    template <class Body>
    void send_oneshot(sa_t& s, exchange x, bool response, std::uint32_t mid, Body&& body) noexcept {
        auto& o = take_shot(s.local, s.peer, s.floated);
        auto n = seal(s, mutable_bytes(o.buf.data() + marker, o.buf.size() - marker), x, response,
                      mid, body);
        if (!n) return;
        o.n = static_cast<std::uint16_t>(*n);
        queue_shot(o);
    }

    // ---- input ----------------------------------------------------------------

    /// One datagram from UDP 500/4500 (receive.hpp): IKE_SA_INIT to its
    /// handlers, the rest checked (SPIs, I flag, message ID window, cached
    /// answer for a retransmission), decrypted in a scratch copy and
    /// dispatched by exchange.
    void receive(bytes_view data, const transport::endpoint& local, const transport::endpoint& peer,
                 time_point now) noexcept;

    // ---- RFC 7383 fragments (protected.hpp) ---------------------------------------

    /// The fragment number of an SKF message (read in the clear), 0 for any other.
    static std::uint16_t skf_number(const message& m) noexcept;
    /// A fragment of a request we have answered (RFC 7383 2.6.1): fragment 1,
    /// once verified, brings the cached response again; the others are ignored.
    void on_repeated_fragment(sa_t& s, bytes_view msg, std::uint16_t piece) noexcept;
    reassembly& reassembly_for(const sa_t& s, std::uint32_t mid, bool response) noexcept;
    static void release(reassembly& r) noexcept {
        r.gen = 0;
        r.started = 0;
        r.r.reset();
    }
    /// One verified SKF fragment (RFC 7383 2.6): kept until all have come,
    /// then the whole inner chain, assembled in rx. A sender that starts over
    /// with more (smaller) fragments restarts the reassembly; fewer: refused.
    std::optional<sk_plaintext> reassemble(sa_t& s, const header& h, const sk_plaintext& f,
                                           time_point now) noexcept;

    // ---- INFORMATIONAL and timers (info.hpp) ------------------------------------------

    void on_info_request(sa_t& s, const parts& p, std::uint32_t mid, std::uint64_t fp) noexcept;
    void on_info_response(sa_t& s, time_point) noexcept;
    /// Delete one of our Child SAs (INFORMATIONAL with our inbound SPI).
    void send_child_delete(sa_t& s, std::uint32_t spi_in, time_point now) noexcept;
    void send_liveness(sa_t& s, time_point now) noexcept;
    /// Delete the IKE SA (and with it its Child SAs, RFC 7296 1.4.1): sent
    /// once, the SA is gone at once.
    void close(sa_handle hd, time_point) noexcept;
    void close_all(time_point now) noexcept;
    void tick(time_point now) noexcept;
    std::optional<time_point> next_deadline() const noexcept;
    /// What tick() would act on for `s`, and when (never: nothing).
    time_point deadline_of(const sa_t& s) const noexcept;
    void tick_one(sa_t& s, time_point now) noexcept;
    void rearm(const sa_t& s) noexcept;
    /// The end of every entry point (engine.hpp): the touched SAs to their deadlines.
    void settle() noexcept;

    // ---- IKE_SA_INIT / IKE_AUTH (handshake.hpp) ------------------------------------

    result<sa_handle> connect(const connection& c, time_point now) noexcept;
    result<void> send_init(sa_t& s, time_point now) noexcept;
    result<void> send_auth(sa_t& s, time_point now) noexcept;
    void on_init_request(const message& m, const transport::endpoint& local,
                         const transport::endpoint& peer, std::uint64_t fp,
                         time_point now) noexcept;
    void on_init_response(const message& m, const transport::endpoint& local,
                          const transport::endpoint& peer, time_point now) noexcept;
    void on_auth_request(sa_t& s, const parts& p, std::uint32_t mid, std::uint64_t fp,
                         time_point now) noexcept;
    void on_auth_response(sa_t& s, const parts& p, time_point now) noexcept;
    void initial_contact(const sa_t& keep) noexcept;
    void refuse_init(const message& m, const transport::endpoint& local,
                     const transport::endpoint& peer, notify_type why,
                     bytes_view data = {}) noexcept;
    result<key> nat_hash(const sa_t& s, std::uint64_t spi_r, const transport::endpoint& e) noexcept;
    result<void> derive(sa_t& s, bytes_view peer_ke) noexcept;
    std::size_t id_body(const sa_t& s, std::array<std::byte, 4 + 128>& b) const noexcept;
    result<key> auth_value(const sa_t& s, bool of_initiator, bytes_view id_body,
                           bytes_view peer_id) noexcept;
    /// The new Child SA's parameters (IKE_AUTH or CREATE_CHILD_SA).
    struct child_params {
        esp_proposal proposal{};
        std::uint32_t spi_in = 0, spi_out = 0, old_spi_in = 0;
        selector ts_i, ts_r;
        esp::mode mode = esp::mode::transport;
        bytes_view ni, nr, g_ir;
        std::uint16_t pfs_group = 0;  ///< the KE's group when g_ir is set
        bool esn = false;             ///< 64-bit sequence numbers negotiated
        bool ours = false;
    };
    result<void> install(sa_t& s, const child_params& cp, time_point now) noexcept;

    // ---- CREATE_CHILD_SA (child.hpp) ---------------------------------------------------

    /// RFC 7296 2.8.1: nonces compare octet by octet; a nonce that is a
    /// prefix of the other is the lower.
    static bool lower_than(bytes_view a, bytes_view b) noexcept {
        return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
    }
    static bytes_view lower_of(bytes_view a, bytes_view b) noexcept {
        return lower_than(b, a) ? b : a;
    }
    /// The peer's exchange (ni, nr) rekeyed what ours is rekeying.
    static void note_collision(sa_t& s, bytes_view ni, bytes_view nr) noexcept {
        const bytes_view lo = lower_of(ni, nr);
        copy_to(s.coll_nonce, lo);
        s.coll_nonce_n = static_cast<std::uint16_t>(lo.size());
    }
    /// Ours (ni, nr) holds the lowest of the four nonces: what it made is
    /// the redundant one, and we, its creator, close it.
    static bool ours_lowest(const sa_t& s, bytes_view ni, bytes_view nr) noexcept {
        return lower_than(lower_of(ni, nr), bytes_view(s.coll_nonce.data(), s.coll_nonce_n));
    }
    /// A rekey the peer put off (TEMPORARY_FAILURE, RFC 7296 2.25): again
    /// after 2-4 retransmission intervals, jittered so that two ends that
    /// were both refused do not collide again.
    time_point retry_time(time_point now) noexcept {
        std::uint8_t j = 0;
        (void)random_int(j);
        return now + cfg.retransmit_initial * 2 + cfg.retransmit_initial * j / 128;
    }

    bool cookie_of(const message& m, const transport::endpoint& peer,
                   std::array<std::byte, 32>& out) noexcept;
    result<void> send_rekey(sa_t& s, child_slot& c, time_point now) noexcept;
    void on_child_request(sa_t& s, const parts& p, std::uint32_t mid, std::uint64_t fp,
                          time_point now) noexcept;
    void on_child_response(sa_t& s, const parts& p, time_point now) noexcept;
    void on_ike_rekey(sa_t& s, const parts& p, const v2::sa& sa, std::uint32_t mid,
                      std::uint64_t fp, time_point now) noexcept;

    // ---- IKE SA rekey (rekey.hpp) ------------------------------------------------------

    result<void> rekeyed_keys(const sa_t& old, sa_t& n, bytes_view g_ir) noexcept;
    void take_over(sa_t& old, sa_t& n, time_point now) noexcept;
    void move_children(sa_t& from, sa_t& to) noexcept;
    void give_back(sa_t& n, sa_t& old) noexcept;
    result<void> send_ike_rekey(sa_t& s, time_point now) noexcept;
    void on_ike_rekey_response(sa_t& s, const parts& p, time_point now) noexcept;
    /// engine::rekey_child / rekey_ike: the rekey is due now (tick_one starts
    /// it, or the end of the outstanding request does).
    result<void> rekey_child(sa_handle hd, std::uint32_t spi_in, time_point now) noexcept;
    result<void> rekey_ike(sa_handle hd, time_point now) noexcept;
    void ike_soft(sa_t& s, time_point now) noexcept {
        if (s.initiator && cfg.ike_lifetime.count() > 0)
            s.soft_at = rekey_time(cfg.ike_lifetime, now);
    }
    /// When to rekey an SA of this lifetime: at rekey_margin of it, less a
    /// random part of up to a tenth of the rest (RFC 7296 2.8: jittered, so
    /// two ends with the same policy seldom rekey at once).
    time_point rekey_time(std::chrono::seconds lifetime, time_point now) noexcept {
        using ms = std::chrono::milliseconds;
        const auto at = std::chrono::duration_cast<ms>(lifetime * cfg.rekey_margin);
        const auto room = std::chrono::duration_cast<ms>(lifetime * (1.0 - cfg.rekey_margin)) / 10;
        std::uint16_t j = 0;
        (void)random_int(j);
        return now + at - room * j / 65536;
    }
    /// Responder: narrow the peer's TSi/TSr to our policy (false: TS_UNACCEPTABLE).
    bool narrow(const sa_t& s, const parts& p, selector& si, selector& sr) const noexcept;
};

}  // namespace l2sec::ike::v2::detail

#include <l2sec/ike/v2/impl/child.hpp>
#include <l2sec/ike/v2/impl/handshake.hpp>
#include <l2sec/ike/v2/impl/info.hpp>
#include <l2sec/ike/v2/impl/protected.hpp>
#include <l2sec/ike/v2/impl/receive.hpp>
#include <l2sec/ike/v2/impl/rekey.hpp>
#include <l2sec/ike/v2/impl/responder.hpp>
