// Control protocols over the RFC 1661 automaton: the generic packet handling
// (Configure-Request/Ack/Nak/Reject, Terminate, Code-Reject, Echo, Discard)
// and the option policies of LCP, IPCP (RFC 1332/1877) and IPV6CP (RFC 5072).
// A policy decides what we ask for and what we accept; the generic part
// turns packets into automaton events and the automaton's actions into
// packets. Allocation-free; packets go to a fixed frame queue.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/clock.hpp>
#include <l2sec/core/static_vector.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/ppp/automaton.hpp>
#include <l2sec/ppp/control.hpp>
#include <l2sec/ppp/frame.hpp>
#include <l2sec/ppp/ipcp.hpp>
#include <l2sec/ppp/ipv6cp.hpp>
#include <l2sec/ppp/lcp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec::ppp {

/// Frames waiting to be sent, each with its address/control and protocol
/// fields (ready for an L2TP data message).
template <std::size_t N = 8, std::size_t MaxFrame = 1504>
class frame_queue {
  public:
    /// A buffer for one frame of `proto` with the header written; write the
    /// packet into the returned span and commit its size.
    mutable_bytes begin(protocol proto) noexcept {
        if (count_ == N) {
            ++overflows_;
            return {};
        }
        auto& f = frames_[(head_ + count_) % N];
        writer w(f.data);
        (void)encode_frame_header(w, proto);
        pending_hdr_ = w.size();
        return mutable_bytes(f.data).subspan(pending_hdr_);
    }
    void commit(std::size_t packet_size) noexcept {
        if (count_ == N) return;
        frames_[(head_ + count_) % N].size = pending_hdr_ + packet_size;
        ++count_;
    }
    /// Copy the oldest frame into `out`; its size, or nullopt when empty.
    std::optional<std::size_t> pop(mutable_bytes out) noexcept {
        if (count_ == 0) return std::nullopt;
        auto& f = frames_[head_];
        if (out.size() < f.size) return std::nullopt;
        copy_to(out, bytes_view(f.data.data(), f.size));
        head_ = (head_ + 1) % N;
        --count_;
        return f.size;
    }
    std::size_t size() const noexcept { return count_; }
    std::size_t overflows() const noexcept { return overflows_; }

  private:
    struct frame {
        std::array<std::byte, MaxFrame> data{};
        std::size_t size = 0;
    };
    std::array<frame, N> frames_{};
    std::size_t head_ = 0, count_ = 0, pending_hdr_ = 0, overflows_ = 0;
};

/// What a policy says about one option of the peer's Configure-Request.
enum class verdict : std::uint8_t { ack, nak, reject };

/// Layer events the automaton raised (read and cleared by the link).
struct layer_flags {
    bool up = false, down = false, started = false, finished = false;
};

/// The option-policy seam of a control protocol: what we ask for
/// (write_request), how we judge each option of the peer's Configure-Request
/// (begin_check, check, end_check: ack, nak with a suggestion written into
/// `nak`, or reject; `exhausted` is Max-Failure reached), and what we learn
/// from the peer's Ack, Nak and Reject of our request.
template <class P>
concept option_policy = requires(P& p, packet_writer& w, const option_view& o, option_range r,
                                 bool exhausted) {
    { P::proto } -> std::convertible_to<protocol>;
    p.reset();
    p.write_request(w);
    p.begin_check();
    { p.check(o, w, exhausted) } -> std::same_as<verdict>;
    { p.end_check(w, exhausted) } -> std::same_as<bool>;
    p.on_ack(r);
    p.on_nak(r);
    p.on_reject(r);
};

/// One control protocol (LCP, IPCP or IPV6CP) = an automaton + a policy.
template <class Policy, class Queue>
class control_protocol {
    static_assert(option_policy<Policy>,
                  "ppp::control_protocol needs an option policy (ppp::option_policy: "
                  "write_request, check, on_ack/on_nak/on_reject)");

  public:
    control_protocol() noexcept = default;
    control_protocol(Policy p, automaton_config cfg) noexcept : policy(p), fsm(cfg) {}

