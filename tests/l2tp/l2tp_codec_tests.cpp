// L2TPv2 codecs: header, AVP iteration, messages, builder, names.
// Known encodings are assembled by hand from RFC 2661 sections 3.1 and 4.1/4.4.
#include <doctest/doctest.h>

#include <l2sec/l2tp.hpp>

#include "support/alloc_counter.hpp"
#include "support/hex.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

using namespace l2sec;
using l2sec::test::allocations_in;
using l2sec::test::hex;
using l2sec::test::to_hex;
namespace avps = l2sec::l2tp::avps;
using l2tp::avp_type;
using l2tp::message_type;

namespace {

// SCCRQ, RFC 2661 3.1 header (T=1 L=1 S=1 Ver=2: 0xC802), Length 55, tunnel 0,
// session 0, Ns 0, Nr 0, then the AVPs 6.1 requires (4.1 layout: M bit, length
// 10 bits, vendor 0, type): Message Type 1, Protocol Version 1.0, Host Name
// "lac", Framing Capabilities sync|async, Assigned Tunnel ID 1.
const char* const sccrq_hex =
    "c802 0037 0000 0000 0000 0000"
    "8008 0000 0000 0001"
    "8008 0000 0002 0100"
    "8009 0000 0007 6c6163"
    "800a 0000 0003 00000003"
    "8008 0000 0009 0001";

// HELLO on tunnel 0x1234, Ns 3, Nr 5 (RFC 2661 6.5: only Message Type 6).
const char* const hello_hex = "c802 0014 1234 0000 0003 0005  8008 0000 0000 0006";

// ZLB: a control header alone (RFC 2661 5.8), tunnel 7, Ns 1, Nr 2.
const char* const zlb_hex = "c802 000c 0007 0000 0001 0002";

error err_of(bytes_view b) {
    auto m = l2tp::parse(b);
    REQUIRE_FALSE(m);
    return m.error();
}

}  // namespace

TEST_CASE("l2tp error category, names") {
    std::error_code ec = l2tp::errc::bad_avp_size;
    CHECK(std::string(ec.category().name()) == "l2sec.l2tp");
    CHECK(ec.message() == "AVP is incorrect size");
    CHECK(error(l2tp::errc::avp_too_short, 20, "AVP Length").message() ==
          "l2sec.l2tp: AVP length below 6 (AVP header) (AVP Length) at offset 20");
    for (int i = 1; i <= static_cast<int>(l2tp::errc::missing_avp); ++i)
        CHECK(std::string(l2tp::to_string(static_cast<l2tp::errc>(i))) != "unknown error");
    CHECK(std::string(l2tp::to_string(message_type::sccrq)) == "SCCRQ");
    CHECK(std::string(l2tp::to_string(message_type::stopccn)) == "StopCCN");
    CHECK(std::string(l2tp::to_string(message_type::hello)) == "HELLO");
    CHECK(std::string(l2tp::to_string(message_type::sli)) == "SLI");
    CHECK(std::string(l2tp::to_string(static_cast<message_type>(5))) == "unknown");
    CHECK(std::string(l2tp::zlb_name) == "ZLB");
    CHECK(std::string(avps::result_code_name(message_type::stopccn,
                                             avps::stopccn_result::not_authorized)) ==
          "Requester is not authorized");
    CHECK(std::string(avps::result_code_name(
              message_type::cdn, avps::cdn_result::administrative)) == "Administrative reasons");
    CHECK(std::string(avps::result_code_name(message_type::hello, 1)) == "unknown");
    CHECK(std::string(avps::general_error_name(avps::general_error::unknown_mandatory_avp)) ==
          "Unknown mandatory AVP");
    CHECK(std::string(avps::proxy_authen_type_name(avps::proxy_authen::chap)) == "PPP CHAP");
    CHECK(std::string(l2tp::to_string(avp_type::host_name)) == "Host Name");
    CHECK(std::string(l2tp::to_string(avp_type::ppp_disconnect_cause_code)) ==
          "PPP Disconnect Cause Code");
    CHECK(std::string(l2tp::avp_name(0, 20)) == "unknown");
    CHECK(std::string(l2tp::avp_name(3561, 0)) == "vendor-specific");
    static_assert(l2tp::is_known_avp(0, 39) && l2tp::is_known_avp(0, 46));
    static_assert(!l2tp::is_known_avp(0, 20) && !l2tp::is_known_avp(3561, 0) &&
                  !l2tp::is_known_avp(0, 40));
    static_assert(l2tp::default_mandatory(avp_type::host_name) &&
                  !l2tp::default_mandatory(avp_type::vendor_name));
    // Every type 0..39 except the reserved 20 has a name.
    for (std::uint16_t t = 0; t <= 39; ++t)
        CHECK(l2tp::is_known_avp(0, t) == (t != 20));
}

