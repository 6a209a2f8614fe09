// The responder's choice among several traffic selectors (RFC 7296 2.9):
// detail::narrow_ts takes the first TSi/TSr pair of one address family that
// narrows to the policy, the outer addresses' family first. Windows, macOS
// and Android offer 0.0.0.0/0 and ::/0 together, in either order.
#include <l2sec/core/writer.hpp>
#include <l2sec/ike/v2/detail/wire.hpp>

#include <doctest/doctest.h>

#include <array>
#include <initializer_list>
#include <vector>

using namespace l2sec;
namespace d = l2sec::ike::v2::detail;

namespace {
/// A TS payload's body as parsed: `count` selectors back to back.
struct ts_list {
    std::vector<std::byte> bytes;
    l2sec::ike::v2::ts view;
    explicit ts_list(std::initializer_list<d::selector> sels) : bytes(40 * sels.size()) {
        writer w(mutable_bytes(bytes.data(), bytes.size()));
        for (const auto& s : sels)
            s.write(w);
        REQUIRE(w);
        bytes.resize(w.size());
        view.count = static_cast<std::uint8_t>(sels.size());
        view.selectors_data = bytes_view(bytes.data(), bytes.size());
    }
};
d::selector v4_host(std::uint8_t last, std::uint8_t proto, std::uint16_t port) {
    return d::selector::host(transport::endpoint::v4(192, 0, 2, last, 0), proto, port);
}
}  // namespace

TEST_CASE("narrow_ts: one selector each, as before: protocol and our port narrowed") {
    ts_list ti{v4_host(10, 17, 0)}, tr{v4_host(1, 0, 0)};
    d::selector si, sr;
    REQUIRE(d::narrow_ts(ti.view, tr.view, 17, 1701, 4, si, sr));
    CHECK(si.protocol == 17);
    CHECK(sr.protocol == 17);
    CHECK(sr.port() == 1701);
    CHECK(si.port() == 0);  // the peer's port as it proposes (any)
    CHECK(si.start[3] == std::byte{10});
    CHECK(sr.start[3] == std::byte{1});
}

TEST_CASE("narrow_ts: ::/0 before 0.0.0.0/0 (both lists): the outer family's pair is chosen") {
    ts_list ti{d::selector::any(true, 0, 0), d::selector::any(false, 0, 0)};
    ts_list tr{d::selector::any(true, 0, 0), d::selector::any(false, 0, 0)};
    d::selector si, sr;
    REQUIRE(d::narrow_ts(ti.view, tr.view, 0, 0, 4, si, sr));
    CHECK(si.alen == 4);
    CHECK(sr.alen == 4);
    REQUIRE(d::narrow_ts(ti.view, tr.view, 0, 0, 16, si, sr));  // an IPv6 peer: IPv6
    CHECK(si.alen == 16);
    CHECK(sr.alen == 16);
}

TEST_CASE("narrow_ts: the other family when the outer one has no pair; never a mixed pair") {
    ts_list ti{d::selector::any(true, 0, 0)},
        tr{d::selector::any(false, 0, 0), d::selector::any(true, 0, 0)};
    d::selector si, sr;
    REQUIRE(d::narrow_ts(ti.view, tr.view, 0, 0, 4, si, sr));
    CHECK(si.alen == 16);
    CHECK(sr.alen == 16);
    ts_list only4{d::selector::any(false, 0, 0)};
    CHECK_FALSE(d::narrow_ts(ti.view, only4.view, 0, 0, 4, si, sr));
}

TEST_CASE("narrow_ts: a later selector when the first does not fit the policy") {
    // TSr: first TCP only, then a port range without 1701, then UDP with 1701
    d::selector tcp = v4_host(1, 6, 0), low = v4_host(1, 17, 0), good = v4_host(1, 17, 0);
    low.start_port = 1;
    low.end_port = 1000;
    ts_list ti{v4_host(10, 6, 0), v4_host(10, 0, 0)}, tr{tcp, low, good};
    d::selector si, sr;
    REQUIRE(d::narrow_ts(ti.view, tr.view, 17, 1701, 4, si, sr));
    CHECK(si.protocol == 17);  // TSi's second ("any" narrowed to UDP)
    CHECK(sr.protocol == 17);
    CHECK(sr.port() == 1701);
    // nothing fits: TS_UNACCEPTABLE
    ts_list tr_bad{tcp, low};
    CHECK_FALSE(d::narrow_ts(ti.view, tr_bad.view, 17, 1701, 4, si, sr));
}

TEST_CASE("narrow_ts: protocol any on one side takes the other side's") {
    ts_list ti{v4_host(10, 0, 0)}, tr{v4_host(1, 17, 0)};
    d::selector si, sr;
    REQUIRE(d::narrow_ts(ti.view, tr.view, 0, 0, 4, si, sr));
    CHECK(si.protocol == 17);
    CHECK(sr.protocol == 17);
    ts_list tcp{v4_host(10, 6, 0)};
    CHECK_FALSE(d::narrow_ts(tcp.view, tr.view, 0, 0, 4, si, sr));  // TCP vs UDP
}
