// Known-answer tests for the crypto seam, run against every backend that
// claims the part of the seam a suite covers (tests/support/backends.hpp):
// digests, HMAC and DES against crypto::portable and crypto::botan; AES,
// GCM, ChaCha20-Poly1305 and DES/3DES-CBC against the datapath backends.
// Vectors come from the standards: RFC 1320 (MD4), RFC 1321 (MD5), FIPS
// 180-4 examples (SHA), RFC 2202 / RFC 4231 / RFC 4868 (HMAC), FIPS 81
// (DES), RFC 3602 (AES-CBC), the GCM specification (McGrew-Viega) test
// cases, RFC 8439 section 2.8.2 (ChaCha20-Poly1305), RFC 2759 section 9.2
// (DES and MD4 in MS-CHAPv2) and NIST SP 800-67 appendix B (3DES).
// Allocation counts include OpenSSL's own mallocs (test::heap_allocations_in).
// Cross-backend suites (one backend seals, the other opens; DH between
// them) and the OpenSSL-specific checks are in crypto_backend_tests.cpp.
#include <doctest/doctest.h>

#include <l2sec/crypto.hpp>
#include <l2sec/crypto/botan.hpp>

#include "support/alloc_counter.hpp"
#include "support/backends.hpp"
#include "support/hex.hpp"

#include <string>
#include <type_traits>
#include <vector>

using namespace l2sec;
using l2sec::test::hex;
using l2sec::test::to_hex;

