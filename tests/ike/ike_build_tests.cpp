// Messages built with l2sec's builders: IKEv2 IKE_SA_INIT, IKE_AUTH and
// INFORMATIONAL (SK with AES-CBC+HMAC and AES-GCM), IKEv1 Main Mode, Quick
// Mode (UDP-encapsulated transport, the L2TP selector, NAT-OA) and
// informational (DPD, Delete). Each parses back and validates here; with
// L2SEC_IKE_GEN_PCAP=<file> the test also writes them as a pcap that
// tests/interop/ike_tshark.sh hands to tshark (no malformed flag, decrypted
// with the keys below) and to l2sec-inspect.
#include <doctest/doctest.h>

#include <l2sec/crypto/botan.hpp>
#include <l2sec/ike.hpp>
#include <l2sec/pcap.hpp>

#include "support/hex.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace l2sec;
using l2sec::test::hex;
using B = l2sec::crypto::botan;

namespace {

using msg = std::vector<std::byte>;

// Keys for the generated IKEv2 SAs (also in tests/interop/ike_tshark.sh).
constexpr std::uint64_t cbc_spi_i = 0x1111111111111111ULL, cbc_spi_r = 0x2222222222222222ULL;
constexpr std::uint64_t gcm_spi_i = 0x3333333333333333ULL, gcm_spi_r = 0x4444444444444444ULL;
std::vector<std::byte> pattern(std::size_t n, unsigned char v) {
    return std::vector<std::byte>(n, std::byte{v});
}

msg finish(ike::message_builder& b, std::vector<std::byte>& buf) {
    auto n = b.finish();
    REQUIRE(n.has_value());
    return msg(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
}

msg v2_sa_init() {
    std::vector<std::byte> buf(1024);
    ike::header h;
    h.spi_i = cbc_spi_i;
    h.exchange_type = ike::exchange::ike_sa_init;
    h.flags = ike::flag::initiator;
    ike::message_builder b(buf, h);
    b.begin(ike::payload_type::sa);
    ike::sa_writer sa(b.out());
    sa.begin_proposal(1, 1, {});
    sa.transform_v2(1, 12);
    sa.attribute(ike::attribute::basic(14, 128));
    sa.transform_v2(2, 5);
    sa.transform_v2(3, 12);
    sa.transform_v2(4, 19);
    sa.begin_proposal(2, 1, {});
    sa.transform_v2(1, 20);
    sa.attribute(ike::attribute::basic(14, 256));
    sa.transform_v2(2, 6);
    sa.transform_v2(4, 31);
    sa.finish();
    b.end();
    b.begin(ike::payload_type::ke);
    auto kx = crypto::botan_dh::make_key_exchange(crypto::dh_id::ecp256);
    REQUIRE(kx.has_value());
    ike::v2::ke{19, kx->public_value()}.encode(b.out());
    b.end();
    b.add(ike::payload_type::nonce, pattern(32, 0xa5));
    auto natd = pattern(20, 0x3c);
    for (std::uint16_t t : {std::uint16_t{16388}, std::uint16_t{16389}}) {
        b.begin(ike::payload_type::notify);
        ike::v2::notify{0, t, {}, natd}.encode(b.out());
        b.end();
    }
    b.begin(ike::payload_type::notify);
    ike::v2::notify{0, 16430, {}, {}}.encode(b.out());
    b.end();
    b.begin(ike::payload_type::certreq);
    ike::v2::cert{4, pattern(20, 0x77)}.encode(b.out());
    b.end();
    b.add(ike::payload_type::vendor_id, hex("882fe56d6fd20dbc2251613b2ebe5beb"));
    return finish(b, buf);
}

msg v2_auth(const ike::v2::suite& s, std::uint64_t spi_i, std::uint64_t spi_r, bool gcm) {
    auto info = *ike::v2::describe(s);
    auto tx = ike::v2::sk_protect<B>::make(info, pattern(info.encr_key_size, 0xe1),
                                           pattern(info.integ_key_size, 0xa1));
    REQUIRE(tx.has_value());
    std::vector<std::byte> buf(1024);
    ike::header h;
    h.spi_i = spi_i;
    h.spi_r = spi_r;
    h.exchange_type = gcm ? ike::exchange::informational : ike::exchange::ike_auth;
    h.flags = ike::flag::initiator;
    h.message_id = 1;
    ike::message_builder b(buf, h);
    auto sk = ike::v2::begin_sk(b, pattern(info.iv_size, 0x42));
    ike::chain_writer in(b.out(), sk.next_at);
    auto& w = b.out();
    if (!gcm) {
        in.begin(ike::payload_type::idi);
        ike::v2::id{1, {}, hex("0a000001")}.encode(w);
        in.end();
        in.begin(ike::payload_type::auth);
        ike::v2::auth{2, pattern(32, 0x99), {}}.encode(w);
        in.end();
        in.begin(ike::payload_type::cp);
        auto attrs = hex("0001 0000 0003 0000");
        ike::v2::cp{1, attrs, 0, {}}.encode(w);
        in.end();
        in.begin(ike::payload_type::notify);
        ike::v2::notify{0, 16391, {}, {}}.encode(w);
        in.end();
        in.begin(ike::payload_type::sa);
        ike::sa_writer sa(w);
        auto spi = hex("c0ffee01");
        sa.begin_proposal(1, 3, spi);
        sa.transform_v2(1, 12);
        sa.attribute(ike::attribute::basic(14, 128));
        sa.transform_v2(3, 2);
        sa.transform_v2(5, 0);
        sa.finish();
        in.end();
        auto a = hex("0a000001");
        for (auto t : {ike::payload_type::tsi, ike::payload_type::tsr}) {
            in.begin(t);
            std::array<std::byte, 16> sel{};
            writer sw(sel);
            ike::v2::traffic_selector{7, 17, 1701, 1701, a, a}.encode(sw);
            ike::v2::ts{1, sel, 0, {}}.encode(w);
            in.end();
        }
    } else {
        in.begin(ike::payload_type::delete_);
        ike::v2::delete_{3, 4, 1, hex("c0ffee01")}.encode(w);
        in.end();
        in.begin(ike::payload_type::eap);
        w.bytes(hex("01 07 0005 01"));  // EAP Request/Identity
        in.end();
    }
    auto n = tx->seal(b, sk);
    REQUIRE(n.has_value());
    return msg(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
}

void v1_ike_transform(ike::sa_writer& sa) {
    sa.transform_v1(1, 1);
    using namespace ike::v1_attr;
    sa.attribute(ike::attribute::basic(encryption_algorithm, 7));
    sa.attribute(ike::attribute::basic(key_length, 128));
    sa.attribute(ike::attribute::basic(hash_algorithm, 2));
    sa.attribute(ike::attribute::basic(group_description, 14));
    sa.attribute(ike::attribute::basic(authentication_method, 1));
    sa.attribute(ike::attribute::basic(life_type, 1));
}

msg v1_mm1() {
    std::vector<std::byte> buf(512);
    ike::header h;
    h.major = 1;
    h.spi_i = 0x5555555555555555ULL;
    h.exchange_type = ike::exchange::main_mode;
    ike::message_builder b(buf, h);
    b.begin(ike::payload_type::sa_v1);
    ike::v1::sa{ike::doi_ipsec, ike::sit_identity_only, {}, 0}.encode(b.out());
    ike::sa_writer sa(b.out());
    sa.begin_proposal(1, 1, {});
    v1_ike_transform(sa);
    auto life = hex("00007080");
    sa.attribute(ike::attribute::variable(ike::v1_attr::life_duration, life));
    sa.finish();
    b.end();
    for (auto v : {ike::v1::vendor::nat_t_rfc3947, ike::v1::vendor::dpd,
                   ike::v1::vendor::ms_nt5_isakmpoakley, ike::v1::vendor::fragmentation})
        b.add(ike::payload_type::vendor_id_v1, ike::v1::vendor_id_bytes(v));
    return finish(b, buf);
}

msg v1_mm3() {
    std::vector<std::byte> buf(1024);
    ike::header h;
    h.major = 1;
    h.spi_i = 0x5555555555555555ULL;
    h.spi_r = 0x6666666666666666ULL;
    h.exchange_type = ike::exchange::main_mode;
    ike::message_builder b(buf, h);
    auto kx = crypto::botan_dh::make_key_exchange(crypto::dh_id::modp2048);
    REQUIRE(kx.has_value());
    b.add(ike::payload_type::ke_v1, kx->public_value());
    b.add(ike::payload_type::nonce_v1, pattern(32, 0x5a));
    b.add(ike::payload_type::nat_d, pattern(20, 0x11));
    b.add(ike::payload_type::nat_d, pattern(20, 0x22));
    return finish(b, buf);
}

msg v1_qm1() {
    std::vector<std::byte> buf(512);
    ike::header h;
    h.major = 1;
    h.spi_i = 0x5555555555555555ULL;
    h.spi_r = 0x6666666666666666ULL;
    h.exchange_type = ike::exchange::quick_mode;
    h.message_id = 0x01020304;
    ike::message_builder b(buf, h);
    b.add(ike::payload_type::hash, pattern(20, 0x48));
    b.begin(ike::payload_type::sa_v1);
    ike::v1::sa{ike::doi_ipsec, ike::sit_identity_only, {}, 0}.encode(b.out());
    ike::sa_writer sa(b.out());
    sa.begin_proposal(1, 3, hex("c0ffee02"));
    sa.transform_v1(1, static_cast<std::uint8_t>(ike::v1_esp_id::aes));
    using namespace ike::v1_ipsec_attr;
    sa.attribute(ike::attribute::basic(sa_life_type, 1));
    sa.attribute(ike::attribute::basic(sa_life_duration, 3600));
    sa.attribute(ike::attribute::basic(
        encapsulation_mode, static_cast<std::uint16_t>(ike::encapsulation_mode::udp_transport)));
    sa.attribute(ike::attribute::basic(auth_algorithm, 2));
    sa.attribute(ike::attribute::basic(key_length, 128));
    sa.finish();
    b.end();
    b.add(ike::payload_type::nonce_v1, pattern(32, 0x6b));
    for (auto addr : {hex("0a000001"), hex("0a000002")}) {
        b.begin(ike::payload_type::id_v1);
        ike::v1::id{1, 17, 1701, addr}.encode(b.out());
        b.end();
    }
    for (auto addr : {hex("c0a80164"), hex("0a000002")}) {
        b.begin(ike::payload_type::nat_oa);
        ike::v1::nat_oa{1, addr, {}}.encode(b.out());
        b.end();
    }
    return finish(b, buf);
}

msg v1_info() {
    std::vector<std::byte> buf(512);
    ike::header h;
    h.major = 1;
    h.spi_i = 0x5555555555555555ULL;
    h.spi_r = 0x6666666666666666ULL;
    h.exchange_type = ike::exchange::informational_v1;
    h.message_id = 0x0a0b0c0d;
    ike::message_builder b(buf, h);
    b.add(ike::payload_type::hash, pattern(20, 0x48));
    auto cookies = hex("5555555555555555 6666666666666666");
    auto seq = hex("00000001");
    b.begin(ike::payload_type::notification);
    ike::v1::notification{ike::doi_ipsec, 1, 36136, cookies, seq}.encode(b.out());
    b.end();
    b.begin(ike::payload_type::delete_v1);
    ike::v1::delete_{ike::doi_ipsec, 3, 4, 1, hex("c0ffee02")}.encode(b.out());
    b.end();
    return finish(b, buf);
}

/// IKE_AUTH (message 2) split into three SKF fragments (RFC 7383), CBC SA keys.
std::vector<msg> v2_fragments() {
    auto info = *ike::v2::describe(
        {ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256, ike::integ_id::hmac_sha2_256_128});
    auto tx = ike::v2::sk_protect<B>::make(info, pattern(16, 0xe1), pattern(32, 0xa1));
    REQUIRE(tx.has_value());
    std::vector<std::byte> inner(512);
    writer w(inner);
    ike::chain_writer c(w);
    c.begin(ike::payload_type::idi);
    ike::v2::id{2, {}, as_bytes("client.l2sec.test")}.encode(w);
    c.end();
    c.begin(ike::payload_type::auth);
    ike::v2::auth{2, pattern(32, 0x99), {}}.encode(w);
    c.end();
    c.begin(ike::payload_type::notify);
    ike::v2::notify{0, 16384, {}, {}}.encode(w);
    c.end();
    inner.resize(w.size());
    ike::header h;
    h.spi_i = cbc_spi_i;
    h.spi_r = cbc_spi_r;
    h.exchange_type = ike::exchange::ike_auth;
    h.flags = ike::flag::initiator;
    h.message_id = 2;
    std::vector<msg> out;
    std::array<std::byte, 512> scratch{};
    auto n = ike::v2::fragment_and_seal(
        *tx, h, static_cast<std::uint8_t>(ike::payload_type::idi), inner, 24,
        [n = 0](l2sec::mutable_bytes iv) mutable {
            auto p = pattern(iv.size(), static_cast<std::uint8_t>(0x24 + n++));
            std::copy(p.begin(), p.end(), iv.begin());
            return true;
        },
        scratch,
        [&](std::uint16_t, std::uint16_t, bytes_view m) { out.emplace_back(m.begin(), m.end()); });
    REQUIRE(n.has_value());
    return out;
}

/// An IKEv1 message sent as payload-132 fragments (Cisco/Microsoft scheme).
std::vector<msg> v1_fragments(const msg& whole) {
    auto h = ike::parse(whole)->header();
    h.flags = 0;
    std::vector<msg> out;
    const std::size_t piece = 160;
    const std::size_t count = (whole.size() + piece - 1) / piece;
    for (std::size_t i = 0; i < count; ++i) {
        std::vector<std::byte> buf(256);
        ike::message_builder b(buf, h);
        b.begin(ike::payload_type::fragment_v1);
        auto part = bytes_view(whole).subspan(i * piece);
        ike::v1::fragment{1, static_cast<std::uint8_t>(i + 1),
                          static_cast<std::uint8_t>(i + 1 == count ? 1 : 0),
                          part.first(std::min(piece, part.size()))}
            .encode(b.out());
        b.end();
        out.push_back(finish(b, buf));
    }
    return out;
}

std::vector<msg> all_messages() {
    auto frags = v2_fragments();
    auto v1frags = v1_fragments(v1_mm3());
    std::vector<msg> all = {
        v2_sa_init(),
        v2_auth({ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256,
                 ike::integ_id::hmac_sha2_256_128},
                cbc_spi_i, cbc_spi_r, false),
        v2_auth({ike::encr_id::aes_gcm_16, 128, ike::prf_id::hmac_sha2_256, ike::integ_id::none},
                gcm_spi_i, gcm_spi_r, true),
        v1_mm1(),
        v1_mm3(),
        v1_qm1(),
        v1_info()};
    all.insert(all.end(), frags.begin(), frags.end());
    all.insert(all.end(), v1frags.begin(), v1frags.end());
    return all;
}

}  // namespace

TEST_CASE("messages built with l2sec parse back, validate, and re-encode byte for byte") {
    auto msgs = all_messages();
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        CAPTURE(i);
        auto m = ike::parse(msgs[i]);
        REQUIRE(m.has_value());
        CHECK(ike::validate(*m).has_value());
        std::vector<std::byte> out(msgs[i].size());
        auto n = ike::reencode(*m, out);
        REQUIRE(n.has_value());
        CHECK(out == msgs[i]);
    }
    // The Quick Mode transform says UDP-encapsulated transport, as L2TP/IPsec needs.
    auto qm = *ike::parse(msgs[5]);
    bool found = false;
    for (const auto& p : qm.payloads()) {
        if (p.kind() != ike::payload_type::sa_v1) continue;
        for (const auto& pp : ike::v1::sa::parse(p)->proposals())
            for (const auto& tp : ike::proposal::parse(pp)->transforms()) {
                ike::attribute a;
                found = ike::transform_v1::parse(tp)->attributes().find(
                            ike::v1_ipsec_attr::encapsulation_mode, a) &&
                        a.value() == 4;
            }
    }
    CHECK(found);

    if (const char* path = std::getenv("L2SEC_IKE_GEN_PCAP")) {
        std::vector<std::byte> file(64 * 1024);
        writer w(file);
        pcap::write_file_header(w);
        std::uint32_t t = 1;
        for (auto& mm : msgs) {
            std::array<std::byte, 2048> frame{};
            pcap::udp_endpoints ep{{10, 0, 0, 1}, {10, 0, 0, 2}, 500, 500};
            auto n = pcap::build_udp_ipv4(frame, ep, mm);
            REQUIRE(n.has_value());
            REQUIRE(pcap::write_record(w, bytes_view(frame).first(*n), t++, 0).has_value());
        }
        auto size = w.finish();
        REQUIRE(size.has_value());
        std::FILE* f = std::fopen(path, "wb");
        REQUIRE(f != nullptr);
        std::fwrite(file.data(), 1, *size, f);
        std::fclose(f);
    }
}

// ------------------------------------------------------------------------
// A real handshake: l2sec builds IKE_SA_INIT and IKE_AUTH (PSK) and a
// strongSwan charon answers (tests/interop/ike_handshake.sh sets
// L2SEC_IKE_PEER / L2SEC_IKE_LOCAL and runs this test case inside a network
// namespace). Every message of ours must be accepted, and the responder's
// AUTH must verify with the keys l2sec derived.

namespace {

struct udp_socket {
    int fd = -1;
    ~udp_socket() {
        if (fd >= 0) ::close(fd);
    }
};

std::array<std::byte, 4> ipv4(const char* s) {
    in_addr a{};
    REQUIRE(::inet_pton(AF_INET, s, &a) == 1);
    std::array<std::byte, 4> out{};
    std::memcpy(out.data(), &a, 4);
    return out;
}

}  // namespace

TEST_CASE("IKEv2 handshake with a strongSwan responder (interop; needs L2SEC_IKE_PEER)") {
    const char* peer = std::getenv("L2SEC_IKE_PEER");
    const char* local = std::getenv("L2SEC_IKE_LOCAL");
    if (!peer || !local) {
        MESSAGE(
            "skipped: L2SEC_IKE_PEER / L2SEC_IKE_LOCAL not set (tests/interop/ike_handshake.sh)");
        return;
    }
    const char* psk_env = std::getenv("L2SEC_IKE_PSK");
    const std::string psk = psk_env ? psk_env : "l2sec-ike-test-psk";
    udp_socket s;
    s.fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(s.fd >= 0);
    sockaddr_in me{}, them{};
    me.sin_family = them.sin_family = AF_INET;
    me.sin_port = them.sin_port = htons(500);
    auto my_ip = ipv4(local), their_ip = ipv4(peer);
    std::memcpy(&me.sin_addr, my_ip.data(), 4);
    std::memcpy(&them.sin_addr, their_ip.data(), 4);
    REQUIRE(::bind(s.fd, reinterpret_cast<sockaddr*>(&me), sizeof me) == 0);
    timeval tv{5, 0};
    ::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto exchange = [&](bytes_view out) {
        REQUIRE(::sendto(s.fd, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&them),
                         sizeof them) == static_cast<ssize_t>(out.size()));
        std::vector<std::byte> in(65536);
        auto n = ::recv(s.fd, in.data(), in.size(), 0);
        REQUIRE(n > 0);
        in.resize(static_cast<std::size_t>(n));
        return in;
    };
    // After IKE_SA_INIT the initiator moves to port 4500 (RFC 7296 2.23): four
    // zero bytes (the non-ESP marker) before each IKE message, both ways.
    udp_socket s4;
    s4.fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(s4.fd >= 0);
    sockaddr_in me4 = me, them4 = them;
    me4.sin_port = them4.sin_port = htons(4500);
    REQUIRE(::bind(s4.fd, reinterpret_cast<sockaddr*>(&me4), sizeof me4) == 0);
    ::setsockopt(s4.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto exchange4500 = [&](bytes_view out) {
        std::vector<std::byte> wire(4 + out.size());
        copy_to(mutable_bytes(wire).subspan(4), out);
        REQUIRE(::sendto(s4.fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&them4),
                         sizeof them4) == static_cast<ssize_t>(wire.size()));
        std::vector<std::byte> in(65536);
        auto n = ::recv(s4.fd, in.data(), in.size(), 0);
        REQUIRE(n > 0);
        in.resize(static_cast<std::size_t>(n));
        auto m = ike::strip_non_esp_marker(in);
        REQUIRE(m.has_value());
        return std::vector<std::byte>(m->begin(), m->end());
    };

