// A whole PPP link, sans-I/O: LCP (with Echo keepalive, magic numbers and
// loop detection), authentication in both roles (PAP, CHAP-MD5, MS-CHAPv2),
// then IPCP and IPV6CP, over the RFC 1661 automaton. Frames in and out carry
// address/control and protocol fields, as inside an L2TP data message.
//
//   ppp::link_engine<crypto::botan> l(cfg, crypto::botan::random{});            // client
//   ppp::link_engine<crypto::botan, crypto::botan::random, users> s(cfg, rng, store);  // server
//   l.start(now);                                   // lower layer up + Open
//   auto ip = l.handle_frame(frame, now);           // IP payload, if any
//   while (auto n = l.poll_transmit(buf)) send(buf.first(*n));
//   while (auto ev = l.poll_event()) ...            // lcp_up, auth_success, ipcp_up...
//
// This header declares and documents the engine; the bodies are in
// ppp/engine/impl/link.hpp, the vocabulary (phase, link_config, link_event)
// in ppp/engine/link_types.hpp, the control protocols and their option
// policies in ppp/control_protocol.hpp and ppp/option_policies.hpp.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/clock.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/ring_queue.hpp>
#include <l2sec/core/warm.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/ppp/auth.hpp>
#include <l2sec/ppp/automaton.hpp>
#include <l2sec/ppp/credentials.hpp>
#include <l2sec/ppp/engine/link_types.hpp>
#include <l2sec/ppp/frame.hpp>
#include <l2sec/ppp/negotiation.hpp>

#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace l2sec::ppp {

/// Policies: `Crypto`, a crypto::auth_backend (crypto::botan, or the
/// standard-library-only crypto::portable): MD5 for CHAP, MD4/SHA-1/DES for
/// MS-CHAPv2; `Random`, the random source of magic numbers, challenges and
/// interface identifiers, moved in; `Credentials`, the server's
/// ppp::credential_store (user -> password), borrowed.
template <class Crypto, class Random = typename Crypto::random, class Credentials = no_credentials,
          std::size_t QueueFrames = 8>
class link_engine {
    static_assert(crypto::auth_backend<Crypto>,
                  "ppp::link_engine needs a crypto::auth_backend (MD5 for CHAP; MD4, SHA-1 "
                  "and DES for MS-CHAPv2), such as crypto::botan or crypto::portable");
    static_assert(crypto::random_source<Random>,
                  "ppp::link_engine draws magic numbers and challenges from a "
                  "crypto::random_source, moved in");
    static_assert(credential_store<Credentials>,
                  "ppp::link_engine's authenticator looks passwords up in a "
                  "ppp::credential_store");

  public:
    using queue_type = frame_queue<QueueFrames, 1504>;

    /// A link without a credential store: a client, or a server that
    /// authenticates nobody (require = none).
    link_engine(const link_config& cfg, Random&& random) noexcept
        : link_engine(cfg, std::move(random), nullptr) {}
    /// A server link that checks peers against `credentials` (which must outlive it).
    link_engine(const link_config& cfg, Random&& random, Credentials& credentials) noexcept
        : link_engine(cfg, std::move(random), &credentials) {}
    link_engine(const link_engine&) = delete;
    link_engine& operator=(const link_engine&) = delete;

  private:
    link_engine(const link_config& cfg, Random&& random, Credentials* credentials) noexcept;

  public:
    ppp::phase current_phase() const noexcept { return phase_; }
    state lcp_state() const noexcept { return lcp_.current(); }
    state ipcp_state() const noexcept { return ipcp_.current(); }
    state ipv6cp_state() const noexcept { return ipv6cp_.current(); }
    std::uint32_t local_ip() const noexcept { return ipcp_.policy.local; }
    std::uint32_t peer_ip() const noexcept { return ipcp_.policy.peer; }
    std::uint16_t peer_mru() const noexcept { return lcp_.policy.peer_mru; }
    std::string_view authenticated_user() const noexcept { return server_auth_.peer_name(); }
    bool is_up() const noexcept {
        return ipcp_.current() == state::opened || ipv6cp_.current() == state::opened;
    }

    /// The lower layer (the L2TP session) is up: Up and Open for LCP.
    void start(time_point now) noexcept {
        phase_ = phase::establish;
        lcp_.policy.reset();
        lcp_.magic = lcp_.policy.magic;
        lcp_.up(now);
        lcp_.open(now);
        after(now);
    }
    /// Administrative close: LCP Terminate-Request (the link then finishes).
    void close(time_point now) noexcept {
        lcp_.close(now);
        after(now);
    }
    /// The lower layer went away.
    void lower_down(time_point now) noexcept {
        lcp_.down(now);
        after(now);
    }

