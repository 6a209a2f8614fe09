// An ESP security association (RFC 4303): outbound protect and inbound
// unprotect, in place, over any crypto backend.
//
//   esp::sa_config cfg;
//   cfg.spi = 0x1000;
//   cfg.algorithms = *esp::parse_suite("aes256-gcm");
//   cfg.enc_key = keymat;                        // 32-byte key + 4-byte salt
//   auto out = esp::sa<crypto::botan>::make(cfg, rng);   // rng: the caller's random source
//   auto pkt = out->protect(buf, 64, len, esp::proto::udp);   // payload at buf[64..64+len)
//   auto in  = peer->unprotect(*pkt);            // in->payload, in->next_header, in->seq
//
// protect() writes the ESP header and IV into the headroom before the payload
// and the padding, trailer and ICV into the tailroom after it, and returns the
// whole ESP packet (a span of the same buffer). unprotect() checks the SPI,
// the anti-replay window (before any crypto), the ICV (constant time), then
// decrypts, checks the padding, and only then records the sequence number.
// A packet that fails leaves the SA exactly as it was. Keyed crypto contexts
// are created once in make(); per packet nothing is allocated.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/warm.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/esp/algorithms.hpp>
#include <l2sec/esp/error.hpp>
#include <l2sec/esp/packet.hpp>
#include <l2sec/esp/replay_window.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

namespace l2sec::esp {

/// Transport mode protects an upper-layer payload; tunnel mode a whole IP
/// packet. The datapath is the same; the IP helpers (esp/ip.hpp) differ.
enum class mode : unsigned char { transport, tunnel };

struct sa_config {
    std::uint32_t spi = 0;
    suite algorithms{};
    bytes_view enc_key;    ///< encryption keying material (AEAD: key followed by the 4-byte salt)
    bytes_view integ_key;  ///< integrity key (empty for AEADs)
    bool esn = false;      ///< 64-bit extended sequence numbers (RFC 4303 2.2.1)
    esp::mode mode = esp::mode::transport;
    std::size_t replay_window = 128;  ///< packets; 0 disables anti-replay; capped at MaxWindow
    std::uint64_t initial_seq = 0;    ///< outbound: the last number used (the next packet gets +1)
};

/// What unprotect() found.
struct inbound_packet {
    mutable_bytes payload;  ///< decrypted payload, inside the caller's buffer
    std::uint8_t next_header =
        0;  ///< proto::udp, proto::ipv4, ... (proto::none: dummy packet, drop it)
    std::uint8_t pad_length = 0;
    std::uint64_t seq = 0;  ///< full (ESN-extended) sequence number
};

template <class Crypto, std::size_t MaxWindow = 4096>
class alignas(64) sa {
    static_assert(crypto::datapath_backend<Crypto>,
                  "esp::sa needs a crypto backend with AEAD, CBC and HMAC contexts "
                  "(crypto::datapath_backend), such as crypto::botan");

  public:
    using backend_type = Crypto;

