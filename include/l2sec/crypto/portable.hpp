// crypto::portable: a crypto backend with no dependency beyond the standard
// library and the operating system's random generator, for builds without a
// crypto library. It offers what L2TP and PPP need: digests (MD4, MD5,
// SHA-1, SHA-256), HMAC over them, single-block DES (MS-CHAPv2) and the
// OS's CSPRNG. It satisfies crypto::auth_backend, not datapath_backend (no
// AES, no AEAD: ESP and IKE need a real crypto library).
//
// Not constant-time-audited: the code is straightforward and checked against
// the standards' vectors (the same suites the Botan backend passes), but
// nobody has reviewed it for timing or cache side channels. Prefer
// crypto::botan (or another audited library) wherever one can be linked.
//
//   using P = l2sec::crypto::portable;
//   auto md5 = P::make_hash(crypto::hash_id::md5);          // once
//   l2tp::engine<P> lns(cfg, P::random{});                   // engines take it as their policy
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/algorithms.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/detail/os_random.hpp>
#include <l2sec/crypto/detail/portable_des.hpp>
#include <l2sec/crypto/detail/portable_digests.hpp>
#include <l2sec/crypto/detail/portable_hmac.hpp>
#include <l2sec/crypto/error.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <variant>

namespace l2sec::crypto {

struct portable {
    /// A digest chosen at run time: MD4, MD5, SHA-1 or SHA-256.
    class hash {
      public:
        static result<hash> make(hash_id id) noexcept {
            switch (id) {
                case hash_id::md4:
                    return hash(detail::md4{});
                case hash_id::md5:
                    return hash(detail::md5{});
                case hash_id::sha1:
                    return hash(detail::sha1{});
                case hash_id::sha256:
                    return hash(detail::sha256{});
                default:
                    return errc::unsupported_algorithm;
            }
        }
        std::size_t output_size() const noexcept {
            return std::visit([](const auto& h) { return h.digest_size; }, h_);
        }
        void update(bytes_view in) noexcept {
            std::visit([&](auto& h) { h.update(in); }, h_);
        }
        void final(mutable_bytes out) noexcept {
            std::visit(
                [&](auto& h) {
                    std::array<std::byte, std::remove_reference_t<decltype(h)>::digest_size> d{};
                    h.final(d);
                    std::copy_n(d.begin(), std::min(out.size(), d.size()), out.begin());
                },
                h_);
        }

      private:
        using any = std::variant<detail::md4, detail::md5, detail::sha1, detail::sha256>;
        explicit hash(any h) noexcept : h_(h) {}
        any h_;
    };

    /// HMAC-MD5, HMAC-SHA1, HMAC-SHA256, keyed once; final() truncates to `out`.
    class mac {
      public:
        static result<mac> make(mac_id id, bytes_view key) noexcept {
            switch (id) {
                case mac_id::hmac_md5:
                    return mac(detail::hmac<detail::md5>(key));
                case mac_id::hmac_sha1:
                    return mac(detail::hmac<detail::sha1>(key));
                case mac_id::hmac_sha256:
                    return mac(detail::hmac<detail::sha256>(key));
                default:
                    return errc::unsupported_algorithm;
            }
        }
        std::size_t output_size() const noexcept {
            return std::visit([](const auto& m) { return m.output_size(); }, m_);
        }
        void update(bytes_view in) noexcept {
            std::visit([&](auto& m) { m.update(in); }, m_);
        }
        void final(mutable_bytes out) noexcept {
            std::visit([&](auto& m) { m.final(out); }, m_);
        }

      private:
        using any = std::variant<detail::hmac<detail::md5>, detail::hmac<detail::sha1>,
                                 detail::hmac<detail::sha256>>;
        explicit mac(any m) noexcept : m_(m) {}
        any m_;
    };

    /// Single-block DES (the only block cipher MS-CHAPv2 needs).
    class block_cipher {
      public:
        static result<block_cipher> make(block_cipher_id id, bytes_view key) noexcept {
            if (id != block_cipher_id::des) return errc::unsupported_algorithm;
            if (key.size() != detail::des::key_size) return errc::invalid_key_length;
            return block_cipher(detail::des(key));
        }
        static constexpr std::size_t block_size() noexcept { return detail::des::block_size; }
        bool encrypt_block(bytes_view in, mutable_bytes out) noexcept {
            if (in.size() != 8 || out.size() < 8) return false;
            store_be64(out.data(), des_.encrypt(load_be64(in.data())));
            return true;
        }
        bool decrypt_block(bytes_view in, mutable_bytes out) noexcept {
            if (in.size() != 8 || out.size() < 8) return false;
            store_be64(out.data(), des_.decrypt(load_be64(in.data())));
            return true;
        }

      private:
        explicit block_cipher(const detail::des& d) noexcept : des_(d) {}
        detail::des des_;
    };

    /// The operating system's CSPRNG (getrandom / arc4random_buf). Stateless,
    /// so nothing to seed; move-only like every random source.
    class random {
      public:
        random() noexcept = default;
        random(random&&) noexcept = default;
        random& operator=(random&&) noexcept = default;
        random(const random&) = delete;
        random& operator=(const random&) = delete;
        bool fill(mutable_bytes out) noexcept { return detail::os_random_fill(out); }
    };

    static result<hash> make_hash(hash_id id) noexcept { return hash::make(id); }
    static result<mac> make_mac(mac_id id, bytes_view key) noexcept { return mac::make(id, key); }
    static result<block_cipher> make_block_cipher(block_cipher_id id, bytes_view key) noexcept {
        return block_cipher::make(id, key);
    }
};

static_assert(auth_backend<portable>, "crypto::portable offers digests and DES for L2TP and PPP");
static_assert(mac_context<portable::mac> && random_source<portable::random>);

}  // namespace l2sec::crypto
