#include <doctest/doctest.h>

#include <l2sec/pcap.hpp>

#include "support/alloc_counter.hpp"
#include "support/hex.hpp"

#include <string>
#include <vector>

using namespace l2sec;
using l2sec::test::hex;
using l2sec::test::to_hex;
namespace pc = l2sec::pcap;

namespace {

std::vector<std::byte> load(const char* name) {
    auto d = pc::load_file(std::string(L2SEC_TEST_DATA) + "/" + name);
    REQUIRE(d.has_value());
    return *d;
}

std::vector<pc::record> all_records(const pc::file_view& f) {
    std::vector<pc::record> out;
    for (const auto& r : f.records()) {
        REQUIRE(r.has_value());
        out.push_back(*r);
    }
    return out;
}

// What the six captures in tests/data/pcap_udp_*.pcap hold (taken with dumpcap
// on the loopback of a fresh namespace with MTU 1280; tshark agrees): a small
// IPv4 datagram, a 2048-byte one in two fragments, a small IPv6 datagram, and a
// 1536-byte one in two IPv6 fragments, all to port 1701.
void check_udp_sample(const char* name, pc::link_type lt, std::size_t link_len) {
    auto data = load(name);
    auto f = pc::file_view::parse(data);
    REQUIRE(f.has_value());
    CHECK(f->linktype() == lt);
    CHECK_FALSE(f->header().big_endian);
    auto recs = all_records(*f);
    REQUIRE(recs.size() == 6);

    auto ip0 = pc::decode_ip_frame(f->header().link, recs[0].data);
    REQUIRE(ip0.has_value());
    CHECK(ip0->version == 4);
    CHECK(ip0->header_offset == link_len);
    CHECK(to_hex(ip0->src_address()) == "7f000001");
    CHECK(to_hex(ip0->dst_address()) == "7f000001");
    CHECK(pc::ip_header_checksum_ok(*ip0));
    auto u0 = pc::decode_udp(*ip0);
    REQUIRE(u0.has_value());
    CHECK(u0->dst_port == 1701);
    CHECK(u0->payload_offset == link_len + 28);
    CHECK(as_chars(u0->payload) == "hello l2sec");

    // first IPv4 fragment (MF set) and the last one (offset 157 * 8)
    for (int i : {1, 2}) {
        auto ip = pc::decode_ip_frame(f->header().link, recs[static_cast<std::size_t>(i)].data);
        REQUIRE(ip.has_value());
        CHECK(ip->fragment);
        auto u = pc::decode_udp(*ip);
        REQUIRE_FALSE(u.has_value());
        CHECK(u.error() == pc::errc::fragmented);
        CHECK(u.error().offset == link_len + 6);
    }

    auto ip3 = pc::decode_ip_frame(f->header().link, recs[3].data);
    REQUIRE(ip3.has_value());
    CHECK(ip3->version == 6);
    CHECK(to_hex(ip3->src_address()) == "00000000000000000000000000000001");
    auto u3 = pc::decode_udp(*ip3);
    REQUIRE(u3.has_value());
    CHECK(u3->dst_port == 1701);
    CHECK(u3->payload_offset == link_len + 48);
    CHECK(as_chars(u3->payload) == "hello v6");
    // Loopback captures carry partial UDP checksums (offload): tshark flags them bad too.
    CHECK_FALSE(pc::udp_checksum_ok(*ip3, *u3));

    // IPv6 fragments: the fragment header (44) is skipped and flags the packet
    for (int i : {4, 5}) {
        auto ip = pc::decode_ip_frame(f->header().link, recs[static_cast<std::size_t>(i)].data);
        REQUIRE(ip.has_value());
        CHECK(ip->fragment);
        CHECK(ip->protocol == 17);
        auto u = pc::decode_udp(*ip);
        REQUIRE_FALSE(u.has_value());
        CHECK(u.error() == pc::errc::fragmented);
        CHECK(u.error().offset == link_len + 40);
    }
    // The reassembled last fragment carries a valid UDP checksum computed by the kernel... for
    // the whole datagram, so it cannot be checked here; the IPv4 header checksums can.
    auto ip2 = pc::decode_ip_frame(f->header().link, recs[2].data);
    REQUIRE(ip2.has_value());
    CHECK(pc::ip_header_checksum_ok(*ip2));
}

}  // namespace

