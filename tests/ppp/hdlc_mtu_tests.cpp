// RFC 1662 async HDLC framing and the L2TP/IPsec MTU/MRU arithmetic.
//
// FCS known answers are independent of our code:
//  * the CRC catalogue check values for "123456789": CRC-16/X-25 (PPP FCS-16)
//    0x906E with residue 0xF0B8, CRC-32 (PPP FCS-32) 0xCBF43926 with residue
//    0xDEBB20E3 (the "good FCS" constants of RFC 1662 appendix C);
//  * the framed LCP Configure-Request below, computed with /usr/bin/python3:
//
//      import zlib
//      def fcs16(data):                       # RFC 1662 C.2, bit by bit
//          crc = 0xffff
//          for b in data:
//              crc ^= b
//              for _ in range(8):
//                  crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
//          return crc
//      def esc(data, accm):                   # RFC 1662 4.2 / 7.1
//          out = bytearray()
//          for b in data:
//              if b in (0x7e, 0x7d) or (b < 0x20 and (accm >> b) & 1):
//                  out += bytes([0x7d, b ^ 0x20])
//              else:
//                  out.append(b)
//          return bytes(out)
//      frame = bytes.fromhex("ff03c02101010014020600000000050612345678070208 02")
//      f = fcs16(frame) ^ 0xffff                       # 0xef4c
//      enc16 = b"\x7e" + esc(frame + bytes([f & 0xff, f >> 8]), 0xffffffff) + b"\x7e"
//      c = zlib.crc32(frame)                           # 0x7eae04f1
//      enc32 = b"\x7e" + esc(frame + c.to_bytes(4, "little"), 0xffffffff) + b"\x7e"
#include <doctest/doctest.h>

#include <l2sec/ppp.hpp>

#include "support/alloc_counter.hpp"
#include "support/hex.hpp"

#include <array>
#include <string>
#include <vector>

using l2sec::as_bytes;
using l2sec::bytes_view;
using l2sec::test::hex;
using l2sec::test::to_hex;
using namespace l2sec::ppp;

namespace {

constexpr const char* lcp_frame = "ff03c021010100140206000000000506123456780702 0802";
constexpr const char* lcp_enc16 =
    "7eff7d23c0217d217d217d207d347d227d267d207d207d207d207d257d267d323456787d277d227d287d22"
    "4cef7e";
constexpr const char* lcp_enc32 =
    "7eff7d23c0217d217d217d207d347d227d267d207d207d207d207d257d267d323456787d277d227d287d22"
    "f17d24ae7d5e7e";
constexpr const char* lcp_enc16_accm0 = "7eff03c02101010014020600000000050612345678070208024cef7e";

// Feed `stream` in chunks of `chunk` bytes; collect frames (hex) and events.
struct collected {
    std::vector<std::string> frames;
    std::vector<hdlc::event> errors;
    std::vector<std::size_t> offsets;
};
collected feed_all(hdlc::decoder& dec, bytes_view stream, std::size_t chunk) {
    collected c;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
        bytes_view in = stream.subspan(at, std::min(chunk, stream.size() - at));
        while (!in.empty()) {
            auto r = dec.feed(in);
            REQUIRE(r.consumed <= in.size());
            REQUIRE((r.consumed > 0 || in.empty()));
            in = in.subspan(r.consumed);
            if (r.what == hdlc::event::frame)
                c.frames.push_back(to_hex(r.frame));
            else if (r.what != hdlc::event::need_more) {
                c.errors.push_back(r.what);
                c.offsets.push_back(r.offset);
            }
        }
    }
    return c;
}

}  // namespace

TEST_CASE("FCS-16/FCS-32: CRC catalogue check values and RFC 1662 good-FCS residues") {
    auto s = as_bytes("123456789");
    CHECK((hdlc::fcs16(s) ^ 0xffff) == 0x906e);
    CHECK((hdlc::fcs32(s) ^ 0xffffffffu) == 0xcbf43926u);
    // Appending the complemented FCS little-endian leaves the good residue.
    std::vector<std::byte> with(s.begin(), s.end());
    with.push_back(std::byte{0x6e});
    with.push_back(std::byte{0x90});
    CHECK(hdlc::fcs16(with) == hdlc::fcs16_good);
    std::vector<std::byte> with32(s.begin(), s.end());
    for (auto b : {0x26, 0x39, 0xf4, 0xcb})
        with32.push_back(std::byte(b));
    CHECK(hdlc::fcs32(with32) == hdlc::fcs32_good);
    // The tables are compile-time constants.
    static_assert(hdlc::detail::fcs16_table[1] == 0x1189);
    static_assert(hdlc::detail::fcs32_table[1] == 0x77073096u);
    static_assert(hdlc::fcs16_update(0xffff, 0) != 0);
}

