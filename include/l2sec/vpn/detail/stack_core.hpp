// The part of L2TP/IPsec that the server and the client share: per-peer ESP
// SA pairs, the L2TP engine (LNS or LAC) whose tunnels are keyed by the IKE
// peer's outer endpoint (never by the inner port 1701, so clients behind one
// NAT stay apart), one PPP link per session, and the in-place datapath:
//
//   TUN packet -> [PPP 4][L2TP 6][UDP 8] written before it -> ESP protect in place
//   ESP in place -> UDP 1701 -> L2TP data -> PPP -> the IP packet, a span of the same buffer
//
// No I/O. Control traffic (L2TP messages, PPP negotiation) queues inside the
// engines and leaves through poll(). Fixed capacity, heap-allocate it once.
// The control plane's bodies are in vpn/detail/impl/stack_core.hpp.
#pragma once

#include <l2sec/crypto/concepts.hpp>
#include <l2sec/esp/sa.hpp>
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/ppp/credentials.hpp>
#include <l2sec/ppp/engine/link.hpp>
#include <l2sec/vpn/address_pool.hpp>
#include <l2sec/vpn/detail/flat_index.hpp>
#include <l2sec/vpn/error.hpp>
#include <l2sec/vpn/l2tp_carrier.hpp>
#include <l2sec/vpn/packets.hpp>
#include <l2sec/vpn/report.hpp>

#include <array>
#include <cstring>
#include <optional>
#include <span>

namespace l2sec::vpn::detail {

/// A peer's endpoint as an index key: exact for IPv4, a hash checked against
/// the slot for IPv6.
constexpr std::uint64_t endpoint_key(const transport::endpoint& e) noexcept {
    if (e.family == transport::endpoint::family_t::v4)
        return (std::uint64_t{1} << 63) | (std::uint64_t{e.v4_host_order()} << 16) | e.port;
    return e.hash() & ~(std::uint64_t{1} << 63);
}

template <class Crypto, class Random, class Credentials, std::size_t MaxPeers,
          std::size_t MaxSessions, std::size_t PoolCapacity>
class stack_core {
  public:
    using rng_ref = crypto::random_ref<Random>;
    // One tunnel per peer, plus room for a reconnect while the old tunnel closes.
    using l2tp_limits = l2tp::limits<MaxPeers + MaxPeers / 4 + 1, MaxSessions>;
    using l2tp_type = l2tp::engine<Crypto, l2tp_limits, rng_ref>;
    using link_type = ppp::link_engine<Crypto, rng_ref, Credentials>;
    using esp_type = esp::sa<Crypto>;

    struct config {
        bool server = true;
        l2tp::engine_config l2tp{};
        ppp::link_config
            link{};  ///< template for each session's link (server: peer_ip from the pool)
        /// How long a new session's PPP link waits for the peer's first frame
        /// before it sends its own LCP Configure-Request. The real Linux stack
        /// (xl2tpd + pppd, either role) attaches pppd to the kernel session
        /// 100-250 ms after ICCN (up to ~1 s loaded) and drops what arrives
        /// before ("tty is not open yet"); a Configure-Request sent at ICCN is
        /// lost and costs the 3 s restart timer. The peer's first LCP frame
        /// proves it listens: the link starts on it at once, or after this.
        duration first_frame_wait = std::chrono::seconds(1);
        /// warm_esp does nothing below this many peers (see
        /// vpn::server_config::warm_min_clients); 0: always.
        std::size_t warm_min_peers = 256;
    };

    // 64-aligned, what a packet reads first in one cache line: the endpoints,
    // the L2TP port and which inbound SA has the SPI. With 10,000 peers every
    // packet finds its slot cold; each further line read is another miss.
    struct alignas(64) peer_slot {
        bool used = false;
        bool udp_encap = false;
        /// in[] as the datapath reads it (bit k: in[k] is engaged; its SPI),
        /// kept by sync_in: on_esp picks the SA without reading the end of
        /// two 2 KB SA objects (std::optional's flag, the SPI).
        std::uint8_t in_live = 0;
        std::uint32_t generation = 0;
        transport::endpoint local{}, peer{};
        std::uint16_t inner_port = l2tp_port;  ///< the peer's L2TP port (server side)
        std::uint16_t tunnel = 0;
        std::uint16_t session = 0;  ///< of its last data message: what warm_esp loads
        std::array<std::uint32_t, 2> in_spi{};
        std::optional<esp_type> out;
        std::array<std::optional<esp_type>, 2> in;  ///< current, previous (rekey overlap)
    };