TEST_CASE("real dumpcap captures: Ethernet, Linux cooked v1 and v2") {
    check_udp_sample("pcap_udp_ether.pcap", pc::link_type::ethernet, 14);
    check_udp_sample("pcap_udp_sll.pcap", pc::link_type::linux_sll, 16);
    check_udp_sample("pcap_udp_sll2.pcap", pc::link_type::linux_sll2, 20);
}

TEST_CASE("timestamps in microsecond and nanosecond files (editcap -F nsecpcap)") {
    auto us = load("pcap_udp_ether.pcap");
    auto ns = load("pcap_udp_ether_ns.pcap");
    auto fu = pc::file_view::parse(us);
    auto fn = pc::file_view::parse(ns);
    REQUIRE(fu.has_value());
    REQUIRE(fn.has_value());
    CHECK_FALSE(fu->header().nanosecond);
    CHECK(fn->header().nanosecond);
    auto ru = all_records(*fu);
    auto rn = all_records(*fn);
    REQUIRE(ru.size() == rn.size());
    // tshark -e frame.time_epoch: 1795743236.107529000
    CHECK(ru[0].ts_sec == 1795743236u);
    CHECK(ru[0].ts_frac == 107529u);
    CHECK(rn[0].ts_sec == 1795743236u);
    CHECK(rn[0].ts_frac == 107529000u);
    CHECK(ru[0].index == 0);
    CHECK(ru[5].index == 5);
    CHECK(ru[0].file_offset == 24);
    CHECK(ru[0].data.size() == 53);
    CHECK(ru[0].orig_len == 53);
    for (std::size_t i = 0; i < ru.size(); ++i)
        CHECK(equal(ru[i].data, rn[i].data));
}

TEST_CASE("big-endian files (magic a1b2c3d4 written most significant byte first)") {
    // A header and one record laid out by hand from the pcap specification.
    auto file =
        hex("a1b2c3d4 0002 0004 00000000 00000000 0000ffff 00000065"
            "00000010 00000020 0000001d 0000001d"
            "4500001d 0000 4000 4011 0000 0a000001 0a000002 1234 06a5 0009 0000 ff");
    auto f = pc::file_view::parse(file);
    REQUIRE(f.has_value());
    CHECK(f->header().big_endian);
    CHECK(f->header().snaplen == 0xffff);
    CHECK(f->linktype() == pc::link_type::raw);
    auto recs = all_records(*f);
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].ts_sec == 16);
    CHECK(recs[0].ts_frac == 32);
    auto ip = pc::decode_ip_frame(f->header().link, recs[0].data);
    REQUIRE(ip.has_value());
    auto u = pc::decode_udp(*ip);
    REQUIRE(u.has_value());
    CHECK(u->src_port == 0x1234);
    CHECK(u->dst_port == 1701);
    CHECK(to_hex(u->payload) == "ff");
}

TEST_CASE("records() of a temporary file_view stays valid (range holds the view by value)") {
    auto data = load("pcap_udp_ether.pcap");
    std::size_t n = 0;
    for (const auto& r : pc::file_view::parse(data)->records()) {
        REQUIRE(r.has_value());
        n += r->data.size();
    }
    CHECK(n == 53 + 1290 + 834 + 70 + 1294 + 374);
}

