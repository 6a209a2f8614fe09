// L2TPv2 AVP catalogue, hidden AVPs, tunnel authentication, section 6
// validation, zero allocations, and a real capture (xl2tpd LAC <-> LNS).
#include <doctest/doctest.h>

#include <l2sec/l2tp.hpp>
#include <l2sec/pcap.hpp>

#include "support/alloc_counter.hpp"
#include "support/backends.hpp"
#include "support/hex.hpp"

#include <array>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

using namespace l2sec;
using l2sec::test::allocations_in;
using l2sec::test::hex;
using l2sec::test::to_hex;
namespace avps = l2sec::l2tp::avps;
using l2tp::avp_type;
using l2tp::message_type;

namespace {

// Value sizes from RFC 2661 section 4.4 (and RFC 3145 for 46), read from the
// RFC text: {type, minimum, maximum} (max 1017 = 1023 - 6: any length).
struct size_rule {
    std::uint16_t type;
    std::size_t min, max;
};
constexpr std::size_t any = 1017;
const size_rule rules[] = {
    {0, 2, 2},    {1, 2, any},  {2, 2, 2},    {3, 4, 4},  {4, 4, 4},    {5, 8, 8},    {6, 2, 2},
    {7, 1, any},  {8, 0, any},  {9, 2, 2},    {10, 2, 2}, {11, 1, any}, {12, 3, any}, {13, 16, 16},
    {14, 2, 2},   {15, 4, 4},   {16, 4, 4},   {17, 4, 4}, {18, 4, 4},   {19, 4, 4},   {21, 0, any},
    {22, 0, any}, {23, 0, any}, {24, 4, 4},   {25, 4, 4}, {26, 0, any}, {27, 0, any}, {28, 0, any},
    {29, 2, 2},   {30, 0, any}, {31, 0, any}, {32, 2, 2}, {33, 0, any}, {34, 26, 26}, {35, 10, 10},
    {36, 1, any}, {37, 0, any}, {38, 4, 4},   {39, 0, 0}, {46, 5, any},
};

// A message: Message Type t, then raw AVPs appended by `more`.
template <class F>
std::vector<std::byte> build(message_type t, F&& more, std::size_t cap = 1500) {
    std::vector<std::byte> buf(cap);
    l2tp::message_builder b(buf, 0x1111, 0x2222, 1, 2);
    b.add(avps::message_type{t});
    more(b);
    auto r = b.finish();
    REQUIRE(r);
    return {r->begin(), r->end()};
}

template <class V>
void roundtrip(const V& v) {
    const std::string avp_name = l2tp::to_string(V::type);
    CAPTURE(avp_name);
    auto bytes = build(message_type::hello, [&](auto& b) { b.add(v); });
    auto m = l2tp::parse(bytes);
    REQUIRE(m);
    std::optional<l2tp::avp_view> a;  // the last one (Message Type comes first too)
    for (auto x : m->avps())
        if (x.is(V::type)) a = x;
    REQUIRE(a);
    CHECK(a->mandatory() == l2tp::default_mandatory(V::type));
    CHECK(a->length() == 6 + v.size());
    auto d = l2tp::decode<V>(*a);
    REQUIRE(d);
    CHECK(*d == v);
    int hits = 0;
    auto r = l2tp::visit_avp(*a, [&](const auto& x) {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, V>) {
            CHECK(x == v);
            ++hits;
        }
    });
    CHECK(r);
    CHECK(hits == 1);
}

const std::array<std::byte, 16> rv16 = [] {
    std::array<std::byte, 16> a{};
    for (std::size_t i = 0; i < 16; ++i)
        a[i] = static_cast<std::byte>(i);
    return a;
}();

}  // namespace