    stack_core(const config& c, Random& rng, Credentials* creds,
               std::optional<address_pool<PoolCapacity>> pool) noexcept
        : cfg_(c), rng_(rng), creds_(creds), pool_(std::move(pool)), l2tp_(c.l2tp, rng_ref(rng)) {
        for (std::size_t i = 0; i < MaxPeers; ++i)
            free_peers_[i] = static_cast<std::uint32_t>(MaxPeers - i);
        n_free_peers_ = MaxPeers;
    }
    stack_core(const stack_core&) = delete;
    stack_core& operator=(const stack_core&) = delete;

    const stack_stats& stats() const noexcept { return stats_; }
    l2tp_type& l2tp() noexcept { return l2tp_; }
    std::size_t peer_count() const noexcept { return MaxPeers - n_free_peers_; }
    std::size_t sessions_up() const noexcept { return sessions_up_; }
    const peer_slot* peer(peer_handle h) const noexcept {
        if (h.slot == 0 || h.slot > MaxPeers) return nullptr;
        const auto& p = peers_[h.slot - 1];
        return p.used && p.generation == h.generation ? &p : nullptr;
    }
    std::optional<peer_handle> find_peer(const transport::endpoint& e) const noexcept {
        auto i = peer_index_.find(endpoint_key(e));
        if (!i || !(peers_[*i].peer == e)) return std::nullopt;
        return peer_handle{*i + 1, peers_[*i].generation};
    }
    const link_type* link(std::uint16_t session) const noexcept {
        if (session == 0 || session > MaxSessions) return nullptr;
        auto& s = sessions_[session];
        return s.link ? &*s.link : nullptr;
    }

    // ---- SAs -------------------------------------------------------------

    /// Install an SA pair for p.peer (a new peer, or a rekey of a known one).
    /// Errors: capacity_exceeded (peers or SPIs), the esp::sa::make errors.
    result<peer_handle> install(const esp_pair& p) noexcept;

    /// Remove the inbound SA `spi_in` (expired or deleted). A peer left
    /// with no SA at all is removed too (its tunnel cannot be reached).
    void remove_sa(std::uint32_t spi_in, time_point now,
                   const error& why = error(errc::closed, 0, "ESP SA")) noexcept {
        auto i = spi_index_.find(spi_in);
        if (!i) return;
        auto& s = peers_[*i];
        for (std::size_t k = 0; k < 2; ++k)
            if (s.in[k] && s.in[k]->spi() == spi_in) drop_in(s, k);
        if (!s.in[0] && !s.in[1]) remove_peer({*i + 1, s.generation}, now, why);
    }

    /// Forget a peer: its tunnel is closed (StopCCN, while an SA still
    /// carries it) and its SAs are dropped.
    void remove_peer(peer_handle h, time_point now,
                     const error& why = error(errc::closed, 0, "peer")) noexcept {
        if (!peer(h)) return;
        auto& s = peers_[h.slot - 1];
        report r{};
        r.kind = report_kind::client_down;
        r.peer = h;
        r.endpoint = s.peer;
        r.tunnel = s.tunnel;
        r.reason = why;
        push(r);
        if (s.tunnel) (void)l2tp_.close_tunnel(s.tunnel, now);
        for (std::size_t k = 0; k < 2; ++k)
            if (s.in[k]) drop_in(s, k);
        s.out.reset();
        peer_index_.erase(endpoint_key(s.peer));
        if (s.tunnel && s.tunnel <= tunnel_peer_.size()) tunnel_peer_[s.tunnel - 1] = 0;
        s.used = false;
        s.tunnel = 0;
        s.session = 0;
        free_peers_[n_free_peers_++] = h.slot;
    }

    // ---- datapath ----------------------------------------------------------