    struct v2_case {
        const char* name;
        ike::v2::suite suite;
        crypto::dh_id group;
    };
    const v2_case cases[] = {
        {"aes128-cbc/hmac-sha256-128/prf-sha256/ecp256",
         {ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256, ike::integ_id::hmac_sha2_256_128},
         crypto::dh_id::ecp256},
        {"aes256-gcm16/prf-sha384/curve25519",
         {ike::encr_id::aes_gcm_16, 256, ike::prf_id::hmac_sha2_384, ike::integ_id::none},
         crypto::dh_id::curve25519},
    };
    for (const auto& tc : cases) {
        CAPTURE(tc.name);
        MESSAGE("suite " << std::string(tc.name));
        const auto group_id = static_cast<std::uint16_t>(tc.group);
        crypto::botan::random rng;
        ike::header h;
        std::array<std::byte, 8> spi{};
        REQUIRE(rng.fill(spi));
        h.spi_i = load_be64(spi.data());
        h.exchange_type = ike::exchange::ike_sa_init;
        h.flags = ike::flag::initiator;
        std::array<std::byte, 32> ni{};
        REQUIRE(rng.fill(ni));
        auto kx = crypto::botan_dh::make_key_exchange(tc.group);
        REQUIRE(kx.has_value());

        // IKE_SA_INIT: SA (aes128-sha256-ecp256), KE, Nonce.
        std::vector<std::byte> buf(1500);
        ike::message_builder b(buf, h);
        b.begin(ike::payload_type::sa);
        ike::sa_writer sa(b.out());
        sa.begin_proposal(1, 1, {});
        sa.transform_v2(1, static_cast<std::uint16_t>(tc.suite.encr));
        sa.attribute(ike::attribute::basic(14, tc.suite.key_bits));
        sa.transform_v2(2, static_cast<std::uint16_t>(tc.suite.prf));
        if (tc.suite.integ != ike::integ_id::none)
            sa.transform_v2(3, static_cast<std::uint16_t>(tc.suite.integ));
        sa.transform_v2(4, group_id);
        sa.finish();
        b.end();
        b.begin(ike::payload_type::ke);
        ike::v2::ke{group_id, kx->public_value()}.encode(b.out());
        b.end();
        b.add(ike::payload_type::nonce, ni);
        // NAT detection: hashes of our real address/port and of the peer's (no NAT here).
        for (auto [type, addr] :
             {std::pair{std::uint16_t{16388}, my_ip}, std::pair{std::uint16_t{16389}, their_ip}}) {
            auto hsh = ike::nat_detection_hash<B>(crypto::hash_id::sha1, h.spi_i, 0, addr, 500);
            REQUIRE(hsh.has_value());
            b.begin(ike::payload_type::notify);
            ike::v2::notify{0, type, {}, *hsh}.encode(b.out());
            b.end();
        }
        auto init_req = finish(b, buf);
        auto init_resp = exchange(init_req);
        auto r1 = ike::parse(init_resp);
        REQUIRE(r1.has_value());
        REQUIRE(ike::validate(*r1).has_value());
        CHECK(r1->header().exchange_type == ike::exchange::ike_sa_init);
        CHECK(r1->header().response());
        CHECK(r1->header().spi_i == h.spi_i);
        bytes_view nr, their_ke;
        for (const auto& p : r1->payloads()) {
            if (p.kind() == ike::payload_type::nonce) nr = p.body;
            if (p.kind() == ike::payload_type::ke) {
                auto k = ike::v2::ke::parse(p);
                CHECK(k->group == group_id);
                their_ke = k->data;
            }
            if (p.kind() == ike::payload_type::notify) {
                auto n = ike::v2::notify::parse(p);
                CHECK_FALSE(ike::is_error(n->kind()));
            }
        }
        REQUIRE(!nr.empty());
        // The responder's NAT detection data matches ours: nobody is behind a NAT.
        int natd = 0;
        for (const auto& p : r1->payloads()) {
            if (p.kind() != ike::payload_type::notify) continue;
            auto n = ike::v2::notify::parse(p);
            if (n->type != 16388 && n->type != 16389) continue;
            auto expect =
                ike::nat_detection_hash<B>(crypto::hash_id::sha1, h.spi_i, r1->header().spi_r,
                                           n->type == 16388 ? their_ip : my_ip, 500);
            CHECK(test::to_hex(*expect) == test::to_hex(n->data));
            ++natd;
        }
        CHECK(natd == 2);
        REQUIRE(their_ke.size() == crypto::info(tc.group).public_size);
        std::array<std::byte, crypto::max_dh_shared_size> gir{};
        auto gn = kx->agree(their_ke, gir);
        REQUIRE(gn.has_value());

        auto info = *ike::v2::describe(tc.suite);
        auto seed = ike::v2::skeyseed<B>(info, ni, nr, bytes_view(gir).first(*gn));
        REQUIRE(seed.has_value());
        auto keys =
            ike::v2::derive_ike_sa_keys<B>(info, *seed, ni, nr, h.spi_i, r1->header().spi_r);
        REQUIRE(keys.has_value());
        auto tx = ike::v2::sk_protect<B>::make(info, keys->ei, keys->ai);
        auto rx = ike::v2::sk_protect<B>::make(info, keys->er, keys->ar);
        REQUIRE(tx.has_value());
        REQUIRE(rx.has_value());

        // IKE_AUTH: SK { IDi, AUTH, SA (ESP), TSi, TSr }.
        std::array<std::byte, 8> idi_body{};
        idi_body[0] = std::byte{1};
        std::memcpy(idi_body.data() + 4, my_ip.data(), 4);
        auto auth = ike::v2::psk_auth<B>(info, as_bytes(psk), init_req, nr, keys->pi, idi_body);
        REQUIRE(auth.has_value());
        ike::header h2 = h;
        h2.spi_r = r1->header().spi_r;
        h2.exchange_type = ike::exchange::ike_auth;
        h2.message_id = 1;
        std::array<std::byte, 16> iv{};
        REQUIRE(rng.fill(iv));
        ike::message_builder b2(buf, h2);
        auto sk = ike::v2::begin_sk(b2, bytes_view(iv).first(info.iv_size));
        ike::chain_writer in(b2.out(), sk.next_at);
        auto& w = b2.out();
        in.begin(ike::payload_type::idi);
        w.bytes(idi_body);
        in.end();
        in.begin(ike::payload_type::auth);
        ike::v2::auth{2, *auth, {}}.encode(w);
        in.end();
        in.begin(ike::payload_type::sa);
        ike::sa_writer csa(w);
        std::array<std::byte, 4> esp_spi{};
        REQUIRE(rng.fill(esp_spi));
        csa.begin_proposal(1, 3, esp_spi);
        csa.transform_v2(1, 12);
        csa.attribute(ike::attribute::basic(14, 128));
        csa.transform_v2(3, 12);
        csa.transform_v2(5, 0);
        csa.finish();
        in.end();
        for (auto [t, addr] : {std::pair{ike::payload_type::tsi, my_ip},
                               std::pair{ike::payload_type::tsr, their_ip}}) {
            in.begin(t);
            std::array<std::byte, 16> sel{};
            writer sw(sel);
            ike::v2::traffic_selector{7, 0, 0, 65535, addr, addr}.encode(sw);
            ike::v2::ts{1, sel, 0, {}}.encode(w);
            in.end();
        }
        auto n2 = tx->seal(b2, sk);
        REQUIRE(n2.has_value());
        auto auth_resp = exchange4500(bytes_view(buf).first(*n2));
        auto r2 = ike::parse(auth_resp);
        REQUIRE(r2.has_value());
        CHECK(r2->header().exchange_type == ike::exchange::ike_auth);
        auto pt = rx->open(auth_resp);
        REQUIRE(pt.has_value());
        bytes_view idr_body, their_auth;
        std::vector<std::string> inner;
        for (const auto& p : pt->payloads()) {
            inner.push_back(ike::name(p.kind()));
            if (p.kind() == ike::payload_type::idr) idr_body = p.body;
            if (p.kind() == ike::payload_type::auth) their_auth = ike::v2::auth::parse(p)->data;
            if (p.kind() == ike::payload_type::notify) {
                auto n = ike::v2::notify::parse(p);
                const char* nn = ike::name(n->kind());
                MESSAGE("responder notify: " << (nn ? std::string(nn) : std::to_string(n->type)));
                CHECK(n->type != 24);  // AUTHENTICATION_FAILED
            }
        }
        MESSAGE("IKE_AUTH response payloads: " << inner.size());
        REQUIRE(!their_auth.empty());
        auto expect = ike::v2::psk_auth<B>(info, as_bytes(psk), init_resp, ni, keys->pr, idr_body);
        REQUIRE(expect.has_value());
        CHECK(test::to_hex(*expect) == test::to_hex(their_auth));

        // INFORMATIONAL: delete the IKE SA (an empty Delete for protocol IKE).
        ike::header h3 = h2;
        h3.exchange_type = ike::exchange::informational;
        h3.message_id = 2;
        ike::message_builder b3(buf, h3);
        auto sk3 = ike::v2::begin_sk(b3, bytes_view(iv).first(info.iv_size));
        ike::chain_writer in3(b3.out(), sk3.next_at);
        in3.begin(ike::payload_type::delete_);
        ike::v2::delete_{1, 0, 0, {}}.encode(b3.out());
        in3.end();
        auto n3 = tx->seal(b3, sk3);
        REQUIRE(n3.has_value());
        auto del_resp = exchange4500(bytes_view(buf).first(*n3));
        auto pt3 = rx->open(del_resp);
        REQUIRE(pt3.has_value());
        CHECK(ike::parse(del_resp)->header().response());
    }
}

