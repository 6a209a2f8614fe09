// IKEv1 key derivation and message protection (RFC 2409 §5, Appendix B):
//   SKEYID   = prf(pre-shared-key, Ni_b | Nr_b)
//   SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
//   SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
//   SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
//   Ka       = SKEYID_e, or K1 | K2 | ... with K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1)
//   HASH_I   = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
//   HASH_R   = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
//   IV       = hash(g^xi | g^xr) (phase 1), hash(last phase-1 block | M-ID) (phase 2),
//              then the last ciphertext block of the previous message
//   Quick Mode HASH(1) = prf(SKEYID_a, M-ID | rest), HASH(2) = prf(SKEYID_a, M-ID | Ni_b | rest),
//              HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
//   KEYMAT   = K1 | K2 | ..., K1 = prf(SKEYID_d, [g^xy |] protocol | SPI | Ni_b | Nr_b),
//              Kn = prf(SKEYID_d, Kn-1 | [g^xy |] protocol | SPI | Ni_b | Nr_b)
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/algorithms.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/ike/error.hpp>
#include <l2sec/ike/header.hpp>
#include <l2sec/ike/message.hpp>
#include <l2sec/ike/prf.hpp>
#include <l2sec/ike/registry.hpp>

#include <array>
#include <optional>

namespace l2sec::ike::v1 {

/// The negotiated phase 1 transform (attributes 1, 14 and 2).
struct phase1_suite {
    v1_encr encr = v1_encr::aes_cbc;
    std::uint16_t key_bits = 128;
    v1_hash hash = v1_hash::sha1;
};

struct phase1_info {
    crypto::mac_id prf{};  ///< HMAC of the negotiated hash
    crypto::hash_id hash{};
    crypto::cipher_id cipher{};
    std::size_t key_size = 0;
    std::size_t block_size = 16;
};

inline result<phase1_info> describe(const phase1_suite& s) noexcept {
    phase1_info i;
    switch (s.hash) {
        case v1_hash::md5:
            i.prf = crypto::mac_id::hmac_md5, i.hash = crypto::hash_id::md5;
            break;
        case v1_hash::sha1:
            i.prf = crypto::mac_id::hmac_sha1, i.hash = crypto::hash_id::sha1;
            break;
        case v1_hash::sha2_256:
            i.prf = crypto::mac_id::hmac_sha256, i.hash = crypto::hash_id::sha256;
            break;
        case v1_hash::sha2_384:
            i.prf = crypto::mac_id::hmac_sha384, i.hash = crypto::hash_id::sha384;
            break;
        case v1_hash::sha2_512:
            i.prf = crypto::mac_id::hmac_sha512, i.hash = crypto::hash_id::sha512;
            break;
        default:
            return error(errc::unsupported_algorithm, 0, "hash algorithm");
    }
    if (s.encr != v1_encr::aes_cbc)
        return error(errc::unsupported_algorithm, 0, "encryption algorithm");
    if (!crypto::aes_cbc_for_key_bits(s.key_bits, i.cipher))
        return error(errc::unsupported_algorithm, 0, "key length");
    i.key_size = s.key_bits / 8u;
    return i;
}

struct phase1_keys {
    key skeyid, d, a, e, ka;
};

/// What Wireshark needs to decrypt an IKE SA's phase 1 and Quick Mode
/// messages (its ikev1_decryption_table): the cookies and Ka, the cipher key
/// (SKEYID_e cut or stretched to the cipher's key length, RFC 2409
/// Appendix B). For key logging only (engine::key_material): a view into
/// the SA's slot, valid until the next call into the engine; do not keep it.
struct phase1_key_material {
    std::uint64_t cky_i = 0, cky_r = 0;
    bytes_view encryption_key;  ///< Ka
};

/// A CBC IV (the block size of the negotiated cipher).
struct iv {
    std::array<std::byte, 16> bytes{};
    std::size_t size = 16;
    bytes_view view() const noexcept { return bytes_view(bytes.data(), size); }
};

/// SKEYID for pre-shared key authentication.
template <crypto::backend B>
result<key> skeyid_psk(const phase1_info& s, bytes_view psk, bytes_view ni_b,
                       bytes_view nr_b) noexcept {
    return prf<B>(s.prf, psk, {ni_b, nr_b});
}

/// SKEYID_d/a/e and the encryption key Ka, from SKEYID.
template <crypto::backend B>
result<phase1_keys> derive_phase1(const phase1_info& s, const key& skeyid, bytes_view g_xy,
                                  std::uint64_t cky_i, std::uint64_t cky_r) noexcept {
    std::array<std::byte, 16> ck{};
    store_be64(ck.data(), cky_i);
    store_be64(ck.data() + 8, cky_r);
    const std::byte n0{0}, n1{1}, n2{2};
    phase1_keys k;
    k.skeyid = skeyid;
    auto d = prf<B>(s.prf, skeyid, {g_xy, ck, bytes_view(&n0, 1)});
    if (!d) return d.error();
    k.d = *d;
    auto a = prf<B>(s.prf, skeyid, {k.d, g_xy, ck, bytes_view(&n1, 1)});
    if (!a) return a.error();
    k.a = *a;
    auto e = prf<B>(s.prf, skeyid, {k.a, g_xy, ck, bytes_view(&n2, 1)});
    if (!e) return e.error();
    k.e = *e;
    if (k.e.size >= s.key_size) {
        k.ka = key::from(k.e.view().first(s.key_size));
    } else {  // RFC 2409 Appendix B
        std::array<std::byte, 2 * key::capacity> buf{};
        std::size_t have = 0;
        key prev;
        const std::byte zero{0};
        while (have < s.key_size) {
            auto kn =
                have == 0 ? prf<B>(s.prf, k.e, {bytes_view(&zero, 1)}) : prf<B>(s.prf, k.e, {prev});
            if (!kn) return kn.error();
            prev = *kn;
            copy_to(mutable_bytes(buf).subspan(have), prev.view());
            have += prev.size;
        }
        k.ka = key::from(bytes_view(buf.data(), s.key_size));
    }
    return k;
}

/// HASH_I (initiator = true) or HASH_R. `sai_b`: the initiator's SA payload
/// body; `id_b`: the sender's ID payload body (both without generic header).
template <crypto::backend B>
result<key> phase1_hash(const phase1_info& s, const key& skeyid, bool initiator, bytes_view g_xi,
                        bytes_view g_xr, std::uint64_t cky_i, std::uint64_t cky_r, bytes_view sai_b,
                        bytes_view id_b) noexcept {
    std::array<std::byte, 16> ck{};
    store_be64(ck.data(), initiator ? cky_i : cky_r);
    store_be64(ck.data() + 8, initiator ? cky_r : cky_i);
    if (initiator) return prf<B>(s.prf, skeyid, {g_xi, g_xr, ck, sai_b, id_b});
    return prf<B>(s.prf, skeyid, {g_xr, g_xi, ck, sai_b, id_b});
}

template <crypto::backend B>
result<iv> hash_iv(const phase1_info& s, bytes_view a, bytes_view b) noexcept {
    auto h = B::make_hash(s.hash);
    if (!h) return error(errc::crypto_failure, 0, "IV hash");
    std::array<std::byte, 64> d{};
    h->update(a);
    h->update(b);
    h->final(mutable_bytes(d.data(), h->output_size()));
    iv out;
    out.size = s.block_size;
    copy_to(out.bytes, bytes_view(d.data(), s.block_size));
    return out;
}

/// Phase 1 IV: hash(g^xi | g^xr).
template <crypto::backend B>
result<iv> phase1_iv(const phase1_info& s, bytes_view g_xi, bytes_view g_xr) noexcept {
    return hash_iv<B>(s, g_xi, g_xr);
}

/// Phase 2 / informational IV: hash(last phase-1 CBC block | M-ID).
template <crypto::backend B>
result<iv> phase2_iv(const phase1_info& s, const iv& last_phase1_block,
                     std::uint32_t message_id) noexcept {
    std::array<std::byte, 4> mid{};
    store_be32(mid.data(), message_id);
    return hash_iv<B>(s, last_phase1_block.view(), mid);
}

/// Quick Mode HASH(1) / informational HASH: prf(SKEYID_a, M-ID | rest), where
/// `rest` is the message after the HASH payload (generic headers included).
template <crypto::backend B>
result<key> qm_hash1(const phase1_info& s, const key& skeyid_a, std::uint32_t message_id,
                     bytes_view rest) noexcept {
    std::array<std::byte, 4> mid{};
    store_be32(mid.data(), message_id);
    return prf<B>(s.prf, skeyid_a, {mid, rest});
}
/// Quick Mode HASH(2): prf(SKEYID_a, M-ID | Ni_b | rest).
template <crypto::backend B>
result<key> qm_hash2(const phase1_info& s, const key& skeyid_a, std::uint32_t message_id,
                     bytes_view ni_b, bytes_view rest) noexcept {
    std::array<std::byte, 4> mid{};
    store_be32(mid.data(), message_id);
    return prf<B>(s.prf, skeyid_a, {mid, ni_b, rest});
}
/// Quick Mode HASH(3): prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b).
template <crypto::backend B>
result<key> qm_hash3(const phase1_info& s, const key& skeyid_a, std::uint32_t message_id,
                     bytes_view ni_b, bytes_view nr_b) noexcept {
    std::array<std::byte, 5> mid{};
    store_be32(mid.data() + 1, message_id);
    return prf<B>(s.prf, skeyid_a, {mid, ni_b, nr_b});
}

/// KEYMAT for one SA direction (the SPI is the receiver's), `out.size()` bytes:
/// encryption key then integrity key.
template <crypto::backend B>
result<void> keymat(const phase1_info& s, const key& skeyid_d, std::uint8_t protocol,
                    std::uint32_t spi, bytes_view ni_b, bytes_view nr_b, mutable_bytes out,
                    bytes_view g_xy = {}) noexcept {
    std::array<std::byte, 5> ps{};
    ps[0] = std::byte{protocol};
    store_be32(ps.data() + 1, spi);
    key prev;
    std::size_t have = 0;
    while (have < out.size()) {
        auto k = prf<B>(s.prf, skeyid_d, {prev.view(), g_xy, ps, ni_b, nr_b});
        if (!k) return k.error();
        prev = *k;
        std::size_t take = out.size() - have < prev.size ? out.size() - have : prev.size;
        copy_to(out.subspan(have), prev.view().first(take));
        have += take;
    }
    return {};
}

/// CBC protection of IKEv1 messages after the key exchange: the body after the
/// header is encrypted, padded to the block size; the IV chains from message
/// to message (the caller keeps one `iv` per exchange: phase 1, and one per
/// Quick Mode / informational M-ID).
template <crypto::backend B>
class message_crypto {
  public:
    static result<message_crypto> make(const phase1_info& s, bytes_view ka) noexcept {
        auto c = B::make_cipher(s.cipher, ka);
        if (!c) return error(errc::unsupported_algorithm, 0, "IKEv1 cipher");
        message_crypto m;
        m.block_ = s.block_size;
        m.c_.emplace(std::move(*c));
        return m;
    }

