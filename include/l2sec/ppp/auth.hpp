// PPP authentication, both roles: PAP (RFC 1334), CHAP with MD5 (RFC 1994)
// and MS-CHAPv2 (RFC 2759). The authenticator checks a peer against a
// credential store (ppp/credentials.hpp); the peer answers with its user name
// and password. Sans-I/O: packets go to the link's frame queue, time comes in,
// the outcome and the next deadline come out. Policies: `Crypto` (a
// crypto::auth_backend: MD5 for CHAP, MD4/SHA-1/DES for MS-CHAPv2), `Random`
// (challenges), `Credentials` (the authenticator's store).
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/clock.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/ppp/chap.hpp>
#include <l2sec/ppp/credentials.hpp>
#include <l2sec/ppp/mschapv2.hpp>
#include <l2sec/ppp/negotiation.hpp>
#include <l2sec/ppp/pap.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace l2sec::ppp {

enum class auth_outcome : std::uint8_t { pending, success, failure };

namespace detail {
/// RFC 2759: the user name without any "DOMAIN\" prefix.
inline std::string_view strip_domain(std::string_view user) noexcept {
    auto p = user.rfind('\\');
    return p == std::string_view::npos ? user : user.substr(p + 1);
}
/// RFC 1994 4.1: MD5(Identifier | secret | Challenge) with the backend's MD5.
template <crypto::digest_backend B>
bool chap_md5(std::optional<typename B::hash>& md5, std::uint8_t id, bytes_view secret,
              bytes_view challenge, mutable_bytes out16) noexcept {
    if (!md5) {
        auto h = B::make_hash(crypto::hash_id::md5);
        if (!h || h->output_size() != 16) return false;
        md5.emplace(std::move(*h));
    }
    std::array<std::byte, 1> i{static_cast<std::byte>(id)};
    crypto::digest(*md5, out16, i, secret, challenge);
    return true;
}
}  // namespace detail

struct auth_timing {
    duration retry = std::chrono::seconds(3);
    std::uint8_t max_tries = 10;
};

/// The authenticator (server) side.
template <class Crypto, class Random, class Credentials, class Queue>
class authenticator {
    static_assert(crypto::auth_backend<Crypto>,
                  "ppp::authenticator needs a crypto::auth_backend (MD5; MD4, SHA-1, DES)");
    static_assert(crypto::random_source<Random>,
                  "ppp::authenticator draws CHAP challenges from a crypto::random_source");
    static_assert(credential_store<Credentials>,
                  "ppp::authenticator looks passwords up in a ppp::credential_store");

  public:
    auth_method method = auth_method::none;
    std::string_view name = "l2sec";  ///< our name in CHAP Challenges
    Credentials* credentials = nullptr;
    Random* random = nullptr;
    auth_timing timing{};

    auth_outcome outcome() const noexcept { return outcome_; }
    /// The authenticated user name (valid while the link lives: copied here).
    std::string_view peer_name() const noexcept { return {user_.data(), user_size_}; }
    /// MS-CHAPv2 only: the MPPE keys of the server side (RFC 3079).
    const mschapv2::mppe_keys& mppe() const noexcept { return keys_; }

    void start(time_point now, Queue& q) noexcept {
        outcome_ = auth_outcome::pending;
        tries_ = 0;
        if (method == auth_method::chap_md5 || method == auth_method::mschapv2) {
            ++id_;
            if (!random || !random->fill(challenge_)) {
                outcome_ = auth_outcome::failure;  // no challenge without randomness
                return;
            }
            send_challenge(q);
        }
        due_ = now + timing.retry;
    }
    std::optional<time_point> deadline() const noexcept {
        if (outcome_ != auth_outcome::pending || method == auth_method::none) return std::nullopt;
        return due_;
    }
    void on_timer(time_point now, Queue& q) noexcept {
        if (outcome_ != auth_outcome::pending || now < due_) return;
        if (++tries_ >= timing.max_tries) {
            outcome_ = auth_outcome::failure;
            return;
        }
        if (method == auth_method::chap_md5 || method == auth_method::mschapv2) send_challenge(q);
        due_ = now + timing.retry;
    }

    /// A PAP or CHAP packet from the peer.
    void handle(protocol proto, bytes_view info, Queue& q) noexcept {
        if (proto == protocol::pap && method == auth_method::pap) return on_pap(info, q);
        if (proto == protocol::chap &&
            (method == auth_method::chap_md5 || method == auth_method::mschapv2))
            return on_chap(info, q);
    }

