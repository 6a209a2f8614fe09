// The IKEv2 Encrypted and Authenticated payload (SK, RFC 7296 §3.14) and its
// fragments (SKF, RFC 7383 §2.5): AES-CBC + HMAC, and AES-GCM / ChaCha20-
// Poly1305 (RFC 5282, RFC 7634). One sk_protect per direction, keyed once
// (SK_ei/SK_ai for messages the original initiator sends, SK_er/SK_ar for the
// responder's); open() and seal() work in place in the caller's buffer and do
// not allocate.
//
//   auto rx = v2::sk_protect<B>::make(info, keys.er, keys.ar);
//   auto pt = rx->open(datagram);             // verifies, decrypts in place
//   for (auto& p : pt->payloads()) ...        // IDr, AUTH, SA, TSi, TSr...
//
//   message_builder b(buf, hdr);
//   auto sk = v2::begin_sk(b, iv);            // SK header + IV
//   chain_writer inner(b.out(), sk.next_at);  // inner payloads, in the clear
//   inner.begin(payload_type::idi); ...; inner.end();
//   auto n = tx->seal(b, sk);                 // pad, encrypt, ICV, lengths
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/ike/error.hpp>
#include <l2sec/ike/fragment_slots.hpp>
#include <l2sec/ike/message.hpp>
#include <l2sec/ike/v2/keys.hpp>
#include <l2sec/ike/v2/payloads.hpp>

#include <array>
#include <optional>

namespace l2sec::ike::v2 {

/// The decrypted content of an SK/SKF payload.
struct sk_plaintext {
    std::uint8_t first = 0;      ///< the first inner payload type (SK next field)
    bytes_view data;             ///< inner payloads (SK) or fragment content (SKF)
    std::size_t offset = 0;      ///< absolute offset of data in the message
    std::uint16_t fragment = 0;  ///< SKF: fragment number (0 for SK)
    std::uint16_t total = 0;     ///< SKF: total fragments

    payload_range payloads() const noexcept { return parse_v2_inner(data, first, offset); }
};

/// Where begin_sk() put the SK payload in a builder.
struct sk_scope {
    std::size_t next_at = 0;  ///< the SK payload's next field (first inner type)
    std::size_t iv_at = 0;
    std::size_t plain_at = 0;  ///< first byte of the inner payloads
};

/// Start an SK payload: generic header and the IV (info.iv_size bytes from
/// the caller's random source; for AEAD the 8-byte explicit IV).
inline sk_scope begin_sk(message_builder& b, bytes_view iv, bool critical = false) noexcept {
    b.begin(payload_type::sk, critical);
    sk_scope s;
    s.next_at = b.out().size() - payload::header_size;
    s.iv_at = b.out().size();
    b.out().bytes(iv);
    s.plain_at = b.out().size();
    return s;
}

/// Start an SKF payload (RFC 7383 §2.5): fragment number and total, then the
/// IV. Write this fragment's share of the inner payloads in the clear, then
/// seal() it like an SK payload. Only fragment 1 names the first inner
/// payload: pass it as `first_inner` (ignored for the others, which carry 0).
inline sk_scope begin_skf(message_builder& b, std::uint16_t number, std::uint16_t total,
                          std::uint8_t first_inner, bytes_view iv) noexcept {
    b.begin(payload_type::skf);
    sk_scope s;
    s.next_at = b.out().size() - payload::header_size;
    b.chain().set_last_next(number == 1 ? first_inner : 0);
    b.out().u16(number);
    b.out().u16(total);
    s.iv_at = b.out().size();
    b.out().bytes(iv);
    s.plain_at = b.out().size();
    return s;
}

/// The most inner-payload bytes one SKF fragment of a message of at most
/// `max_message` bytes (IKE header included) can carry with this suite:
/// header 28, SKF header 8, IV, ciphertext (padded to the block, one pad
/// length byte), ICV. 0 when nothing fits.
constexpr std::size_t skf_max_plain(const suite_info& info, std::size_t max_message) noexcept {
    const std::size_t fixed =
        header::size + payload::header_size + 4 + info.iv_size + info.icv_size;
    if (max_message <= fixed + 1) return 0;
    std::size_t ct = max_message - fixed;
    if (info.block_size > 1) ct -= ct % info.block_size;
    return ct > 1 ? ct - 1 : 0;
}

/// Split an inner payload chain (already encoded, e.g. by chain_writer into a
/// scratch buffer) into fragments of at most `max_plain` bytes each and build
/// one sealed SKF message per fragment in `scratch`, handing each to
/// `emit(number, total, message)`. Every fragment gets its own IV from
/// `next_iv(mutable_bytes)` (false: crypto_failure): with AES-GCM a repeated
/// IV under one key would give the keystream and the GHASH key away.
/// Returns the number of fragments; errors: invalid_argument (max_plain 0),
/// too_many_fragments, buffer_too_small (a fragment larger than scratch),
/// crypto_failure.
template <class Protect, class IvSource, class Emit>
result<std::size_t> fragment_and_seal(Protect& tx, const header& h, std::uint8_t first_inner,
                                      bytes_view inner, std::size_t max_plain, IvSource&& next_iv,
                                      mutable_bytes scratch, Emit&& emit) noexcept {
    if (max_plain == 0) return error(l2sec::errc::invalid_argument, 0, "SKF fragment size");
    const std::size_t total = inner.empty() ? 1 : (inner.size() + max_plain - 1) / max_plain;
    if (total > 0xffff) return error(errc::too_many_fragments, 0, "SKF total");
    const std::size_t ivn = tx.info().iv_size;
    for (std::size_t i = 0; i < total; ++i) {
        std::array<std::byte, 16> iv{};
        if (ivn > iv.size() || !next_iv(mutable_bytes(iv.data(), ivn)))
            return error(errc::crypto_failure, 0, "SKF IV");
        message_builder b(scratch, h);
        auto sk = begin_skf(b, static_cast<std::uint16_t>(i + 1), static_cast<std::uint16_t>(total),
                            first_inner, bytes_view(iv.data(), ivn));
        auto part = inner.subspan(i * max_plain);
        b.out().bytes(part.first(part.size() < max_plain ? part.size() : max_plain));
        auto n = tx.seal(b, sk);
        if (!n) return n.error();
        emit(static_cast<std::uint16_t>(i + 1), static_cast<std::uint16_t>(total),
             bytes_view(scratch.data(), *n));
    }
    return total;
}

template <crypto::datapath_backend B>
class sk_protect {
  public:
    static result<sk_protect> make(const suite_info& info, bytes_view sk_e,
                                   bytes_view sk_a) noexcept {
        sk_protect p;
        p.info_ = info;
        if (sk_e.size() != info.encr_key_size) return error(errc::bad_field, 0, "SK_e length");
        if (info.aead) {
            auto k = sk_e.first(sk_e.size() - info.salt_size);
            auto a = B::make_aead(info.aead_alg, k);
            if (!a) return error(errc::unsupported_algorithm, 0, "SK AEAD");
            p.aead_.emplace(std::move(*a));
            copy_to(p.salt_, sk_e.subspan(k.size()));
        } else {
            if (sk_a.size() != info.integ_key_size) return error(errc::bad_field, 0, "SK_a length");
            auto c = B::make_cipher(info.cipher, sk_e);
            if (!c) return error(errc::unsupported_algorithm, 0, "SK cipher");
            auto m = B::make_mac(info.integ_mac, sk_a);
            if (!m) return error(errc::unsupported_algorithm, 0, "SK integrity");
            p.cipher_.emplace(std::move(*c));
            p.mac_.emplace(std::move(*m));
        }
        return p;
    }