TEST_CASE("FCS: the sliced computation equals the byte-wise one for every length and offset") {
    std::vector<std::byte> d(300);
    for (std::size_t i = 0; i < d.size(); ++i)
        d[i] = static_cast<std::byte>((i * 151 + 13) ^ (i >> 3));
    for (std::size_t off = 0; off < 4; ++off)
        for (std::size_t n = 0; n + off <= 120; ++n) {
            bytes_view v = bytes_view(d).subspan(off, n);
            std::uint16_t f16 = hdlc::fcs16_init;
            std::uint32_t f32 = hdlc::fcs32_init;
            for (auto b : v) {
                f16 = hdlc::fcs16_update(f16, std::to_integer<std::uint8_t>(b));
                f32 = hdlc::fcs32_update(f32, std::to_integer<std::uint8_t>(b));
            }
            CHECK(hdlc::fcs16(v) == f16);
            CHECK(hdlc::fcs32(v) == f32);
        }
    // Usable in constant expressions.
    constexpr std::array<std::byte, 9> check{std::byte{'1'}, std::byte{'2'}, std::byte{'3'},
                                             std::byte{'4'}, std::byte{'5'}, std::byte{'6'},
                                             std::byte{'7'}, std::byte{'8'}, std::byte{'9'}};
    static_assert((hdlc::fcs16(check) ^ 0xffff) == 0x906e);
    static_assert((hdlc::fcs32(check) ^ 0xffffffffu) == 0xcbf43926u);
}

TEST_CASE("HDLC encode: escapes per ACCM, FCS-16/32 little-endian, flags") {
    auto frame = hex(lcp_frame);
    std::array<std::byte, 128> out{};
    auto n = hdlc::encode(out, frame);
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == lcp_enc16);
    n = hdlc::encode(out, frame, {.accm = 0xffffffff, .fcs = hdlc::fcs_kind::fcs32});
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == lcp_enc32);  // FCS byte 0x7e escaped too
    n = hdlc::encode(out, frame, {.accm = 0});
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == lcp_enc16_accm0);
    n = hdlc::encode(out, frame, {.accm = 0, .leading_flag = false});
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)) == std::string(lcp_enc16_accm0).substr(2));
    // ACCM bit 0x11 only (XON): only that control character is escaped, and 7D/7E always.
    auto data = hex("11 13 7d 7e 20");
    n = hdlc::encode(out, data, {.accm = 1u << 0x11, .leading_flag = false});
    REQUIRE(n);
    CHECK(to_hex(std::span(out).first(*n)).substr(0, 14) == "7d31137d5d7d5e");
    CHECK(hdlc::max_encoded_size(10) == 26);

    std::array<std::byte, 10> small{};
    auto e = hdlc::encode(small, frame);
    REQUIRE_FALSE(e);
    CHECK(e.error() == l2sec::errc::buffer_too_small);
    CHECK(e.error().offset == 10);  // the escaped pair at 10-11 no longer fits
}

TEST_CASE("HDLC decoder: the known frames, fed in every chunk size") {
    auto s16 = hex(lcp_enc16);
    auto s32 = hex(lcp_enc32);
    for (std::size_t chunk = 1; chunk <= s16.size(); ++chunk) {
        std::array<std::byte, 64> buf{};
        hdlc::decoder dec(buf);
        auto c = feed_all(dec, s16, chunk);
        REQUIRE(c.frames.size() == 1);
        CHECK(c.frames[0] == to_hex(hex(lcp_frame)));
        CHECK(c.errors.empty());
        hdlc::decoder dec32(buf, hdlc::fcs_kind::fcs32);
        auto c32 = feed_all(dec32, s32, chunk);
        REQUIRE(c32.frames.size() == 1);
        CHECK(c32.frames[0] == to_hex(hex(lcp_frame)));
    }
    // Without a leading flag, with shared flags between frames, and idle flags.
    auto two = hex(std::string("7e7e7e") + std::string(lcp_enc16_accm0).substr(2) +
                   std::string(lcp_enc16).substr(2) + "7e7e");
    std::array<std::byte, 64> buf{};
    hdlc::decoder dec(buf);
    auto c = feed_all(dec, two, 7);
    CHECK(c.frames.size() == 2);
    CHECK(c.errors.empty());
    CHECK(dec.stream_offset() == two.size());
}