  private:
    void remember_user(std::string_view u) noexcept {
        user_size_ = std::min(u.size(), user_.size());
        for (std::size_t i = 0; i < user_size_; ++i)
            user_[i] = u[i];
    }
    // The store writes into password_; callers wipe it when done (forget_password).
    std::optional<std::string_view> password_of(std::string_view u) noexcept {
        if (!credentials) return std::nullopt;
        auto n = credentials->find_password(u, std::span<char>(password_));
        if (!n || *n > password_.size()) return std::nullopt;
        return std::string_view(password_.data(), *n);
    }
    void forget_password() noexcept {
        crypto::secure_zero(std::as_writable_bytes(std::span<char>(password_)));
    }

    void on_pap(bytes_view info, Queue& q) noexcept {
        auto p = pap::decode(info);
        if (!p || p->code != pap::code::authenticate_request) return;
        if (outcome_ == auth_outcome::pending) {
            remember_user(as_chars(p->peer_id));
            auto pw = password_of(peer_name());
            bool ok = pw && crypto::constant_time_equal(as_bytes(*pw), p->password);
            forget_password();
            outcome_ = ok ? auth_outcome::success : auth_outcome::failure;
        }
        // Answer retransmitted requests the same way.
        auto buf = q.begin(protocol::pap);
        bool ok = outcome_ == auth_outcome::success;
        if (auto n = pap::encode_reply(
                buf, ok ? pap::code::authenticate_ack : pap::code::authenticate_nak, p->identifier,
                as_bytes(ok ? "Login ok" : "Login incorrect")))
            q.commit(*n);
    }

    void on_chap(bytes_view info, Queue& q) noexcept {
        auto p = chap::decode(info);
        if (!p || p->code != chap::code::response || p->identifier != id_) return;
        if (outcome_ == auth_outcome::pending) {
            remember_user(as_chars(p->name));
            outcome_ = method == auth_method::chap_md5 ? check_md5(*p) : check_mschapv2(*p);
            forget_password();
        }
        auto buf = q.begin(protocol::chap);
        const bool ok = outcome_ == auth_outcome::success;
        std::string_view msg = ok ? std::string_view(success_msg_.data(), success_size_)
                                  : std::string_view(failure_msg_.data(), failure_size_);
        if (method == auth_method::chap_md5) msg = ok ? "Welcome" : "Access denied";
        if (auto n = chap::encode_result(buf, ok ? chap::code::success : chap::code::failure, id_,
                                         as_bytes(msg)))
            q.commit(*n);
    }

    auth_outcome check_md5(const chap::packet_view& p) noexcept {
        auto pw = password_of(peer_name());
        if (!pw) return auth_outcome::failure;
        std::array<std::byte, 16> want{};
        if (!detail::chap_md5<Crypto>(md5_, id_, as_bytes(*pw), challenge_, want))
            return auth_outcome::failure;
        return crypto::constant_time_equal(want, p.value) ? auth_outcome::success
                                                          : auth_outcome::failure;
    }

    auth_outcome check_mschapv2(const chap::packet_view& p) noexcept {
        set_failure_message();
        auto r = chap::parse_ms_chap_v2_response(p.value);
        if (!r) return auth_outcome::failure;
        auto user = detail::strip_domain(peer_name());
        auto pw = password_of(user);
        if (!pw) return auth_outcome::failure;
        mschapv2::challenge16 peer{};
        copy_to(peer, r->peer_challenge);
        auto want = mschapv2::generate_nt_response<Crypto>(challenge_, peer, user, *pw);
        if (!want || !crypto::constant_time_equal(*want, r->nt_response))
            return auth_outcome::failure;
        auto ar =
            mschapv2::generate_authenticator_response<Crypto>(*pw, *want, peer, challenge_, user);
        if (!ar) return auth_outcome::failure;
        auto h = mschapv2::nt_password_hash<Crypto>(*pw);
        if (h)
            if (auto hh = mschapv2::hash_nt_password_hash<Crypto>(*h))
                if (auto k = mschapv2::derive_mppe_keys<Crypto>(*hh, *want, true)) keys_ = *k;
        success_size_ = 0;
        for (char c : std::string_view(ar->data(), ar->size()))
            success_msg_[success_size_++] = c;
        for (char c : std::string_view(" M=Access granted"))
            success_msg_[success_size_++] = c;
        return auth_outcome::success;
    }
    void set_failure_message() noexcept {
        // RFC 2759 6: E=691 (authentication failure), no retry, the challenge, version 3.
        failure_size_ = 0;
        auto put = [&](std::string_view s) {
            for (char c : s)
                failure_msg_[failure_size_++] = c;
        };
        put("E=691 R=0 C=");
        constexpr char hexd[] = "0123456789ABCDEF";
        for (auto b : challenge_) {
            failure_msg_[failure_size_++] = hexd[std::to_integer<unsigned>(b) >> 4];
            failure_msg_[failure_size_++] = hexd[std::to_integer<unsigned>(b) & 15];
        }
        put(" V=3 M=Authentication failure");
    }

