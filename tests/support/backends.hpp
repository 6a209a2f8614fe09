// The crypto backends the known-answer suites run against, as type lists for
// doctest's TEST_CASE_TEMPLATE_APPLY. A new backend (crypto::openssl, a
// user's own) joins a suite by being added to the list it satisfies, and
// declares in backend_traits what it deliberately lacks.
#pragma once

#include <l2sec/crypto/botan.hpp>
#include <l2sec/crypto/portable.hpp>

#include <tuple>

namespace l2sec::test {

/// Backends with digests, HMAC and DES (crypto::auth_backend + make_mac):
/// the L2TP/PPP known-answer suites.
using auth_backends = std::tuple<crypto::portable, crypto::botan>;
/// Backends for the ESP/IKE datapath suites (crypto::datapath_backend).
using datapath_backends = std::tuple<crypto::botan>;

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
