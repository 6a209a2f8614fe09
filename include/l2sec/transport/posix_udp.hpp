// A POSIX UDP socket as a transport::datagram: non-blocking, poll-friendly
// (fd() goes into poll/epoll), IPv4 and IPv6, no allocation per datagram.
#pragma once

#include <l2sec/transport/datagram.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace l2sec::transport {

namespace detail {

inline socklen_t to_sockaddr(const endpoint& e, sockaddr_storage& ss) noexcept {
    std::memset(&ss, 0, sizeof ss);
    if (e.family == endpoint::family_t::v4) {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(e.port);
        std::memcpy(&sin.sin_addr, e.addr.data(), 4);
        std::memcpy(&ss, &sin, sizeof sin);
        return sizeof sin;
    }
    if (e.family == endpoint::family_t::v6) {
        sockaddr_in6 sin6{};
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(e.port);
        std::memcpy(&sin6.sin6_addr, e.addr.data(), 16);
        std::memcpy(&ss, &sin6, sizeof sin6);
        return sizeof sin6;
    }
    return 0;
}

inline endpoint from_sockaddr(const sockaddr_storage& ss) noexcept {
    endpoint e;
    if (ss.ss_family == AF_INET) {
        sockaddr_in sin;
        std::memcpy(&sin, &ss, sizeof sin);
        e.family = endpoint::family_t::v4;
        e.port = ntohs(sin.sin_port);
        std::memcpy(e.addr.data(), &sin.sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        sockaddr_in6 sin6;
        std::memcpy(&sin6, &ss, sizeof sin6);
        e.family = endpoint::family_t::v6;
        e.port = ntohs(sin6.sin6_port);
        std::memcpy(e.addr.data(), &sin6.sin6_addr, 16);
    }
    return e;
}

}  // namespace detail

/// Socket options for the UDP transports (posix_udp, udp_batch, shard.hpp).
struct udp_options {
    bool reuse_address = true;  ///< SO_REUSEADDR
    bool reuse_port = false;    ///< SO_REUSEPORT: several sockets on one port (one per worker)
    bool v6_only = false;       ///< IPV6_V6ONLY on an IPv6 socket
    int receive_buffer = 0;     ///< SO_RCVBUF in bytes; 0 keeps the kernel's default
    int send_buffer = 0;        ///< SO_SNDBUF in bytes; 0 keeps the kernel's default
};

namespace detail {

/// A non-blocking UDP socket bound to `local` with `opt`; the descriptor and
/// the bound endpoint. Errors: address_invalid (endpoint), system_error naming
/// the call ("socket", "SO_REUSEPORT", "bind": e.g. the port is taken).
inline result<std::pair<int, endpoint>> open_udp(const endpoint& local,
                                                 const udp_options& opt) noexcept {
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(local, ss);
    if (len == 0) return error(errc::address_invalid, 0, "local endpoint");
    int fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return error(errc::system_error, 0, "socket");
    auto fail = [fd](const char* what) {
        ::close(fd);
        return error(errc::system_error, 0, what);
    };
    int one = 1;
    if (opt.reuse_address) (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (opt.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        return fail("SO_REUSEPORT");
    if (opt.v6_only && ss.ss_family == AF_INET6)
        (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (opt.receive_buffer > 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opt.receive_buffer, sizeof(int));
    if (opt.send_buffer > 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &opt.send_buffer, sizeof(int));
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0) return fail("bind");
    sockaddr_storage got{};
    socklen_t glen = sizeof got;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&got), &glen);
    return std::pair<int, endpoint>{fd, from_sockaddr(got)};
}

}  // namespace detail

class posix_udp {
  public:
    posix_udp() noexcept = default;
    posix_udp(const posix_udp&) = delete;
    posix_udp& operator=(const posix_udp&) = delete;
    posix_udp(posix_udp&& o) noexcept : fd_(std::exchange(o.fd_, -1)), local_(o.local_) {}
    posix_udp& operator=(posix_udp&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
            local_ = o.local_;
        }
        return *this;
    }
    ~posix_udp() { close(); }

    /// A non-blocking UDP socket bound to `local` (port 0 picks a free port).
    static result<posix_udp> bind(const endpoint& local) noexcept { return bind(local, {}); }
    /// The same with socket options (SO_REUSEPORT for one socket per worker, buffers).
    static result<posix_udp> bind(const endpoint& local, const udp_options& opt) noexcept {
        auto r = detail::open_udp(local, opt);
        if (!r) return r.error();
        posix_udp s;
        s.fd_ = r->first;
        s.local_ = r->second;
        return s;
    }

    result<std::size_t> send_to(const endpoint& to, bytes_view data) noexcept {
        sockaddr_storage ss;
        socklen_t len = detail::to_sockaddr(to, ss);
        if (len == 0) return error(errc::address_invalid, 0, "destination");
        ssize_t n =
            ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&ss), len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return error(errc::would_block);
            if (errno == EMSGSIZE) return error(errc::message_too_large);
            if (errno == ECONNREFUSED) return error(errc::unreachable);
            return error(errc::system_error, 0, "sendto");
        }
        return static_cast<std::size_t>(n);
    }

    result<received> receive_from(mutable_bytes buf) noexcept {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), MSG_TRUNC,
                               reinterpret_cast<sockaddr*>(&ss), &len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return error(errc::would_block);
            if (errno == ECONNREFUSED) return error(errc::unreachable);
            return error(errc::system_error, 0, "recvfrom");
        }
        if (static_cast<std::size_t>(n) > buf.size()) return error(errc::message_too_large);
        return received{static_cast<std::size_t>(n), detail::from_sockaddr(ss)};
    }

    endpoint local_endpoint() const noexcept { return local_; }
    /// The descriptor, for poll/epoll; -1 when not open.
    int fd() const noexcept { return fd_; }
    bool is_open() const noexcept { return fd_ >= 0; }
    void close() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_ = -1;
    endpoint local_{};
};

static_assert(datagram<posix_udp>);

}  // namespace l2sec::transport
