// l2sec-demo: the whole L2TP/IPsec stack in one process. An l2sec server and
// a client behind a NAT box, over an in-memory network: IKEv1 Main Mode and
// Quick Mode with a pre-shared key (NAT detected, so ESP moves into UDP
// 4500), then L2TP (tunnel, session) and PPP (LCP, MS-CHAPv2, IPCP) inside
// ESP transport mode, three pings, and an orderly teardown (LCP Terminate,
// CDN, StopCCN, IKE Delete). Every datagram is traced as each layer sees it:
// the demo knows the ESP keys (a key log, as --keylog gives Wireshark), so it
// opens a copy of each ESP packet to show the L2TP and PPP inside.
//
//   l2sec-demo [--loss 0.2] [--seed 7] [--quiet]
//
// A simulation: its randomness is the deterministic generator that says it
// is insecure, so a run replays from --seed. Real deployments use
// l2sec-server and l2sec-client, which draw from the system CSPRNG.
#include <l2sec/ike/header.hpp>
#include <l2sec/ike/registry.hpp>
#include <l2sec/l2tp/message.hpp>
#include <l2sec/ppp/control.hpp>
#include <l2sec/ppp/frame.hpp>
#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/testing/vpn_network.hpp>
#include <l2sec/vpn/client.hpp>
#include <l2sec/vpn/icmp.hpp>
#include <l2sec/vpn/server.hpp>

#include "common/crypto.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace l2sec;
using namespace std::chrono_literals;

namespace {

using demo_random = testing::insecure_deterministic_random;
using backend = examples::crypto_backend;

bool quiet = false;
time_point t0{};

std::string ip_text(std::uint32_t a) {
    char b[20];
    std::snprintf(b, sizeof b, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    return b;
}
std::string ep_text(const transport::endpoint& e) {
    return ip_text(e.v4_host_order()) + ":" + std::to_string(e.port);
}
double ms(time_point t) {
    return std::chrono::duration<double, std::milli>(t - t0).count();
}
void say(time_point now, const std::string& what) {
    std::printf("%9.1f ms  %s\n", ms(now), what.c_str());
}

// Both ends' ESP SAs, by SPI, from the key logs: the demo's Wireshark.
struct sa_book {
    std::map<std::uint32_t, std::unique_ptr<esp::sa<backend>>> sas;
    std::vector<std::vector<std::byte>> keys;  // keep the key bytes alive
    void add(const esp::sa_config& c) {
        keys.emplace_back(c.enc_key.begin(), c.enc_key.end());
        auto& ek = keys.back();
        keys.emplace_back(c.integ_key.begin(), c.integ_key.end());
        auto& ik = keys.back();
        esp::sa_config copy = c;
        copy.enc_key = ek;
        copy.integ_key = ik;
        copy.replay_window = 0;  // the trace opens copies; the stack checks replays
        demo_random r(1);
        if (auto s = esp::sa<backend>::make(copy, r))
            sas[c.spi] = std::make_unique<esp::sa<backend>>(std::move(*s));
    }
};
sa_book book;
struct demo_key_log {
    void esp_sa(const vpn::esp_key_record& r) { book.add(*r.sa); }
};

std::string describe_ppp(bytes_view l2tp_bytes) {
    auto m = l2tp::parse(l2tp_bytes);
    if (!m) return "L2TP malformed: " + m.error().message();
    char b[200];
    const auto& h = m->hdr();
    if (m->is_control()) {
        std::snprintf(b, sizeof b, "L2TP %s tunnel %u session %u Ns %u Nr %u", m->type_name(),
                      h.tunnel_id, h.session_id, h.ns, h.nr);
        return b;
    }
    auto f = ppp::decode_frame(m->payload());
    if (!f) return "L2TP data, bad PPP frame";
    std::string inner;
    if (f->protocol == ppp::protocol::ip && f->information.size() >= 21) {
        inner = "IPv4 " + ip_text(load_be32(f->information.data() + 12)) + " -> " +
                ip_text(load_be32(f->information.data() + 16));
        if (std::to_integer<int>(f->information[9]) == 1)
            inner += std::to_integer<int>(f->information[20]) == 8 ? " ICMP echo request"
                                                                   : " ICMP echo reply";
    } else if (f->protocol == ppp::protocol::pap || f->protocol == ppp::protocol::chap) {
        int c = f->information.empty() ? 0 : std::to_integer<int>(f->information[0]);
        static const char* chap[] = {"?", "Challenge", "Response", "Success", "Failure"};
        inner = f->protocol == ppp::protocol::chap
                    ? std::string("MS-CHAPv2 ") + (c <= 4 ? chap[c] : "?")
                    : std::string("PAP");
    } else {
        auto p = ppp::decode_packet(f->information);
        const char* proto = ppp::protocol_name(f->protocol);
        const char* cn = p ? ppp::code_name(p->code) : nullptr;
        inner = std::string(proto ? proto : "?") + " " + (cn ? cn : "?");
    }
    std::snprintf(b, sizeof b, "L2TP data tunnel %u session %u | PPP %s", h.tunnel_id, h.session_id,
                  inner.c_str());
    return b;
}

// One datagram as each layer sees it.
std::string describe(const vpn::outbound& o) {
    bytes_view d = o.data;
    bool marker = !o.raw_esp && o.local.port == 4500 && d.size() >= 4 && load_be32(d.data()) == 0;
    if (!o.raw_esp && (o.local.port == 500 || marker)) {
        auto h = ike::decode_header(marker ? d.subspan(4) : d);
        if (!h) return "IKE malformed";
        char b[160];
        std::snprintf(b, sizeof b, "UDP %u  IKEv1 %s%s msgid %08x", o.local.port,
                      ike::name(h->exchange_type), h->encrypted() ? " (encrypted)" : "",
                      h->message_id);
        return b;
    }
    if (d.size() < 8) return "?";
    std::uint32_t spi = load_be32(d.data());
    char b[96];
    std::snprintf(b, sizeof b, "%s ESP spi %08x seq %u | ", o.raw_esp ? "IP/50" : "UDP 4500", spi,
                  load_be32(d.data() + 4));
    auto it = book.sas.find(spi);
    if (it == book.sas.end()) return std::string(b) + "(no key)";
    std::vector<std::byte> copy(d.begin(), d.end());
    auto in = it->second->unprotect(copy);
    if (!in) return std::string(b) + in.error().message();
    auto u = vpn::unwrap_udp(in->payload);
    if (!u) return std::string(b) + "not UDP";
    return std::string(b) + "UDP " + std::to_string(u->src_port) + "->" +
           std::to_string(u->dst_port) + " | " + describe_ppp(u->data);
}

struct users {
    std::optional<std::size_t> find_password(std::string_view u, std::span<char> out) noexcept {
        constexpr std::string_view pw = "wonderland";
        if (u != "alice" || out.size() < pw.size()) return std::nullopt;
        std::copy(pw.begin(), pw.end(), out.begin());
        return pw.size();
    }
} user_store;

}  // namespace

int main(int argc, char** argv) {
    double loss = 0;
    std::uint64_t seed = 7;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--loss" && i + 1 < argc)
            loss = std::atof(argv[++i]);
        else if (a == "--seed" && i + 1 < argc)
            seed = std::strtoull(argv[++i], nullptr, 10);
        else if (a == "--quiet")
            quiet = true;
        else {
            std::fprintf(stderr, "usage: l2sec-demo [--loss P] [--seed N] [--quiet]\n");
            return 2;
        }
    }
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    constexpr std::uint32_t server_ip = 0xc0000201, nat_ip = 0xcb007101, client_ip = 0xc0a80102;
    testing::vpn_network net(seed, loss, 2ms);
    net.add_nat(nat_ip);
    net.put_behind(client_ip, nat_ip);

