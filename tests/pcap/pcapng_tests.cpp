#include <doctest/doctest.h>

#include <l2sec/pcap.hpp>

#include "support/alloc_counter.hpp"
#include "support/hex.hpp"

#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

using namespace l2sec;
using l2sec::test::hex;
using l2sec::test::to_hex;
namespace pc = l2sec::pcap;

namespace {

std::vector<std::byte> load_ng(const char* name) {
    auto d = pc::load_file(std::string(L2SEC_TEST_DATA) + "/" + name);
    REQUIRE(d.has_value());
    return *d;
}

std::vector<pc::pcapng_record> all(const pc::pcapng_view& f) {
    std::vector<pc::pcapng_record> out;
    for (const auto& r : f.records()) {
        REQUIRE(r.has_value());
        out.push_back(*r);
    }
    return out;
}

// One little-endian section: SHB, an IDB (link, snaplen, optional tsresol), then `rest`.
std::vector<std::byte> section(std::uint16_t link, const std::string& idb_options,
                               const std::string& rest) {
    // link type (patched below), reserved, snaplen 0xffff, options
    std::string idb_body = std::string("01000000ffff0000") + idb_options;
    std::erase(idb_body, ' ');
    const std::size_t idb_len = 12 + idb_body.size() / 2;
    char lenbuf[9];
    std::snprintf(lenbuf, sizeof lenbuf, "%02x%02x0000", static_cast<unsigned>(idb_len & 0xff),
                  static_cast<unsigned>(idb_len >> 8));
    std::string idb = std::string("01000000") + lenbuf + idb_body + lenbuf;
    idb.replace(16, 4, link == 1 ? "0100" : "e400");  // link type field
    return hex(std::string("0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000") + idb +
               rest);
}

}  // namespace

TEST_CASE("pcapng: real dumpcap captures (Ethernet, Linux cooked v2), ns timestamps") {
    for (const auto& sample : {std::tuple{"pcap_udp_ether.pcapng", 1u, std::size_t{14}},
                               std::tuple{"pcap_udp_sll2.pcapng", 276u, std::size_t{20}}}) {
        const char* name = std::get<0>(sample);
        const unsigned link = std::get<1>(sample);
        const std::size_t link_len = std::get<2>(sample);
        std::string file_name = name;
        CAPTURE(file_name);
        auto data = load_ng(name);
        CHECK(pc::is_pcapng(data));
        auto f = pc::pcapng_view::parse(data);
        REQUIRE(f.has_value());
        auto recs = all(*f);
        REQUIRE(recs.size() == 6);
        CHECK(recs[0].link == link);
        CHECK(recs[0].interface_id == 0);
        CHECK(recs[5].index == 5);
        auto ip = pc::decode_ip_frame(recs[0].link, recs[0].data);
        REQUIRE(ip.has_value());
        CHECK(ip->header_offset == link_len);
        auto u = pc::decode_udp(*ip);
        REQUIRE(u.has_value());
        CHECK(u->dst_port == 1701);
        CHECK(as_chars(u->payload) == "hello l2sec");
        auto ip3 = pc::decode_ip_frame(recs[3].link, recs[3].data);
        REQUIRE(ip3.has_value());
        auto u3 = pc::decode_udp(*ip3);
        REQUIRE(u3.has_value());
        CHECK(as_chars(u3->payload) == "hello v6");
    }
    // tshark -e frame.time_epoch: 1795744671.465525948 (nanosecond if_tsresol)
    auto data = load_ng("pcap_udp_ether.pcapng");
    auto f = pc::pcapng_view::parse(data);
    REQUIRE(f.has_value());
    auto recs = all(*f);
    CHECK(recs[0].ts_sec == 1795744671u);
    CHECK(recs[0].ts_frac == 465525948u);
    CHECK(recs[0].data.size() == 53);
    CHECK(recs[1].data.size() == 1290);
    CHECK(recs[0].orig_len == 53);
}

TEST_CASE("pcapng: default microsecond resolution, Simple Packet Block, skipped blocks") {
    // IDB without if_tsresol (10^-6), an EPB at ts 0x00000001_00000000 us, a Name
    // Resolution Block (skipped), a Simple Packet Block of 5 bytes.
    auto file = section(228, "",
                        "06000000 24000000 00000000 01000000 00000000 04000000 04000000 "
                        "45000014 24000000"
                        "04000000 10000000 00000000 10000000"
                        "03000000 18000000 05000000 0102030405000000 18000000");
    auto f = pc::pcapng_view::parse(file);
    REQUIRE(f.has_value());
    auto recs = all(*f);
    REQUIRE(recs.size() == 2);
    CHECK(recs[0].link == 228);
    CHECK(recs[0].ts_sec == 4294);  // 2^32 us
    CHECK(recs[0].ts_frac == 967296000u);
    CHECK(to_hex(recs[0].data) == "45000014");
    CHECK(recs[1].index == 1);
    CHECK(to_hex(recs[1].data) == "0102030405");
    CHECK(recs[1].orig_len == 5);
}