TEST_CASE("HDLC decoder: bad FCS, too long, abort, runt, with stream offsets") {
    std::array<std::byte, 64> buf{};
    {
        hdlc::decoder dec(buf);
        auto s = hex(lcp_enc16_accm0);
        s[10] ^= std::byte{0x01};  // flip one bit in the information field
        auto c = feed_all(dec, s, 5);
        CHECK(c.frames.empty());
        REQUIRE(c.errors.size() == 1);
        CHECK(c.errors[0] == hdlc::event::bad_fcs);
        CHECK(c.offsets[0] == s.size() - 1);
    }
    {
        std::array<std::byte, 20> tiny{};  // 25-byte frame + FCS does not fit
        hdlc::decoder dec(tiny);
        auto s = hex(lcp_enc16_accm0);
        auto r = dec.feed(s);
        CHECK(r.what == hdlc::event::too_long);
        CHECK(r.consumed == s.size());
        auto e = r.error();
        CHECK(e == errc::frame_too_long);
        CHECK(e.offset == s.size() - 1);
        // The decoder resynchronises: the next frame is fine if it fits.
        auto next = hex("21 45 00 00");  // IP, 3 bytes + a valid FCS
        std::array<std::byte, 16> enc{};
        auto n = hdlc::encode(enc, bytes_view(next).first(3), {.leading_flag = false});
        REQUIRE(n);
        auto r2 = dec.feed(bytes_view(enc).first(*n));
        CHECK(r2.what == hdlc::event::frame);
        CHECK(to_hex(r2.frame) == "214500");
    }
    {
        hdlc::decoder dec(buf);
        auto s = hex("7e ff 03 c0 21 7d 7e ff 03 00 21 7e");  // abort, then a 4-byte bad frame
        auto c = feed_all(dec, s, 3);
        REQUIRE(c.errors.size() == 2);
        CHECK(c.errors[0] == hdlc::event::aborted);
        CHECK(c.offsets[0] == 6);
        CHECK(c.errors[1] == hdlc::event::bad_fcs);
        CHECK(c.offsets[1] == 11);
    }
    {
        hdlc::decoder dec(buf);
        auto s = hex("7e 01 02 03 7e 7e 7d 7e");
        auto c = feed_all(dec, s, 100);
        REQUIRE(c.errors.size() == 2);
        CHECK(c.errors[0] == hdlc::event::runt);
        CHECK(c.offsets[0] == 4);
        CHECK(c.errors[1] == hdlc::event::aborted);
        hdlc::decoder d32(buf, hdlc::fcs_kind::fcs32);
        auto s32 = hex("7e 01 02 03 04 05 7e");
        auto c32 = feed_all(d32, s32, 100);
        REQUIRE(c32.errors.size() == 1);
        CHECK(c32.errors[0] == hdlc::event::runt);
        auto r = hdlc::feed_result{hdlc::event::runt, 0, {}, 4}.error();
        CHECK(r == errc::runt_frame);
        CHECK(r.message() == "l2sec.ppp: frame too short (HDLC frame) at offset 4");
    }
}

TEST_CASE("HDLC decoder: unescaped characters in the receive ACCM are dropped (RFC 1662 7.1)") {
    auto s = hex(lcp_enc16);
    std::vector<std::byte> noisy;
    for (std::size_t i = 0; i < s.size(); ++i) {
        noisy.push_back(s[i]);
        if (i % 5 == 2) noisy.push_back(std::byte{0x11});  // XON inserted by the DCE
    }
    std::array<std::byte, 64> buf{};
    hdlc::decoder dec(buf, hdlc::fcs_kind::fcs16, 0xffffffff);
    auto c = feed_all(dec, noisy, 4);
    REQUIRE(c.frames.size() == 1);
    CHECK(c.frames[0] == to_hex(hex(lcp_frame)));
}

TEST_CASE("HDLC encode -> decode round trip of a 1500-byte frame of every byte value") {
    std::vector<std::byte> frame(1500);
    for (std::size_t i = 0; i < frame.size(); ++i)
        frame[i] = static_cast<std::byte>(i * 7);
    std::vector<std::byte> enc(hdlc::max_encoded_size(frame.size(), hdlc::fcs_kind::fcs32));
    std::vector<std::byte> buf(1504);
    for (auto k : {hdlc::fcs_kind::fcs16, hdlc::fcs_kind::fcs32})
        for (std::uint32_t accm : {0u, 0xffffffffu, 0x000a0000u}) {
            auto n = hdlc::encode(enc, frame, {.accm = accm, .fcs = k});
            REQUIRE(n);
            hdlc::decoder dec(buf, k);
            auto c = feed_all(dec, bytes_view(enc).first(*n), 13);
            REQUIRE(c.frames.size() == 1);
            CHECK(c.frames[0] == to_hex(frame));
        }
}

