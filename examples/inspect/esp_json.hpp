// ESP (RFC 4303) for l2sec-inspect, with optional decryption:
//
//   --esp-sa SPI:ALG:KEYHEX[:INTEGKEYHEX]   (repeatable)
//     SPI: 0x-prefixed hex or decimal; ALG: aes128-gcm, aes256-gcm,
//     chacha20-poly1305, aes{128,192,256}-cbc-{sha1,sha256,sha384,sha512,md5},
//     null-{sha1,...}; for GCM and ChaCha20 the key includes the 4-byte salt.
//
//   "esp":{"spi":N,"seq":N,"decrypted":bool,"icv_ok":bool,"next_header":N,"payload_len":N}
//
// next_header and payload_len appear once decrypted. The decrypted payload is
// then decoded where l2sec knows it: an inner IPv4/IPv6 packet (tunnel mode)
// or a UDP header (transport mode) on the L2TP port carries "l2tp":{...}.
// ESP in UDP on port 4500 (RFC 3948) is handled too; NAT keepalives print
// "esp_in_udp":"keepalive"; the non-ESP marker (IKE) is left to the IKE layer.
// Anti-replay is off here: a capture may well hold duplicates.
#pragma once

#include "context.hpp"
#include "key_spec.hpp"
#include "l2tp_json.hpp"

#include <l2sec/crypto/botan.hpp>
#include <l2sec/esp.hpp>
#include <l2sec/pcap.hpp>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace l2sec::inspect {

namespace esp_detail {

struct sa_entry {
    std::uint32_t spi = 0;
    std::vector<std::byte> enc_key, integ_key;
    std::optional<esp::sa<crypto::botan>> sa;
};

inline std::vector<sa_entry>& sa_table() {
    static std::vector<sa_entry> t;
    return t;
}

}  // namespace esp_detail

/// Applies one --esp-sa SPEC; returns an error message or nullptr.
inline const char* add_esp_sa(std::string_view spec) {
    using namespace esp_detail;
    auto parts = split_spec(spec);
    if (parts.size() < 3 || parts.size() > 4) return "--esp-sa needs SPI:ALG:KEYHEX[:INTEGKEYHEX]";
    sa_entry e;
    std::string_view spi = parts[0];
    int base = 10;
    if (spi.size() > 2 && spi[0] == '0' && (spi[1] == 'x' || spi[1] == 'X')) {
        spi.remove_prefix(2);
        base = 16;
    }
    auto [p, ec] = std::from_chars(spi.data(), spi.data() + spi.size(), e.spi, base);
    if (ec != std::errc{} || p != spi.data() + spi.size()) return "--esp-sa: bad SPI";
    auto s = esp::parse_suite(parts[1]);
    if (!s) return "--esp-sa: unknown algorithm";
    if (!parse_hex(parts[2], e.enc_key)) return "--esp-sa: bad key hex";
    if (parts.size() == 4 && !parse_hex(parts[3], e.integ_key))
        return "--esp-sa: bad integrity key hex";
    if (s->enc == esp::encryption::null &&
        parts.size() == 3) {  // null-*: the only key is the integrity key
        e.integ_key = e.enc_key;
        e.enc_key.clear();
    }
    esp::sa_config cfg;
    cfg.spi = e.spi;
    cfg.algorithms = *s;
    cfg.enc_key = e.enc_key;
    cfg.integ_key = e.integ_key;
    cfg.replay_window = 0;
    auto sa = esp::sa<crypto::botan>::make(cfg);
    if (!sa)
        return "--esp-sa: keys do not fit the algorithm (GCM/ChaCha20 keys include the 4-byte "
               "salt)";
    e.sa.emplace(std::move(*sa));
    sa_table().push_back(std::move(e));
    return nullptr;
}

/// Writes "esp":{...} for the ESP packet `packet` at frame offset `base`,
/// then the decrypted inner packet where it is known.
inline void print_esp(packet_context& c, bytes_view packet, std::size_t base) {
    json_writer& j = c.j;
    auto h = esp::parse_header(packet);
    if (!h) {
        c.fail("esp", h.error(), base);
        return;
    }
    j.begin_object("esp").field("spi", h->spi).field("seq", h->seq);
    esp_detail::sa_entry* entry = nullptr;
    for (auto& e : esp_detail::sa_table())
        if (e.spi == h->spi) entry = &e;
    if (!entry) {
        j.field("decrypted", false).field("icv_ok", false).end_object();
        return;
    }
    std::vector<std::byte> copy(packet.begin(), packet.end());
    auto r = entry->sa->unprotect(copy);
    if (!r) {
        bool icv_failed = r.error() == esp::errc::icv_mismatch;
        bool icv_passed =
            r.error() == esp::errc::bad_padding || r.error() == esp::errc::bad_pad_length;
        j.field("decrypted", false).field("icv_ok", icv_passed && !icv_failed).end_object();
        c.fail("esp", r.error(), base);
        return;
    }
    j.field("decrypted", true)
        .field("icv_ok", true)
        .field("next_header", r->next_header)
        .field("payload_len", r->payload.size())
        .end_object();
    std::size_t off = static_cast<std::size_t>(r->payload.data() - copy.data());
    bytes_view plain = bytes_view(copy).first(off + r->payload.size());
    auto l2tp_udp = [&](std::uint16_t sport, std::uint16_t dport) {
        return sport == c.opts.l2tp_port || dport == c.opts.l2tp_port;
    };
    if (r->next_header == esp::proto::ipv4 || r->next_header == esp::proto::ipv6) {
        auto ip = pcap::decode_ip(plain, off);
        if (!ip) {
            c.fail("ip", ip.error(), base);
            return;
        }
        if (ip->protocol != pcap::ip_proto_udp) return;
        auto u = pcap::decode_udp(*ip);
        if (!u) {
            c.fail("udp", u.error(), base);
            return;
        }
        if (l2tp_udp(u->src_port, u->dst_port)) print_l2tp(c, u->payload, base + u->payload_offset);
    } else if (r->next_header == esp::proto::udp && r->payload.size() >= 8) {
        auto p = r->payload;
        std::uint16_t sport = load_be16(p.data()), dport = load_be16(p.data() + 2);
        if (l2tp_udp(sport, dport)) print_l2tp(c, bytes_view(p).subspan(8), base + off + 8);
    }
}

/// RFC 3948: a UDP datagram on port 4500 that is ESP or a NAT keepalive
/// (IKE after the non-ESP marker belongs to the IKE layer).
inline bool is_esp_in_udp(const pcap::udp_datagram& u) {
    if (u.src_port != esp::udp_encap::port && u.dst_port != esp::udp_encap::port) return false;
    auto k = esp::udp_encap::classify(u.payload);
    return !k || *k != esp::udp_encap::kind::ike;
}

inline void print_esp_in_udp(packet_context& c, bytes_view payload, std::size_t base) {
    auto k = esp::udp_encap::classify(payload);
    if (!k) {
        c.fail("esp", k.error(), base);
        return;
    }
    if (*k == esp::udp_encap::kind::keepalive) {
        c.j.field("esp_in_udp", "keepalive");
        return;
    }
    print_esp(c, payload, base);
}

}  // namespace l2sec::inspect
