// IKE codecs: header, generic payload chain, IKEv1 and IKEv2 payloads, on real
// strongSwan captures (tests/data/ike_*.pcap, see tests/interop/ike_capture.sh)
// and on hand-built messages; every malformed case with its code and offset.
#include <doctest/doctest.h>

#include <l2sec/ike.hpp>

#include "ike/capture.hpp"
#include "support/alloc_counter.hpp"
#include "support/hex.hpp"

#include <array>
#include <string>
#include <vector>

using namespace l2sec;
using l2sec::test::hex;
using l2sec::test::to_hex;

namespace {

std::string payload_list(const ike::payload_range& chain) {
    std::string s;
    for (const auto& p : chain) {
        if (!s.empty()) s += ",";
        s += ike::name(p.kind());
    }
    return s;
}

std::vector<std::byte> reencoded(const ike::message& m) {
    std::vector<std::byte> out(m.data().size() + 64);
    auto n = ike::reencode(m, out);
    REQUIRE(n.has_value());
    out.resize(*n);
    return out;
}

void patch16(std::vector<std::byte>& b, std::size_t at, std::uint16_t v) {
    store_be16(b.data() + at, v);
}
void patch32(std::vector<std::byte>& b, std::size_t at, std::uint32_t v) {
    store_be32(b.data() + at, v);
}

}  // namespace

TEST_CASE("IKE header: fields, flags and the version/length checks") {
    // RFC 7296 §3.1 layout: SPIs, next payload, version 2.0, IKE_SA_INIT, I flag, MID 0, length.
    auto b = hex("0011223344556677 0000000000000000 21 20 22 08 00000000 0000001c");
    auto h = ike::decode_header(b, 100);
    REQUIRE(h.has_value());
    CHECK(h->spi_i == 0x0011223344556677ULL);
    CHECK(h->spi_r == 0);
    CHECK(h->first_payload() == ike::payload_type::sa);
    CHECK(h->major == 2);
    CHECK(h->minor == 0);
    CHECK(h->exchange_type == ike::exchange::ike_sa_init);
    CHECK(h->initiator());
    CHECK_FALSE(h->response());
    CHECK(h->length == 28);
    std::array<std::byte, 28> out{};
    writer w(out);
    ike::encode(w, *h);
    CHECK(to_hex(w.written()) == to_hex(b));

    auto e = ike::decode_header(bytes_view(b).first(20), 100);
    REQUIRE_FALSE(e.has_value());
    CHECK(e.error() == ike::errc::truncated);
    CHECK(e.error().offset == 120);

    auto bad = b;
    bad[17] = std::byte{0x30};
    e = ike::decode_header(bad);
    CHECK(e.error() == ike::errc::unsupported_version);
    CHECK(e.error().offset == 17);

    bad = b;
    patch32(bad, 24, 27);
    e = ike::decode_header(bad);
    CHECK(e.error() == ike::errc::header_length_mismatch);
    CHECK(e.error().offset == 24);
}

TEST_CASE("non-ESP marker on UDP 4500") {
    auto b = hex("00000000 aabb");
    auto m = ike::strip_non_esp_marker(b);
    REQUIRE(m.has_value());
    CHECK(m->size() == 2);
    auto esp = hex("00000001 aabb");
    CHECK(ike::strip_non_esp_marker(esp).error() == ike::errc::non_esp_marker_missing);
    CHECK(ike::strip_non_esp_marker(bytes_view(b).first(3)).error() == ike::errc::truncated);
}

