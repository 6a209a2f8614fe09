// ESP without UDP encapsulation: a raw IPv4 socket for IP protocol 50 (RFC
// 4303), the transport of an L2TP/IPsec peer that is not behind a NAT. The
// same datagram shape as posix_udp (transport::datagram): receive_from puts
// the ESP bytes (outer IP header stripped) at the start of the caller's
// buffer and names the sender; send_to takes ESP bytes and a destination and
// the kernel writes the IP header. Non-blocking, no allocation, fd() for poll.
//
//   auto esp = transport::raw_esp::bind(endpoint::v4(0, 0, 0, 0, 0));  // CAP_NET_RAW
//   auto r = esp->receive(buf);          // result<esp_received>: size, from, to
//   esp->send_to(peer, packet, r->to);   // answer from the address the peer used
//
// The kernel hands every raw socket of protocol 50 a copy of each packet (and
// still gives it to its own ESP, if it has one and an SA matches); bind to one
// address to see only what is sent to it, or shard by source with shard.hpp.
// Endpoints carry port 0. IPv4 and IPv6 (bind to an IPv6 address: the kernel
// strips that header itself and IPV6_PKTINFO names the destination).
#pragma once

#include <l2sec/transport/datagram.hpp>
#include <l2sec/transport/detail/sys.hpp>
#include <l2sec/transport/posix_udp.hpp>
#include <l2sec/transport/udp_batch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <span>
#include <utility>

namespace l2sec::transport {

inline constexpr int ip_protocol_esp = 50;

/// What an IPv4 header says (the fields a raw-socket reader needs).
struct ipv4_header_info {
    std::size_t header_len = 0;  ///< IHL * 4
    std::size_t total_len = 0;   ///< Total Length
    std::uint8_t protocol = 0;
    endpoint src{}, dst{};  ///< port 0
};

/// Checks an IPv4 header at the start of `p`. Errors: truncated_packet (fewer
/// bytes than the header or than Total Length; offset = bytes available),
/// address_invalid (not version 4, IHL below 5: offset 0, field "IPv4 header").
inline result<ipv4_header_info> parse_ipv4_header(bytes_view p) noexcept {
    if (p.size() < 20) return error(errc::truncated_packet, p.size(), "IPv4 header");
    const unsigned b0 = std::to_integer<unsigned>(p[0]);
    if ((b0 >> 4) != 4 || (b0 & 0xf) < 5) return error(errc::address_invalid, 0, "IPv4 header");
    ipv4_header_info h;
    h.header_len = (b0 & 0xfu) * 4u;
    h.total_len = load_be16(p.data() + 2);
    if (h.total_len < h.header_len)
        return error(errc::address_invalid, 2, "IPv4 Total Length below the header");
    if (p.size() < h.header_len) return error(errc::truncated_packet, p.size(), "IPv4 options");
    h.protocol = std::to_integer<std::uint8_t>(p[9]);
    h.src.family = h.dst.family = endpoint::family_t::v4;
    std::memcpy(h.src.addr.data(), p.data() + 12, 4);
    std::memcpy(h.dst.addr.data(), p.data() + 16, 4);
    return h;
}

/// One ESP packet received: `size` bytes at the start of the buffer, from
/// `from` to `to` (the outer addresses; `to` is the local address it was sent to).
struct esp_received {
    std::size_t size = 0;
    endpoint from{};
    endpoint to{};
};

class raw_esp {
  public:
    raw_esp() noexcept = default;
    raw_esp(const raw_esp&) = delete;
    raw_esp& operator=(const raw_esp&) = delete;
    raw_esp(raw_esp&& o) noexcept : fd_(std::exchange(o.fd_, -1)), local_(o.local_) {}
    raw_esp& operator=(raw_esp&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
            local_ = o.local_;
        }
        return *this;
    }
    ~raw_esp() { close(); }

