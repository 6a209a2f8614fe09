// A user-written ppp::credential_store for the tests: a fixed table of users
// (alice/wonderland, and RFC 2759's User/clientPass).
#pragma once

#include <l2sec/ppp/credentials.hpp>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace l2sec::test {

struct users {
    std::size_t lookups = 0;  ///< how often an authenticator asked
    std::optional<std::size_t> find_password(std::string_view user, std::span<char> out) noexcept {
        ++lookups;
        std::string_view pw;
        if (user == "alice")
            pw = "wonderland";
        else if (user == "User")
            pw = "clientPass";
        else
            return std::nullopt;
        if (pw.size() > out.size()) return std::nullopt;
        std::copy(pw.begin(), pw.end(), out.begin());
        return pw.size();
    }
};
static_assert(ppp::credential_store<users>);

}  // namespace l2sec::test