TEST_CASE("control header: hand-assembled SCCRQ decodes field by field") {
    auto b = hex(sccrq_hex);
    auto h = l2tp::decode_header(b);
    REQUIRE(h);
    CHECK(h->control);
    CHECK(h->has_length);
    CHECK(h->has_sequence);
    CHECK_FALSE(h->has_offset);
    CHECK_FALSE(h->priority);
    CHECK(h->length == 55);
    CHECK(h->tunnel_id == 0);
    CHECK(h->session_id == 0);
    CHECK(h->size == l2tp::control_header_size);
    CHECK(h->flags_word() == 0xC802);
}

TEST_CASE("parse SCCRQ: message type, lazy AVP iteration, typed decode") {
    auto b = hex(sccrq_hex);
    auto m = l2tp::parse(b);
    REQUIRE(m);
    CHECK(m->is_control());
    CHECK_FALSE(m->is_zlb());
    CHECK(m->type() == message_type::sccrq);
    CHECK(std::string(m->type_name()) == "SCCRQ");
    std::vector<std::uint16_t> types;
    std::vector<std::size_t> offsets;
    for (l2tp::avp_view a : m->avps()) {
        types.push_back(a.type());
        offsets.push_back(a.offset());
        CHECK(a.mandatory());
        CHECK_FALSE(a.hidden());
        CHECK(a.vendor() == 0);
    }
    CHECK(types == std::vector<std::uint16_t>{0, 2, 7, 3, 9});
    CHECK(offsets == std::vector<std::size_t>{12, 20, 28, 37, 47});
    CHECK(m->get<avps::protocol_version>()->version == 1);
    CHECK(m->get<avps::protocol_version>()->revision == 0);
    CHECK(m->get<avps::host_name>()->text() == "lac");
    CHECK(m->get<avps::framing_capabilities>()->value ==
          (avps::framing::sync | avps::framing::async));
    CHECK(m->get<avps::assigned_tunnel_id>()->value == 1);
    auto missing = m->get<avps::challenge>();
    REQUIRE_FALSE(missing);
    CHECK(missing.error() == l2tp::errc::missing_avp);
    CHECK(missing.error().offset == 55);
    CHECK(std::string(missing.error().field) == "Challenge");
    CHECK(l2tp::validate(*m));
    CHECK(l2tp::check_mandatory(m->avps()));
}

TEST_CASE("build SCCRQ reproduces the hand-assembled bytes") {
    std::array<std::byte, 128> buf{};
    l2tp::message_builder b(buf, 0, 0, 0, 0);
    b.add(avps::message_type{message_type::sccrq})
        .add(avps::protocol_version{1, 0})
        .add(avps::host_name{as_bytes("lac")})
        .add(avps::framing_capabilities{avps::framing::sync | avps::framing::async})
        .add(avps::assigned_tunnel_id{1});
    auto r = b.finish();
    REQUIRE(r);
    CHECK(to_hex(*r) == to_hex(hex(sccrq_hex)));
}

