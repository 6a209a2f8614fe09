// Fuzz the IKEv2 engine (IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL, RFC 7383
// fragments) in every state: an initiator and a responder run a real handshake in memory while
// the input decides, record by record [op u8][length u16][bytes], what happens next:
//   op % 4 == 0: deliver the oldest genuine datagram in flight, XOR-ing
//                `bytes` over it from offset (op / 4) * 4 (empty: unchanged);
//   op % 4 == 1: inject `bytes` into the responder (from the initiator's
//                address; on 4500 when op & 4, marker included as given);
//   op % 4 == 2: inject `bytes` into the initiator;
//   op % 4 == 3: advance time by length * 10 ms and run both timers; with
//                length 0, a rekey now instead (RFC 7296 2.8.1/2.8.2
//                collisions in reach): side op & 4, the latest Child SA
//                (op & 8 clear) or the latest IKE SA (set) that side has.
// Nothing may crash or read out of bounds; the counts must stay within the
// capacities, and every datagram the engines emit must parse as IKE.
#include <l2sec/crypto/botan.hpp>
#include <l2sec/ike/message.hpp>
#include <l2sec/ike/v2/engine.hpp>
#include <l2sec/testing/insecure_random.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <vector>

using namespace l2sec;
namespace v2 = l2sec::ike::v2;
using rnd = testing::insecure_deterministic_random;  // reproducible runs
using lim = v2::limits<2, 4, 2>;
using eng = v2::engine<crypto::botan, rnd, lim>;

namespace {
struct flight {
    bool to_server;
    transport::endpoint src, dst;
    std::vector<std::byte> data;
};
/// The counts stay within the slots; half-open SAs within their cap. (A
/// rekey briefly holds two established SAs, a rekey collision three: they
/// may take free slots beyond MaxSas.)
void check(const eng& e) {
    if (e.size() > lim::slots || e.half_open() > lim::max_half_open ||
        e.established() + e.half_open() != e.size())
        std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const v2::config cfg = [] {
        v2::config c;
        c.allow_weak = true;
        c.child_lifetime = std::chrono::seconds(30);  // rekeys within reach of the time op
        c.dpd_interval = std::chrono::seconds(5);
        c.cookie_threshold = 1;  // the COOKIE path too (the client retries with it)
        // RFC 7383: IKE_AUTH and CREATE_CHILD_SA go as SKF fragments both ways,
        // so genuine fragments are in flight to corrupt, drop and replay
        c.fragment_size = 256;
        c.local_id = as_bytes("fuzz.identity.long.enough.to.need.fragments.example.org");
        c.pool.assign = [](void*, const transport::endpoint&, bytes_view,
                           std::array<std::uint8_t, 4>& a, std::array<std::uint8_t, 4>& dns) {
            a = {10, 9, 0, 2};
            dns = {10, 9, 0, 1};
            return true;
        };
        return c;
    }();
    auto client = eng::make(cfg, rnd(1), v2::single_psk(as_bytes("fuzz")));
    auto server = eng::make(cfg, rnd(2), v2::single_psk(as_bytes("fuzz")));
    if (!client || !server) std::abort();
    const auto cep = transport::endpoint::v4(10, 0, 0, 1, 500);
    const auto sep = transport::endpoint::v4(10, 0, 0, 2, 500);
    std::chrono::steady_clock::time_point now{};
    v2::connection conn;
    conn.local = cep;
    conn.peer = sep;
    conn.request_address = true;  // CP in IKE_AUTH
    (void)client->connect(conn, now);
    std::deque<flight> wire;
    std::array<v2::sa_handle, 2> last_ike{};
    std::array<std::uint32_t, 2> last_spi{};
    auto drain = [&] {
        for (std::size_t side = 0; side < 2; ++side) {
            auto& e = side == 0 ? *client : *server;
            while (auto d = e.poll_datagram()) {
                bytes_view m = d->data;
                if (d->local.port == 4500) {
                    auto r = ike::strip_non_esp_marker(m);
                    if (!r) std::abort();
                    m = *r;
                }
                if (!ike::parse(m)) std::abort();  // we only ever send well-formed IKE
                if (wire.size() < 64)
                    wire.push_back(
                        {side == 0, d->local, d->peer, {d->data.begin(), d->data.end()}});
            }
            while (auto ev = e.poll_event()) {
                if (ev->kind == v2::event_kind::ike_up) last_ike[side] = ev->ike;
                if (ev->kind == v2::event_kind::child_up) {
                    last_ike[side] = ev->ike;
                    last_spi[side] = ev->child.spi_in;
                }
            }
        }
    };
    drain();
    bytes_view in(reinterpret_cast<const std::byte*>(data), size);
    while (in.size() >= 3) {
        const auto op = std::to_integer<std::uint8_t>(in[0]);
        std::size_t len = load_be16(in.data() + 1);
        in = in.subspan(3);
        if (len > in.size()) len = in.size();
        auto bytes = in.first(len);
        in = in.subspan(len);
        switch (op % 4) {
            case 0: {
                if (wire.empty()) break;
                auto f = std::move(wire.front());
                wire.pop_front();
                const std::size_t at = std::size_t{op} / 4 * 4;
                for (std::size_t i = 0; i < bytes.size() && at + i < f.data.size(); ++i)
                    f.data[at + i] ^= bytes[i];
                (f.to_server ? *server : *client).receive(f.data, f.dst, f.src, now);
                break;
            }
            case 1:
            case 2: {
                auto local = op % 4 == 1 ? sep : cep;
                auto peer = op % 4 == 1 ? cep : sep;
                if (op & 4) local.port = peer.port = 4500;
                (op % 4 == 1 ? *server : *client).receive(bytes, local, peer, now);
                break;
            }
            default:
                if (len == 0) {
                    const std::size_t side = op & 4 ? 1 : 0;
                    auto& e = side == 0 ? *client : *server;
                    if (op & 8)
                        (void)e.rekey_ike(last_ike[side], now);
                    else
                        (void)e.rekey_child(last_ike[side], last_spi[side], now);
                    break;
                }
                now += std::chrono::milliseconds(10 * len);
                client->tick(now);
                server->tick(now);
                break;
        }
        drain();
        check(*client);
        check(*server);
    }
    return 0;
}
