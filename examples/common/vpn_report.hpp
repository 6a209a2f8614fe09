// How the server and client print what happens: one line per vpn::report,
// readable by default, one JSON object per line with --json.
#pragma once

#include <l2sec/ike/v1/events.hpp>
#include <l2sec/vpn/error.hpp>
#include <l2sec/vpn/report.hpp>

#include <cstdio>
#include <string>
#include <utility>

namespace l2sec::examples {

inline std::string ip4(std::uint32_t a) {
    char b[20];
    std::snprintf(b, sizeof b, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    return b;
}
inline std::string endpoint_text(const transport::endpoint& e) {
    return ip4(e.v4_host_order()) + ":" + std::to_string(e.port);
}
inline std::string suite_text(const esp::suite& s) {
    std::string e;
    switch (s.enc) {
        case esp::encryption::aes_gcm_16:
            e = "aes" + std::to_string(s.enc_key_size * 8) + "-gcm";
            break;
        case esp::encryption::aes_cbc:
            e = "aes" + std::to_string(s.enc_key_size * 8) + "-cbc";
            break;
        case esp::encryption::chacha20_poly1305:
            e = "chacha20-poly1305";
            break;
        case esp::encryption::tdes_cbc:
            e = "3des-cbc";
            break;
        case esp::encryption::des_cbc:
            e = "des-cbc";
            break;
        case esp::encryption::null:
            e = "null";
            break;
    }
    switch (s.integ) {
        case esp::integrity::hmac_sha1_96:
            e += "-sha1";
            break;
        case esp::integrity::hmac_md5_96:
            e += "-md5";
            break;
        case esp::integrity::hmac_sha2_256_128:
            e += "-sha256";
            break;
        case esp::integrity::hmac_sha2_384_192:
            e += "-sha384";
            break;
        case esp::integrity::hmac_sha2_512_256:
            e += "-sha512";
            break;
        default:
            break;
    }
    return e;
}
inline std::string json_escape(std::string_view s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\u%04x", c);
            o += b;
            continue;
        }
        o += c;
    }
    return o;
}

/// Why, in words a user can act on: what failed first (wrong PSK, no
/// acceptable proposal, authentication failed for user X), then the
/// library's message (code, field, offset) for a bug report.
inline std::string reason_text(const vpn::report& r) {
    if (!r.reason.code) return {};
    const std::string peer = r.endpoint.valid() ? " from " + endpoint_text(r.endpoint) : "";
    const std::string detail = r.reason.message();
    if (r.reason == vpn::errc::wrong_psk) return "wrong PSK" + peer + " (" + detail + ")";
    if (r.reason == vpn::errc::no_answer) return "no answer" + peer + " (" + detail + ")";
    if (r.reason.code == make_error_code(ike::v1::engine_errc::no_proposal_chosen))
        return "no acceptable proposal" + peer +
               ": none of the offered IKE/ESP transforms is allowed here (see --ike-proposals, "
               "--esp-proposals, --allow-weak) (" +
               detail + ")";
    if (r.kind == vpn::report_kind::auth_failed || r.reason == vpn::errc::auth_failed)
        return "authentication failed for user " + std::string(r.user_name()) + peer +
               " (wrong user name or password, or an authentication method the other side "
               "refuses) (" +
               detail + ")";
    return detail;
}

