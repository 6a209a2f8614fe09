// What the server and the client both do with an ESP SA pair the IKE engine
// negotiated: install it in the stack (a new peer, or a rekey), log its keys
// when a key log is plugged in, and describe it in an esp_sa report.
#pragma once

#include <l2sec/ike/v1/child_sa.hpp>
#include <l2sec/vpn/keylog.hpp>
#include <l2sec/vpn/l2tp_carrier.hpp>
#include <l2sec/vpn/packets.hpp>
#include <l2sec/vpn/report.hpp>

namespace l2sec::vpn::detail {

/// Install `c` (superseding `old_spi_in` when it is a rekey) and fill `r` as
/// its esp_sa report. Errors: the stack's install() errors.
template <class Core, class KeyLog>
result<peer_handle> install_child(Core& core, KeyLog& keylog, const ike::v1::child_sa& c,
                                  std::uint32_t old_spi_in, report& r) noexcept {
    esp_pair p;
    p.local = c.local;
    p.peer = c.peer;
    p.udp_encap = c.udp_encap;
    p.in = c.inbound_config();
    p.out = c.outbound_config();
    p.peer_l2tp_port = c.remote_port ? c.remote_port : l2tp_port;
    p.replaces_spi_in = old_spi_in;
    auto h = core.install(p);
    if (!h) return h.error();
    keylog.esp_sa({c.peer, c.local, &p.in});
    keylog.esp_sa({c.local, c.peer, &p.out});
    r.kind = report_kind::esp_sa;
    r.peer = *h;
    r.spi_in = c.spi_in;
    r.spi_out = c.spi_out;
    r.old_spi_in = old_spi_in;
    r.suite = c.suite;
    r.udp_encap = c.udp_encap;
    return *h;
}

}  // namespace l2sec::vpn::detail
