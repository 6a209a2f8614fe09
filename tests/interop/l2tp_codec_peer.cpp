// A scripted L2TP LAC built from the l2sec codecs only (no engine): it talks to
// a real LNS (xl2tpd) on loopback, used by l2tp_codec_xl2tpd.sh.
//
//   l2tp_codec_peer <lns-port> <secret>
//
// SCCRQ (with a Challenge) -> SCCRP: parsed, validated, its Challenge
// Response checked (RFC 2661 5.1.1), any hidden AVP unhidden -> SCCCN with our
// Challenge Response -> ICRQ whose Assigned Session ID and Call Serial Number
// are hidden AVPs (4.3) -> ICRP -> ICCN -> (xl2tpd's pppd cannot start here)
// CDN -> ZLB -> StopCCN -> ZLB. Every received message is printed with its
// AVPs. Exit 0 when every step happened as the RFC says.
#include <l2sec/crypto/portable.hpp>
#include <l2sec/l2tp.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

namespace l2tp = l2sec::l2tp;
namespace avps = l2sec::l2tp::avps;
using l2sec::as_bytes;
using l2sec::bytes_view;

namespace {

int fd = -1;
sockaddr_in peer{};
bool peer_known = false;
std::uint16_t ns = 0;        // our next Ns
std::uint16_t nr = 0;        // next Ns we expect from the peer
std::uint16_t peer_tid = 0;  // the LNS's tunnel ID
std::string secret;
int failures = 0;
// MD5 for hidden AVPs and tunnel authentication: this peer needs no crypto
// library, so it uses the standard-library-only backend.
auto md5 = *l2sec::crypto::portable::make_hash(l2sec::crypto::hash_id::md5);

void fail(const char* what) {
    std::printf("FAIL: %s\n", what);
    ++failures;
}

void send(bytes_view b, bool counts = true) {
    const sockaddr* to = reinterpret_cast<const sockaddr*>(&peer);
    if (::sendto(fd, b.data(), b.size(), 0, to, sizeof peer) < 0) std::perror("sendto");
    if (counts) ++ns;
}

void print_octets(bytes_view b) {
    bool text = !b.empty();
    for (auto c : b)
        text = text && std::to_integer<int>(c) >= 0x20 && std::to_integer<int>(c) < 0x7f;
    if (text) {
        std::printf(" \"%.*s\"", int(b.size()), reinterpret_cast<const char*>(b.data()));
        return;
    }
    std::printf(" ");
    for (auto c : b)
        std::printf("%02x", std::to_integer<unsigned>(c));
}

// Print one AVP as its typed value (unhidden when hidden).
void print_avp(const l2tp::avp_view& a) {
    std::array<std::byte, 1024> plain{};
    auto p = l2tp::unhide(md5, a, as_bytes(secret), plain);
    if (!p) {
        std::printf("    %s: %s\n", a.name(), p.error().message().c_str());
        fail("unhide");
        return;
    }
    std::printf("    %-24s M=%d H=%d vendor=%u type=%u len=%zu", a.name(), a.mandatory(),
                a.hidden(), a.vendor(), a.type(), a.value().size());
    auto r = l2tp::visit_avp(a, *p, [](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, l2tp::avp_view>)
            std::printf(" (kept raw)");
        else if constexpr (requires { v.text(); })
            print_octets(v.value);
        else if constexpr (requires { v.value + 0u; })
            std::printf(" = %llu", (unsigned long long)v.value);
        else if constexpr (std::is_same_v<V, avps::result_code>)
            std::printf(" result=%u error=%u \"%.*s\"", v.result, v.error_code,
                        int(v.message.size()), reinterpret_cast<const char*>(v.message.data()));
    });
    std::printf("\n");
    if (!r) {
        std::printf("      decode error: %s\n", r.error().message().c_str());
        fail("typed decode");
    }
}