    Policy policy{};
    automaton fsm{};
    layer_flags flags{};
    std::uint32_t magic = 0;  ///< LCP: our magic number (for Echo and Discard)
    std::size_t peer_mru = 1500;

    void attach(Queue* q) noexcept { out_ = q; }
    state current() const noexcept { return fsm.current(); }

    void up(time_point now) noexcept { run(event::up, now); }
    void down(time_point now) noexcept { run(event::down, now); }
    void open(time_point now) noexcept { run(event::open, now); }
    void close(time_point now) noexcept { run(event::close, now); }
    void on_timer(time_point now) noexcept {
        sink s{this};
        (void)fsm.on_timer(now, s);
    }
    /// A Protocol-Reject of this protocol (RFC 1661 5.7: RXJ-).
    void protocol_rejected(time_point now) noexcept { run(event::rxj_minus, now); }

    /// Handle one packet of this protocol (the frame's information field).
    /// Returns the decoded packet for LCP's extra codes, or an error.
    result<packet_view> handle(bytes_view info, time_point now, std::size_t base = 0) noexcept {
        auto p = decode_control(Policy::proto, info, base);
        if (!p) return p;
        // RFC 1661: before Up (Initial/Starting) packets are silently discarded.
        if (fsm.current() == state::initial || fsm.current() == state::starting) return p;
        switch (p->code) {
            case code::configure_request:
                on_configure_request(*p, now);
                break;
            case code::configure_ack:
                if (p->identifier == req_id_ &&
                    equal(p->data, bytes_view(last_req_.data(), last_req_size_))) {
                    policy.on_ack(p->options());
                    run(event::rca, now);
                }
                break;
            case code::configure_nak:
            case code::configure_reject:
                if (p->identifier == req_id_) {
                    if (p->code == code::configure_nak)
                        policy.on_nak(p->options());
                    else
                        policy.on_reject(p->options());
                    run(event::rcn, now);
                }
                break;
            case code::terminate_request:
                term_id_ = p->identifier;
                run(event::rtr, now);
                break;
            case code::terminate_ack:
                run(event::rta, now);
                break;
            case code::code_reject: {
                // Rejecting a code we cannot live without is catastrophic.
                std::uint8_t c = p->data.empty() ? 0 : std::to_integer<std::uint8_t>(p->data[0]);
                run(c >= 1 && c <= 7 ? event::rxj_minus : event::rxj_plus, now);
                break;
            }
            case code::echo_request:
                if (Policy::proto == protocol::lcp) {
                    echo_id_ = p->identifier;
                    echo_data_size_ = std::min(p->echo_data().size(), echo_data_.size());
                    copy_to(echo_data_, p->echo_data().first(echo_data_size_));
                    run(event::rxr, now);
                    break;
                }
                [[fallthrough]];
            default:
                if (Policy::proto == protocol::lcp && is_code_defined(Policy::proto, p->code)) {
                    run(event::rxr, now);  // Echo-Reply, Discard, ... : the link looks
                    break;
                }
                reject_id_ = p->identifier;
                reject_size_ = std::min<std::size_t>(p->length, reject_.size());
                copy_to(reject_, info.first(reject_size_));
                run(event::ruc, now);
                break;
        }
        return p;
    }

    /// Send an LCP Echo-Request (keepalive); returns its identifier.
    std::uint8_t send_echo_request() noexcept {
        std::uint8_t id = next_id_++;
        auto buf = out_->begin(Policy::proto);
        if (auto n = encode_echo(buf, code::echo_request, id, magic)) out_->commit(*n);
        return id;
    }
    /// Send an LCP Protocol-Reject for a frame of an unsupported protocol.
    void send_protocol_reject(protocol rejected, bytes_view info) noexcept {
        auto buf = out_->begin(Policy::proto);
        if (auto n = encode_protocol_reject(buf, next_id_++, rejected, info, peer_mru))
            out_->commit(*n);
    }

