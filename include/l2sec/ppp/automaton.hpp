// The RFC 1661 section 4 option negotiation automaton: ten states, sixteen
// events, the full event/action table, the restart timer and the counters
// Max-Configure, Max-Terminate and Max-Failure. Generic and sans-I/O: the
// automaton decides, an `actions` sink (the protocol policy: LCP, IPCP,
// IPV6CP) builds and queues the packets and hears about layer up/down. Time
// comes in as an argument; the next deadline comes out of deadline(). The
// table's optional behaviours, restart ("r") and passive ("p"), are off by
// default and switched on in automaton_config.
#pragma once

#include <l2sec/core/clock.hpp>

#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>

namespace l2sec::ppp {

/// RFC 1661 4.2 states, numbered as in the state transition table.
enum class state : std::uint8_t {
    initial = 0,
    starting = 1,
    closed = 2,
    stopped = 3,
    closing = 4,
    stopping = 5,
    req_sent = 6,
    ack_rcvd = 7,
    ack_sent = 8,
    opened = 9,
};

/// RFC 1661 4.3 events, in the table's order.
enum class event : std::uint8_t {
    up,         ///< lower layer is Up
    down,       ///< lower layer is Down
    open,       ///< administrative Open
    close,      ///< administrative Close
    to_plus,    ///< Timeout with counter > 0
    to_minus,   ///< Timeout with counter expired
    rcr_plus,   ///< Receive-Configure-Request (Good)
    rcr_minus,  ///< Receive-Configure-Request (Bad)
    rca,        ///< Receive-Configure-Ack
    rcn,        ///< Receive-Configure-Nak/Rej
    rtr,        ///< Receive-Terminate-Request
    rta,        ///< Receive-Terminate-Ack
    ruc,        ///< Receive-Unknown-Code
    rxj_plus,   ///< Receive-Code-Reject (permitted) or Receive-Protocol-Reject
    rxj_minus,  ///< Receive-Code-Reject (catastrophic) or Receive-Protocol-Reject
    rxr,        ///< Receive-Echo-Request, Echo-Reply or Discard-Request
};
inline constexpr std::size_t state_count = 10;
inline constexpr std::size_t event_count = 16;

/// RFC 1661 4.4 actions.
enum class action : std::uint8_t {
    tlu,
    tld,
    tls,
    tlf,
    irc,
    zrc,
    scr,
    sca,
    scn,
    str,
    sta,
    scj,
    ser
};

constexpr const char* to_string(state s) noexcept {
    constexpr const char* n[] = {"Initial",  "Starting", "Closed",   "Stopped",  "Closing",
                                 "Stopping", "Req-Sent", "Ack-Rcvd", "Ack-Sent", "Opened"};
    auto i = static_cast<std::size_t>(s);
    return i < state_count ? n[i] : "?";
}
constexpr const char* to_string(event e) noexcept {
    constexpr const char* n[] = {"Up",  "Down", "Open", "Close", "TO+", "TO-",  "RCR+", "RCR-",
                                 "RCA", "RCN",  "RTR",  "RTA",   "RUC", "RXJ+", "RXJ-", "RXR"};
    auto i = static_cast<std::size_t>(e);
    return i < event_count ? n[i] : "?";
}
constexpr const char* to_string(action a) noexcept {
    constexpr const char* n[] = {"tlu", "tld", "tls", "tlf", "irc", "zrc", "scr",
                                 "sca", "scn", "str", "sta", "scj", "ser"};
    auto i = static_cast<std::size_t>(a);
    return i < 13 ? n[i] : "?";
}

/// One cell of the state transition table: the actions, in order, and the next state.
struct transition {
    bool legal = false;  ///< false for the table's "-" (the event cannot occur in this state)
    state next = state::initial;
    std::uint8_t count = 0;
    std::array<action, 4> actions{};
};

namespace detail {

template <class... A>
constexpr transition tr(state next, A... a) noexcept {
    transition t;
    t.legal = true;
    t.next = next;
    ((t.actions[t.count++] = a), ...);
    return t;
}
inline constexpr transition no{};

// The table of RFC 1661 section 4.1, row by row (one row per event, one
// column per state 0..9). The "r" (restart) and "p" (passive) cells hold
// their default transitions (the options are applied by lookup() below);
// "x" (crossed connection) is the plain transition.
constexpr std::array<std::array<transition, state_count>, event_count> make_table() noexcept {
    using S = state;
    using A = action;
    std::array<std::array<transition, state_count>, event_count> t{};
    auto row = [&](event e, std::array<transition, state_count> r) {
        t[static_cast<std::size_t>(e)] = r;
    };
    // clang-format off
    row(event::up,        {tr(S::closed), tr(S::req_sent, A::irc, A::scr), no, no, no, no, no, no, no, no});
    row(event::down,      {no, no, tr(S::initial), tr(S::starting, A::tls), tr(S::initial), tr(S::starting),
                           tr(S::starting), tr(S::starting), tr(S::starting), tr(S::starting, A::tld)});
    row(event::open,      {tr(S::starting, A::tls), tr(S::starting), tr(S::req_sent, A::irc, A::scr),
                           tr(S::stopped), tr(S::stopping), tr(S::stopping), tr(S::req_sent), tr(S::ack_rcvd),
                           tr(S::ack_sent), tr(S::opened)});
    row(event::close,     {tr(S::initial), tr(S::initial, A::tlf), tr(S::closed), tr(S::closed), tr(S::closing),
                           tr(S::closing), tr(S::closing, A::irc, A::str), tr(S::closing, A::irc, A::str),
                           tr(S::closing, A::irc, A::str), tr(S::closing, A::tld, A::irc, A::str)});
    row(event::to_plus,   {no, no, no, no, tr(S::closing, A::str), tr(S::stopping, A::str),
                           tr(S::req_sent, A::scr), tr(S::req_sent, A::scr), tr(S::ack_sent, A::scr), no});
    row(event::to_minus,  {no, no, no, no, tr(S::closed, A::tlf), tr(S::stopped, A::tlf),
                           tr(S::stopped, A::tlf), tr(S::stopped, A::tlf), tr(S::stopped, A::tlf), no});
    row(event::rcr_plus,  {no, no, tr(S::closed, A::sta), tr(S::ack_sent, A::irc, A::scr, A::sca),
                           tr(S::closing), tr(S::stopping), tr(S::ack_sent, A::sca),
                           tr(S::opened, A::sca, A::tlu), tr(S::ack_sent, A::sca),
                           tr(S::ack_sent, A::tld, A::scr, A::sca)});
    row(event::rcr_minus, {no, no, tr(S::closed, A::sta), tr(S::req_sent, A::irc, A::scr, A::scn),
                           tr(S::closing), tr(S::stopping), tr(S::req_sent, A::scn),
                           tr(S::ack_rcvd, A::scn), tr(S::req_sent, A::scn),
                           tr(S::req_sent, A::tld, A::scr, A::scn)});
    row(event::rca,       {no, no, tr(S::closed, A::sta), tr(S::stopped, A::sta), tr(S::closing),
                           tr(S::stopping), tr(S::ack_rcvd, A::irc), tr(S::req_sent, A::scr),
                           tr(S::opened, A::irc, A::tlu), tr(S::req_sent, A::tld, A::scr)});
    row(event::rcn,       {no, no, tr(S::closed, A::sta), tr(S::stopped, A::sta), tr(S::closing),
                           tr(S::stopping), tr(S::req_sent, A::irc, A::scr), tr(S::req_sent, A::scr),
                           tr(S::ack_sent, A::irc, A::scr), tr(S::req_sent, A::tld, A::scr)});
    row(event::rtr,       {no, no, tr(S::closed, A::sta), tr(S::stopped, A::sta), tr(S::closing, A::sta),
                           tr(S::stopping, A::sta), tr(S::req_sent, A::sta), tr(S::req_sent, A::sta),
                           tr(S::req_sent, A::sta), tr(S::stopping, A::tld, A::zrc, A::sta)});
    row(event::rta,       {no, no, tr(S::closed), tr(S::stopped), tr(S::closed, A::tlf),
                           tr(S::stopped, A::tlf), tr(S::req_sent), tr(S::req_sent), tr(S::ack_sent),
                           tr(S::req_sent, A::tld, A::scr)});
    row(event::ruc,       {no, no, tr(S::closed, A::scj), tr(S::stopped, A::scj), tr(S::closing, A::scj),
                           tr(S::stopping, A::scj), tr(S::req_sent, A::scj), tr(S::ack_rcvd, A::scj),
                           tr(S::ack_sent, A::scj), tr(S::opened, A::scj)});
    row(event::rxj_plus,  {no, no, tr(S::closed), tr(S::stopped), tr(S::closing), tr(S::stopping),
                           tr(S::req_sent), tr(S::req_sent), tr(S::ack_sent), tr(S::opened)});
    row(event::rxj_minus, {no, no, tr(S::closed, A::tlf), tr(S::stopped, A::tlf), tr(S::closed, A::tlf),
                           tr(S::stopped, A::tlf), tr(S::stopped, A::tlf), tr(S::stopped, A::tlf),
                           tr(S::stopped, A::tlf), tr(S::stopping, A::tld, A::irc, A::str)});
    row(event::rxr,       {no, no, tr(S::closed), tr(S::stopped), tr(S::closing), tr(S::stopping),
                           tr(S::req_sent), tr(S::ack_rcvd), tr(S::ack_sent), tr(S::opened, A::ser)});
    // clang-format on
    return t;
}

}  // namespace detail

/// The RFC 1661 state transition table as data (constexpr).
inline constexpr auto transition_table = detail::make_table();

constexpr const transition& lookup(state s, event e) noexcept {
    return transition_table[static_cast<std::size_t>(e)][static_cast<std::size_t>(s)];
}

/// Timer and counter parameters (RFC 1661 4.6 defaults) and the table's
/// implementation options (both off: the table's default transitions).
struct automaton_config {
    duration restart_interval = std::chrono::seconds(3);
    std::uint8_t max_terminate = 2;
    std::uint8_t max_configure = 10;
    std::uint8_t max_failure = 5;
    /// "r" (4.3, Open): an Open in Stopped, Closing, Stopping or Opened
    /// renegotiates the link, as a Down event immediately followed by Up
    /// would, after the cell's own transition (Closing goes to Stopping).
    bool restart_on_open = false;
    /// "p" (4.2, Stopped): when the peer never answers our Configure-Requests
    /// (TO- in Req-Sent, Ack-Rcvd, Ack-Sent), wait passively in Stopped for
    /// its Configure-Request, without This-Layer-Finished. For dedicated
    /// circuits; the RFC says not for switched ones.
    bool passive = false;
};

namespace detail {

// Transition a followed by b: a's actions then b's, ending in b's state.
constexpr transition then(transition a, const transition& b) noexcept {
    for (std::uint8_t i = 0; i < b.count; ++i)
        a.actions[a.count++] = b.actions[i];
    a.next = b.next;
    return a;
}

// Transition t without action x.
constexpr transition without(const transition& t, action x) noexcept {
    transition r = t;
    r.count = 0;
    for (std::uint8_t i = 0; i < t.count; ++i)
        if (t.actions[i] != x) r.actions[r.count++] = t.actions[i];
    return r;
}

}  // namespace detail

/// The cell for (s, e) with the options of `c` applied to the footnoted cells.
constexpr transition lookup(state s, event e, const automaton_config& c) noexcept {
    const transition& t = lookup(s, e);
    const bool r_cell = e == event::open && (s == state::stopped || s == state::closing ||
                                             s == state::stopping || s == state::opened);
    if (r_cell && c.restart_on_open) {
        const transition& down = lookup(t.next, event::down);
        return detail::then(detail::then(t, down), lookup(down.next, event::up));
    }
    const bool p_cell = e == event::to_minus &&
                        (s == state::req_sent || s == state::ack_rcvd || s == state::ack_sent);
    if (p_cell && c.passive) return detail::without(t, action::tlf);
    return t;
}

/// What the automaton asks of its protocol policy. The send_* calls build and
/// queue a packet (the policy knows the options and the packet being answered).
/// A policy may also define on_action(action) to see every action (traces).
template <class A>
concept automaton_actions = requires(A& a) {
    a.this_layer_up();
    a.this_layer_down();
    a.this_layer_started();
    a.this_layer_finished();
    a.send_configure_request();
    a.send_configure_ack();
    a.send_configure_nak();
    a.send_terminate_request();
    a.send_terminate_ack();
    a.send_code_reject();
    a.send_echo_reply();
};

class automaton {
  public:
    constexpr automaton() noexcept = default;
    constexpr explicit automaton(automaton_config c) noexcept : cfg_(c) {}

