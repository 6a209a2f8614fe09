// The option policies of LCP (MRU, Magic-Number, Authentication-Protocol),
// IPCP (RFC 1332 addresses, RFC 1877 DNS) and IPV6CP (RFC 5072
// Interface-Identifier): what each asks for and what it accepts. They plug
// into ppp::control_protocol (ppp/control_protocol.hpp) through the
// ppp::option_policy concept. Magic numbers and interface identifiers come
// from a crypto::random_source.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/ppp/control.hpp>
#include <l2sec/ppp/control_protocol.hpp>
#include <l2sec/ppp/frame.hpp>
#include <l2sec/ppp/ipcp.hpp>
#include <l2sec/ppp/ipv6cp.hpp>
#include <l2sec/ppp/lcp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec::ppp {

/// Which authentication the authenticator asks for (LCP Authentication-Protocol).
enum class auth_method : std::uint8_t { none, pap, chap_md5, mschapv2 };

constexpr const char* to_string(auth_method m) noexcept {
    switch (m) {
        case auth_method::none:
            return "none";
        case auth_method::pap:
            return "PAP";
        case auth_method::chap_md5:
            return "CHAP-MD5";
        case auth_method::mschapv2:
            return "MS-CHAPv2";
    }
    return "?";
}

constexpr std::optional<auth_method> auth_of(const lcp::auth_protocol& a) noexcept {
    if (a.protocol == protocol::pap) return auth_method::pap;
    if (a.protocol == protocol::chap && a.algorithm == lcp::chap_algorithm::md5)
        return auth_method::chap_md5;
    if (a.protocol == protocol::chap && a.algorithm == lcp::chap_algorithm::ms_chap_v2)
        return auth_method::mschapv2;
    return std::nullopt;
}
constexpr lcp::auth_protocol auth_option(auth_method m) noexcept {
    switch (m) {
        case auth_method::pap:
            return lcp::auth_protocol::pap();
        case auth_method::chap_md5:
            return lcp::auth_protocol::chap_md5();
        default:
            return lcp::auth_protocol::ms_chap_v2();
    }
}

namespace detail {
/// A non-zero random value of type T from `r`, or nullopt if the source fails.
template <class T, crypto::random_source R>
std::optional<T> nonzero_random(R* r) noexcept {
    for (int tries = 0; r && tries < 4; ++tries) {
        std::array<std::byte, sizeof(T)> b{};
        if (!r->fill(b)) return std::nullopt;
        T v = 0;
        for (auto x : b)
            v = static_cast<T>((v << 8) | std::to_integer<T>(x));
        if (v != 0) return v;
    }
    return std::nullopt;
}
}  // namespace detail

/// LCP: MRU, Magic-Number and (as authenticator) Authentication-Protocol.
/// Magic numbers come from `random` (RFC 1661 6.4 wants them unique: a
/// CSPRNG, never a seed).
template <class Random>
struct lcp_policy {
    static_assert(crypto::random_source<Random>,
                  "ppp::lcp_policy draws magic numbers from a crypto::random_source");
    static constexpr protocol proto = protocol::lcp;

    // configuration
    std::uint16_t mru = 1400;
    auth_method require = auth_method::none;  ///< what we demand of the peer
    std::array<bool, 4> can_answer{};         ///< auth methods we can answer as a peer
    // negotiated state
    bool send_mru = true, send_magic = true, send_auth = false;
    std::uint32_t magic = 0;
    std::uint16_t peer_mru = 1500;
    auth_method peer_requires = auth_method::none;  ///< what the peer demands of us (acked)
    bool loop_suspected = false;
    Random* random = nullptr;

