// Shared helpers for the typed option catalogues.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ppp/error.hpp>

#include <cstddef>
#include <cstdint>

namespace l2sec::ppp::detail {

/// `offset` is the absolute offset of the option's Type byte: a bad size is
/// reported at its Length byte.
inline error option_size_error(std::size_t offset, const char* field) noexcept {
    return error(errc::option_bad_length, offset + 1, field);
}

}  // namespace l2sec::ppp::detail
