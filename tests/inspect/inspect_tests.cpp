// The JSON printers of l2sec-inspect (examples/inspect/): exact output for
// real and malformed inputs, errors with layer, message and frame offset.
#include <doctest/doctest.h>

#include "../../examples/inspect/l2tp_json.hpp"
#include "../../examples/inspect/ppp_json.hpp"

#include <l2sec/crypto/portable.hpp>
#include <l2sec/pcap.hpp>

#include "support/hex.hpp"

#include <string>

using namespace l2sec;
using l2sec::test::hex;
namespace in = l2sec::inspect;

namespace {

/// What l2sec-inspect prints for an L2TP payload found at frame offset `base`.
std::string l2tp_line(bytes_view payload, std::size_t base = 42, const in::settings& s = {}) {
    in::json_writer j;
    j.begin_object();
    in::packet_context c{j, s, std::nullopt};
    in::print_l2tp(c, payload, base);
    c.write_error();
    j.end_object();
    return j.str();
}

}  // namespace

TEST_CASE("json writer: escaping, UTF-8 kept, invalid bytes as \\u00XX, hex and numbers") {
    in::json_writer j;
    j.begin_object()
        .field("s", std::string_view("a\"b\\c\n\x01\x7f"))
        .field_text("u", as_bytes("caf\xc3\xa9"))
        .field_text("bad", as_bytes("\xe9\xff"))
        .field_hex("h", as_bytes("\x01\xab"))
        .field("n", std::uint32_t{4294967295u})
        .field("b", false)
        .begin_array("a")
        .value(1)
        .null()
        .begin_object()
        .end_object()
        .end_array()
        .key("ip")
        .ipv4(0x0a000102)
        .end_object();
    CHECK(
        j.str() ==
        "{\"s\":\"a\\\"b\\\\c\\n\\u0001\\u007f\",\"u\":\"caf\xc3\xa9\",\"bad\":\"\\u00e9\\u00ff\","
        "\"h\":\"01ab\",\"n\":4294967295,\"b\":false,\"a\":[1,null,{}],\"ip\":\"10.0.1.2\"}");
}

TEST_CASE("real xl2tpd capture: the SCCRQ line") {
    auto data = pcap::load_file(std::string(L2SEC_TEST_DATA) + "/xl2tpd_lns.pcap");
    REQUIRE(data.has_value());
    auto f = pcap::file_view::parse(*data);
    REQUIRE(f.has_value());
    auto rec = f->records().begin();
    REQUIRE(rec->has_value());
    auto ip = pcap::decode_ip_frame(f->header().link, (*rec)->data);
    REQUIRE(ip.has_value());
    auto u = pcap::decode_udp(*ip);
    REQUIRE(u.has_value());
    CHECK(
        l2tp_line(u->payload, u->payload_offset) ==
        R"({"l2tp":{"type":"SCCRQ","tunnel_id":0,"session_id":0,"ns":0,"nr":0,"avps":[)"
        R"({"type":0,"vendor":0,"mandatory":true,"hidden":false,"name":"Message Type","value":1},)"
        R"({"type":2,"vendor":0,"mandatory":true,"hidden":false,"name":"Protocol Version","value":{"version":1,"revision":0}},)"
        R"({"type":3,"vendor":0,"mandatory":true,"hidden":false,"name":"Framing Capabilities","value":3},)"
        R"({"type":4,"vendor":0,"mandatory":true,"hidden":false,"name":"Bearer Capabilities","value":0},)"
        R"({"type":6,"vendor":0,"mandatory":false,"hidden":false,"name":"Firmware Revision","value":1680},)"
        R"({"type":7,"vendor":0,"mandatory":true,"hidden":false,"name":"Host Name","value":"vm"},)"
        R"({"type":8,"vendor":0,"mandatory":false,"hidden":false,"name":"Vendor Name","value":"xelerance.com"},)"
        R"({"type":9,"vendor":0,"mandatory":true,"hidden":false,"name":"Assigned Tunnel ID","value":13831},)"
        R"({"type":10,"vendor":0,"mandatory":true,"hidden":false,"name":"Receive Window Size","value":4}]}})");
}

TEST_CASE("ZLB and a data message with an LCP Echo-Request") {
    CHECK(l2tp_line(hex("c802 000c 0001 0002 0003 0004")) ==
          R"({"l2tp":{"type":"ZLB","tunnel_id":1,"session_id":2,"ns":3,"nr":4,"avps":[]}})");
    CHECK(
        l2tp_line(hex("0002 0001 0002 ff03 c021 0907 000a 12345678 6869")) ==
        R"({"l2tp":{"type":"data","tunnel_id":1,"session_id":2},)"
        R"("ppp":{"protocol":"lcp","code":"echo_request","id":7,"magic":305419896,"data":"6869"}})");
    // IP inside PPP: just the protocol number and the length
    CHECK(
        l2tp_line(hex("0002 0001 0002 21 4500")) ==
        R"({"l2tp":{"type":"data","tunnel_id":1,"session_id":2},"ppp":{"protocol":"0x0021","length":2}})");
}

