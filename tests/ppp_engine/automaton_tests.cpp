// The RFC 1661 automaton against the state transition table of section 4.1,
// transcribed here in the RFC's own notation and checked cell by cell, plus
// the restart timer and counters, and the table's restart ("r") and passive
// ("p") options, checked against the footnoted cells.
#include <l2sec/ppp/automaton.hpp>

#include <doctest/doctest.h>

#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include "support/alloc_counter.hpp"

using namespace l2sec;
using namespace l2sec::ppp;
using namespace std::chrono_literals;

namespace {

// RFC 1661 section 4.1, both halves, footnote letters kept.
constexpr const char* rfc_table[] = {
    // event   0         1          2          3              4        5        6          7 8 9
    "Up        2         irc,scr/6  -          -              -        -        -          -       "
    "   -          -",
    "Down      -         -          0          tls/1          0        1        1          1       "
    "   1          tld/1",
    "Open      tls/1     1          irc,scr/6  3r             5r       5r       6          7       "
    "   8          9r",
    "Close     0         tlf/0      2          2              4        4        irc,str/4  "
    "irc,str/4  irc,str/4  tld,irc,str/4",
    "TO+       -         -          -          -              str/4    str/5    scr/6      scr/6   "
    "   scr/8      -",
    "TO-       -         -          -          -              tlf/2    tlf/3    tlf/3p     tlf/3p  "
    "   tlf/3p     -",
    "RCR+      -         -          sta/2      irc,scr,sca/8  4        5        sca/8      "
    "sca,tlu/9  sca/8      tld,scr,sca/8",
    "RCR-      -         -          sta/2      irc,scr,scn/6  4        5        scn/6      scn/7   "
    "   scn/6      tld,scr,scn/6",
    "RCA       -         -          sta/2      sta/3          4        5        irc/7      scr/6x  "
    "   irc,tlu/9  tld,scr/6x",
    "RCN       -         -          sta/2      sta/3          4        5        irc,scr/6  scr/6x  "
    "   irc,scr/8  tld,scr/6x",
    "RTR       -         -          sta/2      sta/3          sta/4    sta/5    sta/6      sta/6   "
    "   sta/6      tld,zrc,sta/5",
    "RTA       -         -          2          3              tlf/2    tlf/3    6          6       "
    "   8          tld,scr/6",
    "RUC       -         -          scj/2      scj/3          scj/4    scj/5    scj/6      scj/7   "
    "   scj/8      scj/9",
    "RXJ+      -         -          2          3              4        5        6          6       "
    "   8          9",
    "RXJ-      -         -          tlf/2      tlf/3          tlf/2    tlf/3    tlf/3      tlf/3   "
    "   tlf/3      tld,irc,str/5",
    "RXR       -         -          2          3              4        5        6          7       "
    "   8          ser/9",
};

struct recorder {
    std::vector<std::string> log;
    void on_action(action a) {
        if (a == action::irc || a == action::zrc) log.push_back(to_string(a));
    }
    void this_layer_up() { log.push_back("tlu"); }
    void this_layer_down() { log.push_back("tld"); }
    void this_layer_started() { log.push_back("tls"); }
    void this_layer_finished() { log.push_back("tlf"); }
    void send_configure_request() { log.push_back("scr"); }
    void send_configure_ack() { log.push_back("sca"); }
    void send_configure_nak() { log.push_back("scn"); }
    void send_terminate_request() { log.push_back("str"); }
    void send_terminate_ack() { log.push_back("sta"); }
    void send_code_reject() { log.push_back("scj"); }
    void send_echo_reply() { log.push_back("ser"); }
};
static_assert(automaton_actions<recorder>);

// Bring an automaton into state s through legal events only.
automaton reach(state s, recorder& r, time_point now, automaton_config cfg = {}) {
    automaton a(cfg);
    auto go = [&](event e) { REQUIRE(a.handle(e, now, r)); };
    switch (s) {
        case state::initial:
            break;
        case state::starting:
            go(event::open);
            break;
        case state::closed:
            go(event::up);
            break;
        case state::stopped:  // Req-Sent until the counter runs out: TO- -> Stopped
            go(event::up);
            go(event::open);
            for (int i = 0; i < 10; ++i)
                go(event::to_plus);
            go(event::to_minus);
            break;
        case state::closing:
            go(event::up);
            go(event::open);
            go(event::close);
            break;
        case state::stopping:
            go(event::up);
            go(event::open);
            go(event::rca);
            go(event::rcr_plus);
            go(event::rtr);
            break;
        case state::req_sent:
            go(event::up);
            go(event::open);
            break;
        case state::ack_rcvd:
            go(event::up);
            go(event::open);
            go(event::rca);
            break;
        case state::ack_sent:
            go(event::up);
            go(event::open);
            go(event::rcr_plus);
            break;
        case state::opened:
            go(event::up);
            go(event::open);
            go(event::rca);
            go(event::rcr_plus);
            break;
    }
    REQUIRE(a.current() == s);
    r.log.clear();
    return a;
}

}  // namespace

