// IKE (IKEv1/ISAKMP and IKEv2) for l2sec-inspect, UDP 500 and 4500 (after the
// non-ESP marker), with optional decryption of IKEv2 SK payloads:
//
//   --ikev2-sa SPIi:SPIr:SK_ei:SK_er:SK_ai:SK_ar:ENC:INTEG   (repeatable, hex)
//     ENC: aes128-cbc, aes192-cbc, aes256-cbc, aes128-gcm, aes256-gcm
//     INTEG: hmac-sha1-96, hmac-sha256-128, hmac-sha384-192, hmac-sha512-256
//     (for GCM leave SK_ai/SK_ar empty and INTEG "none"; SK_e includes the salt)
//
//   "ike":{"version":2,"exchange":"IKE_AUTH","initiator":true,"response":false,
//          "message_id":1,"spi_i":"hex","spi_r":"hex","payloads":["SK"],
//          "inner_payloads":["IDi","N(INITIAL_CONTACT)","AUTH",...]}
//
// IKEv1 has no I/R flags: its object carries "encrypted" instead of
// "initiator"/"response". Notify payloads print as N(TYPE) (the number when
// l2sec has no name for it). SKF fragments print "fragment":{"number","total"};
// the frame that completes a fragmented message prints "reassembled":N and the
// inner payloads of the whole message (as tshark does). IKEv1 fragments
// (payload 132) likewise, with "fragment":{"id","number","last"}.
#pragma once

#include "context.hpp"
#include "key_spec.hpp"

#include <l2sec/crypto/botan.hpp>
#include <l2sec/ike.hpp>
#include <l2sec/pcap.hpp>

#include <array>
#include <charconv>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace l2sec::inspect {

namespace ike_detail {

struct ikev2_sa_entry {
    std::uint64_t spi_i = 0, spi_r = 0;
    std::optional<ike::v2::sk_protect<crypto::botan>> from_i, from_r;
};

inline std::vector<ikev2_sa_entry>& ikev2_sa_table() {
    static std::vector<ikev2_sa_entry> t;
    return t;
}

/// SKF reassembly across frames, per (SPIs, message id, direction).
struct skf_state {
    std::uint64_t spi_i = 0, spi_r = 0;
    std::uint32_t message_id = 0;
    bool initiator = false;
    std::vector<std::byte> storage = std::vector<std::byte>(65536);
    ike::v2::fragment_reassembler<> r{storage};
};

/// IKEv1 fragment (payload 132) reassembly across frames, per (SPIs, fragment id).
struct v1_frag_state {
    std::uint64_t spi_i = 0, spi_r = 0;
    std::uint16_t id = 0;
    std::vector<std::byte> storage = std::vector<std::byte>(65536);
    ike::v1::fragment_reassembler<255> r{storage};
};

inline v1_frag_state& v1_frag_for(const ike::header& h, std::uint16_t id) {
    static std::vector<std::unique_ptr<v1_frag_state>> states;
    for (auto& st : states)
        if (st->spi_i == h.spi_i && st->spi_r == h.spi_r && st->id == id) return *st;
    auto st = std::make_unique<v1_frag_state>();
    st->spi_i = h.spi_i;
    st->spi_r = h.spi_r;
    st->id = id;
    states.push_back(std::move(st));
    return *states.back();
}

inline skf_state& skf_for(const ike::header& h) {
    static std::vector<std::unique_ptr<skf_state>> states;
    for (auto& st : states)
        if (st->spi_i == h.spi_i && st->spi_r == h.spi_r && st->message_id == h.message_id &&
            st->initiator == h.initiator())
            return *st;
    auto st = std::make_unique<skf_state>();
    st->spi_i = h.spi_i;
    st->spi_r = h.spi_r;
    st->message_id = h.message_id;
    st->initiator = h.initiator();
    states.push_back(std::move(st));
    return *states.back();
}

inline bool hex_u64(std::string_view s, std::uint64_t& v) {
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
    return ec == std::errc{} && p == s.data() + s.size() && !s.empty();
}

inline std::string payload_label(const ike::payload& p, bool v2) {
    const char* n = ike::name(p.kind());
    std::string s = n ? n : std::to_string(p.type);
    if (p.kind() == ike::payload_type::notify && v2) {
        auto nv = ike::v2::notify::parse(p);
        if (nv) {
            const char* nn = ike::name(nv->kind());
            s += "(" + (nn ? std::string(nn) : std::to_string(nv->type)) + ")";
        }
    } else if (p.kind() == ike::payload_type::notification && !v2) {
        auto nv = ike::v1::notification::parse(p);
        if (nv) {
            const char* nn = ike::name(nv->kind());
            s += "(" + (nn ? std::string(nn) : std::to_string(nv->type)) + ")";
        }
    }
    return s;
}

/// Writes the labels of a chain; false (and the error recorded) if it breaks.
inline bool write_chain(packet_context& c, const ike::payload_range& chain, bool v2,
                        std::size_t base) {
    for (const auto& p : chain)
        c.j.value(payload_label(p, v2));
    if (!chain.ok()) {
        c.fail("ike", chain.last_error(), base);
        return false;
    }
    return true;
}

inline std::string hex64(std::uint64_t v) {
    static constexpr char d[] = "0123456789abcdef";
    std::string s(16, '0');
    for (int i = 15; i >= 0; --i, v >>= 4)
        s[static_cast<std::size_t>(i)] = d[v & 15];
    return s;
}

}  // namespace ike_detail

