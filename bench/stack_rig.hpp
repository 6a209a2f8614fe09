// The whole-stack benchmarks' setup, shared by bench/vpn_bench.cpp and
// bench/vpn_workers_bench.cpp: a server stack_core with `Peers` clients keyed
// by hand (no IKE) and brought up to IPCP, the IMIX definition, and the
// ciphertext size the raw-AEAD references use.
#pragma once

#include <l2sec/crypto/botan.hpp>
#if defined(L2SEC_BENCH_OPENSSL)
#include <l2sec/crypto/openssl.hpp>
#endif
#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/vpn/detail/stack_core.hpp>

#include <array>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace l2sec::bench {

using rnd = testing::insecure_deterministic_random;

struct open_users {
    std::optional<std::size_t> find_password(std::string_view, std::span<char>) noexcept {
        return std::nullopt;
    }
};

// IMIX 7:4:1, its large packet the tunnel MTU (1400: what fits a 1500-byte path after
// IP, UDP, ESP, L2TP and PPP), not 1500, which the tunnel would have to fragment.
constexpr std::size_t imix_sizes[12] = {64, 64, 64, 64, 64, 64, 64, 576, 576, 576, 576, 1400};

inline const auto server_ep = transport::endpoint::v4(192, 0, 2, 1, 4500);

template <class B, std::size_t Peers>
struct bench_stack {
    using server_core =
        vpn::detail::stack_core<B, rnd, open_users, Peers, Peers + 1, Peers * 2 + 2>;
    using client_core = vpn::detail::stack_core<B, rnd, ppp::no_credentials, 1, 1, 1>;
    rnd srng{1};
    open_users users;
    std::unique_ptr<server_core> server;
    std::deque<std::vector<std::byte>> keys;  // stable: the SA configs point into it
    esp::suite suite;

    explicit bench_stack(esp::suite s) : suite(s) {
        typename server_core::config sc;
        sc.server = true;
        sc.link.server = true;
        sc.link.require = ppp::auth_method::none;
        sc.link.local_ip = 0x0a000001;
        sc.link.mru = 1500;  // IMIX has 1500-byte packets
        sc.link.echo_interval = std::chrono::seconds(0);
        server = std::make_unique<server_core>(
            sc, srng, &users,
            *vpn::address_pool<Peers * 2 + 2>::make(0x0a100000, 0x0a100000 + Peers * 2));
    }

    esp::sa_config sa(std::uint32_t spi, unsigned seed) {
        keys.emplace_back(suite.enc_keymat_size());
        for (std::size_t i = 0; i < keys.back().size(); ++i)
            keys.back()[i] = std::byte(seed + 7 * i);
        auto& ek = keys.back();
        keys.emplace_back(esp::integrity_key_size(suite.integ));
        for (std::size_t i = 0; i < keys.back().size(); ++i)
            keys.back()[i] = std::byte(seed + 3 * i);
        esp::sa_config c;
        c.spi = spi;
        c.algorithms = suite;
        c.enc_key = ek;
        c.integ_key = keys.back();
        c.esn =
            false;  // with anti-replay off, ESN inference would refuse the replayed older packets
        c.replay_window = 0;  // the benchmark replays its packets
        return c;
    }

