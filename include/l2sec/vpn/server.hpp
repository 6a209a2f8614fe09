// The L2TP/IPsec server (the LNS side of RFC 3193), sans-I/O: an IKEv1
// responder, per-peer ESP SA pairs in transport mode (UDP-encapsulated on
// 4500 behind NAT, raw ESP otherwise), an L2TP LNS whose tunnels are bound
// to the IKE peer they came through, and one PPP link per session
// (PAP/CHAP-MD5/MS-CHAPv2, IPCP with an address from the pool and DNS).
//
//   auto srv = vpn::server<crypto::botan, users>::make(cfg, crypto::botan::random{},
//                                                      ike::v1::single_psk(psk), users);
//   // a datagram on UDP 500/4500:   auto d = (*srv)->receive(buf, local, peer, now);
//   // a raw ESP packet (proto 50):  auto d = (*srv)->receive_esp(buf, local, peer, now);
//   //   d->ip, when not empty, is an IP packet for the TUN device (a span of buf)
//   // an IP packet from the TUN at buf[headroom, headroom + n):
//   //   auto o = (*srv)->send_ip(buf, vpn::headroom, n, now);   // o->data: send it
//   // control traffic and timers:
//   //   while (auto o = (*srv)->poll(scratch, now)) send(*o);
//   //   (*srv)->tick(now); next wake-up: (*srv)->next_deadline();
//   //   while (auto r = (*srv)->poll_report()) log(*r);
//
// Several clients behind one NAT (same public address, different ports,
// all speaking to port 1701 inside) are kept apart by design: IKE SAs, ESP
// SAs and L2TP tunnels are all keyed by the peer's outer address and port.
// L2TP that arrives outside ESP is dropped (receive_plain_l2tp()).
#pragma once

#include <l2sec/ike/v1/engine.hpp>
#include <l2sec/vpn/detail/ike_glue.hpp>
#include <l2sec/vpn/detail/stack_core.hpp>
#include <l2sec/vpn/keylog.hpp>

#include <memory>

namespace l2sec::vpn {

struct server_config {
    ike::v1::config ike{};
    /// The PPP template of every session: set require (auth method),
    /// local_ip (the server's PPP address), dns1/dns2, mru. server = true is forced.
    ppp::link_config link{};
    std::uint32_t pool_first = 0, pool_last = 0;  ///< client addresses (host order)
    l2tp::engine_config l2tp{};                   ///< host name, hello interval, ...
    std::size_t max_clients = 0;                  ///< 0 = the type's capacity
    /// At most this many `dropped` reports per second (the rest are counted
    /// in drops() and in the next report's `suppressed`); 0 = none.
    unsigned drop_reports_per_second = 5;
    /// warm() does nothing below this many clients: the per-packet state of
    /// all of them (about 1 KB each) stays in cache and warming would
    /// only cost (27 ns a packet measured with 10). 0: always warm.
    std::size_t warm_min_clients = 256;
};

/// Capacity: `MaxClients` peers (each one IKE SA, its ESP SAs, an L2TP tunnel
/// and a session). Everything is allocated once, in make().
template <class Crypto, class Credentials, std::size_t MaxClients = 64,
          class Random = typename Crypto::random, class Secrets = ike::v1::single_psk,
          class KeyLog = no_key_log>
class server {
    static_assert(crypto::backend<Crypto> && crypto::dh_backend<Crypto>,
                  "vpn::server needs a crypto backend with AEAD, CBC, HMAC, digests and DH "
                  "(crypto::backend and crypto::dh_backend), such as crypto::botan");
    static_assert(crypto::random_source<Random>,
                  "vpn::server draws every nonce, SPI, cookie, challenge and magic number from a "
                  "crypto::random_source (a CSPRNG), moved in");
    static_assert(
        ppp::credential_store<Credentials>,
        "vpn::server looks PPP passwords up in a ppp::credential_store (user -> password)");
    static_assert(ike::v1::psk_store<Secrets>,
                  "vpn::server looks the IKE pre-shared key up in an ike::v1::psk_store");
    static_assert(key_log<KeyLog>, "vpn::server's KeyLog must satisfy vpn::key_log");

    using core_type = detail::stack_core<Crypto, Random, Credentials, MaxClients,
                                         MaxClients + MaxClients / 4 + 1, MaxClients * 2 + 2>;
    using rng_ref = crypto::random_ref<Random>;
    using ike_type = ike::v1::engine<Crypto, rng_ref, ike::v1::server_limits<MaxClients>, Secrets>;

