// PFS and ESN in Child SAs. PFS in CREATE_CHILD_SA (RFC 7296 1.3.1, 2.17):
// with config::child_pfs our Child SA rekeys carry a KE and the group in
// every ESP proposal, the responder answers with its KE and the group, and
// both derive the new keys from g^ir | Ni | Nr (ESP packets cross, which they
// would not if only one side mixed g^ir in). A group the responder does not
// accept leaves the old Child SA in place. ESN (config::esn) is chosen only
// when both sides allow it.
#include "ike_v2_engine/support.hpp"

using namespace l2sec;
using l2sec::test::ike1::network;
using l2sec::test::ike1::rng;
using l2sec::test::ike2::client_ep;
using l2sec::test::ike2::server_ep;
using std::chrono::seconds;
namespace v2 = l2sec::ike::v2;

namespace {
using engine_t = l2sec::test::ike2::engine<>;
std::unique_ptr<engine_t> make(std::uint64_t seed, const v2::config& cfg) {
    return l2sec::test::ike2::make(seed, cfg, "l2sec-pfs-psk");
}
constexpr auto crosses = [](const v2::child_sa& a, const v2::child_sa& b) {
    return l2sec::test::ike2::esp_crosses(a, b);
};
struct rekeyed {
    std::vector<v2::event> client_up, server_up, client_failed;
};
rekeyed rekey_once(const v2::config& cc, const v2::config& sc) {
    auto client = make(1, cc), server = make(2, sc);
    network<engine_t> net;
    auto c = net.add(*client), s = net.add(*server);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    REQUIRE(client->connect(l2sec::test::ike2::conn(), net.now));
    net.pump();
    REQUIRE(net.of(c, v2::event_kind::child_up).size() == 1);
    net.run_for(seconds(95));  // the client rekeys at 90 s
    return {net.of(c, v2::event_kind::child_up), net.of(s, v2::event_kind::child_up),
            net.of(c, v2::event_kind::failed)};
}
v2::config rekeying(ike::dh_group pfs) {
    v2::config c;
    c.child_lifetime = seconds(100);
    c.dpd_interval = seconds(0);
    c.child_pfs = pfs;
    return c;
}
}  // namespace

TEST_CASE("PFS: a Child SA rekey with KE in each group; both sides mix g^ir into the keys") {
    for (auto g : {ike::dh_group::ecp256, ike::dh_group::modp2048, ike::dh_group::curve25519,
                   ike::dh_group::ecp384}) {
        CAPTURE(static_cast<int>(g));
        auto sc = rekeying(ike::dh_group{0});  // the responder needs no setting to answer
        auto r = rekey_once(rekeying(g), sc);
        REQUIRE(r.client_up.size() == 2);
        REQUIRE(r.server_up.size() == 2);
        CHECK(r.client_up[0].child.pfs_group == 0);  // IKE_AUTH's Child SA: no KE there
        CHECK(r.client_up[1].child.pfs_group == static_cast<std::uint16_t>(g));
        CHECK(r.server_up[1].child.pfs_group == static_cast<std::uint16_t>(g));
        CHECK(r.client_up[1].old_spi_in == r.client_up[0].child.spi_in);
        CHECK(crosses(r.client_up[1].child, r.server_up[1].child));
        CHECK(crosses(r.server_up[1].child, r.client_up[1].child));
        CHECK(r.client_failed.empty());
    }
}

TEST_CASE("PFS: without child_pfs a rekey has no KE and the keys come from SK_d alone") {
    auto r = rekey_once(rekeying(ike::dh_group{0}), rekeying(ike::dh_group{0}));
    REQUIRE(r.client_up.size() == 2);
    CHECK(r.client_up[1].child.pfs_group == 0);
    CHECK(r.server_up[1].child.pfs_group == 0);
    CHECK(crosses(r.client_up[1].child, r.server_up[1].child));
}

TEST_CASE("PFS: a group the responder does not accept fails the rekey, the old SA stays") {
    static const v2::ike_proposal only_ecp256[] = {{ike::encr_id::aes_gcm_16, 256,
                                                    ike::prf_id::hmac_sha2_256, ike::integ_id::none,
                                                    ike::dh_group::ecp256}};
    auto sc = rekeying(ike::dh_group{0});
    sc.ike_proposals = only_ecp256;
    auto r = rekey_once(rekeying(ike::dh_group::ecp384), sc);
    CHECK(r.client_up.size() == 1);
    CHECK(r.server_up.size() == 1);
    REQUIRE_FALSE(r.client_failed.empty());
}

TEST_CASE("config: child_pfs must be a group the backend has (MODP-1024 only with allow_weak)") {
    v2::config c;
    c.child_pfs = ike::dh_group{9999};
    auto e = engine_t::make(c, rng(1), v2::single_psk(as_bytes("x")));
    REQUIRE_FALSE(e.has_value());
    CHECK(std::string(e.error().field).find("child_pfs") != std::string::npos);
    c.child_pfs = ike::dh_group::modp1024;
    CHECK_FALSE(engine_t::make(c, rng(1), v2::single_psk(as_bytes("x"))).has_value());
    c.allow_weak = true;
    CHECK(engine_t::make(c, rng(1), v2::single_psk(as_bytes("x"))).has_value());
}

TEST_CASE("ESN (RFC 4303 2.2.1): chosen when both sides allow it, else 32-bit, both ways") {
    for (int c_esn = 0; c_esn < 2; ++c_esn)
        for (int s_esn = 0; s_esn < 2; ++s_esn) {
            CAPTURE(c_esn);
            CAPTURE(s_esn);
            auto cc = rekeying(ike::dh_group{0}), sc = rekeying(ike::dh_group{0});
            cc.esn = c_esn != 0;
            sc.esn = s_esn != 0;
            auto r = rekey_once(cc, sc);  // IKE_AUTH's Child SA, then a CREATE_CHILD_SA one
            REQUIRE(r.client_up.size() == 2);
            REQUIRE(r.server_up.size() == 2);
            const bool both = c_esn && s_esn;
            for (std::size_t i = 0; i < 2; ++i) {
                CHECK(r.client_up[i].child.esn == both);
                CHECK(r.server_up[i].child.esn == both);
                CHECK(r.client_up[i].child.inbound_config().esn == both);
                CHECK(r.server_up[i].child.outbound_config().esn == both);
                CHECK(crosses(r.client_up[i].child, r.server_up[i].child));
                CHECK(crosses(r.server_up[i].child, r.client_up[i].child));
            }
        }
}