    void send_challenge(Queue& q) noexcept {
        auto buf = q.begin(protocol::chap);
        if (auto n =
                chap::encode_value(buf, chap::code::challenge, id_, challenge_, as_bytes(name)))
            q.commit(*n);
    }

    auth_outcome outcome_ = auth_outcome::pending;
    std::uint8_t id_ = 0, tries_ = 0;
    time_point due_{};
    mschapv2::challenge16 challenge_{};
    std::array<char, 64> user_{};
    std::size_t user_size_ = 0;
    std::array<char, 96> success_msg_{}, failure_msg_{};
    std::size_t success_size_ = 0, failure_size_ = 0;
    mschapv2::mppe_keys keys_{};
    std::array<char, max_password_size> password_{};
    std::optional<typename Crypto::hash> md5_;  // made at the first CHAP-MD5 check, then reused
};

/// The peer (client) side.
template <class Crypto, class Random, class Queue>
class auth_peer {
    static_assert(crypto::auth_backend<Crypto>,
                  "ppp::auth_peer needs a crypto::auth_backend (MD5; MD4, SHA-1, DES)");
    static_assert(crypto::random_source<Random>,
                  "ppp::auth_peer draws MS-CHAPv2 peer challenges from a crypto::random_source");

  public:
    auth_method method = auth_method::none;
    std::string_view user{}, password{};
    Random* random = nullptr;
    auth_timing timing{};

    auth_outcome outcome() const noexcept { return outcome_; }
    /// MS-CHAPv2 only: the client's MPPE keys (RFC 3079).
    const mschapv2::mppe_keys& mppe() const noexcept { return keys_; }

    /// The authenticator's Success was lost but it moved on to the network
    /// phase (an NCP packet arrived after our Response): treat that as
    /// success, except for MS-CHAPv2 whose Success proves the server's
    /// identity and must not be skipped.
    bool assume_success() noexcept {
        if (outcome_ != auth_outcome::pending || !responded_ || method == auth_method::mschapv2)
            return false;
        outcome_ = auth_outcome::success;
        return true;
    }

    void start(time_point now, Queue& q) noexcept {
        outcome_ = auth_outcome::pending;
        tries_ = 0;
        if (method == auth_method::pap) send_pap(q);
        due_ = now + timing.retry;
    }
    std::optional<time_point> deadline() const noexcept {
        if (outcome_ != auth_outcome::pending || method == auth_method::none) return std::nullopt;
        return due_;
    }
    void on_timer(time_point now, Queue& q) noexcept {
        if (outcome_ != auth_outcome::pending || now < due_) return;
        if (++tries_ >= timing.max_tries) {
            outcome_ = auth_outcome::failure;
            return;
        }
        if (method == auth_method::pap) send_pap(q);
        // CHAP: repeat our Response (RFC 1994 4.2: the authenticator answers
        // repeated Responses with its Success/Failure, which may have been lost).
        if (method != auth_method::pap && resp_size_ > 0) {
            auto buf = q.begin(protocol::chap);
            if (buf.size() >= resp_size_) {
                copy_to(buf, bytes_view(resp_.data(), resp_size_));
                q.commit(resp_size_);
            }
        }
        due_ = now + timing.retry;
    }

