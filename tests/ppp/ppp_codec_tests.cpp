// PPP frames, control packets (LCP/IPCP/IPV6CP), typed options, PAP and CHAP.
// Known encodings are written from the packet diagrams of RFC 1661 (sections
// 5 and 6), RFC 1332, RFC 1877, RFC 5072, RFC 1334, RFC 1994, RFC 1990, and
// from the l2tpns ConfReq described in DESIGN.md (MRU 1462, MRRU, Endpoint
// Discriminator); none of them is our own encoder's output.
#include <doctest/doctest.h>

#include <l2sec/l2tp.hpp>
#include <l2sec/pcap.hpp>
#include <l2sec/ppp.hpp>

#include "support/alloc_counter.hpp"
#include "support/hex.hpp"

#include <array>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

using l2sec::as_bytes;
using l2sec::as_chars;
using l2sec::bytes_view;
using l2sec::mutable_bytes;
using l2sec::result;
using l2sec::writer;
using namespace l2sec::ppp;
using l2sec::test::hex;
using l2sec::test::to_hex;

namespace {

template <class T, class V>
const T& get_as(const V& v) {
    REQUIRE(std::holds_alternative<T>(v));
    return std::get<T>(v);
}

void check_error(const l2sec::error& e, l2sec::ppp::errc code, std::size_t offset) {
    CHECK(e == code);
    CHECK(e.offset == offset);
}

}  // namespace

// ------------------------------------------------------------------ frames

TEST_CASE("frame: FF 03 + 2-byte protocol (uncompressed, as L2TP carries LCP)") {
    auto b = hex("ff 03 c0 21 09 01 00 08 00 00 00 00");
    auto f = decode_frame(b);
    REQUIRE(f);
    CHECK(f->protocol == protocol::lcp);
    CHECK(f->has_address_control);
    CHECK_FALSE(f->protocol_compressed);
    CHECK(f->header_size == 4);
    CHECK(to_hex(f->information) == "0901000800000000");
}

TEST_CASE("frame: ACFC and PFC (RFC 1661 6.5/6.6): 1-byte protocol ends at an odd byte") {
    auto b = hex("21 45 00");  // IPv4, compressed protocol, no address/control
    auto f = decode_frame(b);
    REQUIRE(f);
    CHECK(f->protocol == protocol::ip);
    CHECK_FALSE(f->has_address_control);
    CHECK(f->protocol_compressed);
    CHECK(f->header_size == 1);
    CHECK(to_hex(f->information) == "4500");

    auto b2 = hex("ff 03 57 60");  // IPv6 with address/control, PFC
    auto f2 = decode_frame(b2);
    REQUIRE(f2);
    CHECK(f2->protocol == protocol::ipv6);
    CHECK(f2->header_size == 3);

    auto b3 = hex("80 21 01");  // IPCP without address/control
    auto f3 = decode_frame(b3);
    REQUIRE(f3);
    CHECK(f3->protocol == protocol::ipcp);
    CHECK(f3->header_size == 2);
}

TEST_CASE("frame: malformed inputs give precise errors") {
    check_error(decode_frame(hex("")).error(), errc::truncated, 0);
    check_error(decode_frame(hex("ff")).error(), errc::truncated, 1);
    check_error(decode_frame(hex("ff 05 c0 21")).error(), errc::bad_address_control, 1);
    check_error(decode_frame(hex("ff 03")).error(), errc::truncated, 2);
    check_error(decode_frame(hex("ff 03 c0")).error(), errc::truncated, 2);
    // Low byte even: not a valid protocol number.
    check_error(decode_frame(hex("ff 03 c0 22 00")).error(), errc::invalid_protocol, 2);
    check_error(decode_frame(hex("00 20"), 40).error(), errc::invalid_protocol, 40);
    auto e = decode_frame(hex("ff 03 c0 22"), 10).error();
    CHECK(e.message() == "l2sec.ppp: invalid PPP protocol number (PPP protocol) at offset 12");
}

TEST_CASE("frame: encoding with and without ACFC/PFC; LCP is never compressed") {
    std::array<std::byte, 16> buf{};
    auto payload = hex("45 00");
    auto n = encode_frame(buf, protocol::ip, payload);
    REQUIRE(n);
    CHECK(to_hex(std::span(buf).first(*n)) == "ff0300214500");
    n = encode_frame(buf, protocol::ip, payload,
                     {.address_control = false, .compress_protocol = true});
    REQUIRE(n);
    CHECK(to_hex(std::span(buf).first(*n)) == "214500");
    n = encode_frame(buf, protocol::ipcp, payload,
                     {.address_control = false, .compress_protocol = true});
    REQUIRE(n);
    CHECK(to_hex(std::span(buf).first(*n)) == "80214500");  // > 0xff: cannot compress
    n = encode_frame(buf, protocol::lcp, payload,
                     {.address_control = false, .compress_protocol = true});
    REQUIRE(n);
    CHECK(to_hex(std::span(buf).first(*n)) == "ff03c0214500");
    CHECK(frame_header_size(protocol::lcp, {false, true}) == 4);
    CHECK(frame_header_size(protocol::ip, {false, true}) == 1);
    CHECK(frame_header_size(protocol::ip, {true, false}) == 4);

    std::array<std::byte, 3> small{};
    auto e = encode_frame(small, protocol::ip, payload);
    REQUIRE_FALSE(e);
    CHECK(e.error() == l2sec::errc::buffer_too_small);
    CHECK(e.error().offset == 2);
    auto bad = encode_frame(buf, protocol{0xc022}, payload);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == errc::invalid_protocol);
}

TEST_CASE("protocol names and validity") {
    CHECK(std::string(protocol_name(protocol::lcp)) == "lcp");
    CHECK(std::string(protocol_name(protocol::ipcp)) == "ipcp");
    CHECK(std::string(protocol_name(protocol::ipv6cp)) == "ipv6cp");
    CHECK(std::string(protocol_name(protocol::pap)) == "pap");
    CHECK(std::string(protocol_name(protocol::chap)) == "chap");
    CHECK(std::string(protocol_name(protocol::ip)) == "ip");
    CHECK(std::string(protocol_name(protocol::ccp)) == "ccp");
    CHECK(protocol_name(protocol{0x8281}) == nullptr);
    static_assert(is_valid_protocol(protocol::lcp));
    static_assert(is_valid_protocol(protocol::ip));
    static_assert(!is_valid_protocol(protocol{0xc022}));
    static_assert(!is_valid_protocol(protocol{0x0121}));  // high byte odd
    static_assert(is_network_protocol(protocol::ipv6) && is_control_protocol(protocol::ipv6cp));
    static_assert(protocol_name(protocol::lcp)[0] == 'l');
}

// ------------------------------------------------------------------ LCP

// The l2tpns LNS's first LCP Configure-Request, as described in DESIGN.md
// (MRU 1462, MRRU, Endpoint Discriminator), written out from the RFC 1661 /
// RFC 1990 option diagrams: MRU(1) len 4 = 1462, Magic-Number(5) len 6,
// MRRU(17) len 4 = 1614, Endpoint-Discriminator(19) len 7, class 2 (IP
// address) 10.0.0.1.
constexpr const char* l2tpns_confreq =
    "ff 03 c0 21"
    "01 01 00 19"
    "01 04 05 b6"
    "05 06 1f 2e 3d 4c"
    "11 04 06 4e"
    "13 07 02 0a 00 00 01";