  private:
    void on_configure_request(const packet_view& p, time_point now) noexcept {
        // Classify every option: reject wins over nak wins over ack.
        std::array<std::byte, 512> nak_buf{}, rej_buf{};
        packet_writer nak(nak_buf, code::configure_nak, p.identifier);
        packet_writer rej(rej_buf, code::configure_reject, p.identifier);
        bool any_nak = false, any_rej = false;
        const bool exhausted = fsm.failure_exhausted();
        policy.begin_check();
        for (auto o : p.options()) {
            auto v = policy.check(o, nak, exhausted);
            if (v == verdict::nak && exhausted) v = verdict::reject;  // Max-Failure
            if (v == verdict::reject) {
                rej.option(o);
                any_rej = true;
            } else if (v == verdict::nak) {
                any_nak = true;
            }
        }
        any_nak = any_nak || policy.end_check(nak, exhausted);
        resp_id_ = p.identifier;
        if (any_rej) {
            resp_code_ = code::configure_reject;
            store_response(rej);
        } else if (any_nak) {
            resp_code_ = code::configure_nak;
            store_response(nak);
            fsm.count_nak();
        } else {
            resp_code_ = code::configure_ack;
            resp_size_ = std::min(p.data.size(), resp_.size());
            copy_to(resp_, p.data.first(resp_size_));
        }
        run(any_rej || any_nak ? event::rcr_minus : event::rcr_plus, now);
    }
    void store_response(packet_writer& w) noexcept {
        auto n = w.finish();
        if (!n || *n < 4) {
            resp_size_ = 0;
            return;
        }
        bytes_view all = w.raw().written();
        resp_size_ = std::min(*n - 4, resp_.size());
        copy_to(resp_, all.subspan(4, resp_size_));
    }

    struct sink {
        control_protocol* cp;
        void this_layer_up() { cp->flags.up = true; }
        void this_layer_down() { cp->flags.down = true; }
        void this_layer_started() { cp->flags.started = true; }
        void this_layer_finished() { cp->flags.finished = true; }
        void send_configure_request() {
            auto& c = *cp;
            c.req_id_ = c.next_id_++;
            auto buf = c.out_->begin(Policy::proto);
            packet_writer w(buf, code::configure_request, c.req_id_);
            c.policy.write_request(w);
            if (auto n = w.finish()) {
                c.last_req_size_ = std::min(*n - 4, c.last_req_.size());
                copy_to(c.last_req_, bytes_view(buf.data() + 4, c.last_req_size_));
                c.out_->commit(*n);
            }
        }
        void respond(code k) {
            auto& c = *cp;
            auto buf = c.out_->begin(Policy::proto);
            packet_writer w(buf, k, c.resp_id_);
            w.bytes(bytes_view(c.resp_.data(), c.resp_size_));
            if (auto n = w.finish()) c.out_->commit(*n);
        }
        void send_configure_ack() { respond(code::configure_ack); }
        void send_configure_nak() { respond(cp->resp_code_); }  // Nak or Reject
        void send_terminate_request() {
            auto buf = cp->out_->begin(Policy::proto);
            if (auto n = encode_terminate(buf, code::terminate_request, cp->next_id_++))
                cp->out_->commit(*n);
        }
        void send_terminate_ack() {
            auto buf = cp->out_->begin(Policy::proto);
            if (auto n = encode_terminate(buf, code::terminate_ack, cp->term_id_))
                cp->out_->commit(*n);
        }
        void send_code_reject() {
            auto buf = cp->out_->begin(Policy::proto);
            if (auto n = encode_code_reject(buf, cp->next_id_++,
                                            bytes_view(cp->reject_.data(), cp->reject_size_),
                                            cp->peer_mru))
                cp->out_->commit(*n);
        }
        void send_echo_reply() {
            auto buf = cp->out_->begin(Policy::proto);
            if (auto n = encode_echo(buf, code::echo_reply, cp->echo_id_, cp->magic,
                                     bytes_view(cp->echo_data_.data(), cp->echo_data_size_)))
                cp->out_->commit(*n);
        }
    };

    void run(event e, time_point now) noexcept {
        sink s{this};
        (void)fsm.handle(e, now, s);
    }

