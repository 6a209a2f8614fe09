// The policy seams, as a user meets them: every engine built with the Botan
// backend and its CSPRNG, with the standard-library-only backend, and with a
// user-written backend, random source and credential store; two engines with
// a real random source never issue the same challenges, magic numbers or
// Random Vectors; and the deterministic generator is reachable only under
// its testing name.
#include <l2sec/crypto/botan.hpp>
#include <l2sec/crypto/portable.hpp>
#include <l2sec/esp/sa.hpp>
#include <l2sec/l2tp/engine.hpp>
#include <l2sec/ppp/engine/link.hpp>
#include <l2sec/testing/insecure_random.hpp>

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <type_traits>
#include <vector>

#include "support/hex.hpp"
#include "support/users.hpp"

using namespace l2sec;
using namespace std::chrono_literals;

namespace {

// ---- a user-written backend, random source and credential store ----------

int digests_made = 0, digest_updates = 0, random_fills = 0;

/// Digests and DES from crypto::portable, counted: proves the engines take
/// their crypto from the policy they are given.
struct counting_backend {
    class hash {
      public:
        explicit hash(crypto::portable::hash h) noexcept : h_(std::move(h)) {}
        std::size_t output_size() const noexcept { return h_.output_size(); }
        void update(bytes_view in) noexcept {
            ++digest_updates;
            h_.update(in);
        }
        void final(mutable_bytes out) noexcept { h_.final(out); }