TEST_CASE(
    "IKEv2 capture (strongSwan, AES-CBC): every message decodes and re-encodes byte for byte") {
    auto pk = test::ike_capture("ike_v2cbc.pcap");
    REQUIRE(pk.size() == 4);
    const char* expect[] = {"SA,KE,Nonce,N,N,N,N,N", "SA,KE,Nonce,N,N,N,N,N,N", "SK", "SK"};
    for (std::size_t i = 0; i < pk.size(); ++i) {
        CAPTURE(i);
        auto m = ike::parse(pk[i].ike);
        REQUIRE(m.has_value());
        CHECK(m->header().major == 2);
        CHECK(payload_list(m->payloads()) == expect[i]);
        CHECK(ike::validate(*m).has_value());
        CHECK(to_hex(reencoded(*m)) == to_hex(pk[i].ike));
    }
    auto m0 = *ike::parse(pk[0].ike);
    CHECK(m0.header().exchange_type == ike::exchange::ike_sa_init);
    CHECK(m0.header().initiator());
    auto m1 = *ike::parse(pk[1].ike);
    CHECK(m1.header().response());
    CHECK(m1.header().spi_i == m0.header().spi_i);

    // Typed views of the IKE_SA_INIT request: aes128-sha256-modp2048.
    std::vector<std::uint16_t> notifies;
    for (const auto& p : m0.payloads()) {
        if (p.kind() == ike::payload_type::sa) {
            auto sa = ike::v2::sa::parse(p);
            REQUIRE(sa.has_value());
            int props = 0;
            for (const auto& pp : sa->proposals()) {
                auto pr = ike::proposal::parse(pp);
                REQUIRE(pr.has_value());
                ++props;
                CHECK(pr->protocol == static_cast<std::uint8_t>(ike::protocol_id::ike));
                CHECK(pr->spi.empty());
                CHECK(pr->transform_count == 4);
                std::vector<std::string> ts;
                for (const auto& tp : pr->transforms()) {
                    auto t = ike::transform_v2::parse(tp);
                    REQUIRE(t.has_value());
                    ts.push_back(std::to_string(t->type) + ":" + std::to_string(t->id) + ":" +
                                 std::to_string(t->key_length()));
                }
                CHECK(ts == std::vector<std::string>{"1:12:128", "3:12:0", "2:5:0", "4:14:0"});
            }
            CHECK(props == 1);
        } else if (p.kind() == ike::payload_type::ke) {
            auto ke = ike::v2::ke::parse(p);
            REQUIRE(ke.has_value());
            CHECK(ke->group == 14);
            CHECK(ke->data.size() == 256);
        } else if (p.kind() == ike::payload_type::nonce) {
            CHECK(p.body.size() == 32);
        } else if (p.kind() == ike::payload_type::notify) {
            auto n = ike::v2::notify::parse(p);
            REQUIRE(n.has_value());
            notifies.push_back(n->type);
        }
    }
    CHECK(notifies == std::vector<std::uint16_t>{16388, 16389, 16430, 16431, 16406});
    CHECK(std::string(ike::name(ike::notify_type{notifies[0]})) == "NAT_DETECTION_SOURCE_IP");

    // The SK payload ends the chain; its next field names the first inner payload (IDi).
    auto m2 = *ike::parse(pk[2].ike);
    for (const auto& p : m2.payloads()) {
        CHECK(p.kind() == ike::payload_type::sk);
        CHECK(p.next == static_cast<std::uint8_t>(ike::payload_type::idi));
    }
}

TEST_CASE("IKEv2 capture (strongSwan, AES-GCM, ECP-384) decodes and re-encodes") {
    auto pk = test::ike_capture("ike_v2gcm.pcap");
    REQUIRE(pk.size() == 4);
    for (auto& p : pk) {
        auto m = ike::parse(p.ike);
        REQUIRE(m.has_value());
        CHECK(ike::validate(*m).has_value());
        CHECK(to_hex(reencoded(*m)) == to_hex(p.ike));
    }
    auto m0 = *ike::parse(pk[0].ike);
    for (const auto& p : m0.payloads())
        if (p.kind() == ike::payload_type::ke) {
            auto ke = ike::v2::ke::parse(p);
            CHECK(ke->group == 20);
            CHECK(ke->data.size() == 96);  // x | y, no 0x04 prefix
        }
}

