// The crypto backend the examples use by default, and --crypto NAME for the
// server and the client. OpenSSL 3 when they are linked with it
// (L2SEC_HAVE_OPENSSL): at full-size packets its AES-GCM and
// ChaCha20-Poly1305 are 1.1x-1.5x Botan 2's on this kind of CPU, and it
// rejects a forged ESP packet without throwing or allocating (Botan 2 throws
// and allocates three times per forgery: a cost an attacker picks;
// docs/crypto-backends.md). Otherwise Botan (L2SEC_HAVE_BOTAN), otherwise
// l2sec's standard-library-only backend (enough for L2TP and PPP, not for
// ESP or IKE). Every digest, challenge, nonce and magic number the examples
// need comes from it.
#pragma once

#include <l2sec/crypto/portable.hpp>

#include <optional>
#include <string>
#include <type_traits>
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

/// The backends this build has, for --help: "openssl|botan", ...
inline constexpr const char* crypto_choices =
#if defined(L2SEC_HAVE_OPENSSL) && defined(L2SEC_HAVE_BOTAN)
    "openssl|botan";
#elif defined(L2SEC_HAVE_OPENSSL)
    "openssl";
#elif defined(L2SEC_HAVE_BOTAN)
    "botan";
#else
    "portable";
#endif

/// The --crypto name of backend B.
template <class B>
constexpr const char* crypto_name_of() noexcept {
#if defined(L2SEC_HAVE_OPENSSL)
    if constexpr (std::is_same_v<B, crypto::openssl>) return "openssl";
#endif
#if defined(L2SEC_HAVE_BOTAN)
    if constexpr (std::is_same_v<B, crypto::botan>) return "botan";
#endif
    return "portable";
}

/// --crypto NAME: calls f.template operator()<Backend>() with the backend
/// named (empty: the default, crypto_backend) and returns its result;
/// std::nullopt when this build has no backend of that name.
template <class F>
std::optional<int> with_crypto(const std::string& name, F&& f) {
    if (name.empty() || name == crypto_backend_name) return f.template operator()<crypto_backend>();
#if defined(L2SEC_HAVE_OPENSSL)
    if (name == "openssl") return f.template operator()<crypto::openssl>();
#endif
#if defined(L2SEC_HAVE_BOTAN)
    if (name == "botan") return f.template operator()<crypto::botan>();
#endif
    return std::nullopt;
}

/// The backend's MD5, made once for the program's lifetime (L2TP hidden AVPs).
inline crypto_backend::hash& md5() {
    static auto h = *crypto_backend::make_hash(crypto::hash_id::md5);
    return h;
}

}  // namespace l2sec::examples
