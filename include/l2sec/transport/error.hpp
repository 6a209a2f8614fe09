// Transport errors: what a datagram policy reports besides the core errors.
#pragma once

#include <l2sec/core/error.hpp>

#include <system_error>
#include <type_traits>

namespace l2sec::transport {

enum class errc : int {
    would_block = 1,    ///< nothing to receive now (non-blocking), or the send queue is full
    message_too_large,  ///< the datagram does not fit the receive buffer or the link
    unreachable,        ///< no socket listens at the destination (in-memory network)
    system_error,       ///< a socket call failed; see errno in the POSIX transport
    address_invalid,    ///< an endpoint that cannot be used (family, port)
    permission_denied,  ///< the call needs a privilege the process lacks (CAP_NET_ADMIN,
                        ///< CAP_NET_RAW)
    not_supported,     ///< the kernel or the machine lacks the feature (no /dev/net/tun, no GSO...)
    name_in_use,       ///< an interface of that name exists and cannot be attached to
    truncated_packet,  ///< a packet's own length field says more than the bytes that came
};

constexpr const char* to_string(errc e) noexcept {
    switch (e) {
        case errc::would_block:
            return "operation would block";
        case errc::message_too_large:
            return "datagram too large";
        case errc::unreachable:
            return "destination unreachable";
        case errc::system_error:
            return "socket call failed";
        case errc::address_invalid:
            return "invalid endpoint";
        case errc::permission_denied:
            return "permission denied";
        case errc::not_supported:
            return "not supported by this kernel or machine";
        case errc::name_in_use:
            return "interface name in use";
        case errc::truncated_packet:
            return "packet truncated";
    }
    return "unknown error";
}
constexpr const char* category_name(errc) noexcept {
    return "l2sec.transport";
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), l2sec::detail::category_of<errc>()};
}

}  // namespace l2sec::transport

template <>
struct std::is_error_code_enum<l2sec::transport::errc> : std::true_type {};