    /// One ESP packet from `from` (UDP-encapsulated or raw), decrypted in
    /// place. Returns the IP packet it carried, if any. Errors: unknown_spi,
    /// the esp::sa errors (forged, replayed), not_l2tp, the L2TP and PPP
    /// decoders' errors; the state of every SA and engine is unchanged by a
    /// packet that fails authentication.
    result<delivered> on_esp(mutable_bytes pkt, time_point now) noexcept {
        if (pkt.size() < 8) return error(l2sec::errc::truncated, 0, "ESP header");
        std::uint32_t spi = load_be32(pkt.data());
        auto i = spi_index_.find(spi);
        if (!i) {
            ++stats_.dropped_unknown_spi;
            return error(errc::unknown_spi, 0, "SPI");
        }
        auto& s = peers_[*i];
        esp_type* sa = nullptr;
        for (std::size_t k = 0; k < 2; ++k)
            if ((s.in_live >> k & 1u) && s.in_spi[k] == spi) sa = &*s.in[k];
        if (!sa) return error(errc::unknown_spi, 0, "SPI");
        auto in = sa->unprotect(pkt);
        if (!in) {
            ++stats_.dropped_auth;
            return in.error();
        }
        ++stats_.esp_in;
        if (in->next_header != esp::proto::udp) {
            ++stats_.dropped_not_l2tp;
            return error(errc::not_l2tp, 0, "next header");
        }
        auto u = unwrap_udp(in->payload);
        if (!u) return u.error();
        if ((cfg_.server ? u->dst_port : u->src_port) != l2tp_port) {
            ++stats_.dropped_not_l2tp;
            return error(errc::not_l2tp, 0, "UDP port");
        }
        if (cfg_.server) s.inner_port = u->src_port;
        return on_l2tp(*i, u->data, now);
    }

    /// Before on_esp() of each packet of a receive batch: load what they
    /// will read (core/warm.hpp) in four passes over the batch, each reading
    /// only what the one before loaded (the SPI's index slot; the peer slot;
    /// the SA, the L2TP records and the session slot; the cipher's context
    /// and the PPP link), so that one pass's misses overlap one another instead
    /// of each following a cipher call. It visits the views
    /// esp::for_each_new_spi does (ESP, each train once); an unknown SPI is
    /// skipped. Changes nothing.
    void warm_esp(std::span<const bytes_view> batch) const noexcept {
        if (peer_count() < cfg_.warm_min_peers) return;
        for (unsigned pass = 0; pass < 4; ++pass)
            esp::for_each_new_spi(batch, [&](esp::header h) { warm_one(h.spi, h.seq, pass); });
    }

    /// Frame and protect an IP packet at buf[off, off + len) for `session`.
    /// Errors: session_down, no_sa, the esp::sa errors (headroom, tailroom).
    result<outbound> send_ip(std::uint16_t session, mutable_bytes buf, std::size_t off,
                             std::size_t len) noexcept {
        if (session == 0 || session > MaxSessions || !sessions_[session].up)
            return error(errc::session_down, 0, "session");
        auto* ls = l2tp_.find_session(session);
        if (!ls) return error(errc::session_down, 0, "L2TP session");
        auto* t = l2tp_.find_tunnel(ls->tunnel);
        std::uint32_t pi = ls->tunnel <= tunnel_peer_.size() ? tunnel_peer_[ls->tunnel - 1] : 0;
        if (!t || pi == 0) return error(errc::no_sa, 0, "tunnel peer");
        bool v6 = len > 0 && (std::to_integer<unsigned>(buf[off]) >> 4) == 6;
        if (off < 4 + 6) return error(l2sec::errc::buffer_too_small, 0, "headroom");
        std::byte* p = buf.data() + off - 4;
        p[0] = std::byte{0xff};
        p[1] = std::byte{0x03};
        store_be16(p + 2, v6 ? 0x0057 : 0x0021);
        std::size_t l2tp_off;
        auto& ss = sessions_[session];
        if (ss.has_template && !ls->sequencing && ls->state == l2tp::session_state::established) {
            // The established call's data header, precomputed at session_up: copied in place.
            l2tp_off = off - 4 - 6;
            std::memcpy(buf.data() + l2tp_off, ss.l2tp_template.data(), ss.l2tp_template.size());
        } else if (!ls->sequencing) {
            l2tp_off = off - 4 - 6;
            auto h = l2tp::data_header(t->peer_id, ls->peer_id);
            if (auto n = l2tp::write_data_header(buf.subspan(l2tp_off, 6), h, len + 4); !n)
                return n.error();
        } else {
            // Sequenced data (rare: no built-in client asks) goes through the
            // engine, which owns Ns: one copy.
            auto o = l2tp_.encode_data(session, bytes_view(p, len + 4), frame_buf_);
            if (!o) return o.error();
            if (o->size > off + len) return error(l2sec::errc::buffer_too_small, 0, "headroom");
            l2tp_off = off + len - o->size;
            std::memmove(buf.data() + l2tp_off, frame_buf_.data(), o->size);
        }
        ++stats_.ip_out;
        stats_.bytes_out += len;
        return seal(pi - 1, buf, l2tp_off, off + len - l2tp_off);
    }