TEST_CASE("HELLO and ZLB: known encodings, parse and build") {
    auto hb = hex(hello_hex);
    auto m = l2tp::parse(hb);
    REQUIRE(m);
    CHECK(m->type() == message_type::hello);
    CHECK(m->hdr().tunnel_id == 0x1234);
    CHECK(m->hdr().ns == 3);
    CHECK(m->hdr().nr == 5);
    CHECK(l2tp::validate(*m));
    std::array<std::byte, 64> buf{};
    auto built = l2tp::message_builder(buf, 0x1234, 0, 3, 5)
                     .add(avps::message_type{message_type::hello})
                     .finish();
    REQUIRE(built);
    CHECK(to_hex(*built) == to_hex(hb));

    auto zb = hex(zlb_hex);
    auto z = l2tp::parse(zb);
    REQUIRE(z);
    CHECK(z->is_zlb());
    CHECK(std::string(z->type_name()) == "ZLB");
    CHECK(z->avps().empty());
    CHECK(l2tp::validate(*z));
    auto zw = l2tp::write_zlb(buf, 7, 0, 1, 2);
    REQUIRE(zw);
    CHECK(to_hex(*zw) == to_hex(zb));
}

TEST_CASE("data header: without and with L, S, O, P; payload is a view") {
    // T=0, no options: 0x0002, tunnel 1, session 2, payload ff03c021 (PPP LCP).
    auto b1 = hex("0002 0001 0002 ff03c021");
    auto d1 = l2tp::parse_data(b1);
    REQUIRE(d1);
    CHECK_FALSE(d1->header.control);
    CHECK(d1->header.tunnel_id == 1);
    CHECK(d1->header.session_id == 2);
    CHECK(d1->payload_offset == 6);
    CHECK(d1->payload.data() == b1.data() + 6);
    CHECK(to_hex(d1->payload) == "ff03c021");

    // L, S, O, P all set: 0x4B02, length 18, tunnel 1, session 2, Ns 3, Nr 4,
    // Offset Size 2, two pad octets, payload ff03.
    auto b2 = hex("4b02 0012 0001 0002 0003 0004 0002 eeee ff03 9999");
    auto d2 = l2tp::parse_data(b2);
    REQUIRE(d2);
    CHECK(d2->header.has_length);
    CHECK(d2->header.has_sequence);
    CHECK(d2->header.has_offset);
    CHECK(d2->header.priority);
    CHECK(d2->header.length == 18);
    CHECK(d2->header.ns == 3);
    CHECK(d2->header.nr == 4);
    CHECK(d2->header.offset_size == 2);
    CHECK(d2->payload_offset == 16);
    CHECK(to_hex(d2->payload) == "ff03");  // trailing 9999 lies beyond Length

    // Encode both back.
    std::array<std::byte, 32> buf{};
    auto n1 = l2tp::write_data_header(buf, l2tp::data_header(1, 2), 4);
    REQUIRE(n1);
    CHECK(to_hex(bytes_view(buf).first(*n1)) == "000200010002");
    l2tp::header h = l2tp::data_header(1, 2);
    h.has_length = h.has_sequence = h.has_offset = h.priority = true;
    h.ns = 3;
    h.nr = 4;
    h.offset_size = 2;
    auto n2 = l2tp::write_data_header(buf, h, 2);
    REQUIRE(n2);
    CHECK(to_hex(bytes_view(buf).first(*n2)) ==
          "4b02001200010002000300040002"
          "0000");

    // A control message is not data, and vice versa.
    auto c = hex(hello_hex);
    CHECK(l2tp::parse_data(c).error() == l2tp::errc::not_data);
    CHECK(l2tp::parse_control(b1).error() == l2tp::errc::not_control);
    auto dm = l2tp::parse(b1);
    REQUIRE(dm);
    CHECK(std::string(dm->type_name()) == "DATA");
    CHECK(to_hex(dm->payload()) == "ff03c021");
}

