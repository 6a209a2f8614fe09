// The OpenSSL 3 backend (target l2sec::openssl): crypto::openssl satisfies
// crypto::backend and crypto::dh_backend, like crypto::botan.
//
//   using B = l2sec::crypto::openssl;
//   static_assert(l2sec::crypto::backend<B>);
//   auto gcm = B::make_aead(crypto::aead_id::aes256_gcm, key);   // once per SA
//   gcm->seal(nonce, aad, data, tag);                            // per packet
//
// Keyed contexts are made once per SA and reused for every packet:
// - AEAD and CBC: one EVP_CIPHER_CTX per direction, keyed at make(); each
//   packet only sets the nonce/IV. The EVP_CIPHERs are fetched once per
//   process and algorithm (a function-local static) and shared. A packet
//   costs no allocation, and neither does a forged one: OpenSSL reports a
//   bad tag as a return value (unlike Botan 2, which throws and allocates).
// - HMAC and digests (MD5, SHA-1, SHA-2): OpenSSL's digest primitives on
//   states held by value; HMAC's inner and outer states are computed once
//   per key. (OpenSSL 3.0's EVP_DigestInit and EVP_MAC re-create a provider
//   context per message, one or two mallocs each: measured, so not used.)
// - MD4 and DES (MS-CHAPv2, DES-CBC for old clients) live in OpenSSL 3's
//   legacy provider. The backend loads it explicitly, once per process, into
//   a private library context (the application's default context is left as
//   it is). Where it cannot be loaded, make_hash(md4), make_block_cipher(des)
//   and make_cipher(des_cbc) return errc::unsupported_algorithm and
//   openssl::legacy_available() says false. MD4 goes through EVP and costs
//   one malloc per message (control plane only: one per MS-CHAPv2 login).
// - random: RAND_priv_bytes, OpenSSL's private DRBG seeded by the OS.
// Nothing here throws; failures come back as false / errc.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/warm.hpp>
#include <l2sec/crypto/algorithms.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/error.hpp>
#include <l2sec/crypto/openssl/detail.hpp>
#include <l2sec/crypto/openssl/dh.hpp>  // DH/ECDH (crypto/dh.hpp seam), inherited below

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace l2sec::crypto {

/// The OpenSSL 3 crypto backend: a policy type for esp::sa, IKE and the
/// engines, and the DH/ECDH backend (`openssl::make_key_exchange`).
struct openssl : openssl_dh {
    /// Whether OpenSSL's legacy provider (MD4, DES) could be loaded.
    static bool legacy_available() noexcept { return openssl_detail::legacy_libctx() != nullptr; }

    /// AES-GCM / ChaCha20-Poly1305: one EVP_CIPHER_CTX per direction, keyed
    /// once; seal/open in place with the tag apart, no allocation.
    class aead {
      public:
        /// Errors: invalid_key_length (not the algorithm's key size),
        /// unsupported_algorithm (OpenSSL lacks it), backend_failure.
        static result<aead> make(aead_id id, bytes_view key) noexcept {
            using namespace openssl_detail;
            if (key.size() != info(id).key_size) return errc::invalid_key_length;
            const EVP_CIPHER* c = fetch(id);
            if (c == nullptr) return errc::unsupported_algorithm;
            aead a;
            a.gcm_ = id != aead_id::chacha20_poly1305;
            a.enc_ = keyed_ctx(c, key, true);
            a.dec_ = keyed_ctx(c, key, false);
            if (!a.enc_ || !a.dec_) return errc::backend_failure;
            return a;
        }

        static constexpr std::size_t tag_size() noexcept { return tag_len; }

        /// False when the nonce is not 12 bytes, the tag span not 16, the
        /// context moved from, or OpenSSL fails.
        bool seal(bytes_view nonce, bytes_view aad, mutable_bytes data,
                  mutable_bytes tag) noexcept {
            using namespace openssl_detail;
            if (!enc_ || nonce.size() != nonce_len || tag.size() != tag_len ||
                !fits_int(data.size()) || !fits_int(aad.size()))
                return false;
            EVP_CIPHER_CTX* c = enc_.get();
            int n = 0;
            if (!set_nonce(c, nonce, true, nullptr)) return false;
            if (!aad.empty() &&
                EVP_EncryptUpdate(c, nullptr, &n, u8(aad), static_cast<int>(aad.size())) != 1)
                return false;
            if (!data.empty() &&
                EVP_EncryptUpdate(c, u8(data), &n, u8(data), static_cast<int>(data.size())) != 1)
                return false;
            unsigned char sink[16];  // AEAD final writes nothing
            if (EVP_EncryptFinal_ex(c, sink, &n) != 1) return false;
            // The tag through the provider's parameters directly: the same
            // call EVP_CIPHER_CTX_ctrl(GET_TAG) ends in, measured 25% cheaper.
            params_.tag[0].data = u8(tag);
            return EVP_CIPHER_CTX_get_params(c, params_.tag.data()) == 1;
        }

        /// False when the tag does not verify (then `data` holds unverified
        /// plaintext: drop it) or the arguments are of the wrong size.
        bool open(bytes_view nonce, bytes_view aad, mutable_bytes data, bytes_view tag) noexcept {
            using namespace openssl_detail;
            if (!dec_ || nonce.size() != nonce_len || tag.size() != tag_len ||
                !fits_int(data.size()) || !fits_int(aad.size()))
                return false;
            EVP_CIPHER_CTX* c = dec_.get();
            int n = 0;
            if (!set_nonce(c, nonce, false, tag.data())) return false;
            if (!aad.empty() &&
                EVP_DecryptUpdate(c, nullptr, &n, u8(aad), static_cast<int>(aad.size())) != 1)
                return false;
            if (!data.empty() &&
                EVP_DecryptUpdate(c, u8(data), &n, u8(data), static_cast<int>(data.size())) != 1)
                return false;
            unsigned char sink[16];
            return EVP_DecryptFinal_ex(c, sink, &n) == 1;
        }

        /// Before open(): load the decryption context's first 160 bytes
        /// (every OpenSSL 3 EVP_CIPHER_CTX is larger: its IV, buffer and
        /// final-block arrays alone are 96; core/warm.hpp). The provider's
        /// key schedule behind it is opaque and not reached.
        void warm_open() const noexcept {
            if (dec_) l2sec::warm(dec_.get(), 3);
        }

      private:
        static constexpr std::size_t tag_len = 16;
        static constexpr std::size_t nonce_len = 12;
        aead() = default;

        // The parameter arrays are built once per context (keys, types,
        // sizes); a packet only points them at its nonce and tag. Each
        // OSSL_PARAM_construct_* is a call into libcrypto, and the arrays
        // hold no pointer into the object, so it stays movable.
        //
        // AES-GCM's whole 12-byte IV as one parameter: the provider's "TLS
        // fixed IV" with length (size_t)-1 copies the complete IV and buffers
        // it for the next update (OpenSSL's documented
        // EVP_CTRL_AEAD_SET_IV_FIXED with -1, without the ctrl-to-param
        // translation). set_params only reads the nonce and the expected
        // tag (it copies them), hence the const_casts below.
        struct param_arrays {
            std::array<OSSL_PARAM, 3> nonce_tag;  ///< GCM open: IV, expected tag
            std::array<OSSL_PARAM, 2> nonce;      ///< GCM seal: IV
            std::array<OSSL_PARAM, 2> tag;        ///< seal: the tag out; ChaCha20 open: tag in
            param_arrays() noexcept {
                const OSSL_PARAM iv = OSSL_PARAM_octet_string(
                    OSSL_CIPHER_PARAM_AEAD_TLS1_IV_FIXED, nullptr, static_cast<std::size_t>(-1));
                const OSSL_PARAM t =
                    OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, nullptr, tag_len);
                const OSSL_PARAM end = OSSL_PARAM_END;
                nonce_tag = {iv, t, end};
                nonce = {iv, end};
                tag = {t, end};
            }
        };
        // A new nonce on the keyed context. EVP_CipherInit_ex2(ctx, 0, 0, iv)
        // costs three parameter round trips through the provider (the IV
        // length, the padding flag, the init itself): under callgrind a
        // third of the instructions of a 64-byte ESP packet. For GCM one
        // set_params does the same (the IV is reset in the GCM state at the
        // next update, as after init). ChaCha20-Poly1305's fixed-IV
        // parameter means TLS's nonce mask, not the IV: it keeps init.
        // To open, `expected_tag` (tag_len bytes) goes in the same call.
        bool set_nonce(EVP_CIPHER_CTX* c, bytes_view nonce, bool enc,
                       const std::byte* expected_tag) noexcept {
            using namespace openssl_detail;
            auto* iv = const_cast<unsigned char*>(u8(nonce));
            auto* t = const_cast<std::byte*>(expected_tag);
            if (gcm_) {
                if (!t) {
                    params_.nonce[0].data = iv;
                    return EVP_CIPHER_CTX_set_params(c, params_.nonce.data()) == 1;
                }
                params_.nonce_tag[0].data = iv;
                params_.nonce_tag[1].data = t;
                return EVP_CIPHER_CTX_set_params(c, params_.nonce_tag.data()) == 1;
            }
            if (enc ? EVP_EncryptInit_ex2(c, nullptr, nullptr, iv, nullptr) != 1
                    : EVP_DecryptInit_ex2(c, nullptr, nullptr, iv, nullptr) != 1)
                return false;
            if (!t) return true;
            params_.tag[0].data = t;
            return EVP_CIPHER_CTX_set_params(c, params_.tag.data()) == 1;
        }

        openssl_detail::cipher_ctx_ptr enc_, dec_;
        param_arrays params_;
        bool gcm_ = false;
    };

    /// AES-CBC, 3DES-CBC, DES-CBC without padding: one EVP_CIPHER_CTX per
    /// direction, keyed once; each call sets the IV and works in place.
    class cipher {
      public:
        /// Errors: invalid_key_length, unsupported_algorithm (DES-CBC without
        /// the legacy provider), backend_failure.
        static result<cipher> make(cipher_id id, bytes_view key) noexcept {
            using namespace openssl_detail;
            if (key.size() != info(id).key_size) return errc::invalid_key_length;
            const EVP_CIPHER* c = fetch(id);
            if (c == nullptr) return errc::unsupported_algorithm;
            cipher k;
            k.enc_ = keyed_ctx(c, key, true);
            k.dec_ = keyed_ctx(c, key, false);
            if (!k.enc_ || !k.dec_) return errc::backend_failure;
            k.block_ = info(id).block_size;
            return k;
        }
        std::size_t block_size() const noexcept { return block_; }
        /// False when the IV is not one block or data not a multiple of it.
        bool encrypt(bytes_view iv, mutable_bytes data) noexcept {
            return run(enc_.get(), iv, data);
        }
        bool decrypt(bytes_view iv, mutable_bytes data) noexcept {
            return run(dec_.get(), iv, data);
        }

      private:
        cipher() = default;
        bool run(EVP_CIPHER_CTX* c, bytes_view iv, mutable_bytes data) const noexcept {
            using namespace openssl_detail;
            if (c == nullptr || iv.size() != block_ || data.size() % block_ != 0 ||
                !fits_int(data.size()))
                return false;
            if (EVP_CipherInit_ex2(c, nullptr, nullptr, u8(iv), -1, nullptr) != 1) return false;
            int n = 0;
            if (!data.empty() &&
                EVP_CipherUpdate(c, u8(data), &n, u8(data), static_cast<int>(data.size())) != 1)
                return false;
            return static_cast<std::size_t>(n) == data.size();
        }
        openssl_detail::cipher_ctx_ptr enc_, dec_;
        std::size_t block_ = 16;
    };

    /// HMAC over MD5, SHA-1 or SHA-2, keyed once: the inner and outer
    /// digest states are precomputed, so a message costs two finals and no
    /// allocation. final() truncates to the span it is given and leaves the
    /// context keyed for the next message. Key material is wiped on destruction.
    class mac {
      public:
        /// Errors: none in practice (every mac_id is offered; any key length).
        static result<mac> make(mac_id id, bytes_view key) noexcept {
            using namespace openssl_detail;
            const hash_id h = digest_of(id);
            const auto hi = info(h);
            mac m;
            m.size_ = hi.digest_size;
            std::array<unsigned char, max_block> k{};
            if (key.size() > hi.block_size) {
                md_state s(h);
                s.update(key.data(), key.size());
                s.final(k.data());
            } else {
                std::copy_n(u8(key), key.size(), k.data());
            }
            std::array<unsigned char, max_block> pad{};
            for (std::size_t i = 0; i < hi.block_size; ++i)
                pad[i] = static_cast<unsigned char>(k[i] ^ 0x36);
            m.inner_ = md_state(h);
            m.inner_.update(pad.data(), hi.block_size);
            for (std::size_t i = 0; i < hi.block_size; ++i)
                pad[i] = static_cast<unsigned char>(k[i] ^ 0x5c);
            m.outer_ = md_state(h);
            m.outer_.update(pad.data(), hi.block_size);
            OPENSSL_cleanse(k.data(), k.size());
            OPENSSL_cleanse(pad.data(), pad.size());
            m.work_ = m.inner_;
            return m;
        }
        std::size_t output_size() const noexcept { return size_; }
        void update(bytes_view in) noexcept { work_.update(in.data(), in.size()); }
        void final(mutable_bytes out) noexcept {
            std::array<unsigned char, openssl_detail::max_digest> d{};
            work_.final(d.data());
            openssl_detail::md_state o = outer_;
            o.update(d.data(), size_);
            o.final(d.data());
            std::copy_n(d.data(), std::min(out.size(), size_), openssl_detail::u8(out));
            OPENSSL_cleanse(d.data(), d.size());
            work_ = inner_;
        }

      private:
        mac() = default;
        openssl_detail::md_state inner_, outer_, work_;
        std::size_t size_ = 0;
    };

    /// A runtime-selected digest. MD5/SHA-1/SHA-2 allocate nothing per
    /// message; MD4 (legacy provider, EVP) costs one malloc per message.
    class hash {
      public:
        /// Errors: unsupported_algorithm (MD4 without the legacy provider),
        /// backend_failure.
        static result<hash> make(hash_id id) noexcept {
            using namespace openssl_detail;
            hash h;
            h.id_ = id;
            h.size_ = info(id).digest_size;
            if (md_state::supported(id)) {
                h.state_ = md_state(id);
                return h;
            }
            const EVP_MD* md = fetch_md4();
            if (md == nullptr) return errc::unsupported_algorithm;
            h.evp_.reset(EVP_MD_CTX_new());
            if (!h.evp_ || EVP_DigestInit_ex2(h.evp_.get(), md, nullptr) != 1)
                return errc::backend_failure;
            return h;
        }
        std::size_t output_size() const noexcept { return size_; }
        void update(bytes_view in) noexcept {
            if (evp_) {
                if (!in.empty()) EVP_DigestUpdate(evp_.get(), in.data(), in.size());
                return;
            }
            state_.update(in.data(), in.size());
        }
        void final(mutable_bytes out) noexcept {
            std::array<unsigned char, openssl_detail::max_digest> d{};
            if (evp_) {
                unsigned n = 0;
                EVP_DigestFinal_ex(evp_.get(), d.data(), &n);
                EVP_DigestInit_ex2(evp_.get(), nullptr, nullptr);
            } else {
                state_.final(d.data());
                state_.init();
            }
            std::copy_n(d.data(), std::min(out.size(), size_), openssl_detail::u8(out));
        }

      private:
        hash() = default;
        hash_id id_ = hash_id::sha256;
        std::size_t size_ = 0;
        openssl_detail::md_state state_;
        openssl_detail::md_ctx_ptr evp_;
    };

    /// A raw block cipher (DES for MS-CHAPv2 from the legacy provider, AES),
    /// one block at a time, ECB contexts keyed once per direction.
    class block_cipher {
      public:
        /// Errors: invalid_key_length, unsupported_algorithm (DES without the
        /// legacy provider), backend_failure.
        static result<block_cipher> make(block_cipher_id id, bytes_view key) noexcept {
            using namespace openssl_detail;
            if (key.size() != info(id).key_size) return errc::invalid_key_length;
            const EVP_CIPHER* c = fetch(id);
            if (c == nullptr) return errc::unsupported_algorithm;
            block_cipher b;
            b.enc_ = keyed_ctx(c, key, true);
            b.dec_ = keyed_ctx(c, key, false);
            if (!b.enc_ || !b.dec_) return errc::backend_failure;
            b.block_ = info(id).block_size;
            return b;
        }
        std::size_t block_size() const noexcept { return block_; }
        bool encrypt_block(bytes_view in, mutable_bytes out) noexcept {
            return run(enc_.get(), in, out);
        }
        bool decrypt_block(bytes_view in, mutable_bytes out) noexcept {
            return run(dec_.get(), in, out);
        }

      private:
        block_cipher() = default;
        bool run(EVP_CIPHER_CTX* c, bytes_view in, mutable_bytes out) const noexcept {
            using namespace openssl_detail;
            if (c == nullptr || in.size() != block_ || out.size() < block_) return false;
            std::array<unsigned char, 16> blk{};
            std::copy_n(u8(in), block_, blk.data());  // in and out may alias
            int n = 0;
            if (EVP_CipherUpdate(c, blk.data(), &n, blk.data(), static_cast<int>(block_)) != 1 ||
                static_cast<std::size_t>(n) != block_)
                return false;
            std::copy_n(blk.data(), block_, u8(out));
            return true;
        }
        openssl_detail::cipher_ctx_ptr enc_, dec_;
        std::size_t block_ = 0;
    };

    /// OpenSSL's private DRBG (RAND_priv_bytes), seeded from the operating
    /// system by OpenSSL itself: nothing to seed, nothing to copy. Move-only
    /// like every random source (a copy would suggest a repeated stream).
    class random {
      public:
        random() noexcept = default;
        random(random&&) noexcept = default;
        random& operator=(random&&) noexcept = default;
        random(const random&) = delete;
        random& operator=(const random&) = delete;
        /// False when OpenSSL's DRBG fails (e.g. no entropy): refuse to go on.
        bool fill(mutable_bytes out) noexcept {
            if (out.empty()) return true;
            if (!openssl_detail::fits_int(out.size())) return false;
            return RAND_priv_bytes(openssl_detail::u8(out), static_cast<int>(out.size())) == 1;
        }
    };

    static result<aead> make_aead(aead_id id, bytes_view key) noexcept {
        return aead::make(id, key);
    }
    static result<cipher> make_cipher(cipher_id id, bytes_view key) noexcept {
        return cipher::make(id, key);
    }
    static result<mac> make_mac(mac_id id, bytes_view key) noexcept { return mac::make(id, key); }
    static result<hash> make_hash(hash_id id) noexcept { return hash::make(id); }
    static result<block_cipher> make_block_cipher(block_cipher_id id, bytes_view key) noexcept {
        return block_cipher::make(id, key);
    }
};

static_assert(backend<openssl>, "crypto::openssl offers the whole crypto seam");
static_assert(dh_backend<openssl>, "crypto::openssl offers DH/ECDH key agreement");

}  // namespace l2sec::crypto