TEST_CASE("every AVP type round-trips through builder, parse, decode and visit") {
    const auto s = as_bytes("text");
    const auto r16 = as_bytes("0123456789abcdef");
    roundtrip(avps::message_type{message_type::iccn});
    roundtrip(avps::result_code{2, false, 0, {}});
    roundtrip(avps::result_code{2, true, 6, {}});
    roundtrip(avps::result_code{1, true, 0, as_bytes("General request to clear")});
    roundtrip(avps::protocol_version{1, 0});
    roundtrip(avps::framing_capabilities{avps::framing::sync | avps::framing::async});
    roundtrip(avps::bearer_capabilities{avps::bearer::digital | avps::bearer::analog});
    roundtrip(avps::tie_breaker{0x0102030405060708ULL});
    roundtrip(avps::firmware_revision{0x0690});
    roundtrip(avps::host_name{as_bytes("lns.example")});
    roundtrip(avps::vendor_name{as_bytes("l2sec")});
    roundtrip(avps::assigned_tunnel_id{0xBEEF});
    roundtrip(avps::receive_window_size{4});
    roundtrip(avps::challenge{s});
    roundtrip(avps::q931_cause_code{16, 0x45, as_bytes("normal")});
    roundtrip(avps::q931_cause_code{16, 0x45, {}});
    roundtrip(avps::challenge_response{r16});
    roundtrip(avps::assigned_session_id{0x1234});
    roundtrip(avps::call_serial_number{0xDEADBEEF});
    roundtrip(avps::minimum_bps{9600});
    roundtrip(avps::maximum_bps{100000000});
    roundtrip(avps::bearer_type{avps::bearer::analog});
    roundtrip(avps::framing_type{avps::framing::sync});
    roundtrip(avps::called_number{as_bytes("5551234")});
    roundtrip(avps::calling_number{as_bytes("5554321")});
    roundtrip(avps::sub_address{as_bytes("12")});
    roundtrip(avps::tx_connect_speed{10000000});
    roundtrip(avps::physical_channel_id{7});
    roundtrip(avps::initial_received_lcp_confreq{s});
    roundtrip(avps::last_sent_lcp_confreq{s});
    roundtrip(avps::last_received_lcp_confreq{s});
    roundtrip(avps::proxy_authen_type{2});
    roundtrip(avps::proxy_authen_name{as_bytes("user")});
    roundtrip(avps::proxy_authen_challenge{r16});
    roundtrip(avps::proxy_authen_id{0x2a});
    roundtrip(avps::proxy_authen_response{r16});
    roundtrip(avps::call_errors{1, 2, 3, 4, 5, 6});
    roundtrip(avps::accm{0, 0xFFFFFFFF});
    roundtrip(avps::random_vector{r16});
    roundtrip(avps::private_group_id{s});
    roundtrip(avps::rx_connect_speed{1000});
    roundtrip(avps::sequencing_required{});
    roundtrip(avps::ppp_disconnect_cause_code{2, 0xC021, 1, as_bytes("peer")});
}

TEST_CASE("known encodings of composite AVPs (RFC 2661 4.4 layouts)") {
    auto bytes = build(message_type::wen, [](auto& b) {
        b.add(avps::call_errors{1, 2, 3, 4, 5, 6})
            .add(avps::accm{0x000A0000, 0xFFFFFFFF})
            .add(avps::result_code{2, true, 6, as_bytes("x")})
            .add(avps::proxy_authen_id{9})
            .add(avps::ppp_disconnect_cause_code{3, 0xC021, 2, {}});
    });
    // Header (12) + Message Type (8), then each AVP as laid out in the RFC.
    CHECK(to_hex(bytes_view(bytes).subspan(20)) ==
          "8020000000220000000000010000000200000003000000040000000500000006"  // Call Errors, 32
          "8010000000230000000a0000ffffffff"                                  // ACCM, 16
          "800b0000000100020006"
          "78"                        // Result Code, 11
          "0008000000200009"          // Proxy Authen ID, 8
          "000b0000002e0003c02102");  // PPP Disconnect Cause, 11
}