TEST_CASE("HDLC encode and decode allocate nothing") {
    std::vector<std::byte> frame(1500, std::byte{0x7e});
    std::vector<std::byte> enc(hdlc::max_encoded_size(frame.size()));
    std::vector<std::byte> buf(1502);
    std::size_t frames = 0;
    auto allocs = l2sec::test::allocations_in([&] {
        auto n = hdlc::encode(enc, frame);
        hdlc::decoder dec(buf);
        bytes_view in = bytes_view(enc).first(*n);
        while (!in.empty()) {
            auto r = dec.feed(in.first(std::min<std::size_t>(in.size(), 100)));
            in = in.subspan(r.consumed);
            if (r.what == hdlc::event::frame) ++frames;
        }
    });
    CHECK(allocs == 0);
    CHECK(frames == 1);
}

// ------------------------------------------------------------------ MTU

TEST_CASE("MRU for L2TP/IPsec: worked examples") {
    // 1500-byte link, IPv4, NAT-T, AES-CBC + HMAC-SHA1-96:
    //   fixed  = IP 20 + UDP-encap 8 + ESP 8 + IV 16 + ICV 12 = 64
    //   room   = 1500 - 64 = 1436 -> 1424 after aligning to 16
    //   inner  = 1424 - trailer 2 = 1422 = UDP 8 + L2TP 6 + PPP 4 + 1404
    link_params p;
    p.nat_traversal = true;
    CHECK(max_mru(p) == 1404);
    CHECK(wire_size(1404, p) == 1488);
    CHECK(wire_size(1405, p) == 1504);  // one more byte needs another block
    CHECK(overhead(1404, p) == 84);
    // Without NAT-T: fixed 56, room 1444 -> 1440, MRU 1420.
    p.nat_traversal = false;
    CHECK(max_mru(p) == 1420);
    // AES-GCM-16 (IV 8, ICV 16, 4-byte alignment) with NAT-T: fixed 60 -> 1440 -> 1420.
    p.nat_traversal = true;
    p.esp = esp_params::aes_gcm_16();
    CHECK(max_mru(p) == 1420);
    // 3DES-CBC + HMAC-SHA1-96 (IV 8, ICV 12, align 8) with NAT-T: fixed 56, room 1444
    // -> 1440 -> inner 1438 -> MRU 1420.
    p.esp = esp_params::des3_cbc_hmac_sha1_96();
    CHECK(max_mru(p) == 1420);
    p.nat_traversal = false;  // fixed 48, room 1452 -> 1448 -> 1428
    CHECK(max_mru(p) == 1428);
    p.nat_traversal = true;
    // AES-CBC + SHA-256-128, IPv6 outer, NAT-T, L2TP length + sequence, ACFC + PFC:
    //   fixed 40+8+8+16+16 = 88, room 1412 -> 1408, inner 1406 = 8 + 12 + 1 + 1385.
    p.esp = esp_params::aes_cbc_hmac_sha256_128();
    p.outer_ipv6 = true;
    p.l2tp_length = true;
    p.l2tp_sequence = true;
    p.ppp_address_control = false;
    p.ppp_protocol_compressed = true;
    CHECK(l2tp_header_size(p) == 12);
    CHECK(ppp_header_size(p) == 1);
    CHECK(max_mru(p) == 1385);
    CHECK(wire_size(1385, p) <= 1500);
    CHECK(wire_size(1386, p) > 1500);
    // A PPPoE-sized link (1492), NAT-T, AES-CBC: room 1492 - 64 = 1428 -> 1424 -> 1404,
    // within DESIGN.md's 1200-1450 band.
    link_params q;
    q.link_mtu = 1492;
    q.nat_traversal = true;
    CHECK(max_mru(q) == 1404);
    q.link_mtu = 1280;  // IPv6 minimum link: 1216 -> 1216 -> 1196
    CHECK(max_mru(q) == 1196);
    // Nothing fits.
    q.link_mtu = 60;
    CHECK(max_mru(q) == 0);
    q.link_mtu = 90;
    CHECK(max_mru(q) == 0);
    static_assert(max_mru(link_params{}) == 1420);
    // ESP tunnel mode adds the inner IPv4 header: 1424 - 2 - (20 + 8 + 6 + 4) = 1384.
    link_params t;
    t.nat_traversal = true;
    t.tunnel_mode = true;
    CHECK(max_mru(t) == 1384);
    CHECK(wire_size(1384, t) == 1488);
}

TEST_CASE("max_mru is the largest size that fits, for many links and ciphers") {
    for (std::size_t mtu = 576; mtu <= 9000; mtu += 37)
        for (auto e : {esp_params::aes_cbc_hmac_sha1_96(), esp_params::aes_gcm_16(),
                       esp_params::des3_cbc_hmac_sha1_96()})
            for (bool natt : {false, true}) {
                link_params p;
                p.link_mtu = mtu;
                p.esp = e;
                p.nat_traversal = natt;
                auto m = max_mru(p);
                REQUIRE(m > 0);
                CHECK(wire_size(m, p) <= mtu);
                CHECK(wire_size(m + 1u, p) > mtu);
            }
}