namespace {

std::vector<std::byte> rep(std::size_t n, unsigned v) {
    return std::vector<std::byte>(n, static_cast<std::byte>(v));
}

template <class B>
std::string digest_hex(crypto::hash_id id, bytes_view in) {
    auto h = B::make_hash(id);
    REQUIRE(h);
    std::vector<std::byte> out(h->output_size());
    crypto::digest(*h, out, in);
    return to_hex(out);
}

template <class B>
std::string mac_hex(crypto::mac_id id, bytes_view key, bytes_view data) {
    auto m = B::make_mac(id, key);
    REQUIRE(m);
    std::vector<std::byte> out(m->output_size());
    m->update(data);
    m->final(out);
    return to_hex(out);
}

const std::string abc = "abc";
const std::string abc448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const std::string alpha = "abcdefghijklmnopqrstuvwxyz";
const std::string alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const std::string digits80 =
    "12345678901234567890123456789012345678901234567890123456789012345678901234567890";
const std::string big_key_text = "Test Using Larger Than Block-Size Key - Hash Key First";

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("MD4: the RFC 1320 appendix A.5 suite", B, md4_kat) {
    using crypto::hash_id;
    CHECK(digest_hex<B>(hash_id::md4, as_bytes("")) == "31d6cfe0d16ae931b73c59d7e0c089c0");
    CHECK(digest_hex<B>(hash_id::md4, as_bytes("a")) == "bde52cb31de33e46245e05fbdbd6fb24");
    CHECK(digest_hex<B>(hash_id::md4, as_bytes(abc)) == "a448017aaf21d8525fc10ae87aa6729d");
    CHECK(digest_hex<B>(hash_id::md4, as_bytes("message digest")) ==
          "d9130a8164549fe818874806e1c7014b");
    CHECK(digest_hex<B>(hash_id::md4, as_bytes(alpha)) == "d79e1c308aa5bbcdeea8ed63df412da9");
    CHECK(digest_hex<B>(hash_id::md4, as_bytes(alnum)) == "043f8582f241db351ce627e153e7f0e4");
    CHECK(digest_hex<B>(hash_id::md4, as_bytes(digits80)) == "e33b4ddc9c38f2199c3e7b164fcc0536");
}
TEST_CASE_TEMPLATE_APPLY(md4_kat, test::auth_backends);

TEST_CASE_TEMPLATE_DEFINE("MD5: the RFC 1321 appendix A.5 suite, fed whole and in pieces", B,
                          md5_kat) {
    using crypto::hash_id;
    CHECK(digest_hex<B>(hash_id::md5, as_bytes("")) == "d41d8cd98f00b204e9800998ecf8427e");
    CHECK(digest_hex<B>(hash_id::md5, as_bytes("a")) == "0cc175b9c0f1b6a831c399e269772661");
    CHECK(digest_hex<B>(hash_id::md5, as_bytes(abc)) == "900150983cd24fb0d6963f7d28e17f72");
    CHECK(digest_hex<B>(hash_id::md5, as_bytes("message digest")) ==
          "f96b697d7cb7938d525a2f31aaf161d0");
    CHECK(digest_hex<B>(hash_id::md5, as_bytes(alpha)) == "c3fcd3d76192e4007dfb496cca67e13b");
    CHECK(digest_hex<B>(hash_id::md5, as_bytes(alnum)) == "d174ab98d277d9f5a5611c2c9f419d9f");
    CHECK(digest_hex<B>(hash_id::md5, as_bytes(digits80)) == "57edf4a22be3c955ac49da2e2107b67a");
    // The same 80 digits in 7-byte pieces across block boundaries, then the
    // context reused (final() resets it) for a second message.
    auto h = B::make_hash(hash_id::md5);
    REQUIRE(h);
    std::array<std::byte, 16> d{};
    for (std::size_t i = 0; i < digits80.size(); i += 7)
        h->update(as_bytes(std::string_view(digits80).substr(i, 7)));
    h->final(d);
    CHECK(to_hex(d) == "57edf4a22be3c955ac49da2e2107b67a");
    crypto::digest(*h, d, as_bytes("ab"), as_bytes("c"));
    CHECK(to_hex(d) == "900150983cd24fb0d6963f7d28e17f72");
}
TEST_CASE_TEMPLATE_APPLY(md5_kat, test::auth_backends);

TEST_CASE_TEMPLATE_DEFINE("SHA-1, SHA-256 (SHA-384, SHA-512): FIPS 180 examples", B, sha_kat) {
    using crypto::hash_id;
    CHECK(digest_hex<B>(hash_id::sha1, as_bytes(abc)) ==
          "a9993e364706816aba3e25717850c26c9cd0d89d");
    CHECK(digest_hex<B>(hash_id::sha1, as_bytes(abc448)) ==
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    CHECK(digest_hex<B>(hash_id::sha256, as_bytes(abc)) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(digest_hex<B>(hash_id::sha256, as_bytes(abc448)) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    // One million 'a' (the FIPS 180 long message), in 1000-byte pieces.
    const std::string a(1000, 'a');
    for (auto [id, want] : {std::pair{hash_id::sha1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"},
                            std::pair{hash_id::sha256,
                                      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a4"
                                      "97200e046d39ccc7112cd0"}}) {
        auto h = B::make_hash(id);
        REQUIRE(h);
        for (int i = 0; i < 1000; ++i)
            h->update(as_bytes(a));
        std::vector<std::byte> d(h->output_size());
        h->final(d);
        CHECK(to_hex(d) == want);
    }
    if constexpr (test::backend_traits<B>::sha384_512) {
        CHECK(digest_hex<B>(hash_id::sha384, as_bytes(abc)) ==
              "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc23"
              "58baeca134c825a7");
        CHECK(digest_hex<B>(hash_id::sha512, as_bytes(abc)) ==
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a8"
              "36ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    } else {
        CHECK(B::make_hash(hash_id::sha512).error() == crypto::errc::unsupported_algorithm);
    }
}
TEST_CASE_TEMPLATE_APPLY(sha_kat, test::auth_backends);

TEST_CASE_TEMPLATE_DEFINE("HMAC: RFC 2202 (MD5, SHA-1) and RFC 4231 (SHA-2)", B, hmac_kat) {
    using crypto::mac_id;
    const auto hi = as_bytes("Hi There");
    const auto jefe = as_bytes("Jefe");
    const auto want_what = as_bytes("what do ya want for nothing?");
    // RFC 2202 test cases 1, 2, 3 and 6 (a key longer than the block is hashed first).
    CHECK(mac_hex<B>(mac_id::hmac_md5, rep(16, 0x0b), hi) == "9294727a3638bb1c13f48ef8158bfc9d");
    CHECK(mac_hex<B>(mac_id::hmac_md5, jefe, want_what) == "750c783e6ab0b503eaa86e310a5db738");
    CHECK(mac_hex<B>(mac_id::hmac_md5, rep(16, 0xaa), rep(50, 0xdd)) ==
          "56be34521d144c88dbb8c733f0e8b3f6");
    CHECK(mac_hex<B>(mac_id::hmac_md5, rep(80, 0xaa), as_bytes(big_key_text)) ==
          "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd");
    CHECK(mac_hex<B>(mac_id::hmac_sha1, rep(20, 0x0b), hi) ==
          "b617318655057264e28bc0b6fb378c8ef146be00");
    CHECK(mac_hex<B>(mac_id::hmac_sha1, jefe, want_what) ==
          "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    CHECK(mac_hex<B>(mac_id::hmac_sha1, rep(20, 0xaa), rep(50, 0xdd)) ==
          "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
    CHECK(mac_hex<B>(mac_id::hmac_sha1, rep(80, 0xaa), as_bytes(big_key_text)) ==
          "aa4ae5e15272d00e95705637ce8a3b55ed402112");
    // RFC 4231 test cases 1, 2 and 6.
    CHECK(mac_hex<B>(mac_id::hmac_sha256, rep(20, 0x0b), hi) ==
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(mac_hex<B>(mac_id::hmac_sha256, jefe, want_what) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    CHECK(mac_hex<B>(mac_id::hmac_sha256, rep(131, 0xaa), as_bytes(big_key_text)) ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    // RFC 4868 2.7.2.1 test case 1 (32-byte key, as ESP uses it), truncated
    // to 128 bits (HMAC-SHA-256-128), the keyed context reused, no allocation.
    auto m = B::make_mac(mac_id::hmac_sha256, rep(32, 0x0b));
    REQUIRE(m);
    std::array<std::byte, 16> t{};
    for (int i = 0; i < 2; ++i) {
        CHECK(test::heap_allocations_in([&] {
                  m->update(hi);
                  m->final(t);
              }) == 0);
        CHECK(to_hex(t) == "198a607eb44bfbc69903a0f1cf2bbdc5");
    }
    if constexpr (test::backend_traits<B>::sha384_512) {
        CHECK(mac_hex<B>(mac_id::hmac_sha384, rep(20, 0x0b), hi) ==
              "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f"
              "4af152e8b2fa9cb6");
        CHECK(mac_hex<B>(mac_id::hmac_sha512, rep(20, 0x0b), hi) ==
              "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702"
              "038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
    } else {
        CHECK(B::make_mac(mac_id::hmac_sha512, hi).error() == crypto::errc::unsupported_algorithm);
    }
}
TEST_CASE_TEMPLATE_APPLY(hmac_kat, test::auth_backends);

TEST_CASE_TEMPLATE_DEFINE("DES (FIPS 81) and MD4 + DES in MS-CHAPv2 (RFC 2759 section 9.2)", B,
                          des_kat) {
    // FIPS 81 table B1 (ECB): "Now is the time for all " under key 0123456789abcdef.
    auto des = B::make_block_cipher(crypto::block_cipher_id::des, hex("0123456789abcdef"));
    REQUIRE(des);
    CHECK(des->block_size() == 8);
    const auto text = hex("4e6f772069732074 68652074696d6520 666f7220616c6c20");
    const std::string want =
        "3fa40e8a984d4815"
        "6a271787ab8883f9"
        "893d51ec4b563b53";
    std::string got;
    for (std::size_t i = 0; i < 3; ++i) {
        std::array<std::byte, 8> out{}, back{};
        CHECK(des->encrypt_block(bytes_view(text).subspan(8 * i, 8), out));
        got += to_hex(out);
        CHECK(des->decrypt_block(out, back));
        CHECK(to_hex(back) == to_hex(bytes_view(text).subspan(8 * i, 8)));
    }
    CHECK(got == want);
    CHECK(B::make_block_cipher(crypto::block_cipher_id::des, hex("0123")).error() ==
          crypto::errc::invalid_key_length);

    // RFC 2759 9.2: NT password hash of "clientPass" = MD4(UTF-16LE password)...
    std::vector<std::byte> unicode;
    for (char ch : std::string("clientPass")) {
        unicode.push_back(static_cast<std::byte>(ch));
        unicode.push_back(std::byte{0});
    }
    auto md4 = B::make_hash(crypto::hash_id::md4);
    REQUIRE(md4);
    std::array<std::byte, 16> pwhash{};
    crypto::digest(*md4, pwhash, unicode);
    CHECK(to_hex(pwhash) == "44ebba8d5312b8d611474411f56989ae");
    // ...and ChallengeResponse: DES of the challenge hash under the three 7-byte slices.
    std::array<std::byte, 21> z{};
    std::copy(pwhash.begin(), pwhash.end(), z.begin());
    auto challenge = hex("d02e4386bce91226");
    std::string response;
    for (std::size_t i = 0; i < 3; ++i) {
        auto k = crypto::des_key_from_56(std::span<const std::byte, 7>(z.data() + 7 * i, 7));
        auto d = B::make_block_cipher(crypto::block_cipher_id::des, k);
        REQUIRE(d);
        std::array<std::byte, 8> out{};
        CHECK(d->encrypt_block(challenge, out));
        response += to_hex(out);
    }
    CHECK(response == "82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df");
}
TEST_CASE_TEMPLATE_APPLY(des_kat, test::auth_backends);

TEST_CASE_TEMPLATE_DEFINE("a digest context made once hashes without allocating", B, hash_alloc) {
    auto h = B::make_hash(crypto::hash_id::sha256);
    REQUIRE(h);
    std::array<std::byte, 32> out{};
    CHECK(test::heap_allocations_in([&] {
              h->update(as_bytes(abc));
              h->final(out);
          }) == 0);
    CHECK(to_hex(out) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
TEST_CASE_TEMPLATE_APPLY(hash_alloc, test::auth_backends);

TEST_CASE_TEMPLATE_DEFINE("AES-CBC: RFC 3602 test cases 1 and 2", B, aes_cbc_kat) {
    auto c = B::make_cipher(crypto::cipher_id::aes128_cbc, hex("06a9214036b8a15b512e03d534120006"));
    REQUIRE(c);
    auto iv = hex("3dafba429d9eb430b422da802c9fac41");
    std::string msg = "Single block msg";
    std::vector<std::byte> data(as_bytes(msg).begin(), as_bytes(msg).end());
    CHECK(test::heap_allocations_in([&] { CHECK(c->encrypt(iv, data)); }) == 0);
    CHECK(to_hex(data) == "e353779c1079aeb82708942dbe77181a");
    CHECK(c->decrypt(iv, data));
    CHECK(as_chars(data) == msg);

    auto c2 =
        B::make_cipher(crypto::cipher_id::aes128_cbc, hex("c286696d887c9aa0611bbb3e2025a45a"));
    REQUIRE(c2);
    auto iv2 = hex("562e17996d093d28ddb3ba695a2e6f58");
    auto p2 = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    auto d2 = p2;
    CHECK(c2->encrypt(iv2, d2));
    CHECK(to_hex(d2) == "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1");
    CHECK(test::heap_allocations_in([&] { CHECK(c2->decrypt(iv2, d2)); }) == 0);
    CHECK(d2 == p2);

    std::vector<std::byte> odd(15);
    CHECK_FALSE(c2->encrypt(iv2, odd));
    CHECK(B::make_cipher(crypto::cipher_id::aes256_cbc, iv2).error() ==
          crypto::errc::invalid_key_length);
}
TEST_CASE_TEMPLATE_APPLY(aes_cbc_kat, test::datapath_backends);

TEST_CASE_TEMPLATE_DEFINE("DES-CBC: FIPS 81 appendix C; 3DES-CBC: NIST SP 800-67 appendix B", B,
                          des_cbc_kat) {
    // FIPS 81 table C1: "Now is the time for all " under key 0123456789abcdef, IV 1234567890abcdef.
    const auto text = hex("4e6f77206973207468652074696d6520666f7220616c6c20");
    const auto des_ct = "e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6";
    auto des = B::make_cipher(crypto::cipher_id::des_cbc, hex("0123456789abcdef"));
    REQUIRE(des);
    CHECK(des->block_size() == 8);
    const auto iv = hex("1234567890abcdef");
    auto d = text;
    CHECK(test::heap_allocations_in([&] { CHECK(des->encrypt(iv, d)); }) == 0);
    CHECK(to_hex(d) == des_ct);
    CHECK(des->decrypt(iv, d));
    CHECK(d == text);
    // EDE3 with K1 = K2 = K3 is single DES: the same answer.
    auto same = B::make_cipher(crypto::cipher_id::tdes_cbc,
                               hex("0123456789abcdef0123456789abcdef0123456789abcdef"));
    REQUIRE(same);
    d = text;
    CHECK(same->encrypt(iv, d));
    CHECK(to_hex(d) == des_ct);

    // SP 800-67 B.1: three distinct keys, ECB blocks C1..C3 of "The qufck brown fox jump".
    // With a zero IV, CBC's first block is ECB's; feeding P2 ^ C1 as the second
    // plaintext block makes CBC's second block E(P2) = C2, and so on.
    auto tdes = B::make_cipher(crypto::cipher_id::tdes_cbc,
                               hex("0123456789abcdef23456789abcdef01456789abcdef0123"));
    REQUIRE(tdes);
    auto p = hex("54686520717566636b2062726f776e20666f78206a756d70");
    const auto c = hex("a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900");
    for (std::size_t i = 8; i < p.size(); ++i)
        p[i] ^= c[i - 8];
    auto t = p;
    const auto zero = hex("0000000000000000");
    CHECK(tdes->encrypt(zero, t));
    CHECK(t == c);
    CHECK(test::heap_allocations_in([&] { CHECK(tdes->decrypt(zero, t)); }) == 0);
    CHECK(t == p);
    CHECK(B::make_cipher(crypto::cipher_id::tdes_cbc, hex("0123456789abcdef")).error() ==
          crypto::errc::invalid_key_length);
    std::vector<std::byte> odd(12);
    CHECK_FALSE(tdes->encrypt(zero, odd));
}
TEST_CASE_TEMPLATE_APPLY(des_cbc_kat, test::datapath_backends);

TEST_CASE_TEMPLATE_DEFINE("AES-GCM: GCM specification test cases 2, 3, 4, 16", B, aes_gcm_kat) {
    std::array<std::byte, 16> tag{};
    {
        auto g = B::make_aead(crypto::aead_id::aes128_gcm, rep(16, 0));
        REQUIRE(g);
        auto data = rep(16, 0);
        CHECK(g->seal(rep(12, 0), {}, data, tag));
        CHECK(to_hex(data) == "0388dace60b6a392f328c2b971b2fe78");
        CHECK(to_hex(tag) == "ab6e47d42cec13bdf53a67b21257bddf");
    }
    auto key = hex("feffe9928665731c6d6a8f9467308308");
    auto iv = hex("cafebabefacedbaddecaf888");
    auto p =
        hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e"
            "2449a6b525"
            "b16aedf5aa0de657ba637b391aafd255");
    auto g = B::make_aead(crypto::aead_id::aes128_gcm, key);
    REQUIRE(g);
    {
        auto data = p;
        CHECK(g->seal(iv, {}, data, tag));
        CHECK(to_hex(data) ==
              "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f"
              "6a5aac84"
              "aa051ba30b396a0aac973d58e091473f5985");
        CHECK(to_hex(tag) == "4d5c2af327cd64a62cf35abd2ba6fab4");
    }
    auto aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    {
        std::vector<std::byte> data(p.begin(), p.begin() + 60);
        std::size_t n = test::heap_allocations_in([&] { CHECK(g->seal(iv, aad, data, tag)); });
        CHECK(n == 0);
        CHECK(to_hex(data) ==
              "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f"
              "6a5aac84"
              "aa051ba30b396a0aac973d58e091");
        CHECK(to_hex(tag) == "5bc94fbc3221a5db94fae95ae7121a47");
        n = test::heap_allocations_in([&] { CHECK(g->open(iv, aad, data, tag)); });
        CHECK(n == 0);
        CHECK(std::equal(data.begin(), data.end(), p.begin()));
        // A flipped tag bit fails, and the context keeps working afterwards.
        CHECK(g->seal(iv, aad, data, tag));
        tag[3] ^= std::byte{1};
        CHECK_FALSE(g->open(iv, aad, data, tag));
        tag[3] ^= std::byte{1};
        data.assign(p.begin(), p.begin() + 60);
        CHECK(g->seal(iv, aad, data, tag));
        CHECK(g->open(iv, aad, data, tag));
        CHECK(std::equal(data.begin(), data.end(), p.begin()));
    }
    {
        auto g256 =
            B::make_aead(crypto::aead_id::aes256_gcm,
                         hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"));
        REQUIRE(g256);
        std::vector<std::byte> data(p.begin(), p.begin() + 60);
        CHECK(g256->seal(iv, aad, data, tag));
        CHECK(to_hex(data) ==
              "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b0"
              "8b1056"
              "828838c5f61e6393ba7a0abcc9f662");
        CHECK(to_hex(tag) == "76fc6ece0f4e1768cddf8853bb2d551b");
    }
    CHECK(B::make_aead(crypto::aead_id::aes128_gcm, rep(15, 0)).error() ==
          crypto::errc::invalid_key_length);
}
TEST_CASE_TEMPLATE_APPLY(aes_gcm_kat, test::datapath_backends);

TEST_CASE_TEMPLATE_DEFINE("ChaCha20-Poly1305: RFC 8439 section 2.8.2", B, chacha_kat) {
    std::vector<std::byte> key;
    for (unsigned i = 0x80; i < 0xa0; ++i)
        key.push_back(static_cast<std::byte>(i));
    auto c = B::make_aead(crypto::aead_id::chacha20_poly1305, key);
    REQUIRE(c);
    std::string text =
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
        "future, "
        "sunscreen would be it.";
    std::vector<std::byte> data(as_bytes(text).begin(), as_bytes(text).end());
    auto nonce = hex("070000004041424344454647");
    auto aad = hex("50515253c0c1c2c3c4c5c6c7");
    std::array<std::byte, 16> tag{};
    CHECK(test::heap_allocations_in([&] { CHECK(c->seal(nonce, aad, data, tag)); }) == 0);
    CHECK(to_hex(data) ==
          "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69"
          "da9272"
          "8b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad67594558580"
          "8b4831"
          "d7bc3ff4def08e4b7a9de576d26586cec64b6116");
    CHECK(to_hex(tag) == "1ae10b594f09e26a7e902ecbd0600691");
    CHECK(test::heap_allocations_in([&] { CHECK(c->open(nonce, aad, data, tag)); }) == 0);
    CHECK(as_chars(data) == text);
}
TEST_CASE_TEMPLATE_APPLY(chacha_kat, test::datapath_backends);

TEST_CASE("crypto seam: concepts, descriptors, errors, constant-time compare") {
    using B = crypto::botan;
    static_assert(crypto::backend<B>);
    static_assert(crypto::datapath_backend<B>);
    static_assert(crypto::auth_backend<crypto::portable>);
    static_assert(!crypto::datapath_backend<crypto::portable>);  // no AES: not for ESP
    static_assert(crypto::info(crypto::aead_id::aes256_gcm).key_size == 32);
    static_assert(crypto::info(crypto::mac_id::hmac_sha384).output_size == 48);
    CHECK(crypto::constant_time_equal(hex("0102"), hex("0102")));
    CHECK_FALSE(crypto::constant_time_equal(hex("0102"), hex("0103")));
    CHECK_FALSE(crypto::constant_time_equal(hex("0102"), hex("01")));
    std::error_code ec = crypto::errc::authentication_failed;
    CHECK(std::string(ec.category().name()) == "l2sec.crypto");
    CHECK(ec.message() == "authentication failed");
}

TEST_CASE_TEMPLATE_DEFINE("random sources: move-only, no seed, two draws differ", R, rng_kat) {
    static_assert(crypto::random_source<R>);
    static_assert(!std::is_copy_constructible_v<R>, "a copied generator would repeat its stream");
    static_assert(!std::is_constructible_v<R, std::uint64_t>, "nothing to seed");
    R rng;
    std::array<std::byte, 16> a{}, b{};
    CHECK(test::heap_allocations_in([&] { CHECK(rng.fill(a)); }) == 0);
    R moved = std::move(rng);
    CHECK(moved.fill(b));
    CHECK(a != b);
    CHECK(a != std::array<std::byte, 16>{});
    // random_ref lends one source to several users.
    crypto::random_ref<R> lent(moved);
    static_assert(crypto::random_source<crypto::random_ref<R>>);
    CHECK(lent.fill(a));
    CHECK(a != b);
}
TEST_CASE_TEMPLATE_APPLY(rng_kat, test::random_sources);

TEST_CASE("crypto::botan is also the DH/ECDH backend") {
    using B = crypto::botan;
    static_assert(crypto::dh_backend<B>);
    auto a = B::make_key_exchange(crypto::dh_id::ecp256);
    auto b = B::make_key_exchange(crypto::dh_id::ecp256);
    REQUIRE(a);
    REQUIRE(b);
    std::array<std::byte, crypto::max_dh_shared_size> s1{}, s2{};
    auto n1 = a->agree(b->public_value(), s1);
    auto n2 = b->agree(a->public_value(), s2);
    REQUIRE(n1);
    REQUIRE(n2);
    CHECK(*n1 == 32);
    CHECK(s1 == s2);
}
