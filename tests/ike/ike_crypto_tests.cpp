// IKE key schedules and encrypted payloads, checked against real strongSwan
// exchanges whose secrets charon logged at "ike 4" (tests/data/ike_*.keys):
// SKEYSEED and SK_* from the logged DH secret and the captured nonces/SPIs,
// the PSK AUTH payload, SK decryption of IKE_AUTH (AES-CBC+HMAC and AES-GCM),
// IKEv1 SKEYID*, HASH_I/R, CBC IV chaining through Main and Quick Mode,
// HASH(1)/(2) and KEYMAT. DH/ECDH against RFC 5903 and RFC 7748. The suites
// that take a backend run on every full backend (tests/support/backends.hpp),
// and the key schedules of Botan and OpenSSL are compared with each other.
#include <doctest/doctest.h>

#include <l2sec/crypto/botan.hpp>
#include <l2sec/ike.hpp>

#include "ike/capture.hpp"
#include "support/alloc_counter.hpp"
#include "support/backends.hpp"
#include "support/hex.hpp"

#include <array>
#include <string>
#include <vector>

using namespace l2sec;
using l2sec::test::hex;
using l2sec::test::to_hex;
using B = l2sec::crypto::botan;

namespace {

/// The body of the first payload of a type in a chain.
template <class Range>
ike::payload find(const Range& chain, ike::payload_type t) {
    for (const auto& p : chain)
        if (p.kind() == t) return p;
    return {};
}

std::vector<std::string> names(const ike::payload_range& chain, bool v2) {
    std::vector<std::string> out;
    for (const auto& p : chain) {
        std::string n = ike::name(p.kind()) ? ike::name(p.kind()) : std::to_string(p.type);
        if (v2 && p.kind() == ike::payload_type::notify) {
            auto nv = ike::v2::notify::parse(p);
            const char* nn = nv ? ike::name(nv->kind()) : nullptr;
            n += "(" + (nn ? std::string(nn) : std::to_string(nv->type)) + ")";
        }
        out.push_back(n);
    }
    return out;
}

struct v2_session {
    std::vector<test::ike_packet> pk;
    std::map<std::string, std::vector<std::byte>> keys;
    ike::v2::suite_info info;
    ike::v2::ike_sa_keys sa;
    bytes_view ni, nr;
};

template <class B>
v2_session load_v2(const char* name, ike::v2::suite s) {
    v2_session v;
    v.pk = test::ike_capture(std::string("ike_") + name + ".pcap");
    v.keys = test::ike_keys(std::string("ike_") + name + ".keys");
    REQUIRE(v.pk.size() == 4);
    auto d = ike::v2::describe(s);
    REQUIRE(d.has_value());
    v.info = *d;
    auto m0 = *ike::parse(v.pk[0].ike);
    auto m1 = *ike::parse(v.pk[1].ike);
    v.ni = find(m0.payloads(), ike::payload_type::nonce).body;
    v.nr = find(m1.payloads(), ike::payload_type::nonce).body;
    auto seed = ike::v2::skeyseed<B>(v.info, v.ni, v.nr, v.keys.at("shared_diffie_hellman_secret"));
    REQUIRE(seed.has_value());
    CHECK(to_hex(*seed) == to_hex(v.keys.at("skeyseed")));
    auto k = ike::v2::derive_ike_sa_keys<B>(v.info, *seed, v.ni, v.nr, m1.header().spi_i,
                                            m1.header().spi_r);
    REQUIRE(k.has_value());
    v.sa = *k;
    return v;
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE(
    "IKEv2 key schedule (modp2048, PRF_HMAC_SHA2_256): SKEYSEED and SK_* equal charon's", B,
    ike_backend_0) {
    auto v = load_v2<B>("v2cbc", {ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256,
                                  ike::integ_id::hmac_sha2_256_128});
    CHECK(v.keys.at("shared_diffie_hellman_secret").size() == 256);
    CHECK(to_hex(v.sa.d) == to_hex(v.keys.at("sk_d_secret")));
    CHECK(to_hex(v.sa.ai) == to_hex(v.keys.at("sk_ai_secret")));
    CHECK(to_hex(v.sa.ar) == to_hex(v.keys.at("sk_ar_secret")));
    CHECK(to_hex(v.sa.ei) == to_hex(v.keys.at("sk_ei_secret")));
    CHECK(to_hex(v.sa.er) == to_hex(v.keys.at("sk_er_secret")));
    CHECK(to_hex(v.sa.pi) == to_hex(v.keys.at("sk_pi_secret")));
    CHECK(to_hex(v.sa.pr) == to_hex(v.keys.at("sk_pr_secret")));
}
TEST_CASE_TEMPLATE_APPLY(ike_backend_0, test::full_backends);

TEST_CASE_TEMPLATE_DEFINE(
    "IKEv2 SK payload (AES-CBC + HMAC-SHA256-128): decrypt IKE_AUTH, check the PSK AUTH", B,
    ike_backend_1) {
    auto v = load_v2<B>("v2cbc", {ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256,
                                  ike::integ_id::hmac_sha2_256_128});
    auto rx_i = ike::v2::sk_protect<B>::make(v.info, v.sa.ei, v.sa.ai);
    auto rx_r = ike::v2::sk_protect<B>::make(v.info, v.sa.er, v.sa.ar);
    REQUIRE(rx_i.has_value());
    REQUIRE(rx_r.has_value());
    auto req = v.pk[2].ike;
    auto pt = rx_i->open(req);
    REQUIRE(pt.has_value());
    auto inner = names(pt->payloads(), true);
    // As tshark decrypts it with the same keys (uat:ikev2_decryption_table).
    CHECK(inner == std::vector<std::string>{
                       "IDi", "N(INITIAL_CONTACT)", "IDr", "AUTH", "N(USE_TRANSPORT_MODE)", "SA",
                       "TSi", "TSr", "N(MOBIKE_SUPPORTED)", "N(NO_ADDITIONAL_ADDRESSES)",
                       "N(MULTIPLE_AUTH_SUPPORTED)", "N(EAP_ONLY_AUTHENTICATION)",
                       "N(IKEV2_MESSAGE_ID_SYNC_SUPPORTED)"});
    CHECK(ike::v2::validate(pt->payloads()).has_value());

    // AUTH = prf(prf(psk, "Key Pad for IKEv2"), msg1 | Nr | prf(SK_pi, IDi')).
    auto idi = find(pt->payloads(), ike::payload_type::idi);
    CHECK(to_hex(idi.body) == to_hex(v.keys.at("idx")));
    auto auth = ike::v2::auth::parse(find(pt->payloads(), ike::payload_type::auth));
    REQUIRE(auth.has_value());
    CHECK(auth->method == 2);
    auto psk = as_bytes("l2sec-ike-test-psk");
    auto mine = ike::v2::psk_auth<B>(v.info, psk, v.pk[0].ike, v.nr, v.sa.pi, idi.body);
    REQUIRE(mine.has_value());
    CHECK(to_hex(*mine) == to_hex(auth->data));
    CHECK(to_hex(*mine) == to_hex(v.keys.at("auth_prf_prf_secret_keypad_octets")));

    auto resp = v.pk[3].ike;
    auto pr = rx_r->open(resp);
    REQUIRE(pr.has_value());
    CHECK(names(pr->payloads(), true) ==
          std::vector<std::string>{"IDr", "AUTH", "N(MOBIKE_SUPPORTED)",
                                   "N(NO_ADDITIONAL_ADDRESSES)", "N(NO_PROPOSAL_CHOSEN)"});
    auto idr = find(pr->payloads(), ike::payload_type::idr);
    auto rauth = ike::v2::auth::parse(find(pr->payloads(), ike::payload_type::auth));
    auto theirs = ike::v2::psk_auth<B>(v.info, psk, v.pk[1].ike, v.ni, v.sa.pr, idr.body);
    CHECK(to_hex(*theirs) == to_hex(rauth->data));

    // Wrong direction keys, and a flipped ciphertext bit: integrity failure at the ICV.
    auto again = v.pk[2].ike;
    auto wrong = rx_r->open(again);
    CHECK(wrong.error() == ike::errc::integrity_check_failed);
    CHECK(wrong.error().offset == again.size() - 16);
    auto flipped = v.pk[2].ike;
    flipped[60] ^= std::byte{1};
    CHECK(rx_i->open(flipped).error() == ike::errc::integrity_check_failed);
    auto init = v.pk[0].ike;
    auto none = rx_i->open(init);
    CHECK(none.error() == ike::errc::not_encrypted);
    CHECK(none.error().offset == 28);
}
TEST_CASE_TEMPLATE_APPLY(ike_backend_1, test::full_backends);

TEST_CASE_TEMPLATE_DEFINE(
    "IKEv2 with AES-GCM-16 (RFC 5282), PRF_HMAC_SHA2_384, ECP-384: keys and SK decryption", B,
    ike_backend_2) {
    auto v = load_v2<B>(
        "v2gcm", {ike::encr_id::aes_gcm_16, 256, ike::prf_id::hmac_sha2_384, ike::integ_id::none});
    CHECK(v.keys.at("shared_diffie_hellman_secret").size() == 48);
    CHECK(v.sa.ei.size == 36);  // 32-byte key + 4-byte salt
    CHECK(v.sa.ai.size == 0);
    CHECK(to_hex(v.sa.d) == to_hex(v.keys.at("sk_d_secret")));
    CHECK(to_hex(v.sa.ei) == to_hex(v.keys.at("sk_ei_secret")));
    CHECK(to_hex(v.sa.er) == to_hex(v.keys.at("sk_er_secret")));
    CHECK(to_hex(v.sa.pi) == to_hex(v.keys.at("sk_pi_secret")));
    CHECK(to_hex(v.sa.pr) == to_hex(v.keys.at("sk_pr_secret")));
    auto rx_i = ike::v2::sk_protect<B>::make(v.info, v.sa.ei, {});
    auto rx_r = ike::v2::sk_protect<B>::make(v.info, v.sa.er, {});
    REQUIRE(rx_i.has_value());
    auto req = v.pk[2].ike;
    auto pt = rx_i->open(req);
    REQUIRE(pt.has_value());
    CHECK(names(pt->payloads(), true).front() == "IDi");
    auto auth = ike::v2::auth::parse(find(pt->payloads(), ike::payload_type::auth));
    auto idi = find(pt->payloads(), ike::payload_type::idi);
    auto mine = ike::v2::psk_auth<B>(v.info, as_bytes("l2sec-ike-test-psk"), v.pk[0].ike, v.nr,
                                     v.sa.pi, idi.body);
    CHECK(to_hex(*mine) == to_hex(auth->data));
    auto resp = v.pk[3].ike;
    CHECK(rx_r->open(resp).has_value());
    auto bad = v.pk[3].ike;
    bad[bad.size() - 1] ^= std::byte{0x80};
    auto e = rx_r->open(bad);
    CHECK(e.error() == ike::errc::integrity_check_failed);
}
TEST_CASE_TEMPLATE_APPLY(ike_backend_2, test::full_backends);

TEST_CASE_TEMPLATE_DEFINE("SK seal then open round-trips, in place and without allocating", B,
                          ike_backend_3) {
    for (auto s : {ike::v2::suite{ike::encr_id::aes_cbc, 256, ike::prf_id::hmac_sha2_256,
                                  ike::integ_id::hmac_sha2_256_128},
                   ike::v2::suite{ike::encr_id::aes_gcm_16, 128, ike::prf_id::hmac_sha2_256,
                                  ike::integ_id::none}}) {
        auto info = *ike::v2::describe(s);
        std::vector<std::byte> ke(info.encr_key_size, std::byte{0x11});
        std::vector<std::byte> ka(info.integ_key_size, std::byte{0x22});
        auto tx = ike::v2::sk_protect<B>::make(info, ke, ka);
        auto rx = ike::v2::sk_protect<B>::make(info, ke, ka);
        REQUIRE(tx.has_value());
        REQUIRE(rx.has_value());
        std::array<std::byte, 512> buf{};
        std::array<std::byte, 16> iv{};
        iv.fill(std::byte{0x5a});
        ike::header h;
        h.spi_i = 1;
        h.spi_r = 2;
        h.exchange_type = ike::exchange::informational;
        h.flags = ike::flag::initiator;
        h.message_id = 7;
        auto idata = hex("01000000 0a000001");
        result<std::size_t> n = l2sec::errc::truncated;
        result<ike::v2::sk_plaintext> pt = l2sec::errc::truncated;
        auto allocs = test::allocations_in([&] {
            ike::message_builder b(buf, h);
            auto sk = ike::v2::begin_sk(b, bytes_view(iv).first(info.iv_size));
            ike::chain_writer inner(b.out(), sk.next_at);
            inner.begin(ike::payload_type::idi);
            b.out().bytes(idata);
            inner.end();
            inner.begin(ike::payload_type::notify);
            ike::v2::notify{0, 16384, {}, {}}.encode(b.out());
            inner.end();
            n = tx->seal(b, sk);
            if (n) pt = rx->open(mutable_bytes(buf).first(*n));
        });
        CHECK(allocs == 0);
        REQUIRE(n.has_value());
        REQUIRE(pt.has_value());
        CHECK(names(pt->payloads(), true) == std::vector<std::string>{"IDi", "N(INITIAL_CONTACT)"});
        CHECK(to_hex(find(pt->payloads(), ike::payload_type::idi).body) == to_hex(idata));
        if (!info.aead) CHECK((*n - 28 - 4 - 16 - 16) % 16 == 0);
    }
}
TEST_CASE_TEMPLATE_APPLY(ike_backend_3, test::full_backends);

TEST_CASE("SKF reassembly: more than 16 fragments, any order, no low cap") {
    std::array<std::byte, 4096> store{};
    ike::v2::fragment_reassembler<> r(store);
    std::vector<std::vector<std::byte>> parts;
    for (int i = 0; i < 40; ++i)
        parts.push_back(std::vector<std::byte>(10, std::byte(i)));
    for (int k = 39; k >= 0; --k) {
        ike::v2::sk_plaintext f;
        f.first = k == 0 ? 35 : 0;
        f.fragment = static_cast<std::uint16_t>(k + 1);
        f.total = 40;
        f.data = parts[static_cast<std::size_t>(k)];
        auto done = r.add(f);
        REQUIRE(done.has_value());
        CHECK(*done == (k == 0));
    }
    std::array<std::byte, 400> out{};
    auto all = r.assemble(out);
    REQUIRE(all.has_value());
    CHECK(all->first == 35);
    CHECK(all->data.size() == 400);
    CHECK(all->data[395] == std::byte{39});
    ike::v2::fragment_reassembler<8> small(store);
    ike::v2::sk_plaintext f;
    f.fragment = 1;
    f.total = 9;
    CHECK(small.add(f).error() == ike::errc::too_many_fragments);
    f.total = 4;
    REQUIRE(small.add(f).has_value());
    f.fragment = 2;
    f.total = 5;
    CHECK(small.add(f).error() == ike::errc::fragment_mismatch);
}

TEST_CASE(
    "SKF: an IKE_AUTH split into 20 fragments, sealed, opened in reverse order, reassembled") {
    auto info = *ike::v2::describe(
        {ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256, ike::integ_id::hmac_sha2_256_128});
    auto ke = hex("000102030405060708090a0b0c0d0e0f");
    auto ka = hex("101112131415161718191a1b1c1d1e1f 202122232425262728292a2b2c2d2e2f");
    auto tx = ike::v2::sk_protect<B>::make(info, ke, ka);
    auto rx = ike::v2::sk_protect<B>::make(info, ke, ka);
    REQUIRE(tx.has_value());
    // Inner chain: IDi, CERT (a large one), AUTH.
    std::vector<std::byte> inner(2048);
    writer w(inner);
    ike::chain_writer c(w);
    c.begin(ike::payload_type::idi);
    ike::v2::id{2, {}, as_bytes("client.example")}.encode(w);
    c.end();
    c.begin(ike::payload_type::cert);
    std::vector<std::byte> der(1200, std::byte{0x30});
    ike::v2::cert{4, der}.encode(w);
    c.end();
    c.begin(ike::payload_type::auth);
    ike::v2::auth{2, hex("00112233445566778899aabbccddeeff"), {}}.encode(w);
    c.end();
    inner.resize(w.size());
    ike::header h;
    h.spi_i = 7;
    h.spi_r = 9;
    h.exchange_type = ike::exchange::ike_auth;
    h.flags = ike::flag::initiator;
    h.message_id = 1;
    std::vector<std::vector<std::byte>> frags;
    std::array<std::byte, 256> scratch{};
    std::vector<std::vector<std::byte>> ivs;  // each fragment must get its own IV
    auto next_iv = [&](l2sec::mutable_bytes iv) {
        for (std::size_t i = 0; i < iv.size(); ++i)
            iv[i] = std::byte{static_cast<std::uint8_t>(ivs.size() * 16 + i)};
        ivs.emplace_back(iv.begin(), iv.end());
        return true;
    };
    auto n = ike::v2::fragment_and_seal(*tx, h, static_cast<std::uint8_t>(ike::payload_type::idi),
                                        inner, 64, next_iv, scratch,
                                        [&](std::uint16_t, std::uint16_t, bytes_view m) {
                                            frags.emplace_back(m.begin(), m.end());
                                        });
    REQUIRE(n.has_value());
    CHECK(*n == 20);
    std::array<std::byte, 4096> store{};
    ike::v2::fragment_reassembler<> r(store);
    for (std::size_t k = frags.size(); k-- > 0;) {
        auto m = ike::parse(frags[k]);
        REQUIRE(m.has_value());
        CHECK(ike::validate(*m).has_value());
        auto pt = rx->open(frags[k]);
        REQUIRE(pt.has_value());
        CHECK(pt->fragment == k + 1);
        CHECK(pt->total == 20);
        auto done = r.add(*pt);
        REQUIRE(done.has_value());
        CHECK(*done == (k == 0));
    }
    // Each fragment carries the IV drawn for it (header 28 + SKF header 8),
    // never one IV for all of them.
    REQUIRE(ivs.size() == frags.size());
    for (std::size_t k = 0; k < frags.size(); ++k)
        CHECK(to_hex(bytes_view(frags[k]).subspan(36, ivs[k].size())) == to_hex(ivs[k]));
    CHECK(to_hex(ivs[0]) != to_hex(ivs[1]));
    std::array<std::byte, 2048> out{};
    auto all = r.assemble(out);
    REQUIRE(all.has_value());
    CHECK(to_hex(all->data) == to_hex(inner));
    CHECK(names(all->payloads(), true) == std::vector<std::string>{"IDi", "CERT", "AUTH"});
    // A tampered fragment does not verify (its fragment fields are authenticated too).
    auto bad = frags[3];
    bad[33] ^= std::byte{1};  // fragment number 4 -> 5
    CHECK(rx->open(bad).error() == ike::errc::integrity_check_failed);
    bad[32] ^= std::byte{1};  // fragment number beyond the total
    auto e = rx->open(bad);
    CHECK(e.error() == ike::errc::fragment_mismatch);
    CHECK(e.error().offset == 32);
}

TEST_CASE(
    "SK open: pad length beyond the plaintext, ciphertext not in whole blocks, short payload") {
    auto info = *ike::v2::describe(
        {ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256, ike::integ_id::hmac_sha2_256_128});
    auto ke = hex("000102030405060708090a0b0c0d0e0f");
    auto ka = hex("101112131415161718191a1b1c1d1e1f 202122232425262728292a2b2c2d2e2f");
    auto rx = ike::v2::sk_protect<B>::make(info, ke, ka);
    REQUIRE(rx.has_value());
    // Header + SK built by hand: IV, ciphertext whose last plaintext byte is the pad length, ICV.
    auto build = [&](std::size_t ct_len, std::byte pad_byte) {
        std::vector<std::byte> m(28 + 4 + 16 + ct_len + 16);
        ike::header h;
        h.spi_i = 1;
        h.spi_r = 2;
        h.next_payload = 46;
        h.exchange_type = ike::exchange::informational;
        h.flags = ike::flag::initiator;
        h.length = static_cast<std::uint32_t>(m.size());
        writer w(m);
        ike::encode(w, h);
        w.u8(41);
        w.u8(0);
        w.u16(static_cast<std::uint16_t>(m.size() - 28));
        w.fill(16, std::byte{0x11});  // IV
        auto ct = mutable_bytes(m).subspan(48, ct_len);
        std::fill(ct.begin(), ct.end(), std::byte{0});
        if (!ct.empty()) ct[ct_len - 1] = pad_byte;
        if (ct_len % 16 == 0 && ct_len > 0) {
            auto c = B::make_cipher(crypto::cipher_id::aes128_cbc, ke);
            REQUIRE(c.has_value());
            REQUIRE(c->encrypt(bytes_view(m).subspan(32, 16), ct));
        }
        auto mac = B::make_mac(crypto::mac_id::hmac_sha256, ka);
        mac->update(bytes_view(m).first(48 + ct_len));
        mac->final(mutable_bytes(m).subspan(48 + ct_len, 16));
        return m;
    };
    auto bad_pad = build(16, std::byte{200});
    auto e = rx->open(bad_pad);
    CHECK(e.error() == ike::errc::bad_padding);
    CHECK(e.error().offset == 48 + 15);
    auto ok_pad = build(16, std::byte{15});  // all padding: an empty inner chain
    auto ok = rx->open(ok_pad);
    REQUIRE(ok.has_value());
    CHECK(ok->data.empty());
    auto odd = build(15, std::byte{0});
    auto o = rx->open(odd);
    CHECK(o.error() == ike::errc::bad_block_size);
    CHECK(o.error().offset == 48);
    auto tiny = build(0, std::byte{0});
    auto t = rx->open(tiny);
    CHECK(t.error() == ike::errc::truncated);
    CHECK(t.error().offset == 32);
}

TEST_CASE("IKEv1 fragments (payload 132): split a Main Mode message, reassemble it out of order") {
    auto pk = test::ike_capture("ike_v1.pcap");
    REQUIRE(pk.size() == 9);
    const auto& whole = pk[2].ike;  // KE, Nonce, NAT-D x2: 372 bytes
    const std::size_t piece = 100;
    const std::size_t count = (whole.size() + piece - 1) / piece;
    std::vector<std::vector<std::byte>> frags;
    auto h = ike::parse(whole)->header();
    for (std::size_t i = 0; i < count; ++i) {
        std::vector<std::byte> buf(200);
        ike::header fh = h;
        fh.flags = 0;
        ike::message_builder b(buf, fh);
        b.begin(ike::payload_type::fragment_v1);
        auto part = bytes_view(whole).subspan(i * piece);
        ike::v1::fragment{7, static_cast<std::uint8_t>(i + 1),
                          static_cast<std::uint8_t>(i + 1 == count ? 1 : 0),
                          part.first(std::min(piece, part.size()))}
            .encode(b.out());
        b.end();
        auto n = b.finish();
        REQUIRE(n.has_value());
        buf.resize(*n);
        frags.push_back(buf);
    }
    std::array<std::byte, 1024> store{};
    ike::v1::fragment_reassembler<> r(store);
    std::size_t order[] = {2, 0, 3, 1};
    REQUIRE(count == 4);
    for (std::size_t k = 0; k < count; ++k) {
        auto m = ike::parse(frags[order[k]]);
        REQUIRE(m.has_value());
        CHECK(ike::validate(*m).has_value());
        auto p = *m->payloads().begin();
        auto f = ike::v1::fragment::parse(p);
        REQUIRE(f.has_value());
        auto done = r.add(*f, p.offset);
        REQUIRE(done.has_value());
        CHECK(*done == (k + 1 == count));
    }
    std::array<std::byte, 1024> out{};
    auto all = r.assemble(out);
    REQUIRE(all.has_value());
    CHECK(to_hex(*all) == to_hex(whole));
    CHECK(ike::parse(*all).has_value());
    // A fragment of another message, and fragment number 0.
    ike::v1::fragment other{8, 1, 0, {}};
    CHECK(r.add(other).error() == ike::errc::fragment_mismatch);
    auto zero = hex("0007 00 01 aa");
    auto ze = ike::v1::fragment::parse({132, 0, 0, zero, 40});
    CHECK(ze.error() == ike::errc::fragment_mismatch);
    CHECK(ze.error().offset == 46);
}

TEST_CASE("NAT detection hashes equal the NAT-D / NAT_DETECTION_*_IP data the peers sent") {
    // IKEv2 (SHA-1 over SPIi | SPIr | IP | port; SPIr is 0 in IKE_SA_INIT request).
    auto pk = test::ike_capture("ike_v2cbc.pcap");
    auto m0 = *ike::parse(pk[0].ike);
    std::vector<std::string> sent;
    for (const auto& p : m0.payloads())
        if (p.kind() == ike::payload_type::notify) {
            auto n = ike::v2::notify::parse(p);
            if (n->type == 16388 || n->type == 16389) sent.push_back(to_hex(n->data));
        }
    REQUIRE(sent.size() == 2);
    auto src = ike::nat_detection_hash<B>(crypto::hash_id::sha1, m0.header().spi_i, 0,
                                          hex("0a630001"), 500);
    auto dst = ike::nat_detection_hash<B>(crypto::hash_id::sha1, m0.header().spi_i, 0,
                                          hex("0a630002"), 500);
    CHECK(to_hex(*src) == sent[0]);
    CHECK(to_hex(*dst) == sent[1]);
    // IKEv1 (RFC 3947: the negotiated hash over CKY-I | CKY-R | IP | port), Main Mode 3.
    auto v1 = test::ike_capture("ike_v1.pcap");
    auto m2 = *ike::parse(v1[2].ike);
    std::vector<std::string> natd;
    for (const auto& p : m2.payloads())
        if (p.kind() == ike::payload_type::nat_d) natd.push_back(to_hex(p.body));
    REQUIRE(natd.size() == 2);
    auto peer = ike::nat_detection_hash<B>(crypto::hash_id::sha1, m2.header().spi_i,
                                           m2.header().spi_r, hex("0a630002"), 500);
    auto self = ike::nat_detection_hash<B>(crypto::hash_id::sha1, m2.header().spi_i,
                                           m2.header().spi_r, hex("0a630001"), 500);
    CHECK(to_hex(*peer) == natd[0]);
    CHECK(to_hex(*self) == natd[1]);
    CHECK(ike::nat_detection_hash<B>(crypto::hash_id::sha1, 1, 2, hex("0a"), 500).error() ==
          l2sec::errc::invalid_argument);
}

namespace {

/// A user-written backend without Botan: HMAC-SHA1/SHA-256 from
/// crypto::portable (standard library only), nothing else. The IKEv2 key schedule only needs its
/// PRF.
struct portable_prf_backend {
    struct aead {
        std::size_t tag_size() const noexcept { return 16; }
        bool seal(bytes_view, bytes_view, mutable_bytes, mutable_bytes) noexcept { return false; }
        bool open(bytes_view, bytes_view, mutable_bytes, bytes_view) noexcept { return false; }
    };
    struct cipher {
        std::size_t block_size() const noexcept { return 16; }
        bool encrypt(bytes_view, mutable_bytes) noexcept { return false; }
        bool decrypt(bytes_view, mutable_bytes) noexcept { return false; }
    };
    using mac = crypto::portable::mac;
    struct random {
        bool fill(mutable_bytes) noexcept { return false; }
    };
    static result<aead> make_aead(crypto::aead_id, bytes_view) noexcept {
        return crypto::errc::unsupported_algorithm;
    }
    static result<cipher> make_cipher(crypto::cipher_id, bytes_view) noexcept {
        return crypto::errc::unsupported_algorithm;
    }
    static result<mac> make_mac(crypto::mac_id id, bytes_view key) noexcept {
        if (id != crypto::mac_id::hmac_sha256 && id != crypto::mac_id::hmac_sha1)
            return crypto::errc::unsupported_algorithm;
        return crypto::portable::make_mac(id, key);
    }
};
static_assert(crypto::datapath_backend<portable_prf_backend>);

}  // namespace

TEST_CASE("a user-written backend (portable HMAC, no Botan) runs the IKEv2 key schedule") {
    using P = portable_prf_backend;
    auto pk = test::ike_capture("ike_v2cbc.pcap");
    auto keys = test::ike_keys("ike_v2cbc.keys");
    auto info = *ike::v2::describe(
        {ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256, ike::integ_id::hmac_sha2_256_128});
    auto m0 = *ike::parse(pk[0].ike);
    auto m1 = *ike::parse(pk[1].ike);
    auto ni = find(m0.payloads(), ike::payload_type::nonce).body;
    auto nr = find(m1.payloads(), ike::payload_type::nonce).body;
    auto seed = ike::v2::skeyseed<P>(info, ni, nr, keys.at("shared_diffie_hellman_secret"));
    REQUIRE(seed.has_value());
    CHECK(to_hex(*seed) == to_hex(keys.at("skeyseed")));
    std::size_t allocs = 0;
    result<ike::v2::ike_sa_keys> k = l2sec::errc::truncated;
    allocs = test::allocations_in([&] {
        k = ike::v2::derive_ike_sa_keys<P>(info, *seed, ni, nr, m1.header().spi_i,
                                           m1.header().spi_r);
    });
    REQUIRE(k.has_value());
    CHECK(allocs == 0);  // the schedule itself allocates nothing; Botan's keyed objects do
    CHECK(to_hex(k->pr) == to_hex(keys.at("sk_pr_secret")));
    CHECK(to_hex(k->ei) == to_hex(keys.at("sk_ei_secret")));
    // And the backend refuses what it does not have, cleanly.
    CHECK(ike::v2::sk_protect<P>::make(info, k->ei, k->ai).error() ==
          ike::errc::unsupported_algorithm);
}

TEST_CASE_TEMPLATE_DEFINE(
    "IKEv1 Main Mode + Quick Mode (strongSwan, PSK, AES-128, SHA-1, modp2048)", B, ike_backend_4) {
    auto pk = test::ike_capture("ike_v1.pcap");
    auto keys = test::ike_keys("ike_v1.keys");
    REQUIRE(pk.size() == 9);
    auto info = ike::v1::describe({ike::v1_encr::aes_cbc, 128, ike::v1_hash::sha1});
    REQUIRE(info.has_value());
    auto m0 = *ike::parse(pk[0].ike);
    auto m2 = *ike::parse(pk[2].ike);
    auto m3 = *ike::parse(pk[3].ike);
    auto ni = find(m2.payloads(), ike::payload_type::nonce_v1).body;
    auto nr = find(m3.payloads(), ike::payload_type::nonce_v1).body;
    auto gxi = find(m2.payloads(), ike::payload_type::ke_v1).body;
    auto gxr = find(m3.payloads(), ike::payload_type::ke_v1).body;
    auto sai = find(m0.payloads(), ike::payload_type::sa_v1).body;
    const auto cky_i = m3.header().spi_i, cky_r = m3.header().spi_r;
    auto psk = as_bytes("l2sec-ike-test-psk");
    auto& gxy = keys.at("shared_diffie_hellman_secret");

    auto skeyid = ike::v1::skeyid_psk<B>(*info, psk, ni, nr);
    REQUIRE(skeyid.has_value());
    CHECK(to_hex(*skeyid) == to_hex(keys.at("skeyid")));
    auto k = ike::v1::derive_phase1<B>(*info, *skeyid, gxy, cky_i, cky_r);
    REQUIRE(k.has_value());
    CHECK(to_hex(k->d) == to_hex(keys.at("skeyid_d")));
    CHECK(to_hex(k->a) == to_hex(keys.at("skeyid_a")));
    CHECK(to_hex(k->e) == to_hex(keys.at("skeyid_e")));
    CHECK(to_hex(k->ka) == to_hex(keys.at("encryption_key_ka")));
    auto iv = ike::v1::phase1_iv<B>(*info, gxi, gxr);
    REQUIRE(iv.has_value());
    CHECK(to_hex(iv->view()) == to_hex(keys.at("initial_iv")));

    auto mc = ike::v1::message_crypto<B>::make(*info, k->ka);
    REQUIRE(mc.has_value());
    // MM5 (ID, HASH_I): decrypt with the phase 1 IV.
    auto mm5 = pk[4].ike;
    auto c5 = mc->decrypt(mm5, *iv);
    REQUIRE(c5.has_value());
    CHECK(to_hex(iv->view()) == to_hex(bytes_view(pk[4].ike).last(16)));
    CHECK(ike::v1::validate(*c5).has_value());
    auto id_i = find(*c5, ike::payload_type::id_v1);
    auto hash_i = find(*c5, ike::payload_type::hash);
    auto my_hash_i =
        ike::v1::phase1_hash<B>(*info, *skeyid, true, gxi, gxr, cky_i, cky_r, sai, id_i.body);
    CHECK(to_hex(*my_hash_i) == to_hex(hash_i.body));
    CHECK(to_hex(*my_hash_i) == to_hex(keys.at("hash_i")));
    auto idv = ike::v1::id::parse(id_i);
    CHECK(idv->type == 1);
    CHECK(to_hex(idv->data) == "0a630001");
    // MM6 (ID, HASH_R): the IV is MM5's last ciphertext block.
    auto mm6 = pk[5].ike;
    auto c6 = mc->decrypt(mm6, *iv);
    REQUIRE(c6.has_value());
    auto id_r = find(*c6, ike::payload_type::id_v1);
    auto my_hash_r =
        ike::v1::phase1_hash<B>(*info, *skeyid, false, gxi, gxr, cky_i, cky_r, sai, id_r.body);
    CHECK(to_hex(*my_hash_r) == to_hex(find(*c6, ike::payload_type::hash).body));
    CHECK(to_hex(*my_hash_r) == to_hex(keys.at("hash_r")));
    const ike::v1::iv last_p1 = *iv;

    // Quick Mode 1: IV = hash(last phase-1 block | M-ID).
    auto qm1 = pk[6].ike;
    const auto mid = ike::parse(qm1)->header().message_id;
    auto qiv = ike::v1::phase2_iv<B>(*info, last_p1, mid);
    auto c7 = mc->decrypt(qm1, *qiv);
    REQUIRE(c7.has_value());
    std::vector<std::string> qn;
    for (const auto& p : *c7)
        qn.push_back(ike::name(p.kind()));
    CHECK(qn == std::vector<std::string>{"HASH", "SA", "Nonce", "ID", "ID"});
    CHECK(ike::v1::validate(*c7).has_value());
    // HASH(1) covers the message from the payload after HASH to the last payload's end.
    auto h1 = find(*c7, ike::payload_type::hash);
    std::size_t end1 = 0;
    for (const auto& p : *c7)
        end1 = p.offset + p.size();
    auto rest1 = bytes_view(qm1).subspan(h1.offset + h1.size(), end1 - h1.offset - h1.size());
    auto my_h1 = ike::v1::qm_hash1<B>(*info, k->a, mid, rest1);
    CHECK(to_hex(*my_h1) == to_hex(h1.body));
    CHECK(to_hex(*my_h1) == to_hex(keys.at("hash_1")));
    // The Quick Mode IDs carry the L2TP selector: UDP port 1701.
    for (const auto& p : *c7)
        if (p.kind() == ike::payload_type::id_v1) {
            auto q = ike::v1::id::parse(p);
            CHECK(q->protocol == 17);
            CHECK(q->port == 1701);
        }
    auto ni2 = find(*c7, ike::payload_type::nonce_v1).body;
    // Quick Mode 2: IV chains from QM1.
    auto qm2 = pk[7].ike;
    auto c8 = mc->decrypt(qm2, *qiv);
    REQUIRE(c8.has_value());
    auto h2 = find(*c8, ike::payload_type::hash);
    std::size_t end2 = 0;
    for (const auto& p : *c8)
        end2 = p.offset + p.size();
    auto rest2 = bytes_view(qm2).subspan(h2.offset + h2.size(), end2 - h2.offset - h2.size());
    auto my_h2 = ike::v1::qm_hash2<B>(*info, k->a, mid, ni2, rest2);
    CHECK(to_hex(*my_h2) == to_hex(h2.body));
    CHECK(to_hex(*my_h2) == to_hex(keys.at("hash_2")));
    auto nr2 = find(*c8, ike::payload_type::nonce_v1).body;
    // KEYMAT (ESP, responder's SPI): encryption then integrity key, as charon installed them.
    std::uint32_t spi_r = 0;
    for (const auto& pp : ike::v1::sa::parse(find(*c8, ike::payload_type::sa_v1))->proposals())
        spi_r = load_be32(ike::proposal::parse(pp)->spi.data());
    std::array<std::byte, 36> km{};
    REQUIRE(ike::v1::keymat<B>(*info, k->d, 3, spi_r, ni2, nr2, km).has_value());
    CHECK(to_hex(bytes_view(km).first(16)) == to_hex(keys.at("encryption_initiator_key")));
    CHECK(to_hex(bytes_view(km).subspan(16)) == to_hex(keys.at("integrity_initiator_key")));

    // Informational (M-ID of its own): IV = hash(last phase-1 block | M-ID), HASH over the rest.
    auto inf = pk[8].ike;
    const auto mid9 = ike::parse(inf)->header().message_id;
    auto iiv = ike::v1::phase2_iv<B>(*info, last_p1, mid9);
    auto c9 = mc->decrypt(inf, *iiv);
    REQUIRE(c9.has_value());
    auto h9 = find(*c9, ike::payload_type::hash);
    std::size_t end9 = 0;
    for (const auto& p : *c9)
        end9 = p.offset + p.size();
    auto rest9 = bytes_view(inf).subspan(h9.offset + h9.size(), end9 - h9.offset - h9.size());
    CHECK(to_hex(*ike::v1::qm_hash1<B>(*info, k->a, mid9, rest9)) == to_hex(h9.body));

    // Encrypt our own message with the same chaining and read it back.
    std::array<std::byte, 128> buf{};
    ike::header hh = ike::parse(pk[6].ike)->header();
    ike::message_builder b(buf, hh);
    b.add(ike::payload_type::hash, bytes_view(km).first(20));
    auto n = b.finish();
    REQUIRE(n.has_value());
    ike::v1::iv tx = last_p1, rx = last_p1;
    auto sz = mc->encrypt(buf, *n, tx);
    REQUIRE(sz.has_value());
    CHECK(*sz % 16 == 28 % 16);
    auto back = mc->decrypt(mutable_bytes(buf).first(*sz), rx);
    REQUIRE(back.has_value());
    CHECK(to_hex(find(*back, ike::payload_type::hash).body) == to_hex(bytes_view(km).first(20)));
    CHECK(to_hex(tx.view()) == to_hex(rx.view()));
    // A body that is not a whole number of blocks.
    auto odd = pk[4].ike;
    odd.pop_back();
    store_be32(odd.data() + 24, static_cast<std::uint32_t>(odd.size()));
    ike::v1::iv any = last_p1;
    auto oe = mc->decrypt(odd, any);
    CHECK(oe.error() == ike::errc::bad_block_size);
    CHECK(oe.error().offset == 28);
}
TEST_CASE_TEMPLATE_APPLY(ike_backend_4, test::full_backends);

TEST_CASE_TEMPLATE_DEFINE(
    "IKEv1 with AES-256 + SHA-1 + ECP-384 (Windows' first choice): Ka and KEYMAT expansion", B,
    ike_backend_5) {
    auto pk = test::ike_capture("ike_v1aes256.pcap");
    auto keys = test::ike_keys("ike_v1aes256.keys");
    REQUIRE(pk.size() == 9);
    auto info = ike::v1::describe({ike::v1_encr::aes_cbc, 256, ike::v1_hash::sha1});
    REQUIRE(info.has_value());
    auto m0 = *ike::parse(pk[0].ike);
    auto m2 = *ike::parse(pk[2].ike);
    auto m3 = *ike::parse(pk[3].ike);
    auto ni = find(m2.payloads(), ike::payload_type::nonce_v1).body;
    auto nr = find(m3.payloads(), ike::payload_type::nonce_v1).body;
    auto gxi = find(m2.payloads(), ike::payload_type::ke_v1).body;
    auto gxr = find(m3.payloads(), ike::payload_type::ke_v1).body;
    CHECK(gxi.size() == 96);  // ECP-384 x | y
    auto sai = find(m0.payloads(), ike::payload_type::sa_v1).body;
    const auto cky_i = m3.header().spi_i, cky_r = m3.header().spi_r;
    auto skeyid = ike::v1::skeyid_psk<B>(*info, as_bytes("l2sec-ike-test-psk"), ni, nr);
    REQUIRE(skeyid.has_value());
    auto k = ike::v1::derive_phase1<B>(*info, *skeyid, keys.at("shared_diffie_hellman_secret"),
                                       cky_i, cky_r);
    REQUIRE(k.has_value());
    CHECK(to_hex(k->e) == to_hex(keys.at("skeyid_e")));
    // SKEYID_e is 20 bytes; the 32-byte key is K1 | K2 (RFC 2409 Appendix B).
    CHECK(k->ka.size == 32);
    CHECK(to_hex(k->ka) == to_hex(keys.at("encryption_key_ka")));
    auto iv = ike::v1::phase1_iv<B>(*info, gxi, gxr);
    CHECK(to_hex(iv->view()) == to_hex(keys.at("initial_iv")));
    auto mc = ike::v1::message_crypto<B>::make(*info, k->ka);
    REQUIRE(mc.has_value());
    auto mm5 = pk[4].ike;
    auto c5 = mc->decrypt(mm5, *iv);
    REQUIRE(c5.has_value());
    auto hi = ike::v1::phase1_hash<B>(*info, *skeyid, true, gxi, gxr, cky_i, cky_r, sai,
                                      find(*c5, ike::payload_type::id_v1).body);
    CHECK(to_hex(*hi) == to_hex(find(*c5, ike::payload_type::hash).body));
    auto mm6 = pk[5].ike;
    REQUIRE(mc->decrypt(mm6, *iv).has_value());
    const ike::v1::iv last_p1 = *iv;
    auto qm1 = pk[6].ike;
    const auto mid = ike::parse(qm1)->header().message_id;
    auto qiv = ike::v1::phase2_iv<B>(*info, last_p1, mid);
    auto c7 = mc->decrypt(qm1, *qiv);
    REQUIRE(c7.has_value());
    auto ni2 = find(*c7, ike::payload_type::nonce_v1).body;
    auto qm2 = pk[7].ike;
    auto c8 = mc->decrypt(qm2, *qiv);
    REQUIRE(c8.has_value());
    auto nr2 = find(*c8, ike::payload_type::nonce_v1).body;
    std::uint32_t spi_r = 0;
    for (const auto& pp : ike::v1::sa::parse(find(*c8, ike::payload_type::sa_v1))->proposals())
        spi_r = load_be32(ike::proposal::parse(pp)->spi.data());
    std::array<std::byte, 52> km{};  // AES-256 key + HMAC-SHA1 key: three PRF blocks
    REQUIRE(ike::v1::keymat<B>(*info, k->d, 3, spi_r, ni2, nr2, km).has_value());
    CHECK(to_hex(bytes_view(km).first(32)) == to_hex(keys.at("encryption_initiator_key")));
    CHECK(to_hex(bytes_view(km).subspan(32)) == to_hex(keys.at("integrity_initiator_key")));
}
TEST_CASE_TEMPLATE_APPLY(ike_backend_5, test::full_backends);

TEST_CASE_TEMPLATE_DEFINE(
    "DH/ECDH through the seam: RFC 5903 (ECP-256), RFC 7748 (X25519), MODP agreement", B,
    ike_backend_6) {
    using K = B;
    auto i = K::make_key_exchange(
        crypto::dh_id::ecp256,
        hex("C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433"));
    auto r = K::make_key_exchange(
        crypto::dh_id::ecp256,
        hex("C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53"));
    REQUIRE(i.has_value());
    REQUIRE(r.has_value());
    // The IKE encoding of g^i: x | y without the 0x04 prefix (RFC 5903 §7).
    CHECK(to_hex(i->public_value()) ==
          "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
          "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3");
    std::array<std::byte, crypto::max_dh_shared_size> s1{}, s2{};
    auto n1 = i->agree(r->public_value(), s1);
    auto n2 = r->agree(i->public_value(), s2);
    REQUIRE(n1.has_value());
    REQUIRE(n2.has_value());
    CHECK(*n1 == 32);
    CHECK(to_hex(bytes_view(s1).first(32)) ==
          "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de");
    CHECK(to_hex(bytes_view(s2).first(32)) == to_hex(bytes_view(s1).first(32)));
    // Off-curve and wrong-size peers are refused.
    auto bad = std::vector<std::byte>(i->public_value().begin(), i->public_value().end());
    bad[63] ^= std::byte{1};
    CHECK_FALSE(r->agree(bad, s2).has_value());
    CHECK_FALSE(r->agree(bytes_view(bad).first(63), s2).has_value());

    auto x = K::make_key_exchange(
        crypto::dh_id::curve25519,
        hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"));
    REQUIRE(x.has_value());
    auto xn = x->agree(hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"), s1);
    REQUIRE(xn.has_value());
    CHECK(to_hex(bytes_view(s1).first(32)) ==
          "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");

    for (auto g : {crypto::dh_id::modp1024, crypto::dh_id::modp1536, crypto::dh_id::modp2048,
                   crypto::dh_id::modp3072, crypto::dh_id::ecp384}) {
        auto a = K::make_key_exchange(g);
        auto b = K::make_key_exchange(g);
        REQUIRE(a.has_value());
        REQUIRE(b.has_value());
        CHECK(a->public_value().size() == crypto::info(g).public_size);
        auto na = a->agree(b->public_value(), s1);
        auto nb = b->agree(a->public_value(), s2);
        REQUIRE(na.has_value());
        CHECK(*na == crypto::info(g).shared_size);
        CHECK(to_hex(bytes_view(s1).first(*na)) == to_hex(bytes_view(s2).first(*nb)));
    }
}
TEST_CASE_TEMPLATE_APPLY(ike_backend_6, test::full_backends);

TEST_CASE_TEMPLATE_DEFINE("IKEv2 CHILD_SA KEYMAT equals the keys charon derived (responder log)", B,
                          ike_backend_7) {
    {
        auto v = load_v2<B>("v2cbc", {ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256,
                                      ike::integ_id::hmac_sha2_256_128});
        auto child = *ike::v2::describe({ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256,
                                         ike::integ_id::hmac_sha2_256_128});
        auto c = ike::v2::derive_child_sa_keys<B>(v.info, child, v.sa.d, v.ni, v.nr);
        REQUIRE(c.has_value());
        CHECK(to_hex(c->ei) == to_hex(v.keys.at("responder_encryption_initiator_key")));
        CHECK(to_hex(c->ai) == to_hex(v.keys.at("responder_integrity_initiator_key")));
        CHECK(to_hex(c->er) == to_hex(v.keys.at("responder_encryption_responder_key")));
        CHECK(to_hex(c->ar) == to_hex(v.keys.at("responder_integrity_responder_key")));
    }
    {
        auto v = load_v2<B>("v2gcm", {ike::encr_id::aes_gcm_16, 256, ike::prf_id::hmac_sha2_384,
                                      ike::integ_id::none});
        auto child = *ike::v2::describe(
            {ike::encr_id::aes_gcm_16, 256, ike::prf_id::hmac_sha2_384, ike::integ_id::none});
        auto c = ike::v2::derive_child_sa_keys<B>(v.info, child, v.sa.d, v.ni, v.nr);
        REQUIRE(c.has_value());
        CHECK(c->ei.size == 36);
        CHECK(to_hex(c->ei) == to_hex(v.keys.at("responder_encryption_initiator_key")));
        CHECK(to_hex(c->er) == to_hex(v.keys.at("responder_encryption_responder_key")));
        CHECK(c->ai.size == 0);
    }
}
TEST_CASE_TEMPLATE_APPLY(ike_backend_7, test::full_backends);

TEST_CASE("CHILD_SA KEYMAT splits prf+(SK_d, Ni | Nr) as RFC 7296 §2.17 orders it") {
    auto info = *ike::v2::describe(
        {ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256, ike::integ_id::hmac_sha2_256_128});
    auto skd = hex("c79eb99b2d4bd0c1b3cee5d40474096f914293a4d9ebd89aafbaa3ff8e3b4db2");
    auto ni = hex("00112233445566778899aabbccddeeff");
    auto nr = hex("ffeeddccbbaa99887766554433221100");
    auto c = ike::v2::derive_child_sa_keys<B>(info, info, skd, ni, nr);
    REQUIRE(c.has_value());
    std::array<std::byte, 96> km{};
    const bytes_view seed[2] = {ni, nr};
    REQUIRE(ike::prf_plus<B>(crypto::mac_id::hmac_sha256, skd, seed, km).has_value());
    CHECK(to_hex(c->ei) == to_hex(bytes_view(km).first(16)));
    CHECK(to_hex(c->ai) == to_hex(bytes_view(km).subspan(16, 32)));
    CHECK(to_hex(c->er) == to_hex(bytes_view(km).subspan(48, 16)));
    CHECK(to_hex(c->ar) == to_hex(bytes_view(km).subspan(64, 32)));
    // prf+ block 2 really chains T1: T2 = prf(K, T1 | S | 0x02).
    auto t1 = ike::prf<B>(crypto::mac_id::hmac_sha256, skd, {ni, nr, hex("01")});
    auto t2 = ike::prf<B>(crypto::mac_id::hmac_sha256, skd, {t1->view(), ni, nr, hex("02")});
    CHECK(to_hex(*t1) == to_hex(bytes_view(km).first(32)));
    CHECK(to_hex(*t2) == to_hex(bytes_view(km).subspan(32, 32)));
}

TEST_CASE_TEMPLATE_DEFINE("an IKEv2 key schedule computed by both backends agrees", P,
                          ike_cross_schedule) {
    using X = typename P::first;
    using Y = typename P::second;
    // g^ir from a key pair of each backend, then SKEYSEED and SK_* on both.
    for (const auto& gs :
         {std::pair{crypto::dh_id::modp2048,
                    ike::v2::suite{ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha1,
                                   ike::integ_id::hmac_sha1_96}},
          std::pair{crypto::dh_id::ecp256,
                    ike::v2::suite{ike::encr_id::aes_cbc, 256, ike::prf_id::hmac_sha2_256,
                                   ike::integ_id::hmac_sha2_256_128}},
          std::pair{crypto::dh_id::ecp384,
                    ike::v2::suite{ike::encr_id::aes_gcm_16, 256, ike::prf_id::hmac_sha2_384,
                                   ike::integ_id::none}},
          std::pair{crypto::dh_id::curve25519,
                    ike::v2::suite{ike::encr_id::aes_cbc, 256, ike::prf_id::hmac_sha2_512,
                                   ike::integ_id::hmac_sha2_512_256}}}) {
        const auto g = gs.first;
        const auto s = gs.second;  // clang 14 cannot capture structured bindings
        CAPTURE(crypto::info(g).name);
        auto info = ike::v2::describe(s);
        REQUIRE(info.has_value());
        auto kx = X::make_key_exchange(g);
        auto ky = Y::make_key_exchange(g);
        REQUIRE(kx.has_value());
        REQUIRE(ky.has_value());
        std::array<std::byte, crypto::max_dh_shared_size> gx{}, gy{};
        auto nx = kx->agree(ky->public_value(), gx);
        auto ny = ky->agree(kx->public_value(), gy);
        REQUIRE(nx.has_value());
        REQUIRE(ny.has_value());
        const auto gir_x = bytes_view(gx).first(*nx), gir_y = bytes_view(gy).first(*ny);
        CHECK(to_hex(gir_x) == to_hex(gir_y));
        auto ni = hex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
        auto nr = hex("a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0");
        auto sx = ike::v2::skeyseed<X>(*info, ni, nr, gir_x);
        auto sy = ike::v2::skeyseed<Y>(*info, ni, nr, gir_y);
        REQUIRE(sx.has_value());
        REQUIRE(sy.has_value());
        CHECK(to_hex(*sx) == to_hex(*sy));
        auto kx2 = ike::v2::derive_ike_sa_keys<X>(*info, *sx, ni, nr, 0x1122334455667788ull,
                                                  0x99aabbccddeeff00ull);
        auto ky2 = ike::v2::derive_ike_sa_keys<Y>(*info, *sy, ni, nr, 0x1122334455667788ull,
                                                  0x99aabbccddeeff00ull);
        REQUIRE(kx2.has_value());
        REQUIRE(ky2.has_value());
        CHECK(to_hex(kx2->d) == to_hex(ky2->d));
        CHECK(to_hex(kx2->ai) == to_hex(ky2->ai));
        CHECK(to_hex(kx2->ar) == to_hex(ky2->ar));
        CHECK(to_hex(kx2->ei) == to_hex(ky2->ei));
        CHECK(to_hex(kx2->er) == to_hex(ky2->er));
        CHECK(to_hex(kx2->pi) == to_hex(ky2->pi));
        CHECK(to_hex(kx2->pr) == to_hex(ky2->pr));
        CHECK(kx2->ei.size == info->encr_key_size);
    }
}
TEST_CASE_TEMPLATE_APPLY(ike_cross_schedule, test::cross_backends);
