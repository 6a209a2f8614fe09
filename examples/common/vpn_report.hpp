// How the server and client print what happens: one line per vpn::report,
// readable by default, one JSON object per line with --json.
#pragma once

#include <l2sec/vpn/report.hpp>

#include <cstdio>
#include <string>

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

/// One line for `r`; `worker` (0..) is shown when the server runs several.
inline void print_report(const vpn::report& r, bool json, double t_ms, int worker = -1) {
    std::string reason = r.reason.code ? r.reason.message() : std::string();
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
            if (r.kind == vpn::report_kind::esp_up)
                s += ",\"suite\":\"" + suite_text(r.suite) +
                     "\",\"udp_encap\":" + (r.udp_encap ? "true" : "false");
            if (r.old_spi_in) {
                std::snprintf(b, sizeof b, ",\"rekey_of\":\"%08x\"", r.old_spi_in);
                s += b;
            }
        }
        if (r.tunnel) s += ",\"tunnel\":" + std::to_string(r.tunnel);
        if (r.session) s += ",\"session\":" + std::to_string(r.session);
        if (!r.user_name().empty()) s += ",\"user\":\"" + json_escape(r.user_name()) + "\"";
        if (r.ip) s += ",\"ip\":\"" + ip4(r.ip) + "\"";
        if (r.local_ip) s += ",\"local_ip\":\"" + ip4(r.local_ip) + "\"";
        if (r.dns) s += ",\"dns\":\"" + ip4(r.dns) + "\"";
        if (!reason.empty()) s += ",\"reason\":\"" + json_escape(reason) + "\"";
        std::printf("%s}\n", s.c_str());
        return;
    }
    std::string s = vpn::to_string(r.kind);
    if (worker >= 0) s = "[" + std::to_string(worker) + "] " + s;
    if (r.endpoint.valid()) s += " peer " + endpoint_text(r.endpoint);
    if (r.kind == vpn::report_kind::esp_up) {
        char b[96];
        std::snprintf(b, sizeof b, " spi in %08x out %08x %s%s%s", r.spi_in, r.spi_out,
                      suite_text(r.suite).c_str(), r.udp_encap ? " udp-encap" : " raw-esp",
                      r.old_spi_in ? " (rekey)" : "");
        s += b;
    }
    if (!r.user_name().empty()) s += " user " + std::string(r.user_name());
    if (r.ip) s += " ip " + ip4(r.ip);
    if (r.dns) s += " dns " + ip4(r.dns);
    if (!reason.empty()) s += ": " + reason;
    std::printf("%9.1f ms  %s\n", t_ms, s.c_str());
}

}  // namespace l2sec::examples
