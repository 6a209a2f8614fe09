// MS-CHAPv2 (RFC 2759) and the MPPE master keys derived from it (RFC 3079),
// over the crypto seam: MD4, SHA-1 and DES all come from the backend `B`
// (crypto::auth_backend: crypto::botan, or the standard-library-only
// crypto::portable). Used by Windows and macOS L2TP/IPsec clients. Runs once
// per authentication: it may use the backend's allocating factories, but
// never throws. Every function returns the backend's error when it lacks an
// algorithm (crypto::errc::unsupported_algorithm).
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/des.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace l2sec::ppp::mschapv2 {

using challenge16 = std::array<std::byte, 16>;
using challenge8 = std::array<std::byte, 8>;
using hash16 = std::array<std::byte, 16>;
using nt_response = std::array<std::byte, 24>;
/// "S=" followed by 40 upper-case hex digits.
using authenticator_response = std::array<char, 42>;

inline constexpr std::size_t max_password_chars = 256;

/// RFC 2759 8.2 ChallengeHash: SHA1(PeerChallenge | AuthenticatorChallenge | UserName)[0..7].
/// The user name is without any domain prefix stripping: callers pass what was sent.
template <crypto::auth_backend B>
result<challenge8> challenge_hash(const challenge16& peer, const challenge16& authenticator,
                                  std::string_view user) noexcept {
    auto sha1 = B::make_hash(crypto::hash_id::sha1);
    if (!sha1) return sha1.error();
    challenge8 out{};
    crypto::digest(*sha1, out, peer, authenticator, as_bytes(user));
    return out;
}

/// RFC 2759 8.3 NtPasswordHash: MD4 of the password in UTF-16LE. The password
/// is UTF-8; characters outside the BMP become surrogate pairs.
template <crypto::auth_backend B>
result<hash16> nt_password_hash(std::string_view password_utf8) noexcept {
    auto md4 = B::make_hash(crypto::hash_id::md4);
    if (!md4) return md4.error();
    std::size_t units = 0;
    auto put = [&](std::uint32_t u) {
        std::array<std::byte, 2> le{static_cast<std::byte>(u & 0xff),
                                    static_cast<std::byte>((u >> 8) & 0xff)};
        md4->update(le);
        ++units;
    };
    for (std::size_t i = 0; i < password_utf8.size();) {
        auto c = static_cast<unsigned char>(password_utf8[i]);
        std::uint32_t cp = c;
        std::size_t n = 1;
        if (c >= 0xf0)
            n = 4, cp = c & 0x07u;
        else if (c >= 0xe0)
            n = 3, cp = c & 0x0fu;
        else if (c >= 0xc0)
            n = 2, cp = c & 0x1fu;
        if (i + n > password_utf8.size())
            return error(l2sec::errc::invalid_argument, i, "password");
        for (std::size_t k = 1; k < n; ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(password_utf8[i + k]) & 0x3fu);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            put(0xd800u + (cp >> 10));
            put(0xdc00u + (cp & 0x3ffu));
        } else {
            put(cp);
        }
        i += n;
    }
    if (units > max_password_chars) return error(l2sec::errc::invalid_argument, 0, "password");
    hash16 out{};
    md4->final(out);
    return out;
}

/// RFC 2759 8.4 HashNtPasswordHash: MD4(PasswordHash).
template <crypto::auth_backend B>
result<hash16> hash_nt_password_hash(const hash16& password_hash) noexcept {
    auto md4 = B::make_hash(crypto::hash_id::md4);
    if (!md4) return md4.error();
    md4->update(password_hash);
    hash16 out{};
    md4->final(out);
    return out;
}

/// RFC 2759 8.5 ChallengeResponse: three DES encryptions of the challenge
/// under the zero-padded 21-byte password hash.
template <crypto::auth_backend B>
result<nt_response> challenge_response(const challenge8& challenge,
                                       const hash16& password_hash) noexcept {
    std::array<std::byte, 21> z{};
    std::copy(password_hash.begin(), password_hash.end(), z.begin());
    nt_response out{};
    for (std::size_t i = 0; i < 3; ++i) {
        auto key = crypto::des_key_from_56(std::span<const std::byte, 7>(z.data() + 7 * i, 7));
        auto des = B::make_block_cipher(crypto::block_cipher_id::des, key);
        if (!des) return des.error();
        if (!des->encrypt_block(challenge, mutable_bytes(out.data() + 8 * i, 8)))
            return error(l2sec::errc::invalid_argument, 0, "DES block");
    }
    return out;
}

/// RFC 2759 8.1 GenerateNTResponse (the peer's answer).
template <crypto::auth_backend B>
result<nt_response> generate_nt_response(const challenge16& authenticator_challenge,
                                         const challenge16& peer_challenge, std::string_view user,
                                         std::string_view password) noexcept {
    auto c = challenge_hash<B>(peer_challenge, authenticator_challenge, user);
    if (!c) return c.error();
    auto h = nt_password_hash<B>(password);
    if (!h) return h.error();
    return challenge_response<B>(*c, *h);
}