    vpn::server_config sc;
    sc.link.require = ppp::auth_method::mschapv2;
    sc.link.local_ip = 0x0a0a0001;
    sc.link.dns1 = 0x0a0a0001;
    sc.pool_first = 0x0a0a0064;
    sc.pool_last = 0x0a0a0067;
    sc.l2tp.host_name = "demo-server";
    vpn::client_config cc;
    cc.connection.local = transport::endpoint::v4(client_ip, 500);
    cc.connection.peer = transport::endpoint::v4(server_ip, 500);
    cc.link.user = "alice";
    cc.link.password = "wonderland";
    cc.link.ask_dns = true;
    cc.l2tp.host_name = "demo-client";
    if (loss > 0) {  // a lossy network needs more patience than the defaults
        sc.l2tp.channel.max_retransmissions = cc.l2tp.channel.max_retransmissions = 12;
        sc.link.timers.max_configure = cc.link.timers.max_configure = 20;
        sc.ike.retransmit_tries = cc.ike.retransmit_tries = 12;
        cc.connect_timeout = 300s;
    }
    auto psk = as_bytes(std::string_view("demo-psk"));
    auto srv = vpn::server<backend, users, 4, demo_random, ike::v1::single_psk, demo_key_log>::make(
        sc, demo_random(seed), ike::v1::single_psk(psk), user_store);
    auto cl = vpn::client<backend, demo_random, ike::v1::single_psk, demo_key_log>::make(
        cc, demo_random(seed + 1), ike::v1::single_psk(psk));
    if (!srv || !cl) {
        std::fprintf(stderr, "l2sec-demo: %s\n",
                     (!srv ? srv.error() : cl.error()).message().c_str());
        return 1;
    }
    auto& s = **srv;
    auto& c = **cl;
    std::printf(
        "l2sec demo: client 192.168.1.2 behind NAT 203.0.113.1, server 192.0.2.1 "
        "(loss %.0f%%, seed %llu)\n",
        loss * 100, static_cast<unsigned long long>(seed));
    std::printf("IKEv1 PSK \"demo-psk\", L2TP, PPP user alice with MS-CHAPv2\n\n");

