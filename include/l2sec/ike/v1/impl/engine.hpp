// The IKEv1 engine's implementation (see ../engine.hpp for the interface).
#pragma once

#include <l2sec/core/writer.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/ike/header.hpp>
#include <l2sec/ike/message.hpp>
#include <l2sec/ike/v1/detail/state.hpp>
#include <l2sec/ike/v1/detail/wire.hpp>
#include <l2sec/ike/v1/events.hpp>

#include <l2sec/core/static_vector.hpp>

#include <algorithm>
#include <memory>
#include <new>

namespace l2sec::ike::v1::detail {

template <class B, class R, class L, class S>
class engine_core {
  public:
    using sa_t = ike_sa<B, L::max_children>;
    static constexpr std::size_t slots = L::slots;
    static constexpr std::size_t children = L::max_children;
    static constexpr std::size_t event_capacity = 4 * slots + 16;
    static constexpr std::size_t out_capacity = slots * (children + 2) + 16;
    static constexpr std::size_t oneshot_count = 16;
    static constexpr std::size_t rx_capacity = 65536;

    struct out_ref {
        std::uint32_t slot = 0;
        std::uint32_t gen = 0;
        std::uint8_t which = 0;  ///< 0: phase 1 tx, 1..: child (which-1), 255: oneshot
    };
    struct oneshot {
        transport::endpoint local, peer;
        std::array<std::byte, marker + 512> buf{};
        std::uint16_t n = 0;
        bool with_marker = false;
    };

    config cfg;
    static_vector<phase1_proposal, 64> p1;
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
    // IKEv1 fragmentation (Cisco/Microsoft payload 132): one message at a time.
    std::unique_ptr<std::byte[]> frag_store, frag_out;
    std::optional<fragment_reassembler<255>> reasm;
    std::uint64_t frag_cky_i = 0, frag_cky_r = 0;
    transport::endpoint frag_peer{};
    std::uint16_t frag_id = 0;
    time_point frag_started{};
    std::size_t n_half = 0, n_est = 0;
    engine_stats st{};

    engine_core(const config& c, R&& r, S&& s) : cfg(c), rnd(std::move(r)), psk(std::move(s)) {
        tab = std::make_unique<sa_t[]>(slots);
        events = std::make_unique<event[]>(event_capacity);
        outq = std::make_unique<out_ref[]>(out_capacity);
        rx = std::make_unique<std::byte[]>(rx_capacity);
        frag_store = std::make_unique<std::byte[]>(rx_capacity);
        frag_out = std::make_unique<std::byte[]>(rx_capacity);
        for (auto& p : c.ike_proposals)
            if (c.allow_weak || !is_weak(p)) p1.push_back(p);
        // allow_weak permits weak entries in a configured list; with the
        // default lists it also appends the weak ones.
        if (c.allow_weak && c.ike_proposals.data() == default_ike_proposals().data())
            for (auto& p : weak_ike_proposals())
                if (std::find(p1.begin(), p1.end(), p) == p1.end()) p1.push_back(p);
        for (auto& p : c.esp_proposals)
            if (c.allow_weak || !is_weak(p)) p2.push_back(p);
        if (c.allow_weak && c.esp_proposals.data() == default_esp_proposals().data())
            for (auto& p : weak_esp_proposals())
                if (std::find(p2.begin(), p2.end(), p) == p2.end()) p2.push_back(p);
        std::size_t n = std::min(c.local_id.size(), local_id.size());
        copy_to(local_id, c.local_id.first(n));
        cfg.local_id = bytes_view(local_id.data(), n);
        cfg.ike_proposals = p1.span();
        cfg.esp_proposals = p2.span();
    }

    static result<void> validate(const config& c) noexcept {
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
            return error(engine_errc::invalid_config, 0,
                         "ike_proposals (all weak, allow_weak off)");
        if (!c.allow_weak && !strong2)
            return error(engine_errc::invalid_config, 0,
                         "esp_proposals (all weak, allow_weak off)");
        if (c.phase1_lifetime.count() <= 0 || c.phase2_lifetime.count() <= 0)
            return error(engine_errc::invalid_config, 0, "lifetime");
        if (c.retransmit_initial.count() <= 0 || c.retransmit_tries == 0)
            return error(engine_errc::invalid_config, 0, "retransmit");
        if (c.local_id.size() > 128) return error(engine_errc::invalid_config, 0, "local_id");
        if (c.rekey_margin <= 0.1 || c.rekey_margin > 1.0 || c.rekey_jitter < 0 ||
            c.rekey_jitter > 0.5)
            return error(engine_errc::invalid_config, 0, "rekey_margin / rekey_jitter");
        if (c.half_open_per_address == 0)
            return error(engine_errc::invalid_config, 0, "half_open_per_address");
        return {};
    }

    // ---- small helpers ------------------------------------------------------

    sa_handle handle(std::size_t i) const noexcept {
        return {static_cast<std::uint32_t>(i), tab[i].generation};
    }
    sa_t* get(sa_handle h) noexcept {
        if (h.index >= slots) return nullptr;
        auto& s = tab[h.index];
        if (s.st == p1_state::free || s.generation != h.generation) return nullptr;
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
        push_event(std::move(e));
    }

    void queue(const sa_t& s, std::uint8_t which) noexcept {
        if (out_count == out_capacity) {
            ++st.tx_dropped;
            return;
        }
        outq[(out_head + out_count) % out_capacity] = {static_cast<std::uint32_t>(index_of(s)),
                                                       s.generation, which};
        ++out_count;
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

    void free_sa(sa_t& s) noexcept {
        if (half_open(s.st))
            --n_half;
        else if (s.st == p1_state::established)
            --n_est;
        s.st = p1_state::free;
        reset(s);
        auto gen = s.generation + 1;
        s.generation = gen == 0 ? 1 : gen;
    }
    /// Back to a fresh slot (keys wiped), same generation.
    static void reset(sa_t& s) noexcept {
        s.wipe();
        const auto gen = s.generation;
        s.~sa_t();
        new (&s) sa_t();
        s.generation = gen;
    }

    /// Drop an SA, reporting its children and itself as down.
    void remove_sa(sa_t& s, std::error_code why) noexcept {
        for (auto& c : s.children)
            if (c.st == child_slot::state::installed) child_down(s, c, why);
        if (s.st == p1_state::established)
            emit(event_kind::phase1_down, s, why);
        else
            emit(event_kind::failed, s, why);
        free_sa(s);
    }
    void child_down(sa_t& s, child_slot& c, std::error_code why) noexcept {
        event e;
        e.kind = event_kind::child_down;
        e.ike = handle(index_of(s));
        e.peer = s.peer;
        e.spi_in = c.spi_in;
        e.reason = why;
        push_event(std::move(e));
        c = child_slot{};
    }

    time_point retx_time(unsigned tries, time_point now) const noexcept {
        auto d = cfg.retransmit_initial * (1u << std::min(tries, 10u));
        return now + d;
    }

    /// Allocate a half-open slot for `peer`, evicting per the limits.
    sa_t* alloc_half_open(const transport::endpoint& peer, time_point now) noexcept {
        std::size_t same = 0;
        sa_t* oldest_same = nullptr;
        sa_t* oldest = nullptr;
        for (std::size_t i = 0; i < slots; ++i) {
            auto& s = tab[i];
            if (!half_open(s.st)) continue;
            if (!oldest || s.created < oldest->created) oldest = &s;
            if (s.peer.family == peer.family && s.peer.addr == peer.addr) {
                ++same;
                if (!oldest_same || s.created < oldest_same->created) oldest_same = &s;
            }
        }
        sa_t* victim = nullptr;
        if (same >= cfg.half_open_per_address)
            victim = oldest_same;
        else if (n_half >= L::max_half_open)
            victim = oldest;
        if (victim) {
            if (now - victim->created < cfg.under_load_timeout) {
                ++st.half_open_refused;
                return nullptr;
            }
            ++st.half_open_evicted;
            free_sa(*victim);
        }
        for (std::size_t i = 0; i < slots; ++i)
            if (tab[i].st == p1_state::free) {
                reset(tab[i]);
                ++n_half;
                tab[i].st = p1_state::r_mm2_sent;
                tab[i].created = now;
                return &tab[i];
            }
        return nullptr;
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
                bytes_view d(o.buf.data() + (o.with_marker ? 0 : marker),
                             o.n + (o.with_marker ? marker : 0));
                ++st.sent;
                return outgoing_datagram{o.local, o.peer, d};
            }
            auto& s = tab[r.slot];
            if (s.generation != r.gen || s.st == p1_state::free) continue;
            const bool m = s.floated;
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
                s.local, s.peer,
                bytes_view(c.tx.data() + (m ? 0 : marker), c.tx_n + (m ? marker : 0))};
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

    /// An unprotected or protected one-off message (informational) to `to`.
    oneshot& take_shot(const transport::endpoint& local, const transport::endpoint& peer,
                       bool with_marker) noexcept {
        auto idx = shot_next;
        shot_next = (shot_next + 1) % oneshot_count;
        auto& o = shots[idx];
        o.local = local;
        o.peer = peer;
        o.with_marker = with_marker;
        o.n = 0;
        return o;
    }
    void queue_shot(const oneshot& o) noexcept {
        if (out_count == out_capacity) {
            ++st.tx_dropped;
            return;
        }
        outq[(out_head + out_count) % out_capacity] = {
            static_cast<std::uint32_t>(&o - shots.data()), 0, 255};
        ++out_count;
    }