    const suite_info& info() const noexcept { return info_; }

    /// Verify and decrypt the SK or SKF payload (the last payload) of a whole
    /// message, in place. `base`: absolute offset of message[0] for errors.
    result<sk_plaintext> open(mutable_bytes message, std::size_t base = 0) noexcept {
        auto m = parse(message, base);
        if (!m) return m.error();
        payload last{};
        bool any = false;
        for (const auto& p : m->payloads())
            last = p, any = true;
        if (!any || (last.kind() != payload_type::sk && last.kind() != payload_type::skf))
            return error(errc::not_encrypted, base + header::size, "SK payload");
        sk_plaintext out;
        out.first = last.next;
        std::size_t enc_at = last.body_offset() - base;  // relative to message
        std::size_t enc_len = last.body.size();
        if (last.kind() == payload_type::skf) {
            auto f = skf::parse(last);
            if (!f) return f.error();
            out.fragment = f->number;
            out.total = f->total;
            enc_at += 4;
            enc_len -= 4;
        }
        const std::size_t icv = info_.icv_size, ivs = info_.iv_size;
        if (enc_len < ivs + icv + 1) return error(errc::truncated, base + enc_at, "SK payload");
        const std::size_t ct_at = enc_at + ivs, ct_len = enc_len - ivs - icv;
        auto iv = bytes_view(message).subspan(enc_at, ivs);
        auto ct = message.subspan(ct_at, ct_len);
        auto tag = bytes_view(message).subspan(ct_at + ct_len, icv);
        if (info_.aead) {
            std::array<std::byte, 12> nonce{};
            copy_to(nonce, salt_);
            copy_to(mutable_bytes(nonce).subspan(4), iv);
            if (!aead_->open(nonce, bytes_view(message).first(enc_at), ct, tag))
                return error(errc::integrity_check_failed, base + ct_at + ct_len, "SK ICV");
        } else {
            std::array<std::byte, 64> mac{};
            mac_->update(bytes_view(message).first(ct_at + ct_len));
            mac_->final(mutable_bytes(mac.data(), icv));
            if (!crypto::constant_time_equal(bytes_view(mac.data(), icv), tag))
                return error(errc::integrity_check_failed, base + ct_at + ct_len, "SK ICV");
            if (ct_len % info_.block_size != 0)
                return error(errc::bad_block_size, base + ct_at, "SK ciphertext");
            if (!cipher_->decrypt(iv, ct)) return error(errc::crypto_failure, base + ct_at, "SK");
        }
        const std::size_t pad = std::to_integer<std::size_t>(ct[ct_len - 1]);
        if (pad + 1 > ct_len)
            return error(errc::bad_padding, base + ct_at + ct_len - 1, "SK pad length");
        out.data = bytes_view(ct.data(), ct_len - pad - 1);
        out.offset = base + ct_at;
        return out;
    }

