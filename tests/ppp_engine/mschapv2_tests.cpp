// MS-CHAPv2 against RFC 2759 section 9.2 and the MPPE keys against RFC 3079
// section 3.5.3 (the same user, password and challenges).
#include <l2sec/crypto/botan.hpp>
#include <l2sec/ppp/mschapv2.hpp>

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "support/backends.hpp"
#include "support/hex.hpp"

using namespace l2sec;
namespace ms = l2sec::ppp::mschapv2;

namespace {
template <std::size_t N>
std::array<std::byte, N> arr(std::string_view h) {
    auto v = test::hex(h);
    if (v.size() != N) throw std::invalid_argument("hex length");
    std::array<std::byte, N> a{};
    std::copy(v.begin(), v.end(), a.begin());
    return a;
}
const auto auth_challenge = arr<16>("5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28");
const auto peer_challenge = arr<16>("21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E");
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("RFC 2759 9.2: the MS-CHAPv2 sample", B, rfc2759_sample) {
    auto c = ms::challenge_hash<B>(peer_challenge, auth_challenge, "User");
    REQUIRE(c);
    CHECK(*c == arr<8>("D0 2E 43 86 BC E9 12 26"));
    auto h = ms::nt_password_hash<B>("clientPass");
    REQUIRE(h);
    CHECK(*h == arr<16>("44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE"));
    auto hh = ms::hash_nt_password_hash<B>(*h);
    REQUIRE(hh);
    CHECK(*hh == arr<16>("41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F"));
    auto r = ms::generate_nt_response<B>(auth_challenge, peer_challenge, "User", "clientPass");
    REQUIRE(r);
    CHECK(*r == arr<24>("82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF"));
    auto a = ms::generate_authenticator_response<B>("clientPass", *r, peer_challenge,
                                                    auth_challenge, "User");
    REQUIRE(a);
    CHECK(std::string(a->data(), a->size()) == "S=407A5589115FD0D6209F510FE9C04566932CDA56");
}
TEST_CASE_TEMPLATE_APPLY(rfc2759_sample, test::auth_backends);

TEST_CASE_TEMPLATE_DEFINE("RFC 3079 3.5.3: 128-bit MPPE keys from the same exchange", B,
                          rfc3079_keys) {
    auto hh = arr<16>("41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F");
    auto r = arr<24>("82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF");
    auto master = ms::master_key<B>(hh, r);
    REQUIRE(master);
    CHECK(*master == arr<16>("FD EC E3 71 7A 8C 83 8C B3 88 E5 27 AE 3C DD 31"));
    // The RFC's sample calls GetAsymmetricStartKey(..., IsSend=TRUE, IsServer=TRUE).
    auto server = ms::derive_mppe_keys<B>(hh, r, true);
    REQUIRE(server);
    CHECK(server->send == arr<16>("8B 7C DC 14 9B 99 3A 1B A1 18 CB 15 3F 56 DC CB"));
    auto client = ms::derive_mppe_keys<B>(hh, r, false);
    REQUIRE(client);
    CHECK(server->receive == client->send);  // one side's send key is the other's receive key
    CHECK(server->send == client->receive);
    CHECK(server->send != client->send);
}
TEST_CASE_TEMPLATE_APPLY(rfc3079_keys, test::auth_backends);

TEST_CASE("MS-CHAPv2: non-ASCII passwords are UTF-16LE, malformed UTF-8 is an error") {
    using B = l2sec::crypto::botan;
    auto a = ms::nt_password_hash<B>("p\xc3\xa4ss");  // "päss"
    REQUIRE(a);
    auto bad = ms::nt_password_hash<B>("p\xc3");
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == l2sec::errc::invalid_argument);
    CHECK(bad.error().offset == 1);
    std::string long_pw(257, 'x');
    CHECK_FALSE(ms::nt_password_hash<B>(long_pw));
}
