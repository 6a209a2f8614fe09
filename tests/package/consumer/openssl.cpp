// Built against the installed package's l2sec::openssl target: the OpenSSL
// backend's headers and link flags come through find_package alone.
#include <l2sec/crypto/openssl.hpp>

#include <array>
#include <cstdio>

int main() {
    using B = l2sec::crypto::openssl;
    static_assert(l2sec::crypto::backend<B>);
    // GCM specification test case 1 (AES-128, zero key and IV, empty text):
    // the tag is 58e2fccefa7e3061367f1d57a4e7455a.
    std::array<std::byte, 16> key{}, tag{};
    std::array<std::byte, 12> iv{};
    auto g = B::make_aead(l2sec::crypto::aead_id::aes128_gcm, key);
    bool ok = g && g->seal(iv, {}, {}, tag) && tag[0] == std::byte{0x58} &&
              tag[1] == std::byte{0xe2} && tag[15] == std::byte{0x5a};
    std::puts(ok ? "consumer_openssl: ok" : "consumer_openssl: FAILED");
    return ok ? 0 : 1;
}