namespace detail {
inline constexpr std::string_view magic1 = "Magic server to client signing constant";
inline constexpr std::string_view magic2 = "Pad to make it do more than one iteration";
}  // namespace detail

/// RFC 2759 8.7 GenerateAuthenticatorResponse from the password hash-hash
/// (what an authenticator that stores only hashes needs).
template <crypto::auth_backend B>
result<authenticator_response> authenticator_response_from_hash_hash(
    const hash16& password_hash_hash, const nt_response& response,
    const challenge16& peer_challenge, const challenge16& authenticator_challenge,
    std::string_view user) noexcept {
    auto sha1 = B::make_hash(crypto::hash_id::sha1);
    if (!sha1) return sha1.error();
    std::array<std::byte, 20> d{};
    crypto::digest(*sha1, d, password_hash_hash, response, as_bytes(detail::magic1));
    auto c = challenge_hash<B>(peer_challenge, authenticator_challenge, user);
    if (!c) return c.error();
    crypto::digest(*sha1, d, d, *c, as_bytes(detail::magic2));
    authenticator_response out{};
    out[0] = 'S';
    out[1] = '=';
    constexpr char hexd[] = "0123456789ABCDEF";
    for (std::size_t i = 0; i < 20; ++i) {
        auto v = std::to_integer<unsigned>(d[i]);
        out[2 + 2 * i] = hexd[v >> 4];
        out[3 + 2 * i] = hexd[v & 15];
    }
    return out;
}

/// RFC 2759 8.7 GenerateAuthenticatorResponse from the clear password.
template <crypto::auth_backend B>
result<authenticator_response> generate_authenticator_response(
    std::string_view password, const nt_response& response, const challenge16& peer_challenge,
    const challenge16& authenticator_challenge, std::string_view user) noexcept {
    auto h = nt_password_hash<B>(password);
    if (!h) return h.error();
    auto hh = hash_nt_password_hash<B>(*h);
    if (!hh) return hh.error();
    return authenticator_response_from_hash_hash<B>(*hh, response, peer_challenge,
                                                    authenticator_challenge, user);
}

/// RFC 3079 3.4 GetMasterKey: SHA1(PasswordHashHash | NTResponse | Magic1)[0..15].
template <crypto::auth_backend B>
result<hash16> master_key(const hash16& password_hash_hash, const nt_response& response) noexcept {
    auto sha1 = B::make_hash(crypto::hash_id::sha1);
    if (!sha1) return sha1.error();
    hash16 out{};
    crypto::digest(*sha1, out, password_hash_hash, response,
                   as_bytes(std::string_view("This is the MPPE Master Key")));
    return out;
}

/// RFC 3079 3.4 GetAsymmetricStartKey: the send or receive start key of the
/// client or the server, key_length bytes (8 for 40/56-bit, 16 for 128-bit).
template <crypto::auth_backend B>
result<hash16> asymmetric_start_key(const hash16& master, std::size_t key_length, bool is_send,
                                    bool is_server) noexcept {
    constexpr std::string_view magic2 =
        "On the client side, this is the send key; on the server side, it is the receive key.";
    constexpr std::string_view magic3 =
        "On the client side, this is the receive key; on the server side, it is the send key.";
    std::string_view s = (is_send == is_server) ? magic3 : magic2;
    std::array<std::byte, 40> pad1{}, pad2{};
    pad2.fill(std::byte{0xf2});
    auto sha1 = B::make_hash(crypto::hash_id::sha1);
    if (!sha1) return sha1.error();
    hash16 out{};
    crypto::digest(*sha1, mutable_bytes(out).first(key_length < 16 ? key_length : 16), master, pad1,
                   as_bytes(s), pad2);
    return out;
}

/// The MPPE keys of one session, as seen from one side.
struct mppe_keys {
    hash16 master{};
    hash16 send{};
    hash16 receive{};
};
template <crypto::auth_backend B>
result<mppe_keys> derive_mppe_keys(const hash16& password_hash_hash, const nt_response& response,
                                   bool is_server, std::size_t key_length = 16) noexcept {
    mppe_keys k;
    auto m = master_key<B>(password_hash_hash, response);
    if (!m) return m.error();
    k.master = *m;
    auto send = asymmetric_start_key<B>(k.master, key_length, true, is_server);
    if (!send) return send.error();
    auto receive = asymmetric_start_key<B>(k.master, key_length, false, is_server);
    if (!receive) return receive.error();
    k.send = *send;
    k.receive = *receive;
    return k;
}

}  // namespace l2sec::ppp::mschapv2
