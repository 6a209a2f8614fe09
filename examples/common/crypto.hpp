// The crypto backend the examples use. OpenSSL 3 when they are linked with
// it (L2SEC_HAVE_OPENSSL): at full-size packets its AES-GCM and
// ChaCha20-Poly1305 are 1.1x-1.5x Botan 2's on this kind of CPU, and it
// rejects a forged ESP packet without throwing or allocating
// (docs/crypto-backends.md). Otherwise Botan (L2SEC_HAVE_BOTAN), otherwise
// l2sec's standard-library-only backend (enough for L2TP and PPP, not for
// ESP or IKE). Every digest, challenge, nonce and magic number the examples
// need comes from it.
#pragma once

#include <l2sec/crypto/portable.hpp>
#ifdef L2SEC_HAVE_BOTAN
#include <l2sec/crypto/botan.hpp>
#endif
#ifdef L2SEC_HAVE_OPENSSL
#include <l2sec/crypto/openssl.hpp>
#endif

namespace l2sec::examples {

#if defined(L2SEC_HAVE_OPENSSL)
using crypto_backend = crypto::openssl;
inline constexpr const char* crypto_backend_name = "openssl";
#elif defined(L2SEC_HAVE_BOTAN)
using crypto_backend = crypto::botan;
inline constexpr const char* crypto_backend_name = "botan";
#else
using crypto_backend = crypto::portable;
inline constexpr const char* crypto_backend_name = "portable";
#endif
using random_source = crypto_backend::random;

/// The backend's MD5, made once for the program's lifetime (L2TP hidden AVPs).
inline crypto_backend::hash& md5() {
    static auto h = *crypto_backend::make_hash(crypto::hash_id::md5);
    return h;
}

}  // namespace l2sec::examples