TEST_CASE("IKEv1 capture (strongSwan Main Mode + Quick Mode): decode, vendor IDs, re-encode") {
    auto pk = test::ike_capture("ike_v1.pcap");
    REQUIRE(pk.size() == 9);
    const char* expect[] = {"SA,VID,VID,VID,VID,VID",
                            "SA,VID,VID,VID,VID",
                            "KE,Nonce,NAT-D,NAT-D",
                            "KE,Nonce,NAT-D,NAT-D",
                            "",
                            "",
                            "",
                            "",
                            ""};
    ike::exchange ex[] = {
        ike::exchange::main_mode,  ike::exchange::main_mode,  ike::exchange::main_mode,
        ike::exchange::main_mode,  ike::exchange::main_mode,  ike::exchange::main_mode,
        ike::exchange::quick_mode, ike::exchange::quick_mode, ike::exchange::informational_v1};
    for (std::size_t i = 0; i < pk.size(); ++i) {
        CAPTURE(i);
        auto m = ike::parse(pk[i].ike);
        REQUIRE(m.has_value());
        CHECK(m->header().major == 1);
        CHECK(m->header().exchange_type == ex[i]);
        CHECK(m->header().encrypted() == (i >= 4));
        CHECK(payload_list(m->payloads()) == expect[i]);
        CHECK(ike::validate(*m).has_value());
        CHECK(to_hex(reencoded(*m)) == to_hex(pk[i].ike));
    }
    auto m0 = *ike::parse(pk[0].ike);
    std::vector<std::string> vendors;
    for (const auto& p : m0.payloads()) {
        if (p.kind() == ike::payload_type::vendor_id_v1) {
            auto v = ike::v1::identify_vendor(p.body);
            vendors.push_back(v ? v->name : "?");
        } else if (p.kind() == ike::payload_type::sa_v1) {
            auto sa = ike::v1::sa::parse(p);
            REQUIRE(sa.has_value());
            CHECK(sa->doi == ike::doi_ipsec);
            CHECK(sa->situation == ike::sit_identity_only);
            for (const auto& pp : sa->proposals()) {
                auto pr = ike::proposal::parse(pp);
                REQUIRE(pr.has_value());
                CHECK(pr->protocol == 1);
                for (const auto& tp : pr->transforms()) {
                    auto t = ike::transform_v1::parse(tp);
                    REQUIRE(t.has_value());
                    CHECK(t->id == 1);  // KEY_IKE
                    std::vector<std::string> attrs;
                    for (const auto& a : t->attributes())
                        attrs.push_back(std::to_string(a.type) + "=" + std::to_string(a.value()));
                    // AES-CBC, 128-bit key, SHA-1, modp2048, PSK, lifetime in seconds.
                    CHECK(attrs == std::vector<std::string>{"1=7", "14=128", "2=2", "4=14", "3=1",
                                                            "11=1", "12=15840"});
                }
            }
        }
    }
    CHECK(vendors == std::vector<std::string>{"XAUTH", "DPD", "FRAGMENTATION", "RFC 3947",
                                              "draft-ietf-ipsec-nat-t-ike-02\\n"});
}

TEST_CASE(
    "every captured message (IKEv2 CBC/GCM, IKEv1 AES-128/AES-256) re-encodes byte for byte") {
    for (const char* f : {"ike_v2cbc.pcap", "ike_v2gcm.pcap", "ike_v1.pcap", "ike_v1aes256.pcap"}) {
        CAPTURE(f);
        auto pk = test::ike_capture(f);
        REQUIRE(pk.size() >= 4);
        for (auto& p : pk) {
            auto m = ike::parse(p.ike);
            REQUIRE(m.has_value());
            CHECK(ike::validate(*m).has_value());
            CHECK(to_hex(reencoded(*m)) == to_hex(p.ike));
        }
    }
}

TEST_CASE("decoding and re-encoding real messages does not allocate") {
    auto pk = test::ike_capture("ike_v2cbc.pcap");
    auto v1 = test::ike_capture("ike_v1.pcap");
    REQUIRE(pk.size() == 4);
    REQUIRE(v1.size() == 9);
    std::array<std::byte, 2048> out{};
    std::size_t total = 0;
    auto n = test::allocations_in([&] {
        for (auto* set : {&pk, &v1})
            for (auto& p : *set) {
                auto m = ike::parse(p.ike);
                if (!m) continue;
                for (const auto& pl : m->payloads())
                    total += pl.size();
                if (ike::validate(*m)) total += *ike::reencode(*m, out);
            }
    });
    CHECK(n == 0);
    CHECK(total > 0);
}