  public:
    static constexpr std::size_t capacity = MaxClients;

    /// Validate the configuration and build the server (the only allocation).
    /// Errors: bad_config (pool empty or larger than twice the capacity,
    /// max_clients above capacity, no local PPP address), the IKE engine's
    /// configuration errors.
    static result<std::unique_ptr<server>> make(const server_config& c, Random&& random,
                                                Secrets&& secrets, Credentials& users,
                                                KeyLog keylog = {}) {
        if (c.max_clients > MaxClients) return error(errc::bad_config, 0, "max clients");
        if (c.link.local_ip == 0) return error(errc::bad_config, 0, "local PPP address");
        auto pool = address_pool<MaxClients * 2 + 2>::make(c.pool_first, c.pool_last);
        if (!pool) return pool.error();
        if (pool->contains(c.link.local_ip))
            return error(errc::bad_config, 0, "local address inside the pool");
        std::unique_ptr<server> s(new server(c, std::move(random), users, std::move(keylog)));
        typename core_type::config cc;
        cc.server = true;
        cc.l2tp = c.l2tp;
        cc.l2tp.accept_tunnels = true;
        cc.link = c.link;
        cc.link.server = true;
        cc.warm_min_peers = c.warm_min_clients;
        s->core_ = std::make_unique<core_type>(cc, s->rng_, &users, *pool);
        auto ike = ike_type::make(c.ike, rng_ref(s->rng_), std::move(secrets));
        if (!ike) return ike.error();
        s->ike_.emplace(std::move(*ike));
        return s;
    }

    /// A datagram received on UDP 500 or 4500 (IKE, NAT keepalive or ESP in
    /// UDP), decrypted in place when it is ESP. Returns the IP packet it
    /// carried for the TUN device, if any. Errors: the ESP, L2TP and PPP
    /// errors (vpn::errc::unknown_spi, esp::errc::icv_mismatch, ...); the
    /// packet is dropped and nothing changes.
    result<delivered> receive(mutable_bytes d, const transport::endpoint& local,
                              const transport::endpoint& peer, time_point now) noexcept {
        if (local.port != ike_nat_port && local.port != ike_port) {
            // Not an IKE port: treat it as 4500 (a server on custom ports).
        }
        if (d.size() == 1 && d[0] == std::byte{0xff}) return delivered{};  // NAT keepalive
        bool on_4500 = local.port != ike_port;
        if (!on_4500 || (d.size() >= 4 && load_be32(d.data()) == 0)) {
            const auto refused = ike_->stats().dropped;
            ike_->receive(d, local, peer, now);
            if (ike_->stats().dropped != refused) note_ike_refusal(on_4500, peer, now);
            drain_ike(now);
            return delivered{};
        }
        return esp_in(d, peer, now);
    }
    /// A hint before receive() or receive_esp() of each datagram of a
    /// receive batch (UDP 4500 payloads or raw ESP packets, as recvmmsg
    /// handed them over): with many clients, it loads the state those
    /// packets will read, all of them at once, so that the cache misses
    /// overlap (core/warm.hpp; docs/performance.md measures it). Does nothing
    /// below server_config::warm_min_clients clients. IKE and keepalives in
    /// the batch are skipped; nothing changes.
    void warm(std::span<const bytes_view> batch) const noexcept {
        if (clients() < cfg_.warm_min_clients) return;
        core_->warm_esp(batch);
        ike_->warm_esp_traffic(batch);
    }

    /// A raw ESP packet (IP protocol 50, the IP header removed).
    result<delivered> receive_esp(mutable_bytes d, const transport::endpoint&,
                                  const transport::endpoint& peer, time_point now) noexcept {
        return esp_in(d, peer, now);
    }
    /// L2TP that came in unprotected (UDP 1701 outside ESP): always refused,
    /// counted as L2TP (version 2 in the header) or garbage.
    result<delivered> receive_plain_l2tp(bytes_view d, const transport::endpoint& peer,
                                         time_point now = {}) noexcept {
        ++unprotected_;
        const bool l2tp = d.size() >= 6 && (std::to_integer<unsigned>(d[1]) & 0x0f) == 2;
        auto e = l2tp ? error(errc::unprotected_l2tp, 0, "L2TP")
                      : error(l2sec::errc::truncated, 0, "not L2TP on UDP 1701");
        note_drop(l2tp ? drops_.l2tp_outside_esp : drops_.garbage_1701, e, peer, now);
        return e;
    }

