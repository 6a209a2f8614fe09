#include <doctest/doctest.h>

#include <l2sec/core.hpp>

#include "support/alloc_counter.hpp"
#include "support/hex.hpp"

#include <string>

using namespace l2sec;
using l2sec::test::hex;
using l2sec::test::to_hex;

TEST_CASE("reader reads big-endian fields and fails sticky at the first short read") {
    auto buf = hex("01 0203 040506 0708090a 0b0c0d0e0f101112");
    reader r(buf, 100);
    CHECK(r.u8() == 0x01);
    CHECK(r.u16() == 0x0203);
    CHECK(r.u24() == 0x040506);
    CHECK(r.u32() == 0x0708090a);
    CHECK(r.u64() == 0x0b0c0d0e0f101112ULL);
    CHECK(r.empty());
    CHECK(r.offset() == 118);
    CHECK(r.u16() == 0);  // short read
    CHECK(r.failed());
    CHECK(r.fail_offset() == 118);
    CHECK(r.u8() == 0);  // stays failed
    auto e = r.fail(errc::truncated, "test field");
    CHECK(e == errc::truncated);
    CHECK(e.offset == 118);
    CHECK(e.message() == "l2sec: input truncated (test field) at offset 118");
}

TEST_CASE("reader::sub keeps absolute offsets and fails when the length overruns") {
    auto buf = hex("00 11 22 33 44");
    reader r(buf);
    r.skip(1);
    auto s = r.sub(3);
    CHECK(s.offset() == 1);
    CHECK(s.u16() == 0x1122);
    CHECK(s.offset() == 3);
    CHECK(s.u16() == 0);
    CHECK(s.fail_offset() == 3);
    CHECK(r.u8() == 0x44);
    auto bad = r.sub(1);
    CHECK(r.failed());
    CHECK(bad.failed());
}

TEST_CASE("writer never writes past its buffer and reports where it ran out") {
    std::array<std::byte, 5> buf{};
    writer w(buf);
    w.u16(0xC802);
    auto len_at = w.reserve(2);
    w.u8(7);
    w.patch_u16(len_at, 0x1234);
    REQUIRE(w.finish().has_value());
    CHECK(*w.finish() == 5);
    CHECK(to_hex(w.written()) == "c802123407");
    w.u32(1);
    auto r = w.finish("tail");
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::buffer_too_small);
    CHECK(r.error().offset == 5);
    CHECK(to_hex(buf) == "c802123407");
}

TEST_CASE("result carries a value or an error; value() throws only on misuse") {
    result<int> ok = 5;
    CHECK(ok);
    CHECK(*ok == 5);
    result<int> bad = error(errc::length_mismatch, 3, "len");
    CHECK_FALSE(bad);
    CHECK(bad.error().offset == 3);
    CHECK(bad.value_or(9) == 9);
    CHECK_THROWS_AS(bad.value(), bad_result_access);
    result<std::string> s = std::string("abc");
    result<std::string> s2 = s;
    CHECK(*s2 == "abc");
    result<void> v;
    CHECK(v);
    result<void> ve = errc::truncated;
    CHECK_FALSE(ve);
    std::error_code ec = make_error_code(errc::truncated);
    CHECK(std::string(ec.category().name()) == "l2sec");
}

TEST_CASE("static_vector refuses to grow past its capacity") {
    static_vector<int, 3> v;
    CHECK(v.push_back(1));
    CHECK(v.push_back(2));
    CHECK(v.push_back(3));
    CHECK_FALSE(v.push_back(4));
    CHECK(v.size() == 3);
    v.erase(0);
    CHECK(v[0] == 2);
    CHECK(v[1] == 3);
}

TEST_CASE("reader and writer never allocate") {
    auto buf = hex("0102030405060708");
    std::array<std::byte, 16> out{};
    auto n = l2sec::test::allocations_in([&] {
        reader r(buf);
        (void)r.u64();
        writer w(out);
        w.u64(1);
        (void)w.finish();
    });
    CHECK(n == 0);
}

TEST_CASE("internet checksum: RFC 1071 section 3 example, and a header that verifies") {
    // 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2; the checksum is its complement.
    auto b = hex("0001 f203 f4f5 f6f7");
    CHECK(checksum_fold(checksum_add(0, b)) == static_cast<std::uint16_t>(~0xddf2));
    CHECK(internet_checksum(b) == static_cast<std::uint16_t>(~0xddf2));
    // An odd tail is padded with zero; pieces chain.
    CHECK(internet_checksum(hex("01")) == static_cast<std::uint16_t>(~0x0100));
    CHECK(checksum_fold(checksum_add(checksum_add(0, hex("0001 f203")), hex("f4f5 f6f7"))) ==
          internet_checksum(b));
    // With its checksum written in, an IPv4 header checksums to 0.
    auto ip = hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
    store_be16(ip.data() + 10, internet_checksum(ip));
    CHECK(load_be16(ip.data() + 10) == 0xb861);  // the well-known example header
    CHECK(internet_checksum(ip) == 0);
}

namespace {
// The constant-evaluated (shift) form of the big-endian helpers.
constexpr bool be_round_trip_at_compile_time() {
    std::array<std::byte, 8> b{};
    store_be64(b.data(), 0x0102030405060708ull);
    if (b[0] != std::byte{1} || b[7] != std::byte{8}) return false;
    store_be32(b.data() + 1, 0xa1b2c3d4u);
    store_be16(b.data() + 5, 0xe5f6);
    return load_be64(b.data()) == 0x01a1b2c3d4e5f608ull && load_be32(b.data() + 1) == 0xa1b2c3d4u &&
           load_be16(b.data() + 5) == 0xe5f6;
}
static_assert(be_round_trip_at_compile_time());
}  // namespace

TEST_CASE("big-endian loads and stores: known bytes at every alignment, at run time") {
    for (std::size_t at = 0; at < 8; ++at) {
        CAPTURE(at);
        std::array<std::byte, 24> b{};
        store_be64(b.data() + at, 0x0102030405060708ull);
        CHECK(to_hex(bytes_view(b).subspan(at, 8)) == to_hex(hex("01 02 03 04 05 06 07 08")));
        CHECK(load_be64(b.data() + at) == 0x0102030405060708ull);
        CHECK(load_be32(b.data() + at + 1) == 0x02030405u);
        CHECK(load_be16(b.data() + at + 3) == 0x0405);
        store_be32(b.data() + at + 8, 0xa1b2c3d4u);
        store_be16(b.data() + at + 12, 0xe5f6);
        CHECK(to_hex(bytes_view(b).subspan(at + 8, 6)) == to_hex(hex("a1 b2 c3 d4 e5 f6")));
        CHECK(b[at + 14] == std::byte{0});  // nothing written past the field
    }
}
