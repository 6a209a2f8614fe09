// l2sec-ike2: the IKEv2 engine over real UDP sockets (ports 500 and 4500).
// As responder it waits for peers; with --connect it initiates IKE_SA_INIT
// and IKE_AUTH with one Child SA (transport mode with the UDP 1701
// selectors, or --tunnel with "any"). It prints every event and the
// negotiated ESP SAs, and exits 0 once --children Child SAs are up (and
// --hold seconds have passed), 1 on failure or timeout.
//
//   l2sec-ike2 --bind 10.0.0.1 --psk secret [--connect 10.0.0.2] [--children 1]
//              [--hold 0] [--timeout 30] [--weak] [--tunnel] [--close] [--dpd S] [--id FQDN]
//              [--retries N] (transmissions of a request before timeout / peer_dead)
//              [--vip] (ask for a virtual address) [--pool A.B.C.D] (hand them out from A.B.C.D)
//              [--fragment-size N] (RFC 7383: largest IKE datagram sent whole; 0 = off)
//              [--rekey S] (Child SA lifetime: we rekey ours at 90 %) [--ike-rekey S] (the
//              same for the IKE SAs we initiated) [--pfs GROUP] (PFS in
//              our rekeys: 14 = MODP-2048, 19 = ECP-256, 31 = Curve25519...) [--esn]
//              [--overlap S] (how long a replaced SA stays, default 10)
//              [--cross-rekey child|ike] (test tool: when the peer's first CREATE_CHILD_SA
//              request arrives, start our own rekey of the newest Child SA, or of the IKE
//              SA, before reading it: the two requests cross, a simultaneous rekey,
//              RFC 7296 2.8.1 / 2.8.2)
#include "common/options.hpp"

#include <l2sec/crypto/botan.hpp>
#include <l2sec/ike/v2/engine.hpp>
#include <l2sec/transport/posix_udp.hpp>

#include <arpa/inet.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <string>

using namespace l2sec;
namespace v2 = l2sec::ike::v2;
using clk = std::chrono::steady_clock;

namespace {

std::string str(const transport::endpoint& e) {
    char b[64];
    std::snprintf(b, sizeof b, "%u.%u.%u.%u:%u", e.addr[0], e.addr[1], e.addr[2], e.addr[3],
                  e.port);
    return b;
}
const char* kind_name(v2::event_kind k) {
    switch (k) {
        case v2::event_kind::ike_up:
            return "ike_up";
        case v2::event_kind::ike_down:
            return "ike_down";
        case v2::event_kind::child_up:
            return "child_up";
        case v2::event_kind::child_down:
            return "child_down";
        case v2::event_kind::peer_dead:
            return "peer_dead";
        case v2::event_kind::failed:
            return "failed";
    }
    return "?";
}
/// --pool: consecutive addresses from the one given, DNS = the one before it.
struct pool {
    std::array<std::uint8_t, 4> next{};
    static bool assign(void* ctx, const transport::endpoint&, bytes_view,
                       std::array<std::uint8_t, 4>& a, std::array<std::uint8_t, 4>& dns) {
        auto* p = static_cast<pool*>(ctx);
        a = p->next;
        dns = p->next;
        dns[3] = static_cast<std::uint8_t>(dns[3] - 1);
        p->next[3] = static_cast<std::uint8_t>(p->next[3] + 1);
        return true;
    }
};
/// A CREATE_CHILD_SA request (exchange 36, Response flag clear), read in the
/// clear IKE header; on 4500 after the non-ESP marker.
bool create_child_request(bytes_view d, bool on_4500) {
    if (on_4500) d = d.size() >= 4 ? d.subspan(4) : bytes_view{};
    return d.size() >= 28 && d[18] == std::byte{36} && (d[19] & std::byte{0x20}) == std::byte{0};
}
std::optional<transport::endpoint> parse_v4(const std::string& s, std::uint16_t port) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
    return transport::endpoint::v4(ntohl(a.s_addr), port);
}

}  // namespace

