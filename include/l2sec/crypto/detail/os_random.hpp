// The operating system's CSPRNG (getrandom(2) on Linux, arc4random_buf on
// the BSDs and macOS), behind crypto::portable::random: what a build without
// a crypto library uses for challenges, magic numbers and nonces. Internal:
// use crypto::portable::random.
#pragma once

#include <l2sec/core/bytes.hpp>

#include <cerrno>
#include <cstddef>

#if defined(__linux__)
#include <sys/random.h>
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#include <stdlib.h>
#define L2SEC_HAVE_ARC4RANDOM 1
#else
#error \
    "crypto::portable::random: no system CSPRNG known for this platform; plug in your own crypto::random_source"
#endif

namespace l2sec::crypto::detail {

/// Fills `out` from the kernel's CSPRNG; false only if the kernel refuses.
inline bool os_random_fill(mutable_bytes out) noexcept {
#ifdef L2SEC_HAVE_ARC4RANDOM
    arc4random_buf(out.data(), out.size());
    return true;
#else
    std::size_t done = 0;
    while (done < out.size()) {
        const auto n = ::getrandom(out.data() + done, out.size() - done, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
#endif
}

}  // namespace l2sec::crypto::detail