    Queue* out_ = nullptr;
    std::uint8_t next_id_ = 1, req_id_ = 0, resp_id_ = 0, term_id_ = 0, echo_id_ = 0,
                 reject_id_ = 0;
    code resp_code_ = code::configure_ack;
    std::array<std::byte, 256> last_req_{}, resp_{}, reject_{}, echo_data_{};
    std::size_t last_req_size_ = 0, resp_size_ = 0, reject_size_ = 0, echo_data_size_ = 0;
};

// ------------------------------------------------------------------ policies

/// Which authentication the authenticator asks for (LCP Authentication-Protocol).
enum class auth_method : std::uint8_t { none, pap, chap_md5, mschapv2 };

constexpr const char* to_string(auth_method m) noexcept {
    switch (m) {
        case auth_method::none:
            return "none";
        case auth_method::pap:
            return "PAP";
        case auth_method::chap_md5:
            return "CHAP-MD5";
        case auth_method::mschapv2:
            return "MS-CHAPv2";
    }
    return "?";
}

constexpr std::optional<auth_method> auth_of(const lcp::auth_protocol& a) noexcept {
    if (a.protocol == protocol::pap) return auth_method::pap;
    if (a.protocol == protocol::chap && a.algorithm == lcp::chap_algorithm::md5)
        return auth_method::chap_md5;
    if (a.protocol == protocol::chap && a.algorithm == lcp::chap_algorithm::ms_chap_v2)
        return auth_method::mschapv2;
    return std::nullopt;
}
constexpr lcp::auth_protocol auth_option(auth_method m) noexcept {
    switch (m) {
        case auth_method::pap:
            return lcp::auth_protocol::pap();
        case auth_method::chap_md5:
            return lcp::auth_protocol::chap_md5();
        default:
            return lcp::auth_protocol::ms_chap_v2();
    }
}

namespace detail {
/// A non-zero random value of type T from `r`, or nullopt if the source fails.
template <class T, crypto::random_source R>
std::optional<T> nonzero_random(R* r) noexcept {
    for (int tries = 0; r && tries < 4; ++tries) {
        std::array<std::byte, sizeof(T)> b{};
        if (!r->fill(b)) return std::nullopt;
        T v = 0;
        for (auto x : b)
            v = static_cast<T>((v << 8) | std::to_integer<T>(x));
        if (v != 0) return v;
    }
    return std::nullopt;
}
}  // namespace detail

/// LCP: MRU, Magic-Number and (as authenticator) Authentication-Protocol.
/// Magic numbers come from `random` (RFC 1661 6.4 wants them unique: a
/// CSPRNG, never a seed).
template <class Random>
struct lcp_policy {
    static_assert(crypto::random_source<Random>,
                  "ppp::lcp_policy draws magic numbers from a crypto::random_source");
    static constexpr protocol proto = protocol::lcp;

    // configuration
    std::uint16_t mru = 1400;
    auth_method require = auth_method::none;  ///< what we demand of the peer
    std::array<bool, 4> can_answer{};         ///< auth methods we can answer as a peer
    // negotiated state
    bool send_mru = true, send_magic = true, send_auth = false;
    std::uint32_t magic = 0;
    std::uint16_t peer_mru = 1500;
    auth_method peer_requires = auth_method::none;  ///< what the peer demands of us (acked)
    bool loop_suspected = false;
    Random* random = nullptr;