    /// Validate `c` and key the crypto contexts once. A CBC suite draws its
    /// per-SA IV prefix from `random` (borrowed for this call only: the SA
    /// keeps no generator); other suites draw nothing. Errors: invalid_config
    /// (field named: key size, keys, window, initial sequence),
    /// crypto_failure (the random source failed).
    template <class Random>
    static result<sa> make(const sa_config& c, Random& random) noexcept {
        static_assert(crypto::random_source<Random>,
                      "esp::sa::make draws the CBC IV prefix from a crypto::random_source");
        const suite& s = c.algorithms;
        sa x;
        x.cfg_spi_ = c.spi;
        x.suite_ = s;
        x.esn_ = c.esn;
        x.mode_ = c.mode;
        x.seq_ = c.initial_seq;
        x.window_ = replay_window<MaxWindow>(c.replay_window);
        if (c.replay_window > MaxWindow) return error(errc::invalid_config, 0, "replay window");
        if (!c.esn && c.initial_seq > 0xffffffffu)
            return error(errc::invalid_config, 0, "initial sequence");
        x.iv_ = esp::iv_size(s.enc);
        x.block_ = block_size(s.enc);
        if (is_aead(s.enc)) {
            if (s.integ != integrity::none)
                return error(errc::invalid_config, 0, "integrity with AEAD");
            crypto::aead_id id;
            if (s.enc == encryption::chacha20_poly1305) {
                if (s.enc_key_size != 32) return error(errc::invalid_config, 0, "key size");
                id = crypto::aead_id::chacha20_poly1305;
            } else if (s.enc_key_size == 16) {
                id = crypto::aead_id::aes128_gcm;
            } else if (s.enc_key_size == 32) {
                id = crypto::aead_id::aes256_gcm;
            } else {
                return error(errc::invalid_config, 0, "key size");
            }
            if (c.enc_key.size() != s.enc_key_size + aead_salt_size)
                return error(errc::invalid_config, 0, "encryption key");
            auto a = Crypto::make_aead(id, c.enc_key.first(s.enc_key_size));
            if (!a) return error(errc::invalid_config, 0, "encryption key");
            x.aead_.emplace(std::move(*a));
            std::copy_n(c.enc_key.begin() + static_cast<std::ptrdiff_t>(s.enc_key_size),
                        aead_salt_size, x.salt_.begin());
            x.icv_ = 16;
            return x;
        }
        auto mid = mac_for(s.integ);
        if (!mid) return error(errc::invalid_config, 0, "integrity algorithm");
        if (c.integ_key.size() != integrity_key_size(s.integ))
            return error(errc::invalid_config, 0, "integrity key");
        auto m = Crypto::make_mac(*mid, c.integ_key);
        if (!m) return error(errc::invalid_config, 0, "integrity key");
        x.mac_.emplace(std::move(*m));
        x.icv_ = esp::icv_size(s.integ);
        if (is_cbc(s.enc)) {
            crypto::cipher_id id{};
            if (!cbc_cipher_for(s.enc, s.enc_key_size, id))
                return error(errc::invalid_config, 0, "key size");
            if (c.enc_key.size() != s.enc_key_size)
                return error(errc::invalid_config, 0, "encryption key");
            auto ci = Crypto::make_cipher(id, c.enc_key);
            if (!ci) return error(errc::invalid_config, 0, "encryption key");
            x.cipher_.emplace(std::move(*ci));
            if (!random.fill(x.iv_prefix_)) return error(errc::crypto_failure, 0, "IV prefix");
        } else if (s.enc != encryption::null) {
            return error(errc::invalid_config, 0, "encryption algorithm");
        }
        return x;
    }
    /// make(c, random) with a fresh instance of the backend's own CSPRNG
    /// (`Crypto::random`, e.g. Botan's system-seeded DRBG).
    static result<sa> make(
        const sa_config& c) noexcept requires std::default_initializable<typename Crypto::random> {
        typename Crypto::random random;
        return make(c, random);
    }

    std::uint32_t spi() const noexcept { return cfg_spi_; }
    const suite& algorithms() const noexcept { return suite_; }
    esp::mode mode() const noexcept { return mode_; }
    bool esn() const noexcept { return esn_; }
    /// Bytes protect() needs before the payload: ESP header + IV.
    std::size_t headroom() const noexcept { return header_size + iv_; }
    /// Bytes protect() needs after a payload of `len` bytes: padding, trailer, ICV.
    std::size_t tailroom(std::size_t len) const noexcept {
        return padding_for(len, block_) + trailer_size + icv_;
    }
    /// The most tailroom any payload needs.
    std::size_t max_tailroom() const noexcept {
        return (block_ < 4 ? 3 : block_ - 1) + trailer_size + icv_;
    }
    std::size_t icv_size() const noexcept { return icv_; }
    std::size_t iv_size() const noexcept { return iv_; }
    /// Last outbound sequence number used.
    std::uint64_t last_sequence() const noexcept { return seq_; }
    /// True once the sequence space is used up: protect() refuses, the SA must be rekeyed.
    bool exhausted() const noexcept { return seq_ == max_seq(); }
    const replay_window<MaxWindow>& window() const noexcept { return window_; }

