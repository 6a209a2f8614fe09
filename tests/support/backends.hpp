// The crypto backends the known-answer suites run against, as type lists for
// doctest's TEST_CASE_TEMPLATE_APPLY. A new backend (a user's own) joins a
// suite by being added to the list it satisfies, and declares in
// backend_traits what it deliberately lacks. crypto::openssl is in the lists
// when the suite links l2sec::openssl (tests/CMakeLists.txt then defines
// L2SEC_TEST_OPENSSL); with Botan alone the lists hold Botan alone.
//
// heap_allocations_in(f) counts every heap allocation f makes: global
// operator new (all backends, support/main.cpp) plus, with OpenSSL linked,
// OpenSSL's own mallocs (CRYPTO_malloc/realloc, hooked with
// CRYPTO_set_mem_functions before OpenSSL allocates anything), which
// operator new alone would not see.
#pragma once

#include <l2sec/crypto/botan.hpp>
#include <l2sec/crypto/portable.hpp>

#include "support/alloc_counter.hpp"

#if defined(L2SEC_TEST_OPENSSL)
#include <l2sec/crypto/openssl.hpp>

#include <openssl/crypto.h>

#include <cstdlib>
#endif

#include <atomic>
#include <cstddef>
#include <tuple>
#include <type_traits>

namespace l2sec::test {

#if defined(L2SEC_TEST_OPENSSL)
inline constexpr bool have_openssl = true;
/// Backends with digests, HMAC and DES (crypto::auth_backend + make_mac):
/// the L2TP/PPP known-answer suites.
using auth_backends = std::tuple<crypto::portable, crypto::botan, crypto::openssl>;
/// Backends for the ESP/IKE datapath suites (crypto::datapath_backend).
using datapath_backends = std::tuple<crypto::botan, crypto::openssl>;
/// Full backends (crypto::backend + crypto::dh_backend): IKE, DH/ECDH.
using full_backends = std::tuple<crypto::botan, crypto::openssl>;
/// Every shipped CSPRNG.
using random_sources =
    std::tuple<crypto::botan::random, crypto::portable::random, crypto::openssl::random>;
/// Ordered pairs of distinct full backends (sealed by the first, opened by the second).
template <class A, class B>
struct backend_pair {
    using first = A;
    using second = B;
};
using cross_backends = std::tuple<backend_pair<crypto::botan, crypto::openssl>,
                                  backend_pair<crypto::openssl, crypto::botan>>;

namespace detail {
inline std::atomic<std::size_t> openssl_mallocs{0};
inline void* counting_malloc(std::size_t n, const char*, int) {
    openssl_mallocs.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n);
}
inline void* counting_realloc(void* p, std::size_t n, const char*, int) {
    openssl_mallocs.fetch_add(1, std::memory_order_relaxed);
    return std::realloc(p, n);
}
inline void counting_free(void* p, const char*, int) {
    std::free(p);
}
// Installed during static initialisation, before main and so before any
// OpenSSL call (CRYPTO_set_mem_functions refuses once OpenSSL has allocated).
inline const bool openssl_hook_installed =
    CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;
}  // namespace detail

/// Whether OpenSSL's mallocs are being counted (false only if something
/// made OpenSSL allocate before the hook went in).
inline bool counting_openssl() noexcept {
    return detail::openssl_hook_installed;
}
inline std::size_t openssl_allocations() noexcept {
    (void)detail::openssl_hook_installed;  // odr-used: the hook goes in with this header
    return detail::openssl_mallocs.load(std::memory_order_relaxed);
}
#else
inline constexpr bool have_openssl = false;
using auth_backends = std::tuple<crypto::portable, crypto::botan>;
using datapath_backends = std::tuple<crypto::botan>;
using full_backends = std::tuple<crypto::botan>;
using random_sources = std::tuple<crypto::botan::random, crypto::portable::random>;
template <class A, class B>
struct backend_pair {
    using first = A;
    using second = B;
};
/// With one backend there is no other to cross with: Botan against itself.
using cross_backends = std::tuple<backend_pair<crypto::botan, crypto::botan>>;
inline bool counting_openssl() noexcept {
    return false;
}
inline std::size_t openssl_allocations() noexcept {
    return 0;
}
#endif

/// Every heap allocation f makes: operator new plus OpenSSL's mallocs.
template <class F>
std::size_t heap_allocations_in(F&& f) {
    const std::size_t before = openssl_allocations();
    const std::size_t n = allocations_in(static_cast<F&&>(f));
    return n + (openssl_allocations() - before);
}

/// The backend's name as the benchmarks and docs spell it.
template <class B>
constexpr const char* backend_name() noexcept {
    if constexpr (std::is_same_v<B, crypto::botan>)
        return "botan";
    else if constexpr (std::is_same_v<B, crypto::portable>)
        return "portable";
#if defined(L2SEC_TEST_OPENSSL)
    else if constexpr (std::is_same_v<B, crypto::openssl>)
        return "openssl";
#endif
    else
        return "user";
}

/// What a backend offers beyond the minimum its list demands.
template <class B>
struct backend_traits {
    static constexpr bool sha384_512 = true;  ///< SHA-384/512 and their HMACs
};
template <>
struct backend_traits<crypto::portable> {
    static constexpr bool sha384_512 = false;
};

}  // namespace l2sec::test
