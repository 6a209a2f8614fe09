// The Botan backend (target l2sec::botan): Botan 2 (>= 2.19) or Botan 3.
//
//   using B = l2sec::crypto::botan;
//   static_assert(l2sec::crypto::backend<B>);
//   auto gcm = B::make_aead(crypto::aead_id::aes256_gcm, key);   // key schedule once
//   gcm->seal(nonce, aad, data, tag);                            // per packet, no allocation
//
// Keyed contexts wrap one Botan object each, created once. The per-message
// paths avoid Botan's allocating calls: bulk data goes through process() in
// place; only the sub-granularity tail and the tag pass through a
// secure_vector whose capacity is reserved up front, so finish() never grows
// it. Exceptions from Botan never escape: failures come back as false / errc.
// A failed AEAD open costs a C++ exception inside Botan (its only way to
// report a bad tag); the datapath's cost for valid packets is unaffected.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/warm.hpp>
#include <l2sec/crypto/algorithms.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/error.hpp>

#include <l2sec/crypto/botan/dh.hpp>  // DH/ECDH (crypto/dh.hpp seam), inherited below

#include <botan/aead.h>
#include <botan/auto_rng.h>
#include <botan/block_cipher.h>
#include <botan/cipher_mode.h>
#include <botan/hash.h>
#include <botan/mac.h>
#include <botan/version.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>

namespace l2sec::crypto {

namespace botan_detail {

inline const std::uint8_t* u8(bytes_view b) noexcept {
    return reinterpret_cast<const std::uint8_t*>(b.data());
}
inline std::uint8_t* u8(mutable_bytes b) noexcept {
    return reinterpret_cast<std::uint8_t*>(b.data());
}

#if BOTAN_VERSION_MAJOR >= 3
inline constexpr auto encrypt_dir = Botan::Cipher_Dir::Encryption;
inline constexpr auto decrypt_dir = Botan::Cipher_Dir::Decryption;
#else
inline constexpr auto encrypt_dir = Botan::ENCRYPTION;
inline constexpr auto decrypt_dir = Botan::DECRYPTION;
#endif

inline const char* aead_name(aead_id a) noexcept {
    switch (a) {
        case aead_id::aes128_gcm:
            return "AES-128/GCM";
        case aead_id::aes256_gcm:
            return "AES-256/GCM";
        case aead_id::chacha20_poly1305:
            return "ChaCha20Poly1305";
    }
    return "";
}
inline const char* cipher_name(cipher_id c) noexcept {
    switch (c) {
        case cipher_id::aes128_cbc:
            return "AES-128/CBC/NoPadding";
        case cipher_id::aes192_cbc:
            return "AES-192/CBC/NoPadding";
        case cipher_id::aes256_cbc:
            return "AES-256/CBC/NoPadding";
        case cipher_id::des_cbc:
            return "DES/CBC/NoPadding";
        case cipher_id::tdes_cbc:
            return "TripleDES/CBC/NoPadding";
    }
    return "";
}
inline const char* mac_name(mac_id m) noexcept {
    switch (m) {
        case mac_id::hmac_md5:
            return "HMAC(MD5)";
        case mac_id::hmac_sha1:
            return "HMAC(SHA-1)";
        case mac_id::hmac_sha256:
            return "HMAC(SHA-256)";
        case mac_id::hmac_sha384:
            return "HMAC(SHA-384)";
        case mac_id::hmac_sha512:
            return "HMAC(SHA-512)";
    }
    return "";
}
inline const char* hash_name(hash_id h) noexcept {
    switch (h) {
        case hash_id::md4:
            return "MD4";
        case hash_id::md5:
            return "MD5";
        case hash_id::sha1:
            return "SHA-1";
        case hash_id::sha256:
            return "SHA-256";
        case hash_id::sha384:
            return "SHA-384";
        case hash_id::sha512:
            return "SHA-512";
    }
    return "";
}
inline const char* block_cipher_name(block_cipher_id b) noexcept {
    switch (b) {
        case block_cipher_id::des:
            return "DES";
        case block_cipher_id::aes128:
            return "AES-128";
        case block_cipher_id::aes256:
            return "AES-256";
    }
    return "";
}

}  // namespace botan_detail

/// The Botan crypto backend: a policy type for esp::sa, IKE and the engines,
/// and the DH/ECDH backend (`botan::make_key_exchange`, crypto::dh_backend).
struct botan : botan_dh {
    /// AES-GCM / ChaCha20-Poly1305 keyed once; seal/open in place, tag apart.
    class aead {
      public:
        static result<aead> make(aead_id id, bytes_view key) noexcept {
            using namespace botan_detail;
            if (key.size() != info(id).key_size) return errc::invalid_key_length;
            try {
                aead a;
                a.enc_ = Botan::AEAD_Mode::create(aead_name(id), encrypt_dir);
                a.dec_ = Botan::AEAD_Mode::create(aead_name(id), decrypt_dir);
                if (!a.enc_ || !a.dec_) return errc::unsupported_algorithm;
                a.enc_->set_key(u8(key), key.size());
                a.dec_->set_key(u8(key), key.size());
                a.enc_gran_ = std::max<std::size_t>(1, a.enc_->update_granularity());
                a.dec_gran_ = std::max<std::size_t>(1, a.dec_->update_granularity());
                a.scratch_.reserve(std::max(a.enc_gran_, a.dec_gran_) + 2 * tag_len + 64);
                a.warm_up();
                return a;
            } catch (...) {
                return errc::backend_failure;
            }
        }

