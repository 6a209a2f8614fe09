// Protocol-generic access to options, for consumers (l2sec-inspect, loggers)
// that handle LCP, IPCP and IPV6CP alike: names and typed visitation without
// allocation.
//
//   for (auto raw : packet.options()) {
//       const char* n = ppp::option_name(frame.protocol, raw.type);   // or nullptr
//       auto ok = ppp::visit_option(frame.protocol, raw, [&](const auto& o) {
//           using T = std::decay_t<decltype(o)>;  // lcp::mru, ipcp::ip_address,
//           ppp::unknown_option...
//       });
//       if (!ok) print(ok.error());               // bad option size: code + offset
//   }
#pragma once

#include <l2sec/ppp/control.hpp>
#include <l2sec/ppp/ipcp.hpp>
#include <l2sec/ppp/ipv6cp.hpp>
#include <l2sec/ppp/lcp.hpp>

#include <utility>
#include <variant>

namespace l2sec::ppp {

/// Name of option `type` in control protocol `p` (LCP, IPCP, IPV6CP), or nullptr.
constexpr const char* option_name(protocol p, std::uint8_t type) noexcept {
    switch (p) {
        case protocol::lcp:
            return lcp::option_name(type);
        case protocol::ipcp:
            return ipcp::option_name(type);
        case protocol::ipv6cp:
            return ipv6cp::option_name(type);
        default:
            return nullptr;
    }
}

/// Whether `p` has a typed option catalogue here.
constexpr bool has_option_catalogue(protocol p) noexcept {
    return p == protocol::lcp || p == protocol::ipcp || p == protocol::ipv6cp;
}

/// Type option `o` of protocol `p` and call `f` with the typed value (one of
/// the lcp::, ipcp::, ipv6cp:: option structs, or ppp::unknown_option for
/// unknown types and protocols without a catalogue). Returns the parse error
/// (option_bad_length at the option's Length byte) without calling `f`.
template <class F>
result<void> visit_option(protocol p, const option_view& o, F&& f) {
    auto go = [&](auto parsed) -> result<void> {
        if (!parsed) return parsed.error();
        std::visit(f, *parsed);
        return {};
    };
    switch (p) {
        case protocol::lcp:
            return go(lcp::parse_option(o));
        case protocol::ipcp:
            return go(ipcp::parse_option(o));
        case protocol::ipv6cp:
            return go(ipv6cp::parse_option(o));
        default:
            f(unknown_option{o.type, o.data});
            return {};
    }
}

}  // namespace l2sec::ppp
