// Fuzz the L2TP engine (both roles): the input is a sequence of records
// [flags u8][length u16][datagram], each delivered to the LNS engine (or, with
// flag bit 0, to a LAC engine that has opened a tunnel) from a fixed peer,
// with time advancing by the flags' upper bits. Everything the engines send,
// every event and every timer is exercised; nothing may crash, leak or read
// out of bounds, and the engines' counts must stay within their capacities.
#include <l2sec/crypto/portable.hpp>
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/testing/insecure_random.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

using namespace l2sec;
using rnd = testing::insecure_deterministic_random;  // reproducible runs
using eng = l2tp::engine<crypto::portable, l2tp::limits<4, 8, 4, 4, 256>, rnd>;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    l2tp::engine_config lc;
    lc.accept_tunnels = false;
    l2tp::engine_config nc;
    nc.secret = as_bytes("fuzz");
    nc.hide_avps = true;
    auto lns = std::make_unique<eng>(nc, rnd(1));
    auto lac = std::make_unique<eng>(lc, rnd(2));
    const auto peer = transport::endpoint::v4(10, 0, 0, 1, 1701);
    const auto lns_ep = transport::endpoint::v4(10, 0, 0, 2, 1701);
    time_point now{};
    (void)lac->open_tunnel(lns_ep, now);
    std::array<std::byte, 2048> out{};
    bytes_view in(reinterpret_cast<const std::byte*>(data), size);
    while (in.size() >= 3) {
        const auto flags = std::to_integer<std::uint8_t>(in[0]);
        std::size_t len = load_be16(in.data() + 1);
        in = in.subspan(3);
        if (len > in.size()) len = in.size();
        auto dgram = in.first(len);
        in = in.subspan(len);
        now += std::chrono::milliseconds(static_cast<std::int64_t>(flags >> 2) * 250);
        eng& e = (flags & 1) ? *lac : *lns;
        auto r = e.handle_datagram((flags & 1) ? lns_ep : peer, dgram, now);
        if (r && r->data) {
            // A data payload is a view into the datagram.
            if (r->payload.size() > dgram.size()) std::abort();
            (void)e.encode_data(r->session, r->payload, out);
        }
        if (flags & 2) {
            // Try the commands too, on whatever exists.
            for (std::uint16_t id = 1; id <= 4; ++id)
                if (e.find_tunnel(id)) (void)e.open_session(id, now, (flags & 4) != 0);
            for (std::uint16_t s = 1; s <= 8; ++s)
                if (e.find_session(s)) (void)e.close_session(s, now);
        }
        for (eng* x : {lns.get(), lac.get()}) {
            x->on_timer(now);
            while (auto o = x->poll_transmit(now, out))
                if (o->size > out.size()) std::abort();
            while (x->poll_event()) {
            }
            if (x->tunnel_count() > eng::max_tunnels || x->session_count() > eng::max_sessions)
                std::abort();
        }
    }
    return 0;
}