    /// The IP packet for the session whose pool address is `dst` (server).
    std::uint16_t session_for(std::uint32_t dst) const noexcept {
        if (!pool_ || !pool_->contains(dst)) return 0;
        return ip_session_[pool_->index_of(dst)];
    }

    // ---- control plane -----------------------------------------------------

    /// The next control datagram (L2TP control, PPP negotiation), protected
    /// into `scratch` (packet_buffer_size bytes).
    std::optional<outbound> poll(mutable_bytes scratch, time_point now) noexcept {
        // L2TP control first: a session's ICCN must reach the peer before its
        // first PPP frame, or the peer drops that frame and LCP waits a restart.
        while (auto o = l2tp_.poll_transmit(now, scratch.subspan(headroom, 1500))) {
            service_l2tp(now);
            auto pi = peer_of(o->to);
            if (!pi) continue;  // the peer is gone: the engine times the tunnel out
            if (auto r = seal(*pi, scratch, headroom, o->size)) return *r;
        }
        while (n_dirty_ > 0) {
            std::uint16_t sid = dirty_[dirty_head_];
            auto& s = sessions_[sid];
            std::optional<std::size_t> n;
            if (s.link) n = s.link->poll_transmit(frame_buf_);
            if (!n) {
                s.dirty = false;
                dirty_head_ = (dirty_head_ + 1) % dirty_.size();
                --n_dirty_;
                continue;
            }
            auto o = l2tp_.encode_data(sid, bytes_view(frame_buf_.data(), *n),
                                       scratch.subspan(headroom));
            if (!o) continue;
            auto pi = peer_of(o->to);
            if (!pi) continue;
            if (auto r = seal(*pi, scratch, headroom, o->size)) return *r;
        }
        service_l2tp(now);
        return std::nullopt;
    }

    void tick(time_point now) noexcept {
        if (stop_tunnels_at_ && (now >= *stop_tunnels_at_ || l2tp_.session_count() == 0))
            stop_tunnels(now);
        l2tp_.on_timer(now);
        service_l2tp(now);
        while (!timers_.empty() && timers_.top_deadline() <= now) {
            std::uint16_t sid = timers_.top();
            timers_.erase(sid);
            if (auto& s = sessions_[sid]; s.link) {
                if (s.started)
                    s.link->on_timer(now);
                else
                    begin_link(s, now);
                service(sid, now);
            }
        }
    }
    std::optional<time_point> next_deadline() const noexcept {
        auto d = l2tp_.deadline();
        if (stop_tunnels_at_ && (!d || *stop_tunnels_at_ < *d)) d = stop_tunnels_at_;
        if (!timers_.empty() && (!d || timers_.top_deadline() < *d)) d = timers_.top_deadline();
        return d;
    }

    std::optional<report> poll_report() noexcept {
        if (n_reports_ == 0) return std::nullopt;
        auto r = reports_[report_head_];
        report_head_ = (report_head_ + 1) % reports_.size();
        --n_reports_;
        return r;
    }
    void push(const report& r) noexcept {
        if (n_reports_ == reports_.size()) {
            ++stats_.reports_lost;
            return;
        }
        reports_[(report_head_ + n_reports_) % reports_.size()] = r;
        ++n_reports_;
    }

    /// Open an L2TP tunnel to a peer with SAs (the client's first step).
    result<std::uint16_t> open_tunnel(peer_handle h, time_point now) noexcept {
        if (!peer(h)) return error(errc::no_sa, 0, "peer");
        auto& s = peers_[h.slot - 1];
        auto t = l2tp_.open_tunnel(s.peer, now);
        if (!t) return t.error();
        s.tunnel = *t;
        tunnel_peer_[*t - 1] = h.slot;
        return *t;
    }

    /// Orderly teardown: LCP Terminate-Request on every link (each link that
    /// finishes hangs up its call with a CDN), then, once no session is left
    /// or after `grace`, StopCCN on every tunnel.
    void close_all(time_point now, duration grace = std::chrono::milliseconds(1500)) noexcept {
        for (std::uint16_t sid = 1; sid <= MaxSessions; ++sid)
            if (sessions_[sid].link) {
                sessions_[sid].link->close(now);
                service(sid, now);
            }
        stop_tunnels_at_ = now + grace;
        if (l2tp_.session_count() == 0) stop_tunnels(now);
    }
    bool quiet() const noexcept { return l2tp_.tunnel_count() == 0; }

