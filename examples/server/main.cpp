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
//                [--config FILE]
#include <l2sec/vpn/icmp.hpp>
#include <l2sec/vpn/server.hpp>

#include "common/crypto.hpp"
#include "common/options.hpp"
#include "common/proposal_text.hpp"
#include "common/settings.hpp"
#include "common/udp_loop.hpp"
#include "common/users_file.hpp"
#include "common/vpn_loop.hpp"
#include "common/vpn_report.hpp"

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

constexpr std::size_t capacity = 256;

// Writes each ESP SA as a Wireshark esp_sa UAT line (--keylog FILE).
struct file_key_log {
    std::shared_ptr<std::ofstream> out;
    void esp_sa(const vpn::esp_key_record& r) noexcept {
        if (!out) return;
        *out << vpn::wireshark_esp_sa_line(r) << '\n';
        out->flush();
    }
};

using server_type = vpn::server<examples::crypto_backend, examples::users_file, capacity,
                                examples::random_source, ike::v1::single_psk, file_key_log>;

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
                 "         [--keylog FILE] [--no-raw-esp] [--duration S] [--config FILE]\n",
                 why);
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
                                         tun_name, auth = "mschapv2", ike_list, esp_list, keylog;
    std::vector<std::string> dns;
    bool no_tun = false, json = false, allow_weak = false, aggressive = false, unnatted = false,
         no_raw = false;
    int max_clients = 0, duration = 0, ike_port = 500, nat_port = 4500;
    examples::options o;
    o.text("--listen", listen).text("--psk", psk).text("--users", users_path).text("--pool", pool);
    o.text("--local-ip", local_ip).text("--tun", tun_name).flag("--no-tun", no_tun);
    o.custom("--dns", [&](const std::string& v) { dns.push_back(v); });
    o.text("--auth", auth).text("--ike-proposals", ike_list).text("--esp-proposals", esp_list);
    o.flag("--allow-weak", allow_weak).flag("--allow-aggressive", aggressive);
    o.flag("--present-unnatted", unnatted).number("--max-clients", max_clients);
    o.flag("--json", json).text("--keylog", keylog).flag("--no-raw-esp", no_raw);
    o.number("--duration", duration).number("--ike-port", ike_port).number("--nat-port", nat_port);
    if (!o.parse(static_cast<int>(av.size()), av.data())) return usage("bad arguments");
    if (listen.empty()) return usage("--listen IP is required");
    if (psk.empty()) return usage("--psk is required (the IPsec pre-shared key)");
    if (users_path.empty()) return usage("--users FILE is required (\"name password\" per line)");
    if (!tun_name.empty() && no_tun) return usage("--tun and --no-tun exclude each other");

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
    std::vector<ike::v1::phase1_proposal> ikes;
    std::vector<ike::v1::esp_proposal> esps;
    if (!ike_list.empty()) {
        if (!examples::parse_ike_proposals(ike_list, ikes, err)) return usage(err.c_str());
        cfg.ike.ike_proposals = ikes;
    }
    if (!esp_list.empty()) {
        if (!examples::parse_esp_proposals(esp_list, esps, err)) return usage(err.c_str());
        cfg.ike.esp_proposals = esps;
    }
    cfg.ike.allow_weak = allow_weak;
    cfg.ike.allow_aggressive = aggressive;
    cfg.ike.present_unnatted = unnatted;
    if (max_clients < 0 || static_cast<std::size_t>(max_clients) > capacity)
        return usage("--max-clients: 1 to 256");
    cfg.max_clients = static_cast<std::size_t>(max_clients);

    auto lep = examples::parse_endpoint(listen, 0);
    if (!lep) return usage("--listen: not an IPv4 address");
    examples::vpn_io io;
    auto bind_udp = [&](std::uint16_t port) -> std::optional<transport::posix_udp> {
        auto e = *lep;
        e.port = port;
        // No SO_REUSEADDR: a second IKE daemon on the same port must be refused,
        // not share its datagrams with us.
        transport::udp_options uo;
        uo.reuse_address = false;
        errno = 0;
        auto s = transport::posix_udp::bind(e, uo);
        if (!s) {
            const int sys = errno;
            std::fprintf(stderr, "l2sec-server: cannot bind UDP %s: %s\n",
                         examples::endpoint_text(e).c_str(),
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
    if (auto p = bind_udp(1701)) io.plain = std::move(*p);
    if (!no_raw) {
        if (auto r = transport::raw_esp::bind(*lep))
            io.esp = std::move(*r);
        else
            std::fprintf(stderr,
                         "l2sec-server: no raw ESP socket (%s): only clients behind NAT "
                         "(ESP in UDP 4500) can connect\n",
                         examples::startup_failure(r.error(), errno).c_str());
    }
    if (!tun_name.empty()) {
        auto t = transport::linux_tun::open(tun_name);
        if (!t) {
            std::fprintf(stderr, "l2sec-server: cannot create TUN %s: %s\n", tun_name.c_str(),
                         examples::startup_failure(t.error(), 0).c_str());
            return 1;
        }
        auto ok = t->set_mtu(1400);
        if (ok) ok = t->set_ipv4(transport::endpoint::v4(*lip, 0), 32);
        if (ok) ok = t->set_up();
        std::uint32_t span = cfg.pool_last - cfg.pool_first + 1;
        unsigned prefix = 32;
        while (prefix > 8 && (std::uint64_t{1} << (32 - prefix)) < span)
            --prefix;
        if (ok)
            ok = t->add_route(
                transport::endpoint::v4(cfg.pool_first & ~((1u << (32 - prefix)) - 1u), 0), prefix);
        if (!ok) {
            std::fprintf(stderr, "l2sec-server: cannot configure TUN %s: %s\n", tun_name.c_str(),
                         examples::startup_failure(ok.error(), 0).c_str());
            return 1;
        }
        io.tun = std::move(*t);
    }

    file_key_log kl;
    if (!keylog.empty()) kl.out = std::make_shared<std::ofstream>(keylog, std::ios::app);
    auto srv = server_type::make(cfg, examples::random_source{},
                                 ike::v1::single_psk(as_bytes(std::string_view(psk))), users, kl);
    if (!srv) {
        std::fprintf(stderr, "l2sec-server: %s\n", srv.error().message().c_str());
        return 1;
    }
    crypto::secure_zero(std::as_writable_bytes(std::span(psk)));
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    auto& s = **srv;
    const auto t0 = examples::vpn_now();
    auto ms = [&](time_point t) {
        return std::chrono::duration<double, std::milli>(t - t0).count();
    };
    if (!json)
        std::printf(
            "l2sec-server on %s (UDP %d/%d%s), pool %s, %s, %s\n", listen.c_str(), ike_port,
            nat_port, io.esp ? ", raw ESP" : "", pool.c_str(), first_auth.c_str(),
            io.tun ? ("TUN " + tun_name).c_str() : "no TUN: answering pings to the local address");
    bool stopping = false;
    std::uint64_t echoes = 0;
    examples::run_vpn(
        s, io,
        [&](const vpn::delivered& d, time_point now) {
            // With a TUN device the kernel answers the pings to its address.
            if (io.tun || !vpn::answer_echo(d.ip, cfg.link.local_ip)) return false;
            std::array<std::byte, vpn::packet_buffer_size> reply{};
            std::copy(d.ip.begin(), d.ip.end(), reply.begin() + vpn::headroom);
            if (auto out = s.send_ip(reply, vpn::headroom, d.ip.size(), now)) {
                io.send(*out);
                ++echoes;
            }
            return true;
        },
        [&](time_point now) {
            while (auto r = s.poll_report())
                examples::print_report(*r, json, ms(now));
            if (!stopping &&
                (interrupted || (duration > 0 && now - t0 >= std::chrono::seconds(duration)))) {
                stopping = true;
                s.shutdown(now);
            }
            if (stopping) s.finish_shutdown(now);
        },
        [&] { return s.closed(); });
    auto& st = s.stats();
    if (json)
        std::printf(
            "{\"event\":\"stopped\",\"esp_in\":%llu,\"esp_out\":%llu,\"echo_replies\":%llu,"
            "\"unprotected_l2tp\":%llu}\n",
            static_cast<unsigned long long>(st.esp_in), static_cast<unsigned long long>(st.esp_out),
            static_cast<unsigned long long>(echoes),
            static_cast<unsigned long long>(s.unprotected_l2tp()));
    else
        std::printf(
            "stopped: %llu ESP in, %llu out, %llu echo replies, %llu unprotected L2TP dropped\n",
            static_cast<unsigned long long>(st.esp_in), static_cast<unsigned long long>(st.esp_out),
            static_cast<unsigned long long>(echoes),
            static_cast<unsigned long long>(s.unprotected_l2tp()));
    return 0;
}
