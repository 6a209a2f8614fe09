// The Botan backend and everything of the seam it implements (link l2sec::botan).
#pragma once

#include <l2sec/crypto.hpp>
#include <l2sec/crypto/botan/backend.hpp>
#include <l2sec/crypto/botan/dh.hpp>