    /// Finish a message begun with begin_sk(): pad, reserve the ICV, patch the
    /// lengths, encrypt the inner payloads in place and write the ICV.
    result<std::size_t> seal(message_builder& b, const sk_scope& s) noexcept {
        writer& w = b.out();
        const std::size_t plain = w.size() - s.plain_at;
        std::size_t pad = 0;
        if (info_.block_size > 1)
            pad = (info_.block_size - (plain + 1) % info_.block_size) % info_.block_size;
        w.fill(pad);
        w.u8(static_cast<std::uint8_t>(pad));
        const std::size_t ct_len = w.size() - s.plain_at;
        w.fill(info_.icv_size);
        b.end();
        auto n = b.finish();
        if (!n) return n;
        auto msg = w.written();
        auto iv = bytes_view(msg).subspan(s.iv_at, info_.iv_size);
        auto ct = msg.subspan(s.plain_at, ct_len);
        auto tag = msg.subspan(s.plain_at + ct_len, info_.icv_size);
        if (info_.aead) {
            std::array<std::byte, 12> nonce{};
            copy_to(nonce, salt_);
            copy_to(mutable_bytes(nonce).subspan(4), iv);
            if (!aead_->seal(nonce, bytes_view(msg).first(s.iv_at), ct, tag))
                return error(errc::crypto_failure, s.plain_at, "SK seal");
        } else {
            if (!cipher_->encrypt(iv, ct))
                return error(errc::crypto_failure, s.plain_at, "SK seal");
            mac_->update(bytes_view(msg).first(s.plain_at + ct_len));
            mac_->final(tag);
        }
        return n;
    }

  private:
    sk_protect() = default;
    suite_info info_{};
    std::optional<typename B::aead> aead_;
    std::optional<typename B::cipher> cipher_;
    std::optional<typename B::mac> mac_;
    std::array<std::byte, 4> salt_{};
};

/// Reassembles the decrypted contents of SKF fragments (RFC 7383 §2.6) into a
/// caller buffer. Capacity is a template parameter: Windows sends more than
/// 16 fragments, so the default is 128. Fragments may arrive in any order;
/// duplicates are ignored.
template <std::size_t MaxFragments = 128>
class fragment_reassembler {
  public:
    explicit fragment_reassembler(mutable_bytes storage) noexcept : slots_(storage) {}

    /// Add one decrypted fragment. Returns true once all have arrived.
    result<bool> add(const sk_plaintext& f) noexcept {
        if (f.fragment == 0 || f.total == 0 || f.fragment > f.total)
            return error(errc::fragment_mismatch, f.offset, "SKF fragment number");
        if (f.total > MaxFragments) return error(errc::too_many_fragments, f.offset, "SKF total");
        if (total_ == 0) total_ = f.total;
        if (f.total != total_) return error(errc::fragment_mismatch, f.offset, "SKF total");
        if (f.fragment == 1) first_ = f.first;
        if (auto ok = slots_.store(f.fragment, f.data, f.offset, "SKF reassembly buffer"); !ok)
            return ok.error();
        return slots_.received() == total_;
    }
    bool complete() const noexcept { return total_ != 0 && slots_.received() == total_; }
    /// The Total Fragments of the message being reassembled (0: none yet).
    std::uint16_t total() const noexcept { return total_; }
    std::size_t received() const noexcept { return slots_.received(); }

    /// Put the fragments in order into `out`; the inner payload chain.
    result<sk_plaintext> assemble(mutable_bytes out) const noexcept {
        if (!complete()) return error(errc::fragment_mismatch, 0, "SKF incomplete");
        auto data = slots_.concat(total_, out, "SKF");
        if (!data) return data.error();
        sk_plaintext p;
        p.first = first_;
        p.data = *data;
        return p;
    }
    void reset() noexcept { *this = fragment_reassembler(slots_.storage()); }

  private:
    fragment_slots<MaxFragments> slots_;
    std::uint16_t total_ = 0;
    std::uint8_t first_ = 0;
};

}  // namespace l2sec::ike::v2