TEST_CASE("wrong AVP sizes: every attribute rejects sizes outside the RFC's") {
    for (const auto& rule : rules) {
        CAPTURE(rule.type);
        std::vector<std::byte> v(rule.max + 1, std::byte{0});
        bool known = false;
        // The minimum and maximum are accepted.
        CHECK(l2tp::visit_value(
            0, rule.type, bytes_view(v).first(rule.min), 40, [](const auto&) {}, &known));
        CHECK(known);
        CHECK(
            l2tp::visit_value(0, rule.type, bytes_view(v).first(rule.max), 40, [](const auto&) {}));
        auto expect_bad = [&](std::size_t n) {
            auto r =
                l2tp::visit_value(0, rule.type, bytes_view(v).first(n), 40, [](const auto&) {});
            REQUIRE_FALSE(r);
            CHECK(r.error() == l2tp::errc::bad_avp_size);
            CHECK(r.error().offset == 40);
            CHECK(std::string(r.error().field) == l2tp::avp_name(0, rule.type));
        };
        if (rule.min > 0) expect_bad(rule.min - 1);
        if (rule.max < any) expect_bad(rule.max + 1);
    }
    // Result Code: 3 octets is neither "result only" nor "result + error code".
    std::array<std::byte, 3> three{};
    CHECK(avps::result_code::decode(three, 0).error() == l2tp::errc::bad_avp_size);
    // A vendor AVP with a standard type number is not decoded.
    bool known = true;
    CHECK(l2tp::visit_value(
        3561, 0, bytes_view(three).first(2), 0, [](const auto&) { FAIL("decoded"); }, &known));
    CHECK_FALSE(known);
}

TEST_CASE(
    "Ambiguity 'AVP is incorrect size' (MikroTik): error in a parsed message names the AVP and its "
    "offset") {
    // HELLO + Assigned Tunnel ID with a 3-octet value at offset 20.
    auto b = hex("c802 001d 0000 0000 0000 0000 8008 0000 0000 0006 8009 0000 0009 000100");
    auto m = l2tp::parse(b);
    REQUIRE(m);
    auto t = m->get<avps::assigned_tunnel_id>();
    REQUIRE_FALSE(t);
    CHECK(t.error() == l2tp::errc::bad_avp_size);
    CHECK(t.error().offset == 20);
    CHECK(t.error().message() ==
          "l2sec.l2tp: AVP is incorrect size (Assigned Tunnel ID) at offset 20");
}

