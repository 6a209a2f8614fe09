// The crypto seam without any crypto library: algorithm descriptors, the
// backend and random-source concepts, constant-time helpers, the DH/ECDH
// key-agreement seam (crypto/dh.hpp), and crypto::portable, the
// standard-library-only backend for L2TP and PPP. The Botan backend is
// <l2sec/crypto/botan.hpp> (target l2sec::botan).
#pragma once

#include <l2sec/crypto/algorithms.hpp>
#include <l2sec/crypto/concepts.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/crypto/des.hpp>
#include <l2sec/crypto/dh.hpp>
#include <l2sec/crypto/error.hpp>
#include <l2sec/crypto/portable.hpp>
