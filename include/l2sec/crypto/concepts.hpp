// The crypto seam: what l2sec needs from a crypto library, as concepts.
//
// A backend is a type with static factories that turn an algorithm identifier
// and a key into a keyed context. Contexts are created once per SA (the key
// schedule runs once) and then reused for every packet: their per-message
// operations work in place over caller buffers and must not allocate.
//
//   auto gcm = B::make_aead(crypto::aead_id::aes256_gcm, key);   // once
//   gcm->seal(nonce, aad, payload, tag);                         // per packet
//
// One seam, a few refinements, each named for who needs it:
//   digest_backend    digests (MD5 for L2TP hidden AVPs, tunnel auth, CHAP)
//   auth_backend      digests + raw block ciphers (MS-CHAPv2: MD4, SHA-1, DES)
//   datapath_backend  AEAD, CBC + HMAC (the ESP datapath)
//   backend           all of it (IKE)
// crypto::botan satisfies `backend`; crypto::portable (standard library only)
// satisfies `auth_backend`. Randomness is its own seam, `random_source`,
// moved into the engines that draw from it. DH/ECDH lives in crypto/dh.hpp.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/algorithms.hpp>
#include <l2sec/crypto/error.hpp>

#include <concepts>
#include <cstddef>

namespace l2sec::crypto {

/// A keyed AEAD. seal encrypts `data` in place and writes the tag (tag.size()
/// bytes, at most the algorithm's tag size) separately; open verifies `tag`
/// and decrypts in place. Both return false on failure (for open: the tag did
/// not verify; `data` is then unspecified and must be dropped).
template <class A>
concept aead_context = std::movable<A> &&
    requires(A& a, bytes_view nonce, bytes_view aad, mutable_bytes data, mutable_bytes tag_out,
             bytes_view tag_in) {
    { a.tag_size() } -> std::convertible_to<std::size_t>;
    { a.seal(nonce, aad, data, tag_out) } -> std::same_as<bool>;
    { a.open(nonce, aad, data, tag_in) } -> std::same_as<bool>;
};

/// A keyed block cipher mode without padding (CBC): data.size() must be a
/// multiple of block_size(), the IV is block_size() bytes.
template <class C>
concept cipher_context = std::movable<C> && requires(C& c, bytes_view iv, mutable_bytes data) {
    { c.block_size() } -> std::convertible_to<std::size_t>;
    { c.encrypt(iv, data) } -> std::same_as<bool>;
    { c.decrypt(iv, data) } -> std::same_as<bool>;
};

/// A keyed MAC (HMAC), also the PRF of IKE. final() writes
/// min(out.size(), output_size()) bytes (truncated MACs take a shorter span)
/// and leaves the context keyed and ready for the next message.
template <class M>
concept mac_context = std::movable<M> && requires(M& m, bytes_view in, mutable_bytes out) {
    { m.output_size() } -> std::convertible_to<std::size_t>;
    m.update(in);
    m.final(out);
};

/// PRFs are HMACs here (IKEv1 and IKEv2 prf_hmac_*).
template <class P>
concept prf_context = mac_context<P>;

/// A runtime-selected message digest. final() writes min(out.size(),
/// output_size()) bytes and resets the context for the next message, so one
/// context made at set-up serves every message without allocating.
template <class H>
concept hash_context = std::movable<H> && requires(H& h, bytes_view in, mutable_bytes out) {
    { h.output_size() } -> std::convertible_to<std::size_t>;
    h.update(in);
    h.final(out);
};

/// One digest over several pieces (no concatenation buffer): the
/// min(out.size(), output_size()) leading bytes go to `out`.
template <hash_context H, class... Parts>
void digest(H& h, mutable_bytes out, const Parts&... parts) noexcept {
    (h.update(bytes_view(parts)), ...);
    h.final(out);
}

/// A keyed raw block cipher, one block at a time (in and out may alias).
template <class C>
concept block_cipher_context = std::movable<C> && requires(C& c, bytes_view in, mutable_bytes out) {
    { c.block_size() } -> std::convertible_to<std::size_t>;
    { c.encrypt_block(in, out) } -> std::same_as<bool>;
    { c.decrypt_block(in, out) } -> std::same_as<bool>;
};

/// The random-source seam: a cryptographically secure generator. fill()
/// writes out.size() unpredictable bytes, or returns false (and the caller
/// refuses what needed them). Engines take one by move (never a copy: a
/// copied generator would repeat its stream) and draw every challenge,
/// magic number, Random Vector, tie breaker, nonce and SPI from it. Shipped:
/// crypto::botan::random, crypto::portable::random (the OS's CSPRNG); for
/// simulations only, l2sec::testing::insecure_deterministic_random.
template <class R>
concept random_source = std::move_constructible<R> && requires(R& r, mutable_bytes out) {
    { r.fill(out) } -> std::same_as<bool>;
};

/// Lends a random source to several engines that share it (the PPP links of
/// one L2TP engine draw from the composition's one generator). Not owning:
/// the source must outlive it.
template <random_source R>
class random_ref {
  public:
    explicit random_ref(R& r) noexcept : r_(&r) {}
    bool fill(mutable_bytes out) noexcept { return r_->fill(out); }

  private:
    R* r_;
};

/// Digests by hash_id (L2TP hidden AVPs and tunnel authentication: MD5).
template <class B>
concept digest_backend = hash_context<typename B::hash> && requires(hash_id h) {
    { B::make_hash(h) } -> std::same_as<result<typename B::hash>>;
};

/// Raw block ciphers by block_cipher_id.
template <class B>
concept block_cipher_backend = block_cipher_context<typename B::block_cipher> &&
    requires(block_cipher_id bc, bytes_view key) {
    { B::make_block_cipher(bc, key) } -> std::same_as<result<typename B::block_cipher>>;
};

/// What PPP authentication needs: CHAP-MD5 (MD5), MS-CHAPv2 (MD4, SHA-1, DES).
template <class B>
concept auth_backend = digest_backend<B> && block_cipher_backend<B>;

/// What the ESP datapath needs from a backend: keyed AEAD, CBC and HMAC
/// contexts, and the backend's own CSPRNG type (`B::random`).
template <class B>
concept datapath_backend = aead_context<typename B::aead> && cipher_context<typename B::cipher> &&
    mac_context<typename B::mac> && random_source<typename B::random> &&
    requires(aead_id a, cipher_id c, mac_id m, bytes_view key) {
    { B::make_aead(a, key) } -> std::same_as<result<typename B::aead>>;
    { B::make_cipher(c, key) } -> std::same_as<result<typename B::cipher>>;
    { B::make_mac(m, key) } -> std::same_as<result<typename B::mac>>;
};

/// The whole seam: the datapath plus digests and raw block ciphers (IKE).
template <class B>
concept backend = datapath_backend<B> && auth_backend<B>;

}  // namespace l2sec::crypto
