// l2sec-inspect: prints one JSON object per line for each packet of a pcap or
// pcapng file, decoded with l2sec's own codecs.
//
//   l2sec-inspect [--l2tp-port N] [--l2tp-secret S] [--no-skipped] FILE.pcap
//
//   {"frame":1,"l2tp":{"type":"SCCRQ","tunnel_id":0,...,"avps":[...]}}
//   {"frame":9,"l2tp":{"type":"data",...},"ppp":{"protocol":"lcp","code":"configure_request",...}}
//   {"frame":4,"error":{"layer":"l2tp","code":"AVP length overruns the message","offset":58}}
//   {"frame":5,"skipped":"udp port 53"}
//
// Frame numbers start at 1 (as tshark's). Error offsets count from the first
// byte of the captured frame. Exit status: 0 when the file was read (even if
// some packets did not decode), 1 when it could not be read or is not pcap,
// 2 on a usage error.
//
// Adding a layer (ESP, IKE, ...): write examples/inspect/<name>_json.hpp with
// a printer `void print_x(packet_context&, bytes_view, std::size_t base)`,
// include it below, and add one entry to `udp_layers` (by UDP port) or
// `ip_layers` (by IP protocol number). Options go into `options` (the
// settings they fill live in context.hpp, or in your own header).
#include "context.hpp"
#include "esp_json.hpp"
#include "ike_json.hpp"
#include "json.hpp"
#include "l2tp_json.hpp"
#include "ppp_json.hpp"

#include <l2sec/pcap.hpp>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