namespace {

// The general decoder's answer (parse_data) and the fast path's (decode_data)
// for the same bytes must agree: the same payload view, or the same error.
void same_as_general(bytes_view b, l2tp::parse_options opt = {}) {
    auto g = l2tp::parse_data(b, opt);
    l2tp::data_message fd;
    l2sec::error fe;
    bool ok = false;
    CHECK(allocations_in([&] {
              auto f = l2tp::decode_data(b, opt);
              ok = f.has_value();
              if (ok)
                  fd = *f;
              else
                  fe = f.error();
          }) == 0);
    REQUIRE(ok == g.has_value());
    if (!ok) {
        CHECK(fe.code == g.error().code);
        CHECK(fe.offset == g.error().offset);
        CHECK(std::string(fe.field ? fe.field : "") ==
              std::string(g.error().field ? g.error().field : ""));
        return;
    }
    CHECK(fd.payload.data() == g->payload.data());
    CHECK(fd.payload.size() == g->payload.size());
    CHECK(fd.tunnel_id == g->header.tunnel_id);
    CHECK(fd.session_id == g->header.session_id);
    CHECK(fd.ns == g->header.ns);
    CHECK(fd.nr == g->header.nr);
    CHECK(fd.has_length() == g->header.has_length);
    CHECK(fd.has_sequence() == g->header.has_sequence);
    CHECK((fd.flags & ~l2tp::flags::reserved) == g->header.flags_word());  // lenient: rsvd kept
}

}  // namespace

TEST_CASE("data fast path: every L, S, O, P combination and offset pad, as the general decoder") {
    const auto payload = hex("ff03 0021 4500 0014");
    for (unsigned bits = 0; bits < 16; ++bits)
        for (std::uint16_t pad : std::initializer_list<std::uint16_t>{0, 1, 3}) {
            l2tp::header h = l2tp::data_header(0x1234, 0x5678);
            h.has_length = bits & 1;
            h.has_sequence = bits & 2;
            h.has_offset = bits & 4;
            h.priority = bits & 8;
            if (!h.has_offset && pad) continue;
            h.ns = 0x0102;
            h.nr = 0x0304;
            h.offset_size = pad;
            std::vector<std::byte> b(64, std::byte{0x99});  // bytes after Length: ignored
            auto n = l2tp::write_data_header(b, h, payload.size());
            REQUIRE(n);
            std::copy(payload.begin(), payload.end(), b.begin() + static_cast<std::ptrdiff_t>(*n));
            const std::size_t total = *n + payload.size();
            CAPTURE(bits);
            CAPTURE(pad);
            auto f = l2tp::decode_data(bytes_view(b).first(total));
            REQUIRE(f);
            CHECK(to_hex(f->payload) == to_hex(payload));
            CHECK(f->tunnel_id == 0x1234);
            CHECK(f->session_id == 0x5678);
            // Whole, with trailing bytes (beyond Length when L=1), and every truncation.
            same_as_general(b);
            for (std::size_t k = 0; k <= total; ++k)
                same_as_general(bytes_view(b).first(k));
            // Bad versions, reserved bits (strict and lenient), lengths, offset pad.
            auto bad =
                std::vector<std::byte>(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(total));
            for (unsigned ver : {0u, 1u, 3u, 15u}) {
                auto v = bad;
                v[1] = static_cast<std::byte>((std::to_integer<unsigned>(v[1]) & 0xF0) | ver);
                same_as_general(v);
            }
            for (std::uint16_t rsvd :
                 std::initializer_list<std::uint16_t>{0x2000, 0x1000, 0x0400, 0x0080, 0x0010}) {
                auto v = bad;
                l2sec::store_be16(v.data(), static_cast<std::uint16_t>(h.flags_word() | rsvd));
                same_as_general(v);
                same_as_general(v, {.ignore_reserved_bits = true});
            }
            if (h.has_length)
                for (std::uint16_t len : std::initializer_list<std::uint16_t>{
                         0, 5, static_cast<std::uint16_t>(*n - 1), static_cast<std::uint16_t>(*n),
                         static_cast<std::uint16_t>(total + 1)}) {
                    auto v = bad;
                    l2sec::store_be16(v.data() + 2, len);
                    same_as_general(v);
                }
            if (h.has_offset) {
                const std::size_t at = 6 + (h.has_length ? 2 : 0) + (h.has_sequence ? 4 : 0);
                for (std::uint16_t os : std::initializer_list<std::uint16_t>{
                         static_cast<std::uint16_t>(pad + payload.size()),
                         static_cast<std::uint16_t>(pad + payload.size() + 1),
                         std::uint16_t{0xFFFF}}) {
                    auto v = bad;
                    l2sec::store_be16(v.data() + at, os);
                    same_as_general(v);
                }
            }
        }
    // A control message: not data, or its header's error, as parse_data says.
    auto c = hex(hello_hex);
    CHECK(l2tp::decode_data(c).error() == l2tp::errc::not_data);
    CHECK(l2tp::decode_data(c).error().offset == 0);
    for (std::size_t k = 0; k <= c.size(); ++k)
        same_as_general(bytes_view(c).first(k));
}

