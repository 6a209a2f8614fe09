// The OpenSSL 3 backend and everything of the seam it implements (link
// l2sec::openssl). docs/crypto-backends.md compares it with crypto::botan.
#pragma once

#include <l2sec/crypto.hpp>
#include <l2sec/crypto/openssl/backend.hpp>
#include <l2sec/crypto/openssl/dh.hpp>