    // A client at peer endpoint `ep`, brought up to IPCP against the server.
    std::unique_ptr<client_core> connect(const transport::endpoint& ep, std::uint32_t n,
                                         rnd& crng) {
        typename client_core::config cc;
        cc.server = false;
        cc.l2tp.accept_tunnels = false;
        cc.link.mru = 1500;
        cc.link.echo_interval = std::chrono::seconds(0);
        auto c = std::make_unique<client_core>(cc, crng, nullptr, std::nullopt);
        vpn::esp_pair sp, cp;
        auto up = sa(0x10000 + n, n), down = sa(0x20000000 + n, n + 99);
        sp.local = server_ep;
        sp.peer = ep;
        sp.udp_encap = cp.udp_encap = true;
        sp.in = up;
        sp.out = down;
        cp.local = ep;
        cp.peer = server_ep;
        cp.in = down;
        cp.out = up;
        (void)server->install(sp);
        auto h = c->install(cp);
        (void)c->open_tunnel(*h, time_point{});
        std::array<std::byte, vpn::packet_buffer_size> buf{};
        time_point now{};
        for (int i = 0; i < 2000 && c->sessions_up() == 0; ++i) {
            bool moved = false;
            while (auto o = c->poll(buf, now)) {
                std::vector<std::byte> d(o->data.begin(), o->data.end());
                (void)server->on_esp(d, now);
                moved = true;
            }
            while (auto o = server->poll(buf, now)) {
                std::vector<std::byte> d(o->data.begin(), o->data.end());
                (void)c->on_esp(d, now);
                moved = true;
            }
            while (server->poll_report()) {
            }
            while (c->poll_report()) {
            }
            if (!moved) {
                now += std::chrono::milliseconds(50);
                server->tick(now);
                c->tick(now);
            }
        }
        return c;
    }
};

inline const char* backend_name(const crypto::botan*) {
    return "botan";
}
#if defined(L2SEC_BENCH_OPENSSL)
inline const char* backend_name(const crypto::openssl*) {
    return "openssl";
}
#endif

struct alg {
    const char* name;
    const char* suite;
};
constexpr alg algs[] = {{"aes128gcm", "aes128-gcm"},
                        {"aes256gcm", "aes256-gcm"},
                        {"chacha20poly1305", "chacha20-poly1305"},
                        {"aes128cbc_sha1", "aes128-cbc-sha1"}};

inline std::vector<std::size_t> sizes_of(const std::string& which) {
    if (which == "imix") return {std::begin(imix_sizes), std::end(imix_sizes)};
    return {static_cast<std::size_t>(std::stoul(which))};
}

// Ciphertext size ESP would encrypt for an IP packet of n bytes (UDP 8 + L2TP 6 + PPP 4 + pad + 2).
inline std::size_t ct_size(std::size_t n, std::size_t block) {
    std::size_t p = n + 18 + 2;
    return (p + block - 1) / block * block;
}

// What esp::sa does with an AEAD and nothing else, on an ESP-shaped packet
// p[0, len): the 8-byte header (SPI, sequence: the AAD), an 8-byte IV, the
// ciphertext, a 16-byte tag; the nonce is salt || IV. The raw-cipher references
// of the paired and the many-clients benches.
inline constexpr std::size_t esp_shaped_overhead = esp::header_size + 8 + 16;

template <class Aead>
bool esp_shaped_seal(Aead& a, const std::array<std::byte, 4>& salt, std::byte* p,
                     std::size_t len) noexcept {
    std::array<std::byte, 12> nonce;
    std::memcpy(nonce.data(), salt.data(), 4);
    std::memcpy(nonce.data() + 4, p + esp::header_size, 8);
    const std::size_t ct = len - esp_shaped_overhead;
    return a.seal(nonce, bytes_view(p, esp::header_size),
                  mutable_bytes(p + esp::header_size + 8, ct), mutable_bytes(p + len - 16, 16));
}

template <class Aead>
bool esp_shaped_open(Aead& a, const std::array<std::byte, 4>& salt, std::byte* p,
                     std::size_t len) noexcept {
    std::array<std::byte, 12> nonce;
    std::memcpy(nonce.data(), salt.data(), 4);
    std::memcpy(nonce.data() + 4, p + esp::header_size, 8);
    const std::size_t ct = len - esp_shaped_overhead;
    return a.open(nonce, bytes_view(p, esp::header_size),
                  mutable_bytes(p + esp::header_size + 8, ct), bytes_view(p + len - 16, 16));
}

inline crypto::aead_id aead_of(const esp::suite& s) {
    if (s.enc == esp::encryption::chacha20_poly1305) return crypto::aead_id::chacha20_poly1305;
    return s.enc_key_size == 16 ? crypto::aead_id::aes128_gcm : crypto::aead_id::aes256_gcm;
}

}  // namespace l2sec::bench