    header v1_header(const sa_t& s, exchange x, std::uint32_t mid = 0) const noexcept {
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
    bool seal(sa_t& s, mutable_bytes buf, std::size_t n, iv& chain, std::uint16_t& out_n) noexcept {
        auto e = s.mc->encrypt(buf, n, chain);
        if (!e) {
            st.last_error = e.error();
            return false;
        }
        out_n = u16(*e);
        return true;
    }

    // ---- initiator: Main Mode ----------------------------------------------

    result<sa_handle> connect(const connection& c, time_point now) noexcept {
        if (!c.local.valid() || !c.peer.valid() || c.local.family != c.peer.family)
            return error(engine_errc::invalid_config, 0, "connection endpoints");
        if (n_half >= L::max_half_open) return error(engine_errc::capacity, 0, "half-open SAs");
        sa_t* sp = nullptr;
        for (std::size_t i = 0; i < slots; ++i)
            if (tab[i].st == p1_state::free) {
                sp = &tab[i];
                break;
            }
        if (!sp) return error(engine_errc::capacity, 0, "IKE SA slots");
        auto& s = *sp;
        reset(s);
        s.initiator = true;
        s.local = c.local;
        s.peer = c.peer;
        s.conn = c;
        s.created = now;
        s.last_rx = now;
        if (!random_int(s.cky_i) || s.cky_i == 0)
            return error(engine_errc::crypto_failure, 0, "initiator cookie");
        if (c.aggressive) {
            if (c.id.size() > s.conn_id.size())
                return error(engine_errc::invalid_config, 0, "connection id");
            copy_to(s.conn_id, c.id);
            s.conn.id = bytes_view(s.conn_id.data(), c.id.size());
            auto r = start_aggressive(s, now);
            if (!r) return r.error();
            ++n_half;
            return handle(index_of(s));
        }
        // MM1: SA with every transform we accept, then our vendor IDs.
        header h = v1_header(s, exchange::main_mode);
        message_builder b(mutable_bytes(s.tx).subspan(marker, tx_capacity), h);
        b.begin(payload_type::sa_v1);
        const std::size_t sa_at = b.out().size();
        v1::sa{doi_ipsec, sit_identity_only, {}, 0}.encode(b.out());
        sa_writer sw(b.out());
        sw.begin_proposal(1, 1, {});
        std::uint8_t n = 1;
        for (auto& p : p1)
            write_p1_transform(sw, b.out(), n++, p,
                               static_cast<std::uint32_t>(cfg.phase1_lifetime.count()));
        sw.finish();
        b.end();
        const std::size_t sa_end = b.out().size();
        add_vendor_ids(b, nat_t::rfc3947, true, true, true);
        auto sz = b.finish();
        if (!sz) return sz.error();
        if (sa_end - sa_at > s.sai_b.size())
            return error(l2sec::errc::capacity_exceeded, 0, "SA payload");
        copy_to(s.sai_b, bytes_view(s.tx).subspan(marker + sa_at, sa_end - sa_at));
        s.sai_n = u16(sa_end - sa_at);
        s.tx_n = u16(*sz);
        s.st = p1_state::i_mm1_sent;
        ++n_half;
        if (c.id.size() <= s.conn_id.size()) copy_to(s.conn_id, c.id);
        s.conn.id = bytes_view(s.conn_id.data(), std::min(c.id.size(), s.conn_id.size()));
        s.tries = 0;
        s.retx_at = retx_time(0, now);
        queue(s, 0);
        return handle(index_of(s));
    }

    void add_vendor_ids(message_builder& b, nat_t natt, bool all_natt, bool dpd,
                        bool frag) noexcept {
        if (all_natt) {
            b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_rfc3947));
            b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_draft_03));
            b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_draft_02_n));
            b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_draft_02));
        } else if (natt == nat_t::rfc3947) {
            b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_rfc3947));
        } else if (natt == nat_t::draft03) {
            b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_draft_03));
        } else if (natt == nat_t::draft02) {
            b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::nat_t_draft_02_n));
        }
        if (dpd && cfg.send_dpd_vendor_id)
            b.add(payload_type::vendor_id_v1, vendor_id_bytes(vendor::dpd));
        if (frag && cfg.send_fragmentation_vendor_id) {
            // FRAGMENTATION + the capability flags Windows and Cisco send.
            std::array<std::byte, 20> v{};
            copy_to(v, vendor_id_bytes(vendor::fragmentation));
            v[16] = std::byte{0x80};
            b.add(payload_type::vendor_id_v1, v);
        }
    }

    /// Vendor IDs of a peer message: the best NAT-T dialect, DPD, fragmentation.
    static void read_vendor_ids(const payload_range& chain, sa_t& s) noexcept {
        nat_t best = nat_t::none;
        for (const auto& p : chain) {
            if (p.kind() != payload_type::vendor_id_v1) continue;
            auto* v = identify_vendor(p.body);
            if (!v) continue;
            switch (v->id) {
                case vendor::nat_t_rfc3947:
                    best = nat_t::rfc3947;
                    break;
                case vendor::nat_t_draft_03:
                    if (best < nat_t::draft03) best = nat_t::draft03;
                    break;
                case vendor::nat_t_draft_02:
                case vendor::nat_t_draft_02_n:
                    if (best < nat_t::draft02) best = nat_t::draft02;
                    break;
                case vendor::dpd:
                    s.peer_dpd = true;
                    break;
                case vendor::fragmentation:
                    s.peer_frag = true;
                    break;
                default:
                    break;
            }
        }
        s.natt = best;
    }

    payload_type nat_d_type(const sa_t& s) const noexcept {
        return s.natt == nat_t::rfc3947 ? payload_type::nat_d : payload_type::nat_d_draft;
    }
    payload_type nat_oa_type(const sa_t& s) const noexcept {
        return s.natt == nat_t::rfc3947 ? payload_type::nat_oa : payload_type::nat_oa_draft;
    }

    // ---- receive ------------------------------------------------------------

    void receive(bytes_view dg, const transport::endpoint& local, const transport::endpoint& peer,
                 time_point now) noexcept {
        ++st.received;
        const bool on_4500 = local.port == 4500;
        bytes_view m = dg;
        if (on_4500) {
            auto r = strip_non_esp_marker(dg);
            if (!r) return fail_note(r.error());
            m = *r;
        }
        if (m.size() > rx_capacity)
            return fail_note(error(ike::errc::truncated, 0, "datagram size"));
        receive_ike(m, local, peer, now, true);
    }

    /// One IKE message (after the marker on 4500); `outer`: it came from the
    /// wire (a reassembled message may not be fragmented again).
    void receive_ike(bytes_view m, const transport::endpoint& local,
                     const transport::endpoint& peer, time_point now, bool outer) noexcept {
        auto msg = parse(m);
        if (!msg) return fail_note(msg.error());
        const header& h = msg->header();
        if (h.major != 1)
            return fail_note(error(ike::errc::unsupported_version, 17, "IKEv1 engine"));
        if (h.first_payload() == payload_type::fragment_v1) {
            if (!outer)
                return fail_note(error(engine_errc::invalid_payload, 28, "nested fragment"));
            return on_fragment(*msg, local, peer, now);
        }
        const std::uint64_t fp = fingerprint(m);

        // An unprotected error notification answering our MM1 (NO-PROPOSAL-CHOSEN).
        if (h.exchange_type == exchange::informational_v1 && !h.encrypted())
            return on_plain_notify(*msg, peer);
        // A new Main Mode: responder.
        if (h.spi_r == 0) {
            if ((h.exchange_type != exchange::main_mode &&
                 h.exchange_type != exchange::aggressive) ||
                h.encrypted() || h.message_id != 0)
                return fail_note(error(engine_errc::wrong_state, 16, "first message"));
            for (std::size_t i = 0; i < slots; ++i) {
                auto& s = tab[i];
                if (s.st != p1_state::free && !s.initiator && s.cky_i == h.spi_i &&
                    s.peer == peer) {
                    if ((s.st == p1_state::r_mm2_sent || s.st == p1_state::r_am2_sent) &&
                        s.rx_fp == fp) {
                        ++st.duplicates;
                        queue(s, 0);
                        return;
                    }
                    return fail_note(error(engine_errc::wrong_state, 0, "MM1 for a known SA"));
                }
            }
            if (h.exchange_type == exchange::aggressive) return on_am1(*msg, fp, local, peer, now);
            return on_mm1(*msg, fp, local, peer, now);
        }
        sa_t* sp = nullptr;
        for (std::size_t i = 0; i < slots && !sp; ++i) {
            auto& s = tab[i];
            if (s.st == p1_state::free || s.cky_i != h.spi_i) continue;
            if (s.cky_r == h.spi_r ||
                ((s.st == p1_state::i_mm1_sent || s.st == p1_state::i_am1_sent) && s.peer == peer))
                sp = &s;
        }
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
                r = on_mm6(s, buf, now);
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
        if (s.st != p1_state::established || h.exchange_type == exchange::main_mode ||
            h.exchange_type == exchange::aggressive)
            s.rx_fp = fp;
    }

    // ---- IKEv1 fragments ----------------------------------------------------

    /// Collect fragments (any order, duplicates ignored, up to 255 of them:
    /// Windows cuts at 626 bytes) and process the message once complete.
    void on_fragment(const message& msg, const transport::endpoint& local,
                     const transport::endpoint& peer, time_point now) noexcept {
        const header& h = msg.header();
        payload p = *msg.payloads().begin();
        auto f = fragment::parse(p);
        if (!f) return fail_note(f.error());
        bool known = h.spi_r == 0;
        for (std::size_t i = 0; i < slots && !known; ++i)
            known =
                tab[i].st != p1_state::free && tab[i].cky_i == h.spi_i && tab[i].cky_r == h.spi_r;
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

    // ---- Aggressive Mode (RFC 2409 5.4, pre-shared key) ----------------------

    /// Our phase 1 ID for Aggressive Mode: the configured one, else our address.
    bytes_view am_id(const sa_t& s, std::array<std::byte, 4 + 128>& b) const noexcept {
        bytes_view data = s.conn.id.empty() ? cfg.local_id : s.conn.id;
        if (data.empty()) {
            std::array<std::byte, 20> a{};
            auto v = id_body(s, a);
            copy_to(b, v);
            return bytes_view(b.data(), v.size());
        }
        b[0] = std::byte{cfg.local_id_type};
        b[1] = b[2] = b[3] = std::byte{0};
        copy_to(mutable_bytes(b).subspan(4), data);
        return bytes_view(b.data(), 4 + data.size());
    }

    /// AM1: SA (every transform of the first proposal's group: the KE is sent
    /// before the group is agreed), KE, Nonce, IDii, vendor IDs.
    result<void> start_aggressive(sa_t& s, time_point now) noexcept {
        const auto group = p1[0].group;
        s.aggressive = true;
        s.kx = make_dh<B>(group, rnd);
        if (!s.kx) return error(engine_errc::crypto_failure, 0, "DH key pair");
        s.ni_n = 32;
        if (!random(mutable_bytes(s.ni.data(), s.ni_n)))
            return error(engine_errc::crypto_failure, 0, "nonce");
        auto pub = s.kx->public_value();
        copy_to(s.gx_i, pub);
        s.gx_n = u16(pub.size());
        header h = v1_header(s, exchange::aggressive);
        message_builder b(mutable_bytes(s.tx).subspan(marker, tx_capacity), h);
        b.begin(payload_type::sa_v1);
        const std::size_t sa_at = b.out().size();
        v1::sa{doi_ipsec, sit_identity_only, {}, 0}.encode(b.out());
        sa_writer sw(b.out());
        sw.begin_proposal(1, 1, {});
        std::uint8_t n = 1;
        for (auto& p : p1)
            if (p.group == group)
                write_p1_transform(sw, b.out(), n++, p,
                                   static_cast<std::uint32_t>(cfg.phase1_lifetime.count()));
        sw.finish();
        b.end();
        const std::size_t sa_end = b.out().size();
        b.add(payload_type::ke_v1, pub);
        b.add(payload_type::nonce_v1, bytes_view(s.ni.data(), s.ni_n));
        std::array<std::byte, 4 + 128> idb{};
        b.add(payload_type::id_v1, am_id(s, idb));
        add_vendor_ids(b, nat_t::rfc3947, true, true, true);
        auto sz = b.finish();
        if (!sz) return sz.error();
        copy_to(s.sai_b, bytes_view(s.tx).subspan(marker + sa_at, sa_end - sa_at));
        s.sai_n = u16(sa_end - sa_at);
        s.tx_n = u16(*sz);
        s.st = p1_state::i_am1_sent;
        s.tries = 0;
        s.retx_at = retx_time(0, now);
        queue(s, 0);
        return {};
    }

    /// Responder: AM1 -> AM2 (SA, KE, Nonce, IDir, HASH_R, NAT-D).
    // Responder: the first of our phase 1 proposals, in our order of
    // preference, that the peer's SA payload offers, with the proposal and
    // transform that carried it (MM2 and AM2 echo them). With `ke_size`
    // (Aggressive Mode, whose KE comes with the SA) only groups whose public
    // value has that size qualify.
    struct p1_choice {
        proposal prop;
        payload transform;
        phase1_proposal chosen;
        std::uint32_t life;  ///< the peer's proposed lifetime in seconds, 0 = none
    };
    std::optional<p1_choice> choose_phase1(const v1::sa& v,
                                           std::optional<std::size_t> ke_size) const noexcept {
        for (auto& want : p1) {
            if (ke_size && crypto::info(want.group).public_size != *ke_size) continue;
            for (const auto& pp : v.proposals()) {
                auto pr = proposal::parse(pp);
                if (!pr || pr->protocol != 1) continue;
                for (const auto& tp : pr->transforms()) {
                    auto t = transform_v1::parse(tp);
                    if (!t || t->id != 1) continue;
                    auto a = read_p1(*t);
                    if (matches(want, a)) return p1_choice{*pr, tp, want, a.life_s};
                }
            }
        }
        return std::nullopt;
    }

    void on_am1(const message& msg, std::uint64_t fp, const transport::endpoint& local,
                const transport::endpoint& peer, time_point now) noexcept {
        if (!cfg.allow_aggressive) {
            notify_plain(msg.header(), local, peer, notify_type::no_proposal_chosen);
            return fail_note(error(engine_errc::wrong_state, 18,
                                   "Aggressive Mode (off: config::allow_aggressive)"));
        }
        auto chain = msg.payloads();
        std::optional<payload> sap, kep, np, idp;
        for (const auto& p : chain) {
            if (p.kind() == payload_type::sa_v1 && !sap) sap = p;
            if (p.kind() == payload_type::ke_v1 && !kep) kep = p;
            if (p.kind() == payload_type::nonce_v1 && !np) np = p;
            if (p.kind() == payload_type::id_v1 && !idp) idp = p;
        }
        if (!sap || !kep || !np || !idp)
            return fail_note(error(engine_errc::missing_payload, 28, "AM1 SA/KE/Nonce/ID"));
        if (np->body.size() < 8 || np->body.size() > 256 || idp->body.size() < 4 ||
            idp->body.size() > sizeof(sa_t::peer_id) || sap->body.size() > sizeof(sa_t::sai_b))
            return fail_note(error(engine_errc::invalid_payload, np->offset, "AM1 Nonce/ID size"));
        auto v = v1::sa::parse(*sap);
        if (!v) return fail_note(v.error());
        auto pick = choose_phase1(*v, kep->body.size());
        if (!pick) {
            ++st.no_proposal;
            notify_plain(msg.header(), local, peer, notify_type::no_proposal_chosen);
            return fail_note(error(engine_errc::no_proposal_chosen, sap->body_offset(), "AM1 SA"));
        }
        auto* sp = alloc_half_open(peer, now);
        if (!sp) return fail_note(error(engine_errc::capacity, 0, "half-open SAs"));
        auto& s = *sp;
        s.initiator = false;
        s.aggressive = true;
        s.local = local;
        s.peer = peer;
        s.last_rx = now;
        s.cky_i = msg.header().spi_i;
        s.chosen = pick->chosen;
        s.info = *describe_p1(pick->chosen);
        const auto ours = static_cast<std::uint32_t>(cfg.phase1_lifetime.count());
        s.life_s = pick->life && pick->life < ours ? pick->life : ours;
        copy_to(s.sai_b, sap->body);
        s.sai_n = u16(sap->body.size());
        s.peer_id_n = u16(idp->body.size());
        copy_to(s.peer_id, idp->body);
        read_vendor_ids(chain, s);
        auto fail = [&](const error& e) {
            free_sa(s);
            fail_note(e);
        };
        if (!random_int(s.cky_r) || s.cky_r == 0)
            return fail(error(engine_errc::crypto_failure, 0, "responder cookie"));
        s.kx = make_dh<B>(pick->chosen.group, rnd);
        if (!s.kx) return fail(error(engine_errc::crypto_failure, 0, "DH key pair"));
        copy_to(s.gx_i, kep->body);
        s.gx_n = u16(kep->body.size());
        std::array<std::byte, crypto::max_dh_public_size> pub{};
        copy_to(pub, s.kx->public_value());
        copy_to(s.gx_r, s.kx->public_value());
        copy_to(s.ni, np->body);
        s.ni_n = u16(np->body.size());
        s.nr_n = 32;
        if (!random(mutable_bytes(s.nr.data(), 32)))
            return fail(error(engine_errc::crypto_failure, 0, "nonce"));
        // The PSK is looked up by the peer's ID data (after type/protocol/port).
        std::array<std::byte, 128> idcopy{};
        copy_to(idcopy, idp->body);
        s.peer_id_n = u16(idp->body.size());
        if (auto d = derive_am(s, kep->body, bytes_view(idcopy.data() + 4, idp->body.size() - 4));
            !d)
            return fail(d.error());
        std::array<std::byte, 4 + 128> idb{};
        auto myid = am_id(s, idb);
        auto hr = phase1_hash<B>(s.info, s.keys.skeyid, false, bytes_view(s.gx_i.data(), s.gx_n),
                                 bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                                 bytes_view(s.sai_b.data(), s.sai_n), myid);
        if (!hr) return fail(hr.error());
        header h = v1_header(s, exchange::aggressive);
        message_builder b(mutable_bytes(s.tx).subspan(marker, tx_capacity), h);
        b.begin(payload_type::sa_v1);
        v1::sa{doi_ipsec, sit_identity_only, {}, 0}.encode(b.out());
        auto& w = b.out();
        const std::size_t prop_at = w.size();
        w.u8(0);
        w.u8(0);
        w.u16(0);
        w.u8(pick->prop.number);
        w.u8(1);
        w.u8(0);
        w.u8(1);
        copy_transform(w, pick->transform);
        w.patch_u16(prop_at + 2, u16(w.size() - prop_at));
        b.end();
        b.add(payload_type::ke_v1, bytes_view(pub.data(), s.gx_n));
        b.add(payload_type::nonce_v1, bytes_view(s.nr.data(), s.nr_n));
        b.add(payload_type::id_v1, myid);
        b.add(payload_type::hash, *hr);
        add_vendor_ids(b, s.natt, false, s.peer_dpd, s.peer_frag);
        if (s.natt != nat_t::none) {
            auto d1 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.peer);
            auto d2 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.local);
            if (!d1 || !d2) return fail(error(engine_errc::crypto_failure, 0, "NAT-D"));
            b.add(nat_d_type(s), *d1);
            b.add(nat_d_type(s), *d2);
        }
        auto sz = b.finish();
        if (!sz) return fail(sz.error());
        s.tx_n = u16(*sz);
        s.st = p1_state::r_am2_sent;
        s.rx_fp = fp;
        s.tries = 0;
        s.retx_at = retx_time(0, now);  // AM3 is not answered: AM2 until it comes
        queue(s, 0);
    }

    /// derive() with the PSK looked up by the peer's Aggressive Mode ID.
    result<void> derive_am(sa_t& s, bytes_view peer_ke, bytes_view peer_id_data) noexcept {
        const auto saved = s.peer_id_n;
        std::array<std::byte, 128> keep{};
        copy_to(keep, bytes_view(s.peer_id.data(), s.peer_id_n));
        copy_to(s.peer_id, peer_id_data);
        s.peer_id_n = u16(peer_id_data.size());
        auto r = derive(s, peer_ke);
        copy_to(s.peer_id, bytes_view(keep.data(), saved));
        s.peer_id_n = saved;
        return r;
    }

    /// Initiator: AM2 -> AM3 (HASH_I, NAT-D; encrypted).
    result<void> on_am2(sa_t& s, mutable_bytes buf, time_point now) noexcept {
        auto msg = parse(buf);
        if (!msg) return msg.error();
        if (msg->header().exchange_type != exchange::aggressive || msg->header().encrypted())
            return error(engine_errc::wrong_state, 18, "AM2");
        std::optional<payload> sap, idp, hp;
        auto chain = msg->payloads();
        for (const auto& p : chain) {
            if (p.kind() == payload_type::sa_v1 && !sap) sap = p;
            if (p.kind() == payload_type::id_v1 && !idp) idp = p;
            if (p.kind() == payload_type::hash && !hp) hp = p;
        }
        if (!sap || !idp || !hp) return error(engine_errc::missing_payload, 28, "AM2 SA/ID/HASH");
        auto v = v1::sa::parse(*sap);
        if (!v) return v.error();
        std::optional<phase1_proposal> chosen;
        std::uint32_t life = 0;
        for (const auto& pp : v->proposals()) {
            auto pr = proposal::parse(pp);
            if (!pr || pr->protocol != 1 || pr->transform_count != 1) continue;
            for (const auto& tp : pr->transforms()) {
                auto t = transform_v1::parse(tp);
                if (!t) continue;
                auto a = read_p1(*t);
                for (auto& want : p1)
                    if (want.group == p1[0].group && matches(want, a)) {
                        chosen = want;
                        life = a.life_s;
                    }
            }
        }
        if (!chosen) return error(engine_errc::no_proposal_chosen, sap->body_offset(), "AM2 SA");
        s.cky_r = msg->header().spi_r;
        s.chosen = *chosen;
        s.info = *describe_p1(*chosen);
        auto k = read_ke_nonce(s, *msg);
        if (!k) return k.error();
        const auto ours = static_cast<std::uint32_t>(cfg.phase1_lifetime.count());
        s.life_s = life && life < ours ? life : ours;
        read_vendor_ids(chain, s);
        copy_to(s.gx_r, k->ke);
        copy_to(s.nr, k->nonce);
        s.nr_n = u16(k->nonce.size());
        if (idp->body.size() < 4 || idp->body.size() > s.peer_id.size())
            return error(engine_errc::invalid_payload, idp->body_offset(), "AM2 ID");
        if (auto d = derive_am(s, k->ke, idp->body.subspan(4)); !d) return d.error();
        auto hr = phase1_hash<B>(s.info, s.keys.skeyid, false, bytes_view(s.gx_i.data(), s.gx_n),
                                 bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                                 bytes_view(s.sai_b.data(), s.sai_n), idp->body);
        if (!hr) return hr.error();
        if (!crypto::constant_time_equal(hp->body, *hr))
            return error(engine_errc::authentication_failed, hp->body_offset(), "HASH_R");
        if (auto d = detect_nat(s, *k); !d) return d.error();
        if (n_est >= L::max_sas) return error(engine_errc::capacity, 0, "established SAs");
        s.peer_id_n = u16(idp->body.size());
        copy_to(s.peer_id, idp->body);
        std::array<std::byte, 4 + 128> idb{};
        auto myid = am_id(s, idb);
        auto hi = phase1_hash<B>(s.info, s.keys.skeyid, true, bytes_view(s.gx_i.data(), s.gx_n),
                                 bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                                 bytes_view(s.sai_b.data(), s.sai_n), myid);
        if (!hi) return hi.error();
        header h = v1_header(s, exchange::aggressive);
        auto out = mutable_bytes(s.tx).subspan(marker, tx_capacity);
        message_builder b(out, h);
        b.add(payload_type::hash, *hi);
        if (s.natt != nat_t::none && k->n_natd) {  // over the addresses of AM1/AM2
            auto d1 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.peer);
            auto d2 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.local);
            if (!d1 || !d2) return error(engine_errc::crypto_failure, 0, "NAT-D");
            b.add(nat_d_type(s), *d1);
            b.add(nat_d_type(s), *d2);
        }
        if (s.nat.any()) {
            s.local.port = 4500;
            s.peer.port = 4500;
            s.floated = true;
        }
        auto sz = b.finish();
        if (!sz) return sz.error();
        if (!seal(s, out, *sz, s.chain, s.tx_n)) return st.last_error;
        s.p1_last = s.chain;
        queue(s, 0);
        established(s, now);
        return start_quick_mode(s, params_of(s), 0, now);
    }

    /// Responder: AM3 (HASH_I), encrypted or not.
    result<void> on_am3(sa_t& s, mutable_bytes buf, const transport::endpoint& local,
                        const transport::endpoint& peer, time_point now) noexcept {
        auto hdr = decode_header(buf);
        if (!hdr) return hdr.error();
        if (hdr->exchange_type != exchange::aggressive)
            return error(engine_errc::wrong_state, 18, "AM3");
        payload_range chain;
        iv next = s.chain;
        if (hdr->encrypted()) {
            auto o = open(s, buf, s.chain);
            if (!o)
                return garbled(o.error(), "AM3 (garbage after decryption: wrong pre-shared key?)");
            chain = o->chain;
            next = o->next;
        } else {
            auto m = parse(buf);
            if (!m) return m.error();
            chain = m->payloads();
        }
        std::optional<payload> hp;
        ke_nonce nd;
        for (const auto& p : chain) {
            if (p.kind() == payload_type::hash && !hp) hp = p;
            if ((p.kind() == payload_type::nat_d || p.kind() == payload_type::nat_d_draft) &&
                nd.n_natd < nd.natd.size())
                nd.natd[nd.n_natd++] = p.body;
        }
        if (!hp) return error(engine_errc::missing_payload, 28, "AM3 HASH");
        auto hi = phase1_hash<B>(s.info, s.keys.skeyid, true, bytes_view(s.gx_i.data(), s.gx_n),
                                 bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                                 bytes_view(s.sai_b.data(), s.sai_n),
                                 bytes_view(s.peer_id.data(), s.peer_id_n));
        if (!hi) return hi.error();
        if (!crypto::constant_time_equal(hp->body, *hi))
            return error(engine_errc::authentication_failed, hp->body_offset(), "HASH_I");
        if (n_est >= L::max_sas) return error(engine_errc::capacity, 0, "established SAs");
        if (auto d = detect_nat(s, nd); !d) return d.error();  // before the float
        s.chain = next;
        s.p1_last = s.chain;
        if (local.port == 4500) {
            s.local = local;
            s.peer = peer;
            s.floated = true;
        }
        s.tx_n = 0;
        established(s, now);
        return {};
    }

    // ---- responder: MM1 -----------------------------------------------------

    void on_mm1(const message& msg, std::uint64_t fp, const transport::endpoint& local,
                const transport::endpoint& peer, time_point now) noexcept {
        auto chain = msg.payloads();
        std::optional<payload> sap;
        for (const auto& p : chain)
            if (p.kind() == payload_type::sa_v1 && !sap) sap = p;
        if (!sap) return fail_note(error(engine_errc::missing_payload, 28, "MM1 SA"));
        auto v = v1::sa::parse(*sap);
        if (!v) return fail_note(v.error());
        if (v->doi != doi_ipsec || v->situation != sit_identity_only)
            return fail_note(error(engine_errc::invalid_payload, sap->body_offset(), "SA DOI"));
        // Our order of preference: the first of ours the peer offers.
        auto pick = choose_phase1(*v, std::nullopt);
        if (!pick) {
            ++st.no_proposal;
            notify_plain(msg.header(), local, peer, notify_type::no_proposal_chosen);
            event e;
            e.kind = event_kind::failed;
            e.peer = peer;
            e.reason = make_error_code(engine_errc::no_proposal_chosen);
            push_event(std::move(e));
            return fail_note(error(engine_errc::no_proposal_chosen, sap->body_offset(), "MM1 SA"));
        }
        if (sap->body.size() > sizeof(sa_t::sai_b))
            return fail_note(error(l2sec::errc::capacity_exceeded, sap->offset, "SA payload"));
        auto* sp = alloc_half_open(peer, now);
        if (!sp) return fail_note(error(engine_errc::capacity, 0, "half-open SAs"));
        auto& s = *sp;
        s.initiator = false;
        s.local = local;
        s.peer = peer;
        s.last_rx = now;
        s.cky_i = msg.header().spi_i;
        s.chosen = pick->chosen;
        s.info = *describe_p1(pick->chosen);
        const auto ours = static_cast<std::uint32_t>(cfg.phase1_lifetime.count());
        s.life_s = pick->life && pick->life < ours ? pick->life : ours;
        copy_to(s.sai_b, sap->body);
        s.sai_n = u16(sap->body.size());
        read_vendor_ids(chain, s);
        if (!random_int(s.cky_r) || s.cky_r == 0) {
            free_sa(s);
            return fail_note(error(engine_errc::crypto_failure, 0, "responder cookie"));
        }
        // MM2: the chosen transform, our vendor IDs.
        header h = v1_header(s, exchange::main_mode);
        message_builder b(mutable_bytes(s.tx).subspan(marker, tx_capacity), h);
        b.begin(payload_type::sa_v1);
        v1::sa{doi_ipsec, sit_identity_only, {}, 0}.encode(b.out());
        auto& w = b.out();
        const std::size_t prop_at = w.size();
        w.u8(0);
        w.u8(0);
        w.u16(0);
        w.u8(pick->prop.number);
        w.u8(1);
        w.u8(0);
        w.u8(1);
        copy_transform(w, pick->transform);
        w.patch_u16(prop_at + 2, u16(w.size() - prop_at));
        b.end();
        add_vendor_ids(b, s.natt, false, s.peer_dpd, s.peer_frag);
        auto sz = b.finish();
        if (!sz) {
            free_sa(s);
            return fail_note(sz.error());
        }
        s.tx_n = u16(*sz);
        s.st = p1_state::r_mm2_sent;
        s.rx_fp = fp;
        queue(s, 0);
    }

    /// Only while our MM1 is unanswered, only from the peer we sent it to.
    void on_plain_notify(const message& msg, const transport::endpoint& peer) noexcept {
        const header& h = msg.header();
        for (std::size_t i = 0; i < slots; ++i) {
            auto& s = tab[i];
            if (s.st != p1_state::i_mm1_sent || s.cky_i != h.spi_i || !(s.peer == peer)) continue;
            for (const auto& p : msg.payloads()) {
                if (p.kind() != payload_type::notification) continue;
                auto n = notification::parse(p);
                if (n && n->type < 16384) {
                    remove_sa(s, make_error_code(engine_errc::notified));
                    return;
                }
            }
        }
        fail_note(error(engine_errc::wrong_state, 18, "unprotected Informational"));
    }

    void notify_plain(const header& in, const transport::endpoint& local,
                      const transport::endpoint& peer, notify_type t) noexcept {
        auto& o = take_shot(local, peer, local.port == 4500);
        header h;
        h.spi_i = in.spi_i;
        h.spi_r = in.spi_r;
        h.major = 1;
        h.exchange_type = exchange::informational_v1;
        message_builder b(mutable_bytes(o.buf).subspan(marker), h);
        b.begin(payload_type::notification);
        notification{doi_ipsec, 1, static_cast<std::uint16_t>(t), {}, {}}.encode(b.out());
        b.end();
        auto sz = b.finish();
        if (!sz) return;
        o.n = u16(*sz);
        queue_shot(o);
    }

    // ---- initiator: MM2 -> MM3 ---------------------------------------------

    result<void> on_mm2(sa_t& s, mutable_bytes buf, time_point now) noexcept {
        auto msg = parse(buf);
        if (!msg) return msg.error();
        if (msg->header().exchange_type != exchange::main_mode)
            return error(engine_errc::wrong_state, 18, "MM2 exchange type");
        auto chain = msg->payloads();
        std::optional<payload> sap;
        for (const auto& p : chain) {
            if (p.kind() == payload_type::sa_v1 && !sap) sap = p;
            if (p.kind() == payload_type::notification) {
                auto n = notification::parse(p);
                if (n && n->type < 16384) {
                    remove_sa(s, make_error_code(engine_errc::notified));
                    return {};
                }
            }
        }
        if (!sap) return error(engine_errc::missing_payload, 28, "MM2 SA");
        auto v = v1::sa::parse(*sap);
        if (!v) return v.error();
        std::optional<phase1_proposal> chosen;
        std::uint32_t life = 0;
        std::size_t np = 0;
        for (const auto& pp : v->proposals()) {
            ++np;
            auto pr = proposal::parse(pp);
            if (!pr || pr->protocol != 1 || pr->transform_count != 1)
                return error(engine_errc::no_proposal_chosen, pp.offset, "MM2 proposal");
            for (const auto& tp : pr->transforms()) {
                auto t = transform_v1::parse(tp);
                if (!t) return t.error();
                auto a = read_p1(*t);
                for (auto& want : p1)
                    if (matches(want, a)) {
                        chosen = want;
                        life = a.life_s;
                        break;
                    }
            }
        }
        if (np != 1 || !chosen)
            return error(engine_errc::no_proposal_chosen, sap->body_offset(), "MM2 SA");
        auto info = describe_p1(*chosen);
        if (!info) return error(engine_errc::no_proposal_chosen, sap->body_offset(), "MM2 SA");
        s.cky_r = msg->header().spi_r;
        s.chosen = *chosen;
        s.info = *info;
        const auto ours = static_cast<std::uint32_t>(cfg.phase1_lifetime.count());
        s.life_s = life && life < ours ? life : ours;
        read_vendor_ids(chain, s);
        // MM3: KE, Nonce, NAT-D.
        s.kx = make_dh<B>(s.chosen.group, rnd);
        if (!s.kx) return error(engine_errc::crypto_failure, 0, "DH key pair");
        s.ni_n = 32;
        if (!random(mutable_bytes(s.ni.data(), s.ni_n)))
            return error(engine_errc::crypto_failure, 0, "nonce");
        auto pub = s.kx->public_value();
        copy_to(s.gx_i, pub);
        s.gx_n = u16(pub.size());
        header h = v1_header(s, exchange::main_mode);
        message_builder b(mutable_bytes(s.tx).subspan(marker, tx_capacity), h);
        b.add(payload_type::ke_v1, pub);
        b.add(payload_type::nonce_v1, bytes_view(s.ni.data(), s.ni_n));
        if (s.natt != nat_t::none) {
            auto d1 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.peer);
            auto d2 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.local);
            if (!d1 || !d2) return error(engine_errc::crypto_failure, 0, "NAT-D");
            b.add(nat_d_type(s), *d1);
            b.add(nat_d_type(s), *d2);
        }
        auto sz = b.finish();
        if (!sz) return sz.error();
        s.tx_n = u16(*sz);
        s.st = p1_state::i_mm3_sent;
        s.tries = 0;
        s.retx_at = retx_time(0, now);
        queue(s, 0);
        return {};
    }

    /// KE, Nonce and NAT-D payloads of MM3/MM4.
    struct ke_nonce {
        bytes_view ke, nonce;
        std::array<bytes_view, 4> natd{};
        std::size_t n_natd = 0;
    };
    result<ke_nonce> read_ke_nonce(const sa_t& s, const message& msg) const noexcept {
        ke_nonce k;
        auto chain = msg.payloads();
        for (const auto& p : chain) {
            if (p.kind() == payload_type::ke_v1) k.ke = p.body;
            if (p.kind() == payload_type::nonce_v1) k.nonce = p.body;
            if ((p.kind() == payload_type::nat_d || p.kind() == payload_type::nat_d_draft) &&
                k.n_natd < k.natd.size())
                k.natd[k.n_natd++] = p.body;
        }
        if (!chain.ok()) return chain.last_error();
        if (k.ke.empty()) return error(engine_errc::missing_payload, 28, "KE");
        if (k.nonce.empty()) return error(engine_errc::missing_payload, 28, "Nonce");
        if (k.ke.size() != crypto::info(s.chosen.group).public_size)
            return error(engine_errc::invalid_payload, 28, "KE size");
        if (k.nonce.size() < 8 || k.nonce.size() > 256)
            return error(engine_errc::invalid_payload, 28, "Nonce size");
        return k;
    }

    /// SKEYID.., the phase 1 IV and cipher, once both KE and nonces are known.
    result<void> derive(sa_t& s, bytes_view peer_ke) noexcept {
        std::array<std::byte, crypto::max_dh_shared_size> gxy{};
        auto n = s.kx->agree(peer_ke, gxy);
        if (!n) return error(engine_errc::invalid_payload, 28, "KE value");
        std::array<std::byte, 128> key{};
        auto kn = psk.find_psk(s.peer, bytes_view(s.peer_id.data(), s.peer_id_n), key);
        if (!kn) {
            crypto::secure_zero(gxy);
            return error(engine_errc::unknown_peer, 0, "pre-shared key");
        }
        auto ni = bytes_view(s.ni.data(), s.ni_n), nr = bytes_view(s.nr.data(), s.nr_n);
        auto skeyid = skeyid_psk<B>(s.info, bytes_view(key.data(), *kn), ni, nr);
        crypto::secure_zero(key);
        if (!skeyid) {
            crypto::secure_zero(gxy);
            return skeyid.error();
        }
        auto k = derive_phase1<B>(s.info, *skeyid, bytes_view(gxy.data(), *n), s.cky_i, s.cky_r);
        crypto::secure_zero(gxy);
        if (!k) return k.error();
        auto v = phase1_iv<B>(s.info, bytes_view(s.gx_i.data(), s.gx_n),
                              bytes_view(s.gx_r.data(), s.gx_n));
        if (!v) return v.error();
        auto mc = message_crypto<B>::make(s.info, k->ka);
        if (!mc) return mc.error();
        auto pa = B::make_mac(s.info.prf, k->a);
        auto ih = B::make_hash(s.info.hash);
        if (!pa || !ih) return error(engine_errc::crypto_failure, 0, "phase 2 contexts");
        s.keys = *k;
        s.chain = *v;
        s.mc.emplace(std::move(*mc));
        s.prf_a.emplace(std::move(*pa));
        s.ivh.emplace(std::move(*ih));
        s.kx.reset();
        return {};
    }

    /// NAT detection from the peer's NAT-D payloads: the first names us as
    /// the peer saw us, the others the peer's own addresses.
    result<void> detect_nat(sa_t& s, const ke_nonce& k) noexcept {
        if (s.natt == nat_t::none || k.n_natd == 0) return {};
        if (k.n_natd < 2) return error(engine_errc::missing_payload, 28, "NAT-D");
        auto me = nat_d<B>(s.info, s.cky_i, s.cky_r, s.local);
        auto him = nat_d<B>(s.info, s.cky_i, s.cky_r, s.peer);
        if (!me || !him) return error(engine_errc::crypto_failure, 0, "NAT-D");
        s.nat.local_behind = !crypto::constant_time_equal(k.natd[0], *me);
        bool seen = false;
        for (std::size_t i = 1; i < k.n_natd; ++i)
            seen |= crypto::constant_time_equal(k.natd[i], *him);
        s.nat.peer_behind = !seen;
        return {};
    }

    // ---- responder: MM3 -> MM4 ---------------------------------------------

    result<void> on_mm3(sa_t& s, mutable_bytes buf, time_point now) noexcept {
        auto msg = parse(buf);
        if (!msg) return msg.error();
        if (msg->header().encrypted() || msg->header().exchange_type != exchange::main_mode)
            return error(engine_errc::wrong_state, 18, "MM3");
        auto k = read_ke_nonce(s, *msg);
        if (!k) return k.error();
        auto kx = make_dh<B>(s.chosen.group, rnd);
        if (!kx) return error(engine_errc::crypto_failure, 0, "DH key pair");
        std::array<std::byte, 32> nr{};
        if (!random(nr)) return error(engine_errc::crypto_failure, 0, "nonce");
        // Commit: the message is well formed.
        s.kx.emplace(std::move(*kx));
        copy_to(s.gx_i, k->ke);
        s.gx_n = u16(k->ke.size());
        copy_to(s.gx_r, s.kx->public_value());
        copy_to(s.ni, k->nonce);
        s.ni_n = u16(k->nonce.size());
        copy_to(s.nr, nr);
        s.nr_n = 32;
        std::array<std::byte, crypto::max_dh_public_size> pub{};
        copy_to(pub, s.kx->public_value());
        if (auto d = derive(s, k->ke); !d) {
            s.kx.reset();
            return d.error();
        }
        if (auto d = detect_nat(s, *k); !d) return d.error();
        header h = v1_header(s, exchange::main_mode);
        message_builder b(mutable_bytes(s.tx).subspan(marker, tx_capacity), h);
        b.add(payload_type::ke_v1, bytes_view(pub.data(), s.gx_n));
        b.add(payload_type::nonce_v1, bytes_view(s.nr.data(), s.nr_n));
        if (s.natt != nat_t::none && k->n_natd) {
            auto d1 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.peer);
            auto d2 = nat_d<B>(s.info, s.cky_i, s.cky_r, s.local);
            if (!d1 || !d2) return error(engine_errc::crypto_failure, 0, "NAT-D");
            b.add(nat_d_type(s), *d1);
            // Behind a 1:1 NAT: echo the hash the peer computed for the
            // address it sent to, so it sees no NAT on our side.
            if (cfg.present_unnatted)
                b.add(nat_d_type(s), k->natd[0]);
            else
                b.add(nat_d_type(s), *d2);
        }
        auto sz = b.finish();
        if (!sz) return sz.error();
        s.tx_n = u16(*sz);
        s.st = p1_state::r_mm4_sent;
        (void)now;
        queue(s, 0);
        return {};
    }

    // ---- initiator: MM4 -> MM5 ---------------------------------------------

    result<void> on_mm4(sa_t& s, mutable_bytes buf, time_point now) noexcept {
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

    static std::array<std::byte, 16> cookies(const sa_t& s) noexcept {
        std::array<std::byte, 16> c{};
        store_be64(c.data(), s.cky_i);
        store_be64(c.data() + 8, s.cky_r);
        return c;
    }

    /// Our phase 1 ID body: ID_IPV4_ADDR / ID_IPV6_ADDR of the local address.
    static bytes_view id_body(const sa_t& s, std::array<std::byte, 20>& b) noexcept {
        b[0] = std::byte{address_id_type(s.local)};
        b[1] = std::byte{0};
        b[2] = std::byte{0};
        b[3] = std::byte{0};
        auto a = address_bytes(s.local);
        copy_to(mutable_bytes(b).subspan(4), a);
        return bytes_view(b.data(), 4 + a.size());
    }

    /// Decrypt `buf` with a copy of `chain`; on success the copy is returned
    /// with the plaintext chain.
    struct opened {
        payload_range chain;
        iv next;
    };
    result<opened> open(sa_t& s, mutable_bytes buf, const iv& chain) noexcept {
        iv v = chain;
        auto r = s.mc->decrypt(buf, v);
        if (!r) return r.error();
        if (auto ok = v1::validate(*r); !ok) return ok.error();
        return opened{*r, v};
    }

    /// The first encrypted message does not parse: with a well-formed
    /// ciphertext that is what a different pre-shared key looks like.
    static error garbled(const error& e, const char* what) noexcept {
        if (e.code == make_error_code(ike::errc::bad_block_size) ||
            e.code == make_error_code(ike::errc::not_encrypted) ||
            e.code == make_error_code(ike::errc::header_length_mismatch))
            return e;
        return error(engine_errc::authentication_failed, e.offset, what);
    }

    // ---- responder: MM5 -> MM6 ---------------------------------------------

    result<void> on_mm5(sa_t& s, mutable_bytes buf, const transport::endpoint& local,
                        const transport::endpoint& peer, time_point now) noexcept {
        auto o = open(s, buf, s.chain);
        if (!o) return garbled(o.error(), "MM5 (garbage after decryption: wrong pre-shared key?)");
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
        if (!idp || !hp) return error(engine_errc::missing_payload, 28, "MM5 ID/HASH");
        auto hi = phase1_hash<B>(s.info, s.keys.skeyid, true, bytes_view(s.gx_i.data(), s.gx_n),
                                 bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                                 bytes_view(s.sai_b.data(), s.sai_n), idp->body);
        if (!hi) return hi.error();
        if (!crypto::constant_time_equal(hp->body, *hi))
            return error(engine_errc::authentication_failed, hp->body_offset(), "HASH_I");
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
    void initial_contact(sa_t& keep) noexcept {
        for (std::size_t i = 0; i < slots; ++i) {
            auto& o = tab[i];
            if (&o == &keep || o.st != p1_state::established) continue;
            if (o.peer == keep.peer) remove_sa(o, make_error_code(engine_errc::replaced));
        }
    }

    void established(sa_t& s, time_point now) noexcept {
        --n_half;
        ++n_est;
        s.st = p1_state::established;
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
            if (auto* old = get(*s.reauth_of); old && old != &s)
                old->close_at = std::min(old->close_at, now + cfg.rekey_overlap);
    }

    // ---- initiator: MM6 -----------------------------------------------------

    result<void> on_mm6(sa_t& s, mutable_bytes buf, time_point now) noexcept {
        auto o = open(s, buf, s.chain);
        if (!o) return garbled(o.error(), "MM6 (garbage after decryption: wrong pre-shared key?)");
        std::optional<payload> idp, hp;
        for (const auto& p : o->chain) {
            if (p.kind() == payload_type::id_v1 && !idp) idp = p;
            if (p.kind() == payload_type::hash && !hp) hp = p;
        }
        if (!idp || !hp) return error(engine_errc::missing_payload, 28, "MM6 ID/HASH");
        auto hr = phase1_hash<B>(s.info, s.keys.skeyid, false, bytes_view(s.gx_i.data(), s.gx_n),
                                 bytes_view(s.gx_r.data(), s.gx_n), s.cky_i, s.cky_r,
                                 bytes_view(s.sai_b.data(), s.sai_n), idp->body);
        if (!hr) return hr.error();
        if (!crypto::constant_time_equal(hp->body, *hr))
            return error(engine_errc::authentication_failed, hp->body_offset(), "HASH_R");
        if (n_est >= L::max_sas) return error(engine_errc::capacity, 0, "established SAs");
        s.chain = o->next;
        s.p1_last = s.chain;
        s.peer_id_n = u16(std::min(idp->body.size(), s.peer_id.size()));
        copy_to(s.peer_id, idp->body.first(s.peer_id_n));
        s.tx_n = 0;
        established(s, now);
        return start_quick_mode(s, params_of(s), 0, now);
    }

    // ---- Quick Mode ---------------------------------------------------------

    child_slot* free_child(sa_t& s) noexcept {
        for (auto& c : s.children)
            if (c.st == child_slot::state::free) return &c;
        return nullptr;
    }
    std::uint8_t child_index(const sa_t& s, const child_slot& c) const noexcept {
        return u8(static_cast<std::size_t>(&c - s.children.data()));
    }

    bool udp_encap(const sa_t& s) const noexcept { return s.natt != nat_t::none && s.nat.any(); }

    /// What a Quick Mode we start negotiates.
    struct qm_params {
        std::uint8_t protocol = 17;
        std::uint16_t local_port = 1701, remote_port = 1701;
        esp::mode mode = esp::mode::transport;
        std::optional<crypto::dh_id> pfs;
        transport::endpoint id_local, id_peer;
    };
    qm_params params_of(const sa_t& s) const noexcept {
        return {s.conn.protocol, s.conn.local_port, s.conn.remote_port,
                s.conn.mode,     s.conn.pfs,        s.conn.local,
                s.peer};
    }
    /// To rekey `c`: the same selectors; our IDs name our address and the
    /// peer's original one (NAT-OA) when we know it.
    qm_params params_of(const sa_t& s, const child_slot& c) const noexcept {
        if (s.initiator) {
            auto p = params_of(s);
            p.protocol = c.protocol;
            p.local_port = c.local_port;
            p.remote_port = c.remote_port;
            p.mode = c.mode;
            return p;
        }
        qm_params p{c.protocol, c.local_port, c.remote_port, c.mode, c.pfs, s.local, s.peer};
        p.id_local.port = 0;
        if (c.nat_oa_peer) p.id_peer = *c.nat_oa_peer;
        return p;
    }

    /// QM1 (`replaces`: the inbound SPI of the SA this one rekeys, else 0).
    result<void> start_quick_mode(sa_t& s, const qm_params& qp, std::uint32_t replaces,
                                  time_point now) noexcept {
        auto* cp = free_child(s);
        if (!cp) return error(engine_errc::capacity, 0, "child SA slots");
        auto& c = *cp;
        child_slot fresh;
        fresh.initiator = true;
        fresh.replaces = replaces;
        fresh.protocol = qp.protocol;
        fresh.local_port = qp.local_port;
        fresh.remote_port = qp.remote_port;
        fresh.mode = qp.mode;
        fresh.id_local = qp.id_local;
        fresh.id_peer = qp.id_peer;
        fresh.pfs = qp.pfs;
        do {
            if (!random_int(fresh.mid)) return error(engine_errc::crypto_failure, 0, "message ID");
        } while (fresh.mid == 0);
        do {
            if (!random_int(fresh.spi_in)) return error(engine_errc::crypto_failure, 0, "SPI");
        } while (fresh.spi_in < 256);
        fresh.ni_n = 32;
        if (!random(mutable_bytes(fresh.ni.data(), 32)))
            return error(engine_errc::crypto_failure, 0, "nonce");
        const auto ci = child_index(s, c);
        if (fresh.pfs) {
            s.qm_kx[ci] = make_dh<B>(*fresh.pfs, rnd);
            if (!s.qm_kx[ci]) return error(engine_errc::crypto_failure, 0, "PFS key pair");
        }
        auto v = p2_iv(s, fresh.mid);
        if (!v) return v.error();
        fresh.chain = *v;
        c = fresh;
        header h = v1_header(s, exchange::quick_mode, c.mid);
        auto out = mutable_bytes(c.tx).subspan(marker, qm_capacity);
        message_builder b(out, h);
        b.begin(payload_type::hash);
        const std::size_t hash_at = b.out().size();
        b.out().fill(crypto::info(s.info.prf).output_size);
        b.end();
        b.begin(payload_type::sa_v1);
        v1::sa{doi_ipsec, sit_identity_only, {}, 0}.encode(b.out());
        sa_writer sw(b.out());
        std::array<std::byte, 4> spi{};
        store_be32(spi.data(), c.spi_in);
        sw.begin_proposal(1, static_cast<std::uint8_t>(protocol_id::esp), spi);
        std::uint8_t n = 1;
        const auto encap = encap_value(c.mode, udp_encap(s), s.natt);
        for (auto& p : p2)
            write_esp_transform(sw, b.out(), n++, p, encap,
                                static_cast<std::uint32_t>(cfg.phase2_lifetime.count()),
                                cfg.phase2_lifetime_kb, c.pfs);
        sw.finish();
        b.end();
        b.add(payload_type::nonce_v1, bytes_view(c.ni.data(), c.ni_n));
        if (c.pfs) b.add(payload_type::ke_v1, s.qm_kx[ci]->public_value());
        write_qm_ids(b, s, c);
        if (udp_encap(s) && c.mode == esp::mode::transport) {
            for (const auto* e : {&c.id_local, &c.id_peer}) {
                b.begin(nat_oa_type(s));
                b.out().u8(address_id_type(*e));
                b.out().fill(3);
                b.out().bytes(address_bytes(*e));
                b.end();
            }
        }
        auto sz = b.finish();
        if (!sz) return sz.error();
        auto plain = parse(bytes_view(out.data(), *sz));
        if (!plain) return plain.error();
        auto rest = after_first_hash(plain->data(), plain->payloads());
        if (!rest) return error(engine_errc::invalid_payload, 0, "QM1 hash");
        auto h1 = hash_a(s, c.mid, {}, *rest);
        if (!h1) return h1.error();
        copy_to(out.subspan(hash_at), h1->view());
        if (!seal(s, out, *sz, c.chain, c.tx_n)) return st.last_error;
        c.st = child_slot::state::i_qm1_sent;
        c.tries = 0;
        c.retx_at = retx_time(0, now);
        queue(s, u8(child_index(s, c) + 1u));
        return {};
    }

    void write_qm_ids(message_builder& b, const sa_t&, const child_slot& c) noexcept {
        b.begin(payload_type::id_v1);
        id{address_id_type(c.id_local), c.protocol, c.local_port, address_bytes(c.id_local)}.encode(
            b.out());
        b.end();
        b.begin(payload_type::id_v1);
        id{address_id_type(c.id_peer), c.protocol, c.remote_port, address_bytes(c.id_peer)}.encode(
            b.out());
        b.end();
    }

    /// Informational and Quick Mode messages of an established SA.
    result<void> on_established(sa_t& s, mutable_bytes buf, std::uint64_t fp,
                                const transport::endpoint& local, const transport::endpoint& peer,
                                time_point now) noexcept {
        auto hdr = decode_header(buf);
        if (!hdr) return hdr.error();
        if (!hdr->encrypted()) return error(ike::errc::not_encrypted, 19, "phase 2 message");
        if (hdr->message_id == 0) return error(engine_errc::wrong_state, 20, "phase 2 message ID");
        (void)local;
        (void)peer;
        if (hdr->exchange_type == exchange::informational_v1)
            return on_informational(s, buf, hdr->message_id, now);
        if (hdr->exchange_type != exchange::quick_mode)
            return error(engine_errc::wrong_state, 18, "exchange type");
        for (auto& c : s.children) {
            if (c.st == child_slot::state::free || c.mid != hdr->message_id) continue;
            if (c.rx_fp == fp) {  // retransmitted peer message: resend our answer
                ++st.duplicates;
                if (c.tx_n && (c.st == child_slot::state::installed ? c.initiator : true))
                    queue(s, u8(child_index(s, c) + 1u));
                return {};
            }
            if (c.st == child_slot::state::i_qm1_sent) return on_qm2(s, c, buf, fp, now);
            if (c.st == child_slot::state::r_qm2_sent) return on_qm3(s, c, buf, fp, now);
            return error(engine_errc::wrong_state, 20, "Quick Mode message ID");
        }
        return on_qm1(s, buf, fp, now);
    }

    /// A decrypted Quick Mode message whose HASH(1)/HASH(2) is checked.
    struct qm_view {
        payload_range chain;
        iv next;
        std::optional<payload> sap, nonce, ke, idci, idcr, oai, oar;
    };
    result<qm_view> open_qm(sa_t& s, mutable_bytes buf, const iv& chain, std::uint32_t mid,
                            bytes_view ni) noexcept {
        auto o = open(s, buf, chain);
        if (!o) return o.error();
        auto rest = after_first_hash(buf, o->chain);
        if (!rest) return error(engine_errc::missing_payload, 28, "Quick Mode HASH");
        payload hp = *o->chain.begin();
        auto h = ni.empty() ? hash_a(s, mid, {}, *rest) : hash_a(s, mid, ni, *rest);
        if (!h) return h.error();
        if (!crypto::constant_time_equal(hp.body, *h))
            return error(engine_errc::authentication_failed, hp.body_offset(),
                         ni.empty() ? "Quick Mode HASH(1)" : "Quick Mode HASH(2)");
        qm_view q{o->chain, o->next, {}, {}, {}, {}, {}, {}, {}};
        for (const auto& p : o->chain) {
            switch (p.kind()) {
                case payload_type::sa_v1:
                    if (!q.sap) q.sap = p;
                    break;
                case payload_type::nonce_v1:
                    if (!q.nonce) q.nonce = p;
                    break;
                case payload_type::ke_v1:
                    if (!q.ke) q.ke = p;
                    break;
                case payload_type::id_v1:
                    if (!q.idci)
                        q.idci = p;
                    else if (!q.idcr)
                        q.idcr = p;
                    break;
                case payload_type::nat_oa:
                case payload_type::nat_oa_draft:
                    if (!q.oai)
                        q.oai = p;
                    else if (!q.oar)
                        q.oar = p;
                    break;
                default:
                    break;
            }
        }
        if (!q.sap || !q.nonce)
            return error(engine_errc::missing_payload, 28, "Quick Mode SA/Nonce");
        if (q.nonce->body.size() < 8 || q.nonce->body.size() > 256)
            return error(engine_errc::invalid_payload, q.nonce->body_offset(), "Nonce size");
        if (q.idci && !q.idcr) return error(engine_errc::missing_payload, 28, "IDcr");
        return q;
    }

    // ---- responder: QM1 -> QM2 ---------------------------------------------

    result<void> on_qm1(sa_t& s, mutable_bytes buf, std::uint64_t fp, time_point now) noexcept {
        auto* cp = free_child(s);
        if (!cp) return error(engine_errc::capacity, 0, "child SA slots");
        const std::uint32_t mid = load_be32(buf.data() + 20);
        auto v = p2_iv(s, mid);
        if (!v) return v.error();
        auto q = open_qm(s, buf, *v, mid, {});
        if (!q) return q.error();
        auto sav = v1::sa::parse(*q->sap);
        if (!sav) return sav.error();
        // Choose: our order, over every single-protocol ESP proposal.
        std::optional<payload> chosen_t;
        std::optional<proposal> chosen_p;
        esp_proposal chosen{};
        esp_attrs attrs{};
        for (auto& want : p2) {
            for (const auto& pp : sav->proposals()) {
                auto pr = proposal::parse(pp);
                if (!pr || pr->protocol != static_cast<std::uint8_t>(protocol_id::esp) ||
                    pr->spi.size() != 4)
                    continue;
                for (const auto& tp : pr->transforms()) {
                    auto t = transform_v1::parse(tp);
                    if (!t) continue;
                    auto a = read_esp(*t);
                    if (a.group) {  // PFS: a group we know and allow, with a KE
                        const auto g = crypto::dh_id{a.group};
                        if (!crypto::known(g) || !q->ke ||
                            q->ke->body.size() != crypto::info(g).public_size ||
                            (g == crypto::dh_id::modp1024 && !cfg.allow_weak))
                            continue;
                    }
                    if (matches(want, t->id, a)) {
                        chosen_t = tp;
                        chosen_p = *pr;
                        chosen = want;
                        attrs = a;
                        break;
                    }
                }
                if (chosen_t) break;
            }
            if (chosen_t) break;
        }
        if (!chosen_t) {
            ++st.no_proposal;
            return error(engine_errc::no_proposal_chosen, q->sap->body_offset(), "Quick Mode SA");
        }
        child_slot c;
        c.initiator = false;
        c.mid = mid;
        c.chain = q->next;
        c.ni_n = u16(q->nonce->body.size());
        copy_to(c.ni, q->nonce->body);
        c.nr_n = 32;
        if (!random(mutable_bytes(c.nr.data(), 32)))
            return error(engine_errc::crypto_failure, 0, "nonce");
        do {
            if (!random_int(c.spi_in)) return error(engine_errc::crypto_failure, 0, "SPI");
        } while (c.spi_in < 256);
        c.spi_out = load_be32(chosen_p->spi.data());
        std::optional<typename B::key_exchange> qkx;
        if (attrs.group) {
            c.pfs = crypto::dh_id{attrs.group};
            qkx = make_dh<B>(*c.pfs, rnd);
            if (!qkx) return error(engine_errc::crypto_failure, 0, "PFS key pair");
            auto n = qkx->agree(q->ke->body, c.gxy);
            if (!n) return error(engine_errc::invalid_payload, q->ke->body_offset(), "PFS KE");
            c.gxy_n = u16(*n);
        }
        c.suite = chosen.suite;
        c.encap = attrs.encap ? attrs.encap : 1;
        c.mode = encap_is_tunnel(c.encap) ? esp::mode::tunnel : esp::mode::transport;
        const auto ours = static_cast<std::uint32_t>(cfg.phase2_lifetime.count());
        c.life_s = attrs.life_s && attrs.life_s < ours ? attrs.life_s : ours;
        c.life_kb = attrs.life_kb;
        if (cfg.phase2_lifetime_kb && (!c.life_kb || cfg.phase2_lifetime_kb < c.life_kb))
            c.life_kb = cfg.phase2_lifetime_kb;
        if (q->idci) {
            auto i = id::parse(*q->idci);
            auto r = id::parse(*q->idcr);
            if (!i) return i.error();
            if (!r) return r.error();
            c.protocol = i->protocol;
            c.remote_port = i->port;
            c.local_port = r->port;
        }
        if (q->oai) {
            auto oa = nat_oa::parse(*q->oai);
            if (oa) c.nat_oa_peer = endpoint_of(oa->type, oa->address);
        }
        // QM2: HASH(2), SA (the chosen transform, our SPI), Nonce, IDs echoed.
        header h = v1_header(s, exchange::quick_mode, mid);
        auto out = mutable_bytes(cp->tx).subspan(marker, qm_capacity);
        message_builder b(out, h);
        b.begin(payload_type::hash);
        const std::size_t hash_at = b.out().size();
        const std::size_t hash_n = q->chain.begin()->body.size();
        b.out().fill(hash_n);
        b.end();
        b.begin(payload_type::sa_v1);
        v1::sa{doi_ipsec, sit_identity_only, {}, 0}.encode(b.out());
        auto& w = b.out();
        const std::size_t prop_at = w.size();
        w.u8(0);
        w.u8(0);
        w.u16(0);
        w.u8(chosen_p->number);
        w.u8(static_cast<std::uint8_t>(protocol_id::esp));
        w.u8(4);
        w.u8(1);
        w.u32(c.spi_in);
        copy_transform(w, *chosen_t);
        w.patch_u16(prop_at + 2, u16(w.size() - prop_at));
        b.end();
        b.add(payload_type::nonce_v1, bytes_view(c.nr.data(), c.nr_n));
        if (qkx) b.add(payload_type::ke_v1, qkx->public_value());
        if (q->idci) {
            b.add(payload_type::id_v1, q->idci->body);
            b.add(payload_type::id_v1, q->idcr->body);
        }
        auto sz = b.finish();
        if (!sz) return sz.error();
        auto plain = parse(bytes_view(out.data(), *sz));
        if (!plain) return plain.error();
        auto rest = after_first_hash(plain->data(), plain->payloads());
        if (!rest) return error(engine_errc::invalid_payload, 0, "QM2 hash");
        auto h2 = hash_a(s, mid, bytes_view(c.ni.data(), c.ni_n), *rest);
        if (!h2) return h2.error();
        copy_to(out.subspan(hash_at), h2->view().first(std::min(hash_n, h2->size)));
        std::uint16_t tx_n = 0;
        if (!seal(s, out, *sz, c.chain, tx_n)) return st.last_error;
        c.tx = cp->tx;
        c.tx_n = tx_n;
        c.st = child_slot::state::r_qm2_sent;
        c.rx_fp = fp;
        c.tries = 0;
        c.retx_at = retx_time(0, now);
        *cp = c;
        queue(s, u8(child_index(s, *cp) + 1u));
        return {};
    }

    // ---- initiator: QM2 -> QM3 ---------------------------------------------

    result<void> on_qm2(sa_t& s, child_slot& c, mutable_bytes buf, std::uint64_t fp,
                        time_point now) noexcept {
        auto q = open_qm(s, buf, c.chain, c.mid, bytes_view(c.ni.data(), c.ni_n));
        if (!q) return q.error();
        auto sav = v1::sa::parse(*q->sap);
        if (!sav) return sav.error();
        std::optional<esp_proposal> chosen;
        esp_attrs attrs{};
        std::uint32_t spi_out = 0;
        std::size_t np = 0;
        for (const auto& pp : sav->proposals()) {
            ++np;
            auto pr = proposal::parse(pp);
            if (!pr || pr->protocol != static_cast<std::uint8_t>(protocol_id::esp) ||
                pr->spi.size() != 4 || pr->transform_count != 1)
                return error(engine_errc::no_proposal_chosen, pp.offset, "QM2 proposal");
            spi_out = load_be32(pr->spi.data());
            for (const auto& tp : pr->transforms()) {
                auto t = transform_v1::parse(tp);
                if (!t) return t.error();
                auto a = read_esp(*t);
                for (auto& want : p2)
                    if (matches(want, t->id, a)) {
                        chosen = want;
                        attrs = a;
                        break;
                    }
            }
        }
        if (np != 1 || !chosen || spi_out < 256)
            return error(engine_errc::no_proposal_chosen, q->sap->body_offset(), "QM2 SA");
        auto h3 = hash3_a(s, c.mid, bytes_view(c.ni.data(), c.ni_n), q->nonce->body);
        if (!h3) return h3.error();
        const auto ci = child_index(s, c);
        if (c.pfs) {  // the responder must have answered with the group and a KE
            if (attrs.group != static_cast<std::uint16_t>(*c.pfs) || !q->ke || !s.qm_kx[ci])
                return error(engine_errc::no_proposal_chosen, q->sap->body_offset(),
                             "QM2 without the PFS group");
            auto n = s.qm_kx[ci]->agree(q->ke->body, c.gxy);
            if (!n) return error(engine_errc::invalid_payload, q->ke->body_offset(), "PFS KE");
            c.gxy_n = u16(*n);
            s.qm_kx[ci].reset();
        } else if (attrs.group) {
            return error(engine_errc::no_proposal_chosen, q->sap->body_offset(),
                         "QM2 with a PFS group we did not offer");
        }
        // Commit.
        c.chain = q->next;
        c.nr_n = u16(q->nonce->body.size());
        copy_to(c.nr, q->nonce->body);
        c.spi_out = spi_out;
        c.suite = chosen->suite;
        c.encap = attrs.encap ? attrs.encap : 1;
        c.mode = encap_is_tunnel(c.encap) ? esp::mode::tunnel : esp::mode::transport;
        const auto ours = static_cast<std::uint32_t>(cfg.phase2_lifetime.count());
        c.life_s = attrs.life_s && attrs.life_s < ours ? attrs.life_s : ours;
        c.life_kb = attrs.life_kb ? attrs.life_kb : cfg.phase2_lifetime_kb;
        if (q->oar) {
            auto oa = nat_oa::parse(*q->oar);
            if (oa) c.nat_oa_peer = endpoint_of(oa->type, oa->address);
        }
        header h = v1_header(s, exchange::quick_mode, c.mid);
        auto out = mutable_bytes(c.tx).subspan(marker, qm_capacity);
        message_builder b(out, h);
        b.add(payload_type::hash, *h3);
        auto sz = b.finish();
        if (!sz) return sz.error();
        if (!seal(s, out, *sz, c.chain, c.tx_n)) return st.last_error;
        c.rx_fp = fp;
        queue(s, u8(child_index(s, c) + 1u));
        return install(s, c, now);
    }

    // ---- responder: QM3 -----------------------------------------------------

    result<void> on_qm3(sa_t& s, child_slot& c, mutable_bytes buf, std::uint64_t fp,
                        time_point now) noexcept {
        auto o = open(s, buf, c.chain);
        if (!o) return o.error();
        std::optional<payload> hp;
        for (const auto& p : o->chain)
            if (!hp && p.kind() == payload_type::hash) hp = p;
        if (!hp) return error(engine_errc::missing_payload, 28, "QM3 HASH");
        auto h3 =
            hash3_a(s, c.mid, bytes_view(c.ni.data(), c.ni_n), bytes_view(c.nr.data(), c.nr_n));
        if (!h3) return h3.error();
        if (!crypto::constant_time_equal(hp->body, *h3))
            return error(engine_errc::authentication_failed, hp->body_offset(),
                         "Quick Mode HASH(3)");
        c.chain = o->next;
        c.rx_fp = fp;
        c.tx_n = 0;
        return install(s, c, now);
    }

    /// KEYMAT for both directions; child_up.
    result<void> install(sa_t& s, child_slot& c, time_point now) noexcept {
        event e;
        e.kind = event_kind::child_up;
        e.ike = handle(index_of(s));
        e.peer = s.peer;
        auto& ch = e.child;
        ch.ike = e.ike;
        ch.local = s.local;
        ch.peer = s.peer;
        ch.udp_encap = encap_is_udp(c.encap);
        ch.nat = s.nat;
        ch.suite = c.suite;
        if (cfg.sha256_96_compat && ch.suite.integ == esp::integrity::hmac_sha2_256_128)
            ch.suite.integ = esp::integrity::hmac_sha2_256_96;  // Android 6/7
        ch.mode = encap_is_tunnel(c.encap) ? esp::mode::tunnel : esp::mode::transport;
        ch.spi_in = c.spi_in;
        ch.spi_out = c.spi_out;
        ch.protocol = c.protocol;
        ch.local_port = c.local_port;
        ch.remote_port = c.remote_port;
        ch.lifetime = std::chrono::seconds(c.life_s);
        ch.lifetime_kb = c.life_kb;
        ch.nat_oa_peer = c.nat_oa_peer;
        const std::size_t ek = c.suite.enc_keymat_size(),
                          ik = esp::integrity_key_size(c.suite.integ);
        std::array<std::byte, child_sa::max_enc_key + child_sa::max_integ_key> km{};
        auto ni = bytes_view(c.ni.data(), c.ni_n), nr = bytes_view(c.nr.data(), c.nr_n);
        for (int dir = 0; dir < 2; ++dir) {
            const std::uint32_t spi = dir == 0 ? c.spi_in : c.spi_out;
            auto r =
                keymat<B>(s.info, s.keys.d, static_cast<std::uint8_t>(protocol_id::esp), spi, ni,
                          nr, mutable_bytes(km.data(), ek + ik), bytes_view(c.gxy.data(), c.gxy_n));
            if (!r) return r.error();
            auto& enc = dir == 0 ? ch.enc_in : ch.enc_out;
            auto& integ = dir == 0 ? ch.integ_in : ch.integ_out;
            copy_to(enc, bytes_view(km.data(), ek));
            copy_to(integ, bytes_view(km.data() + ek, ik));
        }
        crypto::secure_zero(km);
        crypto::secure_zero(mutable_bytes(c.gxy));
        c.gxy_n = 0;
        // Which SA this one replaces: the one we rekeyed, or (peer rekey,
        // re-authentication) the live one with the same peer and selectors.
        child_slot* old = nullptr;
        sa_t* old_sa = nullptr;
        for (std::size_t i = 0; i < slots && !old; ++i) {
            auto& o = tab[i];
            if (o.st != p1_state::established || !(o.peer == s.peer)) continue;
            for (auto& oc : o.children) {
                if (&oc == &c || oc.st != child_slot::state::installed || oc.rekeyed) continue;
                const bool same = c.replaces ? oc.spi_in == c.replaces
                                             : oc.protocol == c.protocol &&
                                                   oc.local_port == c.local_port &&
                                                   oc.remote_port == c.remote_port;
                if (same) {
                    old = &oc;
                    old_sa = &o;
                    break;
                }
            }
        }
        if (old) {
            e.old_spi_in = old->spi_in;
            old->rekeyed = true;
            old->soft_at = never;
            old->hard_at = std::min(old->hard_at, now + cfg.rekey_overlap);
            ++st.rekeys;
            // A re-authentication replaced the old IKE SA: Delete it after the overlap.
            if (old_sa != &s && s.reauth_of && *s.reauth_of == handle(index_of(*old_sa)))
                old_sa->close_at = now + cfg.rekey_overlap;
        }
        c.st = child_slot::state::installed;
        c.retx_at = never;
        c.installed_at = now;
        c.hard_at = now + std::chrono::seconds(c.life_s);
        c.soft_at = soft_time(now, std::chrono::seconds(c.life_s), c.initiator || s.initiator);
        c.bytes = 0;
        crypto::secure_zero(mutable_bytes(c.ni));
        ++st.children_installed;
        push_event(std::move(e));
        return {};
    }

    /// Phase 2 IV, hash(last phase 1 block | M-ID), with the SA's own context
    /// (no allocation).
    result<iv> p2_iv(sa_t& s, std::uint32_t mid) noexcept {
        std::array<std::byte, 4> m{};
        store_be32(m.data(), mid);
        std::array<std::byte, 64> d{};
        s.ivh->update(s.p1_last.view());
        s.ivh->update(m);
        s.ivh->final(mutable_bytes(d.data(), s.ivh->output_size()));
        iv out;
        out.size = s.info.block_size;
        copy_to(out.bytes, bytes_view(d.data(), out.size));
        return out;
    }
    /// prf(SKEYID_a, M-ID | [Ni_b |] rest): Quick Mode HASH(1)/HASH(2), Informational HASH.
    result<key> hash_a(sa_t& s, std::uint32_t mid, bytes_view ni, bytes_view rest) noexcept {
        std::array<std::byte, 4> m{};
        store_be32(m.data(), mid);
        key out;
        out.size = s.prf_a->output_size();
        s.prf_a->update(m);
        s.prf_a->update(ni);
        s.prf_a->update(rest);
        s.prf_a->final(mutable_bytes(out.bytes.data(), out.size));
        return out;
    }
    /// HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
    result<key> hash3_a(sa_t& s, std::uint32_t mid, bytes_view ni, bytes_view nr) noexcept {
        std::array<std::byte, 5> m{};
        store_be32(m.data() + 1, mid);
        key out;
        out.size = s.prf_a->output_size();
        s.prf_a->update(m);
        s.prf_a->update(ni);
        s.prf_a->update(nr);
        s.prf_a->final(mutable_bytes(out.bytes.data(), out.size));
        return out;
    }

    /// When to rekey something that lives `life` from `now`: at rekey_margin
    /// of it less a random jitter; the side that did not start the exchange
    /// waits half of the remaining margin longer, so that both rarely collide.
    time_point soft_time(time_point now, std::chrono::seconds life, bool first) noexcept {
        double f = first ? cfg.rekey_margin : cfg.rekey_margin + (1.0 - cfg.rekey_margin) / 2;
        std::uint32_t r = 0;
        (void)random_int(r);
        f -= cfg.rekey_jitter * (static_cast<double>(r) / 4294967296.0);
        auto ms = static_cast<std::int64_t>(static_cast<double>(life.count()) * 1000.0 * f);
        return now + std::chrono::milliseconds(ms);
    }

    // ---- informational ------------------------------------------------------

    result<void> on_informational(sa_t& s, mutable_bytes buf, std::uint32_t mid,
                                  time_point now) noexcept {
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
            return error(engine_errc::authentication_failed, hp.body_offset(),
                         "Informational HASH");
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
    void on_error_notify(sa_t& s, const notification& n) noexcept {
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
            e.reason = make_error_code(engine_errc::notified);
            push_event(std::move(e));
        }
    }
    /// DPD (RFC 3706): answer R-U-THERE, take R-U-THERE-ACK.
    void on_status_notify(sa_t& s, const notification& n, std::uint32_t, time_point now) noexcept {
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

    bool dpd_on(const sa_t& s) const noexcept {
        return s.st == p1_state::established && s.peer_dpd && cfg.dpd_interval.count() > 0;
    }
    void send_dpd(sa_t& s, time_point now) noexcept {
        if (s.dpd_deadline == never) {
            ++s.dpd_seq;
            s.dpd_deadline = now + cfg.dpd_timeout;
            s.dpd_tries = 0;
        }
        std::array<std::byte, 4> d{};
        store_be32(d.data(), s.dpd_seq);
        auto ck = cookies(s);
        send_informational(s, payload_type::notification, [&](writer& w) {
            notification{doi_ipsec, 1, static_cast<std::uint16_t>(notify_type::v1_dpd_r_u_there),
                         ck, d}
                .encode(w);
        });
        ++st.dpd_sent;
        s.dpd_resend_at = retx_time(++s.dpd_tries, now);
    }

    /// A protected Informational exchange with one payload built by `body`.
    template <class Body>
    void send_informational(sa_t& s, payload_type type, Body&& body) noexcept {
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
    void send_deletes(sa_t& s) noexcept {
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

    void close(sa_handle hd, time_point now) noexcept {
        auto* s = get(hd);
        if (!s) return;
        (void)now;
        send_deletes(*s);
        remove_sa(*s, make_error_code(engine_errc::closed));
    }
    void close_all(time_point now) noexcept {
        for (std::size_t i = 0; i < slots; ++i)
            if (tab[i].st != p1_state::free) close(handle(i), now);
    }

    // ---- timers -------------------------------------------------------------

    void tick(time_point now) noexcept {
        for (std::size_t i = 0; i < slots; ++i) {
            auto& s = tab[i];
            if (s.st == p1_state::free) continue;
            if (half_open(s.st) && now - s.created >= cfg.half_open_timeout) {
                remove_sa(s, make_error_code(engine_errc::timeout));
                continue;
            }
            if (s.retx_at <= now) {
                if (s.tries + 1 >= cfg.retransmit_tries) {
                    remove_sa(s, make_error_code(engine_errc::timeout));
                    continue;
                }
                ++s.tries;
                ++st.retransmits;
                s.retx_at = retx_time(s.tries, now);
                queue(s, 0);
            }
            if (s.st != p1_state::established) continue;
            if (s.expires_at <= now) {  // hard lifetime: tell the peer, then forget
                send_deletes(s);
                remove_sa(s, make_error_code(engine_errc::expired));
                continue;
            }
            if (s.close_at <= now) {  // replaced by a re-authentication
                close(handle(i), now);
                continue;
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
                    continue;
                }
                if (s.dpd_deadline == never ? now - s.last_rx >= cfg.dpd_interval
                                            : now >= s.dpd_resend_at)
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
                    child_down(
                        s, c,
                        make_error_code(c.rekeyed ? engine_errc::replaced : engine_errc::expired));
                    continue;
                }
                if (c.soft_at <= now && !c.rekeyed) {
                    c.soft_at = never;
                    (void)start_quick_mode(s, params_of(s, c), c.spi_in, now);
                }
            }
        }
    }

    std::optional<time_point> next_deadline() const noexcept {
        time_point t = never;
        for (std::size_t i = 0; i < slots; ++i) {
            const auto& s = tab[i];
            if (s.st == p1_state::free) continue;
            if (half_open(s.st)) t = std::min(t, s.created + cfg.half_open_timeout);
            t = std::min(t, s.retx_at);
            if (s.st != p1_state::established) continue;
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
        }
        if (t == never) return std::nullopt;
        return t;
    }

    void note_esp_traffic(std::uint32_t spi_in, std::size_t bytes, time_point now) noexcept {
        for (std::size_t i = 0; i < slots; ++i) {
            auto& s = tab[i];
            if (s.st != p1_state::established) continue;
            for (auto& c : s.children)
                if (c.st == child_slot::state::installed && c.spi_in == spi_in) {
                    c.bytes += bytes;
                    s.last_rx = now;
                    if (!c.life_kb) return;
                    const auto kb = c.bytes / 1024;
                    if (kb >= c.life_kb) {
                        child_down(s, c, make_error_code(engine_errc::expired));
                    } else if (!c.rekeyed && c.soft_at != never &&
                               static_cast<double>(kb) >=
                                   static_cast<double>(c.life_kb) * cfg.rekey_margin) {
                        c.soft_at = now;  // tick() rekeys
                    }
                    return;
                }
        }
    }
};

}  // namespace l2sec::ike::v1::detail
