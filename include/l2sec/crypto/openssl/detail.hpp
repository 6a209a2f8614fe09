// Internals of the OpenSSL backend: owning handles, the algorithm tables,
// the once-per-process fetches, the legacy-provider library context and the
// allocation-free digest states behind HMAC. Not part of the public API.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/crypto/algorithms.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/opensslv.h>
#include <openssl/provider.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>

#if OPENSSL_VERSION_MAJOR < 3
#error "l2sec::openssl needs OpenSSL 3 (EVP_CIPHER_fetch, providers)"
#endif
#if defined(OPENSSL_NO_DEPRECATED_3_0)
// The digest primitives below (MD5_Init, SHA256_Init, ...) are deprecated in
// OpenSSL 3.0 but are the only allocation-free way to hash there: 3.0's
// EVP_DigestInit re-creates the provider context (one malloc) per message.
#error \
    "l2sec::openssl needs OpenSSL's 3.0 digest primitives: do not define OPENSSL_API_COMPAT >= 30000 or OPENSSL_NO_DEPRECATED"
#endif

namespace l2sec::crypto::openssl_detail {

inline const unsigned char* u8(bytes_view b) noexcept {
    return reinterpret_cast<const unsigned char*>(b.data());
}
inline unsigned char* u8(mutable_bytes b) noexcept {
    return reinterpret_cast<unsigned char*>(b.data());
}
/// Lengths pass to OpenSSL as int; larger spans are refused, never truncated.
inline bool fits_int(std::size_t n) noexcept {
    return n <= static_cast<std::size_t>(INT_MAX);
}

struct cipher_ctx_free {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using cipher_ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, cipher_ctx_free>;
struct md_ctx_free {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_free>;

/// The library context holding OpenSSL 3's legacy provider (MD4, DES):
/// created and loaded once per process, on first use, and kept for the
/// process's lifetime. It is a private context, so loading the legacy
/// provider never changes which algorithms the application's default
/// context offers. nullptr when the provider cannot be loaded (not
/// installed, or disabled by the build): MD4 and DES are then unsupported.
inline OSSL_LIB_CTX* legacy_libctx() noexcept {
    static OSSL_LIB_CTX* const ctx = []() -> OSSL_LIB_CTX* {
        OSSL_LIB_CTX* c = OSSL_LIB_CTX_new();
        if (c == nullptr) return nullptr;
        if (OSSL_PROVIDER_load(c, "legacy") == nullptr) {
            OSSL_LIB_CTX_free(c);
            return nullptr;
        }
        return c;
    }();
    return ctx;
}

/// A cipher fetched once per process (per algorithm, on first use) and
/// shared by every context: EVP_CIPHER objects are immutable and
/// reference-counted, so sharing them across threads is safe.
template <int Slot>
const EVP_CIPHER* fetch_cipher_once(const char* name, bool legacy) noexcept {
    static EVP_CIPHER* const c = [&]() -> EVP_CIPHER* {
        OSSL_LIB_CTX* lib = nullptr;
        if (legacy) {
            lib = legacy_libctx();
            if (lib == nullptr) return nullptr;
        }
        return EVP_CIPHER_fetch(lib, name, nullptr);
    }();
    return c;
}

inline const EVP_CIPHER* fetch(aead_id a) noexcept {
    switch (a) {
        case aead_id::aes128_gcm:
            return fetch_cipher_once<0>("AES-128-GCM", false);
        case aead_id::aes256_gcm:
            return fetch_cipher_once<1>("AES-256-GCM", false);
        case aead_id::chacha20_poly1305:
            return fetch_cipher_once<2>("ChaCha20-Poly1305", false);
    }
    return nullptr;
}
inline const EVP_CIPHER* fetch(cipher_id c) noexcept {
    switch (c) {
        case cipher_id::aes128_cbc:
            return fetch_cipher_once<10>("AES-128-CBC", false);
        case cipher_id::aes192_cbc:
            return fetch_cipher_once<11>("AES-192-CBC", false);
        case cipher_id::aes256_cbc:
            return fetch_cipher_once<12>("AES-256-CBC", false);
        case cipher_id::des_cbc:
            return fetch_cipher_once<13>("DES-CBC", true);  // legacy provider
        case cipher_id::tdes_cbc:
            return fetch_cipher_once<14>("DES-EDE3-CBC", false);
    }
    return nullptr;
}
inline const EVP_CIPHER* fetch(block_cipher_id b) noexcept {
    switch (b) {
        case block_cipher_id::des:
            return fetch_cipher_once<20>("DES-ECB", true);  // legacy provider
        case block_cipher_id::aes128:
            return fetch_cipher_once<21>("AES-128-ECB", false);
        case block_cipher_id::aes256:
            return fetch_cipher_once<22>("AES-256-ECB", false);
    }
    return nullptr;
}
/// MD4 (MS-CHAPv2's NT password hash) from the legacy provider.
inline const EVP_MD* fetch_md4() noexcept {
    static EVP_MD* const md = []() -> EVP_MD* {
        OSSL_LIB_CTX* lib = legacy_libctx();
        return lib ? EVP_MD_fetch(lib, "MD4", nullptr) : nullptr;
    }();
    return md;
}

/// A cipher context keyed once for one direction, padding off.
inline cipher_ctx_ptr keyed_ctx(const EVP_CIPHER* c, bytes_view key, bool encrypt) noexcept {
    cipher_ctx_ptr ctx(EVP_CIPHER_CTX_new());
    if (!ctx) return {};
    int ok = encrypt ? EVP_EncryptInit_ex2(ctx.get(), c, u8(key), nullptr, nullptr)
                     : EVP_DecryptInit_ex2(ctx.get(), c, u8(key), nullptr, nullptr);
    if (ok != 1 || EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) return {};
    return ctx;
}

// OpenSSL 3.0 deprecates the digest primitives used here in favour of EVP,
// whose 3.0 implementation allocates per message; the states below are
// plain structs, copied by value, so HMAC's inner and outer states are
// computed once per key and each message costs no allocation.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

/// One of the MD5 / SHA-1 / SHA-2 digest states, chosen at run time.
class md_state {
  public:
    md_state() noexcept = default;
    explicit md_state(hash_id id) noexcept : id_(id) { init(); }
    ~md_state() { OPENSSL_cleanse(&u_, sizeof u_); }
    md_state(const md_state&) noexcept = default;
    md_state& operator=(const md_state&) noexcept = default;

