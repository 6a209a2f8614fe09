// L2TPv2 messages as JSON:
//   "l2tp":{"type":"SCCRQ"|...|"ZLB"|"data","tunnel_id":N,"session_id":N,"ns":N,"nr":N,
//           "avps":[{"type":N,"vendor":N,"mandatory":b,"hidden":b,"name":"...","value":...}]}
// ns/nr are printed when the header carries them (always for control
// messages). Data messages are followed by "ppp":{...} (ppp_json.hpp).
// AVP values: numbers for integer attributes (the 64-bit Tie Breaker as a hex
// string), JSON strings for the text attributes (Host Name, Vendor Name,
// Called/Calling Number, Sub-Address, Proxy Authen Name), objects for the
// structured ones (Result Code, Protocol Version, Q.931 Cause Code, Call
// Errors, ACCM, PPP Disconnect Cause Code, Proxy Authen ID), null for
// Sequencing Required, hex strings for opaque octets, vendor-specific and
// unknown attributes. A hidden AVP is unhidden with --l2tp-secret (its value
// is then printed as for a plain one); without it the value is the hidden
// octets in hex.
#pragma once

#include "../common/crypto.hpp"
#include "context.hpp"
#include "ppp_json.hpp"

#include <l2sec/l2tp.hpp>

#include <array>
#include <type_traits>

namespace l2sec::inspect {

namespace l2tp_detail {

constexpr bool is_text_avp(std::uint16_t type) noexcept {
    using t = l2tp::avp_type;
    switch (static_cast<t>(type)) {
        case t::host_name:
        case t::vendor_name:
        case t::called_number:
        case t::calling_number:
        case t::sub_address:
        case t::proxy_authen_name:
            return true;
        default:
            return false;
    }
}

/// Writes the value of AVP `a` whose plain value is `v`; returns the typed
/// decode error, if any (the value is then printed in hex).
inline result<void> avp_value(json_writer& j, const l2tp::avp_view& a, bytes_view v) {
    namespace avps = l2tp::avps;
    bool written = false;
    auto r = l2tp::visit_avp(a, v, [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        written = true;
        if constexpr (std::is_same_v<T, l2tp::avp_view>) {
            j.hex(v);  // vendor-specific or unknown
        } else if constexpr (std::is_same_v<T, avps::message_type>) {
            j.value(static_cast<unsigned>(x.value));
        } else if constexpr (std::is_same_v<T, avps::tie_breaker>) {
            j.hex(v);
        } else if constexpr (requires { x.value + 0u; }) {
            j.value(x.value);  // uint_value<...>
        } else if constexpr (requires { x.text(); }) {
            if (is_text_avp(a.type()))
                j.text(x.value);
            else
                j.hex(x.value);
        } else if constexpr (std::is_same_v<T, avps::result_code>) {
            j.begin_object().field("result", x.result);
            if (x.has_error_code) j.field("error", x.error_code);
            if (!x.message.empty()) j.field_text("message", x.message);
            j.end_object();
        } else if constexpr (std::is_same_v<T, avps::protocol_version>) {
            j.begin_object().field("version", x.version).field("revision", x.revision).end_object();
        } else if constexpr (std::is_same_v<T, avps::q931_cause_code>) {
            j.begin_object().field("cause", x.cause).field("msg", x.msg);
            if (!x.advisory.empty()) j.field_text("advisory", x.advisory);
            j.end_object();
        } else if constexpr (std::is_same_v<T, avps::call_errors>) {
            j.begin_object()
                .field("crc_errors", x.crc_errors)
                .field("framing_errors", x.framing_errors)
                .field("hardware_overruns", x.hardware_overruns)
                .field("buffer_overruns", x.buffer_overruns)
                .field("timeout_errors", x.timeout_errors)
                .field("alignment_errors", x.alignment_errors)
                .end_object();
        } else if constexpr (std::is_same_v<T, avps::accm>) {
            j.begin_object().field("send", x.send).field("recv", x.recv).end_object();
        } else if constexpr (std::is_same_v<T, avps::proxy_authen_id>) {
            j.begin_object().field("id", x.id).end_object();
        } else if constexpr (std::is_same_v<T, avps::sequencing_required>) {
            j.null();
        } else if constexpr (std::is_same_v<T, avps::ppp_disconnect_cause_code>) {
            j.begin_object()
                .field("code", x.code)
                .field("protocol", x.protocol)
                .field("direction", x.direction);
            if (!x.message.empty()) j.field_text("message", x.message);
            j.end_object();
        } else {
            j.hex(v);  // a typed value this printer does not know yet
        }
    });
    if (!written) j.hex(v);
    return r;
}

}  // namespace l2tp_detail

/// Writes "l2tp":{...} (and "ppp":{...} for a data message) for the UDP
/// payload `payload`, which starts at frame offset `base`. A message that
/// does not decode records an "l2tp" error and writes nothing.
inline void print_l2tp(packet_context& c, bytes_view payload, std::size_t base) {
    json_writer& j = c.j;
    auto m = l2tp::parse(payload);
    if (!m) {
        c.fail("l2tp", m.error(), base);
        return;
    }
    const l2tp::header& h = m->hdr();
    j.begin_object("l2tp");
    if (!m->is_control())
        j.field("type", "data");
    else
        j.field("type", m->type_name());
    j.field("tunnel_id", h.tunnel_id).field("session_id", h.session_id);
    if (h.has_sequence) j.field("ns", h.ns).field("nr", h.nr);
    if (m->is_control()) {
        j.begin_array("avps");
        std::array<std::byte, l2tp::max_avp_size> plain{};
        for (l2tp::avp_view a : m->avps()) {
            j.begin_object()
                .field("type", a.type())
                .field("vendor", a.vendor())
                .field("mandatory", a.mandatory())
                .field("hidden", a.hidden())
                .field("name", a.name())
                .key("value");
            if (a.hidden() && !c.opts.l2tp_secret) {
                j.hex(a.value());
            } else {
                bytes_view v = a.value();
                bool ok = true;
                if (a.hidden()) {
                    auto u = l2tp::unhide(examples::md5(), a, as_bytes(*c.opts.l2tp_secret), plain);
                    if (!u) {
                        c.fail("l2tp", u.error(), base);
                        j.hex(a.value());
                        ok = false;
                    } else {
                        v = *u;
                    }
                }
                if (ok) {
                    auto r = l2tp_detail::avp_value(j, a, v);
                    if (!r) c.fail("l2tp", r.error(), base);
                }
            }
            j.end_object();
        }
        j.end_array();
    }
    j.end_object();
    if (!m->is_control()) print_ppp(c, m->payload(), base + h.size);
}

}  // namespace l2sec::inspect