    /// Protect the payload buf[offset, offset + len) in place. The ESP packet
    /// starts headroom() bytes before the payload; returns it.
    result<mutable_bytes> protect(mutable_bytes buf, std::size_t offset, std::size_t len,
                                  std::uint8_t next_header) noexcept {
        if (offset > buf.size() || len > buf.size() - offset)
            return error(errc::no_tailroom, buf.size(), "payload");
        if (offset < headroom()) return error(errc::no_headroom, offset, "ESP header");
        std::size_t pad = padding_for(len, block_);
        std::size_t ct_len = len + pad + trailer_size;
        if (buf.size() - offset - len < pad + trailer_size + icv_)
            return error(errc::no_tailroom, offset + len, "ESP trailer");
        if (seq_ == max_seq()) return error(errc::sequence_overflow, 0, "Sequence Number");
        std::uint64_t seq = seq_ + 1;

        std::size_t start = offset - headroom();
        auto pkt = buf.subspan(start, headroom() + ct_len + icv_);
        store_be32(pkt.data(), cfg_spi_);
        store_be32(pkt.data() + 4, static_cast<std::uint32_t>(seq));
        (void)write_trailer(pkt.subspan(headroom() + len), pad, next_header);
        auto ct = pkt.subspan(headroom(), ct_len);
        auto icv = pkt.subspan(headroom() + ct_len, icv_);

        if (aead_) {
            store_be64(pkt.data() + header_size, seq);  // the IV is the sequence number
            auto nonce = make_nonce(pkt.subspan(header_size, 8));
            std::array<std::byte, 12> aad;  // make_aad writes what it returns
            auto a = make_aad(aad, seq);
            if (!aead_->seal(nonce, a, ct, icv)) return error(errc::crypto_failure, 0, "AEAD");
        } else {
            if (cipher_) {
                // Unpredictable IV without a DRBG call per packet (NIST SP
                // 800-38A appendix C): the block cipher under the SA key applied
                // to a unique nonce, a per-SA random prefix and the sequence number.
                // With a 64-bit block (3DES, DES) the nonce is the sequence
                // number XOR the prefix: still unique, so still a permutation.
                auto iv = pkt.subspan(header_size, iv_);
                if (iv_ == 16) {
                    std::copy(iv_prefix_.begin(), iv_prefix_.end(), iv.begin());
                    store_be64(iv.data() + 8, seq);
                } else {
                    store_be64(iv.data(), seq ^ load_be64(iv_prefix_.data()));
                }
                std::array<std::byte, 16> zero{};
                if (!cipher_->encrypt(bytes_view(zero).first(iv_), iv))
                    return error(errc::crypto_failure, 0, "IV");
                if (!cipher_->encrypt(iv, ct)) return error(errc::crypto_failure, 0, "cipher");
            }
            compute_icv(pkt.first(headroom() + ct_len), seq, icv);
        }
        seq_ = seq;
        return pkt;
    }

    /// Verify and decrypt an ESP packet (SPI first) in place.
    result<inbound_packet> unprotect(mutable_bytes pkt) noexcept {
        auto v = parse(pkt, iv_, icv_, block_ > 4 ? block_ : 1);
        if (!v) return v.error();
        if (v->spi != cfg_spi_) return error(errc::spi_mismatch, 0, "SPI");
        std::uint64_t seq = v->seq;
        if (esn_) {
            if (!infer_esn(v->seq, window_.top(), window_.size(), seq))
                return error(errc::too_old, 4, "Sequence Number");
        }
        if (seq == 0) return error(errc::sequence_zero, 4, "Sequence Number");
        switch (window_.check(seq)) {
            case replay_verdict::ok:
                break;
            case replay_verdict::duplicate:
                return error(errc::replayed, 4, "Sequence Number");
            case replay_verdict::too_old:
                return error(errc::too_old, 4, "Sequence Number");
        }
        std::size_t ct_off = headroom();
        std::size_t ct_len = v->ciphertext.size();
        auto ct = pkt.subspan(ct_off, ct_len);
        std::size_t icv_off = ct_off + ct_len;
        if (aead_) {
            auto nonce = make_nonce(v->iv);
            std::array<std::byte, 12> aad{};
            auto a = make_aad(aad, seq);
            if (!aead_->open(nonce, a, ct, v->icv))
                return error(errc::icv_mismatch, icv_off, "ICV");
        } else {
            std::array<std::byte, 64> expect{};
            auto e = mutable_bytes(expect).first(icv_);
            compute_icv(pkt.first(icv_off), seq, e);
            if (!crypto::constant_time_equal(e, v->icv))
                return error(errc::icv_mismatch, icv_off, "ICV");
            if (cipher_ && !cipher_->decrypt(v->iv, ct))
                return error(errc::crypto_failure, ct_off, "cipher");
        }
        auto t = parse_trailer(ct, ct_off);
        if (!t) return t.error();
        window_.update(seq);
        inbound_packet in;
        in.payload = ct.first(t->payload_len);
        in.next_header = t->next_header;
        in.pad_length = t->pad_length;
        in.seq = seq;
        return in;
    }

