// The IKEv2 responder against strongSwan's real IKE_SA_INIT requests (the
// captures in tests/data): it must accept charon's proposal lists, see no
// NAT from charon's NAT_DETECTION hashes, and answer with a single proposal
// of the transforms charon offered.
#include "ike/capture.hpp"
#include "ike_engine/harness.hpp"

#include <l2sec/ike/v2/engine.hpp>

#include <doctest/doctest.h>

using namespace l2sec;
namespace v2 = l2sec::ike::v2;
using l2sec::test::ike1::rng;

TEST_CASE("the responder answers charon's captured IKE_SA_INIT (CBC and GCM lists)") {
    for (const char* f : {"ike_v2cbc.pcap", "ike_v2gcm.pcap"}) {
        CAPTURE(f);
        auto pk = test::ike_capture(f);
        REQUIRE(pk.size() >= 2);
        auto e = v2::engine<crypto::botan, rng>::make({}, rng(3), v2::single_psk(as_bytes("x")));
        REQUIRE(e);
        const auto charon = transport::endpoint::v4(10, 99, 0, 1, 500);
        const auto us = transport::endpoint::v4(10, 99, 0, 2, 500);
        std::chrono::steady_clock::time_point now{};
        e->receive(pk[0].ike, us, charon, now);
        CHECK(e->stats().dropped == 0);
        CHECK(e->half_open() == 1);
        auto d = e->poll_datagram();
        REQUIRE(d);
        CHECK(d->peer == charon);
        auto m = ike::parse(d->data);
        REQUIRE(m);
        CHECK(m->header().exchange_type == ike::exchange::ike_sa_init);
        CHECK(m->header().response());
        auto req = *ike::parse(pk[0].ike);
        CHECK(m->header().spi_i == req.header().spi_i);
        std::string kinds;
        std::size_t proposals = 0;
        std::uint16_t req_group = 0, resp_group = 0;
        bool req_frag = false, resp_frag = false;  // IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383)
        auto is_frag = [](const ike::payload& p) {
            return p.kind() == ike::payload_type::notify &&
                   ike::v2::notify::parse(p)->type == 16430;
        };
        for (const auto& p : req.payloads()) {
            if (p.kind() == ike::payload_type::ke) req_group = ike::v2::ke::parse(p)->group;
            req_frag |= is_frag(p);
        }
        for (const auto& p : m->payloads()) {
            kinds += ike::name(p.kind());
            kinds += ',';
            resp_frag |= is_frag(p);
            if (p.kind() == ike::payload_type::sa)
                for (const auto& q : ike::v2::sa::parse(p)->proposals()) {
                    (void)q;
                    ++proposals;
                }
            if (p.kind() == ike::payload_type::ke) resp_group = ike::v2::ke::parse(p)->group;
        }
        CHECK(req_frag);  // charon announces fragmentation: so do we, in the answer only then
        CHECK(resp_frag);
        CHECK(kinds == "SA,KE,Nonce,N,N,N,");
        CHECK(proposals == 1);
        CHECK(resp_group == req_group);  // charon's KE group is one we accept: no round trip
        // charon's own retransmission is answered from the cache, not processed twice
        e->receive(pk[0].ike, us, charon, now);
        CHECK(e->stats().duplicates == 1);
        CHECK(e->half_open() == 1);
    }
}
