// The credential-store seam: where a PPP authenticator learns a user's
// password. One synchronous call, user name in, password written into a
// buffer the authenticator owns (and wipes after use). A file (the examples'
// users.txt), a database or a cache in front of RADIUS plug in here; a store
// that must wait for a remote answer should be filled before the session
// authenticates (l2sec's engines never block).
//
//   struct users {
//       std::optional<std::size_t> find_password(std::string_view user,
//                                                std::span<char> out) noexcept;
//   };
//   static_assert(ppp::credential_store<users>);
#pragma once

#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace l2sec::ppp {

/// find_password(user, out): the password's length after writing it into
/// out[0, length), or nullopt when the user is unknown or the password does
/// not fit `out` (then nothing useful is in `out`). The user name is what the
/// peer sent (MS-CHAPv2: without any "DOMAIN\" prefix).
template <class S>
concept credential_store = requires(S& s, std::string_view user, std::span<char> out) {
    { s.find_password(user, out) } -> std::same_as<std::optional<std::size_t>>;
};

/// The longest password an authenticator asks a store for (RFC 2759 allows
/// 256 characters; in UTF-8 that is up to 1024 bytes).
inline constexpr std::size_t max_password_size = 1024;

/// A store that knows nobody: what a link that never authenticates a peer
/// (the client role) is built with.
struct no_credentials {
    std::optional<std::size_t> find_password(std::string_view, std::span<char>) noexcept {
        return std::nullopt;
    }
};

static_assert(credential_store<no_credentials>);

}  // namespace l2sec::ppp