      private:
        crypto::portable::hash h_;
    };
    using block_cipher = crypto::portable::block_cipher;
    static result<hash> make_hash(crypto::hash_id id) noexcept {
        ++digests_made;
        auto h = crypto::portable::make_hash(id);
        if (!h) return h.error();
        return hash(std::move(*h));
    }
    static result<block_cipher> make_block_cipher(crypto::block_cipher_id id,
                                                  bytes_view key) noexcept {
        return crypto::portable::make_block_cipher(id, key);
    }
};
static_assert(crypto::auth_backend<counting_backend>);

/// A random source of one's own: the OS's generator, counted. Move-only.
struct counting_random {
    counting_random() = default;
    counting_random(counting_random&&) noexcept = default;
    counting_random(const counting_random&) = delete;
    bool fill(mutable_bytes out) noexcept {
        ++random_fills;
        return os.fill(out);
    }
    crypto::portable::random os;
};
static_assert(crypto::random_source<counting_random>);

// ---- driving two engines directly (no network) ----------------------------

const auto lac_ep = transport::endpoint::v4(10, 0, 0, 1, 1701);
const auto lns_ep = transport::endpoint::v4(10, 0, 0, 2, 1701);

template <class Engine>
void exchange(Engine& lac, Engine& lns, time_point now,
              std::vector<std::vector<std::byte>>* lac_sent = nullptr) {
    std::array<std::byte, 2048> buf{};
    for (int round = 0; round < 32; ++round) {
        bool any = false;
        while (auto o = lac.poll_transmit(now, buf)) {
            any = true;
            if (lac_sent)
                lac_sent->emplace_back(buf.begin(),
                                       buf.begin() + static_cast<std::ptrdiff_t>(o->size));
            (void)lns.handle_datagram(lac_ep, bytes_view(buf.data(), o->size), now);
        }
        while (auto o = lns.poll_transmit(now, buf)) {
            any = true;
            (void)lac.handle_datagram(lns_ep, bytes_view(buf.data(), o->size), now);
        }
        if (!any) return;
    }
}

/// What a LAC with a secret and hidden AVPs sends that must be unpredictable.
struct lac_randomness {
    std::string challenge, tie_breaker, random_vector;
    bool session_up = false;
};

template <class Backend, class Random>
lac_randomness l2tp_setup(Random lac_random, Random lns_random) {
    l2tp::engine_config lc{.host_name = "lac", .secret = as_bytes("k"), .hide_avps = true};
    lc.accept_tunnels = false;
    auto nc = lc;
    nc.accept_tunnels = true;
    using engine = l2tp::engine<Backend, l2tp::limits<2, 4>, Random>;
    auto lac = std::make_unique<engine>(lc, std::move(lac_random));
    auto lns = std::make_unique<engine>(nc, std::move(lns_random));
    std::vector<std::vector<std::byte>> sent;
    time_point now{};
    auto tid = lac->open_tunnel(lns_ep, now);
    REQUIRE(tid);
    exchange(*lac, *lns, now, &sent);
    REQUIRE(lac->open_session(*tid, now));
    exchange(*lac, *lns, now, &sent);
    lac_randomness r;
    while (auto ev = lac->poll_event())
        r.session_up = r.session_up || ev->kind == l2tp::event_kind::session_up;
    for (auto& d : sent) {
        auto m = l2tp::parse(d);
        if (!m || m->is_zlb()) continue;
        if (auto c = m->find(l2tp::avp_type::challenge)) r.challenge = test::to_hex(c->value());
        if (auto t = m->find(l2tp::avp_type::tie_breaker)) r.tie_breaker = test::to_hex(t->value());
        if (auto v = m->find(l2tp::avp_type::random_vector))
            r.random_vector = test::to_hex(v->value());
    }
    return r;
}

/// The server's first LCP magic number and CHAP challenge.
struct server_randomness {
    std::string magic, challenge;
    bool up = false;
};

template <class Backend, class Random, class Store>
server_randomness ppp_setup(Random server_random, Random client_random, Store& store,
                            ppp::auth_method method = ppp::auth_method::chap_md5) {
    ppp::link_config sc;
    sc.server = true;
    sc.require = method;
    sc.local_ip = 0x0a000001;
    sc.peer_ip = 0x0a000064;
    ppp::link_config cc;
    cc.user = "alice";
    cc.password = "wonderland";
    using link = ppp::link_engine<Backend, Random, Store>;
    auto server = std::make_unique<link>(sc, std::move(server_random), store);
    auto client = std::make_unique<link>(cc, std::move(client_random));
    server->start({});
    client->start({});
    server_randomness r;
    std::array<std::byte, 1600> f{};
    for (int round = 0; round < 20; ++round) {
        while (auto n = server->poll_transmit(f)) {
            auto frame = ppp::decode_frame(bytes_view(f.data(), *n));
            REQUIRE(frame);
            if (frame->protocol == ppp::protocol::lcp && r.magic.empty()) {
                auto p = ppp::decode_control(ppp::protocol::lcp, frame->information);
                if (p && p->code == ppp::code::configure_request)
                    for (auto o : p->options())
                        if (o.type == ppp::lcp::option_type::magic_number)
                            r.magic = test::to_hex(o.data);
            }
            if (frame->protocol == ppp::protocol::chap && r.challenge.empty()) {
                auto c = ppp::chap::decode(frame->information);
                if (c && c->code == ppp::chap::code::challenge)
                    r.challenge = test::to_hex(c->value);
            }
            (void)client->handle_frame(bytes_view(f.data(), *n), {});
        }
        while (auto n = client->poll_transmit(f))
            (void)server->handle_frame(bytes_view(f.data(), *n), {});
    }
    r.up = server->is_up() && client->is_up();
    return r;
}

}  // namespace

TEST_CASE(
    "two L2TP engines with Botan's CSPRNG issue different Challenges, tie breakers and "
    "Random Vectors") {
    using B = crypto::botan;
    auto a = l2tp_setup<B>(B::random{}, B::random{});
    auto b = l2tp_setup<B>(B::random{}, B::random{});
    REQUIRE(a.session_up);
    REQUIRE(b.session_up);
    CHECK(a.challenge.size() == 32);
    CHECK(a.tie_breaker.size() == 16);
    CHECK(a.random_vector.size() == 32);
    CHECK(a.challenge != b.challenge);
    CHECK(a.tie_breaker != b.tie_breaker);
    CHECK(a.random_vector != b.random_vector);
    // The same holds for the OS generator behind crypto::portable::random.
    using P = crypto::portable;
    auto c = l2tp_setup<P>(P::random{}, P::random{});
    auto d = l2tp_setup<P>(P::random{}, P::random{});
    REQUIRE(c.session_up);
    CHECK(c.challenge != d.challenge);
    CHECK(c.random_vector != d.random_vector);
}

