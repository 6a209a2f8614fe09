// The many-clients fleet's setup, shared by bench/vpn_fleet_bench.cpp (setup
// rate and memory) and bench/vpn_fleet_packets_bench.cpp (per-packet cost
// with the fleet up): one vpn::server of `Capacity` slots and n vpn::clients
// over testing::vpn_fleet, every client with the same PSK and MS-CHAPv2 user.
#pragma once

#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/testing/vpn_fleet.hpp>
#include <l2sec/vpn/client.hpp>
#include <l2sec/vpn/server.hpp>

#include "support/users.hpp"

#include <malloc.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace l2sec::bench {

using fleet_rnd = testing::insecure_deterministic_random;
constexpr std::uint32_t fleet_server_ip = 0xc0000201, fleet_ppp_server_ip = 0x0a0a0001;

template <class B, std::size_t Capacity>
struct fleet_types {
    using server = vpn::server<B, test::users, Capacity, fleet_rnd, ike::v1::single_psk>;
    using client = vpn::client<B, fleet_rnd, ike::v1::single_psk>;
    using fleet = testing::vpn_fleet<server, client>;
};

// Heap in use, large (mmapped) blocks included (glibc's allocator: the
// benches run without sanitizers).
inline std::size_t heap_in_use() {
    const auto m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

inline ike::v1::single_psk fleet_psk() {
    return ike::v1::single_psk(as_bytes(std::string_view("secret")));
}

// The server: MS-CHAPv2, a pool of 2 * Capacity addresses, and room for every
// client's L2TP tunnel to wait for SCCCN at once (the default, 32, makes a
// burst of n retry). Errors: what server::make says.
template <class B, std::size_t Capacity>
result<std::unique_ptr<typename fleet_types<B, Capacity>::server>> make_fleet_server(
    test::users& users) {
    vpn::server_config sc;
    sc.link.require = ppp::auth_method::mschapv2;
    sc.link.local_ip = fleet_ppp_server_ip;
    sc.pool_first = 0x0a0b0000;
    sc.pool_last = sc.pool_first + 2 * Capacity - 1;
    sc.l2tp.max_half_open = Capacity;
    return fleet_types<B, Capacity>::server::make(sc, fleet_rnd(7919), fleet_psk(), users);
}

// n clients at 10.99.0.1 and on, each its own random seed, offering `esp`
// (which must outlive them; empty: the default list). Returns an empty
// string, or what client::make said.
template <class B, std::size_t Capacity>
std::string add_fleet_clients(typename fleet_types<B, Capacity>::fleet& f, std::size_t n,
                              std::span<const ike::v1::esp_proposal> esp = {}) {
    for (std::size_t i = 0; i < n; ++i) {
        const auto ip = 0x0a630000u + static_cast<std::uint32_t>(i) + 1;
        vpn::client_config cfg;
        cfg.connection.local = transport::endpoint::v4(ip, 500);
        cfg.connection.peer = transport::endpoint::v4(fleet_server_ip, 500);
        cfg.link.user = "alice";
        cfg.link.password = "wonderland";
        if (!esp.empty()) cfg.ike.esp_proposals = esp;
        auto c = fleet_types<B, Capacity>::client::make(cfg, fleet_rnd(31 + i), fleet_psk());
        if (!c) return c.error().message();
        f.add(std::move(*c), ip);
    }
    return {};
}

}  // namespace l2sec::bench