TEST_CASE("header errors: version, reserved bits, control bits, lengths, truncation") {
    struct tc {
        const char* hex;
        l2tp::errc code;
        std::size_t offset;
    };
    const tc cases[] = {
        {"c8", l2tp::errc::truncated, 0},
        {"c803 0014 0000 0000 0000 0000", l2tp::errc::l2tpv3, 1},
        {"c801 0014 0000 0000 0000 0000", l2tp::errc::bad_version, 1},
        {"c800 0014 0000 0000 0000 0000", l2tp::errc::bad_version, 1},
        {"e802 000c 0000 0000 0000 0000", l2tp::errc::reserved_bits_set, 0},  // bit 2
        {"c812 000c 0000 0000 0000 0000", l2tp::errc::reserved_bits_set, 0},  // low x bits
        {"cc02 000c 0000 0000 0000 0000", l2tp::errc::reserved_bits_set, 0},  // bit 5
        {"8802 0000 0000 0000 0000", l2tp::errc::control_without_length, 0},
        {"c002 000c 0000 0000", l2tp::errc::control_without_sequence, 0},
        {"ca02 000e 0000 0000 0000 0000 0000", l2tp::errc::control_with_offset, 0},
        {"c902 000c 0000 0000 0000 0000", l2tp::errc::control_with_priority, 0},
        {"c802 00", l2tp::errc::truncated, 2},
        {"c802 000c 00", l2tp::errc::truncated, 4},
        {"c802 000c 0000 00", l2tp::errc::truncated, 6},
        {"c802 000c 0000 0000 00", l2tp::errc::truncated, 8},
        {"c802 000c 0000 0000 0000 00", l2tp::errc::truncated, 10},
        {"c802 4280 0000 0000 0000 0000", l2tp::errc::length_exceeds_buffer, 2},  // 17024 (Meraki)
        {"c802 000b 0000 0000 0000 0000", l2tp::errc::length_below_header, 2},
        {"0202 0001 0002 00", l2tp::errc::truncated, 6},  // offset size cut
        {"0202 0001 0002 0004 00", l2tp::errc::offset_exceeds_length, 6},
        {"4202 000a 0001 0002 0004 000000000000", l2tp::errc::offset_exceeds_length, 8},
        {"4002 0005 0001 0002", l2tp::errc::length_below_header, 2},
    };
    for (const auto& c : cases) {
        CAPTURE(c.hex);
        auto e = err_of(hex(c.hex));
        CHECK(e == c.code);
        CHECK(e.offset == c.offset);
    }
    // The RFC letter: reserved bits ignored on request.
    auto b = hex("c812 000c 0000 0000 0000 0000");
    CHECK(l2tp::parse(b, {.ignore_reserved_bits = true}));
}