  private:
    void stop_tunnels(time_point now) noexcept {
        stop_tunnels_at_.reset();
        for (std::uint32_t i = 0; i < MaxPeers; ++i)
            if (peers_[i].used && peers_[i].tunnel) (void)l2tp_.close_tunnel(peers_[i].tunnel, now);
        service_l2tp(now);
    }

    // 64-aligned, the small fields first: `started` and the head of the link
    // (its phase, LCP's flags and state) share the first cache line.
    struct alignas(64) session_slot {
        bool up = false, dirty = false;
        bool started = false;  ///< link->start() ran (see config::first_frame_wait)
        /// The L2TP data header of this established, unsequenced call (T=0, Ver 2,
        /// the peer's tunnel and session IDs): they do not change while it lasts.
        bool has_template = false;
        std::array<std::byte, 6> l2tp_template{};
        std::uint32_t ip = 0;
        time_point start_at{};  ///< when it starts if the peer stays silent
        std::optional<link_type> link;
    };

    // The link's first frame goes out now: on the peer's first frame or when
    // first_frame_wait has passed.
    void begin_link(session_slot& s, time_point now) noexcept {
        s.started = true;
        s.link->start(now);
    }

    result<delivered> on_l2tp(std::uint32_t pi, mutable_bytes l2tp_bytes, time_point now) noexcept {
        auto& s = peers_[pi];
        auto in = l2tp_.handle_datagram(s.peer, l2tp_bytes, now);
        if (!in) return in.error();
        // Bind the tunnel to the peer it came through. An entry whose peer
        // has moved on to another tunnel is stale: the L2TP engine can drop
        // a half-open tunnel without a tunnel_down event (its SCCRQ limits,
        // when many clients connect at once) and hand its id out again.
        if (in->tunnel && in->tunnel <= tunnel_peer_.size()) {
            auto& tp = tunnel_peer_[in->tunnel - 1];
            if (tp == 0 || (tp != pi + 1 && peers_[tp - 1].tunnel != in->tunnel)) {
                tp = pi + 1;
                s.tunnel = in->tunnel;
            }
        }
        // A data message queues no event: only look when there is one.
        if (!in->data || l2tp_.has_events()) service_l2tp(now);
        if (!in->data) return delivered{};
        auto sid = in->session;
        if (sid == 0 || sid > MaxSessions) return delivered{};
        if (s.session != sid) s.session = sid;
        auto& ss = sessions_[sid];
        // An IP frame on a started, opened link changes none of its state (no
        // event, no frame, the same deadline): the link's data fast path finds
        // the payload, and servicing the link per packet would only re-queue
        // the session for poll() and reset its timer. `started` implies a link
        // (end_link clears it), so this path does not read the optional's flag
        // at the end of the 20 KB link: one cache line fewer per packet.
        if (ss.started)
            if (auto ip = ss.link->data_payload(in->payload)) return deliver(sid, l2tp_bytes, *ip);
        if (!ss.link) return delivered{};
        const bool fresh = !ss.started;
        if (fresh) begin_link(ss, now);
        auto ip = ss.link->handle_frame(in->payload, now);
        if (fresh || !ip || !*ip) service(sid, now);
        if (!ip) return ip.error();
        if (!*ip) return delivered{};
        return deliver(sid, l2tp_bytes, **ip);
    }

    void warm_one(std::uint32_t spi, std::uint32_t seq, unsigned pass) const noexcept {
        if (pass == 0) return spi_index_.warm(spi);
        auto i = spi_index_.find(spi);
        if (!i) return;
        const auto& s = peers_[*i];
        if (pass == 1) return l2sec::warm(&s);
        const std::uint16_t sid = s.session <= MaxSessions ? s.session : 0;
        for (std::size_t k = 0; k < 2; ++k)
            if ((s.in_live >> k & 1u) && s.in_spi[k] == spi) s.in[k]->warm(seq, pass - 2);
        if (pass == 2) {
            l2tp_.warm_data(s.tunnel, sid);
            if (s.tunnel && s.tunnel <= tunnel_peer_.size())
                l2sec::warm(&tunnel_peer_[s.tunnel - 1]);
            if (sid) l2sec::warm(&sessions_[sid]);
        } else if (sid && sessions_[sid].started) {
            sessions_[sid].link->warm_data();
        }
    }

