// errno to transport::errc, shared by the POSIX/Linux transports (internal).
#pragma once

#include <l2sec/transport/error.hpp>

#include <cerrno>

namespace l2sec::transport::detail {

/// The transport error for the errno a system call left; `what` names the call.
inline l2sec::error sys_error(int e, const char* what) noexcept {
    switch (e) {
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
            return {errc::would_block, 0, what};
        case EMSGSIZE:
            return {errc::message_too_large, 0, what};
        case ECONNREFUSED:
        case EHOSTUNREACH:
        case ENETUNREACH:
            return {errc::unreachable, 0, what};
        case EPERM:
        case EACCES:
            return {errc::permission_denied, 0, what};
        case ENOENT:
        case ENODEV:
        case ENXIO:
        case ENOPROTOOPT:
        case EOPNOTSUPP:
        case EPROTONOSUPPORT:
        case EAFNOSUPPORT:
            return {errc::not_supported, 0, what};
        case EBUSY:
        case EEXIST:
            return {errc::name_in_use, 0, what};
        case EADDRNOTAVAIL:
        case EINVAL:
            return {errc::address_invalid, 0, what};
        default:
            return {errc::system_error, 0, what};
    }
}

}  // namespace l2sec::transport::detail
