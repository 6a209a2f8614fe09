// The transport seam: one concept for anything that sends and receives
// datagrams (a POSIX UDP socket, the in-memory lossy network of the tests, an
// asio or io_uring adapter of your own). Engines never see it; drivers do.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/transport/endpoint.hpp>
#include <l2sec/transport/error.hpp>

#include <concepts>
#include <cstddef>

namespace l2sec::transport {

/// What receive_from returns: how many bytes were written and who sent them.
struct received {
    std::size_t size = 0;
    endpoint from{};
};

/// A datagram transport. Both calls are non-blocking: receive_from reports
/// errc::would_block when nothing is waiting, send_to may report it when the
/// link cannot take more. Neither allocates.
template <class T>
concept datagram = requires(T& t, const endpoint& to, bytes_view out, mutable_bytes in) {
    { t.send_to(to, out) } -> std::same_as<result<std::size_t>>;
    { t.receive_from(in) } -> std::same_as<result<received>>;
    { t.local_endpoint() } -> std::convertible_to<endpoint>;
};

}  // namespace l2sec::transport