TEST_CASE("malformed payload chains stop with a precise error") {
    auto pk = test::ike_capture("ike_v2cbc.pcap");
    REQUIRE(pk.size() == 4);
    const auto& orig = pk[0].ike;  // SA at 28, proposal at 32, first transform at 40

    SUBCASE("header length larger than the datagram") {
        auto b = orig;
        patch32(b, 24, static_cast<std::uint32_t>(b.size() + 1));
        auto m = ike::parse(b);
        CHECK(m.error() == ike::errc::header_length_mismatch);
        CHECK(m.error().offset == 24);
    }
    SUBCASE("header length smaller than the datagram") {
        auto b = orig;
        patch32(b, 24, static_cast<std::uint32_t>(b.size() - 1));
        CHECK(ike::parse(b).error() == ike::errc::trailing_data);
    }
    SUBCASE("payload length below 4") {
        auto b = orig;
        patch16(b, 30, 3);
        auto m = ike::parse(b);
        CHECK(m.error() == ike::errc::payload_length_too_small);
        CHECK(m.error().offset == 30);
    }
    SUBCASE("payload length beyond the message") {
        auto b = orig;
        patch16(b, 30, 0xffff);
        auto m = ike::parse(b);
        CHECK(m.error() == ike::errc::payload_length_overrun);
        CHECK(m.error().offset == 30);
    }
    SUBCASE("bytes after the last payload") {
        auto b = orig;
        b.push_back(std::byte{0});
        patch32(b, 24, static_cast<std::uint32_t>(b.size()));
        auto m = ike::parse(b);
        CHECK(m.error() == ike::errc::trailing_data);
        CHECK(m.error().offset == orig.size());
    }
    SUBCASE("chain names a payload but the message ends") {
        auto b = orig;
        b.resize(28 + 4);
        patch16(b, 30, 4);
        patch32(b, 24, 32);
        auto m = ike::parse(b);
        CHECK(m.error() == ike::errc::truncated);
        CHECK(m.error().offset == 32);
    }
    SUBCASE("lazy iteration stops at the bad payload and reports it") {
        auto b = orig;
        // Find the Nonce (third payload) and break its length.
        auto m = ike::parse(orig);
        std::size_t nonce_at = 0;
        for (const auto& p : m->payloads())
            if (p.kind() == ike::payload_type::nonce) nonce_at = p.offset;
        REQUIRE(nonce_at > 0);
        patch16(b, nonce_at + 2, 2);
        ike::message raw(*ike::decode_header(b), b, 0);
        auto chain = raw.payloads();
        CHECK(payload_list(chain) == "SA,KE");
        CHECK_FALSE(chain.ok());
        CHECK(chain.last_error() == ike::errc::payload_length_too_small);
        CHECK(chain.last_error().offset == nonce_at + 2);
    }
    SUBCASE("a proposal whose next field is not 0 or 2") {
        auto b = orig;
        b[32] = std::byte{5};
        auto m = ike::parse(b);
        REQUIRE(m.has_value());  // the outer chain is fine
        auto v = ike::validate(*m);
        CHECK(v.error() == ike::errc::bad_substructure);
        CHECK(v.error().offset == 32);
    }
    SUBCASE("transform count disagrees with the transforms") {
        auto b = orig;
        b[39] = std::byte{9};
        auto v = ike::validate(*ike::parse(b));
        CHECK(v.error() == ike::errc::bad_field);
        CHECK(v.error().offset == 39);
    }
    SUBCASE("SPI size beyond the proposal") {
        auto b = orig;
        b[38] = std::byte{200};
        auto v = ike::validate(*ike::parse(b));
        CHECK(v.error() == ike::errc::bad_spi_size);
        CHECK(v.error().offset == 38);
    }
    SUBCASE("transform length beyond the proposal") {
        auto b = orig;
        patch16(b, 42, 0x100);
        auto v = ike::validate(*ike::parse(b));
        CHECK(v.error() == ike::errc::payload_length_overrun);
        CHECK(v.error().offset == 42);
    }
}