TEST_CASE("writer round trip in both byte orders and both resolutions") {
    auto frame = hex("0102030405");
    for (bool be : {false, true}) {
        for (bool nano : {false, true}) {
            pc::write_options o{.link = 228, .snaplen = 1000, .nanosecond = nano, .big_endian = be};
            std::array<std::byte, 64> buf{};
            writer w(buf);
            pc::write_file_header(w, o);
            auto n = pc::write_record(w, frame, 7, 999, o);
            REQUIRE(n.has_value());
            CHECK(*n == 21);
            REQUIRE(w.finish().has_value());
            auto f = pc::file_view::parse(w.written());
            REQUIRE(f.has_value());
            CHECK(f->header().big_endian == be);
            CHECK(f->header().nanosecond == nano);
            CHECK(f->header().link == 228);
            CHECK(f->header().snaplen == 1000);
            auto recs = all_records(*f);
            REQUIRE(recs.size() == 1);
            CHECK(recs[0].ts_sec == 7);
            CHECK(recs[0].ts_frac == 999);
            CHECK(to_hex(recs[0].data) == "0102030405");
        }
    }
    // little-endian micro header, byte for byte as libpcap writes it
    std::array<std::byte, 24> h{};
    writer w(h);
    pc::write_file_header(w, {});
    CHECK(to_hex(w.written()) ==
          "d4c3b2a102000400000000000000000000000400"
          "01000000");
}

TEST_CASE("writer reports buffer_too_small and oversized records") {
    std::array<std::byte, 30> buf{};
    writer w(buf);
    pc::write_file_header(w);
    auto frame = hex("00112233445566778899");
    auto n = pc::write_record(w, frame, 0, 0);
    REQUIRE_FALSE(n.has_value());
    CHECK(n.error() == l2sec::errc::buffer_too_small);
    CHECK(n.error().offset == 30);  // the first byte that did not fit

    std::array<std::byte, 64> big{};
    writer w2(big);
    pc::write_options o{.snaplen = 4};
    auto m = pc::write_record(w2, frame, 0, 0, o);
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error() == l2sec::errc::invalid_argument);

    pc::vector_writer vw(o);
    CHECK_FALSE(vw.add(frame));
    CHECK(vw.add(bytes_view(frame).first(4)));
    CHECK(vw.bytes().size() == 24 + 16 + 4);
}

TEST_CASE("file errors carry code and offset") {
    auto good = load("pcap_udp_ether.pcap");
    SUBCASE("short file header") {
        auto r = pc::file_view::parse(bytes_view(good).first(23));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == pc::errc::truncated_file_header);
        CHECK(r.error().offset == 0);
    }
    SUBCASE("bad magic (pcapng)") {
        auto ng = hex("0a0d0d0a 1c000000 4d3c2b1a 01000000 ffffffffffffffff");
        auto r = pc::file_view::parse(ng);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == pc::errc::bad_magic);
        CHECK(r.error().offset == 0);
    }
    SUBCASE("version 1") {
        auto v = good;
        v[4] = std::byte{1};
        auto r = pc::file_view::parse(v);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == pc::errc::unsupported_version);
        CHECK(r.error().offset == 4);
    }
    SUBCASE("record header cut") {
        auto f = pc::file_view::parse(bytes_view(good).first(24 + 10));
        REQUIRE(f.has_value());
        int n = 0;
        for (const auto& r : f->records()) {
            ++n;
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error() == pc::errc::truncated_record_header);
            CHECK(r.error().offset == 24);
        }
        CHECK(n == 1);
    }
    SUBCASE("record data cut: one good record, then the error, then the end") {
        auto f = pc::file_view::parse(bytes_view(good).first(24 + 16 + 53 + 16 + 100));
        REQUIRE(f.has_value());
        std::vector<bool> ok;
        for (const auto& r : f->records()) {
            ok.push_back(r.has_value());
            if (!r) {
                CHECK(r.error() == pc::errc::truncated_record);
                CHECK(r.error().offset == 24 + 16 + 53 + 8);
            }
        }
        CHECK(ok == std::vector<bool>{true, false});
    }
    SUBCASE("incl_len above the snap length and 256 KiB") {
        auto v = good;
        v[24 + 8 + 2] = std::byte{0x10};  // incl_len 0x00100035
        auto f = pc::file_view::parse(v);
        REQUIRE(f.has_value());
        auto it = f->records().begin();
        REQUIRE_FALSE(it->has_value());
        CHECK((*it).error() == pc::errc::record_too_large);
        CHECK((*it).error().offset == 32);
    }
    SUBCASE("empty file body: no records") {
        auto f = pc::file_view::parse(bytes_view(good).first(24));
        REQUIRE(f.has_value());
        CHECK(f->records().begin() == pc::file_view::sentinel{});
    }
}

