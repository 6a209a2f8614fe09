// l2sec-l2tp-gen: writes a pcap of L2TP messages built with l2sec's encoders,
// for the tshark cross-check (tests/interop/tshark_l2tp.sh):
//   l2sec-l2tp-gen [--port N] [--secret S] OUT.pcap
// All 14 control message types with their usual AVPs (RFC 2661 section 6),
// hidden AVPs (Random Vector + H bit, secret S, default "l2sec-secret"), a
// vendor-specific AVP, RFC 3145's PPP Disconnect Cause Code, ZLBs, and data
// messages carrying LCP (Configure-Request/Ack/Nak/Reject, Echo, Terminate),
// IPCP (IP-Address, DNS), IPV6CP, PAP and CHAP. Frames are Ethernet + IPv4 +
// UDP (both checksums computed) from 192.0.2.1:1701 to 192.0.2.2:N (default
// N = 1701).
#include <l2sec/l2tp.hpp>
#include <l2sec/pcap.hpp>
#include <l2sec/ppp.hpp>

#include "common/crypto.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

namespace {

using namespace l2sec;
namespace avps = l2tp::avps;
using l2tp::message_type;

struct generator {
    pcap::vector_writer out{pcap::write_options{}};
    pcap::udp_endpoints ep{{192, 0, 2, 1}, {192, 0, 2, 2}, 1701, 1701};
    std::string secret = "l2sec-secret";
    std::uint16_t tunnel = 0x1234;
    std::uint16_t session = 0x0042;
    std::uint16_t ns = 0;
    std::uint32_t ts = 1700000000;
    bool ok = true;

    void frame(bytes_view l2tp_bytes) {
        std::array<std::byte, 2048> f{};
        auto n = pcap::build_udp_ipv4(f, ep, l2tp_bytes);
        if (!n) {
            std::fprintf(stderr, "frame: %s\n", n.error().message().c_str());
            ok = false;
            return;
        }
        auto frac = static_cast<std::uint32_t>(out.bytes().size() % 1000000);
        out.add(bytes_view(f).first(*n), ts++, frac);
    }
    /// Finish a control message and write it; Ns advances.
    void control(l2tp::message_builder& b) {
        auto m = b.finish();
        if (!m) {
            std::fprintf(stderr, "control: %s\n", m.error().message().c_str());
            ok = false;
            return;
        }
        frame(*m);
        ++ns;
    }
    l2tp::message_builder start(std::array<std::byte, 1024>& buf, std::uint16_t sid = 0) {
        return l2tp::message_builder(buf, tunnel, sid, ns, static_cast<std::uint16_t>(ns + 1));
    }
    bytes_view sec() const { return as_bytes(secret); }