TEST_CASE("building an IKE_SA_INIT request with the builders, and reading it back") {
    std::array<std::byte, 512> buf{};
    ike::header h;
    h.spi_i = 0x0102030405060708ULL;
    h.exchange_type = ike::exchange::ike_sa_init;
    h.flags = ike::flag::initiator;
    auto ke_data = hex("00112233445566778899aabbccddeeff");
    auto nonce = hex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf b0b1b2b3");
    auto natd = hex("0102030405060708090a0b0c0d0e0f1011121314");
    std::size_t used = 0;
    auto allocs = test::allocations_in([&] {
        ike::message_builder b(buf, h);
        b.begin(ike::payload_type::sa);
        ike::sa_writer sa(b.out());
        sa.begin_proposal(1, static_cast<std::uint8_t>(ike::protocol_id::ike), {});
        sa.transform_v2(1, 12);
        sa.attribute(ike::attribute::basic(14, 256));
        sa.transform_v2(2, 5);
        sa.transform_v2(3, 12);
        sa.transform_v2(4, 19);
        sa.finish();
        b.end();
        b.begin(ike::payload_type::ke);
        ike::v2::ke{19, ke_data}.encode(b.out());
        b.end();
        b.add(ike::payload_type::nonce, nonce);
        b.begin(ike::payload_type::notify);
        ike::v2::notify{0, 16388, {}, natd}.encode(b.out());
        b.end();
        used = b.finish().value_or(0);
    });
    CHECK(allocs == 0);
    REQUIRE(used > 0);
    auto m = ike::parse(bytes_view(buf).first(used));
    REQUIRE(m.has_value());
    CHECK(m->header().length == used);
    CHECK(payload_list(m->payloads()) == "SA,KE,Nonce,N");
    CHECK(ike::validate(*m).has_value());
    for (const auto& p : m->payloads()) {
        if (p.kind() != ike::payload_type::sa) continue;
        auto sa = ike::v2::sa::parse(p);
        for (const auto& pp : sa->proposals()) {
            auto pr = ike::proposal::parse(pp);
            REQUIRE(pr.has_value());
            CHECK(pr->transform_count == 4);
            int n = 0;
            for (const auto& tp : pr->transforms()) {
                auto t = ike::transform_v2::parse(tp);
                if (n == 0) CHECK(t->key_length() == 256);
                ++n;
                CHECK(tp.next == (n == 4 ? 0 : 3));
            }
        }
    }
    // Too small a buffer: buffer_too_small, never a write past the end.
    std::array<std::byte, 40> tiny{};
    ike::message_builder b(tiny, h);
    b.add(ike::payload_type::nonce, nonce);
    auto r = b.finish();
    CHECK(r.error() == l2sec::errc::buffer_too_small);
}

TEST_CASE(
    "IKEv1 payload bodies: ID with the L2TP selector, notification, delete, NAT-OA, attributes") {
    // Quick Mode ID: IPv4, UDP, port 1701, 10.0.0.1.
    auto id = hex("01 11 06a5 0a000001");
    ike::payload p{5, 0, 0, id, 100};
    auto v = ike::v1::id::parse(p);
    REQUIRE(v.has_value());
    CHECK(v->type == 1);
    CHECK(v->protocol == 17);
    CHECK(v->port == 1701);
    CHECK(to_hex(v->data) == "0a000001");
    auto short_id = hex("01 11 06a5 0a0000");
    auto e = ike::v1::id::parse({5, 0, 0, short_id, 100});
    CHECK(e.error() == ike::errc::bad_field);
    CHECK(e.error().offset == 108);

    // Notification R-U-THERE (RFC 3706): DOI 1, ISAKMP, SPI size 16, type 36136, cookies, seq.
    auto n = hex("00000001 01 10 8d28 00112233445566778899aabbccddeeff 00000007");
    auto nv = ike::v1::notification::parse({11, 0, 0, n, 0});
    REQUIRE(nv.has_value());
    CHECK(nv->kind() == ike::notify_type::v1_dpd_r_u_there);
    CHECK(nv->spi.size() == 16);
    CHECK(to_hex(nv->data) == "00000007");
    auto nbad = hex("00000001 01 10 8d28 0011");
    auto ne = ike::v1::notification::parse({11, 0, 0, nbad, 0});
    CHECK(ne.error() == ike::errc::bad_spi_size);
    CHECK(ne.error().offset == 9);

    auto d = hex("00000001 03 04 0002 11111111 22222222");
    auto dv = ike::v1::delete_::parse({12, 0, 0, d, 0});
    REQUIRE(dv.has_value());
    CHECK(to_hex(dv->spi(1)) == "22222222");
    auto dbad = hex("00000001 03 04 0003 11111111 22222222");
    auto de = ike::v1::delete_::parse({12, 0, 0, dbad, 0});
    CHECK(de.error() == ike::errc::bad_field);
    CHECK(de.error().offset == 10);

    auto oa = hex("01 000000 c0a80102");
    CHECK(ike::v1::nat_oa::parse({21, 0, 0, oa, 0}).has_value());
    auto oabad = hex("02 000000 c0a80102");
    CHECK(ike::v1::nat_oa::parse({21, 0, 0, oabad, 0}).error() == ike::errc::bad_field);

    // Transform with a TLV life duration overrunning the transform.
    auto t = hex("01 01 0000 800b0001 000c0004 0001");
    auto te = ike::transform_v1::parse({3, 0, 0, t, 50});
    REQUIRE_FALSE(te.has_value());
    CHECK(te.error() == ike::errc::bad_attribute);
    CHECK(te.error().offset == 54 + 4 + 4 + 2);
    // A TLV attribute decodes as an integer and encodes back the same.
    auto t2 = hex("01 01 0000 800b0001 000c0004 00015180 80040002");
    auto tv = ike::transform_v1::parse({3, 0, 0, t2, 0});
    REQUIRE(tv.has_value());
    ike::attribute life;
    REQUIRE(tv->attributes().find(ike::v1_attr::life_duration, life));
    CHECK_FALSE(life.tv);
    CHECK(life.value() == 86400);
    // Encapsulation mode UDP-Encapsulated-Transport (RFC 3947 §5), the L2TP/IPsec mode.
    auto qm = hex("01 0c 0000 80040004 80050002 80060080");
    auto qt = ike::transform_v1::parse({3, 0, 0, qm, 0});
    ike::attribute mode;
    REQUIRE(qt->attributes().find(ike::v1_ipsec_attr::encapsulation_mode, mode));
    CHECK(ike::encapsulation_mode{static_cast<std::uint16_t>(mode.value())} ==
          ike::encapsulation_mode::udp_transport);
    CHECK(std::string(ike::name(ike::encapsulation_mode::udp_transport)) ==
          "UDP-Encapsulated-Transport");
    CHECK(std::string(ike::v1_ipsec_attr_name(mode.type)) == "Encapsulation-Mode");
    CHECK(std::string(ike::v1_attr_name(ike::v1_attr::life_duration)) == "Life-Duration");
    CHECK(ike::v1_attr_name(99) == nullptr);
}

