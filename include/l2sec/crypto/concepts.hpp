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
// `datapath_backend` is what the ESP datapath needs (AEAD, CBC + HMAC,
// random); `backend` adds digests and raw block ciphers for IKE, L2TP and
// PPP authentication. DH/ECDH key agreement lives in crypto/dh.hpp.
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

/// A runtime-selected message digest; final() resets it.
template <class H>
concept hash_context = std::movable<H> && requires(H& h, bytes_view in, mutable_bytes out) {
    { h.output_size() } -> std::convertible_to<std::size_t>;
    h.update(in);
    h.final(out);
};

/// A keyed raw block cipher, one block at a time (in and out may alias).
template <class C>
concept block_cipher_context = std::movable<C> && requires(C& c, bytes_view in, mutable_bytes out) {
    { c.block_size() } -> std::convertible_to<std::size_t>;
    { c.encrypt_block(in, out) } -> std::same_as<bool>;
    { c.decrypt_block(in, out) } -> std::same_as<bool>;
};

/// A cryptographically secure random source.
template <class R>
concept random_source = requires(R& r, mutable_bytes out) {
    { r.fill(out) } -> std::same_as<bool>;
};

/// What the ESP datapath needs from a backend.
template <class B>
concept datapath_backend = aead_context<typename B::aead> && cipher_context<typename B::cipher> &&
    mac_context<typename B::mac> && random_source<typename B::random> &&
    std::default_initializable<typename B::random> &&
    requires(aead_id a, cipher_id c, mac_id m, bytes_view key) {
    { B::make_aead(a, key) } -> std::same_as<result<typename B::aead>>;
    { B::make_cipher(c, key) } -> std::same_as<result<typename B::cipher>>;
    { B::make_mac(m, key) } -> std::same_as<result<typename B::mac>>;
};

/// The whole seam: the datapath plus digests and raw block ciphers.
template <class B>
concept backend = datapath_backend<B> && hash_context<typename B::hash> &&
    block_cipher_context<typename B::block_cipher> &&
    requires(hash_id h, block_cipher_id bc, bytes_view key) {
    { B::make_hash(h) } -> std::same_as<result<typename B::hash>>;
    { B::make_block_cipher(bc, key) } -> std::same_as<result<typename B::block_cipher>>;
};

}  // namespace l2sec::crypto