/// Applies one --ikev2-sa SPEC; returns an error message or nullptr.
inline const char* add_ikev2_sa(std::string_view spec) {
    using namespace ike_detail;
    auto parts = split_spec(spec);
    if (parts.size() != 8) return "--ikev2-sa needs SPIi:SPIr:SK_ei:SK_er:SK_ai:SK_ar:ENC:INTEG";
    ikev2_sa_entry e;
    if (!hex_u64(parts[0], e.spi_i) || !hex_u64(parts[1], e.spi_r)) return "--ikev2-sa: bad SPI";
    std::vector<std::byte> ei, er, ai, ar;
    if (!parse_hex(parts[2], ei) || !parse_hex(parts[3], er) || !parse_hex(parts[4], ai) ||
        !parse_hex(parts[5], ar))
        return "--ikev2-sa: bad key hex";
    ike::v2::suite s;
    if (!ike::v2::parse_suite(parts[6], parts[7], s)) return "--ikev2-sa: unknown ENC or INTEG";
    auto info = ike::v2::describe(s);
    if (!info) return "--ikev2-sa: unsupported algorithm";
    auto fi = ike::v2::sk_protect<crypto::botan>::make(*info, ei, ai);
    auto fr = ike::v2::sk_protect<crypto::botan>::make(*info, er, ar);
    if (!fi || !fr) return "--ikev2-sa: key sizes do not match the algorithms";
    e.from_i.emplace(std::move(*fi));
    e.from_r.emplace(std::move(*fr));
    ikev2_sa_table().push_back(std::move(e));
    return nullptr;
}

/// UDP 500, or 4500 when the datagram starts with the non-ESP marker.
inline bool is_ike(const pcap::udp_datagram& u) {
    if (u.src_port == 500 || u.dst_port == 500) return true;
    if (u.src_port != 4500 && u.dst_port != 4500) return false;
    return u.payload.size() >= 8 && ike::strip_non_esp_marker(u.payload).has_value();
}