namespace {

/// A UDP/500 "connection" from L2SEC_IKE_LOCAL to L2SEC_IKE_PEER.
struct peer_link {
    udp_socket s;
    sockaddr_in them{};
    std::array<std::byte, 4> my_ip{}, their_ip{};

    bool open() {
        const char* peer = std::getenv("L2SEC_IKE_PEER");
        const char* local = std::getenv("L2SEC_IKE_LOCAL");
        if (!peer || !local) return false;
        s.fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        REQUIRE(s.fd >= 0);
        sockaddr_in me{};
        me.sin_family = them.sin_family = AF_INET;
        me.sin_port = them.sin_port = htons(500);
        my_ip = ipv4(local);
        their_ip = ipv4(peer);
        std::memcpy(&me.sin_addr, my_ip.data(), 4);
        std::memcpy(&them.sin_addr, their_ip.data(), 4);
        REQUIRE(::bind(s.fd, reinterpret_cast<sockaddr*>(&me), sizeof me) == 0);
        timeval tv{5, 0};
        ::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        return true;
    }
    void send(bytes_view out) {
        REQUIRE(::sendto(s.fd, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&them),
                         sizeof them) == static_cast<ssize_t>(out.size()));
    }
    std::vector<std::byte> exchange(bytes_view out) {
        send(out);
        std::vector<std::byte> in(65536);
        auto n = ::recv(s.fd, in.data(), in.size(), 0);
        REQUIRE(n > 0);
        in.resize(static_cast<std::size_t>(n));
        return in;
    }
};