        static constexpr std::size_t tag_size() noexcept { return tag_len; }

        bool seal(bytes_view nonce, bytes_view aad, mutable_bytes data,
                  mutable_bytes tag) noexcept {
            using namespace botan_detail;
            if (!enc_ || tag.size() != tag_len) return false;
            try {
                enc_->set_associated_data(u8(aad), aad.size());
                enc_->start(u8(nonce), nonce.size());
                std::size_t bulk = data.size() - data.size() % enc_gran_;
                if (bulk) enc_->process(u8(data), bulk);
                auto tail = data.subspan(bulk);
                scratch_.resize(tail.size());
                std::copy_n(u8(tail), tail.size(), scratch_.data());
                enc_->finish(scratch_, 0);
                if (scratch_.size() != tail.size() + tag_len) return false;
                std::copy_n(scratch_.data(), tail.size(), u8(tail));
                std::copy_n(scratch_.data() + tail.size(), tag_len, u8(tag));
                return true;
            } catch (...) {
                enc_->reset();
                return false;
            }
        }

        bool open(bytes_view nonce, bytes_view aad, mutable_bytes data, bytes_view tag) noexcept {
            using namespace botan_detail;
            if (!dec_ || tag.size() != tag_len) return false;
            try {
                dec_->set_associated_data(u8(aad), aad.size());
                dec_->start(u8(nonce), nonce.size());
                std::size_t bulk = data.size() - data.size() % dec_gran_;
                if (bulk) dec_->process(u8(data), bulk);
                auto tail = data.subspan(bulk);
                scratch_.resize(tail.size() + tag_len);
                std::copy_n(u8(tail), tail.size(), scratch_.data());
                std::copy_n(u8(tag), tag_len, scratch_.data() + tail.size());
                dec_->finish(scratch_, 0);  // throws on a bad tag
                if (scratch_.size() != tail.size()) return false;
                std::copy_n(scratch_.data(), tail.size(), u8(tail));
                return true;
            } catch (...) {
                dec_->reset();
                return false;
            }
        }

        /// Before open(): load the head of the decryption mode object
        /// (core/warm.hpp); Botan's key schedule lies further behind it.
        void warm_open() const noexcept {
            if (dec_) l2sec::warm(dec_.get());
        }

      private:
        static constexpr std::size_t tag_len = 16;
        aead() = default;
        // One throw-away message in each direction, so that Botan sizes its
        // internal buffers (nonce, AD up to 256 bytes) now rather than on the
        // first packet. Its output is discarded.
        void warm_up() {
            std::array<std::byte, 256> ad{};
            std::array<std::byte, 12> nonce{};
            std::array<std::byte, 16> tag{};
            std::array<std::byte, 80> data{};
            (void)seal(nonce, ad, data, tag);
            (void)open(nonce, ad, data, tag);
        }
        std::unique_ptr<Botan::AEAD_Mode> enc_, dec_;
        Botan::secure_vector<std::uint8_t> scratch_;
        std::size_t enc_gran_ = 1, dec_gran_ = 1;
    };

    /// AES-CBC without padding, keyed once.
    class cipher {
      public:
        static result<cipher> make(cipher_id id, bytes_view key) noexcept {
            using namespace botan_detail;
            if (key.size() != info(id).key_size) return errc::invalid_key_length;
            try {
                cipher c;
                c.enc_ = Botan::Cipher_Mode::create(cipher_name(id), encrypt_dir);
                c.dec_ = Botan::Cipher_Mode::create(cipher_name(id), decrypt_dir);
                if (!c.enc_ || !c.dec_) return errc::unsupported_algorithm;
                c.enc_->set_key(u8(key), key.size());
                c.dec_->set_key(u8(key), key.size());
                c.block_ = info(id).block_size;
                // Size Botan's IV state and work buffers now, not on the first packet.
                std::array<std::byte, 16> iv{};
                std::array<std::byte, 256> data{};
                (void)c.encrypt(bytes_view(iv).first(c.block_), data);
                (void)c.decrypt(bytes_view(iv).first(c.block_), data);
                return c;
            } catch (...) {
                return errc::backend_failure;
            }
        }
        std::size_t block_size() const noexcept { return block_; }
        bool encrypt(bytes_view iv, mutable_bytes data) noexcept { return run(*enc_, iv, data); }
        bool decrypt(bytes_view iv, mutable_bytes data) noexcept { return run(*dec_, iv, data); }