TEST_CASE("RFC 1661 4.1: every cell of the state transition table") {
    time_point now{};
    int cells = 0;
    for (std::size_t e = 0; e < event_count; ++e) {
        std::istringstream row(rfc_table[e]);
        std::string name;
        row >> name;
        CHECK(name == to_string(static_cast<event>(e)));
        for (std::size_t s = 0; s < state_count; ++s) {
            std::string cell;
            row >> cell;
            REQUIRE_FALSE(cell.empty());
            CAPTURE(name);
            CAPTURE(s);
            recorder r;
            automaton a = reach(static_cast<state>(s), r, now);
            bool legal = a.handle(static_cast<event>(e), now, r);
            if (cell == "-") {
                CHECK_FALSE(legal);
                CHECK(a.current() == static_cast<state>(s));
                CHECK(r.log.empty());
                ++cells;
                continue;
            }
            CHECK(legal);
            std::string actions, target = cell;
            if (auto slash = cell.find('/'); slash != std::string::npos) {
                actions = cell.substr(0, slash);
                target = cell.substr(slash + 1);
            }
            while (!target.empty() && !std::isdigit(static_cast<unsigned char>(target.back())))
                target.pop_back();  // footnotes r, p, x: default behaviour
            CHECK(static_cast<int>(a.current()) == std::stoi(target));
            std::string got;
            for (auto& x : r.log)
                got += (got.empty() ? "" : ",") + x;
            CHECK(got == actions);
            ++cells;
        }
    }
    CHECK(cells == 160);
}

namespace {

// One cell of rfc_table: "actions/target" and its footnote letter (or 0).
struct cell {
    bool legal = false;
    std::string actions;
    int target = 0;
    char footnote = 0;
};
cell rfc_cell(event e, state s) {
    std::istringstream row(rfc_table[static_cast<std::size_t>(e)]);
    std::string text;
    row >> text;  // the event's name
    for (std::size_t i = 0; i <= static_cast<std::size_t>(s); ++i)
        row >> text;
    cell c;
    if (text == "-") return c;
    c.legal = true;
    std::string target = text;
    if (auto slash = text.find('/'); slash != std::string::npos) {
        c.actions = text.substr(0, slash);
        target = text.substr(slash + 1);
    }
    if (!std::isdigit(static_cast<unsigned char>(target.back()))) {
        c.footnote = target.back();
        target.pop_back();
    }
    c.target = std::stoi(target);
    return c;
}
std::string joined(const std::string& a, const std::string& b) {
    return a.empty() ? b : b.empty() ? a : a + "," + b;
}

}  // namespace