TEST_CASE("AVP errors: too short, overrun, truncated header, reserved bits, first AVP") {
    struct tc {
        const char* hex;
        l2tp::errc code;
        std::size_t offset;
    };
    const tc cases[] = {
        // AVP length 5 (< 6) in the second AVP.
        {"c802 001a 0000 0000 0000 0000 8008 0000 0000 0006 8005 0000 0000 00",
         l2tp::errc::avp_too_short, 20},
        // AVP length 0.
        {"c802 0014 0000 0000 0000 0000 0000 0000 0000 0006", l2tp::errc::avp_too_short, 12},
        // AVP length 9 overruns a message of Length 20.
        {"c802 0014 0000 0000 0000 0000 8009 0000 0000 0006", l2tp::errc::avp_overrun, 12},
        // 3 octets after the Message Type: not even an AVP header.
        {"c802 0017 0000 0000 0000 0000 8008 0000 0000 0006 8008 00", l2tp::errc::truncated, 20},
        // rsvd bits set in the AVP header.
        {"c802 0014 0000 0000 0000 0000 8408 0000 0000 0006", l2tp::errc::reserved_bits_set, 12},
        // First AVP is Host Name.
        {"c802 0015 0000 0000 0000 0000 8009 0000 0007 6c6163",
         l2tp::errc::first_avp_not_message_type, 12},
        // First AVP is vendor 3561 type 0: never read as a standard Message Type.
        {"c802 0014 0000 0000 0000 0000 0008 0de9 0000 0006",
         l2tp::errc::first_avp_not_message_type, 12},
        // Message Type with a 3-octet value.
        {"c802 0015 0000 0000 0000 0000 8009 0000 0000 000600", l2tp::errc::bad_avp_size, 12},
        // Hidden Message Type.
        {"c802 0014 0000 0000 0000 0000 c008 0000 0000 0006", l2tp::errc::must_not_be_hidden, 12},
        // Hidden Host Name with no Random Vector before it.
        {"c802 001d 0000 0000 0000 0000 8008 0000 0000 0006 c009 0000 0007 6c6163",
         l2tp::errc::hidden_without_random_vector, 20},
    };
    for (const auto& c : cases) {
        CAPTURE(c.hex);
        auto e = err_of(hex(c.hex));
        CHECK(e == c.code);
        CHECK(e.offset == c.offset);
    }
}

TEST_CASE("lenient reserved bits cover AVPs too; data header encoder limits") {
    auto b = hex("c802 0014 0000 0000 0000 0000 8408 0000 0000 0006");
    auto m = l2tp::parse(b, {.ignore_reserved_bits = true});
    REQUIRE(m);
    CHECK(m->type() == message_type::hello);
    CHECK(m->avps().begin()->reserved_bits() == 0x0400);

    std::array<std::byte, 5> small{};
    auto n = l2tp::write_data_header(small, l2tp::data_header(1, 2), 0);
    REQUIRE_FALSE(n);
    CHECK(n.error() == l2sec::errc::buffer_too_small);
    CHECK(n.error().offset == 4);
    std::array<std::byte, 16> buf{};
    l2tp::header h = l2tp::data_header(1, 2);
    h.has_length = true;
    auto big = l2tp::write_data_header(buf, h, 65535 - 7);
    REQUIRE_FALSE(big);
    CHECK(big.error() == l2sec::errc::invalid_argument);
    CHECK(l2tp::write_data_header(buf, h, 65535 - 8));
    CHECK(load_be16(buf.data() + 2) == 65535);
}

TEST_CASE("vendor AVPs keyed on (vendor, type); unknown mandatory AVPs reported") {
    // HELLO + vendor 3561 (Broadband Forum) type 7 (not a Host Name) + unknown
    // IETF type 200 without M, kept raw.
    auto b =
        hex("c802 0025 0000 0000 0000 0000 8008 0000 0000 0006"
            "0009 0de9 0007 414243"
            "0008 0000 00c8 0102");
    auto m = l2tp::parse(b);
    REQUIRE(m);
    CHECK_FALSE(m->find(avp_type::host_name));
    auto v = m->find(3561, 7);
    REQUIRE(v);
    CHECK_FALSE(v->known());
    CHECK(to_hex(v->value()) == "414243");
    CHECK(l2tp::decode<avps::host_name>(*v).error() == l2tp::errc::missing_avp);
    CHECK(l2tp::check_mandatory(m->avps()));
    int raw_seen = 0;
    for (auto a : m->avps()) {
        auto r = l2tp::visit_avp(a, [&](const auto& x) {
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, l2tp::avp_view>) ++raw_seen;
        });
        CHECK(r);
    }
    CHECK(raw_seen == 2);

    // The same vendor AVP with M set, and an unknown IETF type 40 with M set.
    auto b2 = hex("c802 001d 0000 0000 0000 0000 8008 0000 0000 0006 8009 0de9 0007 414243");
    auto m2 = l2tp::parse(b2);
    REQUIRE(m2);
    auto e = l2tp::check_mandatory(m2->avps());
    REQUIRE_FALSE(e);
    CHECK(e.error() == l2tp::errc::unknown_mandatory_avp);
    CHECK(e.error().offset == 20);
    auto b3 = hex("c802 001a 0000 0000 0000 0000 8008 0000 0000 0006 8006 0000 0028");
    auto m3 = l2tp::parse(b3);
    REQUIRE(m3);
    CHECK(l2tp::check_mandatory(m3->avps()).error() == l2tp::errc::unknown_mandatory_avp);
    CHECK(l2tp::check_mandatory(m3->avps()).error().offset == 20);
}