    constexpr state current() const noexcept { return state_; }
    constexpr const automaton_config& config() const noexcept { return cfg_; }
    constexpr std::uint8_t restart_counter() const noexcept { return counter_; }
    /// When the restart timer fires, if it runs.
    constexpr std::optional<time_point> deadline() const noexcept {
        if (timer_running_) return timer_;
        return std::nullopt;
    }

    /// Feed one event. Returns false (and changes nothing) for the table's
    /// impossible cells, which can only come from a confused caller.
    template <automaton_actions A>
    constexpr bool handle(event e, time_point now, A& act) {
        const transition t = lookup(state_, e, cfg_);
        if (!t.legal) return false;
        state_ = t.next;  // actions may look at the new state (tlu sees Opened)
        for (std::uint8_t i = 0; i < t.count; ++i) {
            bool terminate = false;
            for (std::uint8_t j = i; j < t.count; ++j)
                terminate |= t.actions[j] == action::str;
            run(t.actions[i], terminate, now, act);
        }
        // The restart timer runs only in the states that wait for an answer.
        if (state_ != state::closing && state_ != state::stopping && state_ != state::req_sent &&
            state_ != state::ack_rcvd && state_ != state::ack_sent)
            timer_running_ = false;
        return true;
    }

    /// Fire the restart timer if it is due: TO+ while the counter lasts, then TO-.
    template <automaton_actions A>
    constexpr bool on_timer(time_point now, A& act) {
        if (!timer_running_ || now < timer_) return false;
        timer_running_ = false;
        return handle(counter_ > 0 ? event::to_plus : event::to_minus, now, act);
    }