    delivered deliver(std::uint16_t sid, mutable_bytes l2tp_bytes, bytes_view ip) noexcept {
        if (ip.empty()) return delivered{};
        ++stats_.ip_in;
        stats_.bytes_in += ip.size();
        // The payload is a view into l2tp_bytes: hand it out as the mutable span it is.
        auto off = static_cast<std::size_t>(ip.data() - l2tp_bytes.data());
        delivered d;
        d.ip = l2tp_bytes.subspan(off, ip.size());
        d.ipv6 = (std::to_integer<unsigned>(d.ip[0]) >> 4) == 6;
        d.session = sid;
        return d;
    }

    result<outbound> seal(std::uint32_t pi, mutable_bytes buf, std::size_t off,
                          std::size_t len) noexcept {
        auto& s = peers_[pi];
        if (!s.out) return error(errc::no_sa, 0, "outbound SA");
        auto u = wrap_udp(buf, off, len, cfg_.server ? l2tp_port : l2tp_port,
                          cfg_.server ? s.inner_port : l2tp_port);
        if (!u) return u.error();
        auto pkt = s.out->protect(buf, *u, len + udp_header_size, esp::proto::udp);
        if (!pkt) return pkt.error();
        ++stats_.esp_out;
        return outbound{s.local, s.peer, !s.udp_encap, *pkt};
    }

    std::optional<std::uint32_t> peer_of(const transport::endpoint& e) const noexcept {
        auto h = find_peer(e);
        if (!h) return std::nullopt;
        return h->slot - 1;
    }

    void drop_in(peer_slot& s, std::size_t k) noexcept {
        spi_index_.erase(s.in[k]->spi());
        s.in[k].reset();
        sync_in(s);
    }
    // After every change of s.in: the copy on_esp reads.
    static void sync_in(peer_slot& s) noexcept {
        s.in_live = 0;
        for (std::size_t k = 0; k < 2; ++k) {
            s.in_spi[k] = s.in[k] ? s.in[k]->spi() : 0;
            if (s.in[k]) s.in_live = static_cast<std::uint8_t>(s.in_live | (1u << k));
        }
    }

    void mark(std::uint16_t sid) noexcept {
        auto& s = sessions_[sid];
        if (s.dirty) return;
        s.dirty = true;
        dirty_[(dirty_head_ + n_dirty_) % dirty_.size()] = sid;
        ++n_dirty_;
    }

    // After a link was fed or timed: its events, its frames, its next timer.
    void service(std::uint16_t sid, time_point now) noexcept;

    void fill_peer(report& r, std::uint16_t sid) const noexcept {
        if (auto* ls = l2tp_.find_session(sid)) {
            r.tunnel = ls->tunnel;
            if (ls->tunnel <= tunnel_peer_.size())
                if (std::uint32_t pi = tunnel_peer_[ls->tunnel - 1]) {
                    r.peer = {pi, peers_[pi - 1].generation};
                    r.endpoint = peers_[pi - 1].peer;
                }
        }
    }

    void service_l2tp(time_point now) noexcept;

    void start_link(std::uint16_t sid, report& r, time_point now) noexcept;

    void end_link(std::uint16_t sid, time_point now) noexcept;

    config cfg_;
    Random& rng_;
    Credentials* creds_;
    std::optional<address_pool<PoolCapacity>> pool_;
    l2tp_type l2tp_;
    std::array<peer_slot, MaxPeers> peers_{};
    std::array<std::uint32_t, MaxPeers> free_peers_{};
    std::size_t n_free_peers_ = 0;
    flat_index<MaxPeers> peer_index_;
    flat_index<MaxPeers * 2> spi_index_;
    std::array<std::uint32_t, l2tp_limits::tunnels> tunnel_peer_{};  ///< tunnel ID - 1 -> peer slot
    std::array<session_slot, MaxSessions + 1> sessions_{};
    std::array<std::uint16_t, PoolCapacity> ip_session_{};
    l2tp::deadline_heap<MaxSessions> timers_;
    std::array<std::uint16_t, MaxSessions> dirty_{};
    std::size_t dirty_head_ = 0, n_dirty_ = 0;
    std::uint16_t pending_close_ = 0;
    std::optional<time_point> stop_tunnels_at_;
    std::size_t sessions_up_ = 0;
    std::array<report, 256> reports_{};
    std::size_t report_head_ = 0, n_reports_ = 0;
    std::array<std::byte, 1504> frame_buf_{};
    stack_stats stats_{};
};

}  // namespace l2sec::vpn::detail

#include <l2sec/vpn/detail/impl/stack_core.hpp>
