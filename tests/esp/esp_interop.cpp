// Helpers for the ESP interop scripts (tests/interop/esp_*.sh). Without their
// environment variables these cases do nothing.
//
//  L2SEC_ESP_PCAP_OUT=dir : write dir/esp.pcap (raw IP, tunnel mode; ESP over
//      IPv4 192.0.2.1 -> .2, in UDP 4500 over IPv4, and over IPv6 2001:db8::1
//      -> ::2) protected by l2sec for every suite, and dir/esp.keys
//      ("spi suite enckeyhex integkeyhex variant" per SA, variant 0/1/2 in that
//      order) for tshark's uat:esp_sa.
//  L2SEC_ESP_VECTORS=file : open ESP packets produced by another
//      implementation; one per line:
//      "suite spi esn enckeyhex integkeyhex packethex payloadhex next_header seq"
//      ('-' for an empty key).
#include <doctest/doctest.h>

#include <l2sec/crypto/botan.hpp>
#include <l2sec/esp.hpp>

#include "support/hex.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace l2sec;
using l2sec::test::hex;
using l2sec::test::to_hex;

namespace {

void put32le(std::ofstream& f, std::uint32_t v) {
    char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                 static_cast<char>(v >> 24)};
    f.write(b, 4);
}
void put16le(std::ofstream& f, std::uint16_t v) {
    char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
    f.write(b, 2);
}

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::byte>((seed * 31 + 17 * i) & 0xff);
    return v;
}

}  // namespace

TEST_CASE("interop: write l2sec-protected ESP packets to a pcap") {
    const char* dir = std::getenv("L2SEC_ESP_PCAP_OUT");
    if (!dir) return;
    std::ofstream pcap(std::string(dir) + "/esp.pcap", std::ios::binary);
    std::ofstream keys(std::string(dir) + "/esp.keys");
    REQUIRE(pcap);
    put32le(pcap, 0xa1b2c3d4);
    put16le(pcap, 2);
    put16le(pcap, 4);
    put32le(pcap, 0);
    put32le(pcap, 0);
    put32le(pcap, 65535);
    put32le(pcap, 101);  // LINKTYPE_RAW
    const char* suites[] = {"aes128-gcm",        "aes256-gcm",        "aes128-cbc-sha1",
                            "aes256-cbc-sha256", "aes192-cbc-sha384", "aes256-cbc-sha512",
                            "aes128-cbc-md5",    "null-sha1",         "null-sha256",
                            "chacha20-poly1305"};
    auto src = hex("c0000201"), dst = hex("c0000202");
    auto src6 = hex("20010db8000000000000000000000001"),
         dst6 = hex("20010db8000000000000000000000002");
    std::uint32_t spi = 0x1000;
    std::uint32_t t = 1;
    for (const char* name : suites) {
        for (int variant : {0, 1, 2}) {  // raw ESP over IPv4, ESP in UDP 4500, raw ESP over IPv6
            bool udp = variant == 1;
            bool v6 = variant == 2;
            auto s = *esp::parse_suite(name);
            auto ek = pattern(s.enc_keymat_size(), spi);
            auto ik = pattern(esp::integrity_key_size(s.integ), spi + 7);
            esp::sa_config c;
            c.spi = spi;
            c.algorithms = s;
            c.enc_key = ek;
            c.integ_key = ik;
            c.mode = esp::mode::tunnel;
            auto out = esp::sa<crypto::botan>::make(c);
            REQUIRE(out);
            keys << std::hex << "0x" << spi << std::dec << ' ' << name << ' '
                 << (ek.empty() ? "-" : to_hex(ek)) << ' ' << (ik.empty() ? "-" : to_hex(ik)) << ' '
                 << variant << '\n';
            for (std::size_t n : {1u, 20u, 333u}) {
                // Inner IPv4/UDP 10.1.0.1 -> 10.2.0.1: the 20-byte packet is an
                // L2TP Hello (RFC 2661) on port 1701, the others filler to port 9.
                std::vector<std::byte> body = pattern(n, static_cast<unsigned>(n));
                std::uint16_t port = 9;
                if (n == 20) {
                    body = hex("c802 0014 0001 0000 0000 0000 8008 0000 0000 0006");
                    port = 1701;
                }
                std::vector<std::byte> buf(128 + 28 + n + 64);
                auto inner = mutable_bytes(buf).subspan(128, 28 + n);
                auto h = esp::write_ip_header(inner, hex("0a010001"), hex("0a020001"), 17, 8 + n);
                REQUIRE(h);
                store_be16(inner.data() + 20, port);
                store_be16(inner.data() + 22, port);
                store_be16(inner.data() + 24, static_cast<std::uint16_t>(8 + n));
                store_be16(inner.data() + 26, 0);
                std::copy(body.begin(), body.end(), inner.begin() + 28);
                auto e = out->protect(buf, 128, inner.size(), esp::proto::ipv4);
                REQUIRE(e);
                std::size_t esp_off = static_cast<std::size_t>(e->data() - buf.data());
                mutable_bytes l4 = *e;
                std::uint8_t proto = esp::proto::esp;
                if (udp) {
                    auto d = esp::udp_encap::encapsulate(buf, esp_off, e->size(), 4500, 4500);
                    REQUIRE(d);
                    l4 = *d;
                    proto = esp::proto::udp;
                }
                std::size_t l4_off = static_cast<std::size_t>(l4.data() - buf.data());
                std::size_t ip_hdr = v6 ? esp::ipv6_header_size : esp::ipv4_header_size;
                auto ip = mutable_bytes(buf).subspan(l4_off - ip_hdr, ip_hdr + l4.size());
                REQUIRE(
                    esp::write_ip_header(ip, v6 ? src6 : src, v6 ? dst6 : dst, proto, l4.size()));
                put32le(pcap, t++);
                put32le(pcap, 0);
                put32le(pcap, static_cast<std::uint32_t>(ip.size()));
                put32le(pcap, static_cast<std::uint32_t>(ip.size()));
                pcap.write(reinterpret_cast<const char*>(ip.data()),
                           static_cast<std::streamsize>(ip.size()));
            }
            ++spi;
        }
    }
}

