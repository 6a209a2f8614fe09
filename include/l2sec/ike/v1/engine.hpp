// The IKEv1 engine (RFC 2407/2408/2409, NAT-T RFC 3947, DPD RFC 3706):
// Main Mode with pre-shared keys and Quick Mode, initiator and responder,
// sans-I/O. Datagrams (with their outer addresses and ports) and the current
// time go in; datagrams to send, events (with the negotiated ESP SAs) and the
// next deadline come out. It never reads a clock, touches a socket or
// allocates after make(): every IKE SA lives in a fixed slot.
//
//   auto e = ike::v1::engine<crypto::botan, crypto::botan::random>::make(
//       cfg, crypto::botan::random{}, ike::v1::single_psk(as_bytes("secret")));
//   e->receive(bytes, local, peer, now);              // from UDP 500 or 4500
//   while (auto d = e->poll_datagram()) sock.send_to(d->local, d->peer, d->data);
//   while (auto ev = e->poll_event())
//       if (ev->kind == ike::v1::event_kind::child_up)
//           install(ev->child.inbound_config(), ev->child.outbound_config());
//   e->tick(now);  // at *e->next_deadline()
//
// Several clients behind one NAT: IKE SAs are keyed by cookies and the peer's
// outer address and port, and each Quick Mode SA belongs to one IKE SA, so
// two clients with the same public address and inner selectors (UDP 1701)
// get their own SAs; the caller keys its ESP SAs by SPI and outer endpoint.
#pragma once

#include <l2sec/core/result.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/dh.hpp>
#include <l2sec/ike/v1/child_sa.hpp>
#include <l2sec/ike/v1/config.hpp>
#include <l2sec/ike/v1/events.hpp>
#include <l2sec/ike/v1/impl/engine.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace l2sec::ike::v1 {

template <class Backend, class Random, class Limits = default_limits, class Secrets = single_psk>
class engine {
    static_assert(crypto::backend<Backend> && crypto::dh_backend<Backend>,
                  "ike::v1::engine needs a crypto backend with ciphers, HMACs, digests and "
                  "DH/ECDH (crypto::backend and crypto::dh_backend), such as crypto::botan");
    static_assert(crypto::random_source<Random>,
                  "ike::v1::engine draws cookies, nonces, SPIs, message IDs and DH private "
                  "values from a crypto::random_source (a CSPRNG)");
    static_assert(psk_store<Secrets>,
                  "ike::v1::engine looks pre-shared keys up through an ike::v1::psk_store "
                  "(find_psk(peer, peer_id, out) -> optional<size_t>)");
    using core = detail::engine_core<Backend, Random, Limits, Secrets>;

  public:
    using time_point = std::chrono::steady_clock::time_point;
    using datagram = outgoing_datagram;

    /// Validate `cfg` (engine_errc::invalid_config naming the field: empty or
    /// unknown proposals, only weak ones without allow_weak, zero lifetimes
    /// or retransmissions) and allocate every slot once.
    static result<engine> make(const config& cfg, Random&& random, Secrets&& secrets) {
        if (auto ok = core::validate(cfg); !ok) return ok.error();
        return engine(std::make_unique<core>(cfg, std::move(random), std::move(secrets)));
    }

    /// A datagram read from UDP 500 or 4500 exactly as received (on 4500 with
    /// its 4-byte zero non-ESP marker; the caller gives datagrams with a
    /// non-zero marker to ESP). A bad message changes nothing; stats()
    /// counts it and last_error says what was wrong and where.
    void receive(bytes_view data, const transport::endpoint& local, const transport::endpoint& peer,
                 time_point now) noexcept {
        c_->receive(data, local, peer, now);
    }
    /// Start Main Mode to `c.peer` (then Quick Mode with c's selectors).
    /// Errors: invalid_config (endpoints, unsupported option), capacity,
    /// crypto_failure (random source).
    result<sa_handle> connect(const connection& c, time_point now) noexcept {
        return c_->connect(c, now);
    }
    /// Send Delete payloads for the SA's ESP SAs and itself, report them
    /// down, and forget the SA. A stale handle does nothing.
    void close(sa_handle h, time_point now) noexcept { c_->close(h, now); }
    void close_all(time_point now) noexcept { c_->close_all(now); }
    /// Timers: retransmission, half-open timeout, lifetimes.
    void tick(time_point now) noexcept { c_->tick(now); }
    /// When tick() has something to do, or nullopt.
    std::optional<time_point> next_deadline() const noexcept { return c_->next_deadline(); }
    /// The next datagram to send; its data is valid until the next call.
    std::optional<datagram> poll_datagram() noexcept { return c_->poll_datagram(); }
    std::optional<event> poll_event() noexcept { return c_->poll_event(); }
    /// ESP traffic seen on the inbound SA `spi_in`: kB lifetimes and DPD idleness.
    void note_esp_traffic(std::uint32_t spi_in, std::size_t bytes, time_point now) noexcept {
        c_->note_esp_traffic(spi_in, bytes, now);
    }
    /// Before note_esp_traffic() of each ESP packet of a receive batch: load
    /// what it reads, in two passes over the batch (core/warm.hpp) and the
    /// views esp::for_each_new_spi visits; nothing changes.
    void warm_esp_traffic(std::span<const bytes_view> batch) const noexcept {
        for (unsigned pass = 0; pass < 2; ++pass)
            esp::for_each_new_spi(batch, [&](esp::header h) { c_->warm_traffic(h.spi, pass); });
    }
    /// IKE SAs in use (half-open and established).
    std::size_t size() const noexcept { return c_->n_half + c_->n_est; }
    std::size_t half_open() const noexcept { return c_->n_half; }
    std::size_t established() const noexcept { return c_->n_est; }
    const engine_stats& stats() const noexcept { return c_->st; }
    /// Key logging only (e.g. vpn::key_log, for Wireshark): an established
    /// IKE SA's cookies and encryption key, or nullopt for a stale handle or
    /// an SA still negotiating. The view is valid until the next call into
    /// the engine; nothing is copied, so log it and let it go.
    std::optional<phase1_key_material> key_material(sa_handle h) noexcept {
        auto* s = c_->get(h);
        if (!s || s->st != detail::p1_state::established) return std::nullopt;
        return phase1_key_material{s->cky_i, s->cky_r, s->keys.ka.view()};
    }

  private:
    explicit engine(std::unique_ptr<core> c) noexcept : c_(std::move(c)) {}
    std::unique_ptr<core> c_;
};

}  // namespace l2sec::ike::v1