      private:
        cipher() = default;
        bool run(Botan::Cipher_Mode& m, bytes_view iv, mutable_bytes data) noexcept {
            using namespace botan_detail;
            if (iv.size() != block_ || data.size() % block_ != 0) return false;
            try {
                m.start(u8(iv), iv.size());
                if (!data.empty()) m.process(u8(data), data.size());
                return true;
            } catch (...) {
                m.reset();
                return false;
            }
        }
        std::unique_ptr<Botan::Cipher_Mode> enc_, dec_;
        std::size_t block_ = 16;
    };

    /// HMAC, keyed once; final() truncates to the span it is given.
    class mac {
      public:
        static result<mac> make(mac_id id, bytes_view key) noexcept {
            using namespace botan_detail;
            try {
                mac m;
                m.m_ = Botan::MessageAuthenticationCode::create(mac_name(id));
                if (!m.m_) return errc::unsupported_algorithm;
                m.m_->set_key(u8(key), key.size());
                m.size_ = m.m_->output_length();
                return m;
            } catch (...) {
                return errc::backend_failure;
            }
        }
        std::size_t output_size() const noexcept { return size_; }
        void update(bytes_view in) noexcept { m_->update(botan_detail::u8(in), in.size()); }
        void final(mutable_bytes out) noexcept {
            if (out.size() >= size_) {
                m_->final(botan_detail::u8(out));
                return;
            }
            std::array<std::uint8_t, 64> full{};
            m_->final(full.data());
            std::copy_n(full.data(), out.size(), botan_detail::u8(out));
        }

      private:
        mac() = default;
        std::unique_ptr<Botan::MessageAuthenticationCode> m_;
        std::size_t size_ = 0;
    };

    /// A runtime-selected digest.
    class hash {
      public:
        static result<hash> make(hash_id id) noexcept {
            try {
                hash h;
                h.h_ = Botan::HashFunction::create(botan_detail::hash_name(id));
                if (!h.h_) return errc::unsupported_algorithm;
                h.size_ = h.h_->output_length();
                return h;
            } catch (...) {
                return errc::backend_failure;
            }
        }
        std::size_t output_size() const noexcept { return size_; }
        void update(bytes_view in) noexcept { h_->update(botan_detail::u8(in), in.size()); }
        void final(mutable_bytes out) noexcept {
            std::array<std::uint8_t, 64> full{};
            h_->final(full.data());
            std::copy_n(full.data(), std::min(out.size(), size_), botan_detail::u8(out));
        }

      private:
        hash() = default;
        std::unique_ptr<Botan::HashFunction> h_;
        std::size_t size_ = 0;
    };

    /// A raw block cipher (DES for MS-CHAPv2, AES), one block at a time.
    class block_cipher {
      public:
        static result<block_cipher> make(block_cipher_id id, bytes_view key) noexcept {
            if (key.size() != info(id).key_size) return errc::invalid_key_length;
            try {
                block_cipher b;
                b.c_ = Botan::BlockCipher::create(botan_detail::block_cipher_name(id));
                if (!b.c_) return errc::unsupported_algorithm;
                b.c_->set_key(botan_detail::u8(key), key.size());
                b.block_ = b.c_->block_size();
                return b;
            } catch (...) {
                return errc::backend_failure;
            }
        }
        std::size_t block_size() const noexcept { return block_; }
        bool encrypt_block(bytes_view in, mutable_bytes out) noexcept {
            if (in.size() != block_ || out.size() < block_) return false;
            copy_to(out, in);
            c_->encrypt(botan_detail::u8(out));
            return true;
        }
        bool decrypt_block(bytes_view in, mutable_bytes out) noexcept {
            if (in.size() != block_ || out.size() < block_) return false;
            copy_to(out, in);
            c_->decrypt(botan_detail::u8(out));
            return true;
        }

      private:
        block_cipher() = default;
        std::unique_ptr<Botan::BlockCipher> c_;
        std::size_t block_ = 0;
    };

    /// Botan's auto-seeded DRBG (HMAC_DRBG seeded from the system's entropy
    /// source when constructed: there is no seed to give). Move-only.
    class random {
      public:
        random() : rng_(std::make_unique<Botan::AutoSeeded_RNG>()) {}
        random(random&&) noexcept = default;
        random& operator=(random&&) noexcept = default;
        random(const random&) = delete;
        random& operator=(const random&) = delete;
        bool fill(mutable_bytes out) noexcept {
            try {
                rng_->randomize(botan_detail::u8(out), out.size());
                return true;
            } catch (...) {
                return false;
            }
        }

      private:
        std::unique_ptr<Botan::AutoSeeded_RNG> rng_;
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

static_assert(backend<botan>, "crypto::botan offers the whole crypto seam");
static_assert(dh_backend<botan>, "crypto::botan offers DH/ECDH key agreement");

}  // namespace l2sec::crypto