TEST_CASE("LCP: the l2tpns Configure-Request (MRU 1462, MRRU 17, Endpoint Discriminator 19)") {
    auto b = hex(l2tpns_confreq);
    auto f = decode_frame(b);
    REQUIRE(f);
    REQUIRE(f->protocol == protocol::lcp);
    auto p = lcp::decode(f->information, f->header_size);
    REQUIRE(p);
    CHECK(p->code == code::configure_request);
    CHECK(p->identifier == 1);
    CHECK(p->length == 25);
    CHECK(p->offset == 4);
    std::vector<lcp::option> opts;
    std::vector<std::size_t> offsets;
    for (auto raw : p->options()) {
        auto o = lcp::parse_option(raw);
        REQUIRE(o);
        opts.push_back(*o);
        offsets.push_back(raw.offset);
    }
    REQUIRE(opts.size() == 4);
    CHECK(offsets == std::vector<std::size_t>{8, 12, 18, 22});
    CHECK(get_as<lcp::mru>(opts[0]).value == 1462);
    CHECK(get_as<lcp::magic_number>(opts[1]).value == 0x1f2e3d4c);
    CHECK(get_as<lcp::mrru>(opts[2]).value == 1614);
    auto& ed = get_as<lcp::endpoint_discriminator>(opts[3]);
    CHECK(ed.cls == lcp::endpoint_discriminator::class_type::ip_address);
    CHECK(to_hex(ed.address) == "0a000001");
    CHECK(std::string(lcp::class_name(ed.cls)) == "ip_address");

    // Re-encoding the typed options gives back the same bytes.
    std::array<std::byte, 64> out{};
    writer hw(out);
    auto hdr = encode_frame_header(hw, protocol::lcp);
    REQUIRE(hdr);
    auto tail = std::span(out).subspan(*hdr);
    packet_writer pw(tail, code::configure_request, 1);
    for (auto& o : opts)
        pw.option(o);
    auto n = pw.finish();
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*hdr + *n)) == to_hex(b));
}

TEST_CASE("LCP: a pppd-style Configure-Request with ACCM, auth CHAP-MD5, magic, PFC, ACFC") {
    // RFC 1661 6.x / RFC 1662 7.1 / RFC 1994 3 diagrams.
    auto b =
        hex("01 07 00 1d"
            "01 04 05 dc"
            "02 06 00 00 00 00"
            "03 05 c2 23 05"
            "05 06 12 34 56 78"
            "07 02"
            "08 02");
    auto p = lcp::decode(b);
    REQUIRE(p);
    CHECK(p->length == 29);
    std::vector<lcp::option> o;
    for (auto raw : p->options())
        o.push_back(*lcp::parse_option(raw));
    REQUIRE(o.size() == 6);
    CHECK(get_as<lcp::mru>(o[0]).value == 1500);
    CHECK(get_as<lcp::accm>(o[1]).map == 0);
    auto& ap = get_as<lcp::auth_protocol>(o[2]);
    CHECK(ap.protocol == protocol::chap);
    CHECK(ap.algorithm == lcp::chap_algorithm::md5);
    CHECK(ap.data.empty());
    CHECK(ap == lcp::auth_protocol::chap_md5());
    CHECK(get_as<lcp::magic_number>(o[3]).value == 0x12345678);
    CHECK(std::holds_alternative<lcp::pfc>(o[4]));
    CHECK(std::holds_alternative<lcp::acfc>(o[5]));

    std::array<std::byte, 64> out{};
    packet_writer pw(out, code::configure_request, 7);
    pw.option(lcp::mru{1500})
        .option(lcp::accm{0})
        .option(lcp::auth_protocol::chap_md5())
        .option(lcp::magic_number{0x12345678})
        .option(lcp::pfc{})
        .option(lcp::acfc{});
    auto n = pw.finish();
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == to_hex(b));
}

TEST_CASE("LCP: auth protocol PAP / MS-CHAPv2, quality protocol LQR, short sequence") {
    auto b = hex("01 01 00 17  03 04 c0 23  03 05 c2 23 81  04 08 c0 25 00 00 03 e8  12 02");
    auto p = lcp::decode(b);
    REQUIRE(p);
    std::vector<lcp::option> o;
    for (auto raw : p->options())
        o.push_back(*lcp::parse_option(raw));
    REQUIRE(o.size() == 4);
    CHECK(get_as<lcp::auth_protocol>(o[0]) == lcp::auth_protocol::pap());
    CHECK(get_as<lcp::auth_protocol>(o[1]) == lcp::auth_protocol::ms_chap_v2());
    auto& q = get_as<lcp::quality_protocol>(o[2]);
    CHECK(q.protocol == protocol::lqr);
    CHECK(to_hex(q.data) == "000003e8");
    CHECK(std::holds_alternative<lcp::short_sequence>(o[3]));
}

TEST_CASE("LCP: unknown options pass through raw, with their wire bytes for a Reject") {
    // Callback (13, RFC 1570) as Windows sends it: operation 6.
    auto b = hex("01 02 00 0b  01 04 05 78  0d 03 06");
    auto p = lcp::decode(b);
    REQUIRE(p);
    auto it = p->options().begin();
    ++it;
    auto raw = *it;
    CHECK(raw.type == 13);
    CHECK(raw.offset == 8);
    CHECK(to_hex(raw.wire) == "0d0306");
    auto o = lcp::parse_option(raw);
    REQUIRE(o);
    auto& u = get_as<unknown_option>(*o);
    CHECK(u.type == 13);
    CHECK(to_hex(u.data) == "06");
    CHECK(std::string(lcp::option_name(13)) == "callback");

    // The engine copies it into a Configure-Reject unchanged.
    std::array<std::byte, 16> out{};
    auto n = packet_writer(out, code::configure_reject, 2).option(raw).finish();
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == "040200070d0306");
    n = packet_writer(out, code::configure_reject, 2).option(u).finish();
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == "040200070d0306");
}

TEST_CASE("LCP: option sizes that do not fit the type are errors at the Length byte") {
    struct bad {
        const char* hex;
        std::size_t offset;
    };
    for (auto c : {bad{"01 01 00 07 01 03 05", 5}, bad{"01 01 00 0d 01 04 05 dc 02 05 00 00 00", 9},
                   bad{"01 01 00 07 03 03 c0", 5}, bad{"01 01 00 08 03 04 c2 23", 5},
                   bad{"01 01 00 0a 03 06 c2 23 05 05", 5}, bad{"01 01 00 09 05 05 00 00 00", 5},
                   bad{"01 01 00 07 07 03 00", 5}, bad{"01 01 00 07 08 03 00", 5},
                   bad{"01 01 00 06 13 02", 5}, bad{"01 01 00 07 11 03 05", 5},
                   bad{"01 01 00 07 04 03 c0", 5}, bad{"01 01 00 07 12 03 00", 5}}) {
        auto b = hex(c.hex);
        // The packet is structurally fine (only TLV checks) ...
        auto p = lcp::decode(b);
        REQUIRE(p);
        // ... but typing the last option fails, at that option's Length byte.
        l2sec::error e;
        bool failed = false;
        for (auto raw : p->options())
            if (auto o = lcp::parse_option(raw); !o) {
                e = o.error();
                failed = true;
            }
        INFO(std::string(c.hex));
        REQUIRE(failed);
        check_error(e, errc::option_bad_length, c.offset);
    }
}