template <class Range>
ike::payload first_of(const Range& chain, ike::payload_type t) {
    for (const auto& p : chain)
        if (p.kind() == t) return p;
    return {};
}

/// The bytes after the HASH payload up to the end of the last payload.
template <class Range>
bytes_view after_hash(bytes_view message, const Range& chain) {
    auto h = first_of(chain, ike::payload_type::hash);
    std::size_t end = 0;
    for (const auto& p : chain)
        end = p.offset + p.size();
    return message.subspan(h.offset + h.size(), end - h.offset - h.size());
}

}  // namespace

TEST_CASE(
    "IKEv1 Main Mode + Quick Mode with a strongSwan responder (interop; needs L2SEC_IKE_PEER)") {
    peer_link link;
    if (!link.open()) {
        MESSAGE(
            "skipped: L2SEC_IKE_PEER / L2SEC_IKE_LOCAL not set (tests/interop/ike_handshake.sh)");
        return;
    }
    const char* psk_env = std::getenv("L2SEC_IKE_PSK");
    const std::string psk = psk_env ? psk_env : "l2sec-ike-test-psk";
    crypto::botan::random rng;
    std::vector<std::byte> buf(2048);
    ike::header h;
    h.major = 1;
    std::array<std::byte, 8> cky{};
    REQUIRE(rng.fill(cky));
    h.spi_i = load_be64(cky.data());
    h.exchange_type = ike::exchange::main_mode;

    // MM1: SA (AES-128, SHA-1, modp2048, PSK).
    ike::message_builder b1(buf, h);
    b1.begin(ike::payload_type::sa_v1);
    ike::v1::sa{ike::doi_ipsec, ike::sit_identity_only, {}, 0}.encode(b1.out());
    ike::sa_writer sa(b1.out());
    sa.begin_proposal(1, 1, {});
    v1_ike_transform(sa);
    sa.attribute(ike::attribute::basic(ike::v1_attr::life_duration, 28800));
    sa.finish();
    b1.end();
    auto mm1 = finish(b1, buf);
    auto sai_b = first_of(ike::parse(mm1)->payloads(), ike::payload_type::sa_v1).body;
    std::vector<std::byte> sai(sai_b.begin(), sai_b.end());
    auto mm2 = link.exchange(mm1);
    auto r2 = ike::parse(mm2);
    REQUIRE(r2.has_value());
    REQUIRE(ike::validate(*r2).has_value());
    CHECK(r2->header().exchange_type == ike::exchange::main_mode);
    h.spi_r = r2->header().spi_r;
    REQUIRE(h.spi_r != 0);

    // MM3: KE, Nonce.
    auto kx = crypto::botan_dh::make_key_exchange(crypto::dh_id::modp2048);
    REQUIRE(kx.has_value());
    std::array<std::byte, 32> ni{};
    REQUIRE(rng.fill(ni));
    ike::message_builder b3(buf, h);
    b3.add(ike::payload_type::ke_v1, kx->public_value());
    b3.add(ike::payload_type::nonce_v1, ni);
    auto mm3 = finish(b3, buf);
    auto mm4 = link.exchange(mm3);
    auto r4 = ike::parse(mm4);
    REQUIRE(r4.has_value());
    auto gxr = first_of(r4->payloads(), ike::payload_type::ke_v1).body;
    auto nr = first_of(r4->payloads(), ike::payload_type::nonce_v1).body;
    REQUIRE(gxr.size() == 256);
    std::array<std::byte, crypto::max_dh_shared_size> gxy{};
    auto gn = kx->agree(gxr, gxy);
    REQUIRE(gn.has_value());
    auto info = *ike::v1::describe({ike::v1_encr::aes_cbc, 128, ike::v1_hash::sha1});
    auto skeyid = ike::v1::skeyid_psk<B>(info, as_bytes(psk), ni, nr);
    REQUIRE(skeyid.has_value());
    auto k = ike::v1::derive_phase1<B>(info, *skeyid, bytes_view(gxy).first(*gn), h.spi_i, h.spi_r);
    REQUIRE(k.has_value());
    auto iv = ike::v1::phase1_iv<B>(info, kx->public_value(), gxr);
    REQUIRE(iv.has_value());
    auto mc = ike::v1::message_crypto<B>::make(info, k->ka);
    REQUIRE(mc.has_value());

    // MM5 (encrypted): ID, HASH_I.
    std::array<std::byte, 8> idi{};
    idi[0] = std::byte{1};
    std::memcpy(idi.data() + 4, link.my_ip.data(), 4);
    auto hash_i = ike::v1::phase1_hash<B>(info, *skeyid, true, kx->public_value(), gxr, h.spi_i,
                                          h.spi_r, sai, idi);
    REQUIRE(hash_i.has_value());
    ike::header h5 = h;
    h5.flags = ike::flag::encrypted;
    ike::message_builder b5(buf, h5);
    b5.add(ike::payload_type::id_v1, idi);
    b5.add(ike::payload_type::hash, *hash_i);
    auto n5 = b5.finish();
    REQUIRE(n5.has_value());
    auto e5 = mc->encrypt(buf, *n5, *iv);
    REQUIRE(e5.has_value());
    auto mm6 = link.exchange(bytes_view(buf).first(*e5));
    auto c6 = mc->decrypt(mm6, *iv);
    REQUIRE(c6.has_value());
    REQUIRE(ike::v1::validate(*c6).has_value());
    auto idr = first_of(*c6, ike::payload_type::id_v1).body;
    auto hash_r = ike::v1::phase1_hash<B>(info, *skeyid, false, kx->public_value(), gxr, h.spi_i,
                                          h.spi_r, sai, idr);
    CHECK(test::to_hex(*hash_r) == test::to_hex(first_of(*c6, ike::payload_type::hash).body));
    const ike::v1::iv last_p1 = *iv;

    // QM1 (encrypted): HASH(1), SA (ESP AES-128/HMAC-SHA1, transport), Nonce, IDci/IDcr udp/1701.
    std::array<std::byte, 4> mid_b{};
    REQUIRE(rng.fill(mid_b));
    mid_b[0] |= std::byte{0x01};
    const std::uint32_t mid = load_be32(mid_b.data());
    ike::header hq = h5;
    hq.exchange_type = ike::exchange::quick_mode;
    hq.message_id = mid;
    hq.flags = 0;  // built in the clear; message_crypto::encrypt sets the E flag
    std::array<std::byte, 32> ni2{};
    REQUIRE(rng.fill(ni2));
    std::array<std::byte, 4> esp_spi{};
    REQUIRE(rng.fill(esp_spi));
    ike::message_builder bq(buf, hq);
    bq.begin(ike::payload_type::hash);
    const std::size_t hash1_at = bq.out().size();
    bq.out().fill(20);
    bq.end();
    bq.begin(ike::payload_type::sa_v1);
    ike::v1::sa{ike::doi_ipsec, ike::sit_identity_only, {}, 0}.encode(bq.out());
    ike::sa_writer qsa(bq.out());
    qsa.begin_proposal(1, 3, esp_spi);
    qsa.transform_v1(1, static_cast<std::uint8_t>(ike::v1_esp_id::aes));
    using namespace ike::v1_ipsec_attr;
    qsa.attribute(ike::attribute::basic(sa_life_type, 1));
    qsa.attribute(ike::attribute::basic(sa_life_duration, 3600));
    qsa.attribute(ike::attribute::basic(
        encapsulation_mode, static_cast<std::uint16_t>(ike::encapsulation_mode::transport)));
    qsa.attribute(ike::attribute::basic(auth_algorithm, 2));
    qsa.attribute(ike::attribute::basic(key_length, 128));
    qsa.finish();
    bq.end();
    bq.add(ike::payload_type::nonce_v1, ni2);
    for (auto addr : {link.my_ip, link.their_ip}) {
        bq.begin(ike::payload_type::id_v1);
        ike::v1::id{1, 17, 1701, addr}.encode(bq.out());
        bq.end();
    }
    auto nq = bq.finish();
    REQUIRE(nq.has_value());
    {
        auto plain = ike::parse(bytes_view(buf).first(*nq));
        REQUIRE(plain.has_value());
        auto h1 =
            ike::v1::qm_hash1<B>(info, k->a, mid, after_hash(plain->data(), plain->payloads()));
        REQUIRE(h1.has_value());
        copy_to(mutable_bytes(buf).subspan(hash1_at), h1->view());
    }
    auto qiv = ike::v1::phase2_iv<B>(info, last_p1, mid);
    REQUIRE(qiv.has_value());
    auto eq = mc->encrypt(buf, *nq, *qiv);
    REQUIRE(eq.has_value());
    auto qm2 = link.exchange(bytes_view(buf).first(*eq));
    auto rq = ike::parse(qm2);
    REQUIRE(rq.has_value());
    CHECK(rq->header().exchange_type == ike::exchange::quick_mode);
    CHECK(rq->header().message_id == mid);
    auto cq = mc->decrypt(qm2, *qiv);
    REQUIRE(cq.has_value());
    REQUIRE(ike::v1::validate(*cq).has_value());
    auto nr2 = first_of(*cq, ike::payload_type::nonce_v1).body;
    auto h2 = ike::v1::qm_hash2<B>(info, k->a, mid, ni2, after_hash(qm2, *cq));
    CHECK(test::to_hex(*h2) == test::to_hex(first_of(*cq, ike::payload_type::hash).body));
    // The responder's transform: ESP AES-128, transport, HMAC-SHA1, its SPI; then KEYMAT.
    std::uint32_t their_spi = 0;
    for (const auto& pp :
         ike::v1::sa::parse(first_of(*cq, ike::payload_type::sa_v1))->proposals()) {
        auto pr = ike::proposal::parse(pp);
        REQUIRE(pr->spi.size() == 4);
        their_spi = load_be32(pr->spi.data());
    }
    std::array<std::byte, 36> km{};
    CHECK(ike::v1::keymat<B>(info, k->d, 3, their_spi, ni2, nr2, km).has_value());

    // QM3: HASH(3).
    auto h3 = ike::v1::qm_hash3<B>(info, k->a, mid, ni2, nr2);
    ike::message_builder b33(buf, hq);
    b33.add(ike::payload_type::hash, *h3);
    auto n33 = b33.finish();
    REQUIRE(n33.has_value());
    auto e33 = mc->encrypt(buf, *n33, *qiv);
    REQUIRE(e33.has_value());
    link.send(bytes_view(buf).first(*e33));
}
