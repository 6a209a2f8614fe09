// Errors of the crypto seam: creating keyed contexts and running them.
#pragma once

#include <l2sec/core/error.hpp>

#include <system_error>
#include <type_traits>

namespace l2sec::crypto {

enum class errc : int {
    unsupported_algorithm = 1,  ///< the backend does not offer this algorithm
    invalid_key_length,         ///< the key does not have the algorithm's key size
    invalid_nonce_length,       ///< nonce/IV of the wrong size
    invalid_input_length,       ///< e.g. CBC input not a multiple of the block size
    authentication_failed,      ///< AEAD tag or ICV mismatch
    backend_failure,            ///< the backend reported an internal error
};

constexpr const char* to_string(errc e) noexcept {
    switch (e) {
        case errc::unsupported_algorithm:
            return "algorithm not supported by the backend";
        case errc::invalid_key_length:
            return "invalid key length";
        case errc::invalid_nonce_length:
            return "invalid nonce or IV length";
        case errc::invalid_input_length:
            return "invalid input length";
        case errc::authentication_failed:
            return "authentication failed";
        case errc::backend_failure:
            return "crypto backend failure";
    }
    return "unknown error";
}
constexpr const char* category_name(errc) noexcept {
    return "l2sec.crypto";
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), l2sec::detail::category_of<errc>()};
}

}  // namespace l2sec::crypto

template <>
struct std::is_error_code_enum<l2sec::crypto::errc> : std::true_type {};
