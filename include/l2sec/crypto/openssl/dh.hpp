// OpenSSL 3 implementation of the key-agreement seam (crypto/dh.hpp): MODP
// groups 2/5/14/15 (RFC 2409 / RFC 3526 primes, generator 2), ECP-256/384
// and Curve25519 with IKE's encodings, through EVP_PKEY. A key pair is made
// once per exchange (this allocates, as any key generation does); agree()
// validates the peer's value (range for MODP, on-curve for ECP, a non-zero
// result for X25519) and writes the shared secret to the caller's buffer.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/dh.hpp>
#include <l2sec/crypto/error.hpp>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace l2sec::crypto {

namespace openssl_dh_detail {

struct pkey_free {
    void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
struct pkey_ctx_free {
    void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free>;
struct bn_free {
    void operator()(BIGNUM* b) const noexcept { BN_clear_free(b); }
};
using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;
struct bn_ctx_free {
    void operator()(BN_CTX* c) const noexcept { BN_CTX_free(c); }
};
using bn_ctx_ptr = std::unique_ptr<BN_CTX, bn_ctx_free>;
struct bld_free {
    void operator()(OSSL_PARAM_BLD* b) const noexcept { OSSL_PARAM_BLD_free(b); }
};
using bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, bld_free>;
struct params_free {
    void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
using params_ptr = std::unique_ptr<OSSL_PARAM, params_free>;
struct group_free {
    void operator()(EC_GROUP* g) const noexcept { EC_GROUP_free(g); }
};
using group_ptr = std::unique_ptr<EC_GROUP, group_free>;
struct point_free {
    void operator()(EC_POINT* p) const noexcept { EC_POINT_free(p); }
};
using point_ptr = std::unique_ptr<EC_POINT, point_free>;

inline const unsigned char* u8(bytes_view b) noexcept {
    return reinterpret_cast<const unsigned char*>(b.data());
}

/// The group's prime (a new BIGNUM), for MODP groups.
inline bn_ptr modp_prime(dh_id g) noexcept {
    switch (g) {
        case dh_id::modp1024:
            return bn_ptr(BN_get_rfc2409_prime_1024(nullptr));
        case dh_id::modp1536:
            return bn_ptr(BN_get_rfc3526_prime_1536(nullptr));
        case dh_id::modp2048:
            return bn_ptr(BN_get_rfc3526_prime_2048(nullptr));
        case dh_id::modp3072:
            return bn_ptr(BN_get_rfc3526_prime_3072(nullptr));
        default:
            return {};
    }
}
inline const char* curve_name(dh_id g) noexcept {
    return g == dh_id::ecp256 ? "P-256" : "P-384";
}
inline int curve_nid(dh_id g) noexcept {
    return g == dh_id::ecp256 ? NID_X9_62_prime256v1 : NID_secp384r1;
}

/// EVP_PKEY from OSSL_PARAMs (a key pair or a public key).
inline pkey_ptr from_params(const char* type, OSSL_PARAM* params, int selection) noexcept {
    pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* k = nullptr;
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &k, selection, params) != 1)
        return {};
    return pkey_ptr(k);
}

/// MODP: the key (priv given, pub = 2^priv mod p) or a peer's public key.
inline pkey_ptr modp_key(const BIGNUM* p, const BIGNUM* priv, const BIGNUM* pub) noexcept {
    bn_ptr g(BN_new());
    bld_ptr bld(OSSL_PARAM_BLD_new());
    if (!g || !bld || BN_set_word(g.get(), 2) != 1) return {};
    if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, p) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, g.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub) != 1)
        return {};
    if (priv != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1)
        return {};
    params_ptr params(OSSL_PARAM_BLD_to_param(bld.get()));
    if (!params) return {};
    return from_params("DH", params.get(), priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
}

/// ECP: the key pair (priv given; pub computed) or a peer's public key (0x04|x|y).
inline pkey_ptr ec_key(dh_id grp, const BIGNUM* priv, const unsigned char* pub,
                       std::size_t pub_len) noexcept {
    bld_ptr bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve_name(grp),
                                        0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len) != 1)
        return {};
    if (priv != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1)
        return {};
    params_ptr params(OSSL_PARAM_BLD_to_param(bld.get()));
    if (!params) return {};
    return from_params("EC", params.get(), priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
}

}  // namespace openssl_dh_detail

