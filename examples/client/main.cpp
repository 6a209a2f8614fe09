// l2sec-client: an L2TP/IPsec client in one process, for real L2TP/IPsec
// servers (libreswan/strongSwan + xl2tpd, routers, l2sec-server). IKEv1 Main
// Mode + Quick Mode (transport mode, NAT-T), L2TP, PPP; with --tun the PPP
// address goes on a TUN device so programs on the host use the tunnel; with
// --ping it checks the tunnel end to end and exits 0 when every echo came back.
//
//   l2sec-client --server IP --psk PSK --user NAME --password PW [--auth mschapv2|chap|pap]
//                [--tun NAME | --no-tun] [--ping IP] [--count N] [--timeout S] [--hold S]
//                [--json]
//                [--local IP] [--keylog FILE] [--tun-offload] [--ike-proposals LIST]
//                [--esp-proposals LIST] [--config FILE]
#include <l2sec/vpn/client.hpp>
#include <l2sec/vpn/icmp.hpp>

#include "common/crypto.hpp"
#include "common/keylog_file.hpp"
#include "common/options.hpp"
#include "common/proposal_text.hpp"
#include "common/settings.hpp"
#include "common/udp_loop.hpp"
#include "common/vpn_loop.hpp"
#include "common/vpn_report.hpp"
#include "common/vpn_workers.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>

using namespace l2sec;

