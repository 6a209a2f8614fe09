// Core vocabulary: bytes, reader/writer, result and errors, fixed containers
// (static_vector, ring_queue, id_pool, intrusive_list, hash_index, deadline_heap),
// the clock seam and the Internet checksum.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/checksum.hpp>
#include <l2sec/core/clock.hpp>
#include <l2sec/core/deadline_heap.hpp>
#include <l2sec/core/error.hpp>
#include <l2sec/core/hash_index.hpp>
#include <l2sec/core/id_pool.hpp>
#include <l2sec/core/intrusive_list.hpp>
#include <l2sec/core/reader.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/ring_queue.hpp>
#include <l2sec/core/static_vector.hpp>
#include <l2sec/core/writer.hpp>
