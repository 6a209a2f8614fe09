// The payloads of one decrypted or plain IKEv2 message that the engine's
// handlers look at, found in one walk. Not a public interface.
#pragma once

#include <l2sec/core/static_vector.hpp>
#include <l2sec/ike/payload.hpp>
#include <l2sec/ike/registry.hpp>
#include <l2sec/ike/v2/payloads.hpp>

#include <optional>

namespace l2sec::ike::v2::detail {

/// The parts of one message the handlers look at (first of each kind).
struct parts {
    std::optional<payload> sa, ke, nonce, idi, idr, auth, tsi, tsr, cp;
    std::optional<notify> nat_src, nat_dst, cookie, invalid_ke, error_note, transport_mode,
        initial_contact, rekey_sa, fragmentation;
    static_vector<delete_, 8> deletes;
    bool bad = false;
    error why{};

    static parts of(const payload_range& chain) noexcept {
        parts p;
        for (const auto& pl : chain) {
            switch (pl.kind()) {
                case payload_type::sa:
                    if (!p.sa) p.sa = pl;
                    break;
                case payload_type::ke:
                    if (!p.ke) p.ke = pl;
                    break;
                case payload_type::nonce:
                    if (!p.nonce) p.nonce = pl;
                    break;
                case payload_type::idi:
                    if (!p.idi) p.idi = pl;
                    break;
                case payload_type::idr:
                    if (!p.idr) p.idr = pl;
                    break;
                case payload_type::auth:
                    if (!p.auth) p.auth = pl;
                    break;
                case payload_type::tsi:
                    if (!p.tsi) p.tsi = pl;
                    break;
                case payload_type::tsr:
                    if (!p.tsr) p.tsr = pl;
                    break;
                case payload_type::cp:
                    if (!p.cp) p.cp = pl;
                    break;
                case payload_type::delete_: {
                    auto d = delete_::parse(pl);
                    if (!d) {
                        p.bad = true, p.why = d.error();
                    } else if (p.deletes.size() < p.deletes.capacity()) {
                        p.deletes.push_back(*d);
                    }
                    break;
                }
                case payload_type::notify: {
                    auto n = notify::parse(pl);
                    if (!n) {
                        p.bad = true, p.why = n.error();
                        break;
                    }
                    switch (n->kind()) {
                        case notify_type::nat_detection_source_ip:
                            if (!p.nat_src) p.nat_src = *n;
                            break;
                        case notify_type::nat_detection_destination_ip:
                            if (!p.nat_dst) p.nat_dst = *n;
                            break;
                        case notify_type::cookie:
                            p.cookie = *n;
                            break;
                        case notify_type::invalid_ke_payload:
                            p.invalid_ke = *n;
                            break;
                        case notify_type::use_transport_mode:
                            p.transport_mode = *n;
                            break;
                        case notify_type::initial_contact:
                            p.initial_contact = *n;
                            break;
                        case notify_type::rekey_sa:
                            p.rekey_sa = *n;
                            break;
                        case notify_type::ikev2_fragmentation_supported:
                            p.fragmentation = *n;
                            break;
                        default:
                            if (n->type < 16384 && !p.error_note) p.error_note = *n;
                            break;
                    }
                    break;
                }
                default:
                    if (pl.critical()) {  // RFC 7296 2.5: a critical payload we do not know
                        p.bad = true;
                        p.why = error(errc::bad_field, pl.offset, "critical payload not supported");
                    }
                    break;
            }
        }
        if (!chain.ok()) p.bad = true, p.why = chain.last_error();
        return p;
    }
};

}  // namespace l2sec::ike::v2::detail