TEST_CASE("L2TP errors: code text and frame offset") {
    // AVP Length 0x10 runs past the 20-byte message: error at the AVP (12) + base 42
    CHECK(l2tp_line(hex("c802 0014 0001 0000 0000 0000 8010 0000 0000 0001")) ==
          R"({"error":{"layer":"l2tp","code":"AVP length overruns the message","offset":54}})");
    // header Length beyond the datagram
    CHECK(l2tp_line(hex("c802 4280 0001 0000 0000 0000"), 0) ==
          R"({"error":{"layer":"l2tp","code":"header length exceeds the datagram","offset":2}})");
    // an Assigned Tunnel ID of 3 octets: printed in hex, error at the AVP
    CHECK(
        l2tp_line(hex("c802 001d 0001 0000 0000 0000 8008 0000 0000 0001"
                      "8009 0000 0009 000102")) ==
        R"({"l2tp":{"type":"SCCRQ","tunnel_id":1,"session_id":0,"ns":0,"nr":0,"avps":[)"
        R"({"type":0,"vendor":0,"mandatory":true,"hidden":false,"name":"Message Type","value":1},)"
        R"({"type":9,"vendor":0,"mandatory":true,"hidden":false,"name":"Assigned Tunnel ID","value":"000102"}]},)"
        R"("error":{"layer":"l2tp","code":"AVP is incorrect size","offset":62}})");
}

TEST_CASE("PPP errors: bad option length, truncated frame") {
    // MRU with length 3: the option is printed raw and the error points at its Length byte
    CHECK(l2tp_line(hex("0002 0001 0002 ff03 c021 0101 0007 0103 05")) ==
          R"({"l2tp":{"type":"data","tunnel_id":1,"session_id":2},)"
          R"("ppp":{"protocol":"lcp","code":"configure_request","id":1,"options":[)"
          R"({"type":1,"name":"mru","value":"05"}]},)"
          R"("error":{"layer":"ppp","code":"option length invalid for its type","offset":57}})");
    // PPP frame cut inside the protocol field
    CHECK(l2tp_line(hex("0002 0001 0002 ff03 c0")) ==
          R"({"l2tp":{"type":"data","tunnel_id":1,"session_id":2},)"
          R"("error":{"layer":"ppp","code":"input truncated","offset":50}})");
    // LCP Length beyond the data: the frame's protocol is printed, then the error
    CHECK(l2tp_line(hex("0002 0001 0002 ff03 c021 0101 0020")) ==
          R"({"l2tp":{"type":"data","tunnel_id":1,"session_id":2},"ppp":{"protocol":"lcp"},)"
          R"("error":{"layer":"ppp","code":"packet length exceeds the data","offset":54}})");
}

TEST_CASE("hidden AVPs: hex without a secret, unhidden with it") {
    // The hidden value is computed here from RFC 2661 4.3 directly (one MD5
    // block, not l2tp::hide): secret "sec", Random Vector 01020304, Calling
    // Number (22) "1234": hidden = MD5(00 16 | "sec" | 01020304) XOR (0004 "1234").
    std::array<std::byte, 16> key{};
    {
        auto h = crypto::portable::make_hash(crypto::hash_id::md5);
        REQUIRE(h);
        crypto::digest(*h, key, hex("0016"), as_bytes("sec"), hex("01020304"));
    }
    auto plain = hex("0004 31323334");
    std::vector<std::byte> msg =
        hex("c802 0000 0001 0000 0000 0000 8008 0000 0000 000a"
            "800a 0000 0024 01020304 c00c 0000 0016");
    for (std::size_t i = 0; i < plain.size(); ++i)
        msg.push_back(plain[i] ^ key[i]);
    msg[3] = static_cast<std::byte>(msg.size());
    auto line = l2tp_line(msg);
    CHECK(line.find(R"("hidden":true,"name":"Calling Number","value":")") != std::string::npos);
    CHECK(line.find(R"("value":"1234")") == std::string::npos);
    in::settings s;
    s.l2tp_secret = "sec";
    CHECK(
        l2tp_line(msg, 42, s)
            .find(
                R"({"type":22,"vendor":0,"mandatory":true,"hidden":true,"name":"Calling Number","value":"1234"})") !=
        std::string::npos);
}