struct openssl_dh {
    class key_exchange {
      public:
        dh_id group() const noexcept { return group_; }
        bytes_view public_value() const noexcept {
            return bytes_view(public_.data(), info(group_).public_size);
        }

        /// Errors: invalid_input_length (peer value of the wrong size, out of
        /// range, off the curve, or a degenerate X25519 result; `out` too small).
        result<std::size_t> agree(bytes_view peer, mutable_bytes out) noexcept {
            using namespace openssl_dh_detail;
            const auto gi = info(group_);
            if (!key_ || peer.size() != gi.public_size || out.size() < gi.shared_size)
                return errc::invalid_input_length;
            pkey_ptr peer_key;
            switch (group_) {
                case dh_id::curve25519:
                    peer_key.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, u8(peer),
                                                               peer.size()));
                    break;
                case dh_id::ecp256:
                case dh_id::ecp384: {
                    std::array<unsigned char, 2 * 48 + 1> pt{};
                    pt[0] = 0x04;  // IKE omits the uncompressed-point prefix
                    std::copy_n(u8(peer), peer.size(), pt.data() + 1);
                    peer_key = ec_key(group_, nullptr, pt.data(), peer.size() + 1);
                    break;
                }
                default: {
                    bn_ptr p = modp_prime(group_);
                    bn_ptr y(BN_bin2bn(u8(peer), static_cast<int>(peer.size()), nullptr));
                    if (!p || !y) return errc::backend_failure;
                    // 1 < y < p - 1 (RFC 7296 §2.14 leaves it to us; SP 800-56A 5.6.2.3.1)
                    bn_ptr pm1(BN_dup(p.get()));
                    if (!pm1 || BN_sub_word(pm1.get(), 1) != 1) return errc::backend_failure;
                    if (BN_cmp(y.get(), BN_value_one()) <= 0 || BN_cmp(y.get(), pm1.get()) >= 0)
                        return errc::invalid_input_length;
                    peer_key = modp_key(p.get(), nullptr, y.get());
                    break;
                }
            }
            if (!peer_key) return errc::invalid_input_length;
            pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
            if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return errc::backend_failure;
            if (!gi.elliptic && EVP_PKEY_CTX_set_dh_pad(ctx.get(), 1) != 1)
                return errc::backend_failure;
            if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer_key.get(), 1) != 1)
                return errc::invalid_input_length;
            std::array<unsigned char, max_dh_shared_size> s{};
            std::size_t n = s.size();
            if (EVP_PKEY_derive(ctx.get(), s.data(), &n) != 1) return errc::invalid_input_length;
            if (n > gi.shared_size) return errc::backend_failure;
            const std::size_t pad = gi.shared_size - n;  // left-pad (MODP: RFC 7296 §2.14)
            std::fill_n(out.begin(), pad, std::byte{0});
            for (std::size_t i = 0; i < n; ++i)
                out[pad + i] = std::byte{s[i]};
            OPENSSL_cleanse(s.data(), s.size());
            return gi.shared_size;
        }

      private:
        friend struct openssl_dh;
        dh_id group_ = dh_id::modp2048;
        openssl_dh_detail::pkey_ptr key_;
        std::array<std::byte, max_dh_public_size> public_{};
    };

    /// A fresh key pair (private key from OpenSSL's private DRBG), or the
    /// given private key (big-endian; Curve25519: 32 bytes, RFC 7748).
    /// Errors: unsupported_algorithm (unknown group), invalid_key_length
    /// (a given key out of range or of the wrong size), backend_failure.
    static result<key_exchange> make_key_exchange(dh_id g, bytes_view priv = {}) noexcept {
        using namespace openssl_dh_detail;
        if (!known(g)) return errc::unsupported_algorithm;
        const auto gi = info(g);
        key_exchange k;
        k.group_ = g;
        std::array<unsigned char, max_dh_public_size + 1> pub{};
        std::size_t pub_len = 0;
        if (g == dh_id::curve25519) {
            std::array<unsigned char, 32> sk{};
            if (priv.empty()) {
                if (RAND_priv_bytes(sk.data(), 32) != 1) return errc::backend_failure;
            } else {
                if (priv.size() != 32) return errc::invalid_key_length;
                std::copy_n(u8(priv), 32, sk.data());
            }
            k.key_.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, sk.data(), 32));
            OPENSSL_cleanse(sk.data(), sk.size());
            pub_len = 32;
            if (!k.key_ || EVP_PKEY_get_raw_public_key(k.key_.get(), pub.data(), &pub_len) != 1)
                return errc::backend_failure;
        } else if (gi.elliptic) {
            group_ptr grp(EC_GROUP_new_by_curve_name(curve_nid(g)));
            bn_ctx_ptr bctx(BN_CTX_new());
            if (!grp || !bctx) return errc::backend_failure;
            const BIGNUM* order = EC_GROUP_get0_order(grp.get());
            bn_ptr x(BN_secure_new());
            if (!x) return errc::backend_failure;
            if (priv.empty()) {
                do {
                    if (BN_priv_rand_range(x.get(), order) != 1) return errc::backend_failure;
                } while (BN_is_zero(x.get()));
            } else {
                if (priv.size() > gi.shared_size ||
                    !BN_bin2bn(u8(priv), static_cast<int>(priv.size()), x.get()))
                    return errc::invalid_key_length;
                if (BN_is_zero(x.get()) || BN_cmp(x.get(), order) >= 0)
                    return errc::invalid_key_length;
            }
            point_ptr q(EC_POINT_new(grp.get()));
            if (!q || EC_POINT_mul(grp.get(), q.get(), x.get(), nullptr, nullptr, bctx.get()) != 1)
                return errc::backend_failure;
            pub_len = EC_POINT_point2oct(grp.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED,
                                         pub.data(), pub.size(), bctx.get());
            if (pub_len != gi.public_size + 1) return errc::backend_failure;
            k.key_ = ec_key(g, x.get(), pub.data(), pub_len);
            if (!k.key_) return errc::backend_failure;
            // Drop the 0x04 prefix: IKE's KE payload carries x | y (RFC 5903 §7).
            std::copy(pub.begin() + 1, pub.begin() + static_cast<std::ptrdiff_t>(pub_len),
                      pub.begin());
            --pub_len;
        } else {
            bn_ptr p = modp_prime(g);
            bn_ctx_ptr bctx(BN_CTX_new());
            bn_ptr x(BN_secure_new()), y(BN_new()), two(BN_new()), pm1(nullptr);
            if (!p || !bctx || !x || !y || !two || BN_set_word(two.get(), 2) != 1)
                return errc::backend_failure;
            pm1.reset(BN_dup(p.get()));
            if (!pm1 || BN_sub_word(pm1.get(), 1) != 1) return errc::backend_failure;
            if (priv.empty()) {
                do {  // uniform in [2, p - 2]
                    if (BN_priv_rand_range(x.get(), pm1.get()) != 1) return errc::backend_failure;
                } while (BN_cmp(x.get(), BN_value_one()) <= 0);
            } else {
                if (priv.size() > gi.public_size ||
                    !BN_bin2bn(u8(priv), static_cast<int>(priv.size()), x.get()))
                    return errc::invalid_key_length;
                if (BN_cmp(x.get(), BN_value_one()) <= 0 || BN_cmp(x.get(), pm1.get()) >= 0)
                    return errc::invalid_key_length;
            }
            if (BN_mod_exp_mont_consttime(y.get(), two.get(), x.get(), p.get(), bctx.get(),
                                          nullptr) != 1)
                return errc::backend_failure;
            k.key_ = modp_key(p.get(), x.get(), y.get());
            if (!k.key_) return errc::backend_failure;
            if (BN_bn2binpad(y.get(), pub.data(), static_cast<int>(gi.public_size)) < 0)
                return errc::backend_failure;
            pub_len = gi.public_size;
        }
        if (pub_len != gi.public_size) return errc::backend_failure;
        for (std::size_t i = 0; i < pub_len; ++i)
            k.public_[i] = std::byte{pub[i]};
        return k;
    }
};

static_assert(dh_backend<openssl_dh>, "crypto::openssl_dh offers DH/ECDH key agreement");

}  // namespace l2sec::crypto
