// Fuzz the PPP link engine as server (authenticator, address assigner) and
// as client: the first byte picks the authentication method; then records
// [flags u8][length u16][frame] go to the server (flag bit 0 clear) or the
// client, with time advancing by the flags' upper bits. Every frame queued,
// event and timer is exercised.
#include <l2sec/crypto/portable.hpp>
#include <l2sec/ppp/engine/link.hpp>
#include <l2sec/testing/insecure_random.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

using namespace l2sec;
using rnd = testing::insecure_deterministic_random;  // reproducible runs

namespace {
struct users {
    std::optional<std::size_t> find_password(std::string_view u, std::span<char> out) noexcept {
        constexpr std::string_view pw = "wonderland";
        if (u != "alice") return std::nullopt;
        std::copy(pw.begin(), pw.end(), out.begin());
        return pw.size();
    }
};
}  // namespace
using link_t = ppp::link_engine<crypto::portable, rnd, users>;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    constexpr ppp::auth_method methods[] = {ppp::auth_method::none, ppp::auth_method::pap,
                                            ppp::auth_method::chap_md5, ppp::auth_method::mschapv2};
    ppp::link_config sc;
    sc.server = true;
    sc.require = methods[data[0] & 3];
    sc.local_ip = 0x0a000001;
    sc.peer_ip = 0x0a000002;
    sc.dns1 = 0x08080808;
    sc.ipv6 = (data[0] & 4) != 0;
    ppp::link_config cc;
    cc.user = "alice";
    cc.password = "wonderland";
    cc.ask_dns = true;
    cc.ipv6 = (data[0] & 8) != 0;
    users store;
    auto server = std::make_unique<link_t>(sc, rnd(1), store);
    auto client = std::make_unique<link_t>(cc, rnd(2));
    time_point now{};
    server->start(now);
    client->start(now);
    std::array<std::byte, 2048> out{};
    bytes_view in(reinterpret_cast<const std::byte*>(data + 1), size - 1);
    while (in.size() >= 3) {
        const auto flags = std::to_integer<std::uint8_t>(in[0]);
        std::size_t len = load_be16(in.data() + 1);
        in = in.subspan(3);
        if (len > in.size()) len = in.size();
        auto frame = in.first(len);
        in = in.subspan(len);
        now += std::chrono::milliseconds(static_cast<std::int64_t>(flags >> 2) * 500);
        link_t& l = (flags & 1) ? *client : *server;
        auto r = l.handle_frame(frame, now);
        if (r && *r &&
            ((*r)->data() < frame.data() ||
             (*r)->data() + (*r)->size() > frame.data() + frame.size()))
            std::abort();
        if (flags & 2) l.close(now);
        for (link_t* x : {server.get(), client.get()}) {
            x->on_timer(now);
            while (auto n = x->poll_transmit(out))
                if (*n > out.size()) std::abort();
            while (x->poll_event()) {
            }
        }
    }
    return 0;
}
