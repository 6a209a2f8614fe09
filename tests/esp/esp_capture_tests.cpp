// Known answers from a real peer: ESP in UDP 4500 captured between two
// strongSwan charons (kernel-libipsec, tunnel mode) by
// tests/interop/esp_strongswan.sh with L2SEC_ESP_CAPTURE_OUT, with the
// CHILD_SA keys charon logged. Each capture holds, per direction, strongSwan's
// packets (sequence numbers 1-3: L2TP Hellos out, ICMP port unreachable back)
// and three Hellos l2sec protected (sequence numbers 100-102) that strongSwan
// accepted. Every one must open, in order, through an anti-replay window,
// on every datapath backend (tests/support/backends.hpp).
#include <doctest/doctest.h>

#include <l2sec/crypto/botan.hpp>
#include <l2sec/esp.hpp>
#include <l2sec/pcap.hpp>

#include "support/backends.hpp"
#include "support/hex.hpp"

#include <fstream>
#include <optional>
#include <string>
#include <vector>

using namespace l2sec;
using l2sec::test::hex;

namespace {

struct sa_keys {
    std::uint32_t spi = 0;
    esp::suite suite;
    std::vector<std::byte> ek, ik;
};

// "0xSPI:suite:enckey[:integkey]"
sa_keys parse_spec(const std::string& s) {
    sa_keys k;
    auto a = s.find(':'), b = s.find(':', a + 1), c = s.find(':', b + 1);
    k.spi = static_cast<std::uint32_t>(std::stoul(s.substr(0, a), nullptr, 16));
    k.suite = *esp::parse_suite(s.substr(a + 1, b - a - 1));
    k.ek = hex(s.substr(b + 1, c == std::string::npos ? std::string::npos : c - b - 1));
    if (c != std::string::npos) k.ik = hex(s.substr(c + 1));
    return k;
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("esp: strongSwan's ESP packets (real captures) open with l2sec", B,
                          esp_strongswan_capture) {
    for (const char* name : {"aes256gcm16", "aes128-sha1", "chacha20poly1305"}) {
        CAPTURE(name);
        std::string base = std::string(L2SEC_TEST_DATA) + "/esp_strongswan_" + name;
        std::ifstream kf(base + ".keys");
        REQUIRE(kf);
        std::vector<sa_keys> keys;
        std::vector<esp::sa<B>> sas;
        for (std::string line; std::getline(kf, line);)
            keys.push_back(parse_spec(line));
        REQUIRE(keys.size() == 2);
        for (auto& k : keys) {
            esp::sa_config c;
            c.spi = k.spi;
            c.algorithms = k.suite;
            c.enc_key = k.ek;
            c.integ_key = k.ik;
            c.mode = esp::mode::tunnel;
            c.replay_window = 64;
            auto sa = esp::sa<B>::make(c);
            REQUIRE(sa);
            sas.push_back(std::move(*sa));
        }
        auto data = pcap::load_file(base + ".pcap");
        REQUIRE(data);
        auto file = pcap::file_view::parse(*data);
        REQUIRE(file);
        int from_strongswan = 0, from_l2sec = 0, hellos = 0, icmp = 0;
        for (const auto& rec : file->records()) {
            REQUIRE(rec);
            auto ip = pcap::decode_ip_frame(file->header().link, rec->data);
            REQUIRE(ip);
            auto udp = pcap::decode_udp(*ip);
            if (!udp || (udp->dst_port != 4500 && udp->src_port != 4500)) continue;
            auto kind = esp::udp_encap::classify(udp->payload);
            REQUIRE(kind);
            if (*kind != esp::udp_encap::kind::esp) continue;
            std::vector<std::byte> pkt(udp->payload.begin(), udp->payload.end());
            auto h = esp::parse_header(pkt);
            REQUIRE(h);
            esp::sa<B>* sa = nullptr;
            for (auto& s : sas)
                if (s.spi() == h->spi) sa = &s;
            REQUIRE(sa);
            auto inner = esp::unprotect_tunnel(*sa, pkt);
            if (!inner) FAIL(inner.error().message());
            (h->seq >= 100 ? from_l2sec : from_strongswan)++;
            auto iip = pcap::decode_ip(*inner);
            REQUIRE(iip);
            if (iip->protocol == 1) ++icmp;
            if (auto u = pcap::decode_udp(*iip); u && u->dst_port == 1701) {
                CHECK(test::to_hex(u->payload) == "c802001400010000000000008008000000000006");
                ++hellos;
            }
            // The same packet again is a replay.
            std::vector<std::byte> again(udp->payload.begin(), udp->payload.end());
            CHECK(sa->unprotect(again).error() == esp::errc::replayed);
        }
        CHECK(from_strongswan == 6);
        CHECK(from_l2sec == 3);
        CHECK(hellos == 6);
        CHECK(icmp == 3);
    }
}
TEST_CASE_TEMPLATE_APPLY(esp_strongswan_capture, test::datapath_backends);
