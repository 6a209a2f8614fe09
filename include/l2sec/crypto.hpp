// The crypto seam without any crypto library: algorithm descriptors, the
// backend concepts, constant-time helpers, portable MD5/SHA-1/SHA-256 and
// HMAC, and the DH/ECDH key-agreement seam (crypto/dh.hpp). The Botan backend is
// <l2sec/crypto/botan.hpp> (target l2sec::botan).
#pragma once

#include <l2sec/crypto/algorithms.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/crypto/des.hpp>
#if __has_include(<l2sec/crypto/dh.hpp>)
#include <l2sec/crypto/dh.hpp>
#endif
#include <l2sec/crypto/error.hpp>
#include <l2sec/crypto/hash.hpp>
#include <l2sec/crypto/hmac.hpp>
#include <l2sec/crypto/sha.hpp>