    static constexpr bool supported(hash_id id) noexcept { return id != hash_id::md4; }
    hash_id id() const noexcept { return id_; }

    void init() noexcept {
        switch (id_) {
            case hash_id::md4:
                break;
            case hash_id::md5:
                MD5_Init(&u_.md5);
                break;
            case hash_id::sha1:
                SHA1_Init(&u_.sha1);
                break;
            case hash_id::sha256:
                SHA256_Init(&u_.sha256);
                break;
            case hash_id::sha384:
                SHA384_Init(&u_.sha512);
                break;
            case hash_id::sha512:
                SHA512_Init(&u_.sha512);
                break;
        }
    }
    void update(const void* p, std::size_t n) noexcept {
        if (n == 0) return;
        switch (id_) {
            case hash_id::md4:
                break;
            case hash_id::md5:
                MD5_Update(&u_.md5, p, n);
                break;
            case hash_id::sha1:
                SHA1_Update(&u_.sha1, p, n);
                break;
            case hash_id::sha256:
                SHA256_Update(&u_.sha256, p, n);
                break;
            case hash_id::sha384:
            case hash_id::sha512:
                SHA512_Update(&u_.sha512, p, n);
                break;
        }
    }
    /// Writes the full digest (info(id).digest_size bytes) to `out`.
    void final(unsigned char* out) noexcept {
        switch (id_) {
            case hash_id::md4:
                break;
            case hash_id::md5:
                MD5_Final(out, &u_.md5);
                break;
            case hash_id::sha1:
                SHA1_Final(out, &u_.sha1);
                break;
            case hash_id::sha256:
                SHA256_Final(out, &u_.sha256);
                break;
            case hash_id::sha384:
                SHA384_Final(out, &u_.sha512);
                break;
            case hash_id::sha512:
                SHA512_Final(out, &u_.sha512);
                break;
        }
    }

  private:
    union state {
        MD5_CTX md5;
        SHA_CTX sha1;
        SHA256_CTX sha256;
        SHA512_CTX sha512;
    };
    hash_id id_ = hash_id::sha256;
    state u_{};
};

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

inline constexpr std::size_t max_digest = 64;
inline constexpr std::size_t max_block = 128;

inline hash_id digest_of(mac_id m) noexcept {
    switch (m) {
        case mac_id::hmac_md5:
            return hash_id::md5;
        case mac_id::hmac_sha1:
            return hash_id::sha1;
        case mac_id::hmac_sha256:
            return hash_id::sha256;
        case mac_id::hmac_sha384:
            return hash_id::sha384;
        case mac_id::hmac_sha512:
            return hash_id::sha512;
    }
    return hash_id::sha256;
}

}  // namespace l2sec::crypto::openssl_detail