TEST_CASE("interop: open ESP packets produced by another implementation") {
    const char* file = std::getenv("L2SEC_ESP_VECTORS");
    if (!file) return;
    std::ifstream in(file);
    REQUIRE(in);
    std::string line;
    int count = 0;
    std::map<std::string, int> per_suite;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ls(line);
        std::string name, spi_s, ek_s, ik_s, pkt_s, payload_s;
        int esn = 0, nh = 0;
        unsigned long long seq = 0;
        ls >> name >> spi_s >> esn >> ek_s >> ik_s >> pkt_s >> payload_s >> nh >> seq;
        REQUIRE(ls);
        CAPTURE(line);
        auto s = esp::parse_suite(name);
        REQUIRE(s);
        auto ek = ek_s == "-" ? std::vector<std::byte>{} : hex(ek_s);
        auto ik = ik_s == "-" ? std::vector<std::byte>{} : hex(ik_s);
        esp::sa_config c;
        c.spi = static_cast<std::uint32_t>(std::stoul(spi_s, nullptr, 0));
        c.algorithms = *s;
        c.enc_key = ek;
        c.integ_key = ik;
        c.esn = esn != 0;
        auto sa = esp::sa<crypto::botan>::make(c);
        REQUIRE(sa);
        auto pkt = hex(pkt_s);
        auto r = sa->unprotect(pkt);
        if (!r) FAIL(r.error().message());
        CHECK(to_hex(r->payload) == (payload_s == "-" ? "" : payload_s));
        CHECK(r->next_header == nh);
        CHECK(r->seq == seq);
        ++count;
        ++per_suite[name];
    }
    CHECK(count > 0);
    for (auto& [n, k] : per_suite)
        std::printf("ok: %s: %d packets opened\n", n.c_str(), k);
}

// L2SEC_ESP_PROTECT_IN=file, L2SEC_ESP_PROTECT_OUT=file: protect inner packets
// for a real peer. Input lines: "suite spi enckeyhex integkeyhex first_seq count"
// (tunnel mode; the inner packet is an IPv4/UDP L2TP Hello 10.98.1.1:1701 ->
// 10.98.2.1:1701); output: one ESP packet in hex per line.
TEST_CASE("interop: protect packets for a real peer") {
    const char* in_path = std::getenv("L2SEC_ESP_PROTECT_IN");
    const char* out_path = std::getenv("L2SEC_ESP_PROTECT_OUT");
    if (!in_path || !out_path) return;
    std::ifstream in(in_path);
    std::ofstream out(out_path);
    REQUIRE(in);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string name, spi_s, ek_s, ik_s;
        unsigned long long first = 1, count = 1;
        ls >> name >> spi_s >> ek_s >> ik_s >> first >> count;
        REQUIRE(ls);
        auto s = esp::parse_suite(name);
        REQUIRE(s);
        auto ek = ek_s == "-" ? std::vector<std::byte>{} : hex(ek_s);
        auto ik = ik_s == "-" ? std::vector<std::byte>{} : hex(ik_s);
        esp::sa_config c;
        c.spi = static_cast<std::uint32_t>(std::stoul(spi_s, nullptr, 0));
        c.algorithms = *s;
        c.enc_key = ek;
        c.integ_key = ik;
        c.mode = esp::mode::tunnel;
        c.initial_seq = first - 1;
        auto sa = esp::sa<crypto::botan>::make(c);
        REQUIRE(sa);
        auto hello = hex("c802 0014 0001 0000 0000 0000 8008 0000 0000 0006");
        for (unsigned long long i = 0; i < count; ++i) {
            std::vector<std::byte> buf(64 + 28 + hello.size() + 64);
            auto inner = mutable_bytes(buf).subspan(64, 28 + hello.size());
            REQUIRE(esp::write_ip_header(inner, hex("0a620101"), hex("0a620201"), 17,
                                         8 + hello.size()));
            store_be16(inner.data() + 20, 1701);
            store_be16(inner.data() + 22, 1701);
            store_be16(inner.data() + 24, static_cast<std::uint16_t>(8 + hello.size()));
            store_be16(inner.data() + 26, 0);
            std::copy(hello.begin(), hello.end(), inner.begin() + 28);
            auto pkt = sa->protect(buf, 64, inner.size(), esp::proto::ipv4);
            REQUIRE(pkt);
            out << to_hex(*pkt) << '\n';
        }
    }
}