TEST_CASE("builder reports buffer_too_small and oversize AVPs") {
    for (std::size_t cap = 0; cap < 55; ++cap) {
        std::vector<std::byte> buf(cap);
        l2tp::message_builder b(buf, 0, 0, 0, 0);
        b.add(avps::message_type{message_type::sccrq})
            .add(avps::protocol_version{1, 0})
            .add(avps::host_name{as_bytes("lac")})
            .add(avps::framing_capabilities{3})
            .add(avps::assigned_tunnel_id{1});
        auto r = b.finish();
        CAPTURE(cap);
        REQUIRE_FALSE(r);
        CHECK(r.error() == l2sec::errc::buffer_too_small);
    }
    std::vector<std::byte> big(2000), val(1018);
    l2tp::message_builder b(big, 0, 0, 0, 0);
    b.add(avps::message_type{message_type::hello}).add(avps::vendor_name{val});
    auto r = b.finish();
    REQUIRE_FALSE(r);
    CHECK(r.error() == l2sec::errc::invalid_argument);
    CHECK(r.error().offset == 20);
    // 1017 octets is the largest value: AVP length 1023.
    l2tp::message_builder b2(big, 0, 0, 0, 0);
    b2.add(avps::message_type{message_type::hello})
        .add(avps::vendor_name{bytes_view(val).first(1017)});
    auto r2 = b2.finish();
    REQUIRE(r2);
    auto m = l2tp::parse(*r2);
    REQUIRE(m);
    CHECK(m->get<avps::vendor_name>()->value.size() == 1017);
}

TEST_CASE("truncation at every octet of a hand-assembled SCCRQ") {
    const auto full = hex(sccrq_hex);
    const std::size_t avp_starts[] = {12, 20, 28, 37, 47, 55};
    for (std::size_t cut = 0; cut < full.size(); ++cut) {
        CAPTURE(cut);
        // The datagram is cut but Length still says 55.
        auto e = err_of(bytes_view(full).first(cut));
        if (cut < 2) {
            CHECK(e == l2tp::errc::truncated);
            CHECK(e.offset == 0);
        } else if (cut < 12) {
            CHECK(e == l2tp::errc::truncated);
            CHECK(e.offset == (cut & ~std::size_t{1}));  // the 16-bit field that was cut
        } else {
            CHECK(e == l2tp::errc::length_exceeds_buffer);
            CHECK(e.offset == 2);
        }
        if (cut < 12) continue;
        // Length patched to the cut: AVP-level truncation.
        std::vector<std::byte> b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
        store_be16(b.data() + 2, static_cast<std::uint16_t>(cut));
        std::size_t start = 12;
        bool boundary = false;
        for (std::size_t s : avp_starts) {
            if (s == cut) boundary = true;
            if (s <= cut) start = s;
        }
        auto m = l2tp::parse(b);
        if (boundary) {
            REQUIRE(m);
            CHECK(static_cast<std::size_t>(std::distance(m->avps().begin(), m->avps().end())) ==
                  static_cast<std::size_t>(
                      std::find(std::begin(avp_starts), std::end(avp_starts), cut) -
                      std::begin(avp_starts)));
        } else {
            REQUIRE_FALSE(m);
            CHECK(m.error() == (cut - start < 6 ? l2tp::errc::truncated : l2tp::errc::avp_overrun));
            CHECK(m.error().offset == start);
        }
    }
}