    /// A new magic number; 0 when the random source failed (then none is sent).
    std::uint32_t fresh_magic() noexcept {
        return detail::nonzero_random<std::uint32_t>(random).value_or(0);
    }
    void reset() noexcept {
        send_mru = true;
        send_auth = require != auth_method::none;
        if (magic == 0) magic = fresh_magic();
        send_magic = magic != 0;
        peer_requires = auth_method::none;
        peer_mru = 1500;
    }
    void write_request(packet_writer& w) noexcept {
        if (send_mru) w.option(lcp::mru{mru});
        if (send_auth) w.option(auth_option(require));
        if (send_magic) w.option(lcp::magic_number{magic});
    }
    bool can(auth_method m) const noexcept { return can_answer[static_cast<std::size_t>(m)]; }
    void begin_check() noexcept { pending_auth_ = auth_method::none; }
    verdict check(const option_view& o, packet_writer& nak, bool) noexcept {
        switch (o.type) {
            case lcp::option_type::mru: {
                auto v = lcp::mru::decode(o.data, o.offset);
                if (!v) return verdict::reject;
                if (v->value < 128) {
                    nak.option(lcp::mru{1500});
                    return verdict::nak;
                }
                peer_mru = v->value;
                return verdict::ack;
            }
            case lcp::option_type::accm:
            case lcp::option_type::pfc:
            case lcp::option_type::acfc:
            case lcp::option_type::endpoint_discriminator:
                return verdict::ack;
            case lcp::option_type::magic_number: {
                auto v = lcp::magic_number::decode(o.data, o.offset);
                if (!v) return verdict::reject;
                if (v->value == magic ||
                    v->value == 0) {  // looped back (or invalid): suggest another
                    loop_suspected = v->value == magic;
                    const auto suggestion = fresh_magic();
                    if (suggestion == 0) return verdict::reject;
                    nak.option(lcp::magic_number{suggestion});
                    return verdict::nak;
                }
                return verdict::ack;
            }
            case lcp::option_type::auth_protocol: {
                auto v = lcp::auth_protocol::decode(o.data, o.offset);
                auto m = v ? auth_of(*v) : std::nullopt;
                if (m && can(*m)) {
                    pending_auth_ = *m;
                    return verdict::ack;
                }
                // Suggest what we can do, strongest first; reject when we cannot authenticate at
                // all.
                for (auto alt : {auth_method::mschapv2, auth_method::chap_md5, auth_method::pap})
                    if (can(alt)) {
                        nak.option(auth_option(alt));
                        return verdict::nak;
                    }
                return verdict::reject;
            }
            default:
                return verdict::reject;  // MRRU, callback, quality, unknown...
        }
    }
    bool end_check(packet_writer&, bool) noexcept {
        peer_requires = pending_auth_;
        return false;
    }
    void on_ack(option_range) noexcept {}
    void on_nak(option_range opts) noexcept {
        for (auto o : opts) {
            if (o.type == lcp::option_type::mru) {
                if (auto v = lcp::mru::decode(o.data, o.offset); v && v->value >= 128)
                    mru = v->value;
            } else if (o.type == lcp::option_type::magic_number) {
                magic = fresh_magic();
                send_magic = magic != 0;
            } else if (o.type == lcp::option_type::auth_protocol) {
                // The peer cannot do what we asked; we insist (the RFC lets the authenticator
                // refuse).
            }
        }
    }
    void on_reject(option_range opts) noexcept {
        for (auto o : opts) {
            if (o.type == lcp::option_type::mru) send_mru = false;
            if (o.type == lcp::option_type::magic_number) send_magic = false;
            if (o.type == lcp::option_type::auth_protocol) auth_refused = true;
        }
    }
    bool auth_refused = false;

  private:
    auth_method pending_auth_ = auth_method::none;
};

/// IPCP: addresses (and DNS) for a client that asks and a server that assigns.
struct ipcp_policy {
    static constexpr protocol proto = protocol::ipcp;

    bool server = false;
    std::uint32_t local = 0;           ///< our address (client: 0 = ask)
    std::uint32_t peer = 0;            ///< server: the address assigned to the peer
    std::uint32_t dns1 = 0, dns2 = 0;  ///< server: offered; client: learnt
    bool ask_dns = false;              ///< client: request DNS addresses
    bool send_dns1 = false, send_dns2 = false;