TEST_CASE("RFC 1661 4.1 footnotes r and p: with both options on, every cell") {
    // [r] "when an Open user command is executed in the Opened, Closing,
    // Stopping, or Stopped states, the implementation issue a Down event,
    // immediately followed by an Up event" (4.3, Open); [p] "the
    // This-Layer-Finished action is not used for the TO- event in states
    // Req-Sent, Ack-Rcvd and Ack-Sent" (4.2, Stopped). Every other cell is
    // unchanged. Expectations come from the table itself.
    const automaton_config options{.restart_on_open = true, .passive = true};
    time_point now{};
    int r_cells = 0, p_cells = 0, cells = 0;
    for (std::size_t e = 0; e < event_count; ++e) {
        for (std::size_t s = 0; s < state_count; ++s) {
            const auto ev = static_cast<event>(e);
            const auto st = static_cast<state>(s);
            CAPTURE(to_string(ev));
            CAPTURE(to_string(st));
            cell want = rfc_cell(ev, st);
            if (want.footnote == 'r') {
                // The cell, then the Down cell of its target, then the Up cell of that.
                cell down = rfc_cell(event::down, static_cast<state>(want.target));
                cell up = rfc_cell(event::up, static_cast<state>(down.target));
                REQUIRE(down.legal);
                REQUIRE(up.legal);
                want.actions = joined(joined(want.actions, down.actions), up.actions);
                want.target = up.target;
                ++r_cells;
            } else if (want.footnote == 'p') {
                CHECK(want.actions == "tlf");
                want.actions.clear();
                ++p_cells;
            }
            recorder r;
            automaton a = reach(st, r, now, options);
            const bool legal = a.handle(ev, now, r);
            CHECK(legal == want.legal);
            ++cells;
            if (!want.legal) {
                CHECK(a.current() == st);
                CHECK(r.log.empty());
                continue;
            }
            CHECK(static_cast<int>(a.current()) == want.target);
            std::string got;
            for (auto& x : r.log)
                got = joined(got, x);
            CHECK(got == want.actions);
        }
    }
    CHECK(cells == 160);
    CHECK(r_cells == 4);
    CHECK(p_cells == 3);
}

TEST_CASE("restart option: Open in Opened renegotiates (tld, irc, scr), off by default") {
    for (bool restart : {false, true}) {
        CAPTURE(restart);
        recorder r;
        time_point now{};
        automaton_config cfg{.restart_on_open = restart};
        automaton a = reach(state::opened, r, now, cfg);
        REQUIRE(a.open(now, r));
        if (!restart) {
            CHECK(a.current() == state::opened);
            CHECK(r.log.empty());
            CHECK_FALSE(a.deadline());
            continue;
        }
        CHECK(r.log == std::vector<std::string>{"tld", "irc", "scr"});
        CHECK(a.current() == state::req_sent);
        CHECK(a.restart_counter() == cfg.max_configure - 1);
        REQUIRE(a.deadline());
        CHECK(*a.deadline() == now + cfg.restart_interval);
        // Closing: the cell goes to Stopping; Down takes it to Starting, Up
        // sends a fresh Configure-Request with the Max-Configure counter.
        recorder r2;
        automaton b = reach(state::closing, r2, now, cfg);
        REQUIRE(b.open(now, r2));
        CHECK(r2.log == std::vector<std::string>{"irc", "scr"});
        CHECK(b.current() == state::req_sent);
        CHECK(b.restart_counter() == cfg.max_configure - 1);
    }
}

TEST_CASE("passive option: after Max-Configure unanswered requests, wait in Stopped for the peer") {
    for (bool passive : {false, true}) {
        CAPTURE(passive);
        recorder r;
        automaton a({1s, 2, 3, 5, false, passive});
        time_point now{};
        a.up(now, r);
        a.open(now, r);
        while (a.current() == state::req_sent)
            REQUIRE(a.on_timer(now = *a.deadline(), r));
        CHECK(a.current() == state::stopped);
        CHECK_FALSE(a.deadline());  // no timer in Stopped: nothing more is sent
        CHECK((r.log.back() == "tlf") == !passive);
        // The peer's Configure-Request, whenever it comes, is answered (RCR+ in Stopped).
        r.log.clear();
        REQUIRE(a.handle(event::rcr_plus, now + 1h, r));
        CHECK(r.log == std::vector<std::string>{"irc", "scr", "sca"});
        CHECK(a.current() == state::ack_sent);
    }
    // TO- in Closing and Stopping is not a "p" cell: tlf either way.
    recorder r;
    automaton a = reach(state::closing, r, time_point{}, {.passive = true});
    while (a.current() == state::closing)
        REQUIRE(a.on_timer(*a.deadline(), r));
    CHECK(r.log.back() == "tlf");
}