TEST_CASE("control packets: header and option-list errors with offsets") {
    check_error(lcp::decode(hex("01 01 00")).error(), errc::truncated, 2);
    check_error(lcp::decode(hex("01 01 00 03 00")).error(), errc::length_too_short, 2);
    check_error(lcp::decode(hex("01 01 00 09 01 04 05 dc"), 4).error(), errc::length_exceeds_buffer,
                6);
    // Meraki-style huge length.
    check_error(lcp::decode(hex("01 01 42 80 01 04 05 dc")).error(), errc::length_exceeds_buffer,
                2);
    // Option length < 2.
    check_error(lcp::decode(hex("01 01 00 0a 01 04 05 dc 07 01")).error(),
                errc::option_length_too_short, 9);
    check_error(lcp::decode(hex("01 01 00 06 01 00")).error(), errc::option_length_too_short, 5);
    // Option overruns the packet (Length), even though the buffer has more.
    check_error(lcp::decode(hex("01 01 00 08 01 05 05 dc 00")).error(), errc::option_overrun, 5);
    // A lone type byte at the end.
    check_error(lcp::decode(hex("01 01 00 09 01 04 05 dc 07"), 100).error(), errc::option_overrun,
                108);
    // Code-specific minimums.
    check_error(lcp::decode(hex("08 01 00 05 c0")).error(), errc::length_too_short, 2);
    check_error(lcp::decode(hex("09 01 00 07 00 00 00")).error(), errc::length_too_short, 2);
    check_error(lcp::decode(hex("0b 01 00 04")).error(), errc::length_too_short, 2);
    // IPCP does not define Echo: no check, the engine Code-Rejects it.
    auto echo_bytes = hex("09 01 00 04");
    auto echo = ipcp::decode(echo_bytes);
    REQUIRE(echo);
    CHECK_FALSE(is_code_defined(protocol::ipcp, echo->code));
    // An unknown LCP code is not a decode error either.
    auto unk_bytes = hex("20 05 00 06 aa bb");
    auto unk = lcp::decode(unk_bytes);
    REQUIRE(unk);
    CHECK(static_cast<int>(unk->code) == 0x20);
    CHECK_FALSE(lcp::is_code_defined(unk->code));
    CHECK(code_name(unk->code) == nullptr);
}

TEST_CASE("control packets: padding beyond Length is ignored (RFC 1661 section 5)") {
    auto b = hex("06 03 00 04 00 00 00 00");  // Terminate-Ack + padding
    auto p = lcp::decode(b);
    REQUIRE(p);
    CHECK(p->code == code::terminate_ack);
    CHECK(p->data.empty());
}

TEST_CASE("LCP: Terminate, Code-Reject, Protocol-Reject, Echo, Discard") {
    std::array<std::byte, 64> out{};
    auto n = encode_terminate(out, code::terminate_request, 3, as_bytes("bye"));
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) ==
          "0503000762796"
          "5");
    n = encode_terminate(out, code::terminate_ack, 3);
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == "06030004");

    // Echo-Request with magic 0 (as l2tpns sends before LCP is open) and data.
    auto er = hex("09 2a 00 0a 00 00 00 00 be ef");
    auto p = lcp::decode(er);
    REQUIRE(p);
    CHECK(p->code == code::echo_request);
    CHECK(p->magic_number() == 0);
    CHECK(to_hex(p->echo_data()) == "beef");
    n = encode_echo(out, code::echo_reply, p->identifier, 0x01020304, p->echo_data());
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == "0a2a000a01020304beef");
    n = encode_echo(out, code::discard_request, 9, 0xaabbccdd);
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == "0b090008aabbccdd");

    // Protocol-Reject of an IPX frame (0x002b) carrying 3 bytes.
    auto pr = hex("08 05 00 09 00 2b 01 02 03");
    p = lcp::decode(pr);
    REQUIRE(p);
    CHECK(p->rejected_protocol() == protocol{0x002b});
    CHECK(to_hex(p->rejected_information()) == "010203");
    n = encode_protocol_reject(out, 5, protocol{0x002b}, hex("01 02 03"));
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == to_hex(pr));
    // Truncated to the peer's MRU.
    n = encode_protocol_reject(out, 5, protocol{0x002b}, hex("01 02 03"), 7);
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) ==
          "0805000700"
          "2b01");

    // Code-Reject carries the rejected packet.
    auto unknown = hex("20 05 00 06 aa bb");
    n = encode_code_reject(out, 6, unknown);
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) ==
          "0706000a"
          "20050006aabb");
    p = lcp::decode(std::span(out).first(*n));
    REQUIRE(p);
    CHECK(p->code == code::code_reject);
    CHECK(to_hex(p->rejected_packet()) == to_hex(unknown));
    n = encode_code_reject(out, 6, unknown, 8);
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) ==
          "07060008"
          "2005"
          "0006");
    n = encode_code_reject(out, 6, unknown, 8);
    CHECK(*n == 8);

    std::array<std::byte, 5> tiny{};
    auto e = encode_echo(tiny, code::echo_request, 1, 0);
    REQUIRE_FALSE(e);
    CHECK(e.error() == l2sec::errc::buffer_too_small);
}

TEST_CASE("packet_writer refuses options over 255 bytes") {
    std::array<std::byte, 400> out{};
    std::array<std::byte, 254> big{};
    auto n = packet_writer(out, code::configure_request, 1).option(0x99, big).finish();
    REQUIRE_FALSE(n);
    CHECK(n.error() == l2sec::errc::invalid_argument);
    std::array<std::byte, 253> ok{};
    n = packet_writer(out, code::configure_request, 1).option(0x99, ok).finish();
    REQUIRE(n);
    CHECK(*n == 259);
}

TEST_CASE("code and option names") {
    const char* names[] = {"configure_request", "configure_ack",     "configure_nak",
                           "configure_reject",  "terminate_request", "terminate_ack",
                           "code_reject",       "protocol_reject",   "echo_request",
                           "echo_reply",        "discard_request"};
    for (int i = 1; i <= 11; ++i)
        CHECK(std::string(code_name(code{static_cast<std::uint8_t>(i)})) == names[i - 1]);
    CHECK(code_name(protocol::ipcp, code::echo_request) == nullptr);
    CHECK(std::string(code_name(protocol::lcp, code::echo_request)) == "echo_request");
    CHECK(std::string(code_name(protocol::ccp, code::reset_request)) == "reset_request");
    static_assert(lcp::option_name(1)[0] == 'm');
    CHECK(std::string(lcp::option_name(1)) == "mru");
    CHECK(std::string(lcp::option_name(2)) == "accm");
    CHECK(std::string(lcp::option_name(3)) == "auth_protocol");
    CHECK(std::string(lcp::option_name(4)) == "quality_protocol");
    CHECK(std::string(lcp::option_name(5)) == "magic_number");
    CHECK(std::string(lcp::option_name(7)) == "pfc");
    CHECK(std::string(lcp::option_name(8)) == "acfc");
    CHECK(std::string(lcp::option_name(17)) == "mrru");
    CHECK(std::string(lcp::option_name(18)) == "short_sequence");
    CHECK(std::string(lcp::option_name(19)) == "endpoint_discriminator");
    CHECK(lcp::option_name(99) == nullptr);
    CHECK(std::string(ipcp::option_name(1)) == "ip_addresses");
    CHECK(std::string(ipcp::option_name(2)) == "ip_compression_protocol");
    CHECK(std::string(ipcp::option_name(3)) == "ip_address");
    CHECK(std::string(ipcp::option_name(129)) == "primary_dns");
    CHECK(std::string(ipcp::option_name(130)) == "primary_nbns");
    CHECK(std::string(ipcp::option_name(131)) == "secondary_dns");
    CHECK(std::string(ipcp::option_name(132)) == "secondary_nbns");
    CHECK(ipcp::option_name(5) == nullptr);
    CHECK(std::string(ipv6cp::option_name(1)) == "interface_identifier");
    CHECK(std::string(ipv6cp::option_name(2)) == "ipv6_compression_protocol");
    CHECK(std::string(option_name(protocol::ipcp, 3)) == "ip_address");
    CHECK(std::string(option_name(protocol::lcp, 3)) == "auth_protocol");
    CHECK(option_name(protocol::ccp, 3) == nullptr);
    CHECK(std::string(pap::code_name(pap::code::authenticate_request)) == "authenticate_request");
    CHECK(std::string(pap::code_name(pap::code::authenticate_ack)) == "authenticate_ack");
    CHECK(std::string(pap::code_name(pap::code::authenticate_nak)) == "authenticate_nak");
    CHECK(pap::code_name(pap::code{4}) == nullptr);
    CHECK(std::string(chap::code_name(chap::code::challenge)) == "challenge");
    CHECK(std::string(chap::code_name(chap::code::response)) == "response");
    CHECK(std::string(chap::code_name(chap::code::success)) == "success");
    CHECK(std::string(chap::code_name(chap::code::failure)) == "failure");
    CHECK(std::string(make_error_code(errc::bad_fcs).category().name()) == "l2sec.ppp");
}