namespace {

std::atomic<bool> interrupted{false};
void on_signal(int) {
    interrupted = true;
}

using examples::file_key_log;

template <class Crypto>
using client_type = vpn::client<Crypto, typename Crypto::random, ike::v1::single_psk, file_key_log>;

int usage(const char* why) {
    std::fprintf(
        stderr,
        "l2sec-client: %s\n"
        "usage: l2sec-client --server IP --psk PSK --user NAME --password PW "
        "[--auth mschapv2|chap|pap]\n"
        "         [--tun NAME | --no-tun] [--ping IP] [--count N] [--timeout S] [--hold S] "
        "[--json]\n"
        "         [--local IP] [--keylog FILE] [--no-raw-esp] [--crypto %s] [--tun-offload]\n"
        "         [--ike-proposals LIST] [--esp-proposals LIST] [--config FILE]\n"
        "  --ike-proposals, --esp-proposals: what to offer, in order, e.g.\n"
        "            aes256-sha1-modp2048 and aes128-gcm,aes256-cbc-sha1\n"
        "  --crypto: the crypto library (default %s: the faster AEAD here, and a forged\n"
        "            packet is refused without an exception or allocation)\n"
        "  --tun-offload: TUN with IFF_VNET_HDR + TSO/USO: the kernel hands over 64 KiB\n"
        "            super-packets (cut into MTU-sized packets here) and takes coalesced\n"
        "            ones: fewer system calls and kernel passes per byte\n"
        "  --keylog:  ESP SAs to FILE (tshark -o esp.enable_encryption_decode:TRUE\n"
        "            -o uat:esp_sa:LINE), IKEv1 SAs to FILE.ikev1\n"
        "            (-o uat:ikev1_decryption_table:LINE), one line per SA\n",
        why, examples::crypto_choices, examples::crypto_backend_name);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::vector<std::string> args;
    std::string err;
    if (!examples::expand_config(argc, argv, args, err)) return usage(err.c_str());
    std::vector<char*> av;
    for (auto& a : args)
        av.push_back(a.data());

    std::string server, psk, user, password, auth, tun_name, ping, local = "0.0.0.0", keylog,
                                                                   crypto_name, ike_list, esp_list;
    bool no_tun = false, json = false, no_raw = false, tun_offload = false;
    int count = 3, timeout = 30, ike_port = 500, nat_port = 4500, hold = 0;
    examples::options o;
    o.text("--server", server).text("--psk", psk).text("--user", user).text("--password", password);
    o.text("--auth", auth).text("--tun", tun_name).flag("--no-tun", no_tun).text("--ping", ping);
    o.number("--count", count).number("--timeout", timeout).flag("--json", json);
    o.text("--local", local).text("--keylog", keylog).flag("--no-raw-esp", no_raw);
    o.number("--ike-port", ike_port).number("--nat-port", nat_port).number("--hold", hold);
    o.text("--crypto", crypto_name).flag("--tun-offload", tun_offload);
    o.text("--ike-proposals", ike_list).text("--esp-proposals", esp_list);
    if (!o.parse(static_cast<int>(av.size()), av.data())) return usage("bad arguments");
    if (server.empty()) return usage("--server IP is required");
    if (psk.empty()) return usage("--psk is required (the IPsec pre-shared key)");
    if (user.empty()) return usage("--user is required");
    if (!tun_name.empty() && no_tun) return usage("--tun and --no-tun exclude each other");
    if (!examples::with_crypto(crypto_name, []<class>() { return 0; }))
        return usage("--crypto: not a crypto library of this build");
    auto sep = examples::parse_endpoint(server, static_cast<std::uint16_t>(ike_port));
    if (!sep) return usage("--server: not an IPv4 address");
    auto lep = examples::parse_endpoint(local, 0);
    if (!lep) return usage("--local: not an IPv4 address");
    std::optional<std::uint32_t> ping_ip;
    if (!ping.empty()) {
        auto p = examples::parse_endpoint(ping, 0);
        if (!p) return usage("--ping: not an IPv4 address");
        ping_ip = p->v4_host_order();
    }

    vpn::client_config cfg;
    cfg.connection.peer = *sep;
    cfg.link.user = user;
    cfg.link.password = password;
    cfg.link.ask_dns = true;
    if (auth == "mschapv2")
        cfg.link.can_answer = {false, false, false, true};
    else if (auth == "chap")
        cfg.link.can_answer = {false, false, true, false};
    else if (auth == "pap")
        cfg.link.can_answer = {false, true, false, false};
    else if (!auth.empty())
        return usage("--auth: mschapv2, chap or pap");
    cfg.l2tp.host_name = "l2sec-client";
    // Offered in this order (the server picks); the defaults start with what
    // Windows-era servers take.
    examples::proposal_lists proposals;
    if (!proposals.apply(ike_list, esp_list, cfg.ike, err)) return usage(err.c_str());
    cfg.connect_timeout = std::chrono::seconds(timeout);

    // The same batched sockets (recvmmsg/sendmmsg) and loop as the server's.
    examples::worker_io io;
    auto bind_udp = [&](std::uint16_t port) -> std::optional<examples::worker_udp> {
        auto e = *lep;
        e.port = port;
        // No SO_REUSEADDR: a second IKE daemon on the same port must be refused,
        // not share its datagrams with us.
        transport::udp_batch_options uo;
        uo.socket.reuse_address = false;
        uo.try_gro = false;
        errno = 0;
        auto s = examples::worker_udp::bind(e, uo);
        if (!s) {
            const int sys = errno;
            std::fprintf(stderr, "l2sec-client: cannot bind UDP port %u: %s\n", port,
                         examples::startup_failure(s.error(), sys).c_str());
            return std::nullopt;
        }
        return std::move(*s);
    };
    auto s500 = bind_udp(static_cast<std::uint16_t>(ike_port));
    auto s4500 = bind_udp(static_cast<std::uint16_t>(nat_port));
    if (!s500 || !s4500) return 1;
    io.ike = std::move(*s500);
    io.nat = std::move(*s4500);
    examples::grow_receive_buffer(io.nat.fd());
    // The IKE engine needs the address it is reached at: the one the kernel
    // picks toward the server when bound to 0.0.0.0.
    transport::endpoint local_ep = io.ike.local_endpoint();
    if (local_ep.v4_host_order() == 0) {
        auto probe = transport::posix_udp::bind(transport::endpoint::v4(0u, 0));
        if (probe) {
            sockaddr_in sa{};
            sa.sin_family = AF_INET;
            sa.sin_port = htons(static_cast<std::uint16_t>(ike_port));
            std::memcpy(&sa.sin_addr, sep->addr.data(), 4);
            if (::connect(probe->fd(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
                sockaddr_in got{};
                socklen_t len = sizeof got;
                ::getsockname(probe->fd(), reinterpret_cast<sockaddr*>(&got), &len);
                std::memcpy(local_ep.addr.data(), &got.sin_addr, 4);
            }
        }
    }
    cfg.connection.local = local_ep;
    if (!no_raw) {
        if (auto r = transport::raw_esp::bind(*lep)) {
            examples::grow_receive_buffer(r->fd());
            io.esp = std::move(*r);
        }
    }

    // The TUN device is made now, so that a missing /dev/net/tun or privilege
    // stops the program before it connects; it gets its address once PPP is up.
    std::optional<transport::linux_tun> tun;
    if (!tun_name.empty()) {
        auto t =
            transport::linux_tun::open(tun_name, transport::tun_options{.offload = tun_offload});
        if (!t) {
            std::fprintf(stderr, "l2sec-client: cannot create TUN %s: %s\n", tun_name.c_str(),
                         examples::startup_failure(t.error(), 0).c_str());
            return 1;
        }
        tun = std::move(*t);
    }

    auto kl = file_key_log::open(keylog);
    return *examples::with_crypto(crypto_name, [&]<class Crypto>() -> int {
        auto cl =
            client_type<Crypto>::make(cfg, typename Crypto::random{},
                                      ike::v1::single_psk(as_bytes(std::string_view(psk))), kl);
        if (!cl) {
            std::fprintf(stderr, "l2sec-client: %s\n", cl.error().message().c_str());
            return 1;
        }
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        auto& c = **cl;
        const auto t0 = examples::vpn_now();
        auto ms = [&](time_point t) {
            return std::chrono::duration<double, std::milli>(t - t0).count();
        };
        if (auto r = c.start(t0); !r) {
            std::fprintf(stderr, "l2sec-client: %s\n", r.error().message().c_str());
            return 1;
        }
        if (!json)
            std::printf("l2sec-client: connecting to %s as %s (crypto %s)\n", server.c_str(),
                        user.c_str(), examples::crypto_name_of<Crypto>());
        int sent = 0, answered = 0;
        time_point next_ping{}, up_at{};
        bool tun_ready = false, stopping = false;
        std::array<bool, 256> got{};
        int exit_code = 1;
        examples::run_vpn(
            c, io,
            [&](const vpn::delivered& d, time_point) {
                // The self-test's own echo replies (identifier 0x12e5) are counted
                // here, with or without a TUN device; everything else goes on.
                std::uint16_t id, seq;
                if (!ping_ip || !vpn::is_echo_reply(d.ip, *ping_ip, id, seq) || id != 0x12e5)
                    return false;
                if (seq < got.size() && !got[seq]) {
                    got[seq] = true;
                    ++answered;
                    if (!json) std::printf("  echo reply %u from %s\n", seq, ping.c_str());
                }
                return true;
            },
            [&](time_point now) {
                while (auto r = c.poll_report())
                    examples::print_report(*r, json, ms(now));
                if (c.state() == vpn::client_state::up && !tun_ready) {
                    tun_ready = true;
                    up_at = now;
                    if (tun) {
                        auto* t = &*tun;
                        (void)examples::grow_tun_queue(tun_name.c_str());
                        result<void> ok = t->set_mtu(1400);
                        if (ok)
                            ok = t->set_ipv4(transport::endpoint::v4(c.address(), 0), 32,
                                             transport::endpoint::v4(c.peer_address(), 0));
                        if (ok) ok = t->set_up();
                        if (!ok) {
                            std::fprintf(stderr, "l2sec-client: TUN %s: %s; going on without it\n",
                                         tun_name.c_str(),
                                         examples::startup_failure(ok.error(), 0).c_str());
                        } else {
                            io.tun = std::move(*tun);
                            tun.reset();
                        }
                    }
                    // Printed once the TUN device has its address: scripts wait for it.
                    if (!json)
                        std::printf("up: address %s, server %s, DNS %s\n",
                                    examples::ip4(c.address()).c_str(),
                                    examples::ip4(c.peer_address()).c_str(),
                                    examples::ip4(c.dns()).c_str());
                    else
                        std::printf(
                            "{\"t_ms\":%lld,\"event\":\"client_up\",\"local_ip\":\"%s\","
                            "\"peer_ip\":\"%s\",\"dns\":\"%s\",\"crypto\":\"%s\"}\n",
                            static_cast<long long>(ms(now)), examples::ip4(c.address()).c_str(),
                            examples::ip4(c.peer_address()).c_str(), examples::ip4(c.dns()).c_str(),
                            examples::crypto_name_of<Crypto>());
                }
                if (c.state() == vpn::client_state::up && ping_ip) {
                    if (answered >= count && !stopping) {
                        exit_code = 0;
                        stopping = true;
                        c.shutdown(now);
                    } else if (sent < count || now >= next_ping) {
                        if (now >= next_ping && sent < count + 3 * count) {
                            std::array<std::byte, vpn::packet_buffer_size> b{};
                            auto n = vpn::make_echo_request(
                                mutable_bytes(b).subspan(vpn::headroom, 84), c.address(), *ping_ip,
                                0x12e5, static_cast<std::uint16_t>(sent % count));
                            if (auto out = c.send_ip(b, vpn::headroom, n, now)) io.send(*out);
                            ++sent;
                            next_ping = now + std::chrono::milliseconds(sent < count ? 200 : 1000);
                        }
                    }
                    if (!stopping && now - up_at > std::chrono::seconds(timeout)) {
                        std::fprintf(stderr, "l2sec-client: %d of %d echo requests answered\n",
                                     answered, count);
                        stopping = true;
                        c.shutdown(now);
                    }
                }
                if (c.state() == vpn::client_state::up && !ping_ip && hold > 0 && !stopping &&
                    now - up_at >= std::chrono::seconds(hold)) {
                    exit_code = 0;
                    stopping = true;
                    c.shutdown(now);
                }
                if (interrupted && !stopping) {
                    stopping = true;
                    exit_code = c.state() == vpn::client_state::up ? 0 : 1;
                    c.shutdown(now);
                }
            },
            [&] {
                return c.state() == vpn::client_state::closed ||
                       c.state() == vpn::client_state::failed;
            });
        // The reports of the last turn (client_down, its reason).
        while (auto r = c.poll_report())
            examples::print_report(*r, json, ms(examples::vpn_now()));
        if (c.state() == vpn::client_state::failed) {
            // The library names the cause (wrong PSK, no answer, no acceptable
            // proposal, authentication failed for the user).
            vpn::report why{};
            why.kind = vpn::report_kind::client_down;
            why.reason = c.failure();
            if (c.failure() == vpn::errc::auth_failed) why.set_user(user);
            std::fprintf(stderr, "l2sec-client: failed: %s\n", examples::reason_text(why).c_str());
            return 1;
        }
        if (ping_ip && !json) std::printf("%d/%d echo requests answered\n", answered, count);
        if (json && ping_ip)
            std::printf("{\"event\":\"ping\",\"sent\":%d,\"answered\":%d,\"count\":%d}\n", sent,
                        answered, count);
        return exit_code;
    });
}