    /// Before unprotect() of a packet whose header carries `seq` (its low 32
    /// bits), in two passes (core/warm.hpp): pass 0 loads this SA's first
    /// two lines, the window's block for seq and the cipher's handle; pass 1,
    /// reading what pass 0 loaded, the cipher's context behind the handle.
    void warm(std::uint32_t seq, unsigned pass) const noexcept {
        static_assert(sizeof(sa) >= 128, "two lines of the SA are read");
        if (pass == 0) {
            l2sec::warm(this, 2);
            window_.warm(seq);
            l2sec::warm(&aead_);
            return;
        }
        if constexpr (requires(const typename Crypto::aead& a) { a.warm_open(); })
            if (aead_) aead_->warm_open();
    }

    sa(sa&&) noexcept = default;
    sa& operator=(sa&&) noexcept = default;

  private:
    sa() = default;

    std::uint64_t max_seq() const noexcept {
        return esn_ ? std::numeric_limits<std::uint64_t>::max() : std::uint64_t{0xffffffffu};
    }
    std::array<std::byte, 12> make_nonce(bytes_view iv) const noexcept {
        // Salt (4) and IV (8, every AEAD's ESP IV) fill it; fixed-size
        // copies, not byte loops.
        std::array<std::byte, 12> n;
        std::memcpy(n.data(), salt_.data(), 4);
        std::memcpy(n.data() + 4, iv.data(), iv.size() < 8 ? iv.size() : 8);
        return n;
    }
    // RFC 4106 section 5 / RFC 7634 section 2.1: SPI || [seq high] || seq low.
    bytes_view make_aad(std::array<std::byte, 12>& aad, std::uint64_t seq) const noexcept {
        store_be32(aad.data(), cfg_spi_);
        if (esn_) {
            store_be64(aad.data() + 4, seq);
            return bytes_view(aad).first(12);
        }
        store_be32(aad.data() + 4, static_cast<std::uint32_t>(seq));
        return bytes_view(aad).first(8);
    }
    // RFC 4303 3.3.2.2: the ICV covers header, IV and ciphertext, plus the
    // high half of an extended sequence number appended (not transmitted).
    void compute_icv(bytes_view covered, std::uint64_t seq, mutable_bytes icv) noexcept {
        mac_->update(covered);
        if (esn_) {
            std::array<std::byte, 4> hi{};
            store_be32(hi.data(), static_cast<std::uint32_t>(seq >> 32));
            mac_->update(hi);
        }
        mac_->final(icv);
    }

    // What every packet reads first, in the first cache line (the SA is
    // 64-aligned): with thousands of SAs each packet finds its SA cold, and
    // these fields spread over the object cost a miss each. The window's
    // size and top follow them; its bit blocks and the crypto contexts come after.
    std::uint32_t cfg_spi_ = 0;
    std::array<std::byte, 4> salt_{};
    std::size_t iv_ = 0, icv_ = 0, block_ = 4;
    std::uint64_t seq_ = 0;
    bool esn_ = false;
    esp::mode mode_ = esp::mode::transport;
    replay_window<MaxWindow> window_{};
    std::optional<typename Crypto::aead> aead_;
    std::optional<typename Crypto::cipher> cipher_;
    std::optional<typename Crypto::mac> mac_;
    std::array<std::byte, 8> iv_prefix_{};
    suite suite_{};
};

}  // namespace l2sec::esp
