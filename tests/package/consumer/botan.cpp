// Built against the installed package's l2sec::botan target: the Botan
// backend's headers and link flags come through find_package alone.
#include <l2sec/crypto/botan.hpp>

#include <array>
#include <cstdio>

int main() {
    using B = l2sec::crypto::botan;
    static_assert(l2sec::crypto::backend<B>);
    // FIPS 180-2 appendix B.1: SHA-256("abc") starts ba 78 16 bf.
    auto h = B::make_hash(l2sec::crypto::hash_id::sha256);
    std::array<std::byte, 32> d{};
    if (h) l2sec::crypto::digest(*h, d, l2sec::as_bytes("abc"));
    bool ok = h && d[0] == std::byte{0xba} && d[1] == std::byte{0x78} && d[2] == std::byte{0x16} &&
              d[3] == std::byte{0xbf};
    std::puts(ok ? "consumer_botan: ok" : "consumer_botan: FAILED");
    return ok ? 0 : 1;
}