    /// Decrypt a whole message with the E flag in place; `v` becomes the last
    /// ciphertext block. The payload chain allows the trailing padding.
    result<payload_range> decrypt(mutable_bytes message, iv& v, std::size_t base = 0) noexcept {
        auto m = parse(message, base);
        if (!m) return m.error();
        if (!m->header().encrypted()) return error(errc::not_encrypted, base + 19, "IKEv1 E flag");
        auto body = message.subspan(header::size);
        if (body.size() % block_ != 0 || body.empty())
            return error(errc::bad_block_size, base + header::size, "IKEv1 encrypted body");
        iv next;
        next.size = block_;
        copy_to(next.bytes, bytes_view(body).last(block_));
        if (!c_->decrypt(v.view(), body))
            return error(errc::crypto_failure, base + header::size, "IKEv1");
        v = next;
        return parse_v1_plaintext(body, m->header().next_payload, base + header::size);
    }

    /// Encrypt a message built in the clear (header with the E flag, payloads)
    /// in place: pads with zeros to the block size (the buffer must have room),
    /// patches the length, encrypts, and advances `v`. Returns the new size.
    result<std::size_t> encrypt(mutable_bytes buffer, std::size_t message_size, iv& v) noexcept {
        if (message_size < header::size) return error(errc::truncated, 0, "IKEv1 message");
        std::size_t body = message_size - header::size;
        std::size_t padded = (body + block_ - 1) / block_ * block_;
        if (padded == 0) padded = block_;
        if (header::size + padded > buffer.size())
            return error(l2sec::errc::buffer_too_small, message_size, "IKEv1 padding");
        std::fill(buffer.begin() + static_cast<std::ptrdiff_t>(message_size),
                  buffer.begin() + static_cast<std::ptrdiff_t>(header::size + padded),
                  std::byte{0});
        buffer[19] |= std::byte{flag::encrypted};
        store_be32(buffer.data() + 24, static_cast<std::uint32_t>(header::size + padded));
        auto b = buffer.subspan(header::size, padded);
        if (!c_->encrypt(v.view(), b)) return error(errc::crypto_failure, header::size, "IKEv1");
        copy_to(v.bytes, bytes_view(b).last(block_));
        v.size = block_;
        return header::size + padded;
    }

  private:
    message_crypto() = default;
    std::optional<typename B::cipher> c_;
    std::size_t block_ = 16;
};

}  // namespace l2sec::ike::v1