TEST_CASE_TEMPLATE_DEFINE("hidden AVPs: known answers computed independently (RFC 2661 4.3)", B,
                          hidden_kat) {
    auto md5 = *B::make_hash(crypto::hash_id::md5);
    // Vectors computed with /usr/bin/python3 hashlib, following 4.3 literally:
    //   p = struct.pack('>H', len(value)) + value + padding
    //   b1 = md5(struct.pack('>H', type) + secret + rv); c1 = p[0:16] ^ b1
    //   bi = md5(secret + c(i-1)); ci = p[16i-16:16i] ^ bi (last chunk truncated)
    // secret "secret", rv = 00 01 .. 0f.
    //   type 14 (Assigned Session ID), value 1234            -> 3b5bf16b
    //   type 22 (Calling Number), "5551234567890123456789", padding aabbcc
    //     -> 75d332c3a71987787cd04121275829c583593eedd13c223645c0e4
    const auto secret = as_bytes("secret");
    const std::array<std::byte, 3> pad{std::byte{0xaa}, std::byte{0xbb}, std::byte{0xcc}};
    auto bytes = build(message_type::icrq, [&](auto& b) {
        b.add(avps::random_vector{rv16})
            .add_hidden(md5, avps::assigned_session_id{0x1234}, secret)
            .add_hidden(md5, avps::calling_number{as_bytes("5551234567890123456789")}, secret, pad);
    });
    auto m = l2tp::parse(bytes);
    REQUIRE(m);
    std::vector<l2tp::avp_view> v(m->avps().begin(), m->avps().end());
    REQUIRE(v.size() == 4);
    CHECK(v[2].hidden());
    CHECK(v[2].mandatory());
    CHECK(to_hex(v[2].value()) == "3b5bf16b");
    CHECK(to_hex(v[3].value()) == "75d332c3a71987787cd04121275829c583593eedd13c223645c0e4");
    CHECK(to_hex(v[2].random_vector()) == to_hex(rv16));

    std::array<std::byte, 64> out{};
    auto p = l2tp::unhide(md5, v[2], secret, out);
    REQUIRE(p);
    CHECK(to_hex(*p) == "1234");
    CHECK(l2tp::visit_avp(v[2], [](const auto&) {}).error() == l2tp::errc::avp_is_hidden);
    CHECK(l2tp::decode<avps::assigned_session_id>(v[2]).error() == l2tp::errc::avp_is_hidden);
    std::uint16_t sid = 0;
    CHECK(l2tp::visit_avp(v[2], *p, [&](const auto& x) {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, avps::assigned_session_id>)
            sid = x.value;
    }));
    CHECK(sid == 0x1234);
    // message_view::get with a secret unhides when needed.
    auto got = m->template get<avps::assigned_session_id>(md5, secret, out);
    REQUIRE(got);
    CHECK(got->value == 0x1234);
    CHECK(m->template get<avps::calling_number>(md5, secret, out)->text() ==
          "5551234567890123456789");
    CHECK(m->template get<avps::random_vector>(md5, secret, out)->value.size() == 16);
    CHECK(m->template get<avps::assigned_session_id>(md5, as_bytes("wrong"), out).error() ==
          l2tp::errc::hidden_bad_length);
    CHECK(m->template get<avps::host_name>(md5, secret, out).error() == l2tp::errc::missing_avp);
    auto p2 = l2tp::unhide(md5, v[3], secret, out);
    REQUIRE(p2);
    CHECK(as_chars(*p2) == "5551234567890123456789");
    // A non-hidden AVP unhides to its own value.
    CHECK(to_hex(*l2tp::unhide(md5, v[1], secret, out)) == to_hex(rv16));

    // Wrong secret: the decrypted Original Length is 61817 (python, as above
    // with secret "wrong"): impossible, reported at the AVP's offset.
    auto bad = l2tp::unhide(md5, v[2], as_bytes("wrong"), out);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == l2tp::errc::hidden_bad_length);
    CHECK(bad.error().offset == v[2].offset());
    // Output buffer too small, hidden value under 2 octets, no Random Vector.
    std::array<std::byte, 3> tiny{};
    CHECK(l2tp::unhide(md5, v[2], secret, tiny).error() == l2sec::errc::buffer_too_small);
    std::array<std::byte, 1> one{};
    CHECK(l2tp::unhide_value(md5, 14, secret, rv16, one, out, 30).error() ==
          l2tp::errc::hidden_too_short);
    CHECK(l2tp::unhide_value(md5, 14, secret, {}, v[2].value(), out, 30).error() ==
          l2tp::errc::hidden_without_random_vector);
}
TEST_CASE_TEMPLATE_APPLY(hidden_kat, test::auth_backends);

TEST_CASE_TEMPLATE_DEFINE(
    "hidden AVPs: add_hidden_raw gives the same known answer; hiding Message Type is refused", B,
    hidden_raw) {
    auto md5 = *B::make_hash(crypto::hash_id::md5);
    const auto secret = as_bytes("secret");
    const std::array<std::byte, 2> sid{std::byte{0x12}, std::byte{0x34}};
    auto bytes = build(message_type::icrq, [&](auto& b) {
        b.add(avps::random_vector{rv16}).add_hidden_raw(md5, 14, sid, secret);
    });
    auto m = l2tp::parse(bytes);
    REQUIRE(m);
    auto a = m->find(avp_type::assigned_session_id);
    REQUIRE(a);
    CHECK(a->hidden());
    CHECK(to_hex(a->value()) == "3b5bf16b");  // as in the hashlib vector above
    std::array<std::byte, 64> buf{};
    l2tp::message_builder b(buf, 1, 0, 0, 0);
    b.add(avps::message_type{message_type::icrq})
        .add(avps::random_vector{rv16})
        .add_hidden(md5, avps::message_type{message_type::icrq}, secret);
    auto r = b.finish();
    REQUIRE_FALSE(r);
    CHECK(r.error() == l2tp::errc::must_not_be_hidden);
    CHECK(r.error().offset == 42);
}
TEST_CASE_TEMPLATE_APPLY(hidden_raw, test::auth_backends);

