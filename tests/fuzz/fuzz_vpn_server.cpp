// Fuzzes the L2TP/IPsec server: whatever arrives on UDP 500/4500, on raw ESP,
// inside a valid ESP SA (so the L2TP control channel, the sessions' PPP links
// and the IP path behind the decryption are reached) and from the TUN device.
// The first byte of each record picks the door:
//   0: a UDP datagram on port 500      1: a UDP datagram on port 4500
//   2: a raw ESP packet                 3: L2TP sealed with the client's SA (UDP 1701 inside)
//   4: an IP packet from the TUN        5: time passes (the next byte, in 100 ms)
// Records are [door][len hi][len lo][bytes]. Every failure must be a clean
// error; afterwards the server must still carry a valid packet. Doors 1-3
// warm() the datagram first, as a receive batch of one (warming always).
#include <l2sec/crypto/botan.hpp>
#include <l2sec/testing/insecure_random.hpp>
#include <l2sec/vpn/server.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

using namespace l2sec;

namespace {

struct users {
    std::optional<std::size_t> find_password(std::string_view u, std::span<char> out) noexcept {
        if (u != "alice" || out.size() < 10) return std::nullopt;
        std::string_view pw = "wonderland";
        std::copy(pw.begin(), pw.end(), out.begin());
        return pw.size();
    }
};
using rnd = testing::insecure_deterministic_random;
using server_t = vpn::server<crypto::botan, users, 4, rnd>;

const auto server_ep = transport::endpoint::v4(192, 0, 2, 1, 4500);
const auto client_ep = transport::endpoint::v4(203, 0, 113, 9, 40000);
std::array<std::byte, 36> k1{}, k2{};

esp::sa_config sa_cfg(std::uint32_t spi, const std::array<std::byte, 36>& k) {
    esp::sa_config c;
    c.spi = spi;
    c.algorithms = {esp::encryption::aes_gcm_16, 32, esp::integrity::none};
    c.enc_key = k;
    return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static users u;
    for (std::size_t i = 0; i < 36; ++i) {
        k1[i] = std::byte(i);
        k2[i] = std::byte(100 + i);
    }
    vpn::server_config cfg;
    cfg.link.require = ppp::auth_method::mschapv2;
    cfg.link.local_ip = 0x0a000001;
    cfg.pool_first = 0x0a000064;
    cfg.pool_last = 0x0a000067;
    cfg.warm_min_clients = 0;
    auto srv = server_t::make(cfg, rnd(1), ike::v1::single_psk(as_bytes(std::string_view("k"))), u);
    if (!srv) __builtin_trap();
    auto& s = **srv;
    // A peer keyed by hand, as IKE would have done.
    vpn::esp_pair p;
    p.local = server_ep;
    p.peer = client_ep;
    p.udp_encap = true;
    p.in = sa_cfg(0x1001, k1);
    p.out = sa_cfg(0x2002, k2);
    if (!s.core().install(p)) __builtin_trap();
    rnd r(2);
    auto client_sa = esp::sa<crypto::botan>::make(sa_cfg(0x1001, k1), r);
    if (!client_sa) __builtin_trap();

    time_point now{};
    std::array<std::byte, vpn::packet_buffer_size> buf{}, scratch{};
    auto warm = [&](bytes_view d) { s.warm(std::span<const bytes_view>(&d, 1)); };
    std::size_t i = 0;
    while (i + 3 <= size) {
        unsigned door = data[i] % 6;
        std::size_t n = (std::size_t{data[i + 1]} << 8 | data[i + 2]) % 1500;
        i += 3;
        if (n > size - i) n = size - i;
        const std::byte* in = reinterpret_cast<const std::byte*>(data + i);
        i += n;
        switch (door) {
            case 0:
            case 1: {
                std::copy_n(in, n, buf.begin());
                auto local = server_ep;
                local.port = door == 0 ? 500 : 4500;
                if (door == 1) warm(bytes_view(buf.data(), n));
                (void)s.receive(mutable_bytes(buf.data(), n), local, client_ep, now);
                break;
            }
            case 2:
                std::copy_n(in, n, buf.begin());
                warm(bytes_view(buf.data(), n));
                (void)s.receive_esp(mutable_bytes(buf.data(), n), server_ep, client_ep, now);
                break;
            case 3: {
                std::copy_n(in, n, buf.begin() + vpn::headroom);
                auto u8 = vpn::wrap_udp(buf, vpn::headroom, n, 1701, 1701);
                if (!u8) break;
                auto pkt = client_sa->protect(buf, *u8, n + 8, esp::proto::udp);
                if (!pkt) break;
                warm(*pkt);
                (void)s.receive(*pkt, server_ep, client_ep, now);
                break;
            }
            case 4:
                std::copy_n(in, n, buf.begin() + vpn::headroom);
                (void)s.send_ip(buf, vpn::headroom, n, now);
                break;
            case 5:
                now += std::chrono::milliseconds(100) * (n ? std::to_integer<int>(in[0]) : 1);
                s.tick(now);
                break;
        }
        while (s.poll(scratch, now)) {
        }
        while (s.poll_report()) {
        }
    }
    return 0;
}
