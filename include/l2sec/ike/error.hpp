// Errors of the IKE codecs (IKEv1/ISAKMP and IKEv2), category "l2sec.ike".
#pragma once

#include <l2sec/core/error.hpp>

#include <system_error>
#include <type_traits>

namespace l2sec::ike {

enum class errc : int {
    truncated = 1,             ///< the input ended inside a fixed field
    header_length_mismatch,    ///< the header's length disagrees with the datagram
    unsupported_version,       ///< major version neither 1 nor 2
    payload_length_too_small,  ///< a payload length below its header size
    payload_length_overrun,    ///< a payload length beyond the enclosing data
    trailing_data,             ///< bytes after the last payload of a chain
    bad_substructure,          ///< a proposal/transform chain with the wrong types
    bad_attribute,             ///< a data attribute that runs past its transform
    bad_spi_size,              ///< an SPI size not allowed for the protocol
    bad_field,                 ///< a fixed field with an impossible value
    non_esp_marker_missing,    ///< UDP 4500 datagram without the four zero bytes
    not_encrypted,             ///< SK/SKF expected but missing, or flag not set
    integrity_check_failed,    ///< ICV / AEAD tag mismatch
    bad_padding,               ///< the pad length exceeds the decrypted data
    bad_block_size,            ///< ciphertext not a multiple of the block size
    unsupported_algorithm,     ///< a transform l2sec does not implement
    fragment_mismatch,         ///< fragment number/total inconsistent
    too_many_fragments,        ///< more fragments than the reassembler holds
    crypto_failure,            ///< the crypto backend refused an operation
};

constexpr const char* to_string(errc e) noexcept {
    switch (e) {
        case errc::truncated:
            return "input truncated";
        case errc::header_length_mismatch:
            return "header length does not match the datagram";
        case errc::unsupported_version:
            return "unsupported IKE major version";
        case errc::payload_length_too_small:
            return "payload length below its header size";
        case errc::payload_length_overrun:
            return "payload length beyond the enclosing data";
        case errc::trailing_data:
            return "data after the last payload";
        case errc::bad_substructure:
            return "wrong proposal/transform substructure";
        case errc::bad_attribute:
            return "data attribute overruns its transform";
        case errc::bad_spi_size:
            return "SPI size not allowed";
        case errc::bad_field:
            return "invalid field value";
        case errc::non_esp_marker_missing:
            return "non-ESP marker missing";
        case errc::not_encrypted:
            return "encrypted payload missing";
        case errc::integrity_check_failed:
            return "integrity check failed";
        case errc::bad_padding:
            return "bad padding";
        case errc::bad_block_size:
            return "ciphertext not a multiple of the block size";
        case errc::unsupported_algorithm:
            return "unsupported algorithm";
        case errc::fragment_mismatch:
            return "inconsistent fragment";
        case errc::too_many_fragments:
            return "too many fragments";
        case errc::crypto_failure:
            return "crypto backend failure";
    }
    return "unknown error";
}
constexpr const char* category_name(errc) noexcept {
    return "l2sec.ike";
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), l2sec::detail::category_of<errc>()};
}

}  // namespace l2sec::ike

template <>
struct std::is_error_code_enum<l2sec::ike::errc> : std::true_type {};