    /// A non-blocking raw socket for protocol 50 bound to `local` (IPv4; the
    /// port is ignored; 0.0.0.0 receives ESP sent to any local address).
    /// Errors: address_invalid (not IPv4, or an address that is not local),
    /// permission_denied (no CAP_NET_RAW), system_error.
    static result<raw_esp> bind(const endpoint& local) noexcept {
        const bool v6 = local.family == endpoint::family_t::v6;
        if (local.family != endpoint::family_t::v4 && !v6)
            return error(errc::address_invalid, 0, "local endpoint");
        int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          ip_protocol_esp);
        if (fd < 0) return detail::sys_error(errno, "socket(SOCK_RAW, 50)");
        endpoint bound = local;
        bound.port = 0;
        sockaddr_storage ss;
        socklen_t len = detail::to_sockaddr(bound, ss);
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
            const int e = errno;
            ::close(fd);
            return detail::sys_error(e, "bind");
        }
        int one = 1;
        if (v6)
            (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
        else
            (void)::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
        raw_esp s;
        s.fd_ = fd;
        s.local_ = bound;
        return s;
    }

    /// Send ESP bytes to `to` (port ignored); the kernel adds the IPv4 header,
    /// from the bound address, or from `from` when given (IP_PKTINFO: a socket
    /// bound to 0.0.0.0 answers from the address the peer used). Errors:
    /// address_invalid, would_block, message_too_large, unreachable, system_error.
    result<std::size_t> send_to(const endpoint& to, bytes_view esp,
                                const endpoint& from = {}) noexcept {
        if (to.family != local_.family || !to.valid())
            return error(errc::address_invalid, 0, "destination (family of the socket)");
        sockaddr_storage ss;
        iovec iov;
        control_block control;
        msghdr m{};
        prepare(m, ss, iov, control, to, esp, from);
        const ssize_t n = ::sendmsg(fd_, &m, 0);
        if (n < 0) return detail::sys_error(errno, "sendmsg");
        return static_cast<std::size_t>(n);
    }

    /// send_to for up to max_batch packets with one sendmmsg (tx_datagram's
    /// `to` and `from` as send_to's). Returns how many were sent, a prefix:
    /// all, or those before the first the kernel refused (call again for the
    /// rest, or drop it). Errors: as send_to, for the first packet;
    /// address_invalid also when any packet's destination is of another
    /// family (nothing is sent then).
    result<std::size_t> send_batch(std::span<const tx_datagram> items) noexcept {
        const std::size_t n = items.size() < max_batch ? items.size() : max_batch;
        if (n == 0) return std::size_t{0};
        std::array<sockaddr_storage, max_batch> ss;
        std::array<iovec, max_batch> iov;
        std::array<control_block, max_batch> control;
        std::array<mmsghdr, max_batch> mm{};
        for (std::size_t i = 0; i < n; ++i) {
            const auto& it = items[i];
            if (it.to.family != local_.family || !it.to.valid())
                return error(errc::address_invalid, 0, "destination (family of the socket)");
            prepare(mm[i].msg_hdr, ss[i], iov[i], control[i], it.to, it.data, it.from);
        }
        const int sent = ::sendmmsg(fd_, mm.data(), static_cast<unsigned>(n), 0);
        if (sent < 0) return detail::sys_error(errno, "sendmmsg");
        return static_cast<std::size_t>(sent);
    }

    /// The next ESP packet, its outer IPv4 header stripped, at buf[0, size).
    /// Errors: would_block, message_too_large (the ESP bytes exceed the buffer;
    /// the packet is dropped), truncated_packet / address_invalid (a header the
    /// kernel should never give; the packet is dropped), system_error.
    result<esp_received> receive(mutable_bytes buf) noexcept {
        if (local_.family == endpoint::family_t::v6) return receive_v6(buf);
        // The first 20 bytes (the header without options) go to a scratch
        // area, the rest straight into the caller's buffer: no copy unless
        // the header has options (rare; then they are moved out).
        std::array<std::byte, 20> hdr;
        iovec iov[2] = {{hdr.data(), hdr.size()}, {buf.data(), buf.size()}};
        sockaddr_storage ss{};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))];
        msghdr m{};
        m.msg_name = &ss;
        m.msg_namelen = sizeof ss;
        m.msg_iov = iov;
        m.msg_iovlen = 2;
        m.msg_control = control;
        m.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(fd_, &m, MSG_TRUNC);
        if (n < 0) return detail::sys_error(errno, "recvmsg");
        return finish_v4(hdr, static_cast<std::size_t>(n), buf, m);
    }

    /// The most packets one receive_batch call takes.
    static constexpr std::size_t max_batch = 32;

    /// Up to min(bufs.size(), out.size(), max_batch) ESP packets with one
    /// recvmmsg (IPv6: receive() in a loop): packet i's ESP bytes at
    /// bufs[i][0, out[i].size), as receive() puts them. Returns how many slots
    /// were filled (at least 1). A slot whose packet is dropped (it exceeded
    /// its buffer, or a header the kernel should never give) has size 0 and
    /// the rest of the batch is still good. Errors: would_block (nothing
    /// waiting), address_invalid (no slot), system_error.
    result<std::size_t> receive_batch(std::span<const mutable_bytes> bufs,
                                      std::span<esp_received> out) noexcept {
        std::size_t want = bufs.size() < out.size() ? bufs.size() : out.size();
        if (want > max_batch) want = max_batch;
        if (want == 0) return error(errc::address_invalid, 0, "empty batch");
        if (local_.family == endpoint::family_t::v6) {
            std::size_t k = 0;
            for (; k < want; ++k) {
                auto r = receive_v6(bufs[k]);
                if (!r && (r.error() == errc::would_block || r.error() == errc::system_error)) {
                    if (k == 0) return r.error();
                    break;
                }
                out[k] = r ? *r : esp_received{};
            }
            return k;
        }
        // Per slot: the 20-byte header scratch, two iovecs, the sender and
        // the IP_PKTINFO control block; all on the stack (~9 KiB).
        std::array<std::array<std::byte, 20>, max_batch> hdr;
        std::array<std::array<iovec, 2>, max_batch> iov;
        std::array<sockaddr_storage, max_batch> ss;
        std::array<control_block, max_batch> control;
        std::array<mmsghdr, max_batch> mm{};
        for (std::size_t i = 0; i < want; ++i) {
            iov[i] = {iovec{hdr[i].data(), hdr[i].size()}, iovec{bufs[i].data(), bufs[i].size()}};
            msghdr& m = mm[i].msg_hdr;
            m.msg_name = &ss[i];
            m.msg_namelen = sizeof ss[i];
            m.msg_iov = iov[i].data();
            m.msg_iovlen = 2;
            m.msg_control = control[i].bytes;
            m.msg_controllen = sizeof control[i].bytes;
        }
        const int n = ::recvmmsg(fd_, mm.data(), static_cast<unsigned>(want), MSG_TRUNC, nullptr);
        if (n < 0) return detail::sys_error(errno, "recvmmsg");
        const auto got = static_cast<std::size_t>(n);
        for (std::size_t i = 0; i < got; ++i) {
            auto r = finish_v4(hdr[i], mm[i].msg_len, bufs[i], mm[i].msg_hdr);
            out[i] = r ? *r : esp_received{};
        }
        return got;
    }

    /// transport::datagram's receive: receive() without the destination.
    result<received> receive_from(mutable_bytes buf) noexcept {
        auto r = receive(buf);
        if (!r) return r.error();
        return received{r->size, r->from};
    }

    endpoint local_endpoint() const noexcept { return local_; }
    int fd() const noexcept { return fd_; }
    bool is_open() const noexcept { return fd_ >= 0; }
    void close() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    struct alignas(cmsghdr) control_block {
        char bytes[CMSG_SPACE(sizeof(in6_pktinfo))];
    };

    // One outgoing message: destination `to` (port 0), the ESP bytes, and
    // an IP_PKTINFO / IPV6_PKTINFO source when `from` names one.
    void prepare(msghdr& m, sockaddr_storage& ss, iovec& iov, control_block& control,
                 const endpoint& to, bytes_view esp, const endpoint& from) const noexcept {
        endpoint dst = to;
        dst.port = 0;
        m = msghdr{};
        m.msg_name = &ss;
        m.msg_namelen = detail::to_sockaddr(dst, ss);
        iov = {const_cast<std::byte*>(esp.data()), esp.size()};
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        if (from.family == endpoint::family_t::v6 && local_.family == endpoint::family_t::v6) {
            std::memset(control.bytes, 0, sizeof control.bytes);
            m.msg_control = control.bytes;
            m.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
            cmsghdr* c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
            in6_pktinfo pi{};
            std::memcpy(&pi.ipi6_addr, from.addr.data(), 16);
            std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        } else if (from.family == endpoint::family_t::v4) {
            std::memset(control.bytes, 0, sizeof control.bytes);
            m.msg_control = control.bytes;
            m.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
            cmsghdr* c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
            in_pktinfo pi{};
            std::memcpy(&pi.ipi_spec_dst, from.addr.data(), 4);
            std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
        }
    }

    // receive()'s checks of one IPv4 message: `got` bytes (MSG_TRUNC: the
    // whole length), the first 20 in `hdr`, the rest in `buf`.
    static result<esp_received> finish_v4(const std::array<std::byte, 20>& hdr, std::size_t got,
                                          mutable_bytes buf, msghdr& m) noexcept {
        auto h = parse_ipv4_header(bytes_view(hdr.data(), got < 20 ? got : 20));
        if (!h) return h.error();
        if (got > hdr.size() + buf.size()) return error(errc::message_too_large, 0, "ESP packet");
        const std::size_t opts = h->header_len - 20;
        if (got < h->header_len) return error(errc::truncated_packet, got, "IPv4 options");
        const std::size_t size = got - h->header_len;
        if (opts) std::memmove(buf.data(), buf.data() + opts, size);
        esp_received r{size, h->src, h->dst};
        for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                in_pktinfo pi;
                std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                std::memcpy(r.to.addr.data(), &pi.ipi_addr, 4);  // same as the header's dst
            }
        }
        return r;
    }

    // An IPv6 raw socket gets no IP header: the payload straight into the
    // buffer, the source from the address, the destination from IPV6_PKTINFO.
    result<esp_received> receive_v6(mutable_bytes buf) noexcept {
        iovec iov{buf.data(), buf.size()};
        sockaddr_storage ss{};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))];
        msghdr m{};
        m.msg_name = &ss;
        m.msg_namelen = sizeof ss;
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        m.msg_control = control;
        m.msg_controllen = sizeof control;
        const ssize_t n = ::recvmsg(fd_, &m, MSG_TRUNC);
        if (n < 0) return detail::sys_error(errno, "recvmsg");
        if (static_cast<std::size_t>(n) > buf.size())
            return error(errc::message_too_large, 0, "ESP packet");
        esp_received r{static_cast<std::size_t>(n), detail::from_sockaddr(ss), local_};
        r.from.port = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                in6_pktinfo pi;
                std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                std::memcpy(r.to.addr.data(), &pi.ipi6_addr, 16);
            }
        }
        return r;
    }

    int fd_ = -1;
    endpoint local_{};
};

static_assert(datagram<raw_esp>, "raw_esp must satisfy transport::datagram");

}  // namespace l2sec::transport