// ------------------------------------------------------------------ IPCP / IPV6CP

TEST_CASE("IPCP: Configure-Request with VJ, IP-Address and RFC 1877 DNS/NBNS") {
    // RFC 1332 4.2 (VJ: 002d, Max-Slot-Id 15, Comp-Slot-Id 1), 3.3, RFC 1877 1.1-1.4.
    auto b =
        hex("80 21"
            "01 04 00 32"
            "02 06 00 2d 0f 01"
            "03 06 c0 a8 00 02"
            "81 06 08 08 08 08"
            "82 06 0a 00 00 01"
            "83 06 08 08 04 04"
            "84 06 0a 00 00 02"
            "01 0a 0a 00 00 01 0a 00 00 02");
    auto f = decode_frame(b);
    REQUIRE(f);
    CHECK(f->protocol == protocol::ipcp);
    auto p = ipcp::decode(f->information, 2);
    REQUIRE(p);
    std::vector<ipcp::option> o;
    for (auto raw : p->options()) {
        auto t = ipcp::parse_option(raw);
        REQUIRE(t);
        o.push_back(*t);
    }
    REQUIRE(o.size() == 7);
    auto& vj = get_as<ipcp::ip_compression_protocol>(o[0]);
    CHECK(vj.is_vj());
    CHECK(vj.max_slot_id == 15);
    CHECK(vj.comp_slot_id == 1);
    CHECK(get_as<ipcp::ip_address>(o[1]).address == 0xc0a80002);
    CHECK(get_as<ipcp::primary_dns>(o[2]).address == 0x08080808);
    CHECK(get_as<ipcp::primary_nbns>(o[3]).address == 0x0a000001);
    CHECK(get_as<ipcp::secondary_dns>(o[4]).address == 0x08080404);
    CHECK(get_as<ipcp::secondary_nbns>(o[5]).address == 0x0a000002);
    auto& both = get_as<ipcp::ip_addresses>(o[6]);
    CHECK(both.source == 0x0a000001);
    CHECK(both.destination == 0x0a000002);

    std::array<std::byte, 64> out{};
    auto n = packet_writer(out, code::configure_request, 4)
                 .option(ipcp::ip_compression_protocol{})
                 .option(ipcp::ip_address{0xc0a80002})
                 .option(ipcp::primary_dns{0x08080808})
                 .option(ipcp::primary_nbns{0x0a000001})
                 .option(ipcp::secondary_dns{0x08080404})
                 .option(ipcp::secondary_nbns{0x0a000002})
                 .option(ipcp::ip_addresses{0x0a000001, 0x0a000002})
                 .finish();
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == to_hex(f->information));
}

TEST_CASE("IPCP/IPV6CP: bad option sizes and unknown options") {
    struct bad {
        const char* hex;
        std::size_t offset;
    };
    for (auto c :
         {bad{"01 01 00 09 03 05 00 00 00", 5}, bad{"01 01 00 0a 81 06 00 00 00 00", 99},
          bad{"01 01 00 08 02 04 00 2d", 5}, bad{"01 01 00 07 02 03 00", 5},
          bad{"01 01 00 0c 01 08 00 00 00 00 00 00", 5}, bad{"01 01 00 09 84 05 00 00 00", 5}}) {
        auto bytes = hex(c.hex);
        auto p = ipcp::decode(bytes);
        REQUIRE(p);
        auto raw = *p->options().begin();
        auto o = ipcp::parse_option(raw);
        INFO(std::string(c.hex));
        if (c.offset == 99) {
            CHECK(o);
            continue;
        }
        REQUIRE_FALSE(o);
        check_error(o.error(), errc::option_bad_length, c.offset);
    }
    // Non-VJ compression protocol keeps its data (ROHC 0x0003).
    auto rohc_bytes = hex("01 01 00 0a 02 06 00 03 00 0f");
    auto rohc = ipcp::decode(rohc_bytes);
    REQUIRE(rohc);
    auto t = ipcp::parse_option(*rohc->options().begin());
    REQUIRE(t);
    CHECK(get_as<ipcp::ip_compression_protocol>(*t).protocol == protocol{0x0003});
    CHECK(to_hex(get_as<ipcp::ip_compression_protocol>(*t).data) == "000f");

    auto v6_bytes = hex("01 01 00 0e 01 0a 02 11 22 ff fe 33 44 55");
    auto v6 = ipv6cp::decode(v6_bytes, 2);
    REQUIRE(v6);
    auto iid = ipv6cp::parse_option(*v6->options().begin());
    REQUIRE(iid);
    CHECK(get_as<ipv6cp::interface_identifier>(*iid).value == 0x021122fffe334455ULL);
    auto badiid_bytes = hex("01 01 00 0d 01 09 02 11 22 ff fe 33 44");
    auto badiid = ipv6cp::decode(badiid_bytes, 2);
    REQUIRE(badiid);
    auto e = ipv6cp::parse_option(*badiid->options().begin());
    REQUIRE_FALSE(e);
    check_error(e.error(), errc::option_bad_length, 7);
    auto comp_bytes = hex("01 01 00 0a 02 06 00 4f 00 0f");
    auto comp = ipv6cp::decode(comp_bytes);
    REQUIRE(comp);
    auto c = ipv6cp::parse_option(*comp->options().begin());
    REQUIRE(c);
    CHECK(get_as<ipv6cp::ipv6_compression_protocol>(*c).protocol == protocol{0x004f});
    auto shortc_bytes = hex("01 01 00 07 02 03 00");
    auto shortc = ipv6cp::decode(shortc_bytes);
    REQUIRE(shortc);
    CHECK_FALSE(ipv6cp::parse_option(*shortc->options().begin()));

    std::array<std::byte, 32> out{};
    auto n = packet_writer(out, code::configure_request, 1)
                 .option(ipv6cp::interface_identifier{0x021122fffe334455ULL})
                 .finish();
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == "0101000e010a021122fffe334455");
}

TEST_CASE("visit_option gives typed values for any control protocol without allocating") {
    auto b = hex("01 01 00 10 03 06 c0 a8 00 02 81 06 08 08 08 08");
    auto p = ipcp::decode(b);
    REQUIRE(p);
    std::string seen;
    std::size_t allocs = l2sec::test::allocations_in([&] {
        for (auto raw : p->options()) {
            auto r = visit_option(protocol::ipcp, raw, [&](const auto& o) {
                using T = std::decay_t<decltype(o)>;
                if constexpr (std::is_same_v<T, ipcp::ip_address>)
                    seen += 'A';
                else if constexpr (std::is_same_v<T, ipcp::primary_dns>)
                    seen += 'D';
                else
                    seen += '?';
            });
            CHECK(r);
        }
    });
    CHECK(allocs == 0);
    CHECK(seen == "AD");
    int unknown = 0;
    auto r = visit_option(protocol::ccp, *p->options().begin(), [&](const auto& o) {
        if constexpr (std::is_same_v<std::decay_t<decltype(o)>, unknown_option>) ++unknown;
    });
    CHECK(r);
    CHECK(unknown == 1);
    auto bad = hex("01 01 00 07 01 03 05");
    auto bp = lcp::decode(bad);
    REQUIRE(bp);
    auto br = visit_option(protocol::lcp, *bp->options().begin(), [](const auto&) {});
    REQUIRE_FALSE(br);
    check_error(br.error(), errc::option_bad_length, 5);
}

