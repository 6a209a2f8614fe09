// The crypto backend the examples use: Botan when they are linked with it
// (L2SEC_HAVE_BOTAN), otherwise l2sec's standard-library-only backend. Every
// digest, challenge and magic number the examples need comes from it.
#pragma once

#include <l2sec/crypto/portable.hpp>
#ifdef L2SEC_HAVE_BOTAN
#include <l2sec/crypto/botan.hpp>
#endif

namespace l2sec::examples {

#ifdef L2SEC_HAVE_BOTAN
using crypto_backend = crypto::botan;
#else
using crypto_backend = crypto::portable;
#endif
using random_source = crypto_backend::random;

/// The backend's MD5, made once for the program's lifetime (L2TP hidden AVPs).
inline crypto_backend::hash& md5() {
    static auto h = *crypto_backend::make_hash(crypto::hash_id::md5);
    return h;
}

}  // namespace l2sec::examples