TEST_CASE("two PPP servers with Botan's CSPRNG pick different magic numbers and CHAP challenges") {
    using B = crypto::botan;
    test::users store;
    auto a = ppp_setup<B>(B::random{}, B::random{}, store);
    auto b = ppp_setup<B>(B::random{}, B::random{}, store);
    REQUIRE(a.up);
    REQUIRE(b.up);
    CHECK(a.magic.size() == 8);
    CHECK(a.challenge.size() == 32);
    CHECK(a.magic != b.magic);
    CHECK(a.challenge != b.challenge);
    auto m1 = ppp_setup<B>(B::random{}, B::random{}, store, ppp::auth_method::mschapv2);
    auto m2 = ppp_setup<B>(B::random{}, B::random{}, store, ppp::auth_method::mschapv2);
    REQUIRE(m1.up);
    CHECK(m1.challenge != m2.challenge);
}

TEST_CASE("a user-written backend, random source and credential store plug into every engine") {
    // L2TP: MD5 for tunnel authentication and hidden AVPs comes from the
    // backend given; Challenge, tie breaker and Random Vector from the source.
    digests_made = digest_updates = random_fills = 0;
    auto l = l2tp_setup<counting_backend>(counting_random{}, counting_random{});
    CHECK(l.session_up);
    CHECK(digests_made == 2);   // one MD5 context per engine, made at construction
    CHECK(digest_updates > 0);  // and used: Challenge Responses, hidden Assigned Session ID
    CHECK(random_fills >= 4);   // two tie breakers... Challenges, Random Vectors
    CHECK(l.random_vector.size() == 32);

    // PPP, each method: challenges and magic numbers from the source, MD5 /
    // MD4 / SHA-1 / DES from the backend, passwords from the store.
    for (auto m : {ppp::auth_method::pap, ppp::auth_method::chap_md5, ppp::auth_method::mschapv2}) {
        CAPTURE(ppp::to_string(m));
        digests_made = random_fills = 0;
        test::users store;
        auto r = ppp_setup<counting_backend>(counting_random{}, counting_random{}, store, m);
        CHECK(r.up);
        CHECK(store.lookups >= 1);
        CHECK(random_fills >= 2);  // two magic numbers at least
        if (m != ppp::auth_method::pap) CHECK(digests_made >= 1);
    }

    // ESP: the CBC IV prefix comes from the caller's source.
    random_fills = 0;
    esp::sa_config c;
    c.spi = 1;
    c.algorithms = *esp::parse_suite("aes128-cbc-sha1");
    std::array<std::byte, 16> ek{};
    std::array<std::byte, 20> ik{};
    c.enc_key = ek;
    c.integ_key = ik;
    counting_random r;
    CHECK(esp::sa<crypto::botan>::make(c, r));
    CHECK(random_fills == 1);
}

TEST_CASE(
    "random sources are moved in, never copied, never defaulted, never seeded by the library") {
    using B = crypto::botan;
    using rnd = testing::insecure_deterministic_random;
    using l2tp_engine = l2tp::engine<B>;
    using link = ppp::link_engine<B>;
    // The engines need a source, by rvalue: no default, no copy from an lvalue.
    static_assert(!std::is_constructible_v<l2tp_engine, const l2tp::engine_config&>);
    static_assert(std::is_constructible_v<l2tp_engine, const l2tp::engine_config&, B::random&&>);
    static_assert(!std::is_constructible_v<l2tp_engine, const l2tp::engine_config&, B::random&>);
    static_assert(!std::is_constructible_v<link, const ppp::link_config&>);
    static_assert(!std::is_constructible_v<link, const ppp::link_config&, B::random&>);
    static_assert(std::is_same_v<l2tp_engine, l2tp::engine<B, l2tp::default_limits, B::random>>,
                  "the default random source is the backend's CSPRNG");
    // The deterministic generator: no default seed, no copies; only under testing::.
    static_assert(!std::is_default_constructible_v<rnd>);
    static_assert(!std::is_copy_constructible_v<rnd>);
    static_assert(std::is_same_v<decltype(rnd(1).fill(mutable_bytes{})), bool>);
    static_assert(!std::is_default_constructible_v<testing::insecure_splitmix64>);
    // Same seed, same stream: that is exactly why it is only for simulations.
    rnd x(7), y(7);
    std::array<std::byte, 8> a{}, b{};
    CHECK(x.fill(a));
    CHECK(y.fill(b));
    CHECK(a == b);
}