TEST_CASE("link and network layer errors carry code and offset") {
    auto eth_udp = [](std::string_view ip_hex) {
        return hex(std::string("020000000002 020000000001 0800 ") + std::string(ip_hex));
    };
    const char* udp4 =
        "45000021 0000 4000 4011 0000 0a000001 0a000002 04d2 06a5 000d 0000 68656c6c6f";
    SUBCASE("good frame decodes") {
        auto fr = eth_udp(udp4);
        auto ip = pc::decode_ip_frame(pc::link_type::ethernet, fr);
        REQUIRE(ip.has_value());
        auto u = pc::decode_udp(*ip);
        REQUIRE(u.has_value());
        CHECK(as_chars(u->payload) == "hello");
        CHECK(u->payload_offset == 42);
    }
    SUBCASE("ethernet padding after the IP total length is ignored") {
        auto fr = eth_udp(std::string(udp4) + "000000000000");
        auto ip = pc::decode_ip_frame(pc::link_type::ethernet, fr);
        REQUIRE(ip.has_value());
        CHECK(ip->payload.size() == 13);
    }
    SUBCASE("vlan tags are skipped") {
        auto fr = hex(std::string("020000000002 020000000001 8100 0064 8100 0065 0800 ") + udp4);
        auto ip = pc::decode_ip_frame(pc::link_type::ethernet, fr);
        REQUIRE(ip.has_value());
        CHECK(ip->header_offset == 22);
    }
    struct bad_case {
        const char* name;
        std::uint32_t link;
        std::vector<std::byte> frame;
        pc::errc code;
        std::size_t offset;
        bool at_udp;
    };
    std::vector<bad_case> cases{
        {"short ethernet", 1, hex("0200000000020200000000010800"), pc::errc::truncated_ip_header,
         14, false},
        {"ethernet 13 bytes", 1, hex("02000000000202000000000108"), pc::errc::truncated_link_header,
         0, false},
        {"arp", 1, hex("020000000002 020000000001 0806 0001"), pc::errc::not_ip, 12, false},
        {"vlan tag missing entirely (fuzz)", 1, hex("020000000002 020000000001 8100"),
         pc::errc::truncated_link_header, 14, false},
        {"vlan cut", 1, hex("020000000002 020000000001 8100 00"), pc::errc::truncated_link_header,
         15, false},
        {"sll short", 113, hex("0000 0304 0006 000000000000 0000 08"),
         pc::errc::truncated_link_header, 0, false},
        {"sll2 short", 276, hex("0800 0000 00000001 0304 00 06 00000000000000"),
         pc::errc::truncated_link_header, 0, false},
        {"unknown link type", 147, hex("45"), pc::errc::unsupported_linktype, 0, false},
        {"raw version 5", 101, hex("55000014"), pc::errc::bad_ip_version, 0, false},
        {"ethertype ipv6 but v4 inside", 1,
         hex(std::string("020000000002 020000000001 86dd ") + udp4), pc::errc::bad_ip_version, 14,
         false},
        {"ihl 4", 228, hex("44000014 0000 4000 4011 0000 0a000001 0a000002"), pc::errc::bad_ihl, 0,
         false},
        {"ihl beyond data", 228, hex("46000018 0000 4000 4011 0000 0a000001 0a000002"),
         pc::errc::bad_ihl, 0, false},
        {"total length beyond data", 228, hex("45000040 0000 4000 4011 0000 0a000001 0a000002"),
         pc::errc::bad_total_length, 2, false},
        {"total length below ihl", 228, hex("45000010 0000 4000 4011 0000 0a000001 0a000002"),
         pc::errc::bad_total_length, 2, false},
        {"ipv6 short", 229, hex("60000000 0008 1140"), pc::errc::truncated_ip_header, 0, false},
        {"ipv6 jumbo", 229, hex("60000000 0000 0040" + std::string(64, '0')), pc::errc::jumbogram,
         4, false},
        {"ipv6 payload length beyond", 229,
         hex("60000000 0010 1140" + std::string(64, '0') + "0000"), pc::errc::bad_total_length, 4,
         false},
        {"ipv6 hop-by-hop runs past", 229,
         hex("60000000 0004 0040" + std::string(64, '0') + "11 01 0000"),
         pc::errc::bad_extension_header, 40, false},
        {"ipv6 fragment header cut", 229,
         hex("60000000 0004 2c40" + std::string(64, '0') + "11 00 0000"),
         pc::errc::bad_extension_header, 40, false},
        {"not udp (tcp)", 228, hex("45000014 0000 4000 4006 0000 0a000001 0a000002"),
         pc::errc::not_udp, 9, true},
        {"udp header cut", 228, hex("45000018 0000 4000 4011 0000 0a000001 0a000002 04d206a5"),
         pc::errc::truncated_udp_header, 20, true},
        {"udp length 7", 228,
         hex("4500001c 0000 4000 4011 0000 0a000001 0a000002 04d2 06a5 0007 0000"),
         pc::errc::bad_udp_length, 24, true},
        {"udp length beyond", 228,
         hex("4500001d 0000 4000 4011 0000 0a000001 0a000002 04d2 06a5 000a 0000 ff"),
         pc::errc::bad_udp_length, 24, true},
        {"ipv4 fragment", 228,
         hex("4500001d 0000 2000 4011 0000 0a000001 0a000002 04d2 06a5 0009 0000 ff"),
         pc::errc::fragmented, 6, true},
        {"ipv6 not udp (esp)", 229, hex("60000000 0004 3240" + std::string(64, '0') + "00000001"),
         pc::errc::not_udp, 6, true},
    };
    for (const auto& c : cases) {
        std::string name = c.name;
        CAPTURE(name);
        auto ip = pc::decode_ip_frame(c.link, c.frame);
        if (c.at_udp) {
            REQUIRE(ip.has_value());
            auto u = pc::decode_udp(*ip);
            REQUIRE_FALSE(u.has_value());
            CHECK(u.error() == c.code);
            CHECK(u.error().offset == c.offset);
            CHECK(std::string(pc::layer_of(c.code)) ==
                  (c.code >= pc::errc::not_udp ? "udp" : "ip"));
        } else {
            REQUIRE_FALSE(ip.has_value());
            CHECK(ip.error() == c.code);
            CHECK(ip.error().offset == c.offset);
        }
    }
}