TEST_CASE("pcapng: if_tsresol as a power of two, big-endian sections") {
    // tsresol 0x80 | 10 = 2^-10 s; EPB ts = 3 * 1024 + 512 units = 3.5 s
    auto file = section(1, "0900 0100 8a000000 0000 0000",
                        "06000000 20000000 00000000 00000000 000e0000 00000000 00000000 "
                        "20000000");
    auto f = pc::pcapng_view::parse(file);
    REQUIRE(f.has_value());
    auto recs = all(*f);
    REQUIRE(recs.size() == 1);
    CHECK(recs[0].ts_sec == 3);
    CHECK(recs[0].ts_frac == 500000000u);
    CHECK(recs[0].data.empty());

    auto be =
        hex("0a0d0d0a 0000001c 1a2b3c4d 0001 0000 ffffffffffffffff 0000001c"
            "00000001 00000014 0065 0000 0000ffff 00000014"
            "00000006 00000024 00000000 00000000 00000001 00000004 00000004 60000000 00000024");
    auto g = pc::pcapng_view::parse(be);
    REQUIRE(g.has_value());
    auto brecs = all(*g);
    REQUIRE(brecs.size() == 1);
    CHECK(brecs[0].link == 101);
    CHECK(brecs[0].ts_frac == 1000);  // 1 us
    CHECK(to_hex(brecs[0].data) == "60000000");
}

TEST_CASE("pcapng errors carry code and offset") {
    auto good = load_ng("pcap_udp_ether.pcapng");
    auto first_error = [](bytes_view file) -> l2sec::error {
        auto f = pc::pcapng_view::parse(file);
        if (!f) return f.error();
        for (const auto& r : f->records())
            if (!r) return r.error();
        return {};
    };
    SUBCASE("not pcapng") {
        auto e = first_error(hex("d4c3b2a1 02000400 00000000 00000000"));
        CHECK(e == pc::errc::bad_magic);
        CHECK(e.offset == 0);
    }
    SUBCASE("bad byte-order magic") {
        auto v = good;
        v[8] = std::byte{0};
        auto e = first_error(v);
        CHECK(e == pc::errc::bad_magic);
        CHECK(e.offset == 8);
    }
    SUBCASE("file cut inside a block") {
        auto e = first_error(bytes_view(good).first(good.size() - 10));
        CHECK(e == pc::errc::truncated_block);
    }
    SUBCASE("block length not a multiple of 4") {
        auto v = section(1, "", "06000000 21000000 00000000");
        auto e = first_error(v);
        CHECK(e == pc::errc::bad_block_length);
        CHECK(e.offset == 28 + 20 + 4);
    }
    SUBCASE("trailing length disagrees") {
        auto v = section(1, "",
                         "06000000 20000000 00000000 00000000 00000000 00000000 00000000 1c000000");
        auto e = first_error(v);
        CHECK(e == pc::errc::bad_block_length);
        CHECK(e.offset == 28 + 20 + 28);
    }
    SUBCASE("captured length beyond the block") {
        auto v = section(1, "",
                         "06000000 20000000 00000000 00000000 00000000 08000000 08000000 20000000");
        auto e = first_error(v);
        CHECK(e == pc::errc::truncated_block);
        CHECK(e.offset == 28 + 20 + 8 + 12);
    }
    SUBCASE("packet for interface 1 when only 0 exists") {
        auto v = section(1, "",
                         "06000000 20000000 01000000 00000000 00000000 00000000 00000000 20000000");
        auto e = first_error(v);
        CHECK(e == pc::errc::unknown_interface);
        CHECK(e.offset == 28 + 20 + 8);
    }
    SUBCASE("section major version 2") {
        auto v = good;
        v[12] = std::byte{2};
        auto f = pc::pcapng_view::parse(v);
        REQUIRE(f.has_value());
        auto it = f->records().begin();
        REQUIRE_FALSE(it->has_value());
        CHECK((*it).error() == pc::errc::unsupported_version);
        CHECK((*it).error().offset == 12);
    }
    CHECK(std::string(pc::layer_of(pc::errc::unknown_interface)) == "pcap");
}

TEST_CASE("pcapng reading allocates nothing") {
    auto data = load_ng("pcap_udp_sll2.pcapng");
    std::size_t n = 0;
    auto allocs = test::allocations_in([&] {
        auto f = pc::pcapng_view::parse(data);
        if (!f) return;
        for (const auto& r : f->records()) {
            if (!r) break;
            auto ip = pc::decode_ip_frame(r->link, r->data);
            if (ip && pc::decode_udp(*ip)) ++n;
        }
    });
    CHECK(allocs == 0);
    CHECK(n == 2);
}