TEST_CASE_TEMPLATE_DEFINE(
    "hidden AVPs: builder errors and in-place unhide; later Random Vector takes over", B,
    hidden_errors) {
    auto md5 = *B::make_hash(crypto::hash_id::md5);
    std::array<std::byte, 128> buf{};
    l2tp::message_builder b(buf, 1, 0, 0, 0);
    b.add(avps::message_type{message_type::icrq})
        .add_hidden(md5, avps::assigned_session_id{1}, as_bytes("s"));
    auto r = b.finish();
    REQUIRE_FALSE(r);
    CHECK(r.error() == l2tp::errc::hidden_without_random_vector);
    CHECK(r.error().offset == 20);

    const std::array<std::byte, 2> rv2{std::byte{9}, std::byte{8}};
    auto bytes = build(message_type::icrq, [&](auto& bb) {
        bb.add(avps::random_vector{rv16})
            .add_hidden(md5, avps::assigned_session_id{7}, as_bytes("k"))
            .add(avps::random_vector{rv2})
            .add_hidden(md5, avps::call_serial_number{99}, as_bytes("k"), rv2);
    });
    auto m = l2tp::parse(bytes);
    REQUIRE(m);
    std::vector<l2tp::avp_view> v(m->avps().begin(), m->avps().end());
    REQUIRE(v.size() == 5);
    CHECK(to_hex(v[4].random_vector()) == "0908");
    // Unhide in place (output aliases a copy of the value).
    std::vector<std::byte> val(v[4].value().begin(), v[4].value().end());
    auto p = l2tp::unhide_value(md5, v[4].type(), as_bytes("k"), v[4].random_vector(), val, val,
                                v[4].offset());
    REQUIRE(p);
    CHECK(avps::call_serial_number::decode(*p, 0)->value == 99);
    CHECK(val.size() == 2 + 4 + 2);
}
TEST_CASE_TEMPLATE_APPLY(hidden_errors, test::auth_backends);

TEST_CASE_TEMPLATE_DEFINE(
    "tunnel authentication: Challenge Response = MD5(type + secret + challenge)", B, tunnel_auth) {
    auto md5 = *B::make_hash(crypto::hash_id::md5);
    // /usr/bin/python3: hashlib.md5(bytes([2]) + b'secret' + bytes(range(16))).hexdigest()
    CHECK(to_hex(*l2tp::sccrp_response(md5, as_bytes("secret"), rv16)) ==
          "dd4186e2196f00124a9d588f02701259");
    // hashlib.md5(bytes([3]) + b'secret' + bytes(range(16, 32))).hexdigest()
    std::array<std::byte, 16> ch{};
    for (std::size_t i = 0; i < 16; ++i)
        ch[i] = static_cast<std::byte>(16 + i);
    auto resp = *l2tp::scccn_response(md5, as_bytes("secret"), ch);
    CHECK(to_hex(resp) == "9b613fbb2d625c525dc1858730432128");
    CHECK(l2tp::verify_challenge_response(md5, 3, as_bytes("secret"), ch, resp));
    CHECK_FALSE(l2tp::verify_challenge_response(md5, 2, as_bytes("secret"), ch, resp));
    CHECK_FALSE(l2tp::verify_challenge_response(md5, 3, as_bytes("secret"), ch,
                                                bytes_view(resp).first(15)));
}
TEST_CASE_TEMPLATE_APPLY(tunnel_auth, test::auth_backends);