namespace {

using namespace l2sec;
using namespace l2sec::inspect;

// ---------------------------------------------------------------- options
struct option_handler {
    const char* name;  ///< "--l2tp-port"
    const char* arg;   ///< argument placeholder for the usage text, or nullptr for a flag
    const char* help;
    /// Applies the option; returns an error message, or nullptr.
    const char* (*apply)(settings&, std::string_view arg);
};

const option_handler options[] = {
    {"--l2tp-port", "N", "UDP port carrying L2TP (default 1701)",
     [](settings& s, std::string_view a) -> const char* {
         unsigned v = 0;
         auto [p, ec] = std::from_chars(a.data(), a.data() + a.size(), v);
         if (ec != std::errc{} || p != a.data() + a.size() || v == 0 || v > 65535)
             return "--l2tp-port needs a port number 1-65535";
         s.l2tp_port = static_cast<std::uint16_t>(v);
         return nullptr;
     }},
    {"--l2tp-secret", "S", "tunnel secret: unhide hidden AVPs (RFC 2661 4.3)",
     [](settings& s, std::string_view a) -> const char* {
         s.l2tp_secret = std::string(a);
         return nullptr;
     }},
    {"--no-skipped", nullptr, "print nothing for frames no layer handles",
     [](settings& s, std::string_view) -> const char* {
         s.show_skipped = false;
         return nullptr;
     }},
    {"--esp-sa", "SPEC", "SPI:ALG:KEYHEX[:INTEGKEYHEX] decrypts ESP (repeatable)",
     [](settings&, std::string_view a) -> const char* { return add_esp_sa(a); }},
    {"--ikev2-sa", "SPEC",
     "SPIi:SPIr:SK_ei:SK_er:SK_ai:SK_ar:ENC:INTEG decrypts IKEv2 SK (repeatable)",
     [](settings&, std::string_view a) -> const char* { return add_ikev2_sa(a); }},
};

// ---------------------------------------------------------------- layers
/// A protocol over UDP, chosen by port (either direction).
struct udp_layer {
    bool (*match)(const settings&, const pcap::udp_datagram&);
    void (*print)(packet_context&, bytes_view payload, std::size_t base);
};

const udp_layer udp_layers[] = {
    {[](const settings& s, const pcap::udp_datagram& u) {
         return u.src_port == s.l2tp_port || u.dst_port == s.l2tp_port;
     },
     print_l2tp},
    {[](const settings&, const pcap::udp_datagram& u) { return is_ike(u); }, print_ike},
    {[](const settings&, const pcap::udp_datagram& u) { return is_esp_in_udp(u); },
     print_esp_in_udp},
};

/// A protocol directly over IP, chosen by protocol number (e.g. ESP = 50).
struct ip_layer {
    std::uint8_t protocol;
    void (*print)(packet_context&, bytes_view payload, std::size_t base);
};

const ip_layer ip_layers[] = {
    {pcap::ip_proto_esp, print_esp},
};
const ip_layer* ip_layers_begin = std::begin(ip_layers);
const ip_layer* ip_layers_end = std::end(ip_layers);

// ---------------------------------------------------------------- one frame
/// Returns false when nothing was printed for the frame.
bool inspect_frame(json_writer& j, const settings& s, std::uint32_t link, const pcap::record& rec) {
    j.clear();
    j.begin_object().field("frame", rec.index + 1);
    packet_context c{j, s, std::nullopt};
    auto skipped = [&](std::string_view why) {
        if (!s.show_skipped) return false;
        j.field("skipped", why).end_object();
        return true;
    };
    auto ip = pcap::decode_ip_frame(link, rec.data);
    if (!ip) {
        auto code = static_cast<pcap::errc>(ip.error().code.value());
        if (code == pcap::errc::not_ip) return skipped("not IP");
        c.fail(pcap::layer_of(code), ip.error());
        c.write_error();
        j.end_object();
        return true;
    }
    for (const ip_layer* l = ip_layers_begin; l != ip_layers_end; ++l) {
        if (ip->protocol == l->protocol && !ip->fragment) {
            l->print(c, ip->payload, ip->payload_offset);
            c.write_error();
            j.end_object();
            return true;
        }
    }
    if (ip->protocol != pcap::ip_proto_udp) {
        return skipped("IP protocol " + std::to_string(ip->protocol));
    }
    auto udp = pcap::decode_udp(*ip);
    if (!udp) {
        c.fail(pcap::layer_of(static_cast<pcap::errc>(udp.error().code.value())), udp.error());
        c.write_error();
        j.end_object();
        return true;
    }
    for (const auto& l : udp_layers) {
        if (l.match(s, *udp)) {
            l.print(c, udp->payload, udp->payload_offset);
            c.write_error();
            j.end_object();
            return true;
        }
    }
    return skipped("UDP ports " + std::to_string(udp->src_port) + " > " +
                   std::to_string(udp->dst_port));
}

int usage(const char* argv0) {
    std::fprintf(stderr, "usage: %s [options] FILE.pcap\n", argv0);
    for (const auto& o : options) {
        std::string left = o.name;
        if (o.arg) left += std::string(" ") + o.arg;
        std::fprintf(stderr, "  %-20s %s\n", left.c_str(), o.help);
    }
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    settings s;
    const char* path = nullptr;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "-h" || a == "--help") return usage(argv[0]);
        if (a.size() > 1 && a[0] == '-') {
            std::string_view name = a, value;
            if (auto eq = a.find('='); eq != std::string_view::npos) {
                name = a.substr(0, eq);
                value = a.substr(eq + 1);
            }
            const option_handler* h = nullptr;
            for (const auto& o : options)
                if (name == o.name) h = &o;
            if (!h) {
                std::fprintf(stderr, "unknown option %s\n", argv[i]);
                return usage(argv[0]);
            }
            if (h->arg && value.empty() && name.size() == a.size()) {
                if (i + 1 >= argc) {
                    std::fprintf(stderr, "%s needs an argument\n", h->name);
                    return 2;
                }
                value = argv[++i];
            }
            if (const char* err = h->apply(s, value)) {
                std::fprintf(stderr, "%s\n", err);
                return 2;
            }
            continue;
        }
        if (path) return usage(argv[0]);
        path = argv[i];
    }
    if (!path) return usage(argv[0]);

    auto data = pcap::load_file(path);
    if (!data) {
        std::fprintf(stderr, "%s: cannot read: %s\n", path, std::strerror(errno));
        return 1;
    }
    json_writer j;
    std::size_t index = 0;
    // Prints one frame; false when a broken record ends the file (reported as
    // a pcap error on the next frame number, offset counted from the file start).
    auto one = [&](const auto& rec, std::uint32_t link) {
        if (!rec) {
            j.clear();
            j.begin_object().field("frame", index + 1);
            j.begin_object("error")
                .field("layer", "pcap")
                .field("code", rec.error().code.message())
                .field("offset", rec.error().offset)
                .end_object()
                .end_object();
            std::cout << j.str() << '\n';
            return false;
        }
        index = rec->index + 1;
        if (inspect_frame(j, s, link, *rec)) std::cout << j.str() << '\n';
        return true;
    };
    if (pcap::is_pcapng(*data)) {  // what dumpcap/tshark write by default
        auto file = pcap::pcapng_view::parse(*data);
        if (!file) {
            std::fprintf(stderr, "%s: %s\n", path, file.error().message().c_str());
            return 1;
        }
        for (const auto& rec : file->records())
            if (!one(rec, rec ? rec->link : 0)) break;
    } else {
        auto file = pcap::file_view::parse(*data);
        if (!file) {
            std::fprintf(stderr, "%s: %s\n", path, file.error().message().c_str());
            return 1;
        }
        for (const auto& rec : file->records())
            if (!one(rec, file->header().link)) break;
    }
    std::cout.flush();
    return std::cout ? 0 : 1;
}
