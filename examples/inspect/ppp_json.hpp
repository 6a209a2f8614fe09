// PPP frames (as carried in L2TP data messages) as JSON:
//   "ppp":{"protocol":"lcp"|"ipcp"|"ipv6cp"|"pap"|"chap"|"0x....",
//          "code":"configure_request"|..., "id":N, "options":[{"type":N,"name":"...","value":...}]}
// Option values: numbers (MRU, ACCM, magic number, MRRU), dotted IPv4
// addresses (IPCP), objects for structured options, null for flag options
// (PFC, ACFC), hex strings for opaque data and unknown options.
#pragma once

#include "context.hpp"

#include <l2sec/ppp.hpp>

#include <cstdio>
#include <type_traits>

namespace l2sec::inspect {

namespace ppp_detail {

inline void protocol_value(json_writer& j, ppp::protocol p) {
    switch (p) {
        case ppp::protocol::lcp:
            j.value("lcp");
            return;
        case ppp::protocol::ipcp:
            j.value("ipcp");
            return;
        case ppp::protocol::ipv6cp:
            j.value("ipv6cp");
            return;
        case ppp::protocol::pap:
            j.value("pap");
            return;
        case ppp::protocol::chap:
            j.value("chap");
            return;
        default:
            break;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(ppp::to_underlying(p)));
    j.value(std::string_view(buf));
}

/// The value of one typed option (any of the lcp::, ipcp::, ipv6cp:: structs).
template <class T>
void option_value(json_writer& j, const T& o, const ppp::option_view& raw) {
    namespace lcp = ppp::lcp;
    namespace ipcp = ppp::ipcp;
    namespace ipv6cp = ppp::ipv6cp;
    if constexpr (std::is_same_v<T, lcp::mru> || std::is_same_v<T, lcp::magic_number> ||
                  std::is_same_v<T, lcp::mrru>) {
        j.value(o.value);
    } else if constexpr (std::is_same_v<T, lcp::accm>) {
        j.value(o.map);
    } else if constexpr (std::is_same_v<T, lcp::auth_protocol>) {
        j.begin_object().field("protocol", ppp::to_underlying(o.protocol));
        if (o.is_chap()) j.field("algorithm", o.algorithm);
        if (!o.data.empty()) j.field_hex("data", o.data);
        j.end_object();
    } else if constexpr (std::is_same_v<T, lcp::quality_protocol>) {
        j.begin_object().field("protocol", ppp::to_underlying(o.protocol));
        j.field_hex("data", o.data).end_object();
    } else if constexpr (std::is_same_v<T, lcp::pfc> || std::is_same_v<T, lcp::acfc> ||
                         std::is_same_v<T, lcp::short_sequence>) {
        j.null();
    } else if constexpr (std::is_same_v<T, lcp::endpoint_discriminator>) {
        j.begin_object()
            .field("class", static_cast<unsigned>(o.cls))
            .field_hex("address", o.address)
            .end_object();
    } else if constexpr (std::is_same_v<T, ipcp::ip_address> ||
                         std::is_same_v<T, ipcp::primary_dns> ||
                         std::is_same_v<T, ipcp::secondary_dns> ||
                         std::is_same_v<T, ipcp::primary_nbns> ||
                         std::is_same_v<T, ipcp::secondary_nbns>) {
        j.ipv4(o.address);
    } else if constexpr (std::is_same_v<T, ipcp::ip_addresses>) {
        j.begin_object().key("source").ipv4(o.source).key("destination").ipv4(o.destination);
        j.end_object();
    } else if constexpr (std::is_same_v<T, ipcp::ip_compression_protocol>) {
        j.begin_object().field("protocol", ppp::to_underlying(o.protocol));
        if (o.is_vj())
            j.field("max_slot_id", o.max_slot_id).field("comp_slot_id", o.comp_slot_id);
        else
            j.field_hex("data", o.data);
        j.end_object();
    } else if constexpr (std::is_same_v<T, ipv6cp::interface_identifier>) {
        j.hex(raw.data);
    } else {
        j.hex(raw.data);  // unknown_option, and anything the catalogues add later
    }
}

}  // namespace ppp_detail

/// Writes "ppp":{...} for the PPP frame `frame` (which starts at frame
/// offset `base`); records a "ppp" error in `c` when it does not decode.
inline void print_ppp(packet_context& c, bytes_view frame, std::size_t base) {
    json_writer& j = c.j;
    auto f = ppp::decode_frame(frame, 0);
    if (!f) {
        c.fail("ppp", f.error(), base);
        return;
    }
    const std::size_t info_at = f->header_size;
    j.begin_object("ppp").key("protocol");
    ppp_detail::protocol_value(j, f->protocol);

    if (f->protocol == ppp::protocol::pap) {
        auto p = ppp::pap::decode(f->information, info_at);
        if (!p) {
            c.fail("ppp", p.error(), base);
        } else {
            j.field("code", ppp::pap::code_name(p->code)).field("id", p->identifier);
            if (p->code == ppp::pap::code::authenticate_request)
                j.field_text("peer_id", p->peer_id).field_text("password", p->password);
            else
                j.field_text("message", p->message);
        }
    } else if (f->protocol == ppp::protocol::chap) {
        auto p = ppp::chap::decode(f->information, info_at);
        if (!p) {
            c.fail("ppp", p.error(), base);
        } else {
            j.field("code", ppp::chap::code_name(p->code)).field("id", p->identifier);
            if (p->code == ppp::chap::code::challenge || p->code == ppp::chap::code::response)
                j.field_hex("value", p->value).field_text("name", p->name);
            else
                j.field_text("message", p->message);
        }
    } else if (ppp::is_control_protocol(f->protocol) && f->protocol != ppp::protocol::pap &&
               f->protocol != ppp::protocol::chap && f->protocol != ppp::protocol::eap &&
               f->protocol != ppp::protocol::lqr && f->protocol != ppp::protocol::bap) {
        // LCP and the NCPs share the RFC 1661 packet format.
        auto p = ppp::decode_control(f->protocol, f->information, info_at);
        if (!p) {
            c.fail("ppp", p.error(), base);
        } else {
            const char* name = ppp::code_name(f->protocol, p->code);
            if (name)
                j.field("code", name);
            else
                j.field("code", static_cast<unsigned>(p->code));
            j.field("id", p->identifier);
            if (name && p->is_configure()) {
                j.begin_array("options");
                for (auto raw : p->options()) {
                    j.begin_object().field("type", raw.type);
                    j.field("name", ppp::option_name(f->protocol, raw.type));
                    j.key("value");
                    auto ok = ppp::visit_option(f->protocol, raw, [&](const auto& o) {
                        ppp_detail::option_value(j, o, raw);
                    });
                    if (!ok) {
                        j.hex(raw.data);
                        c.fail("ppp", ok.error(), base);
                    }
                    j.end_object();
                }
                j.end_array();
            } else if (name) {
                switch (p->code) {
                    case ppp::code::echo_request:
                    case ppp::code::echo_reply:
                    case ppp::code::discard_request:
                    case ppp::code::identification:
                        j.field("magic", p->magic_number()).field_hex("data", p->echo_data());
                        break;
                    case ppp::code::protocol_reject:
                        j.field("rejected_protocol", ppp::to_underlying(p->rejected_protocol()));
                        j.field_hex("data", p->rejected_information());
                        break;
                    default:
                        j.field_hex("data", p->data);
                        break;
                }
            } else {
                j.field_hex("data", p->data);
            }
        }
    } else {
        j.field("length", f->information.size());
    }
    j.end_object();
}

}  // namespace l2sec::inspect