TEST_CASE("IPv4 options are skipped to reach UDP") {
    // IHL 6: one 4-byte option (Router Alert, RFC 2113: 94 04 0000)
    auto fr =
        hex("46000021 0000 4000 4011 0000 0a000001 0a000002 94040000"
            "04d2 06a5 0009 0000 ff");
    auto ip = pc::decode_ip_frame(pc::link_type::ipv4, fr);
    REQUIRE(ip.has_value());
    CHECK(ip->header.size() == 24);
    CHECK(ip->payload_offset == 24);
    auto u = pc::decode_udp(*ip);
    REQUIRE(u.has_value());
    CHECK(u->payload_offset == 32);
    CHECK(to_hex(u->payload) == "ff");
}

TEST_CASE("IPv6 extension headers are skipped to reach UDP") {
    // hop-by-hop (8 bytes, padN) -> destination options (8) -> UDP
    auto fr = hex("60000000 0019 0040" + std::string(64, '0') +
                  "3c 00 0104 00000000"  // hop-by-hop, next = 60
                  "11 00 0104 00000000"  // dest opts, next = 17
                  "04d2 06a5 0009 0000 ff");
    auto ip = pc::decode_ip_frame(229, fr);
    REQUIRE(ip.has_value());
    CHECK(ip->protocol == 17);
    CHECK(ip->payload_offset == 56);
    auto u = pc::decode_udp(*ip);
    REQUIRE(u.has_value());
    CHECK(u->payload_offset == 64);
    CHECK(to_hex(u->payload) == "ff");
}

