// Differential fuzzing of the two crypto backends: the input chooses an
// operation, an algorithm, a key, a nonce/IV, associated data and a message;
// crypto::botan and crypto::openssl run it and must agree on every output
// byte and on every accept/reject decision (AEAD open of arbitrary
// ciphertext and tag, ECDH with an arbitrary peer value). A disagreement
// aborts, and libFuzzer keeps the input.
#include <l2sec/crypto/botan.hpp>
#include <l2sec/crypto/openssl.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace l2sec;
using A = crypto::botan;
using O = crypto::openssl;

namespace {

// Reads the input front to back; past its end every read is empty/zero.
struct input {
    const std::uint8_t* p;
    std::size_t n;
    std::uint8_t byte() {
        if (n == 0) return 0;
        --n;
        return *p++;
    }
    std::vector<std::byte> take(std::size_t k) {
        k = std::min(k, n);
        std::vector<std::byte> v(k);
        if (k) std::memcpy(v.data(), p, k);
        p += k;
        n -= k;
        return v;
    }
    std::vector<std::byte> rest(std::size_t max) { return take(std::min(n, max)); }
};

void agree(bool same) {
    if (!same) std::abort();
}

void aead(input& in) {
    constexpr crypto::aead_id ids[] = {crypto::aead_id::aes128_gcm, crypto::aead_id::aes256_gcm,
                                       crypto::aead_id::chacha20_poly1305};
    auto id = ids[in.byte() % 3];
    auto key = in.take(crypto::info(id).key_size);
    key.resize(crypto::info(id).key_size);
    auto nonce = in.take(12);
    nonce.resize(12);
    auto aad = in.take(in.byte() % 24);
    auto tag_in = in.take(16);
    tag_in.resize(16);
    auto msg = in.rest(4096);
    auto a = A::make_aead(id, key);
    auto o = O::make_aead(id, key);
    agree(a.has_value() && o.has_value());
    // Seal: identical ciphertext and tag.
    auto da = msg, dob = msg;
    std::array<std::byte, 16> ta{}, to{};
    agree(a->seal(nonce, aad, da, ta) && o->seal(nonce, aad, dob, to));
    agree(da == dob && ta == to);
    // Open the input itself as ciphertext with the input's tag: almost
    // always a forgery, rejected by both; open the sealed one: accepted by both.
    auto fa = msg, fo = msg;
    bool ra = a->open(nonce, aad, fa, tag_in);
    bool ro = o->open(nonce, aad, fo, tag_in);
    agree(ra == ro);
    if (ra) agree(fa == fo);
    agree(o->open(nonce, aad, da, ta));
    agree(da == msg);
}

void cbc(input& in) {
    constexpr crypto::cipher_id ids[] = {
        crypto::cipher_id::aes128_cbc, crypto::cipher_id::aes192_cbc, crypto::cipher_id::aes256_cbc,
        crypto::cipher_id::des_cbc, crypto::cipher_id::tdes_cbc};
    auto id = ids[in.byte() % 5];
    const auto ci = crypto::info(id);
    auto key = in.take(ci.key_size);
    key.resize(ci.key_size);
    auto iv = in.take(ci.block_size);
    iv.resize(ci.block_size);
    bool decrypt = in.byte() & 1;
    auto msg = in.rest(4096);
    auto a = A::make_cipher(id, key);
    auto o = O::make_cipher(id, key);
    agree(a.has_value() && o.has_value());
    auto da = msg, dob = msg;
    bool ra = decrypt ? a->decrypt(iv, da) : a->encrypt(iv, da);
    bool ro = decrypt ? o->decrypt(iv, dob) : o->encrypt(iv, dob);
    agree(ra == ro && ra == (msg.size() % ci.block_size == 0));
    if (ra) agree(da == dob);
}

void mac(input& in) {
    constexpr crypto::mac_id ids[] = {crypto::mac_id::hmac_md5, crypto::mac_id::hmac_sha1,
                                      crypto::mac_id::hmac_sha256, crypto::mac_id::hmac_sha384,
                                      crypto::mac_id::hmac_sha512};
    auto id = ids[in.byte() % 5];
    auto key = in.take(in.byte());
    std::size_t split = in.byte();
    auto msg = in.rest(4096);
    split = std::min(split, msg.size());
    auto a = A::make_mac(id, key);
    auto o = O::make_mac(id, key);
    agree(a.has_value() && o.has_value());
    std::array<std::byte, 64> ma{}, mo{};
    a->update(msg);
    a->final(ma);
    o->update(bytes_view(msg).first(split));
    o->update(bytes_view(msg).subspan(split));
    o->final(mo);
    agree(ma == mo);
}

void hash(input& in) {
    constexpr crypto::hash_id ids[] = {crypto::hash_id::md4,    crypto::hash_id::md5,
                                       crypto::hash_id::sha1,   crypto::hash_id::sha256,
                                       crypto::hash_id::sha384, crypto::hash_id::sha512};
    auto id = ids[in.byte() % 6];
    auto msg = in.rest(4096);
    auto a = A::make_hash(id);
    auto o = O::make_hash(id);
    agree(a.has_value() && o.has_value());
    std::array<std::byte, 64> da{}, dob{};
    crypto::digest(*a, da, msg);
    crypto::digest(*o, dob, msg);
    agree(da == dob);
}

void block(input& in) {
    constexpr crypto::block_cipher_id ids[] = {crypto::block_cipher_id::des,
                                               crypto::block_cipher_id::aes128,
                                               crypto::block_cipher_id::aes256};
    auto id = ids[in.byte() % 3];
    const auto bi = crypto::info(id);
    auto key = in.take(bi.key_size);
    key.resize(bi.key_size);
    auto blk = in.take(bi.block_size);
    blk.resize(bi.block_size);
    auto a = A::make_block_cipher(id, key);
    auto o = O::make_block_cipher(id, key);
    agree(a.has_value() && o.has_value());
    std::array<std::byte, 16> ea{}, eo{}, back{};
    agree(a->encrypt_block(blk, ea) && o->encrypt_block(blk, eo));
    agree(ea == eo);
    agree(o->decrypt_block(bytes_view(eo).first(bi.block_size), back));
    agree(std::equal(blk.begin(), blk.end(), back.begin()));
}

// ECDH with given private keys: the same public value; an arbitrary peer
// value (usually off the curve) is refused by both or agreed on by both.
void ecdh(input& in) {
    auto g = (in.byte() & 1) ? crypto::dh_id::ecp384 : crypto::dh_id::ecp256;
    const auto gi = crypto::info(g);
    auto priv = in.take(gi.shared_size);
    auto peer = in.take(gi.public_size);
    bool use_own = in.byte() & 1;
    if (priv.size() != gi.shared_size) return;  // an empty key would mean a fresh random one
    auto a = A::make_key_exchange(g, priv);
    auto o = O::make_key_exchange(g, priv);
    if (!a || !o) return;  // out-of-range private keys: the backends may differ in how they refuse
    agree(std::ranges::equal(a->public_value(), o->public_value()));
    if (use_own) peer.assign(a->public_value().begin(), a->public_value().end());
    std::array<std::byte, crypto::max_dh_shared_size> sa{}, so{};
    auto ra = a->agree(peer, sa);
    auto ro = o->agree(peer, so);
    agree(ra.has_value() == ro.has_value());
    if (ra) agree(*ra == *ro && sa == so);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    input in{data, size};
    switch (in.byte() % 6) {
        case 0:
            aead(in);
            break;
        case 1:
            cbc(in);
            break;
        case 2:
            mac(in);
            break;
        case 3:
            hash(in);
            break;
        case 4:
            block(in);
            break;
        case 5:
            ecdh(in);
            break;
    }
    return 0;
}