    /// A new magic number; 0 when the random source failed (then none is sent).
    std::uint32_t fresh_magic() noexcept {
        return detail::nonzero_random<std::uint32_t>(random).value_or(0);
    }
    void reset() noexcept {
        send_mru = true;
        send_auth = require != auth_method::none;
        if (magic == 0) magic = fresh_magic();
        send_magic = magic != 0;
        peer_requires = auth_method::none;
        peer_mru = 1500;
    }
    void write_request(packet_writer& w) noexcept {
        if (send_mru) w.option(lcp::mru{mru});
        if (send_auth) w.option(auth_option(require));
        if (send_magic) w.option(lcp::magic_number{magic});
    }
    bool can(auth_method m) const noexcept { return can_answer[static_cast<std::size_t>(m)]; }
    void begin_check() noexcept { pending_auth_ = auth_method::none; }
    verdict check(const option_view& o, packet_writer& nak, bool) noexcept {
        switch (o.type) {
            case lcp::option_type::mru: {
                auto v = lcp::mru::decode(o.data, o.offset);
                if (!v) return verdict::reject;
                if (v->value < 128) {
                    nak.option(lcp::mru{1500});
                    return verdict::nak;
                }
                peer_mru = v->value;
                return verdict::ack;
            }
            case lcp::option_type::accm:
            case lcp::option_type::pfc:
            case lcp::option_type::acfc:
            case lcp::option_type::endpoint_discriminator:
                return verdict::ack;
            case lcp::option_type::magic_number: {
                auto v = lcp::magic_number::decode(o.data, o.offset);
                if (!v) return verdict::reject;
                if (v->value == magic ||
                    v->value == 0) {  // looped back (or invalid): suggest another
                    loop_suspected = v->value == magic;
                    const auto suggestion = fresh_magic();
                    if (suggestion == 0) return verdict::reject;
                    nak.option(lcp::magic_number{suggestion});
                    return verdict::nak;
                }
                return verdict::ack;
            }
            case lcp::option_type::auth_protocol: {
                auto v = lcp::auth_protocol::decode(o.data, o.offset);
                auto m = v ? auth_of(*v) : std::nullopt;
                if (m && can(*m)) {
                    pending_auth_ = *m;
                    return verdict::ack;
                }
                // Suggest what we can do, strongest first; reject when we cannot authenticate at
                // all.
                for (auto alt : {auth_method::mschapv2, auth_method::chap_md5, auth_method::pap})
                    if (can(alt)) {
                        nak.option(auth_option(alt));
                        return verdict::nak;
                    }
                return verdict::reject;
            }
            default:
                return verdict::reject;  // MRRU, callback, quality, unknown...
        }
    }
    bool end_check(packet_writer&, bool) noexcept {
        peer_requires = pending_auth_;
        return false;
    }
    void on_ack(option_range) noexcept {}
    void on_nak(option_range opts) noexcept {
        for (auto o : opts) {
            if (o.type == lcp::option_type::mru) {
                if (auto v = lcp::mru::decode(o.data, o.offset); v && v->value >= 128)
                    mru = v->value;
            } else if (o.type == lcp::option_type::magic_number) {
                magic = fresh_magic();
                send_magic = magic != 0;
            } else if (o.type == lcp::option_type::auth_protocol) {
                // The peer cannot do what we asked; we insist (the RFC lets the authenticator
                // refuse).
            }
        }
    }
    void on_reject(option_range opts) noexcept {
        for (auto o : opts) {
            if (o.type == lcp::option_type::mru) send_mru = false;
            if (o.type == lcp::option_type::magic_number) send_magic = false;
            if (o.type == lcp::option_type::auth_protocol) auth_refused = true;
        }
    }
    bool auth_refused = false;

  private:
    auth_method pending_auth_ = auth_method::none;
};

/// IPCP: addresses (and DNS) for a client that asks and a server that assigns.
struct ipcp_policy {
    static constexpr protocol proto = protocol::ipcp;

    bool server = false;
    std::uint32_t local = 0;           ///< our address (client: 0 = ask)
    std::uint32_t peer = 0;            ///< server: the address assigned to the peer
    std::uint32_t dns1 = 0, dns2 = 0;  ///< server: offered; client: learnt
    bool ask_dns = false;              ///< client: request DNS addresses
    bool send_dns1 = false, send_dns2 = false;