TEST_CASE("hidden AVPs and tunnel authentication refuse a digest that is not MD5") {
    auto sha1 = *crypto::portable::make_hash(crypto::hash_id::sha1);
    std::array<std::byte, 64> out{};
    auto v = hex("0004 31323334");
    CHECK(l2tp::unhide_value(sha1, 22, as_bytes("s"), rv16, v, out, 30).error() ==
          l2tp::errc::hash_not_md5);
    CHECK(l2tp::sccrp_response(sha1, as_bytes("s"), rv16).error() == l2tp::errc::hash_not_md5);
    CHECK_FALSE(l2tp::verify_challenge_response(sha1, 2, as_bytes("s"), rv16, rv16));
    std::array<std::byte, 128> buf{};
    l2tp::message_builder b(buf, 1, 0, 0, 0);
    b.add(avps::message_type{message_type::icrq})
        .add(avps::random_vector{rv16})
        .add_hidden(sha1, avps::assigned_session_id{1}, as_bytes("s"));
    CHECK(b.finish().error() == l2tp::errc::hash_not_md5);
}

namespace {

// A valid value for each attribute (minimum sizes, with Host Name etc. >= 1).
void add_required(l2tp::message_builder& b, avp_type t) {
    std::array<std::byte, 26> zeros{};
    std::size_t n = 0;
    for (const auto& r : rules)
        if (r.type == static_cast<std::uint16_t>(t)) n = r.min;
    b.add_raw(0, static_cast<std::uint16_t>(t), bytes_view(zeros).first(n), true);
}

constexpr message_type all_types[] = {
    message_type::sccrq, message_type::sccrp, message_type::scccn, message_type::stopccn,
    message_type::hello, message_type::ocrq,  message_type::ocrp,  message_type::occn,
    message_type::icrq,  message_type::icrp,  message_type::iccn,  message_type::cdn,
    message_type::wen,   message_type::sli,
};

}  // namespace

TEST_CASE("validate: RFC 2661 section 6 requirements for each of the 14 message types") {
    CHECK(l2tp::required_avps(message_type::sccrq).size() == 4);
    CHECK(l2tp::required_avps(message_type::ocrq).size() == 7);
    CHECK(l2tp::required_avps(message_type::scccn).empty());
    CHECK(l2tp::required_avps(message_type::hello).empty());
    for (message_type t : all_types) {
        CAPTURE(l2tp::to_string(t));
        auto req = l2tp::required_avps(t);
        // Complete message validates.
        auto full = build(t, [&](auto& b) {
            for (avp_type a : req)
                add_required(b, a);
        });
        auto m = l2tp::parse(full);
        REQUIRE(m);
        CHECK(m->type() == t);
        CHECK(l2tp::validate(*m));
        CHECK(l2tp::check_mandatory(m->avps()));
        // Every typed value decodes (all were written with valid sizes).
        for (auto a : m->avps())
            CHECK(l2tp::visit_avp(a, [](const auto&) {}));
        // Leaving out each required AVP in turn names it.
        for (std::size_t skip = 0; skip < req.size(); ++skip) {
            auto part = build(t, [&](auto& b) {
                for (std::size_t i = 0; i < req.size(); ++i)
                    if (i != skip) add_required(b, req[i]);
            });
            auto pm = l2tp::parse(part);
            REQUIRE(pm);
            auto e = l2tp::validate(*pm);
            REQUIRE_FALSE(e);
            CHECK(e.error() == l2tp::errc::missing_avp);
            CHECK(e.error().offset == part.size());
            CHECK(std::string(e.error().field) == l2tp::to_string(req[skip]));
        }
    }
    // Unknown message type 5 (reserved) and 17.
    for (std::uint16_t raw :
         {std::uint16_t{0}, std::uint16_t{5}, std::uint16_t{13}, std::uint16_t{17}}) {
        std::array<std::byte, 64> buf{};
        auto bytes = l2tp::message_builder(buf, 0, 0, 0, 0)
                         .add(avps::message_type{static_cast<message_type>(raw)})
                         .finish();
        REQUIRE(bytes);
        auto m = l2tp::parse(*bytes);
        REQUIRE(m);
        CHECK(l2tp::validate(*m).error() == l2tp::errc::unknown_message_type);
        CHECK(l2tp::validate(*m).error().offset == 12);
    }
    // A data message is not validated as control.
    auto d = hex("0002 0001 0002");
    CHECK(l2tp::validate(*l2tp::parse(d)).error() == l2tp::errc::not_control);
    // An extra AVP (seen from some peers in SCCCN) is fine.
    auto scccn =
        build(message_type::scccn, [](auto& b) { b.add(avps::host_name{as_bytes("extra")}); });
    CHECK(l2tp::validate(*l2tp::parse(scccn)));
}