TEST_CASE("IKEv2 payload bodies: TS, CP, delete, SKF, AUTH, ID") {
    // TSi: one IPv4 selector, UDP port 1701, 10.0.0.1-10.0.0.1.
    auto ts = hex("01 000000 07 11 0010 06a5 06a5 0a000001 0a000001");
    auto tv = ike::v2::ts::parse({44, 0, 0, ts, 0});
    REQUIRE(tv.has_value());
    auto s = tv->selector(0);
    CHECK(s.ip_protocol == 17);
    CHECK(s.start_port == 1701);
    CHECK(to_hex(s.end_address) == "0a000001");
    auto tsbad = hex("01 000000 07 11 0011 06a5 06a5 0a000001 0a000001");
    auto te = ike::v2::ts::parse({44, 0, 0, tsbad, 0});
    CHECK(te.error() == ike::errc::bad_field);
    CHECK(te.error().offset == 10);
    auto tstype = hex("01 000000 09 11 0010 06a5 06a5 0a000001 0a000001");
    CHECK(ike::v2::ts::parse({44, 0, 0, tstype, 0}).error().offset == 8);

    // CP request: INTERNAL_IP4_ADDRESS (1) empty, INTERNAL_IP4_DNS (3) empty.
    auto cp = hex("01 000000 0001 0000 0003 0000");
    auto cv = ike::v2::cp::parse({47, 0, 0, cp, 0});
    REQUIRE(cv.has_value());
    int count = 0;
    cv->for_each([&](const ike::v2::cp_attribute&) { ++count; });
    CHECK(count == 2);
    auto cpbad = hex("01 000000 0001 0004 00");
    auto ce = ike::v2::cp::parse({47, 0, 0, cpbad, 0});
    CHECK(ce.error() == ike::errc::bad_attribute);
    CHECK(ce.error().offset == 10);

    auto skf = hex("0003 0002 aabbcc");
    auto fe = ike::v2::skf::parse({53, 0, 0, skf, 0});
    CHECK(fe.error() == ike::errc::fragment_mismatch);
    auto skf2 = hex("0014 0028 aabbcc");  // fragment 20 of 40: no low cap
    CHECK(ike::v2::skf::parse({53, 0, 0, skf2, 0}).has_value());

    auto id = hex("01 000000 0a630001");
    auto iv = ike::v2::id::parse({35, 0, 0, id, 0});
    REQUIRE(iv.has_value());
    CHECK(iv->type == 1);
    auto au = hex("02 000000 f24a1f32");
    CHECK(ike::v2::auth::parse({39, 0, 0, au, 0})->method == 2);
    auto del = hex("03 04 0001 c1c2c3c4");
    CHECK(ike::v2::delete_::parse({42, 0, 0, del, 0})->count == 1);
}