// ------------------------------------------------------------------ PAP / CHAP

TEST_CASE("PAP: Authenticate-Request / Ack / Nak (RFC 1334 2.2)") {
    auto req = hex("01 07 00 10 04 75 73 65 72 06 73 65 63 72 65 74");
    auto p = pap::decode(req, 4);
    REQUIRE(p);
    CHECK(p->code == pap::code::authenticate_request);
    CHECK(p->identifier == 7);
    CHECK(as_chars(p->peer_id) == "user");
    CHECK(as_chars(p->password) == "secret");
    std::array<std::byte, 64> out{};
    auto n = pap::encode_request(out, 7, as_bytes("user"), as_bytes("secret"));
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == to_hex(req));

    auto ack = hex("02 07 00 07 02 6f 6b");
    auto a = pap::decode(ack);
    REQUIRE(a);
    CHECK(a->code == pap::code::authenticate_ack);
    CHECK(as_chars(a->message) == "ok");
    n = pap::encode_reply(out, pap::code::authenticate_ack, 7, as_bytes("ok"));
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == to_hex(ack));
    // Tolerated: an Ack without Msg-Length.
    auto bare_bytes = hex("02 07 00 04");
    auto bare = pap::decode(bare_bytes);
    REQUIRE(bare);
    CHECK(bare->message.empty());
    n = pap::encode_reply(out, pap::code::authenticate_nak, 8);
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == "0308000500");
}

TEST_CASE("PAP: malformed packets") {
    check_error(pap::decode(hex("01 07 00")).error(), errc::truncated, 2);
    check_error(pap::decode(hex("01 07 00 02")).error(), errc::length_too_short, 2);
    check_error(pap::decode(hex("01 07 00 09 04 75 73")).error(), errc::length_exceeds_buffer, 2);
    check_error(pap::decode(hex("01 07 00 04")).error(), errc::length_too_short, 2);
    // Peer-ID length 5 but only 4 bytes follow within Length.
    check_error(pap::decode(hex("01 07 00 09 05 75 73 65 72 00"), 10).error(), errc::field_overrun,
                14);
    // No Passwd-Length byte.
    check_error(pap::decode(hex("01 07 00 06 01 75")).error(), errc::length_too_short, 2);
    check_error(pap::decode(hex("01 07 00 07 01 75 02")).error(), errc::field_overrun, 6);
    check_error(pap::decode(hex("02 07 00 06 03 6f")).error(), errc::field_overrun, 4);
    check_error(pap::decode(hex("04 07 00 04")).error(), errc::unknown_code, 0);
    std::array<std::byte, 300> big{};
    std::array<std::byte, 600> out{};
    auto e = pap::encode_request(out, 1, std::span(big).first(256), {});
    REQUIRE_FALSE(e);
    CHECK(e.error() == l2sec::errc::invalid_argument);
    std::array<std::byte, 8> small{};
    auto s = pap::encode_request(small, 1, as_bytes("user"), as_bytes("pw"));
    REQUIRE_FALSE(s);
    CHECK(s.error() == l2sec::errc::buffer_too_small);
}

TEST_CASE("CHAP: Challenge / Response / Success / Failure (RFC 1994 4.1-4.2)") {
    auto ch = hex("01 01 00 18 10 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff 6c 6e 73");
    auto p = chap::decode(ch);
    REQUIRE(p);
    CHECK(p->code == chap::code::challenge);
    CHECK(to_hex(p->value) == "00112233445566778899aabbccddeeff");
    CHECK(as_chars(p->name) == "lns");
    std::array<std::byte, 128> out{};
    auto n = chap::encode_value(out, chap::code::challenge, 1, p->value, as_bytes("lns"));
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == to_hex(ch));

    auto ok = hex("03 01 00 0e 57 65 6c 63 6f 6d 65 21 21 21");
    auto s = chap::decode(ok);
    REQUIRE(s);
    CHECK(s->code == chap::code::success);
    CHECK(as_chars(s->message) == "Welcome!!!");
    n = chap::encode_result(out, chap::code::success, 1, as_bytes("Welcome!!!"));
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == to_hex(ok));
    auto fail_bytes = hex("04 02 00 04");
    auto fail = chap::decode(fail_bytes);
    REQUIRE(fail);
    CHECK(fail->code == chap::code::failure);
    CHECK(fail->message.empty());

    check_error(chap::decode(hex("02 01 00 04")).error(), errc::length_too_short, 2);
    check_error(chap::decode(hex("02 01 00 06 10 00"), 8).error(), errc::field_overrun, 12);
    check_error(chap::decode(hex("02 01 00 16 10 00")).error(), errc::length_exceeds_buffer, 2);
    check_error(chap::decode(hex("05 01 00 04")).error(), errc::unknown_code, 0);
    check_error(chap::decode(hex("01")).error(), errc::truncated, 1);
}

TEST_CASE("CHAP: MS-CHAPv2 response value and Success message (RFC 2759 4-5)") {
    std::vector<std::byte> v(49);
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<std::byte>(i);
    v[48] = std::byte{0};
    auto r = chap::parse_ms_chap_v2_response(v);
    REQUIRE(r);
    CHECK(r->peer_challenge.size() == 16);
    CHECK(std::to_integer<int>(r->reserved[0]) == 16);
    CHECK(std::to_integer<int>(r->nt_response[0]) == 24);
    CHECK(r->nt_response.size() == 24);
    CHECK_FALSE(chap::parse_ms_chap_v2_response(std::span(v).first(48)));
    // RFC 2759 section 9.2 example AuthenticatorResponse.
    auto msg = as_bytes("S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted");
    auto s = chap::parse_ms_chap_v2_success(msg);
    REQUIRE(s);
    CHECK(s->authenticator_response == "407A5589115FD0D6209F510FE9C04566932CDA56");
    CHECK(s->message == "Access granted");
    auto bad =
        chap::parse_ms_chap_v2_success(as_bytes("S=407A5589115FD0D6209F510FE9C04566932CDA5G"), 10);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().offset == 51);
    CHECK_FALSE(chap::parse_ms_chap_v2_success(as_bytes("E=691 R=0")));

    // RFC 2759 section 6 Failure packet message.
    auto fl = chap::parse_ms_chap_v2_failure(
        as_bytes("E=691 R=1 C=0123456789ABCDEF0123456789ABCDEF V=3 M=Authentication failed"));
    REQUIRE(fl);
    CHECK(fl->error == 691);
    CHECK(fl->retry);
    CHECK(fl->challenge == "0123456789ABCDEF0123456789ABCDEF");
    CHECK(fl->version == 3);
    CHECK(fl->message == "Authentication failed");
    auto minimal = chap::parse_ms_chap_v2_failure(as_bytes("E=648 R=0"));
    REQUIRE(minimal);
    CHECK(minimal->error == 648);
    CHECK_FALSE(minimal->retry);
    CHECK(minimal->challenge.empty());
    auto badc = chap::parse_ms_chap_v2_failure(as_bytes("E=691 R=0 C=12 V=3"), 100);
    REQUIRE_FALSE(badc);
    CHECK(badc.error() == l2sec::errc::invalid_argument);
    CHECK(badc.error().offset == 110);
    auto bade = chap::parse_ms_chap_v2_failure(as_bytes("E=x"), 4);
    REQUIRE_FALSE(bade);
    CHECK(bade.error().offset == 4);
    auto noe = chap::parse_ms_chap_v2_failure(as_bytes("R=0 M=x"));
    REQUIRE_FALSE(noe);
    CHECK(noe.error() == l2sec::errc::length_mismatch);
    CHECK_FALSE(chap::parse_ms_chap_v2_failure(as_bytes("E=691 R=2")));
    CHECK_FALSE(chap::parse_ms_chap_v2_failure(as_bytes("E=691 junk")));
}

