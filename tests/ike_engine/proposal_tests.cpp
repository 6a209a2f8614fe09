// Proposal selection against what the built-in clients really offer
// (DESIGN.md "What the real clients send", issue 9): the defaults accept
// Windows 10/11 and macOS/iOS with their strongest common transform; the
// MODP-1024-only Android needs allow_weak; weak transforms are never taken
// when a strong one is offered.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <array>

using namespace l2sec;
using namespace l2sec::test::ike1;
using crypto::dh_id;
using ike::v1_encr;
using ike::v1_hash;
using E = esp::encryption;
using I = esp::integrity;

namespace {

const endpoint server_ep = ep(198, 51, 100, 1, 500);
const endpoint client_ep = ep(192, 168, 1, 10, 500);

// Windows 10/11 Main Mode, in its order.
const v1::phase1_proposal windows_mm[] = {
    {v1_encr::aes_cbc, 256, v1_hash::sha1, dh_id::ecp384},
    {v1_encr::aes_cbc, 128, v1_hash::sha1, dh_id::ecp256},
    {v1_encr::aes_cbc, 256, v1_hash::sha1, dh_id::modp2048},
    {v1_encr::des3_cbc, 192, v1_hash::sha1, dh_id::modp2048},
};
// Windows Quick Mode: AES-256/128 and 3DES with SHA-1.
const v1::esp_proposal windows_qm[] = {
    {{E::aes_cbc, 32, I::hmac_sha1_96}},
    {{E::aes_cbc, 16, I::hmac_sha1_96}},
    {{E::tdes_cbc, 24, I::hmac_sha1_96}},
};
// macOS/iOS (racoon): 14 Main Mode transforms.
const v1::phase1_proposal apple_mm[] = {
    {v1_encr::aes_cbc, 256, v1_hash::sha2_256, dh_id::modp2048},
    {v1_encr::aes_cbc, 256, v1_hash::sha1, dh_id::modp2048},
    {v1_encr::aes_cbc, 256, v1_hash::md5, dh_id::modp2048},
    {v1_encr::aes_cbc, 256, v1_hash::sha2_512, dh_id::modp2048},
    {v1_encr::aes_cbc, 256, v1_hash::sha2_256, dh_id::modp1536},
    {v1_encr::aes_cbc, 256, v1_hash::sha1, dh_id::modp1536},
    {v1_encr::aes_cbc, 256, v1_hash::md5, dh_id::modp1536},
    {v1_encr::aes_cbc, 256, v1_hash::sha2_256, dh_id::modp1024},
    {v1_encr::aes_cbc, 256, v1_hash::sha1, dh_id::modp1024},
    {v1_encr::aes_cbc, 256, v1_hash::md5, dh_id::modp1024},
    {v1_encr::aes_cbc, 128, v1_hash::sha1, dh_id::modp1024},
    {v1_encr::aes_cbc, 128, v1_hash::md5, dh_id::modp1024},
    {v1_encr::des3_cbc, 192, v1_hash::sha1, dh_id::modp1024},
    {v1_encr::des3_cbc, 192, v1_hash::md5, dh_id::modp1024},
};
// macOS/iOS Quick Mode: AES-256/128 and 3DES x SHA-256/SHA-1/MD5.
const v1::esp_proposal apple_qm[] = {
    {{E::aes_cbc, 32, I::hmac_sha2_256_128}},  {{E::aes_cbc, 32, I::hmac_sha1_96}},
    {{E::aes_cbc, 32, I::hmac_md5_96}},        {{E::aes_cbc, 16, I::hmac_sha2_256_128}},
    {{E::aes_cbc, 16, I::hmac_sha1_96}},       {{E::aes_cbc, 16, I::hmac_md5_96}},
    {{E::tdes_cbc, 24, I::hmac_sha2_256_128}}, {{E::tdes_cbc, 24, I::hmac_sha1_96}},
    {{E::tdes_cbc, 24, I::hmac_md5_96}},
};
// Android <= 11 (racoon): everything on MODP-1024.
const v1::phase1_proposal android_mm[] = {
    {v1_encr::aes_cbc, 256, v1_hash::sha2_256, dh_id::modp1024},
    {v1_encr::aes_cbc, 256, v1_hash::sha1, dh_id::modp1024},
    {v1_encr::aes_cbc, 256, v1_hash::md5, dh_id::modp1024},
    {v1_encr::aes_cbc, 128, v1_hash::sha2_256, dh_id::modp1024},
    {v1_encr::aes_cbc, 128, v1_hash::sha1, dh_id::modp1024},
    {v1_encr::aes_cbc, 128, v1_hash::md5, dh_id::modp1024},
    {v1_encr::des3_cbc, 192, v1_hash::sha2_256, dh_id::modp1024},
    {v1_encr::des3_cbc, 192, v1_hash::sha1, dh_id::modp1024},
    {v1_encr::des3_cbc, 192, v1_hash::md5, dh_id::modp1024},
    {v1_encr::des_cbc, 64, v1_hash::md5, dh_id::modp1024},
};
const v1::esp_proposal android_qm[] = {
    {{E::aes_cbc, 32, I::hmac_sha2_256_128}}, {{E::aes_cbc, 32, I::hmac_sha1_96}},
    {{E::aes_cbc, 16, I::hmac_sha2_256_128}}, {{E::aes_cbc, 16, I::hmac_sha1_96}},
    {{E::tdes_cbc, 24, I::hmac_sha1_96}},     {{E::des_cbc, 8, I::hmac_md5_96}},
};

struct outcome {
    bool up = false;
    v1::child_sa client, server;
    std::uint64_t no_proposal = 0;
};

outcome negotiate(std::span<const v1::phase1_proposal> mm, std::span<const v1::esp_proposal> qm,
                  const v1::config& server_cfg = {}, bool nat = true) {
    v1::config cc;
    cc.ike_proposals = mm;
    cc.esp_proposals = qm;
    cc.allow_weak = true;  // a client offers what it offers
    auto client = make_engine(1, cc);
    auto server = make_engine(2, server_cfg);
    nat_box box(ep(203, 0, 113, 5, 0));
    network<engine_t<>> net;
    auto c = net.add(*client, nat ? &box : nullptr);
    auto s = net.add(*server);
    net.hosts[c].addrs = {client_ep};
    net.hosts[s].addrs = {server_ep};
    REQUIRE(client->connect(l2tp_connection(client_ep, server_ep), net.now).has_value());
    net.run_for(std::chrono::seconds(5));
    outcome o;
    o.no_proposal = server->stats().no_proposal;
    auto cu = net.of(c, v1::event_kind::child_up);
    auto su = net.of(s, v1::event_kind::child_up);
    if (cu.size() == 1 && su.size() == 1) {
        o.up = true;
        o.client = cu[0].child;
        o.server = su[0].child;
    }
    return o;
}

}  // namespace

