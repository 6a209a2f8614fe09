// Errors of the ESP codec and datapath (RFC 4303, RFC 3948).
#pragma once

#include <l2sec/core/error.hpp>

#include <system_error>
#include <type_traits>

namespace l2sec::esp {

enum class errc : int {
    truncated = 1,      ///< shorter than header + IV + minimal trailer + ICV
    spi_mismatch,       ///< the SPI is not this SA's
    sequence_zero,      ///< sequence number 0 is never sent (RFC 4303 3.3.3)
    replayed,           ///< already received (duplicate inside the window)
    too_old,            ///< left of the anti-replay window
    icv_mismatch,       ///< integrity check failed
    bad_length,         ///< ciphertext not a multiple of the cipher block size
    bad_pad_length,     ///< Pad Length exceeds the decrypted data
    bad_padding,        ///< padding bytes are not 1, 2, 3, ... (RFC 4303 2.4)
    sequence_overflow,  ///< the outbound counter would wrap: the SA must be rekeyed
    no_headroom,        ///< not enough room before the payload for the header and IV
    no_tailroom,        ///< not enough room after the payload for trailer and ICV
    invalid_config,     ///< algorithms, keys or window size unusable
    crypto_failure,     ///< the crypto backend failed (not an ICV mismatch)
    bad_inner_packet,   ///< tunnel/transport: not an IPv4/IPv6 packet we can handle
    not_esp,            ///< UDP 4500 datagram that is IKE or a NAT keepalive
};

constexpr const char* to_string(errc e) noexcept {
    switch (e) {
        case errc::truncated:
            return "ESP packet truncated";
        case errc::spi_mismatch:
            return "SPI does not belong to this SA";
        case errc::sequence_zero:
            return "sequence number zero";
        case errc::replayed:
            return "replayed packet";
        case errc::too_old:
            return "sequence number left of the replay window";
        case errc::icv_mismatch:
            return "integrity check value mismatch";
        case errc::bad_length:
            return "ciphertext length not a multiple of the block size";
        case errc::bad_pad_length:
            return "pad length exceeds the payload";
        case errc::bad_padding:
            return "padding bytes are not 1, 2, 3, ...";
        case errc::sequence_overflow:
            return "sequence number overflow: SA exhausted";
        case errc::no_headroom:
            return "no headroom for the ESP header";
        case errc::no_tailroom:
            return "no tailroom for the ESP trailer and ICV";
        case errc::invalid_config:
            return "invalid SA configuration";
        case errc::crypto_failure:
            return "crypto backend failure";
        case errc::bad_inner_packet:
            return "inner packet is not IPv4/IPv6 as expected";
        case errc::not_esp:
            return "not an ESP packet (IKE or NAT keepalive)";
    }
    return "unknown error";
}
constexpr const char* category_name(errc) noexcept {
    return "l2sec.esp";
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), l2sec::detail::category_of<errc>()};
}

}  // namespace l2sec::esp

template <>
struct std::is_error_code_enum<l2sec::esp::errc> : std::true_type {};