    /// Route an IP packet from the TUN device (at buf[off, off + len), with
    /// vpn::headroom before and vpn::tailroom after it) to the client whose
    /// pool address is its destination, framed and protected in place.
    /// Errors: no_route, session_down, no_sa, esp errors.
    result<outbound> send_ip(mutable_bytes buf, std::size_t off, std::size_t len,
                             time_point) noexcept {
        if (len < 20) return error(l2sec::errc::truncated, off, "IP header");
        auto sid = core_->session_for(load_be32(buf.data() + off + 16));
        if (sid == 0) return error(errc::no_route, off + 16, "destination");
        return core_->send_ip(sid, buf, off, len);
    }
    /// Send to one session directly (IPv6, or a caller that routes itself).
    result<outbound> send_ip(std::uint16_t session, mutable_bytes buf, std::size_t off,
                             std::size_t len) noexcept {
        return core_->send_ip(session, buf, off, len);
    }

    /// The next datagram to send: IKE first (valid until the next call), then
    /// L2TP and PPP control protected into `scratch` (packet_buffer_size bytes).
    std::optional<outbound> poll(mutable_bytes scratch, time_point now) noexcept {
        if (auto d = ike_->poll_datagram()) return outbound{d->local, d->peer, false, d->data};
        return core_->poll(scratch, now);
    }
    void tick(time_point now) noexcept {
        ike_->tick(now);
        drain_ike(now);
        core_->tick(now);
    }
    std::optional<time_point> next_deadline() const noexcept {
        auto a = ike_->next_deadline();
        auto b = core_->next_deadline();
        if (!a) return b;
        if (!b) return a;
        return *a < *b ? a : b;
    }
    std::optional<report> poll_report() noexcept { return core_->poll_report(); }

    /// Orderly shutdown: PPP Terminate, CDN/StopCCN, then IKE Delete once
    /// the L2TP side is quiet (or after `grace`). Keep polling until closed().
    void shutdown(time_point now,
                  std::chrono::milliseconds grace = std::chrono::seconds(2)) noexcept {
        core_->close_all(now);
        shutdown_at_ = now + grace;
        shutting_down_ = true;
    }
    bool closed() const noexcept { return shutting_down_ && ike_done_; }
    void finish_shutdown(time_point now) noexcept {
        if (!shutting_down_ || ike_done_) return;
        if (core_->quiet() || now >= shutdown_at_) {
            ike_->close_all(now);
            ike_done_ = true;
        }
    }

    const stack_stats& stats() const noexcept { return core_->stats(); }
    std::size_t clients() const noexcept { return core_->peer_count(); }
    std::size_t sessions_up() const noexcept { return core_->sessions_up(); }
    std::uint64_t unprotected_l2tp() const noexcept { return unprotected_; }
    /// Dropped datagrams by reason (with the IKE engine's half-open counters).
    drop_stats drops() const noexcept {
        auto d = drops_;
        d.ike_flood = ike_->stats().half_open_refused;
        d.ike_evicted = ike_->stats().half_open_evicted;
        return d;
    }
    ike_type& ike() noexcept { return *ike_; }
    core_type& core() noexcept { return *core_; }

  private:
    static constexpr std::uint16_t ike_port = 500, ike_nat_port = 4500;

    server(const server_config& c, Random&& random, Credentials&, KeyLog keylog)
        : cfg_(c), rng_(std::move(random)), keylog_(std::move(keylog)) {}

    result<delivered> esp_in(mutable_bytes d, const transport::endpoint& peer,
                             time_point now) noexcept {
        if (d.size() < 8) {
            auto e = error(l2sec::errc::truncated, 0, "ESP header");
            note_drop(drops_.garbage_4500, e, peer, now);
            return e;
        }
        std::uint32_t spi = load_be32(d.data());
        auto r = core_->on_esp(d, now);
        if (r)
            ike_->note_esp_traffic(spi, d.size(), now);
        else if (r.error() == errc::unknown_spi)
            note_drop(drops_.unknown_spi, r.error(), peer, now);
        else if (&r.error().code.category() == &esp_category())
            note_drop(drops_.esp_auth, r.error(), peer, now);
        else
            note_drop(drops_.inner, r.error(), peer, now);
        if (shutting_down_) finish_shutdown(now);
        return r;
    }

