// Core vocabulary: bytes, reader/writer, result and errors, fixed containers,
// the clock seam and the Internet checksum.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/checksum.hpp>
#include <l2sec/core/clock.hpp>
#include <l2sec/core/error.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/static_vector.hpp>
#include <l2sec/core/writer.hpp>