    void reset() noexcept {
        send_dns1 = send_dns2 = !server && ask_dns;
        if (!server) local = 0;
    }
    void write_request(packet_writer& w) noexcept {
        w.option(ipcp::ip_address{local});
        if (send_dns1) w.option(ipcp::primary_dns{dns1});
        if (send_dns2) w.option(ipcp::secondary_dns{dns2});
    }
    void begin_check() noexcept {}
    verdict check(const option_view& o, packet_writer& nak, bool) noexcept {
        if (o.type == ipcp::option_type::ip_address) {
            auto v = ipcp::ip_address::decode(o.data, o.offset);
            if (!v) return verdict::reject;
            if (server) {
                if (v->address == peer) return verdict::ack;
                nak.option(ipcp::ip_address{peer});
                return verdict::nak;
            }
            if (v->address == 0) return verdict::reject;  // a server must know its own address
            peer = v->address;
            return verdict::ack;
        }
        if (server && (o.type == ipcp::option_type::primary_dns ||
                       o.type == ipcp::option_type::secondary_dns)) {
            std::uint32_t want = o.type == ipcp::option_type::primary_dns ? dns1 : dns2;
            if (want == 0 || o.data.size() != 4) return verdict::reject;
            if (load_be32(o.data.data()) == want) return verdict::ack;
            if (o.type == ipcp::option_type::primary_dns)
                nak.option(ipcp::primary_dns{want});
            else
                nak.option(ipcp::secondary_dns{want});
            return verdict::nak;
        }
        return verdict::reject;  // VJ compression, NBNS, deprecated IP-Addresses...
    }
    bool end_check(packet_writer&, bool) noexcept { return false; }
    void on_ack(option_range) noexcept {}
    void on_nak(option_range opts) noexcept {
        for (auto o : opts) {
            if (o.data.size() != 4) continue;
            auto v = load_be32(o.data.data());
            if (o.type == ipcp::option_type::ip_address) local = v;
            if (o.type == ipcp::option_type::primary_dns) dns1 = v;
            if (o.type == ipcp::option_type::secondary_dns) dns2 = v;
        }
    }
    void on_reject(option_range opts) noexcept {
        for (auto o : opts) {
            if (o.type == ipcp::option_type::primary_dns) send_dns1 = false;
            if (o.type == ipcp::option_type::secondary_dns) send_dns2 = false;
        }
    }
};

/// IPV6CP: Interface-Identifier (RFC 5072), drawn from `random` (RFC 5072
/// 4.1 wants it unique; a random one also keeps addresses unlinkable).
template <class Random>
struct ipv6cp_policy {
    static_assert(crypto::random_source<Random>,
                  "ppp::ipv6cp_policy draws interface identifiers from a crypto::random_source");
    static constexpr protocol proto = protocol::ipv6cp;

    std::uint64_t local = 0, peer = 0;
    Random* random = nullptr;

    /// A new identifier other than 0 and the peer's; 0 when the random source failed.
    std::uint64_t fresh() noexcept {
        for (int tries = 0; tries < 4; ++tries) {
            auto v = detail::nonzero_random<std::uint64_t>(random);
            if (!v) return 0;
            if (*v != peer) return *v;
        }
        return 0;
    }
    void reset() noexcept {
        if (local == 0) local = fresh();
    }
    void write_request(packet_writer& w) noexcept { w.option(ipv6cp::interface_identifier{local}); }
    void begin_check() noexcept {}
    verdict check(const option_view& o, packet_writer& nak, bool) noexcept {
        if (o.type != ipv6cp::option_type::interface_identifier) return verdict::reject;
        auto v = ipv6cp::interface_identifier::decode(o.data, o.offset);
        if (!v) return verdict::reject;
        if (v->value == 0 || v->value == local) {
            const auto suggestion = fresh();
            if (suggestion == 0) return verdict::reject;
            nak.option(ipv6cp::interface_identifier{suggestion});
            return verdict::nak;
        }
        peer = v->value;
        return verdict::ack;
    }
    bool end_check(packet_writer&, bool) noexcept { return false; }
    void on_ack(option_range) noexcept {}
    void on_nak(option_range opts) noexcept {
        for (auto o : opts)
            if (auto v = ipv6cp::interface_identifier::decode(o.data, o.offset); v && v->value != 0)
                local = v->value;
    }
    void on_reject(option_range) noexcept {}
};

}  // namespace l2sec::ppp

namespace l2sec::ppp {
static_assert(option_policy<ipcp_policy>);
}  // namespace l2sec::ppp
