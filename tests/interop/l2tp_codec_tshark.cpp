// Writes a pcap of L2TP messages built with the l2sec codecs -- all 14 control
// message types carrying every IETF AVP l2sec knows, a ZLB, a vendor AVP,
// hidden AVPs, data messages with and without L/S/O/P -- and prints, one line
// per frame, what tshark must read back (used by l2tp_codec_tshark.sh):
//   message type, non-hidden IETF AVP types, tunnel, session, Ns, Nr, Assigned
//   Tunnel ID, Assigned Session ID, Called Number, Calling Number, Tie Breaker,
//   PPP protocol (data messages)
// in tshark's "-T fields -E separator=/t" layout (occurrences joined by ",").
//
//   l2tp_codec_tshark <out.pcap>
#include <l2sec/crypto/portable.hpp>
#include <l2sec/l2tp.hpp>
#include <l2sec/pcap.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <type_traits>

namespace l2tp = l2sec::l2tp;
namespace avps = l2sec::l2tp::avps;
using l2sec::as_bytes;
using l2sec::bytes_view;
using mt = l2tp::message_type;

namespace {

l2sec::pcap::vector_writer pcap_out;
std::uint32_t frame_no = 0;
const auto secret = as_bytes("tshark-secret");
// MD5 from the standard-library-only backend: this generator links no crypto library.
auto md5 = *l2sec::crypto::portable::make_hash(l2sec::crypto::hash_id::md5);

void emit(bytes_view l2tp_bytes) {
    std::array<std::byte, 2048> frame{};
    l2sec::pcap::udp_endpoints ep{{127, 0, 0, 1}, {127, 0, 0, 2}, 1701, 1701};
    auto n = l2sec::pcap::build_udp_ipv4(frame, ep, l2tp_bytes);
    if (!n || !pcap_out.add(bytes_view(frame).first(*n), 1000 + frame_no++, 0)) std::exit(2);
    // The expectation, from our own parse of what we wrote.
    auto m = l2tp::parse(l2tp_bytes);
    if (!m) std::exit(3);
    std::string types;
    for (auto a : m->avps()) {
        if (a.vendor() != 0 || a.hidden()) continue;
        if (!types.empty()) types += ",";
        types += std::to_string(a.type());
    }
    // Values tshark shows as fields: Assigned Tunnel ID, Assigned Session ID,
    // Called Number, Calling Number, Tie Breaker (hex), PPP protocol of data.
    std::string tid, sid, called, calling, tie;
    auto join = [](std::string& to, const std::string& v) { to += (to.empty() ? "" : ",") + v; };
    for (auto a : m->avps()) {
        if (a.hidden()) continue;
        (void)l2tp::visit_avp(a, [&](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, avps::assigned_tunnel_id>)
                join(tid, std::to_string(v.value));
            if constexpr (std::is_same_v<V, avps::assigned_session_id>)
                join(sid, std::to_string(v.value));
            if constexpr (std::is_same_v<V, avps::called_number>)
                join(called, std::string(v.text()));
            if constexpr (std::is_same_v<V, avps::calling_number>)
                join(calling, std::string(v.text()));
            if constexpr (std::is_same_v<V, avps::tie_breaker>) {
                char t[32];
                std::snprintf(t, sizeof t, "0x%016llx", static_cast<unsigned long long>(v.value));
                join(tie, t);
            }
        });
    }
    std::string proto;
    if (!m->is_control() && m->payload().size() >= 4) {
        char t[16];
        std::snprintf(t, sizeof t, "0x%04x", l2sec::load_be16(m->payload().data() + 2));
        proto = t;
    }
    const auto& h = m->hdr();
    std::string mtype =
        m->is_control() && !m->is_zlb() ? std::to_string(static_cast<unsigned>(m->type())) : "";
    std::string seq = h.has_sequence ? std::to_string(h.ns) + "\t" + std::to_string(h.nr) : "\t";
    std::printf("%s\t%s\t%u\t%u\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mtype.c_str(), types.c_str(),
                h.tunnel_id, h.session_id, seq.c_str(), tid.c_str(), sid.c_str(), called.c_str(),
                calling.c_str(), tie.c_str(), proto.c_str());
}