    time_point now = t0;
    (void)c.start(now);
    std::array<std::byte, vpn::packet_buffer_size> scratch{};
    int pings = 0, pongs = 0;
    bool closing = false;
    time_point ping_due{};
    auto send = [&](const char* who, const vpn::outbound& o) {
        if (!quiet) say(now, std::string(who) + " -> " + ep_text(o.peer) + "  " + describe(o));
        net.send(o.local, o.peer, o.raw_esp, o.data, now);
    };
    for (int iter = 0; iter < 1000000; ++iter) {
        for (auto& p : net.deliver(now)) {
            if (p.to.v4_host_order() == server_ip) {
                auto d = p.raw_esp ? s.receive_esp(p.data, p.to, p.from, now)
                                   : s.receive(p.data, p.to, p.from, now);
                if (d && *d && vpn::answer_echo(d->ip, sc.link.local_ip)) {
                    std::array<std::byte, vpn::packet_buffer_size> b{};
                    std::copy(d->ip.begin(), d->ip.end(), b.begin() + vpn::headroom);
                    if (auto r = s.send_ip(b, vpn::headroom, d->ip.size(), now)) send("server", *r);
                }
            } else {
                auto d = c.receive(p.data, p.to, p.from, now);
                std::uint16_t id, seq;
                if (d && *d && vpn::is_echo_reply(d->ip, sc.link.local_ip, id, seq)) {
                    ++pongs;
                    say(now, "client    ping reply " + std::to_string(seq) + " received");
                }
            }
        }
        s.tick(now);
        c.tick(now);
        while (auto o = s.poll(scratch, now))
            send("server", *o);
        while (auto o = c.poll(scratch, now))
            send("client", *o);
        while (auto r = s.poll_report()) {
            std::string what = std::string("server    ") + vpn::to_string(r->kind);
            if (r->kind == vpn::report_kind::ppp_up)
                what += ": user " + std::string(r->user_name()) + " got " + ip_text(r->peer_ip);
            if (r->kind == vpn::report_kind::esp_sa)
                what += r->udp_encap ? ": NAT detected, ESP in UDP 4500" : ": raw ESP";
            say(now, what);
        }
        while (auto r = c.poll_report())
            say(now, std::string("client    ") + vpn::to_string(r->kind));
        if (c.state() == vpn::client_state::up && pongs < 3 &&
            (pings == pongs || now >= ping_due)) {
            if (pings == pongs) ++pings;
            ping_due = now + 1s;
            std::array<std::byte, vpn::packet_buffer_size> b{};
            auto n =
                vpn::make_echo_request(mutable_bytes(b).subspan(vpn::headroom, 84), c.address(),
                                       sc.link.local_ip, 1, static_cast<std::uint16_t>(pings));
            if (auto o = c.send_ip(b, vpn::headroom, n, now)) send("client", *o);
        }
        if (pongs == 3 && !closing) {
            closing = true;
            say(now, "client    three pings answered: hanging up (LCP, L2TP, IKE)");
            c.shutdown(now);
        }
        if (c.state() == vpn::client_state::failed) {
            std::printf("FAILED: %s\n", c.failure().message().c_str());
            return 1;
        }
        if (c.state() == vpn::client_state::closed && s.clients() == 0 && !net.next_delivery())
            break;
        std::optional<time_point> t = net.next_delivery();
        auto take = [&](std::optional<time_point> d) {
            if (d && (!t || *d < *t)) t = d;
        };
        take(s.next_deadline());
        take(c.next_deadline());
        if (c.state() == vpn::client_state::up && pongs < 3) take(ping_due);
        if (!t) break;
        now = *t > now ? *t : now + 1ms;
        if (now - t0 > 600s) break;
    }
    auto& st = net.stats();
    bool ok = pongs == 3 && c.state() == vpn::client_state::closed;
    std::printf("\n%s after %.1f ms of simulated time: %llu datagrams sent, %llu lost\n",
                ok ? "done" : "FAILED", ms(now), static_cast<unsigned long long>(st.sent),
                static_cast<unsigned long long>(st.lost));
    return ok ? 0 : 1;
}
