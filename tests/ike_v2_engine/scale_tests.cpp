// The IKEv2 engine at scale: IKE SAs found through an SPI index and kept on
// a timer heap, so tick() visits only the SAs that are due and
// next_deadline() is the heap's top (the suite builds with
// L2SEC_IKE_V2_CHECK_TIMERS: every next_deadline() is also checked against a
// scan of every SA).
#include "ike_v2_engine/support.hpp"

using namespace l2sec;
using l2sec::test::ike1::network;
using l2sec::test::ike1::rng;
using std::chrono::seconds;
namespace v2 = l2sec::ike::v2;

namespace {
using engine_t = l2sec::test::ike2::engine<v2::limits<64, 64>>;
struct fleet {
    std::unique_ptr<engine_t> client, server;
    network<engine_t> net;
};
/// 40 IKE SAs from one client engine to one server engine.
void up(fleet& f, const v2::config& cfg) {
    auto mk = [](std::uint64_t seed, const v2::config& c) {
        return l2sec::test::ike2::make<engine_t>(seed, c, "scale");
    };
    auto server_cfg = cfg;
    server_cfg.cookie_threshold = 64;  // no COOKIE round trips for this burst
    server_cfg.half_open_per_address = 64;
    f.client = mk(1, cfg);
    f.server = mk(2, server_cfg);
    auto c = f.net.add(*f.client), s = f.net.add(*f.server);
    f.net.hosts[c].addrs = {l2sec::test::ike2::client_ep};
    f.net.hosts[s].addrs = {l2sec::test::ike2::server_ep};
    for (int i = 0; i < 40; ++i)
        REQUIRE(f.client->connect(l2sec::test::ike2::conn(), f.net.now).has_value());
    f.net.pump();
    REQUIRE(f.client->established() == 40);
    REQUIRE(f.server->established() == 40);
}
v2::config quiet() {
    v2::config cfg;
    cfg.dpd_interval = seconds(0);
    cfg.child_lifetime = seconds(0);
    cfg.ike_lifetime = seconds(0);
    return cfg;
}
}  // namespace

TEST_CASE("40 idle IKE SAs without timers: 1,000 ticks visit none, no deadline") {
    fleet f;
    up(f, quiet());
    CHECK_FALSE(f.client->next_deadline().has_value());
    const auto before = f.client->stats().timer_visits;
    for (int i = 0; i < 1000; ++i) {
        f.net.now += seconds(1);
        f.client->tick(f.net.now);
        f.server->tick(f.net.now);
    }
    CHECK(f.client->stats().timer_visits == before);
    CHECK(f.server->stats().timer_visits == 0);
    CHECK(f.client->established() == 40);
}

TEST_CASE("40 IKE SAs with liveness checks: ticks before they are due visit none, then each once") {
    auto cfg = quiet();
    cfg.dpd_interval = seconds(30);
    fleet f;
    up(f, cfg);
    const auto due = f.client->next_deadline();
    REQUIRE(due.has_value());
    const auto before = f.client->stats().timer_visits;
    for (int i = 0; i < 29; ++i) {
        f.net.now += seconds(1);
        f.client->tick(f.net.now);
    }
    CHECK(f.client->stats().timer_visits == before);
    f.net.now = *due;
    f.client->tick(f.net.now);
    CHECK(f.client->stats().timer_visits == before + 40);  // 40 liveness checks, one visit each
    CHECK(f.client->stats().liveness_sent == 40);
    f.net.pump();  // answered: all still up
    CHECK(f.client->established() == 40);
}