    constexpr bool up(time_point now, automaton_actions auto& a) {
        return handle(event::up, now, a);
    }
    constexpr bool down(time_point now, automaton_actions auto& a) {
        return handle(event::down, now, a);
    }
    constexpr bool open(time_point now, automaton_actions auto& a) {
        return handle(event::open, now, a);
    }
    constexpr bool close(time_point now, automaton_actions auto& a) {
        return handle(event::close, now, a);
    }

    /// Consecutive Configure-Naks sent for one negotiation (Max-Failure): a
    /// policy that sees failure_exhausted() turns its Naks into Rejects.
    constexpr void count_nak() noexcept {
        if (naks_ < 255) ++naks_;
    }
    constexpr bool failure_exhausted() const noexcept { return naks_ >= cfg_.max_failure; }
    constexpr std::uint8_t naks_sent() const noexcept { return naks_; }

  private:
    template <class A>
    constexpr void run(action a, bool terminate, time_point now, A& act) {
        // Optional hook for traces and tests: sees every action, irc and zrc included.
        if constexpr (requires { act.on_action(a); }) act.on_action(a);
        switch (a) {
            case action::tlu:
                act.this_layer_up();
                break;
            case action::tld:
                act.this_layer_down();
                break;
            case action::tls:
                act.this_layer_started();
                break;
            case action::tlf:
                act.this_layer_finished();
                break;
            case action::irc:
                counter_ = terminate ? cfg_.max_terminate : cfg_.max_configure;
                naks_ = 0;
                break;
            case action::zrc:
                counter_ = 0;
                start_timer(now);
                break;
            case action::scr:
                if (counter_ > 0) --counter_;
                start_timer(now);
                act.send_configure_request();
                break;
            case action::sca:
                act.send_configure_ack();
                break;
            case action::scn:
                act.send_configure_nak();
                break;
            case action::str:
                if (counter_ > 0) --counter_;
                start_timer(now);
                act.send_terminate_request();
                break;
            case action::sta:
                act.send_terminate_ack();
                break;
            case action::scj:
                act.send_code_reject();
                break;
            case action::ser:
                act.send_echo_reply();
                break;
        }
    }
    constexpr void start_timer(time_point now) noexcept {
        timer_ = now + cfg_.restart_interval;
        timer_running_ = true;
    }

    state state_ = state::initial;  // first: read per data packet (control_protocol)
    automaton_config cfg_{};
    std::uint8_t counter_ = 0;
    std::uint8_t naks_ = 0;
    bool timer_running_ = false;
    time_point timer_{};
};

}  // namespace l2sec::ppp
