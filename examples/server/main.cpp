// l2sec-server: an L2TP/IPsec server in one process, for the built-in VPN
// clients of Windows, macOS, iOS and Android and for Linux (strongSwan or
// libreswan + xl2tpd + pppd). Needs UDP sockets on 500 and 4500, a raw ESP
// socket when clients are not behind NAT, and (with --tun) a TUN device;
// no kernel IPsec, L2TP or PPP.
//
//   l2sec-server --listen IP --psk PSK --users FILE [--pool A-B] [--local-ip IP] [--dns IP]...
//                [--tun NAME | --no-tun] [--auth mschapv2|chap|pap] [--ike-proposals LIST]
//                [--esp-proposals LIST] [--allow-weak] [--allow-aggressive] [--present-unnatted]
//                [--max-clients N] [--json] [--keylog FILE] [--no-raw-esp] [--duration S]
//                [--workers N] [--tun-offload] [--config FILE]
#include <l2sec/vpn/icmp.hpp>
#include <l2sec/vpn/server.hpp>

#include "common/crypto.hpp"
#include "common/keylog_file.hpp"
#include "common/options.hpp"
#include "common/proposal_text.hpp"
#include "common/settings.hpp"
#include "common/udp_loop.hpp"
#include "common/users_file.hpp"
#include "common/vpn_loop.hpp"
#include "common/vpn_report.hpp"
#include "common/vpn_workers.hpp"

#include <l2sec/transport/shard.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

using namespace l2sec;

