// Botan implementation of the key-agreement seam (crypto/dh.hpp): MODP groups
// 2/5/14/15, ECP-256/384 and Curve25519 with IKE's encodings. Botan 2 or 3.
// Key pairs are made once per exchange (this allocates); agree() works on the
// caller's buffer.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/dh.hpp>
#include <l2sec/crypto/error.hpp>

#include <botan/auto_rng.h>
#include <botan/bigint.h>
#include <botan/curve25519.h>
#include <botan/dh.h>
#include <botan/dl_group.h>
#include <botan/ec_group.h>
#include <botan/ecdh.h>
#include <botan/pubkey.h>
#include <botan/version.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace l2sec::crypto {

struct botan_dh {
    class key_exchange {
      public:
        dh_id group() const noexcept { return group_; }
        bytes_view public_value() const noexcept {
            return bytes_view(public_.data(), info(group_).public_size);
        }

        result<std::size_t> agree(bytes_view peer, mutable_bytes out) noexcept {
            const auto gi = info(group_);
            if (peer.size() != gi.public_size) return errc::invalid_input_length;
            if (out.size() < gi.shared_size) return errc::invalid_input_length;
            try {
                std::array<std::uint8_t, max_dh_public_size + 1> in{};
                std::size_t n = 0;
                if (gi.elliptic && group_ != dh_id::curve25519) in[n++] = 0x04;
                for (auto b : peer)
                    in[n++] = std::to_integer<std::uint8_t>(b);
                auto s = ka_->derive_key(0, in.data(), n).bits_of();
                if (s.size() > gi.shared_size) return errc::backend_failure;
                // Left-pad to the full size (MODP: RFC 7296 §2.14).
                std::size_t pad = gi.shared_size - s.size();
                std::fill_n(out.begin(), pad, std::byte{0});
                for (std::size_t i = 0; i < s.size(); ++i)
                    out[pad + i] = std::byte{s[i]};
                return gi.shared_size;
            } catch (...) {
                return errc::invalid_input_length;  // not a valid public value for the group
            }
        }

      private:
        friend struct botan_dh;
        dh_id group_ = dh_id::modp2048;
        std::unique_ptr<Botan::Private_Key> key_;
        std::unique_ptr<Botan::PK_Key_Agreement> ka_;
        std::array<std::byte, max_dh_public_size> public_{};
    };

    static result<key_exchange> make_key_exchange(dh_id g, bytes_view priv = {}) noexcept {
        if (!known(g)) return errc::unsupported_algorithm;
        try {
            static thread_local Botan::AutoSeeded_RNG rng;
            key_exchange k;
            k.group_ = g;
            const auto* p = reinterpret_cast<const std::uint8_t*>(priv.data());
            std::vector<std::uint8_t> pub;
            switch (g) {
                case dh_id::modp1024:
                case dh_id::modp1536:
                case dh_id::modp2048:
                case dh_id::modp3072: {
                    Botan::DL_Group grp(g == dh_id::modp1024   ? "modp/ietf/1024"
                                        : g == dh_id::modp1536 ? "modp/ietf/1536"
                                        : g == dh_id::modp2048 ? "modp/ietf/2048"
                                                               : "modp/ietf/3072");
#if BOTAN_VERSION_MAJOR >= 3
                    auto key = priv.empty() ? std::make_unique<Botan::DH_PrivateKey>(rng, grp)
                                            : std::make_unique<Botan::DH_PrivateKey>(
                                                  grp, Botan::BigInt(p, priv.size()));
#else
                    auto key = std::make_unique<Botan::DH_PrivateKey>(
                        rng, grp, priv.empty() ? Botan::BigInt(0) : Botan::BigInt(p, priv.size()));
#endif
                    pub = key->public_value();
                    k.key_ = std::move(key);
                    break;
                }
                case dh_id::ecp256:
                case dh_id::ecp384: {
                    Botan::EC_Group grp(g == dh_id::ecp256 ? "secp256r1" : "secp384r1");
                    auto key = std::make_unique<Botan::ECDH_PrivateKey>(
                        rng, grp, priv.empty() ? Botan::BigInt(0) : Botan::BigInt(p, priv.size()));
                    pub = key->public_value();  // 0x04 | x | y
                    if (pub.empty() || pub[0] != 0x04) return errc::backend_failure;
                    pub.erase(pub.begin());
                    k.key_ = std::move(key);
                    break;
                }
                case dh_id::curve25519: {
                    std::unique_ptr<Botan::Curve25519_PrivateKey> key;
                    if (priv.empty()) {
                        key = std::make_unique<Botan::Curve25519_PrivateKey>(rng);
                    } else {
                        if (priv.size() != 32) return errc::invalid_key_length;
                        Botan::secure_vector<std::uint8_t> sk(p, p + 32);
                        key = std::make_unique<Botan::Curve25519_PrivateKey>(sk);
                    }
                    pub = key->public_value();
                    k.key_ = std::move(key);
                    break;
                }
            }
            const auto gi = info(g);
            if (pub.size() > gi.public_size) return errc::backend_failure;
            std::size_t pad = gi.public_size - pub.size();
            for (std::size_t i = 0; i < pub.size(); ++i)
                k.public_[pad + i] = std::byte{pub[i]};
            k.ka_ = std::make_unique<Botan::PK_Key_Agreement>(*k.key_, rng, "Raw");
            return k;
        } catch (...) {
            return errc::backend_failure;
        }
    }
};

static_assert(dh_backend<botan_dh>);

}  // namespace l2sec::crypto