// ------------------------------------------------------------------ allocations

TEST_CASE("every decode and encode path allocates nothing") {
    auto frame = hex(l2tpns_confreq);
    auto ipcp_b = hex("01 04 00 16 02 06 00 2d 0f 01 03 06 c0 a8 00 02 81 06 08 08 08 08");
    auto pap_b = hex("01 07 00 10 04 75 73 65 72 06 73 65 63 72 65 74");
    auto chap_b = hex("02 01 00 09 03 aa bb cc 6e");
    std::array<std::byte, 256> out{};
    std::size_t sum = 0;
    auto allocs = l2sec::test::allocations_in([&] {
        auto f = decode_frame(frame);
        auto p = lcp::decode(f->information, 4);
        for (auto raw : p->options()) {
            auto o = lcp::parse_option(raw);
            sum += o->index();
        }
        auto ip = ipcp::decode(ipcp_b);
        for (auto raw : ip->options())
            sum += ipcp::parse_option(raw)->index();
        auto v6 = ipv6cp::decode(bytes_view(ipcp_b).first(4));
        sum += v6 ? 1 : 0;
        auto pp = pap::decode(pap_b);
        sum += pp->peer_id.size();
        auto cp = chap::decode(chap_b);
        sum += cp->value.size();
        writer w(out);
        (void)encode_frame_header(w, protocol::lcp);
        auto tail = std::span(out).subspan(4);
        packet_writer pw(tail, code::configure_request, 1);
        pw.option(lcp::mru{1400})
            .option(lcp::auth_protocol::chap_md5())
            .option(lcp::magic_number{1});
        sum += *pw.finish();
        sum += *encode_frame(out, protocol::ip, frame);
        sum += *encode_echo(out, code::echo_reply, 1, 2, frame);
        sum += *encode_code_reject(out, 1, frame);
        sum += *encode_protocol_reject(out, 1, protocol::ccp, frame);
        sum += *encode_terminate(out, code::terminate_ack, 1);
        sum += *pap::encode_request(out, 1, as_bytes("u"), as_bytes("p"));
        sum += *pap::encode_reply(out, pap::code::authenticate_ack, 1, as_bytes("ok"));
        sum += *chap::encode_value(out, chap::code::response, 1, bytes_view(frame).first(16),
                                   as_bytes("n"));
        sum += *chap::encode_result(out, chap::code::success, 1, as_bytes("S=1"));
        auto err = lcp::decode(bytes_view(frame).first(3));
        sum += err ? 0 : err.error().offset;
    });
    CHECK(allocs == 0);
    CHECK(sum > 0);
}

// ------------------------------------------------------------------ real capture

// l2tpns's LCP Configure-Request from tests/data/l2tpns.pcap (frame 9, after
// the 6-byte L2TP data header 0002 e260 7378): MRU 1462, auth PAP, magic,
// MRRU 1614, Endpoint Discriminator class 2 (IP) 127.0.0.1.
constexpr const char* l2tpns_real =
    "ff03c0210101001d010405b60304c02305066b08dfa61104064e1307027f000001";

TEST_CASE("LCP: the real l2tpns Configure-Request decodes and re-encodes byte for byte") {
    auto b = hex(l2tpns_real);
    // It is the one in the capture file.
    std::ifstream in(std::string(L2SEC_TEST_DATA) + "/l2tpns.pcap", std::ios::binary);
    REQUIRE(in);
    std::vector<char> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto needle = as_chars(b);
    CHECK(std::string_view(file.data(), file.size()).find(needle) != std::string_view::npos);

    auto f = decode_frame(b);
    REQUIRE(f);
    CHECK(f->protocol == protocol::lcp);
    auto p = lcp::decode(f->information, 4);
    REQUIRE(p);
    CHECK(p->code == code::configure_request);
    CHECK(p->length == 29);
    std::vector<std::string> names;
    std::array<std::byte, 64> out{};
    writer hw(out);
    REQUIRE(encode_frame_header(hw, protocol::lcp));
    auto tail = std::span(out).subspan(4);
    packet_writer pw(tail, p->code, p->identifier);
    for (auto raw : p->options()) {
        names.push_back(lcp::option_name(raw.type));
        auto r = visit_option(protocol::lcp, raw, [&](const auto& o) { pw.option(o); });
        REQUIRE(r);
        auto o = *lcp::parse_option(raw);
        if (auto* m = std::get_if<lcp::mru>(&o)) CHECK(m->value == 1462);
        if (auto* a = std::get_if<lcp::auth_protocol>(&o)) CHECK(*a == lcp::auth_protocol::pap());
        if (auto* m = std::get_if<lcp::magic_number>(&o)) CHECK(m->value == 0x6b08dfa6);
        if (auto* m = std::get_if<lcp::mrru>(&o)) CHECK(m->value == 1614);
        if (auto* e = std::get_if<lcp::endpoint_discriminator>(&o)) {
            CHECK(e->cls == lcp::endpoint_discriminator::class_type::ip_address);
            CHECK(to_hex(e->address) == "7f000001");
        }
    }
    CHECK(names == std::vector<std::string>{"mru", "auth_protocol", "magic_number", "mrru",
                                            "endpoint_discriminator"});
    auto n = pw.finish();
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(4 + *n)) == l2tpns_real);
}

// ------------------------------------------------------------------ tshark sample

namespace {

// A classic little-endian pcap file, one record per frame.
std::vector<std::byte> pcap_file(std::uint32_t linktype,
                                 const std::vector<std::vector<std::byte>>& frames) {
    std::vector<std::byte> f;
    auto u32 = [&](std::uint32_t v) {
        for (int i = 0; i < 4; ++i)
            f.push_back(static_cast<std::byte>(v >> (8 * i)));
    };
    auto u16 = [&](std::uint16_t v) {
        f.push_back(static_cast<std::byte>(v));
        f.push_back(static_cast<std::byte>(v >> 8));
    };
    u32(0xa1b2c3d4);
    u16(2);
    u16(4);
    u32(0);
    u32(0);
    u32(65535);
    u32(linktype);
    std::uint32_t t = 0;
    for (auto& fr : frames) {
        u32(1700000000u + t++);
        u32(0);
        u32(static_cast<std::uint32_t>(fr.size()));
        u32(static_cast<std::uint32_t>(fr.size()));
        f.insert(f.end(), fr.begin(), fr.end());
    }
    return f;
}

std::vector<std::byte> framed(protocol proto, bytes_view packet, frame_options o = {}) {
    std::vector<std::byte> out(packet.size() + 4);
    auto n = encode_frame(out, proto, packet, o);
    REQUIRE(n);
    out.resize(*n);
    return out;
}

template <class F>
std::vector<std::byte> built(F&& f) {
    std::vector<std::byte> out(512);
    result<std::size_t> n = f(mutable_bytes(out));
    REQUIRE(n);
    out.resize(*n);
    return out;
}

}  // namespace