int main(int argc, char** argv) {
    std::string bind_s, connect_s, psk = "l2sec-ike-test-psk", id;
    int children = 1, hold = 0, timeout_s = 30, dpd = 0, retries = 0, fragment_size = 1232;
    int rekey = 0, ike_rekey = 0, pfs = 0, overlap = -1;
    bool weak = false, tunnel = false, close_at_end = false, vip = false, esn = false;
    std::string pool_s, keylog, cross;
    examples::options o;
    o.text("--bind", bind_s).text("--connect", connect_s).text("--psk", psk).text("--id", id);
    o.number("--children", children).number("--hold", hold).number("--timeout", timeout_s);
    o.number("--dpd", dpd).number("--retries", retries).number("--fragment-size", fragment_size);
    o.number("--rekey", rekey).number("--ike-rekey", ike_rekey).number("--pfs", pfs);
    o.flag("--weak", weak).flag("--tunnel", tunnel).flag("--close", close_at_end);
    o.flag("--vip", vip).text("--pool", pool_s).text("--keylog", keylog).flag("--esn", esn);
    o.text("--cross-rekey", cross).number("--overlap", overlap);
    if (!o.parse(argc, argv) || bind_s.empty() ||
        (!cross.empty() && cross != "child" && cross != "ike")) {
        std::fprintf(
            stderr,
            "usage: l2sec-ike2 --bind ADDR [--connect PEER] [--psk S] [--keylog FILE] ...\n"
            "  --keylog FILE  append each IKE SA's keys as a Wireshark ikev2_decryption_table\n"
            "                 line: tshark -o \"uat:ikev2_decryption_table:LINE\"\n");
        return 2;
    }
    auto l500 = parse_v4(bind_s, 500), l4500 = parse_v4(bind_s, 4500);
    if (!l500) return 2;
    auto s500 = transport::posix_udp::bind(*l500);
    auto s4500 = transport::posix_udp::bind(*l4500);
    if (!s500 || !s4500) {
        std::fprintf(stderr, "cannot bind %s:500/4500\n", bind_s.c_str());
        return 2;
    }
    v2::config cfg;
    cfg.allow_weak = weak;
    cfg.dpd_interval = std::chrono::seconds(dpd);
    if (retries > 0) cfg.retransmit_tries = static_cast<unsigned>(retries);
    cfg.local_id = as_bytes(id);
    if (rekey > 0) cfg.child_lifetime = std::chrono::seconds(rekey);
    if (ike_rekey > 0) cfg.ike_lifetime = std::chrono::seconds(ike_rekey);
    if (overlap >= 0) cfg.rekey_overlap = std::chrono::seconds(overlap);
    cfg.child_pfs = static_cast<ike::dh_group>(pfs);
    cfg.esn = esn;
    cfg.fragmentation = fragment_size > 0;
    if (fragment_size > 0) cfg.fragment_size = static_cast<std::size_t>(fragment_size);
    pool addresses;
    if (!pool_s.empty()) {
        auto a = parse_v4(pool_s, 0);
        if (!a) return 2;
        for (std::size_t i = 0; i < 4; ++i)
            addresses.next[i] = a->addr[i];
        cfg.pool = {&pool::assign, nullptr, &addresses};
    }
    using engine_t = v2::engine<crypto::botan, crypto::botan::random>;
    auto made = engine_t::make(cfg, crypto::botan::random{}, v2::single_psk(as_bytes(psk)));
    if (!made) {
        std::fprintf(stderr, "config: %s\n", made.error().message().c_str());
        return 2;
    }
    auto& e = *made;
    const auto start = clk::now();
    if (!connect_s.empty()) {
        auto peer = parse_v4(connect_s, 500);
        if (!peer) return 2;
        v2::connection c;
        c.local = *l500;
        c.peer = *peer;
        if (tunnel) {
            c.mode = esp::mode::tunnel;
            c.any_address = true;
            c.protocol = 0;
            c.local_port = c.remote_port = 0;
        }
        c.request_address = vip;
        auto h = e.connect(c, start);
        if (!h) {
            std::fprintf(stderr, "connect: %s\n", h.error().message().c_str());
            return 1;
        }
        std::printf("connecting %s -> %s\n", str(*l500).c_str(), str(*peer).c_str());
    } else {
        std::printf("listening on %s and :4500\n", str(*l500).c_str());
    }
    std::fflush(stdout);
    int up = 0, failures = 0;
    v2::sa_handle newest_ike{};  // --cross-rekey: what we rekey
    std::uint32_t newest_child = 0;
    std::optional<clk::time_point> done_at;
    std::array<std::byte, 65536> buf{};
    for (;;) {
        auto now = clk::now();
        while (auto d = e.poll_datagram()) {
            auto& sock = d->local.port == 4500 ? *s4500 : *s500;
            (void)sock.send_to(d->peer, d->data);
        }
        while (auto ev = e.poll_event()) {
            std::printf("event %s peer=%s", kind_name(ev->kind), str(ev->peer).c_str());
            if (ev->kind == v2::event_kind::ike_up && !keylog.empty())
                if (auto k = e.key_material(ev->ike))
                    if (auto line = v2::wireshark_ikev2_line(*k); !line.empty())
                        if (FILE* f = std::fopen(keylog.c_str(), "a")) {
                            std::fprintf(f, "%s\n", line.c_str());
                            std::fclose(f);
                        }
            if (ev->kind == v2::event_kind::ike_up) newest_ike = ev->ike;
            if (ev->kind == v2::event_kind::child_up) {
                const auto& c = ev->child;
                newest_ike = ev->ike;
                newest_child = c.spi_in;
                std::printf(
                    " spi_in=%08x spi_out=%08x enc=%s/%zu integ=%d mode=%s udp_encap=%d"
                    " nat_local=%d nat_peer=%d selectors=%u/%u-%u old_spi_in=%08x pfs=%u esn=%d",
                    c.spi_in, c.spi_out,
                    c.suite.enc == esp::encryption::aes_gcm_16 ? "aes-gcm16" : "aes-cbc",
                    c.suite.enc_key_size * 8, static_cast<int>(c.suite.integ),
                    c.mode == esp::mode::transport ? "transport" : "tunnel", c.udp_encap,
                    c.nat.local_behind, c.nat.peer_behind, c.protocol, c.local_port, c.remote_port,
                    ev->old_spi_in, c.pfs_group, c.esn);
                ++up;
            }
            if (ev->internal_address)
                std::printf(" internal_address=%s", str(*ev->internal_address).c_str());
            if (ev->internal_dns) std::printf(" internal_dns=%s", str(*ev->internal_dns).c_str());
            if (ev->kind == v2::event_kind::child_down) std::printf(" spi_in=%08x", ev->spi_in);
            if (ev->reason) std::printf(" reason=\"%s\"", ev->reason.message().c_str());
            std::printf("\n");
            if (ev->kind == v2::event_kind::failed) ++failures;
        }
        std::fflush(stdout);
        if (up >= children && !done_at) done_at = now + std::chrono::seconds(hold);
        if (done_at && now >= *done_at) break;
        if (now - start > std::chrono::seconds(timeout_s)) {
            std::printf("timeout: %d of %d Child SAs up, last error: %s\n", up, children,
                        e.stats().last_error.code ? e.stats().last_error.message().c_str() : "-");
            return 1;
        }
        int wait_ms = 200;
        if (auto t = e.next_deadline()) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*t - now).count();
            wait_ms = static_cast<int>(std::clamp<long long>(ms, 0, 200));
        }
        std::array<pollfd, 2> fds{{{s500->fd(), POLLIN, 0}, {s4500->fd(), POLLIN, 0}}};
        ::poll(fds.data(), fds.size(), wait_ms);
        now = clk::now();
        for (int i = 0; i < 2; ++i) {
            auto& sock = i == 0 ? *s500 : *s4500;
            while (auto r = sock.receive_from(buf)) {
                if (i == 1 && r->size >= 4 &&
                    (buf[0] != std::byte{0} || buf[1] != std::byte{0} || buf[2] != std::byte{0} ||
                     buf[3] != std::byte{0}))
                    continue;                          // ESP: not the engine's
                if (i == 1 && r->size == 1) continue;  // NAT-T keepalive
                if (!cross.empty() && newest_child &&
                    create_child_request(bytes_view(buf.data(), r->size), i == 1)) {
                    auto ok = cross == "ike" ? e.rekey_ike(newest_ike, now)
                                             : e.rekey_child(newest_ike, newest_child, now);
                    std::printf("cross-rekey %s before the peer's CREATE_CHILD_SA: %s\n",
                                cross.c_str(), ok ? "started" : ok.error().message().c_str());
                    cross.clear();
                    // Our request goes out now, and 50 ms before our answer: a
                    // peer with worker threads (charon) may take two datagrams
                    // that arrive together in either order, and with our answer
                    // first its rekey is done before it sees ours, no collision.
                    while (auto d = e.poll_datagram()) {
                        auto& out = d->local.port == 4500 ? *s4500 : *s500;
                        (void)out.send_to(d->peer, d->data);
                    }
                    ::poll(nullptr, 0, 50);
                    now = clk::now();
                }
                e.receive(bytes_view(buf.data(), r->size), sock.local_endpoint(), r->from, now);
            }
        }
        e.tick(now);
    }
    std::printf(
        "stats: received=%llu sent=%llu dropped=%llu duplicates=%llu retransmits=%llu"
        " fragments_sent=%llu fragments_received=%llu rekey_collisions=%llu"
        " rekeys_deferred=%llu\n",
        static_cast<unsigned long long>(e.stats().received),
        static_cast<unsigned long long>(e.stats().sent),
        static_cast<unsigned long long>(e.stats().dropped),
        static_cast<unsigned long long>(e.stats().duplicates),
        static_cast<unsigned long long>(e.stats().retransmits),
        static_cast<unsigned long long>(e.stats().fragments_sent),
        static_cast<unsigned long long>(e.stats().fragments_received),
        static_cast<unsigned long long>(e.stats().rekey_collisions),
        static_cast<unsigned long long>(e.stats().rekeys_deferred));
    if (close_at_end) {
        e.close_all(clk::now());
        while (auto d = e.poll_datagram()) {
            auto& sock = d->local.port == 4500 ? *s4500 : *s500;
            (void)sock.send_to(d->peer, d->data);
        }
    }
    return failures && up < children ? 1 : 0;
}