inline void print_ike(packet_context& c, bytes_view payload, std::size_t base) {
    using namespace ike_detail;
    bytes_view msg = payload;
    // On 4500, the marker (an IKE SPIi is never zero, so four zero bytes are the marker).
    if (payload.size() >= 4 && load_be32(payload.data()) == 0) {
        msg = payload.subspan(4);
        base += 4;
    }
    auto m = ike::parse(msg);
    if (!m) {
        c.fail("ike", m.error(), base);
        return;
    }
    const auto& h = m->header();
    const bool v2 = h.is_v2();
    c.j.begin_object("ike").field("version", static_cast<unsigned>(h.major));
    if (const char* n = ike::name(h.exchange_type))
        c.j.field("exchange", n);
    else
        c.j.field("exchange", static_cast<unsigned>(h.exchange_type));
    if (v2)
        c.j.field("initiator", h.initiator()).field("response", h.response());
    else
        c.j.field("encrypted", h.encrypted());
    c.j.field("message_id", h.message_id)
        .field("spi_i", std::string_view(hex64(h.spi_i)))
        .field("spi_r", std::string_view(hex64(h.spi_r)));
    c.j.begin_array("payloads");
    write_chain(c, m->payloads(), v2, base);
    c.j.end_array();
    if (auto ok = ike::validate(*m); !ok && !c.err) c.fail("ike", ok.error(), base);

    ike::payload last{};
    for (const auto& p : m->payloads())
        last = p;
    if (!v2 && last.kind() == ike::payload_type::fragment_v1) {
        auto f = ike::v1::fragment::parse(last);
        if (f) {
            c.j.begin_object("fragment")
                .field("id", f->id)
                .field("number", static_cast<unsigned>(f->number))
                .field("last", f->last())
                .end_object();
            auto& st = v1_frag_for(h, f->id);
            auto done = st.r.add(*f, base + last.offset);
            if (!done) {
                c.fail("ike", done.error());
            } else if (*done) {
                std::vector<std::byte> whole(st.storage.size());
                auto all = st.r.assemble(whole);
                auto inner = all ? ike::parse(*all) : result<ike::message>(all.error());
                if (!inner) {
                    c.fail("ike", inner.error());
                } else {
                    c.j.field("reassembled", static_cast<unsigned>(f->number));
                    c.j.begin_array("inner_payloads");
                    write_chain(c, inner->payloads(), false, 0);
                    c.j.end_array();
                }
            }
        }
    }
    if (v2 && (last.kind() == ike::payload_type::sk || last.kind() == ike::payload_type::skf)) {
        if (last.kind() == ike::payload_type::skf) {
            if (auto f = ike::v2::skf::parse(last))
                c.j.begin_object("fragment")
                    .field("number", f->number)
                    .field("total", f->total)
                    .end_object();
        }
        for (auto& e : ikev2_sa_table()) {
            if (e.spi_i != h.spi_i || e.spi_r != h.spi_r) continue;
            std::array<std::byte, 65536> buf;
            copy_to(buf, msg);
            auto& ctx = h.initiator() ? e.from_i : e.from_r;
            auto pt = ctx->open(mutable_bytes(buf.data(), msg.size()), base);
            if (!pt) {
                c.fail("ike", pt.error());
                break;
            }
            ike::v2::sk_plaintext inner = *pt;
            std::vector<std::byte> whole;
            if (pt->total > 1) {  // SKF: inner payloads on the frame that completes the message
                auto& st = skf_for(h);
                auto done = st.r.add(*pt);
                if (!done) {
                    c.fail("ike", done.error());
                    break;
                }
                if (!*done) break;
                whole.resize(st.storage.size());
                auto all = st.r.assemble(whole);
                if (!all) {
                    c.fail("ike", all.error());
                    break;
                }
                inner = *all;
                c.j.field("reassembled", static_cast<unsigned>(pt->total));
            }
            c.j.begin_array("inner_payloads");
            if (write_chain(c, inner.payloads(), true, 0)) {
                if (auto ok = ike::v2::validate(inner.payloads()); !ok) c.fail("ike", ok.error());
            }
            c.j.end_array();
            break;
        }
    }
    c.j.end_object();
}

}  // namespace l2sec::inspect