// Writes what our encoders produce to a pcap for tests/interop/ppp_tshark.sh,
// which checks every field as tshark reads it. Does nothing unless
// L2SEC_PPP_PCAP_OUT names the file (DLT_PPP) and L2SEC_PPP_HDLC_OUT the
// async-HDLC byte streams (one record each, for tshark's ppp_raw_hdlc).
TEST_CASE("tshark sample: every packet kind, as our encoders write it") {
    const char* out_path = std::getenv("L2SEC_PPP_PCAP_OUT");
    const char* hdlc_path = std::getenv("L2SEC_PPP_HDLC_OUT");
    if (!out_path || !hdlc_path) return;
    std::vector<std::vector<std::byte>> frames;
    auto confreq = [](auto... opts) {
        return built([&](mutable_bytes b) {
            packet_writer pw(b, code::configure_request, 1);
            (pw.option(opts), ...);
            return pw.finish();
        });
    };
    // 1: l2tpns-style LCP ConfReq.
    std::array<std::byte, 4> ed_addr{std::byte{127}, std::byte{0}, std::byte{0}, std::byte{1}};
    frames.push_back(framed(
        protocol::lcp, confreq(lcp::mru{1462}, lcp::auth_protocol::pap(),
                               lcp::magic_number{0x6b08dfa6}, lcp::mrru{1614},
                               lcp::endpoint_discriminator{
                                   lcp::endpoint_discriminator::class_type::ip_address, ed_addr})));
    // 2: MRU, ACCM, CHAP-MD5, magic, PFC, ACFC.
    frames.push_back(
        framed(protocol::lcp,
               confreq(lcp::mru{1400}, lcp::accm{0x000a0000}, lcp::auth_protocol::chap_md5(),
                       lcp::magic_number{0x01020304}, lcp::pfc{}, lcp::acfc{})));
    // 3: MS-CHAPv2 auth.
    frames.push_back(framed(protocol::lcp, confreq(lcp::auth_protocol::ms_chap_v2())));
    // 4-8: Echo-Request, Protocol-Reject, Code-Reject, Terminate-Request, Discard.
    frames.push_back(framed(protocol::lcp, built([](mutable_bytes b) {
                                return encode_echo(b, code::echo_request, 9, 0xcafebabe,
                                                   as_bytes("ping"));
                            })));
    frames.push_back(framed(protocol::lcp, built([](mutable_bytes b) {
                                return encode_protocol_reject(b, 10, protocol{0x8281},
                                                              as_bytes("\x01\x02"));
                            })));
    frames.push_back(framed(protocol::lcp, built([](mutable_bytes b) {
                                auto bad = hex("20 05 00 06 aa bb");
                                return encode_code_reject(b, 11, bad);
                            })));
    frames.push_back(framed(protocol::lcp, built([](mutable_bytes b) {
                                return encode_terminate(b, code::terminate_request, 12,
                                                        as_bytes("bye"));
                            })));
    frames.push_back(framed(protocol::lcp, built([](mutable_bytes b) {
                                return encode_echo(b, code::discard_request, 13, 0x11223344);
                            })));
    // 9: IPCP ConfReq, sent without address/control (ACFC).
    frames.push_back(
        framed(protocol::ipcp,
               confreq(ipcp::ip_compression_protocol{}, ipcp::ip_address{0xc0a80002},
                       ipcp::primary_dns{0x08080808}, ipcp::secondary_dns{0x08080404},
                       ipcp::primary_nbns{0x0a000001}, ipcp::secondary_nbns{0x0a000002}),
               {.address_control = false}));
    // 10: IPV6CP ConfReq.
    frames.push_back(
        framed(protocol::ipv6cp, confreq(ipv6cp::interface_identifier{0x021122fffe334455ULL})));
    // 11-12: PAP request, ack.
    frames.push_back(framed(protocol::pap, built([](mutable_bytes b) {
                                return pap::encode_request(b, 20, as_bytes("user"),
                                                           as_bytes("secret"));
                            })));
    frames.push_back(framed(protocol::pap, built([](mutable_bytes b) {
                                return pap::encode_reply(b, pap::code::authenticate_ack, 20,
                                                         as_bytes("welcome"));
                            })));
    // 13-15: CHAP challenge, response, success.
    frames.push_back(framed(protocol::chap, built([](mutable_bytes b) {
                                auto v = hex("00112233445566778899aabbccddeeff");
                                return chap::encode_value(b, chap::code::challenge, 30, v,
                                                          as_bytes("lns"));
                            })));
    frames.push_back(framed(protocol::chap, built([](mutable_bytes b) {
                                auto v = hex("0f0e0d0c0b0a09080706050403020100");
                                return chap::encode_value(b, chap::code::response, 30, v,
                                                          as_bytes("user"));
                            })));
    frames.push_back(framed(protocol::chap, built([](mutable_bytes b) {
                                return chap::encode_result(b, chap::code::success, 30,
                                                           as_bytes("Welcome"));
                            })));
    // 16: IPv4 with ACFC + PFC.
    frames.push_back(framed(protocol::ip,
                            hex("45 00 00 14 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02"),
                            {.address_control = false, .compress_protocol = true}));
    {
        auto file = pcap_file(9, frames);  // LINKTYPE_PPP
        std::ofstream o(out_path, std::ios::binary);
        o.write(reinterpret_cast<const char*>(file.data()),
                static_cast<std::streamsize>(file.size()));
        REQUIRE(o);
    }
    // The same frames in async HDLC framing: FCS-16 / default ACCM, then FCS-32.
    std::vector<std::vector<std::byte>> streams;
    for (auto k : {hdlc::fcs_kind::fcs16, hdlc::fcs_kind::fcs32})
        for (std::size_t i : {0u, 1u, 10u}) {
            std::vector<std::byte> s(hdlc::max_encoded_size(frames[i].size(), k));
            auto n = hdlc::encode(s, frames[i], {.accm = 0xffffffff, .fcs = k});
            REQUIRE(n);
            s.resize(*n);
            streams.push_back(s);
        }
    auto file = pcap_file(147, streams);  // LINKTYPE_USER0, mapped to ppp_raw_hdlc by the script
    std::ofstream o(hdlc_path, std::ios::binary);
    o.write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
    REQUIRE(o);
}

TEST_CASE("encode_option and validate_options outside a packet") {
    std::array<std::byte, 32> out{};
    writer w(out);
    encode_option(w, lcp::mru{1492});
    encode_option(w, ipcp::ip_address{0x0a000001});
    encode_option(w, unknown_option{0x42, as_bytes("xy")});
    encode_option(w, lcp::pfc{});
    auto n = w.finish();
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) ==
          "010405d403060a00000142047879"
          "0702");
    CHECK(validate_options(std::span(out).first(*n), 10));
    check_error(validate_options(hex("01 04 05"), 10).error(), errc::option_overrun, 11);
    check_error(validate_options(hex("01 04 05 d4 07"), 10).error(), errc::option_overrun, 14);
    check_error(validate_options(hex("07 00"), 10).error(), errc::option_length_too_short, 11);
    // The range stops at the first malformed option when used unvalidated.
    auto raw = hex("01 04 05 d4 07 00 08 02");
    std::size_t count = 0;
    for (auto o : option_range(raw)) {
        (void)o;
        ++count;
    }
    CHECK(count == 1);
    auto allocs = l2sec::test::allocations_in([&] {
        writer w2(out);
        encode_option(w2, lcp::accm{0});
        (void)validate_options(raw);
        (void)chap::parse_ms_chap_v2_success(
            as_bytes("S=407A5589115FD0D6209F510FE9C04566932CDA56"));
        std::array<std::byte, 49> v{};
        (void)chap::parse_ms_chap_v2_response(v);
        (void)chap::parse_ms_chap_v2_failure(as_bytes("E=691 R=0 V=3 M=no"));
        (void)ipv6cp::parse_option(option_view{1, bytes_view(v).first(8), 0, {}});
    });
    CHECK(allocs == 0);
}