    /// One PPP frame from the peer. Returns the network-layer payload of an
    /// IPv4 or IPv6 frame (when that NCP is open), empty otherwise. Errors
    /// (the frame is dropped, nothing changes): ppp::errc from the frame or
    /// control-packet decoder (truncated, bad length, ...). Frames of a phase
    /// they do not belong to are ignored, unsupported protocols
    /// Protocol-Rejected (RFC 1661 5.7), neither is an error.
    result<std::optional<bytes_view>> handle_frame(bytes_view frame, time_point now) noexcept;

    /// Before data_payload(): load the lines it reads, the phase and each
    /// control protocol's head (core/warm.hpp).
    void warm_data() const noexcept {
        l2sec::warm(&phase_);
        l2sec::warm(&ipcp_);
        l2sec::warm(&ipv6cp_);
    }

    /// The data fast path: when `frame` is an IPv4 or IPv6 frame (FF 03 or
    /// not, 1- or 2-octet protocol field) on its opened NCP, in a quiet link
    /// (network phase, no layer event pending), its network-layer payload,
    /// found with a few compares: exactly what handle_frame() would return,
    /// and handle_frame() would change nothing. nullopt for anything else
    /// (control frames, truncated or malformed headers, an NCP not open):
    /// then call handle_frame().
    std::optional<bytes_view> data_payload(bytes_view frame) const noexcept {
        const std::byte* p = frame.data();
        const std::size_t n = frame.size();
        std::size_t h = 0;
        if (n >= 2 && p[0] == std::byte{0xff} && p[1] == std::byte{0x03}) h = 2;
        if (n < h + 1) return std::nullopt;
        unsigned proto = std::to_integer<unsigned>(p[h]);
        if (proto == 0) {  // the 2-octet form: 00 21 / 00 57
            if (n < h + 2) return std::nullopt;
            proto = std::to_integer<unsigned>(p[h + 1]);
            h += 2;
        } else {
            h += 1;
        }
        if (phase_ != phase::network || !quiet(lcp_.flags) || !quiet(ipcp_.flags) ||
            !quiet(ipv6cp_.flags))
            return std::nullopt;
        state ncp;
        if (proto == to_underlying(protocol::ip))
            ncp = ipcp_.current();
        else if (proto == to_underlying(protocol::ipv6))
            ncp = ipv6cp_.current();
        else
            return std::nullopt;
        if (ncp != state::opened) return std::nullopt;
        return frame.subspan(h);
    }

    /// Wrap an IP datagram into a PPP frame in `out`.
    result<std::size_t> encode_ip(bytes_view datagram, mutable_bytes out,
                                  bool v6 = false) const noexcept {
        return encode_frame(out, v6 ? protocol::ipv6 : protocol::ip, datagram);
    }

    std::optional<std::size_t> poll_transmit(mutable_bytes out) noexcept { return q_.pop(out); }
    /// The next event (at most 32 wait; older ones are kept, newer ones dropped).
    std::optional<link_event> poll_event() noexcept { return events_.pop(); }

    /// The earliest time on_timer() has work: restart timers of the three
    /// automata, authentication retries, the next LCP Echo.
    std::optional<time_point> deadline() const noexcept;

    /// Fire what is due: retransmissions, authentication timeouts, Echo
    /// keepalive (echo_failures unanswered Echos close the link).
    void on_timer(time_point now) noexcept;

  private:
    // The server is already negotiating the network layer: our
    // authentication succeeded even if its Success/Ack was lost.
    void implicit_auth_success(time_point now) noexcept;

    void on_lcp_extra(const packet_view& p, time_point now) noexcept;

    // Look at what the automata and the authentication did and move phases.
    void after(time_point now) noexcept;

    void begin_auth(time_point now) noexcept;

    void begin_network(time_point now) noexcept;

    void push(const link_event& e) noexcept { (void)events_.push(e); }

    // No layer event waits for after(): the four flags read as one word.
    static bool quiet(const layer_flags& f) noexcept {
        static_assert(sizeof(layer_flags) == sizeof(std::uint32_t));
        return std::bit_cast<std::uint32_t>(f) == 0;
    }

    // What data_payload reads per packet first: the phase, then each control
    // protocol's flags and state at the head of its object (LCP's in the same
    // cache line as the phase). The frame queue and the configuration after them.
    ppp::phase phase_ = phase::dead;
    control_protocol<lcp_policy<Random>, queue_type> lcp_{};
    control_protocol<ipcp_policy, queue_type> ipcp_{};
    control_protocol<ipv6cp_policy<Random>, queue_type> ipv6cp_{};
    link_config cfg_;
    Random rng_;
    queue_type q_{};
    authenticator<Crypto, Random, Credentials, queue_type> server_auth_{};
    auth_peer<Crypto, Random, queue_type> client_auth_{};
    time_point next_echo_{};
    std::uint8_t echo_outstanding_ = 0;
    ring_queue<link_event, 32> events_{};
};

}  // namespace l2sec::ppp

#include <l2sec/ppp/engine/impl/link.hpp>