    static const std::error_category& esp_category() noexcept {
        return make_error_code(esp::errc::icv_mismatch).category();
    }

    // Count a dropped datagram and report it, at most
    // drop_reports_per_second a second (a flood must not become a log flood).
    void note_drop(std::uint64_t& counter, const l2sec::error& e, const transport::endpoint& peer,
                   time_point now) noexcept {
        ++counter;
        if (now - drop_window_ >= std::chrono::seconds(1)) {
            drop_window_ = now;
            drop_budget_ = cfg_.drop_reports_per_second;
        }
        if (drop_budget_ == 0) {
            ++drops_.reports_suppressed;
            ++suppressed_;
            return;
        }
        --drop_budget_;
        report r{};
        r.kind = report_kind::dropped;
        r.endpoint = peer;
        r.reason = e;
        r.suppressed = suppressed_;
        suppressed_ = 0;
        core_->push(r);
    }

    // A Main Mode message 5 that does not decrypt is the responder's only
    // sign of a wrong pre-shared key (RFC 2409 gives it nothing to answer):
    // say so, naming the peer, instead of a silent half-open timeout.
    // Other refusals are counted: the half-open limits' as a flood (the
    // engine counts those), the rest as garbage on their port.
    void note_ike_refusal(bool on_4500, const transport::endpoint& peer, time_point now) noexcept {
        const auto e = ike_->stats().last_error;
        if (e.code == make_error_code(ike::v1::engine_errc::authentication_failed) ||
            e.code == make_error_code(ike::v1::engine_errc::wrong_psk)) {
            report r{};
            r.kind = report_kind::failed;
            r.endpoint = peer;
            r.reason = error(errc::wrong_psk, e.offset, e.field);
            core_->push(r);
            return;
        }
        if (e.code == make_error_code(ike::v1::engine_errc::capacity)) return;
        note_drop(on_4500 ? drops_.garbage_4500 : drops_.garbage_500, e, peer, now);
    }

    void drain_ike(time_point now) noexcept {
        while (auto ev = ike_->poll_event()) {
            report r{};
            r.endpoint = ev->peer;
            if (auto h = core_->find_peer(ev->peer)) r.peer = *h;
            switch (ev->kind) {
                case ike::v1::event_kind::phase1_up:
                    detail::log_ike_sa(keylog_, *ike_, ev->ike, ev->peer);
                    r.kind = report_kind::ike_established;
                    core_->push(r);
                    break;
                case ike::v1::event_kind::child_up: {
                    auto h = detail::install_child(*core_, keylog_, ev->child, ev->old_spi_in, r);
                    if (!h) {
                        r.kind = report_kind::failed;
                        r.reason = h.error();
                    }
                    core_->push(r);
                    break;
                }
                case ike::v1::event_kind::child_down:
                    core_->remove_sa(ev->spi_in, now, l2sec::error(ev->reason));
                    r.kind = report_kind::esp_sa_down;
                    r.spi_in = ev->spi_in;
                    r.reason = l2sec::error(ev->reason);
                    core_->push(r);
                    break;
                case ike::v1::event_kind::peer_dead:
                case ike::v1::event_kind::phase1_down:
                    if (ev->kind == ike::v1::event_kind::peer_dead && r.peer)
                        core_->remove_peer(r.peer, now, l2sec::error(ev->reason));
                    r.kind = report_kind::ike_down;
                    r.reason = l2sec::error(ev->reason);
                    core_->push(r);
                    break;
                case ike::v1::event_kind::failed:
                    r.kind = report_kind::failed;
                    r.reason = l2sec::error(ev->reason);
                    core_->push(r);
                    break;
                default:
                    break;
            }
        }
    }

    server_config cfg_;
    Random rng_;
    KeyLog keylog_;
    std::unique_ptr<core_type> core_;
    std::optional<ike_type> ike_;
    time_point shutdown_at_{};
    bool shutting_down_ = false, ike_done_ = false;
    std::uint64_t unprotected_ = 0;
    drop_stats drops_{};
    time_point drop_window_{};
    unsigned drop_budget_ = 0;
    std::uint64_t suppressed_ = 0;
};

}  // namespace l2sec::vpn