    /// A data message around a PPP frame of `proto` whose information is `info`.
    void data(ppp::protocol proto, bytes_view info, l2tp::header h) {
        std::array<std::byte, 1500> buf{};
        auto hs = h.encoded_size();
        auto n = ppp::encode_frame(mutable_bytes(buf).subspan(hs), proto, info);
        if (!n) {
            std::fprintf(stderr, "ppp: %s\n", n.error().message().c_str());
            ok = false;
            return;
        }
        auto w = l2tp::write_data_header(buf, h, *n);
        if (!w) {
            std::fprintf(stderr, "data: %s\n", w.error().message().c_str());
            ok = false;
            return;
        }
        frame(bytes_view(buf).first(hs + *n));
    }
    void data(ppp::protocol proto, bytes_view info) {
        data(proto, info, l2tp::data_header(tunnel, session));
    }
    template <class Fn>
    void ppp_packet(ppp::protocol proto, Fn&& build) {
        std::array<std::byte, 512> pkt{};
        auto n = build(mutable_bytes(pkt));
        if (!n) {
            std::fprintf(stderr, "ppp packet: %s\n", n.error().message().c_str());
            ok = false;
            return;
        }
        data(proto, bytes_view(pkt).first(*n));
    }
};

constexpr std::array<std::uint8_t, 16> challenge16{0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
                                                   0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};
bytes_view chal() {
    return bytes_view(reinterpret_cast<const std::byte*>(challenge16.data()), 16);
}

void control_messages(generator& g) {
    std::array<std::byte, 1024> buf{};
    const auto rv1 = as_bytes("\x5a\xa5\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e");
    const auto rv2 = as_bytes("\x11\x22\x33\x44\x55\x66\x77\x88");
    {  // SCCRQ, with a vendor-specific AVP (Broadband Forum, 3561) that must stay vendor-keyed
        auto b = g.start(buf);
        b.add(avps::message_type{message_type::sccrq})
            .add(avps::protocol_version{})
            .add(avps::host_name{as_bytes("lac.example")})
            .add(avps::framing_capabilities{avps::framing::sync | avps::framing::async})
            .add(avps::bearer_capabilities{avps::bearer::analog})
            .add(avps::tie_breaker{0x0102030405060708ULL})
            .add(avps::firmware_revision{0x0100})
            .add(avps::vendor_name{as_bytes("l2sec")})
            .add(avps::assigned_tunnel_id{g.tunnel})
            .add(avps::receive_window_size{8})
            .add(avps::challenge{chal()})
            .add_raw(3561, 1, as_bytes("circuit-7"), false);
        g.control(b);
    }
    {  // SCCRP with the Challenge Response for the SCCRQ's challenge
        auto b = g.start(buf);
        auto resp = *l2tp::sccrp_response(l2sec::examples::md5(), g.sec(), chal());
        b.add(avps::message_type{message_type::sccrp})
            .add(avps::protocol_version{})
            .add(avps::framing_capabilities{avps::framing::sync})
            .add(avps::bearer_capabilities{avps::bearer::digital | avps::bearer::analog})
            .add(avps::firmware_revision{0x0200})
            .add(avps::host_name{as_bytes("lns.example")})
            .add(avps::vendor_name{as_bytes("l2sec LNS")})
            .add(avps::assigned_tunnel_id{0x4321})
            .add(avps::receive_window_size{4})
            .add(avps::challenge{as_bytes("0123456789abcdef")})
            .add(avps::challenge_response{bytes_view(resp)});
        g.control(b);
    }
    {  // SCCCN
        auto b = g.start(buf);
        auto resp =
            *l2tp::scccn_response(l2sec::examples::md5(), g.sec(), as_bytes("0123456789abcdef"));
        b.add(avps::message_type{message_type::scccn})
            .add(avps::challenge_response{bytes_view(resp)});
        g.control(b);
    }
    {  // ZLB acknowledgement
        auto b = g.start(buf);
        g.control(b);
        --g.ns;  // a ZLB does not consume a sequence number
    }
    {  // HELLO
        auto b = g.start(buf);
        b.add(avps::message_type{message_type::hello});
        g.control(b);
    }
    {  // OCRQ
        auto b = g.start(buf);
        b.add(avps::message_type{message_type::ocrq})
            .add(avps::assigned_session_id{0x0101})
            .add(avps::call_serial_number{7})
            .add(avps::minimum_bps{9600})
            .add(avps::maximum_bps{64000000})
            .add(avps::bearer_type{avps::bearer::digital})
            .add(avps::framing_type{avps::framing::sync})
            .add(avps::called_number{as_bytes("+33 1 23 45 67 89")})
            .add(avps::sub_address{as_bytes("42")});
        g.control(b);
    }
    {  // OCRP
        auto b = g.start(buf, 0x0101);
        b.add(avps::message_type{message_type::ocrp})
            .add(avps::assigned_session_id{0x0202})
            .add(avps::physical_channel_id{0x00010002});
        g.control(b);
    }
    {  // OCCN
        auto b = g.start(buf, 0x0202);
        b.add(avps::message_type{message_type::occn})
            .add(avps::tx_connect_speed{1000000})
            .add(avps::framing_type{avps::framing::async})
            .add(avps::rx_connect_speed{2000000})
            .add(avps::sequencing_required{});
        g.control(b);
    }
    {  // ICRQ with a hidden Calling Number (Random Vector first)
        auto b = g.start(buf);
        b.add(avps::message_type{message_type::icrq})
            .add(avps::random_vector{rv1})
            .add(avps::assigned_session_id{g.session})
            .add(avps::call_serial_number{0xdeadbeef})
            .add(avps::bearer_type{avps::bearer::analog})
            .add(avps::physical_channel_id{3})
            .add_hidden(l2sec::examples::md5(), avps::calling_number{as_bytes("5551234")}, g.sec(),
                        as_bytes("pad"))
            .add(avps::called_number{as_bytes("5556789")})
            .add(avps::sub_address{as_bytes("sub")});
        g.control(b);
    }
    {  // ICRP
        auto b = g.start(buf, g.session);
        b.add(avps::message_type{message_type::icrp}).add(avps::assigned_session_id{0x0777});
        g.control(b);
    }
    {  // ICCN with proxy LCP and proxy authentication, two hidden AVPs
        auto b = g.start(buf, 0x0777);
        const auto confreq = as_bytes("\x01\x04\x05\xdc\x05\x06\x12\x34\x56\x78");
        b.add(avps::message_type{message_type::iccn})
            .add(avps::tx_connect_speed{56000})
            .add(avps::framing_type{avps::framing::async})
            .add(avps::initial_received_lcp_confreq{confreq})
            .add(avps::last_sent_lcp_confreq{confreq})
            .add(avps::last_received_lcp_confreq{confreq})
            .add(avps::random_vector{rv2})
            .add(avps::proxy_authen_type{2})  // PPP CHAP
            .add_hidden(l2sec::examples::md5(), avps::proxy_authen_name{as_bytes("alice")}, g.sec())
            .add(avps::proxy_authen_challenge{chal()})
            .add(avps::proxy_authen_id{9})
            .add_hidden(l2sec::examples::md5(), avps::proxy_authen_response{chal()}, g.sec(),
                        as_bytes("xy"))
            .add(avps::private_group_id{as_bytes("grp1")})
            .add(avps::rx_connect_speed{33600})
            .add(avps::sequencing_required{});
        g.control(b);
    }
    {  // SLI
        auto b = g.start(buf, 0x0777);
        b.add(avps::message_type{message_type::sli}).add(avps::accm{0x000a0000, 0xffffffff});
        g.control(b);
    }
    {  // WEN
        auto b = g.start(buf, 0x0777);
        avps::call_errors ce;
        ce.crc_errors = 1;
        ce.framing_errors = 2;
        ce.hardware_overruns = 3;
        ce.buffer_overruns = 4;
        ce.timeout_errors = 5;
        ce.alignment_errors = 6;
        b.add(avps::message_type{message_type::wen}).add(ce);
        g.control(b);
    }
    {  // CDN with Result Code + error + message, Q.931, PPP Disconnect Cause Code
        auto b = g.start(buf, 0x0777);
        avps::result_code rc;
        rc.result = 3;
        rc.has_error_code = true;
        rc.error_code = 6;
        rc.message = as_bytes("admin \"down\"");
        b.add(avps::message_type{message_type::cdn})
            .add(rc)
            .add(avps::assigned_session_id{g.session})
            .add(avps::q931_cause_code{16, 0x5a, as_bytes("normal")})
            .add(avps::ppp_disconnect_cause_code{2, 0xc021, 1, as_bytes("lcp")});
        g.control(b);
    }
    {  // StopCCN
        auto b = g.start(buf);
        avps::result_code rc;
        rc.result = 1;
        b.add(avps::message_type{message_type::stopccn})
            .add(avps::assigned_tunnel_id{g.tunnel})
            .add(rc);
        g.control(b);
    }
}

void data_messages(generator& g) {
    using ppp::code;
    namespace lcp = ppp::lcp;
    namespace ipcp = ppp::ipcp;
    auto confreq = [](code c, std::uint8_t id) {
        return [c, id](mutable_bytes out) {
            ppp::packet_writer w(out, c, id);
            w.option(lcp::mru{1400})
                .option(lcp::accm{0})
                .option(lcp::auth_protocol::pap())
                .option(lcp::magic_number{0x12345678})
                .option(lcp::pfc{})
                .option(lcp::acfc{});
            return w.finish();
        };
    };
    g.ppp_packet(ppp::protocol::lcp, confreq(code::configure_request, 1));
    g.ppp_packet(ppp::protocol::lcp, confreq(code::configure_ack, 1));
    g.ppp_packet(ppp::protocol::lcp, [](mutable_bytes out) {
        return ppp::packet_writer(out, code::configure_nak, 2).option(lcp::mru{1300}).finish();
    });
    g.ppp_packet(ppp::protocol::lcp, [](mutable_bytes out) {
        return ppp::packet_writer(out, code::configure_reject, 3)
            .option(13, as_bytes("\x06"))  // Callback, operation 6
            .finish();
    });
    // l2tpns-style request: CHAP-MD5, MRRU, Endpoint Discriminator
    g.ppp_packet(ppp::protocol::lcp, [](mutable_bytes out) {
        return ppp::packet_writer(out, code::configure_request, 4)
            .option(lcp::mru{1462})
            .option(lcp::auth_protocol::chap_md5())
            .option(lcp::magic_number{0xcafef00d})
            .option(lcp::mrru{1614})
            .option(lcp::endpoint_discriminator{lcp::endpoint_discriminator::class_type::ip_address,
                                                as_bytes(std::string_view("\x0a\x00\x00\x01", 4))})
            .finish();
    });
    g.ppp_packet(ppp::protocol::lcp, [](mutable_bytes out) {
        return ppp::encode_echo(out, code::echo_request, 5, 0x12345678, as_bytes("ping"));
    });
    g.ppp_packet(ppp::protocol::lcp, [](mutable_bytes out) {
        return ppp::encode_echo(out, code::echo_reply, 5, 0x87654321, as_bytes("ping"));
    });
    // With Length, sequence numbers and an offset pad: all header fields in use.
    {
        l2tp::header h = l2tp::data_header(g.tunnel, g.session);
        h.has_length = true;
        h.has_sequence = true;
        h.ns = 3;
        h.nr = 4;
        h.has_offset = true;
        h.offset_size = 2;
        std::array<std::byte, 64> pkt{};
        auto n = ppp::encode_terminate(pkt, code::terminate_request, 6, as_bytes("bye"));
        if (n) g.data(ppp::protocol::lcp, bytes_view(pkt).first(*n), h);
    }
    g.ppp_packet(ppp::protocol::lcp, [](mutable_bytes out) {
        return ppp::encode_terminate(out, code::terminate_ack, 6);
    });
    // IPCP: request 0.0.0.0 + DNS, Nak with the addresses, then the Ack
    g.ppp_packet(ppp::protocol::ipcp, [](mutable_bytes out) {
        return ppp::packet_writer(out, code::configure_request, 1)
            .option(ipcp::ip_address{0})
            .option(ipcp::primary_dns{0})
            .option(ipcp::secondary_dns{0})
            .finish();
    });
    g.ppp_packet(ppp::protocol::ipcp, [](mutable_bytes out) {
        return ppp::packet_writer(out, code::configure_nak, 1)
            .option(ipcp::ip_address{0x0a000002})
            .option(ipcp::primary_dns{0x08080808})
            .option(ipcp::secondary_dns{0x01010101})
            .finish();
    });
    g.ppp_packet(ppp::protocol::ipcp, [](mutable_bytes out) {
        return ppp::packet_writer(out, code::configure_ack, 2)
            .option(ipcp::ip_address{0x0a000002})
            .option(ipcp::primary_dns{0x08080808})
            .option(ipcp::secondary_dns{0x01010101})
            .finish();
    });
    g.ppp_packet(ppp::protocol::ipv6cp, [](mutable_bytes out) {
        return ppp::packet_writer(out, code::configure_request, 1)
            .option(ppp::ipv6cp::interface_identifier{0x0211223344556677ULL})
            .finish();
    });
    // PAP
    g.ppp_packet(ppp::protocol::pap, [](mutable_bytes out) {
        return ppp::pap::encode_request(out, 1, as_bytes("alice"), as_bytes("s3cret"));
    });
    g.ppp_packet(ppp::protocol::pap, [](mutable_bytes out) {
        return ppp::pap::encode_reply(out, ppp::pap::code::authenticate_ack, 1,
                                      as_bytes("Login ok"));
    });
    g.ppp_packet(ppp::protocol::pap, [](mutable_bytes out) {
        return ppp::pap::encode_reply(out, ppp::pap::code::authenticate_nak, 2,
                                      as_bytes("Bad password"));
    });
    // CHAP (MD5)
    g.ppp_packet(ppp::protocol::chap, [](mutable_bytes out) {
        return ppp::chap::encode_value(out, ppp::chap::code::challenge, 7, chal(), as_bytes("lns"));
    });
    g.ppp_packet(ppp::protocol::chap, [](mutable_bytes out) {
        return ppp::chap::encode_value(out, ppp::chap::code::response, 7,
                                       as_bytes("0123456789abcdef"), as_bytes("alice"));
    });
    g.ppp_packet(ppp::protocol::chap, [](mutable_bytes out) {
        return ppp::chap::encode_result(out, ppp::chap::code::success, 7, as_bytes("Welcome"));
    });
    g.ppp_packet(ppp::protocol::chap, [](mutable_bytes out) {
        return ppp::chap::encode_result(out, ppp::chap::code::failure, 8, as_bytes("Denied"));
    });
}

}  // namespace

int main(int argc, char** argv) {
    generator g;
    const char* path = nullptr;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--port" && i + 1 < argc) {
            std::string_view v = argv[++i];
            unsigned p = 0;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
            if (ec != std::errc{} || end != v.data() + v.size() || p == 0 || p > 65535) {
                std::fprintf(stderr, "bad port %s\n", argv[i]);
                return 2;
            }
            g.ep.dst_port = static_cast<std::uint16_t>(p);
        } else if (a == "--secret" && i + 1 < argc) {
            g.secret = argv[++i];
        } else if (!path && !a.starts_with("-")) {
            path = argv[i];
        } else {
            std::fprintf(stderr, "usage: %s [--port N] [--secret S] OUT.pcap\n", argv[0]);
            return 2;
        }
    }
    if (!path) {
        std::fprintf(stderr, "usage: %s [--port N] [--secret S] OUT.pcap\n", argv[0]);
        return 2;
    }
    control_messages(g);
    data_messages(g);
    if (!g.ok) return 1;
    std::ofstream f(path, std::ios::binary);
    f << g.out;
    f.close();
    if (!f) {
        std::fprintf(stderr, "%s: write failed\n", path);
        return 1;
    }
    return 0;
}