namespace {

std::atomic<bool> interrupted{false};
void on_signal(int) {
    interrupted = true;
}
std::atomic<unsigned> stats_wanted{0};  ///< bumped by SIGUSR1: each worker prints its stats
void on_usr1(int) {
    stats_wanted.fetch_add(1, std::memory_order_relaxed);
}

constexpr std::size_t capacity = 256;

using examples::file_key_log;

template <class Crypto>
using server_type = vpn::server<Crypto, examples::users_file, capacity, typename Crypto::random,
                                ike::v1::single_psk, file_key_log>;

std::optional<std::uint32_t> parse_ip(const std::string& s) {
    auto e = examples::parse_endpoint(s, 0);
    if (!e) return std::nullopt;
    return e->v4_host_order();
}

int usage(const char* why) {
    std::fprintf(stderr,
                 "l2sec-server: %s\n"
                 "usage: l2sec-server --listen IP --psk PSK --users FILE [--pool A-B] "
                 "[--local-ip IP] [--dns IP]...\n"
                 "         [--tun NAME | --no-tun] [--auth mschapv2|chap|pap] "
                 "[--ike-proposals LIST] [--esp-proposals LIST]\n"
                 "         [--allow-weak] [--allow-aggressive] [--present-unnatted] "
                 "[--max-clients N] [--json]\n"
                 "         [--keylog FILE] [--no-raw-esp] [--workers N] [--duration S] "
                 "[--crypto %s] [--tun-offload] [--config FILE]\n"
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

    std::string listen, psk, users_path, pool = "10.10.0.100-10.10.0.199", local_ip = "10.10.0.1",
                                         tun_name, auth = "mschapv2", ike_list, esp_list, keylog,
                                         crypto_name;
    std::vector<std::string> dns;
    bool no_tun = false, json = false, allow_weak = false, aggressive = false, unnatted = false,
         no_raw = false, tun_offload = false;
    int max_clients = 0, duration = 0, ike_port = 500, nat_port = 4500, workers = 1;
    examples::options o;
    o.text("--listen", listen).text("--psk", psk).text("--users", users_path).text("--pool", pool);
    o.text("--local-ip", local_ip).text("--tun", tun_name).flag("--no-tun", no_tun);
    o.custom("--dns", [&](const std::string& v) { dns.push_back(v); });
    o.text("--auth", auth).text("--ike-proposals", ike_list).text("--esp-proposals", esp_list);
    o.flag("--allow-weak", allow_weak).flag("--allow-aggressive", aggressive);
    o.flag("--present-unnatted", unnatted).number("--max-clients", max_clients);
    o.flag("--json", json).text("--keylog", keylog).flag("--no-raw-esp", no_raw);
    o.text("--crypto", crypto_name).flag("--tun-offload", tun_offload);
    o.number("--workers", workers)
        .number("--duration", duration)
        .number("--ike-port", ike_port)
        .number("--nat-port", nat_port);
    if (!o.parse(static_cast<int>(av.size()), av.data())) return usage("bad arguments");
    if (listen.empty()) return usage("--listen IP is required");
    if (psk.empty()) return usage("--psk is required (the IPsec pre-shared key)");
    if (users_path.empty()) return usage("--users FILE is required (\"name password\" per line)");
    if (!tun_name.empty() && no_tun) return usage("--tun and --no-tun exclude each other");
    if (!examples::with_crypto(crypto_name, []<class>() { return 0; }))
        return usage("--crypto: not a crypto library of this build");

    examples::users_file users;
    if (!users.load(users_path, err)) return usage(err.c_str());

    vpn::server_config cfg;
    auto lip = parse_ip(local_ip);
    if (!lip) return usage("--local-ip: not an IPv4 address");
    cfg.link.local_ip = *lip;
    auto dash = pool.find('-');
    auto p1 = parse_ip(pool.substr(0, dash));
    auto p2 = dash == std::string::npos ? p1 : parse_ip(pool.substr(dash + 1));
    if (!p1 || !p2) return usage("--pool: expected FIRST-LAST, e.g. 10.10.0.100-10.10.0.199");
    cfg.pool_first = *p1;
    cfg.pool_last = *p2;
    for (std::size_t i = 0; i < dns.size() && i < 2; ++i) {
        auto d = parse_ip(dns[i]);
        if (!d) return usage("--dns: not an IPv4 address");
        (i == 0 ? cfg.link.dns1 : cfg.link.dns2) = *d;
    }
    std::string first_auth = auth.substr(0, auth.find(','));
    if (first_auth == "mschapv2")
        cfg.link.require = ppp::auth_method::mschapv2;
    else if (first_auth == "chap")
        cfg.link.require = ppp::auth_method::chap_md5;
    else if (first_auth == "pap")
        cfg.link.require = ppp::auth_method::pap;
    else
        return usage("--auth: mschapv2, chap or pap");
    cfg.link.name = "l2sec";
    cfg.l2tp.host_name = "l2sec-server";
    examples::proposal_lists proposals;
    if (!proposals.apply(ike_list, esp_list, cfg.ike, err)) return usage(err.c_str());
    cfg.ike.allow_weak = allow_weak;
    cfg.ike.allow_aggressive = aggressive;
    cfg.ike.present_unnatted = unnatted;
    if (max_clients < 0 || static_cast<std::size_t>(max_clients) > capacity)
        return usage("--max-clients: 1 to 256");
    cfg.max_clients = static_cast<std::size_t>(max_clients);

    if (workers < 1 || workers > 16) return usage("--workers: 1 to 16");
    const auto nw = static_cast<std::size_t>(workers);
    examples::pool_slices slices{cfg.pool_first, cfg.pool_last, nw};
    if (slices.size() < nw) return usage("--pool: fewer addresses than --workers");

    auto lep = examples::parse_endpoint(listen, 0);
    if (!lep) return usage("--listen: not an IPv4 address");
    std::vector<examples::worker_io> io(nw);
    // UDP 500 and 4500: one socket per worker. With several workers, each
    // port is an SO_REUSEPORT group whose kernel program sends every datagram
    // of one outer address to the same worker (shard_key::address keeps a
    // NATed peer's 500 and 4500 flows together through NAT-T floating). No
    // SO_REUSEADDR: a second IKE daemon on the same port must be refused.
    transport::udp_batch_options uo;
    uo.socket.reuse_address = false;
    uo.try_gro = false;
    auto bind_udp = [&](std::uint16_t port, auto member) -> bool {
        auto e = *lep;
        e.port = port;
        std::vector<examples::worker_udp> socks(nw);
        errno = 0;
        result<void> r{};
        if (nw == 1) {
            auto s = examples::worker_udp::bind(e, uo);
            if (s)
                socks[0] = std::move(*s);
            else
                r = s.error();
        } else {
            r = transport::bind_shard(e, std::span(socks), transport::shard_key::address, uo);
        }
        if (!r) {
            const int sys = errno;
            std::fprintf(stderr, "l2sec-server: cannot bind UDP %s: %s\n",
                         examples::endpoint_text(e).c_str(),
                         examples::startup_failure(r.error(), sys).c_str());
            return false;
        }
        for (std::size_t i = 0; i < nw; ++i) {
            examples::grow_receive_buffer(socks[i].fd());
            io[i].*member = std::move(socks[i]);
        }
        return true;
    };
    if (!bind_udp(static_cast<std::uint16_t>(ike_port), &examples::worker_io::ike) ||
        !bind_udp(static_cast<std::uint16_t>(nat_port), &examples::worker_io::nat))
        return 1;
    {
        auto e = *lep;
        e.port = 1701;
        transport::udp_options po;
        po.reuse_address = false;
        if (auto p = transport::posix_udp::bind(e, po)) io[0].plain = std::move(*p);
    }
    bool have_raw = false;
    if (!no_raw) {
        std::vector<transport::raw_esp> raws(nw);
        errno = 0;
        result<void> r{};
        if (nw == 1) {
            auto s = transport::raw_esp::bind(*lep);
            if (s)
                raws[0] = std::move(*s);
            else
                r = s.error();
        } else {
            r = transport::bind_esp_shard(*lep, std::span(raws), transport::shard_key::address);
        }
        if (r) {
            have_raw = true;
            for (std::size_t i = 0; i < nw; ++i) {
                examples::grow_receive_buffer(raws[i].fd());
                io[i].esp = std::move(raws[i]);
            }
        } else {
            std::fprintf(stderr,
                         "l2sec-server: no raw ESP socket (%s): only clients behind NAT "
                         "(ESP in UDP 4500) can connect\n",
                         examples::startup_failure(r.error(), errno).c_str());
        }
    }
    if (!tun_name.empty()) {
        // One queue per worker (IFF_MULTI_QUEUE when there are several).
        for (std::size_t i = 0; i < nw; ++i) {
            auto t = transport::linux_tun::open(
                tun_name, transport::tun_options{.multi_queue = nw > 1, .offload = tun_offload});
            if (!t) {
                std::fprintf(stderr, "l2sec-server: cannot create TUN %s: %s\n", tun_name.c_str(),
                             examples::startup_failure(t.error(), 0).c_str());
                return 1;
            }
            io[i].tun = std::move(*t);
        }
        auto& t = *io[0].tun;
        (void)examples::grow_tun_queue(tun_name.c_str());
        auto ok = t.set_mtu(1400);
        if (ok) ok = t.set_ipv4(transport::endpoint::v4(*lip, 0), 32);
        if (ok) ok = t.set_up();
        // The shortest prefix that holds the whole pool, first to last.
        unsigned prefix = 32;
        while (prefix > 8 && (std::uint64_t{cfg.pool_first} >> (32 - prefix)) !=
                                 (std::uint64_t{cfg.pool_last} >> (32 - prefix)))
            --prefix;
        const auto mask = static_cast<std::uint32_t>(~((std::uint64_t{1} << (32 - prefix)) - 1));
        if (ok) ok = t.add_route(transport::endpoint::v4(cfg.pool_first & mask, 0), prefix);
        if (!ok) {
            std::fprintf(stderr, "l2sec-server: cannot configure TUN %s: %s\n", tun_name.c_str(),
                         examples::startup_failure(ok.error(), 0).c_str());
            return 1;
        }
    }
    // Mailboxes: worker j reads mailbox_rx, every worker writes mailbox_tx[j].
    std::vector<int> mailbox_tx(nw, -1);
    if (nw > 1)
        for (std::size_t i = 0; i < nw; ++i) {
            int sv[2];
            if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
                std::perror("l2sec-server: socketpair");
                return 1;
            }
            int big = 4 << 20;
            (void)::setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
            (void)::setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
            io[i].mailbox_rx = sv[0];
            mailbox_tx[i] = sv[1];
        }

    auto kl = file_key_log::open(keylog);
    return *examples::with_crypto(crypto_name, [&]<class Crypto>() -> int {
        std::vector<std::unique_ptr<server_type<Crypto>>> servers;
        for (std::size_t i = 0; i < nw; ++i) {
            auto c = cfg;
            c.pool_first = slices.slice_first(i);
            c.pool_last = slices.slice_last(i);
            if (cfg.max_clients)
                c.max_clients = std::max<std::size_t>(1, (cfg.max_clients + nw - 1 - i) / nw);
            auto srv = server_type<Crypto>::make(
                c, typename Crypto::random{}, ike::v1::single_psk(as_bytes(std::string_view(psk))),
                users, kl);
            if (!srv) {
                std::fprintf(stderr, "l2sec-server: %s\n", srv.error().message().c_str());
                return 1;
            }
            servers.push_back(std::move(*srv));
        }
        crypto::secure_zero(std::as_writable_bytes(std::span(psk)));
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        std::signal(SIGUSR1, on_usr1);
        const auto t0 = examples::vpn_now();
        auto ms = [&](time_point t) {
            return std::chrono::duration<double, std::milli>(t - t0).count();
        };
        if (!json)
            std::printf(
                "l2sec-server on %s (UDP %d/%d%s), pool %s, %s, %s, %zu worker%s, crypto %s\n",
                listen.c_str(), ike_port, nat_port, have_raw ? ", raw ESP" : "", pool.c_str(),
                first_auth.c_str(),
                io[0].tun ? ("TUN " + tun_name).c_str()
                          : "no TUN: answering pings to the local address",
                nw, nw == 1 ? "" : "s", examples::crypto_name_of<Crypto>());
        std::vector<std::uint64_t> echoes(nw, 0);
        auto work = [&](std::size_t w) {
            auto& s = *servers[w];
            auto& wio = io[w];
            bool stopping = false;
            unsigned stats_seen = 0;
            const int tag = nw > 1 ? static_cast<int>(w) : -1;
            examples::run_worker(
                s, wio, w, slices, std::span<const int>(mailbox_tx),
                [&](const vpn::delivered& d, time_point now) {
                    // With a TUN device the kernel answers the pings to its address.
                    if (wio.tun || !vpn::answer_echo(d.ip, cfg.link.local_ip)) return false;
                    std::array<std::byte, vpn::packet_buffer_size> reply{};
                    std::copy(d.ip.begin(), d.ip.end(), reply.begin() + vpn::headroom);
                    if (auto out = s.send_ip(reply, vpn::headroom, d.ip.size(), now)) {
                        wio.send(*out);
                        ++echoes[w];
                    }
                    return true;
                },
                [&](time_point now) {
                    while (auto r = s.poll_report())
                        examples::print_report(*r, json, ms(now), tag);
                    if (auto g = stats_wanted.load(std::memory_order_relaxed); g != stats_seen) {
                        stats_seen = g;
                        examples::print_drops(s.drops(), s.clients(), json, ms(now), tag);
                    }
                    if (!stopping &&
                        (interrupted ||
                         (duration > 0 && now - t0 >= std::chrono::seconds(duration)))) {
                        stopping = true;
                        s.shutdown(now);
                    }
                    if (stopping) s.finish_shutdown(now);
                },
                [&] { return s.closed(); });
            while (auto r = s.poll_report())  // the last turn's (ike_down, client_down)
                examples::print_report(*r, json, ms(examples::vpn_now()), tag);
        };
        std::vector<std::thread> threads;
        for (std::size_t w = 1; w < nw; ++w)
            threads.emplace_back(work, w);
        work(0);
        for (auto& t : threads)
            t.join();
        unsigned long long esp_in = 0, esp_out = 0, echo = 0, unprotected = 0, passed = 0;
        vpn::drop_stats drops{};
        for (std::size_t w = 0; w < nw; ++w) {
            examples::add_drops(drops, servers[w]->drops());
            esp_in += servers[w]->stats().esp_in;
            esp_out += servers[w]->stats().esp_out;
            echo += echoes[w];
            unprotected += servers[w]->unprotected_l2tp();
            passed += io[w].passed_on;
        }
        for (std::size_t w = 0; w < nw; ++w) {
            if (io[w].mailbox_rx >= 0) ::close(io[w].mailbox_rx);
            if (mailbox_tx[w] >= 0) ::close(mailbox_tx[w]);
        }
        examples::print_drops(drops, 0, json, ms(examples::vpn_now()));
        if (json)
            std::printf(
                "{\"event\":\"stopped\",\"esp_in\":%llu,\"esp_out\":%llu,\"echo_replies\":%llu,"
                "\"unprotected_l2tp\":%llu,\"workers\":%zu,\"passed_between_workers\":%llu,"
                "\"crypto\":\"%s\"}\n",
                esp_in, esp_out, echo, unprotected, nw, passed, examples::crypto_name_of<Crypto>());
        else
            std::printf(
                "stopped: %llu ESP in, %llu out, %llu echo replies, %llu unprotected L2TP "
                "dropped, %zu workers (%llu packets passed between them)\n",
                esp_in, esp_out, echo, unprotected, nw, passed);
        return 0;
    });
}