TEST_CASE("restart timer: Max-Configure Configure-Requests, then TO- finishes the layer") {
    recorder r;
    automaton a({1s, 2, 3, 5});
    time_point now{};
    a.handle(event::up, now, r);
    a.handle(event::open, now, r);  // irc, scr: counter 3 -> 2
    CHECK(a.current() == state::req_sent);
    REQUIRE(a.deadline());
    CHECK(*a.deadline() == now + 1s);
    CHECK_FALSE(a.on_timer(now + 999ms, r));
    int scr = 0;
    while (a.current() == state::req_sent) {
        now = *a.deadline();
        REQUIRE(a.on_timer(now, r));
    }
    for (auto& x : r.log)
        scr += x == "scr";
    CHECK(scr == 3);  // Max-Configure transmissions in all
    CHECK(a.current() == state::stopped);
    CHECK(r.log.back() == "tlf");
    CHECK_FALSE(a.deadline());
}

TEST_CASE("Close sends Max-Terminate Terminate-Requests, then Closed") {
    recorder r;
    automaton a({2s, 2, 10, 5});
    time_point now{};
    a.handle(event::up, now, r);
    a.handle(event::open, now, r);
    a.handle(event::rca, now, r);
    a.handle(event::rcr_plus, now, r);
    REQUIRE(a.current() == state::opened);
    CHECK_FALSE(a.deadline());  // no timer in Opened
    r.log.clear();
    a.handle(event::close, now, r);
    CHECK(a.current() == state::closing);
    while (a.current() == state::closing)
        REQUIRE(a.on_timer(*a.deadline(), r));
    CHECK(r.log == std::vector<std::string>{"tld", "irc", "str", "str", "tlf"});
    CHECK(a.current() == state::closed);
}

TEST_CASE("RTR in Opened: zrc waits one restart interval in Stopping") {
    recorder r;
    automaton a;
    time_point now{};
    a.handle(event::up, now, r);
    a.handle(event::open, now, r);
    a.handle(event::rca, now, r);
    a.handle(event::rcr_plus, now, r);
    a.handle(event::rtr, now, r);
    CHECK(a.current() == state::stopping);
    REQUIRE(a.deadline());
    CHECK(*a.deadline() == now + 3s);
    REQUIRE(a.on_timer(now + 3s, r));
    CHECK(a.current() == state::stopped);
}

TEST_CASE("Max-Failure counts Configure-Naks and irc resets it") {
    recorder r;
    automaton a({1s, 2, 10, 2});
    time_point now{};
    a.handle(event::up, now, r);
    a.handle(event::open, now, r);
    CHECK_FALSE(a.failure_exhausted());
    a.count_nak();
    a.count_nak();
    CHECK(a.failure_exhausted());
    a.handle(event::rcn, now, r);  // irc, scr
    CHECK_FALSE(a.failure_exhausted());
}

TEST_CASE("automaton: zero allocations, constexpr table") {
    static_assert(lookup(state::req_sent, event::rca).next == state::ack_rcvd);
    static_assert(lookup(state::opened, event::open, {.restart_on_open = true}).next ==
                  state::req_sent);
    static_assert(lookup(state::ack_sent, event::to_minus, {.passive = true}).count == 0);
    static_assert(!lookup(state::initial, event::rcr_plus).legal);
    struct quiet {
        void this_layer_up() {}
        void this_layer_down() {}
        void this_layer_started() {}
        void this_layer_finished() {}
        void send_configure_request() {}
        void send_configure_ack() {}
        void send_configure_nak() {}
        void send_terminate_request() {}
        void send_terminate_ack() {}
        void send_code_reject() {}
        void send_echo_reply() {}
    } q;
    automaton a;
    time_point now{};
    CHECK(test::allocations_in([&] {
              a.handle(event::up, now, q);
              a.handle(event::open, now, q);
              a.handle(event::rcr_plus, now, q);
              a.handle(event::rca, now, q);
              a.handle(event::rxr, now, q);
              a.handle(event::close, now, q);
              a.on_timer(now + 10s, q);
          }) == 0);
    CHECK(std::string(to_string(state::ack_sent)) == "Ack-Sent");
}