TEST_CASE_TEMPLATE_DEFINE(
    "zero allocations: parse, iterate, decode, visit, validate, build, hide, unhide for every "
    "message type",
    B, codec_allocations) {
    const auto secret = as_bytes("secret");
    auto md5 = *B::make_hash(crypto::hash_id::md5);  // the backend's context, made once
    for (message_type t : all_types) {
        CAPTURE(l2tp::to_string(t));
        std::array<std::byte, 512> buf{};
        std::array<std::byte, 64> out{};
        std::size_t size = 0;
        int visited = 0;
        bool ok = true;
        auto n = allocations_in([&] {
            l2tp::message_builder b(buf, 3, 4, 5, 6);
            b.add(avps::message_type{t});
            for (avp_type a : l2tp::required_avps(t))
                add_required(b, a);
            b.add(avps::random_vector{rv16})
                .add_hidden(md5, avps::proxy_authen_name{as_bytes("user")}, secret);
            auto r = b.finish();
            ok = ok && r.has_value();
            if (!r) return;
            size = r->size();
            auto m = l2tp::parse(*r);
            ok = ok && m && l2tp::validate(*m) && l2tp::check_mandatory(m->avps());
            if (!m) return;
            for (auto a : m->avps()) {
                auto p = l2tp::unhide(md5, a, secret, out);
                ok = ok && p && l2tp::visit_avp(a, *p, [&](const auto&) { ++visited; });
            }
            ok = ok && m->template get<avps::message_type>()->value == t;
        });
        CHECK(ok);
        CHECK(n == 0);
        CHECK(size > 12);
        CHECK(visited == static_cast<int>(l2tp::required_avps(t).size()) + 3);
    }
    // Data path and ZLB.
    std::array<std::byte, 64> buf{};
    auto n = allocations_in([&] {
        auto h = l2tp::write_data_header(buf, l2tp::data_header(1, 2), 10);
        CHECK(h);
        auto d = l2tp::parse_data(bytes_view(buf).first(16));
        CHECK(d);
        auto z = l2tp::write_zlb(buf, 1, 0, 2, 3);
        CHECK(z);
        CHECK(l2tp::parse(*z)->is_zlb());
        (void)l2tp::sccrp_response(md5, as_bytes("s"), rv16);
    });
    CHECK(n == 0);
}
TEST_CASE_TEMPLATE_APPLY(codec_allocations, test::auth_backends);

