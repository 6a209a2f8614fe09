// IKEv2 key schedule (RFC 7296 §2.13-2.17, RFC 5282 §7.1):
//   SKEYSEED = prf(Ni | Nr, g^ir)
//   {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
//   AUTH (PSK) = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)
//   CHILD_SA KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr)
// The negotiated algorithms are a `suite`; describe() gives key/IV/ICV sizes.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/algorithms.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/ike/error.hpp>
#include <l2sec/ike/prf.hpp>
#include <l2sec/ike/registry.hpp>

#include <array>
#include <cstdint>
#include <string_view>

namespace l2sec::ike::v2 {

/// The negotiated transforms of an IKE SA (or of an ESP CHILD_SA).
struct suite {
    encr_id encr = encr_id::aes_cbc;
    std::uint16_t key_bits = 128;
    prf_id prf = prf_id::hmac_sha2_256;
    integ_id integ = integ_id::hmac_sha2_256_128;  ///< none for AEAD
};

/// Sizes and backend algorithms of a suite.
struct suite_info {
    bool aead = false;
    crypto::cipher_id cipher{};
    crypto::aead_id aead_alg{};
    std::size_t encr_key_size = 0;  ///< SK_e size (AEAD: key + 4-byte salt)
    std::size_t salt_size = 0;
    std::size_t iv_size = 0;     ///< per-message IV in the SK payload
    std::size_t block_size = 0;  ///< padding alignment (1 for AEAD... padded to 1)
    std::size_t icv_size = 0;    ///< ICV / AEAD tag
    crypto::mac_id integ_mac{};
    std::size_t integ_key_size = 0;
    crypto::mac_id prf_mac{};
    std::size_t prf_size = 0;
};

/// Sizes for a suite, or unsupported_algorithm.
inline result<suite_info> describe(const suite& s) noexcept {
    suite_info i;
    if (!prf_mac(s.prf, i.prf_mac)) return error(errc::unsupported_algorithm, 0, "PRF");
    i.prf_size = crypto::info(i.prf_mac).output_size;
    switch (s.encr) {
        case encr_id::aes_cbc:
            if (!crypto::aes_cbc_for_key_bits(s.key_bits, i.cipher))
                return error(errc::unsupported_algorithm, 0, "ENCR key length");
            i.encr_key_size = s.key_bits / 8u;
            i.iv_size = 16;
            i.block_size = 16;
            break;
        case encr_id::aes_gcm_16:
            if (s.key_bits != 128 && s.key_bits != 256)
                return error(errc::unsupported_algorithm, 0, "ENCR key length");
            i.aead = true;
            i.aead_alg =
                s.key_bits == 128 ? crypto::aead_id::aes128_gcm : crypto::aead_id::aes256_gcm;
            i.salt_size = 4;
            i.encr_key_size = s.key_bits / 8u + 4;
            i.iv_size = 8;
            i.block_size = 1;
            i.icv_size = 16;
            break;
        case encr_id::chacha20_poly1305:  // RFC 7634
            i.aead = true;
            i.aead_alg = crypto::aead_id::chacha20_poly1305;
            i.salt_size = 4;
            i.encr_key_size = 36;
            i.iv_size = 8;
            i.block_size = 1;
            i.icv_size = 16;
            break;
        default:
            return error(errc::unsupported_algorithm, 0, "ENCR");
    }
    if (!i.aead) {
        switch (s.integ) {
            case integ_id::hmac_sha1_96:
                i.integ_mac = crypto::mac_id::hmac_sha1, i.integ_key_size = 20, i.icv_size = 12;
                break;
            case integ_id::hmac_md5_96:
                i.integ_mac = crypto::mac_id::hmac_md5, i.integ_key_size = 16, i.icv_size = 12;
                break;
            case integ_id::hmac_sha2_256_128:
                i.integ_mac = crypto::mac_id::hmac_sha256, i.integ_key_size = 32, i.icv_size = 16;
                break;
            case integ_id::hmac_sha2_384_192:
                i.integ_mac = crypto::mac_id::hmac_sha384, i.integ_key_size = 48, i.icv_size = 24;
                break;
            case integ_id::hmac_sha2_512_256:
                i.integ_mac = crypto::mac_id::hmac_sha512, i.integ_key_size = 64, i.icv_size = 32;
                break;
            default:
                return error(errc::unsupported_algorithm, 0, "INTEG");
        }
    }
    return i;
}

/// Parse a suite from names as strongSwan/Wireshark users write them:
/// "aes128-cbc", "aes256-cbc", "aes128-gcm", "aes256-gcm" (16-byte ICV);
/// integrity "hmac-sha1-96", "hmac-sha256-128", "hmac-sha384-192",
/// "hmac-sha512-256", "none". The PRF defaults to the integrity's hash
/// (SHA-256 for AEAD suites) and only matters for the key schedule.
inline bool parse_suite(std::string_view enc, std::string_view integ, suite& out) noexcept {
    suite s;
    if (enc == "aes128-cbc")
        s.encr = encr_id::aes_cbc, s.key_bits = 128;
    else if (enc == "aes192-cbc")
        s.encr = encr_id::aes_cbc, s.key_bits = 192;
    else if (enc == "aes256-cbc")
        s.encr = encr_id::aes_cbc, s.key_bits = 256;
    else if (enc == "aes128-gcm" || enc == "aes128-gcm16")
        s.encr = encr_id::aes_gcm_16, s.key_bits = 128;
    else if (enc == "aes256-gcm" || enc == "aes256-gcm16")
        s.encr = encr_id::aes_gcm_16, s.key_bits = 256;
    else
        return false;
    if (integ == "hmac-sha1-96")
        s.integ = integ_id::hmac_sha1_96, s.prf = prf_id::hmac_sha1;
    else if (integ == "hmac-sha256-128")
        s.integ = integ_id::hmac_sha2_256_128, s.prf = prf_id::hmac_sha2_256;
    else if (integ == "hmac-sha384-192")
        s.integ = integ_id::hmac_sha2_384_192, s.prf = prf_id::hmac_sha2_384;
    else if (integ == "hmac-sha512-256")
        s.integ = integ_id::hmac_sha2_512_256, s.prf = prf_id::hmac_sha2_512;
    else if (integ == "none" || integ.empty())
        s.integ = integ_id::none;
    else
        return false;
    if (s.encr == encr_id::aes_cbc && s.integ == integ_id::none) return false;
    out = s;
    return true;
}

/// The seven keys of an IKE SA.
struct ike_sa_keys {
    key d, ai, ar, ei, er, pi, pr;
};

/// SKEYSEED = prf(Ni | Nr, g^ir).
template <crypto::datapath_backend B>
result<key> skeyseed(const suite_info& s, bytes_view ni, bytes_view nr, bytes_view g_ir) noexcept {
    std::array<std::byte, 512> k{};
    if (ni.size() + nr.size() > k.size()) return error(errc::bad_field, 0, "nonce length");
    copy_to(k, ni);
    copy_to(mutable_bytes(k).subspan(ni.size()), nr);
    return prf<B>(s.prf_mac, bytes_view(k.data(), ni.size() + nr.size()), {g_ir});
}

/// SKEYSEED for a rekeyed IKE SA: prf(SK_d (old), g^ir (new) | Ni | Nr).
template <crypto::datapath_backend B>
result<key> rekey_skeyseed(const suite_info& s, bytes_view old_sk_d, bytes_view g_ir, bytes_view ni,
                           bytes_view nr) noexcept {
    return prf<B>(s.prf_mac, old_sk_d, {g_ir, ni, nr});
}

/// {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
template <crypto::datapath_backend B>
result<ike_sa_keys> derive_ike_sa_keys(const suite_info& s, bytes_view seed, bytes_view ni,
                                       bytes_view nr, std::uint64_t spi_i,
                                       std::uint64_t spi_r) noexcept {
    std::array<std::byte, 16> spis{};
    store_be64(spis.data(), spi_i);
    store_be64(spis.data() + 8, spi_r);
    const std::size_t sizes[7] = {s.prf_size,      s.integ_key_size, s.integ_key_size,
                                  s.encr_key_size, s.encr_key_size,  s.prf_size,
                                  s.prf_size};
    std::size_t total = 0;
    for (auto z : sizes) {
        if (z > key::capacity) return error(errc::unsupported_algorithm, 0, "key size");
        total += z;
    }
    std::array<std::byte, 7 * key::capacity> km{};
    const bytes_view parts[3] = {ni, nr, bytes_view(spis)};
    if (auto ok = prf_plus<B>(s.prf_mac, seed, parts, mutable_bytes(km.data(), total)); !ok)
        return ok.error();
    ike_sa_keys out;
    key* dst[7] = {&out.d, &out.ai, &out.ar, &out.ei, &out.er, &out.pi, &out.pr};
    std::size_t at = 0;
    for (int i = 0; i < 7; ++i) {
        *dst[i] = key::from(bytes_view(km.data() + at, sizes[i]));
        at += sizes[i];
    }
    crypto::secure_zero(km);
    return out;
}

/// The PSK AUTH value (RFC 7296 §2.15): prf(prf(psk, "Key Pad for IKEv2"),
/// real_message | peer_nonce | prf(SK_p, id_body)). For the initiator:
/// its IKE_SA_INIT request, Nr, SK_pi, IDi body; for the responder: its
/// IKE_SA_INIT response, Ni, SK_pr, IDr body. id_body = the ID payload without
/// its generic header (type, reserved, data).
template <crypto::datapath_backend B>
result<key> psk_auth(const suite_info& s, bytes_view psk, bytes_view real_message,
                     bytes_view peer_nonce, bytes_view sk_p, bytes_view id_body) noexcept {
    static constexpr char pad[] = "Key Pad for IKEv2";
    auto maced_id = prf<B>(s.prf_mac, sk_p, {id_body});
    if (!maced_id) return maced_id.error();
    auto k = prf<B>(s.prf_mac, psk, {as_bytes(std::string_view(pad, sizeof pad - 1))});
    if (!k) return k.error();
    return prf<B>(s.prf_mac, k->view(), {real_message, peer_nonce, maced_id->view()});
}

/// CHILD_SA keys (RFC 7296 §2.17): initiator-to-responder encryption then
/// integrity key, then responder-to-initiator.
struct child_sa_keys {
    key ei, ai, er, ar;
};

/// KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr), split by the CHILD_SA's suite
/// (`child`: its ENCR/INTEG sizes; `ike`: the IKE SA's PRF).
template <crypto::datapath_backend B>
result<child_sa_keys> derive_child_sa_keys(const suite_info& ike, const suite_info& child,
                                           bytes_view sk_d, bytes_view ni, bytes_view nr,
                                           bytes_view g_ir = {}) noexcept {
    const std::size_t e = child.encr_key_size, a = child.aead ? 0 : child.integ_key_size;
    std::array<std::byte, 4 * key::capacity> km{};
    const std::size_t total = 2 * (e + a);
    const bytes_view parts[3] = {g_ir, ni, nr};
    if (auto ok = prf_plus<B>(ike.prf_mac, sk_d, parts, mutable_bytes(km.data(), total)); !ok)
        return ok.error();
    child_sa_keys out;
    out.ei = key::from(bytes_view(km.data(), e));
    out.ai = key::from(bytes_view(km.data() + e, a));
    out.er = key::from(bytes_view(km.data() + e + a, e));
    out.ar = key::from(bytes_view(km.data() + 2 * e + a, a));
    crypto::secure_zero(km);
    return out;
}

}  // namespace l2sec::ike::v2
