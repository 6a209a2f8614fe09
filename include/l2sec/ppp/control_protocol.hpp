// One PPP control protocol (LCP, IPCP, IPV6CP) over the RFC 1661 automaton:
// the generic packet handling (Configure-Request/Ack/Nak/Reject, Terminate,
// Code-Reject, Echo, Discard) and the option-policy seam. The generic part
// turns packets into automaton events and the automaton's actions into
// packets, written to a frame queue; a policy (ppp/option_policies.hpp)
// decides what we ask for and what we accept. Allocation-free.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/clock.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/ppp/automaton.hpp>
#include <l2sec/ppp/control.hpp>
#include <l2sec/ppp/frame.hpp>
#include <l2sec/ppp/lcp.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec::ppp {

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
    control_protocol(Policy p, automaton_config cfg) noexcept : fsm(cfg), policy(p) {}

    // The flags and the automaton's state first: the link's data fast path
    // reads them for every packet (see link_engine::data_payload).
    layer_flags flags{};
    automaton fsm{};
    Policy policy{};
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

}  // namespace l2sec::ppp