void add_all_for(l2tp::message_builder& b, mt t, const std::array<std::byte, 16>& rv) {
    std::array<std::byte, 16> sixteen{};
    for (std::size_t i = 0; i < 16; ++i)
        sixteen[i] = static_cast<std::byte>(0x40 + i);
    // The LCP CONFREQ AVPs carry the options only (RFC 2661 4.4.5): MRU 1500, ACCM 0.
    const std::array<std::byte, 10> lcp{std::byte{1}, std::byte{4}, std::byte{5}, std::byte{0xdc},
                                        std::byte{2}, std::byte{6}, std::byte{0}, std::byte{0},
                                        std::byte{0}, std::byte{0}};
    switch (t) {
        case mt::sccrq:
        case mt::sccrp:
            b.add(avps::protocol_version{1, 0})
                .add(avps::framing_capabilities{avps::framing::sync | avps::framing::async})
                .add(avps::bearer_capabilities{avps::bearer::digital | avps::bearer::analog})
                .add(avps::tie_breaker{0x0102030405060708ULL})
                .add(avps::firmware_revision{0x0100})
                .add(avps::host_name{as_bytes("l2sec")})
                .add(avps::vendor_name{as_bytes("l2sec project")})
                .add(avps::assigned_tunnel_id{100})
                .add(avps::receive_window_size{8})
                .add(avps::challenge{sixteen});
            if (t == mt::sccrp)
                b.add(avps::challenge_response{*l2tp::sccrp_response(md5, secret, sixteen)});
            break;
        case mt::scccn:
            b.add(avps::challenge_response{*l2tp::scccn_response(md5, secret, sixteen)});
            break;
        case mt::stopccn:
            b.add(avps::assigned_tunnel_id{100})
                .add(avps::result_code{1, true, 0, as_bytes("General request")});
            break;
        case mt::hello:
            break;
        case mt::ocrq:
            b.add(avps::assigned_session_id{7})
                .add(avps::call_serial_number{42})
                .add(avps::minimum_bps{9600})
                .add(avps::maximum_bps{10000000})
                .add(avps::bearer_type{avps::bearer::analog})
                .add(avps::framing_type{avps::framing::async})
                .add(avps::called_number{as_bytes("5551234")})
                .add(avps::sub_address{as_bytes("12")});
            break;
        case mt::ocrp:
            b.add(avps::assigned_session_id{7}).add(avps::physical_channel_id{3});
            break;
        case mt::occn:
            b.add(avps::tx_connect_speed{64000})
                .add(avps::framing_type{avps::framing::sync})
                .add(avps::rx_connect_speed{64000})
                .add(avps::sequencing_required{});
            break;
        case mt::icrq:
            b.add(avps::random_vector{rv})
                .add_hidden(md5, avps::assigned_session_id{7}, secret)
                .add(avps::call_serial_number{43})
                .add(avps::bearer_type{avps::bearer::digital})
                .add(avps::physical_channel_id{1})
                .add(avps::calling_number{as_bytes("5554321")})
                .add(avps::called_number{as_bytes("5551234")})
                .add(avps::sub_address{as_bytes("3")});
            break;
        case mt::icrp:
            b.add(avps::assigned_session_id{8});
            break;
        case mt::iccn:
            b.add(avps::tx_connect_speed{10000000})
                .add(avps::framing_type{avps::framing::sync})
                .add(avps::initial_received_lcp_confreq{lcp})
                .add(avps::last_sent_lcp_confreq{lcp})
                .add(avps::last_received_lcp_confreq{lcp})
                .add(avps::proxy_authen_type{2})
                .add(avps::proxy_authen_name{as_bytes("user")})
                .add(avps::proxy_authen_challenge{sixteen})
                .add(avps::proxy_authen_id{5})
                .add(avps::proxy_authen_response{sixteen})
                .add(avps::private_group_id{as_bytes("grp")})
                .add(avps::rx_connect_speed{10000000})
                .add(avps::sequencing_required{});
            break;
        case mt::cdn:
            b.add(avps::result_code{3})
                .add(avps::assigned_session_id{8})
                .add(avps::q931_cause_code{16, 0x45, as_bytes("normal")})
                .add(avps::ppp_disconnect_cause_code{2, 0xC021, 1, as_bytes("peer")});
            break;
        case mt::wen:
            b.add(avps::call_errors{1, 2, 3, 4, 5, 6});
            break;
        case mt::sli:
            b.add(avps::accm{0x000A0000, 0xFFFFFFFF});
            break;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    std::array<std::byte, 16> rv{};
    for (std::size_t i = 0; i < 16; ++i)
        rv[i] = static_cast<std::byte>(0x10 * i + 1);
    const mt all[] = {mt::sccrq, mt::sccrp, mt::scccn, mt::stopccn, mt::hello, mt::ocrq, mt::ocrp,
                      mt::occn,  mt::icrq,  mt::icrp,  mt::iccn,    mt::cdn,   mt::wen,  mt::sli};
    std::uint16_t ns = 0;
    for (mt t : all) {
        std::array<std::byte, 1024> buf{};
        const bool session = t != mt::sccrq && t != mt::sccrp && t != mt::scccn &&
                             t != mt::stopccn && t != mt::hello;
        l2tp::message_builder b(buf, 100, session ? 7 : 0, ns++, 3);
        b.add(avps::message_type{t});
        add_all_for(b, t, rv);
        auto r = b.finish();
        if (!r || !l2tp::validate(*l2tp::parse(*r))) return 4;
        emit(*r);
    }
    // A ZLB, and a HELLO with a Broadband Forum vendor AVP (3561, Agent-Circuit-Id).
    std::array<std::byte, 128> buf{};
    emit(*l2tp::write_zlb(buf, 100, 0, ns, 4));
    emit(*l2tp::message_builder(buf, 100, 0, ns++, 4)
              .add(avps::message_type{mt::hello})
              .add_raw(3561, 1, as_bytes("eth 0/1/2:100"), false)
              .finish());
    // Data messages carrying an LCP Configure-Request: plain; L+S; L+S+O+P with 2 pad octets.
    const std::array<std::byte, 12> ppp{std::byte{0xff}, std::byte{0x03}, std::byte{0xc0},
                                        std::byte{0x21}, std::byte{1},    std::byte{1},
                                        std::byte{0},    std::byte{8},    std::byte{1},
                                        std::byte{4},    std::byte{5},    std::byte{0xdc}};
    for (int variant = 0; variant < 3; ++variant) {
        l2tp::header h = l2tp::data_header(100, 7);
        if (variant >= 1) {
            h.has_length = h.has_sequence = true;
            h.ns = 9;
            h.nr = 0;
        }
        if (variant == 2) {
            h.has_offset = h.priority = true;
            h.offset_size = 2;
        }
        auto n = l2tp::write_data_header(buf, h, ppp.size());
        if (!n) return 5;
        l2sec::copy_to(l2sec::mutable_bytes(buf).subspan(*n), ppp);
        emit(bytes_view(buf).first(*n + ppp.size()));
    }
    std::ofstream f(argv[1], std::ios::binary);
    f << pcap_out;
    return f ? 0 : 6;
}