// ------------------------------------------------------------------ real sessions

namespace {

// Every PPP frame of an L2TP capture: decode it, type every option, re-encode
// it byte for byte, and return "protocol code" per frame in order. `check`
// sees each decoded frame for capture-specific assertions.
template <class Check>
std::vector<std::string> replay_session(const std::string& name, Check&& check) {
    std::ifstream in(std::string(L2SEC_TEST_DATA) + "/" + name, std::ios::binary);
    REQUIRE(in);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes_view file(reinterpret_cast<const std::byte*>(chars.data()), chars.size());
    auto pc = l2sec::pcap::file_view::parse(file);
    REQUIRE(pc);
    std::vector<std::string> seen;
    std::array<std::byte, 1600> out{};
    for (const auto& rec : pc->records()) {
        REQUIRE(rec);
        auto ip = l2sec::pcap::decode_ip_frame(pc->header().link, rec->data);
        if (!ip) continue;
        auto udp = l2sec::pcap::decode_udp(*ip);
        if (!udp || udp->dst_port != 1701) continue;
        auto data = l2sec::l2tp::parse_data(udp->payload);
        if (!data) continue;  // control message
        const std::size_t base = udp->payload_offset + data->payload_offset;
        auto f = decode_frame(data->payload, base);
        REQUIRE(f);
        const std::size_t info_at = base + f->header_size;
        std::string what = protocol_name(f->protocol);
        writer hw(out);
        REQUIRE(
            encode_frame_header(hw, f->protocol, {f->has_address_control, f->protocol_compressed}));
        auto tail = std::span(out).subspan(*hw.finish());
        result<std::size_t> n = std::size_t{0};
        if (f->protocol == protocol::pap) {
            auto p = pap::decode(f->information, info_at);
            REQUIRE(p);
            what += std::string(" ") + pap::code_name(p->code);
            check(*f, *p);
            if (p->code == pap::code::authenticate_request)
                n = pap::encode_request(tail, p->identifier, p->peer_id, p->password);
            else
                n = pap::encode_reply(tail, p->code, p->identifier, p->message);
        } else if (f->protocol == protocol::chap) {
            auto p = chap::decode(f->information, info_at);
            REQUIRE(p);
            what += std::string(" ") + chap::code_name(p->code);
            check(*f, *p);
            if (p->code == chap::code::challenge || p->code == chap::code::response)
                n = chap::encode_value(tail, p->code, p->identifier, p->value, p->name);
            else
                n = chap::encode_result(tail, p->code, p->identifier, p->message);
        } else {
            auto p = decode_control(f->protocol, f->information, info_at);
            REQUIRE(p);
            what += std::string(" ") + code_name(f->protocol, p->code);
            check(*f, *p);
            packet_writer pw(tail, p->code, p->identifier);
            if (p->is_configure()) {
                for (auto raw : p->options()) {
                    auto ok = visit_option(f->protocol, raw, [&](const auto& o) { pw.option(o); });
                    REQUIRE(ok);
                }
            } else {
                pw.bytes(p->data);
            }
            n = pw.finish();
        }
        REQUIRE(n);
        CHECK(to_hex(std::span(out).first(f->header_size + *n)) == to_hex(data->payload));
        seen.push_back(what);
    }
    return seen;
}

}  // namespace

// tests/data/l2tpns_ppp.pcap: a whole PPP session with the real l2tpns LNS
// (LCP with Configure-Reject, PAP, IPCP with a DNS Nak, Terminate).
TEST_CASE("real l2tpns PPP session (PAP): every frame decodes and re-encodes byte for byte") {
    int checked = 0;
    auto seen = replay_session("l2tpns_ppp.pcap", [&](const frame_view& f, const auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, pap::packet_view>) {
            if (p.code == pap::code::authenticate_request) {
                CHECK(as_chars(p.peer_id) == "l2sec");
                CHECK(as_chars(p.password) == "secret");
            } else {
                CHECK(p.message.empty());  // l2tpns: Msg-Length 0
            }
            ++checked;
        } else if constexpr (std::is_same_v<P, packet_view>) {
            if (f.protocol == protocol::ipcp && p.code == code::configure_nak) {
                // l2tpns assigns the address and both DNS servers.
                std::vector<std::uint32_t> v;
                for (auto raw : p.options())
                    (void)visit_option(f.protocol, raw, [&](const auto& o) {
                        using T = std::decay_t<decltype(o)>;
                        if constexpr (std::is_same_v<T, ipcp::ip_address> ||
                                      std::is_same_v<T, ipcp::primary_dns> ||
                                      std::is_same_v<T, ipcp::secondary_dns>)
                            v.push_back(o.address);
                    });
                CHECK(v == std::vector<std::uint32_t>{0x0a0a0a01, 0x0a000001, 0x0a000002});
                ++checked;
            }
        }
    });
    CHECK(checked == 3);
    CHECK(seen == std::vector<std::string>{
                      "lcp configure_request", "lcp configure_request", "lcp configure_ack",
                      "lcp configure_request", "lcp configure_reject", "lcp configure_request",
                      "lcp configure_ack", "pap authenticate_request", "pap authenticate_ack",
                      "ipcp configure_request", "ipcp configure_ack", "ipcp configure_request",
                      "ipcp configure_nak", "ipcp configure_request", "ipcp configure_ack",
                      "lcp terminate_request", "lcp terminate_ack"});
}

// tests/data/l2tpns_chap.pcap: l2tpns as CHAP-MD5 authenticator, then its
// LCP Echo-Request keepalive.
TEST_CASE("real l2tpns PPP session (CHAP-MD5, Echo): every frame decodes and re-encodes") {
    int checked = 0;
    auto seen = replay_session("l2tpns_chap.pcap", [&](const frame_view& f, const auto& p) {
        using P = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<P, chap::packet_view>) {
            if (p.code == chap::code::challenge || p.code == chap::code::response) {
                CHECK(p.value.size() == 16);  // MD5 challenge / digest
                ++checked;
            }
        } else if constexpr (std::is_same_v<P, packet_view>) {
            if (f.protocol == protocol::lcp && p.code == code::echo_request) {
                CHECK(p.magic_number() == 0x6b08e624);
                ++checked;
            }
            if (f.protocol == protocol::lcp && p.code == code::configure_request) {
                for (auto raw : p.options())
                    if (auto o = lcp::parse_option(raw))
                        if (auto* a = std::get_if<lcp::auth_protocol>(&*o)) {
                            CHECK(*a == lcp::auth_protocol::chap_md5());
                            ++checked;
                        }
            }
        }
    });
    CHECK(checked >= 4);
    CHECK(seen == std::vector<std::string>{
                      "lcp configure_request",  "lcp configure_request",  "lcp configure_ack",
                      "lcp configure_request",  "lcp configure_reject",   "lcp configure_request",
                      "lcp configure_ack",      "chap challenge",         "chap response",
                      "chap success",           "ipcp configure_request", "ipcp configure_ack",
                      "ipcp configure_request", "ipcp configure_nak",     "ipcp configure_request",
                      "ipcp configure_ack",     "lcp echo_request",       "lcp echo_reply",
                      "lcp terminate_request",  "lcp terminate_ack"});
}