TEST_CASE("Windows 10/11: accepted by the defaults with AES-256/SHA-1/ECP-384, ESP AES-256/SHA-1") {
    auto o = negotiate(windows_mm, windows_qm);
    REQUIRE(o.up);
    CHECK(o.server.suite == esp::suite{E::aes_cbc, 32, I::hmac_sha1_96});
    CHECK(o.server.udp_encap);
}

TEST_CASE("macOS/iOS: accepted by the defaults; the strongest common choice, not MD5 or 3DES") {
    auto o = negotiate(apple_mm, apple_qm);
    REQUIRE(o.up);
    CHECK(o.server.suite == esp::suite{E::aes_cbc, 32, I::hmac_sha2_256_128});
}

TEST_CASE("Android (MODP-1024 only): refused by default, accepted with allow_weak") {
    auto refused = negotiate(android_mm, android_qm);
    CHECK_FALSE(refused.up);
    CHECK(refused.no_proposal == 1);
    v1::config weak;
    weak.allow_weak = true;
    auto o = negotiate(android_mm, android_qm, weak);
    REQUIRE(o.up);
    CHECK(o.server.suite == esp::suite{E::aes_cbc, 32, I::hmac_sha2_256_128});
}

TEST_CASE("Android 6/7: sha256_96_compat installs HMAC-SHA-256 truncated to 96 bits") {
    v1::config weak;
    weak.allow_weak = true;
    weak.sha256_96_compat = true;
    auto o = negotiate(android_mm, android_qm, weak);
    REQUIRE(o.up);
    CHECK(o.server.suite.integ == I::hmac_sha2_256_96);
    CHECK(esp::icv_size(o.server.suite.integ) == 12);
    // The client engine (no compat switch) installed the 128-bit variant: the
    // truncation is the server's local adaptation to a client that truncates.
    CHECK(o.client.suite.integ == I::hmac_sha2_256_128);
}

TEST_CASE("weak only with allow_weak: a client offering only 3DES/MD5 ESP is refused by default") {
    static const v1::esp_proposal only_weak[] = {{{E::tdes_cbc, 24, I::hmac_md5_96}}};
    auto o = negotiate(windows_mm, only_weak);
    CHECK_FALSE(o.up);
    v1::config weak;
    weak.allow_weak = true;
    auto w = negotiate(windows_mm, only_weak, weak);
    REQUIRE(w.up);
    CHECK(w.server.suite == esp::suite{E::tdes_cbc, 24, I::hmac_md5_96});
}

TEST_CASE("the default lists are strong, and weak_*_proposals are weak") {
    for (auto& p : v1::default_ike_proposals())
        CHECK_FALSE(v1::is_weak(p));
    for (auto& p : v1::default_esp_proposals())
        CHECK_FALSE(v1::is_weak(p));
    for (auto& p : v1::weak_ike_proposals())
        CHECK(v1::is_weak(p));
    for (auto& p : v1::weak_esp_proposals())
        CHECK(v1::is_weak(p));
}
