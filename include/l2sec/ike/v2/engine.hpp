// The IKEv2 engine (RFC 7296): IKE_SA_INIT + IKE_AUTH with pre-shared keys
// and one Child SA (transport or tunnel), initiator and responder, NAT
// detection and the move to UDP 4500, INFORMATIONAL (liveness checks,
// Delete), sans-I/O. Datagrams (with their outer addresses and ports) and the
// current time go in; datagrams to send, events (with the negotiated ESP SA
// pairs) and the next deadline come out. It never reads a clock, touches a
// socket or allocates per message after make(): every IKE SA lives in a slot.
//
//   auto e = ike::v2::engine<crypto::botan, crypto::botan::random>::make(
//       cfg, crypto::botan::random{}, ike::v2::single_psk(as_bytes("secret")));
//   e->receive(bytes, local, peer, now);              // from UDP 500 or 4500
//   while (auto d = e->poll_datagram()) sock.send_to(d->local, d->peer, d->data);
//   while (auto ev = e->poll_event())
//       if (ev->kind == ike::v2::event_kind::child_up)
//           install(ev->child.inbound_config(), ev->child.outbound_config());
//   e->tick(now);  // at *e->next_deadline()
//
// IKE SAs are found by their SPIs (and, for the first message, the peer's
// outer address and port), so several clients behind one NAT get their own
// SAs; the caller keys its ESP SAs by SPI and outer endpoint. A client's
// INITIAL_CONTACT (RFC 7296 2.4: it restarted) ends its other IKE SAs with
// the same IDi from the same outer address (any port), with their Child SAs
// (`replaced`); other IDs behind that NAT are other clients.
#pragma once

#include <l2sec/core/result.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/dh.hpp>
#include <l2sec/ike/v2/config.hpp>
#include <l2sec/ike/v2/events.hpp>
#include <l2sec/ike/v2/impl/engine.hpp>
#include <l2sec/ike/v2/keylog.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace l2sec::ike::v2 {

template <class Backend, class Random, class Limits = default_limits, class Secrets = single_psk>
class engine {
    static_assert(crypto::backend<Backend> && crypto::dh_backend<Backend>,
                  "ike::v2::engine needs a crypto backend with ciphers, AEADs, HMACs, digests "
                  "and DH/ECDH (crypto::backend and crypto::dh_backend), such as crypto::botan");
    static_assert(crypto::random_source<Random>,
                  "ike::v2::engine draws SPIs, nonces, IVs and DH private values from a "
                  "crypto::random_source (a CSPRNG)");
    static_assert(psk_store<Secrets>,
                  "ike::v2::engine looks pre-shared keys up through an ike::v2::psk_store "
                  "(find_psk(peer, peer_id, out) -> optional<size_t>)");
    using core = detail::engine_core<Backend, Random, Limits, Secrets>;

  public:
    using time_point = std::chrono::steady_clock::time_point;
    using datagram = outgoing_datagram;

    /// Validate `cfg` (engine_errc::invalid_config naming the field) and
    /// allocate every slot once.
    static result<engine> make(const config& cfg, Random&& random, Secrets&& secrets) {
        if (auto ok = core::validate(cfg); !ok) return ok.error();
        return engine(std::make_unique<core>(cfg, std::move(random), std::move(secrets)));
    }

    /// A datagram read from UDP 500 or 4500 exactly as received (on 4500 with
    /// its 4-byte zero non-ESP marker; datagrams with a non-zero marker are
    /// ESP, not for the engine). A bad message changes nothing; stats()
    /// counts it and last_error says what was wrong and where.
    void receive(bytes_view data, const transport::endpoint& local, const transport::endpoint& peer,
                 time_point now) noexcept {
        c_->receive(data, local, peer, now);
        c_->settle();
    }
    /// Start IKE_SA_INIT to `c.peer` (then IKE_AUTH with one Child SA).
    /// Errors: invalid_config (endpoints), capacity, crypto_failure.
    result<sa_handle> connect(const connection& c, time_point now) noexcept {
        auto h = c_->connect(c, now);
        c_->settle();
        return h;
    }
    /// Send a Delete for the IKE SA (its Child SAs go with it), report them
    /// down and forget the SA. A stale handle does nothing.
    void close(sa_handle h, time_point now) noexcept {
        c_->close(h, now);
        c_->settle();
    }
    void close_all(time_point now) noexcept {
        c_->close_all(now);
        c_->settle();
    }
    /// Rekey one Child SA of `h` now, named by our inbound SPI, whoever
    /// created it (CREATE_CHILD_SA with REKEY_SA, RFC 7296 1.3.3); the one
    /// made replaces it as a lifetime rekey would. With a request
    /// outstanding it goes when that one ends. If the peer rekeys the same
    /// SA meanwhile, the collision is settled by RFC 7296 2.8.1 (stats()
    /// counts it). Errors: invalid_spi (stale handle, no such Child SA),
    /// wrong_state (IKE SA not established or being replaced, Child SA
    /// already replaced).
    result<void> rekey_child(sa_handle h, std::uint32_t spi_in, time_point now) noexcept {
        auto r = c_->rekey_child(h, spi_in, now);
        c_->settle();
        return r;
    }
    /// Rekey the IKE SA `h` now (CREATE_CHILD_SA with a new SA, Ni and KEi,
    /// RFC 7296 1.3.2), either role; its Child SAs move to the new one.
    /// Collisions: RFC 7296 2.8.2. Errors as rekey_child.
    result<void> rekey_ike(sa_handle h, time_point now) noexcept {
        auto r = c_->rekey_ike(h, now);
        c_->settle();
        return r;
    }
    /// Timers: retransmission, half-open timeout, liveness checks.
    void tick(time_point now) noexcept { c_->tick(now); }
    std::optional<time_point> next_deadline() const noexcept { return c_->next_deadline(); }
    /// The next datagram to send; its data is valid until the next call.
    std::optional<datagram> poll_datagram() noexcept { return c_->poll_datagram(); }
    std::optional<event> poll_event() noexcept { return c_->poll_event(); }
    std::size_t size() const noexcept { return c_->n_half + c_->n_est; }
    std::size_t half_open() const noexcept { return c_->n_half; }
    std::size_t established() const noexcept { return c_->n_est; }
    const engine_stats& stats() const noexcept { return c_->st; }
    /// Key logging only (Wireshark's ikev2_decryption_table, keylog.hpp):
    /// an established IKE SA's SPIs and SK_e/SK_a, or nullopt for a stale
    /// handle or an SA still negotiating. Views into the slot, valid until
    /// the next call into the engine: log them and let them go.
    std::optional<ike_key_material> key_material(sa_handle h) noexcept {
        auto* s = c_->get(h);
        if (!s || s->st != detail::sa_state::established) return std::nullopt;
        return ike_key_material{s->spi_i,          s->spi_r,           s->keys.ei.view(),
                                s->keys.er.view(), s->keys.ai.view(),  s->keys.ar.view(),
                                s->chosen.encr,    s->chosen.key_bits, s->chosen.integ};
    }
    /// Bytes of one IKE SA slot (memory per IKE SA, buffers included).
    static constexpr std::size_t slot_size() noexcept { return sizeof(typename core::sa_t); }

  private:
    explicit engine(std::unique_ptr<core> c) noexcept : c_(std::move(c)) {}
    std::unique_ptr<core> c_;
};

}  // namespace l2sec::ike::v2