// Receive the next non-ZLB control message (ZLBs are printed and skipped;
// retransmissions of what we already saw are acknowledged again).
bool receive(std::array<std::byte, 4096>& buf, l2tp::message_view& out, int timeout_ms = 5000) {
    for (;;) {
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, 1, timeout_ms) <= 0) return false;
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        ssize_t n =
            ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n <= 0) return false;
        if (!peer_known) {
            peer = from;  // xl2tpd answers from its own port
            peer_known = true;
        }
        auto m = l2tp::parse(bytes_view(buf.data(), static_cast<std::size_t>(n)));
        if (!m) {
            std::printf("  parse error: %s\n", m.error().message().c_str());
            fail("parse");
            return false;
        }
        std::printf("<- %s tunnel=%u session=%u Ns=%u Nr=%u (%zd octets)\n", m->type_name(),
                    m->hdr().tunnel_id, m->hdr().session_id, m->hdr().ns, m->hdr().nr, n);
        if (m->is_zlb()) continue;
        if (m->hdr().ns != nr) {  // a retransmission: ack it again
            std::array<std::byte, 16> z{};
            send(*l2tp::write_zlb(z, peer_tid, 0, ns, nr), false);
            continue;
        }
        ++nr;
        for (auto a : m->avps())
            print_avp(a);
        if (auto v = l2tp::validate(*m); !v) {
            std::printf("  validate: %s\n", v.error().message().c_str());
            fail("validate");
        }
        if (auto c = l2tp::check_mandatory(m->avps()); !c) {
            std::printf("  %s\n", c.error().message().c_str());
            fail("unknown mandatory AVP");
        }
        out = *m;
        return true;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s <lns-port> <secret>\n", argv[0]);
        return 2;
    }
    secret = argv[2];
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) return 2;
    peer.sin_family = AF_INET;
    peer.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    std::array<std::byte, 4096> rx{};
    std::array<std::byte, 1024> tx{};
    const std::uint16_t our_tid = 4242, our_sid = 77;
    std::array<std::byte, 16> our_challenge{};
    for (std::size_t i = 0; i < 16; ++i)
        our_challenge[i] = static_cast<std::byte>(0xA0 + i);
    const auto sec = as_bytes(secret);

    // SCCRQ
    {
        l2tp::message_builder b(tx, 0, 0, ns, nr);
        b.add(avps::message_type{l2tp::message_type::sccrq})
            .add(avps::protocol_version{1, 0})
            .add(avps::host_name{as_bytes("l2sec-codec-lac")})
            .add(avps::framing_capabilities{avps::framing::sync | avps::framing::async})
            .add(avps::bearer_capabilities{avps::bearer::digital | avps::bearer::analog})
            .add(avps::firmware_revision{0x0100})
            .add(avps::vendor_name{as_bytes("l2sec")})
            .add(avps::assigned_tunnel_id{our_tid})
            .add(avps::receive_window_size{4})
            .add(avps::challenge{our_challenge});
        auto m = b.finish();
        if (!m) return 2;
        std::printf("-> SCCRQ (%zu octets)\n", m->size());
        send(*m);
    }
    l2tp::message_view m;
    if (!receive(rx, m) || m.type() != l2tp::message_type::sccrp) {
        fail("no SCCRP");
        return 1;
    }
    peer_tid = m.get<avps::assigned_tunnel_id>()->value;
    if (m.hdr().tunnel_id != our_tid) fail("SCCRP not addressed to our tunnel");
    // The LNS's answer to our challenge (type 2).
    auto resp = m.get<avps::challenge_response>();
    if (!resp)
        fail("SCCRP without Challenge Response");
    else if (!l2tp::verify_challenge_response(md5, 2, sec, our_challenge, resp->value))
        fail("SCCRP Challenge Response wrong");
    else
        std::printf("  SCCRP Challenge Response verified\n");
    std::array<std::byte, 256> lns_challenge_buf{};
    bytes_view lns_challenge{};
    if (auto ch = m.find(l2tp::avp_type::challenge)) {
        auto p = l2tp::unhide(md5, *ch, sec, lns_challenge_buf);
        if (p) lns_challenge = *p;
    }

    // SCCCN (with our response when the LNS challenged us)
    {
        l2tp::message_builder b(tx, peer_tid, 0, ns, nr);
        b.add(avps::message_type{l2tp::message_type::scccn});
        if (!lns_challenge.empty()) {
            auto d = l2tp::scccn_response(md5, sec, lns_challenge);
            if (d) b.add(avps::challenge_response{*d});
        }
        auto out = b.finish();
        std::printf("-> SCCCN%s\n", lns_challenge.empty() ? "" : " with Challenge Response");
        send(*out);
    }
    // ICRQ with hidden Assigned Session ID and Call Serial Number
    {
        std::array<std::byte, 16> rv{};
        for (std::size_t i = 0; i < 16; ++i)
            rv[i] = static_cast<std::byte>(0x30 + 7 * i);
        const std::array<std::byte, 5> pad{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4},
                                           std::byte{5}};
        l2tp::message_builder b(tx, peer_tid, 0, ns, nr);
        b.add(avps::message_type{l2tp::message_type::icrq})
            .add(avps::random_vector{rv})
            .add_hidden(md5, avps::assigned_session_id{our_sid}, sec, pad)
            .add_hidden(md5, avps::call_serial_number{12345}, sec)
            .add(avps::bearer_type{avps::bearer::analog});
        auto out = b.finish();
        std::printf("-> ICRQ (hidden Assigned Session ID and Call Serial Number)\n");
        send(*out);
    }
    if (!receive(rx, m) || m.type() != l2tp::message_type::icrp) {
        fail("no ICRP (did the LNS read our hidden AVPs?)");
        return 1;
    }
    if (m.hdr().session_id != our_sid) fail("ICRP not addressed to our (hidden) session ID");
    std::uint16_t peer_sid = 0;
    {
        auto a = m.find(l2tp::avp_type::assigned_session_id);
        std::array<std::byte, 64> pb{};
        auto p =
            a ? l2tp::unhide(md5, *a, sec, pb) : l2sec::result<bytes_view>(l2tp::errc::missing_avp);
        auto v = p ? avps::assigned_session_id::decode(*p, a->offset()) : p.error();
        if (!v)
            fail("ICRP Assigned Session ID");
        else
            peer_sid = v->value;
    }
    // ICCN
    {
        l2tp::message_builder b(tx, peer_tid, peer_sid, ns, nr);
        b.add(avps::message_type{l2tp::message_type::iccn})
            .add(avps::tx_connect_speed{10000000})
            .add(avps::framing_type{avps::framing::sync});
        std::printf("-> ICCN\n");
        send(*b.finish());
    }
    // xl2tpd cannot start pppd here: it tears the call down with CDN.
    if (!receive(rx, m, 8000) || m.type() != l2tp::message_type::cdn) {
        fail("no CDN");
    } else {
        auto rc = m.get<avps::result_code>();
        if (!rc) fail("CDN Result Code");
        std::array<std::byte, 16> z{};
        send(*l2tp::write_zlb(z, peer_tid, peer_sid, ns, nr), false);
        std::printf("-> ZLB\n");
    }
    // StopCCN
    {
        l2tp::message_builder b(tx, peer_tid, 0, ns, nr);
        b.add(avps::message_type{l2tp::message_type::stopccn})
            .add(avps::assigned_tunnel_id{our_tid})
            .add(avps::result_code{1, true, 0, as_bytes("l2sec codec test done")});
        std::printf("-> StopCCN\n");
        send(*b.finish());
    }
    // Expect the ZLB acknowledging it (or nothing more: not fatal).
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 3000) > 0) {
        auto n = ::recv(fd, rx.data(), rx.size(), 0);
        auto z = n > 0 ? l2tp::parse(bytes_view(rx.data(), static_cast<std::size_t>(n)))
                       : l2sec::result<l2tp::message_view>(l2tp::errc::truncated);
        if (z) std::printf("<- %s Nr=%u\n", z->type_name(), z->hdr().nr);
        if (!z || !z->is_zlb() || z->hdr().nr != ns) fail("StopCCN not acknowledged by a ZLB");
    } else {
        fail("no ZLB for StopCCN");
    }
    ::close(fd);
    std::printf(failures ? "FAILED (%d)\n" : "OK\n", failures);
    return failures ? 1 : 0;
}