    void reset() noexcept {
        send_dns1 = send_dns2 = !server && ask_dns;
        if (!server) local = 0;
    }
    void write_request(packet_writer& w) noexcept {
        w.option(ipcp::ip_address{local});
        if (send_dns1) w.option(ipcp::primary_dns{dns1});
        if (send_dns2) w.option(ipcp::secondary_dns{dns2});
    }
    void begin_check() noexcept {}
    verdict check(const option_view& o, packet_writer& nak, bool) noexcept {
        if (o.type == ipcp::option_type::ip_address) {
            auto v = ipcp::ip_address::decode(o.data, o.offset);
            if (!v) return verdict::reject;
            if (server) {
                if (v->address == peer) return verdict::ack;
                nak.option(ipcp::ip_address{peer});
                return verdict::nak;
            }
            if (v->address == 0) return verdict::reject;  // a server must know its own address
            peer = v->address;
            return verdict::ack;
        }
        if (server && (o.type == ipcp::option_type::primary_dns ||
                       o.type == ipcp::option_type::secondary_dns)) {
            std::uint32_t want = o.type == ipcp::option_type::primary_dns ? dns1 : dns2;
            if (want == 0 || o.data.size() != 4) return verdict::reject;
            if (load_be32(o.data.data()) == want) return verdict::ack;
            if (o.type == ipcp::option_type::primary_dns)
                nak.option(ipcp::primary_dns{want});
            else
                nak.option(ipcp::secondary_dns{want});
            return verdict::nak;
        }
        return verdict::reject;  // VJ compression, NBNS, deprecated IP-Addresses...
    }
    bool end_check(packet_writer&, bool) noexcept { return false; }
    void on_ack(option_range) noexcept {}
    void on_nak(option_range opts) noexcept {
        for (auto o : opts) {
            if (o.data.size() != 4) continue;
            auto v = load_be32(o.data.data());
            if (o.type == ipcp::option_type::ip_address) local = v;
            if (o.type == ipcp::option_type::primary_dns) dns1 = v;
            if (o.type == ipcp::option_type::secondary_dns) dns2 = v;
        }
    }
    void on_reject(option_range opts) noexcept {
        for (auto o : opts) {
            if (o.type == ipcp::option_type::primary_dns) send_dns1 = false;
            if (o.type == ipcp::option_type::secondary_dns) send_dns2 = false;
        }
    }
};

/// IPV6CP: Interface-Identifier (RFC 5072), drawn from `random` (RFC 5072
/// 4.1 wants it unique; a random one also keeps addresses unlinkable).
template <class Random>
struct ipv6cp_policy {
    static_assert(crypto::random_source<Random>,
                  "ppp::ipv6cp_policy draws interface identifiers from a crypto::random_source");
    static constexpr protocol proto = protocol::ipv6cp;

    std::uint64_t local = 0, peer = 0;
    Random* random = nullptr;

    /// A new identifier other than 0 and the peer's; 0 when the random source failed.
    std::uint64_t fresh() noexcept {
        for (int tries = 0; tries < 4; ++tries) {
            auto v = detail::nonzero_random<std::uint64_t>(random);
            if (!v) return 0;
            if (*v != peer) return *v;
        }
        return 0;
    }
    void reset() noexcept {
        if (local == 0) local = fresh();
    }
    void write_request(packet_writer& w) noexcept { w.option(ipv6cp::interface_identifier{local}); }
    void begin_check() noexcept {}
    verdict check(const option_view& o, packet_writer& nak, bool) noexcept {
        if (o.type != ipv6cp::option_type::interface_identifier) return verdict::reject;
        auto v = ipv6cp::interface_identifier::decode(o.data, o.offset);
        if (!v) return verdict::reject;
        if (v->value == 0 || v->value == local) {
            const auto suggestion = fresh();
            if (suggestion == 0) return verdict::reject;
            nak.option(ipv6cp::interface_identifier{suggestion});
            return verdict::nak;
        }
        peer = v->value;
        return verdict::ack;
    }
    bool end_check(packet_writer&, bool) noexcept { return false; }
    void on_ack(option_range) noexcept {}
    void on_nak(option_range opts) noexcept {
        for (auto o : opts)
            if (auto v = ipv6cp::interface_identifier::decode(o.data, o.offset); v && v->value != 0)
                local = v->value;
    }
    void on_reject(option_range) noexcept {}
};

}  // namespace l2sec::ppp

namespace l2sec::ppp {
static_assert(option_policy<ipcp_policy>);
}  // namespace l2sec::ppp