    void handle(protocol proto, bytes_view info, Queue& q, time_point now) noexcept {
        if (proto == protocol::pap && method == auth_method::pap) {
            auto p = pap::decode(info);
            if (!p || p->identifier != id_) return;
            if (p->code == pap::code::authenticate_ack) outcome_ = auth_outcome::success;
            if (p->code == pap::code::authenticate_nak) outcome_ = auth_outcome::failure;
            return;
        }
        if (proto != protocol::chap) return;
        auto p = chap::decode(info);
        if (!p) return;
        if (p->code == chap::code::challenge) return on_challenge(*p, q, now);
        if (p->identifier != id_) return;
        if (p->code == chap::code::failure) outcome_ = auth_outcome::failure;
        if (p->code == chap::code::success) {
            if (method != auth_method::mschapv2) {
                outcome_ = auth_outcome::success;
                return;
            }
            // The authenticator proves it knows the password too (RFC 2759 5).
            auto s = chap::parse_ms_chap_v2_success(p->message);
            bool ok =
                s && s->authenticator_response.size() == 40 &&
                crypto::constant_time_equal(as_bytes(std::string_view(expected_.data() + 2, 40)),
                                            as_bytes(s->authenticator_response));
            outcome_ = ok ? auth_outcome::success : auth_outcome::failure;
        }
    }

  private:
    void send_pap(Queue& q) noexcept {
        id_ = static_cast<std::uint8_t>(id_ + 1);
        responded_ = true;
        auto buf = q.begin(protocol::pap);
        if (auto n = pap::encode_request(buf, id_, as_bytes(user), as_bytes(password)))
            q.commit(*n);
    }
    void on_challenge(const chap::packet_view& p, Queue& q, time_point now) noexcept {
        due_ = now + timing.retry;
        // A retransmitted Challenge gets the same Response (MS-CHAPv2's peer
        // challenge, and so the server's S=, must not change under it).
        if (responded_ && p.identifier == id_ && resp_size_ > 0 &&
            equal(p.value, bytes_view(last_challenge_.data(), last_challenge_size_))) {
            auto buf = q.begin(protocol::chap);
            if (buf.size() >= resp_size_) {
                copy_to(buf, bytes_view(resp_.data(), resp_size_));
                q.commit(resp_size_);
            }
            return;
        }
        id_ = p.identifier;
        responded_ = true;
        last_challenge_size_ = std::min(p.value.size(), last_challenge_.size());
        copy_to(last_challenge_, p.value.first(last_challenge_size_));
        if (method == auth_method::chap_md5) {
            std::array<std::byte, 16> r{};
            if (!detail::chap_md5<Crypto>(md5_, p.identifier, as_bytes(password), p.value, r))
                return;
            auto buf = q.begin(protocol::chap);
            if (auto n = chap::encode_value(buf, chap::code::response, id_, r, as_bytes(user)))
                keep(buf, *n, q);
            return;
        }
        if (method != auth_method::mschapv2 || p.value.size() != 16) return;
        mschapv2::challenge16 auth{}, peer{};
        copy_to(auth, p.value);
        if (!random || !random->fill(peer)) return;  // no Response without a fresh peer challenge
        auto name = detail::strip_domain(user);
        auto nt = mschapv2::generate_nt_response<Crypto>(auth, peer, name, password);
        if (!nt) return;
        auto ar =
            mschapv2::generate_authenticator_response<Crypto>(password, *nt, peer, auth, name);
        if (!ar) return;
        expected_ = *ar;
        if (auto h = mschapv2::nt_password_hash<Crypto>(password))
            if (auto hh = mschapv2::hash_nt_password_hash<Crypto>(*h))
                if (auto k = mschapv2::derive_mppe_keys<Crypto>(*hh, *nt, false)) keys_ = *k;
        std::array<std::byte, 49> value{};
        copy_to(value, peer);
        copy_to(mutable_bytes(value).subspan(24), *nt);
        auto buf = q.begin(protocol::chap);
        if (auto n = chap::encode_value(buf, chap::code::response, id_, value, as_bytes(user)))
            keep(buf, *n, q);
    }
    void keep(mutable_bytes buf, std::size_t n, Queue& q) noexcept {
        resp_size_ = n <= resp_.size() ? n : 0;
        if (resp_size_) copy_to(resp_, bytes_view(buf.data(), n));
        q.commit(n);
    }

    auth_outcome outcome_ = auth_outcome::pending;
    std::uint8_t id_ = 0, tries_ = 0;
    time_point due_{};
    mschapv2::authenticator_response expected_{};
    mschapv2::mppe_keys keys_{};
    bool responded_ = false;
    std::array<std::byte, 320> resp_{};
    std::size_t resp_size_ = 0;
    std::array<std::byte, 64> last_challenge_{};
    std::size_t last_challenge_size_ = 0;
    std::optional<typename Crypto::hash> md5_;  // made at the first CHAP-MD5 Response, then reused
};

}  // namespace l2sec::ppp