namespace {

// Parse every L2TP message of a real capture; control messages validate and
// re-encode byte for byte, data messages give back their PPP frame.
std::vector<std::string> check_capture(const char* name,
                                       std::vector<std::string>* payloads = nullptr) {
    std::vector<std::string> names;
    auto file = pcap::load_file(std::string(L2SEC_TEST_DATA) + "/" + name);
    REQUIRE(file);
    auto pf = pcap::file_view::parse(*file);
    REQUIRE(pf);
    for (const auto& rec : pf->records()) {
        REQUIRE(rec);
        auto ip = pcap::decode_ip_frame(pf->linktype(), rec->data);
        REQUIRE(ip);
        auto udp = pcap::decode_udp(*ip);
        REQUIRE(udp);
        auto m = l2tp::parse(udp->payload);
        REQUIRE(m);
        names.emplace_back(m->type_name());
        std::array<std::byte, 1500> buf{};
        const auto& h = m->hdr();
        if (!m->is_control()) {
            auto d = l2tp::parse_data(udp->payload);
            REQUIRE(d);
            CHECK(d->payload.data() == m->payload().data());
            if (payloads) payloads->push_back(to_hex(d->payload));
            auto n = l2tp::write_data_header(buf, h, d->payload.size());
            REQUIRE(n);
            CHECK(to_hex(bytes_view(buf).first(*n)) ==
                  to_hex(udp->payload.first(d->payload_offset)));
            continue;
        }
        CHECK(l2tp::validate(*m));
        CHECK(l2tp::check_mandatory(m->avps()));
        // Re-encode from the parsed view: the same bytes.
        l2tp::message_builder b(buf, h.tunnel_id, h.session_id, h.ns, h.nr);
        for (auto a : m->avps()) {
            CHECK(l2tp::visit_avp(a, [](const auto&) {}));
            b.add_raw(a.vendor(), a.type(), a.value(), a.mandatory(), a.hidden());
        }
        auto re = b.finish();
        REQUIRE(re);
        CHECK(to_hex(*re) == to_hex(m->bytes()));
    }
    return names;
}

}  // namespace

TEST_CASE("real capture: xl2tpd LAC <-> xl2tpd LNS parses, validates and re-encodes") {
    CHECK(check_capture("xl2tpd_lns.pcap") ==
          std::vector<std::string>{"SCCRQ", "SCCRP", "SCCCN", "ICRQ", "ZLB", "ICRP", "ZLB", "ICCN",
                                   "ZLB", "CDN", "ZLB", "StopCCN", "ZLB"});
}

TEST_CASE("real capture: xl2tpd LAC <-> l2tpns LNS, including a data message carrying LCP") {
    std::vector<std::string> payloads;
    CHECK(check_capture("l2tpns.pcap", &payloads) ==
          std::vector<std::string>{"SCCRQ", "SCCRP", "SCCCN", "ZLB", "ICRQ", "ICRP", "ICCN", "ZLB",
                                   "DATA", "CDN", "ZLB", "StopCCN", "ZLB"});
    REQUIRE(payloads.size() == 1);
    CHECK(payloads[0].rfind("ff03c021", 0) == 0);  // PPP LCP, as tshark shows it
}

namespace {
// Compile-time evaluation: header sizes and names.
static_assert(l2tp::control_header(1, 2, 3, 4).encoded_size() == l2tp::control_header_size);
static_assert(l2tp::control_header(1, 2, 3, 4).flags_word() == 0xC802);
static_assert(l2tp::data_header(1, 2).encoded_size() == 6);
static_assert(l2tp::required_avps(message_type::sccrq).size() == 4);
static_assert(l2tp::to_string(avp_type::random_vector)[0] == 'R');
}  // namespace

TEST_CASE("one set of Result Code names: the codecs' and the engine's are the same constants") {
    namespace l2 = l2sec::l2tp;
    // Same objects, not equal copies: avps:: names alias l2tp::'s.
    CHECK(&l2::avps::cdn_result::administrative == &l2::cdn_result::administrative);
    CHECK(&l2::avps::stopccn_result::not_authorized == &l2::stopccn_result::not_authorized);
    CHECK(&l2::avps::general_error::bad_length == &l2::general_error::bad_length);
    // The older engine names are the RFC 2661 4.4.2 values.
    CHECK(l2::cdn_result::admin == 3);
    CHECK(l2::cdn_result::temporary_lack_of_resources == 4);
    CHECK(l2::cdn_result::permanent_lack_of_resources == 5);
    CHECK(l2::stopccn_result::bad_protocol_version == 5);
    CHECK(l2::general_error::length_wrong == 2);
    CHECK(l2::general_error::value_out_of_range == 3);
    CHECK(std::string_view(l2::result_code_name(l2::message_type::cdn, l2::cdn_result::admin)) ==
          "Administrative reasons");
    CHECK(std::string_view(l2::avps::general_error_name(
              l2::general_error::unknown_mandatory_avp)) == "Unknown mandatory AVP");
}