TEST_CASE("BSD loopback (null) link type in either byte order") {
    for (const char* fam : {"02000000", "00000002"}) {
        auto fr = hex(std::string(fam) +
                      "4500001d 0000 4000 4011 0000 0a000001 0a000002 04d2 06a5 0009 0000 ff");
        auto ip = pc::decode_ip_frame(pc::link_type::null, fr);
        REQUIRE(ip.has_value());
        CHECK(ip->header_offset == 4);
    }
    auto bad = hex("07000000 45");
    auto r = pc::decode_ip_frame(pc::link_type::null, bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == pc::errc::not_ip);
}

TEST_CASE("builder: the IPv4 header of a real capture, and checksums that verify") {
    auto data = load("pcap_udp_ether.pcap");
    auto f = pc::file_view::parse(data);
    REQUIRE(f.has_value());
    auto recs = all_records(*f);
    const pc::record* rec = &recs[0];
    auto ip = pc::decode_ip_frame(f->header().link, rec->data);
    REQUIRE(ip.has_value());
    auto u = pc::decode_udp(*ip);
    REQUIRE(u.has_value());

    pc::udp_endpoints ep{{127, 0, 0, 1}, {127, 0, 0, 1}, u->src_port, u->dst_port};
    pc::frame_options o;
    o.ip_id = load_be16(ip->header.data() + 4);
    o.src_mac = {};
    o.dst_mac = {};
    std::array<std::byte, 128> out{};
    auto n = pc::build_udp_ipv4(out, ep, u->payload, o);
    REQUIRE(n.has_value());
    REQUIRE(*n == rec->data.size());
    // Ethernet + IPv4 header identical to what the kernel sent (IP checksum included);
    // the captured UDP checksum is a partial one (checksum offload on loopback).
    CHECK(to_hex(bytes_view(out).first(34)) == to_hex(rec->data.first(34)));
    auto ip2 = pc::decode_ip_frame(pc::link_type::ethernet, bytes_view(out).first(*n));
    REQUIRE(ip2.has_value());
    auto u2 = pc::decode_udp(*ip2);
    REQUIRE(u2.has_value());
    CHECK(pc::ip_header_checksum_ok(*ip2));
    CHECK(pc::udp_checksum_ok(*ip2, *u2));
    CHECK(equal(u2->payload, u->payload));

    o.ethernet = false;
    auto m = pc::build_udp_ipv4(out, ep, u->payload, o);
    REQUIRE(m.has_value());
    CHECK(*m == *n - 14);

    std::array<std::byte, 40> small{};
    auto e = pc::build_udp_ipv4(small, ep, u->payload);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error() == l2sec::errc::buffer_too_small);
    CHECK(e.error().offset == 34 + 8 - 2);
}

TEST_CASE("error category and messages") {
    std::error_code ec = pc::errc::fragmented;
    CHECK(std::string(ec.category().name()) == "l2sec.pcap");
    CHECK(ec.message() == "IP fragment (not reassembled)");
    CHECK(std::string(pc::layer_of(pc::errc::bad_magic)) == "pcap");
    CHECK(std::string(pc::layer_of(pc::errc::not_ip)) == "pcap");
    CHECK(std::string(pc::layer_of(pc::errc::bad_ihl)) == "ip");
    CHECK(std::string(pc::layer_of(pc::errc::bad_udp_length)) == "udp");
}

TEST_CASE("reading, decoding and building allocate nothing") {
    auto data = load("pcap_udp_sll2.pcap");
    std::array<std::byte, 256> out{};
    std::size_t payload_bytes = 0;
    auto n = test::allocations_in([&] {
        auto f = pc::file_view::parse(data);
        if (!f) return;
        for (const auto& r : f->records()) {
            if (!r) break;
            auto ip = pc::decode_ip_frame(f->header().link, r->data);
            if (!ip) continue;
            auto u = pc::decode_udp(*ip);
            if (!u) continue;
            payload_bytes += u->payload.size();
            (void)pc::udp_checksum_ok(*ip, *u);
        }
        auto b = pc::build_udp_ipv4(out, {}, as_bytes("x"));
        writer w(out);
        pc::write_file_header(w);
        (void)pc::write_record(w, bytes_view(out).first(*b), 0, 0);
    });
    CHECK(n == 0);
    CHECK(payload_bytes == 11 + 8);
}
