// Fuzzes the ESP inbound path and its helpers. The first byte picks what the
// rest of the input is:
//  0: an ESP packet for SAs of every kind (GCM, ChaCha20, CBC+HMAC, NULL+HMAC,
//     ESN or not), after some valid packets so the window is not empty;
//  1: the body of a NULL+HMAC-SHA-256 packet that gets a valid ICV, so the
//     trailer and padding checks behind the ICV are reached;
//  2: a payload protected then unprotected: it must come back unchanged;
//  3: a UDP 4500 datagram / IP packet for the RFC 3948 and transport helpers.
// Every failure must be a clean error; the SA must stay usable.
#include <l2sec/crypto.hpp>
#include <l2sec/crypto/botan.hpp>
#include <l2sec/esp.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

using namespace l2sec;
using B = crypto::botan;

namespace {

const char* suites[] = {"aes128-gcm", "chacha20-poly1305", "aes128-cbc-sha1", "null-sha256"};

std::vector<std::byte> key(std::size_t n, unsigned seed) {
    std::vector<std::byte> k(n);
    for (std::size_t i = 0; i < n; ++i)
        k[i] = static_cast<std::byte>(seed + i);
    return k;
}

struct fixture {
    std::vector<std::byte> ek, ik;
    esp::sa_config cfg;
    fixture(const char* name, bool esn) {
        auto s = *esp::parse_suite(name);
        ek = key(s.enc_keymat_size(), 1);
        ik = key(esp::integrity_key_size(s.integ), 2);
        cfg.spi = 0x01020304;
        cfg.algorithms = s;
        cfg.enc_key = ek;
        cfg.integ_key = ik;
        cfg.esn = esn;
        cfg.replay_window = 64;
    }
};

void check(bool c) {
    if (!c) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    auto in = bytes_view(reinterpret_cast<const std::byte*>(data + 1), size - 1);
    std::vector<std::byte> buf(in.begin(), in.end());
    switch (data[0] % 4) {
        case 0: {
            for (const char* name : suites) {
                for (bool esn : {false, true}) {
                    fixture f(name, esn);
                    auto out = esp::sa<B>::make(f.cfg);
                    auto sa = esp::sa<B>::make(f.cfg);
                    check(out && sa);
                    for (int i = 0; i < 3; ++i) {  // a few valid packets first
                        std::vector<std::byte> p(64 + 16 + 64);
                        auto pkt = out->protect(p, 64, 16, 17);
                        check(pkt && sa->unprotect(*pkt));
                    }
                    auto top = sa->window().top();
                    auto copy = buf;
                    auto r = sa->unprotect(copy);
                    if (!r) {
                        check(sa->window().top() == top);
                        check(r.error().offset <= copy.size());
                    } else {
                        check(r->payload.size() <= copy.size());
                    }
                }
            }
            break;
        }
        case 1: {
            if (buf.size() < 5) return 0;
            bool esn = (std::to_integer<unsigned>(buf[0]) & 1) != 0;
            std::uint32_t seq = load_be32(buf.data() + 1);
            fixture f("null-sha256", esn);
            auto sa = esp::sa<B>::make(f.cfg);
            std::vector<std::byte> pkt(8 + (buf.size() - 5) + 16);
            store_be32(pkt.data(), f.cfg.spi);
            store_be32(pkt.data() + 4, seq);
            std::copy(buf.begin() + 5, buf.end(), pkt.begin() + 8);
            auto h = crypto::portable::make_mac(crypto::mac_id::hmac_sha256, f.ik);
            h->update(bytes_view(pkt).first(pkt.size() - 16));
            if (esn) {
                std::array<std::byte, 4> hi{};
                h->update(hi);
            }
            h->final(mutable_bytes(pkt).last(16));
            auto r = sa->unprotect(pkt);
            if (r) {
                check(r->seq == seq);
                check(sa->window().top() == seq);
            } else {
                check(sa->window().top() == 0);
            }
            break;
        }
        case 2: {
            if (buf.size() < 2) return 0;
            const char* name = suites[std::to_integer<unsigned>(buf[0]) % 4];
            auto nh = std::to_integer<std::uint8_t>(buf[1]);
            fixture f(name, false);
            auto out = esp::sa<B>::make(f.cfg);
            auto sa = esp::sa<B>::make(f.cfg);
            std::size_t n = buf.size() - 2;
            std::vector<std::byte> p(64 + n + 64);
            std::copy(buf.begin() + 2, buf.end(), p.begin() + 64);
            auto pkt = out->protect(p, 64, n, nh);
            check(bool(pkt));
            auto r = sa->unprotect(*pkt);
            check(bool(r));
            check(r->next_header == nh && r->payload.size() == n);
            check(std::memcmp(r->payload.data(), buf.data() + 2, n) == 0);
            break;
        }
        default: {
            (void)esp::udp_encap::classify(in);
            (void)esp::udp_encap::ike_message(in);
            auto copy = buf;
            if (auto d = esp::udp_encap::decapsulate(copy)) check(d->size() + 8 == copy.size());
            (void)esp::inspect_ip(in);
            (void)esp::parse(in, 8, 16);
            (void)esp::parse_trailer(in, 0);
            fixture f("null-sha1", false);
            auto sa = esp::sa<B>::make(f.cfg);
            auto copy2 = buf;
            (void)esp::unprotect_transport(*sa, copy2);
            auto copy3 = buf;
            (void)esp::unprotect_tunnel(*sa, copy3);
            break;
        }
    }
    return 0;
}