/// One line for `r`; `worker` (0..) is shown when the server runs several.
inline void print_report(const vpn::report& r, bool json, double t_ms, int worker = -1) {
    const std::string reason = reason_text(r);
    if (json) {
        std::string s = "{\"t_ms\":" + std::to_string(static_cast<long long>(t_ms)) +
                        ",\"event\":\"" + vpn::to_string(r.kind) + "\"";
        if (worker >= 0) s += ",\"worker\":" + std::to_string(worker);
        if (r.endpoint.valid()) s += ",\"peer\":\"" + endpoint_text(r.endpoint) + "\"";
        if (r.spi_in) {
            char b[64];
            std::snprintf(b, sizeof b, ",\"spi_in\":\"%08x\",\"spi_out\":\"%08x\"", r.spi_in,
                          r.spi_out);
            s += b;
            if (r.kind == vpn::report_kind::esp_sa)
                s += ",\"suite\":\"" + suite_text(r.suite) + "\",\"encapsulation\":\"" +
                     (r.udp_encap ? "udp" : "esp") +
                     "\",\"udp_encap\":" + (r.udp_encap ? "true" : "false");
            if (r.old_spi_in) {
                std::snprintf(b, sizeof b, ",\"rekey_of\":\"%08x\"", r.old_spi_in);
                s += b;
            }
        }
        if (r.tunnel) s += ",\"tunnel\":" + std::to_string(r.tunnel);
        if (r.session) s += ",\"session\":" + std::to_string(r.session);
        if (!r.user_name().empty()) s += ",\"user\":\"" + json_escape(r.user_name()) + "\"";
        if (r.local_ip) s += ",\"local_ip\":\"" + ip4(r.local_ip) + "\"";
        if (r.peer_ip) s += ",\"peer_ip\":\"" + ip4(r.peer_ip) + "\"";
        if (r.dns) s += ",\"dns\":\"" + ip4(r.dns) + "\"";
        if (!reason.empty()) s += ",\"reason\":\"" + json_escape(reason) + "\"";
        if (r.suppressed) s += ",\"suppressed\":" + std::to_string(r.suppressed);
        std::printf("%s}\n", s.c_str());
        return;
    }
    std::string s = vpn::to_string(r.kind);
    if (worker >= 0) s = "[" + std::to_string(worker) + "] " + s;
    if (r.endpoint.valid()) s += " peer " + endpoint_text(r.endpoint);
    if (r.kind == vpn::report_kind::esp_sa) {
        char b[96];
        std::snprintf(b, sizeof b, " spi in %08x out %08x %s%s%s", r.spi_in, r.spi_out,
                      suite_text(r.suite).c_str(), r.udp_encap ? " udp-encap" : " raw-esp",
                      r.old_spi_in ? " (rekey)" : "");
        s += b;
    }
    if (!r.user_name().empty()) s += " user " + std::string(r.user_name());
    if (r.local_ip) s += " local " + ip4(r.local_ip);
    if (r.peer_ip) s += " peer " + ip4(r.peer_ip);
    if (r.dns) s += " dns " + ip4(r.dns);
    if (!reason.empty()) s += ": " + reason;
    if (r.suppressed) s += " (" + std::to_string(r.suppressed) + " more dropped, not shown)";
    std::printf("%9.1f ms  %s\n", t_ms, s.c_str());
}

inline void add_drops(vpn::drop_stats& a, const vpn::drop_stats& b) noexcept {
    a.ike_flood += b.ike_flood;
    a.ike_evicted += b.ike_evicted;
    a.garbage_500 += b.garbage_500;
    a.garbage_4500 += b.garbage_4500;
    a.garbage_1701 += b.garbage_1701;
    a.l2tp_outside_esp += b.l2tp_outside_esp;
    a.unknown_spi += b.unknown_spi;
    a.esp_auth += b.esp_auth;
    a.inner += b.inner;
    a.reports_suppressed += b.reports_suppressed;
}

/// The server's drop counters, one line (`{"event":"stats",...}` with --json):
/// on SIGUSR1 and at exit.
inline void print_drops(const vpn::drop_stats& d, std::size_t clients, bool json, double t_ms,
                        int worker = -1) {
    const std::pair<const char*, std::uint64_t> f[] = {
        {"ike_flood", d.ike_flood},
        {"ike_evicted", d.ike_evicted},
        {"garbage_500", d.garbage_500},
        {"garbage_4500", d.garbage_4500},
        {"garbage_1701", d.garbage_1701},
        {"l2tp_outside_esp", d.l2tp_outside_esp},
        {"unknown_spi", d.unknown_spi},
        {"esp_auth", d.esp_auth},
        {"inner", d.inner},
        {"reports_suppressed", d.reports_suppressed}};
    std::string s;
    if (json) {
        s = "{\"t_ms\":" + std::to_string(static_cast<long long>(t_ms)) + ",\"event\":\"stats\"";
        if (worker >= 0) s += ",\"worker\":" + std::to_string(worker);
        s +=
            ",\"clients\":" + std::to_string(clients) + ",\"dropped\":" + std::to_string(d.total());
        for (auto& [k, v] : f)
            s += ",\"" + std::string(k) + "\":" + std::to_string(v);
        std::printf("%s}\n", s.c_str());
        return;
    }
    s = (worker >= 0 ? "[" + std::to_string(worker) + "] " : std::string()) +
        "stats: " + std::to_string(clients) + " clients, " + std::to_string(d.total()) + " dropped";
    for (auto& [k, v] : f)
        if (v) s += ", " + std::string(k) + " " + std::to_string(v);
    std::printf("%9.1f ms  %s\n", t_ms, s.c_str());
}

}  // namespace l2sec::examples
