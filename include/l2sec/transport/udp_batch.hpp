// Batched UDP for the datapath: recvmmsg/sendmmsg over a fixed array of
// buffers, UDP GSO (UDP_SEGMENT) for runs of same-size datagrams to one peer,
// UDP GRO (UDP_GRO) on receive, and the local address of every datagram
// (IP_PKTINFO / IPV6_PKTINFO), so a server bound to 0.0.0.0 answers from the
// address the client used. The kernel features are probed once at bind and
// dropped silently when absent (or when the first use fails); features()
// reports what is active. Nothing is allocated after bind().
//
//   auto s = transport::udp_batch<>::bind(endpoint::v4(0, 0, 0, 0, 4500));
//   if (auto n = s->receive_batch())                       // one recvmmsg
//       s->for_each([&](const rx_datagram& d) { ... d.data, d.from, d.to ... });
//   tx_datagram out[] = {{pkt1, peer, local}, {pkt2, peer, local}};
//   s->send_batch(out);                                     // one sendmmsg (+ GSO)
//
// GRO coalesces up to 64 KiB per receive slot: it is used only when the
// slots are that large (udp_batch<N, 65535>); with smaller slots it stays off.
// The simple per-datagram calls (send_to, receive_from) remain, so the socket
// is also a transport::datagram.
#pragma once

#include <l2sec/transport/datagram.hpp>
#include <l2sec/transport/detail/sys.hpp>
#include <l2sec/transport/posix_udp.hpp>

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace l2sec::transport {

/// Which kernel features a udp_batch socket uses.
struct udp_features {
    bool gso = false;      ///< UDP_SEGMENT: one sendmmsg entry carries a run of datagrams
    bool gro = false;      ///< UDP_GRO: one receive slot may hold several datagrams
    bool pktinfo = false;  ///< the local address of each datagram is known (rx_datagram::to)
};

/// Options: the socket's (udp_options) and which features to try.
struct udp_batch_options {
    udp_options socket{};
    bool try_gso = true;
    bool try_gro = true;
};

/// Counters, for benchmarks and tests: system calls made and what they moved.
struct udp_batch_stats {
    std::uint64_t syscalls = 0, sent = 0, received = 0, gso_messages = 0, gro_slots = 0,
                  truncated = 0;
};

/// One received datagram: its bytes (in the socket's slot, writable: decrypt
/// in place), the sender, and the local address and port it was sent to.
struct rx_datagram {
    mutable_bytes data;
    endpoint from{};
    endpoint to{};
};

/// One datagram to send: bytes (the caller's buffer, not copied), where to,
/// and optionally from which local address (IP_PKTINFO; family none = any).
struct tx_datagram {
    bytes_view data;
    endpoint to{};
    endpoint from{};
};

template <std::size_t Batch = 32, std::size_t MaxSize = 2048>
class udp_batch {
    static_assert(Batch >= 1 && Batch <= 1024, "udp_batch: Batch must be in 1..1024 (UIO_MAXIOV)");
    static_assert(MaxSize >= 576 && MaxSize <= 65535,
                  "udp_batch: MaxSize must be in 576..65535 bytes");

  public:
    /// Most datagrams the kernel puts in one GSO message (UDP_MAX_SEGMENTS).
    static constexpr std::size_t max_gso_segments = 64;
    static constexpr bool gro_possible = MaxSize >= 65535;

    udp_batch() noexcept = default;
    udp_batch(udp_batch&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)), local_(o.local_), feat_(o.feat_), st_(std::move(o.st_)) {}
    udp_batch& operator=(udp_batch&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
            local_ = o.local_;
            feat_ = o.feat_;
            st_ = std::move(o.st_);
        }
        return *this;
    }
    ~udp_batch() { close(); }

    /// Bind (non-blocking) and probe GSO, GRO and PKTINFO. The one allocation:
    /// the slots (Batch * MaxSize bytes plus headers). Errors: as posix_udp::bind,
    /// and capacity_exceeded (l2sec::errc) when the slots cannot be allocated.
    static result<udp_batch> bind(const endpoint& local,
                                  const udp_batch_options& opt = {}) noexcept {
        auto r = detail::open_udp(local, opt.socket);
        if (!r) return r.error();
        udp_batch s;
        s.fd_ = r->first;
        s.local_ = r->second;
        s.st_.reset(new (std::nothrow) storage);
        if (!s.st_) return error(l2sec::errc::capacity_exceeded, 0, "udp_batch slots");
        int one = 1, zero = 0;
        const bool v6 = local.family == endpoint::family_t::v6;
        if (v6) {
            s.feat_.pktinfo =
                ::setsockopt(s.fd_, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) == 0;
            (void)::setsockopt(s.fd_, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);  // v4-mapped
        } else {
            s.feat_.pktinfo = ::setsockopt(s.fd_, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == 0;
        }
        if (opt.try_gso)
            s.feat_.gso = ::setsockopt(s.fd_, SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
        if (opt.try_gro && gro_possible)
            s.feat_.gro = ::setsockopt(s.fd_, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
        return s;
    }

    // --- batched receive ---

    /// One recvmmsg into the slots. Returns how many datagrams arrived (GRO
    /// slots counted by their segments); would_block when none; system_error.
    /// The datagrams stay valid until the next receive_batch().
    result<std::size_t> receive_batch() noexcept {
        if (!st_) return error(errc::address_invalid, 0, "udp_batch not bound");
        storage& s = *st_;
        for (std::size_t i = 0; i < Batch; ++i) {
            s.rx_iov[i] = {s.rx_buf[i].data(), MaxSize};
            msghdr& m = s.rx_msg[i].msg_hdr;
            m = {};
            m.msg_name = &s.rx_name[i];
            m.msg_namelen = sizeof(sockaddr_storage);
            m.msg_iov = &s.rx_iov[i];
            m.msg_iovlen = 1;
            m.msg_control = s.rx_ctl[i].data();
            m.msg_controllen = control_size;
        }
        ++s.stats.syscalls;
        const int n = ::recvmmsg(fd_, s.rx_msg.data(), static_cast<unsigned>(Batch), 0, nullptr);
        s.rx_count = 0;
        s.rx_datagrams = 0;
        if (n < 0) return detail::sys_error(errno, "recvmmsg");
        for (int i = 0; i < n; ++i) {
            const auto k = static_cast<std::size_t>(i);
            msghdr& m = s.rx_msg[k].msg_hdr;
            slot_info& info = s.rx_info[s.rx_count];
            if (m.msg_flags & MSG_TRUNC) {
                ++s.stats.truncated;  // larger than a slot: dropped, counted
                continue;
            }
            info.index = k;
            info.size = s.rx_msg[k].msg_len;
            info.segment = 0;
            info.from = detail::from_sockaddr(s.rx_name[k]);
            info.to = local_;
            for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
                if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                    in_pktinfo pi;
                    std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                    if (local_.family == endpoint::family_t::v6) {  // v4-mapped
                        info.to.addr = {};
                        info.to.addr[10] = info.to.addr[11] = 0xff;
                        std::memcpy(info.to.addr.data() + 12, &pi.ipi_addr, 4);
                    } else {
                        std::memcpy(info.to.addr.data(), &pi.ipi_addr, 4);
                    }
                } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                    in6_pktinfo pi;
                    std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
                    std::memcpy(info.to.addr.data(), &pi.ipi6_addr, 16);
                } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
                    int seg = 0;
                    std::memcpy(&seg, CMSG_DATA(c), sizeof seg);
                    if (seg > 0) info.segment = static_cast<std::size_t>(seg);
                }
            }
            std::size_t segs = 1;
            if (info.segment && info.segment < info.size) {
                segs = (info.size + info.segment - 1) / info.segment;
                ++s.stats.gro_slots;
            }
            s.rx_datagrams += segs;
            ++s.rx_count;
        }
        s.stats.received += s.rx_datagrams;
        if (s.rx_datagrams == 0) return error(errc::would_block);
        return s.rx_datagrams;
    }

    /// Calls f(const rx_datagram&) for every datagram of the last receive_batch,
    /// in arrival order, GRO slots split at their segment size.
    template <class F>
    void for_each(F&& f) noexcept(noexcept(f(std::declval<const rx_datagram&>()))) {
        if (!st_) return;
        storage& s = *st_;
        for (std::size_t i = 0; i < s.rx_count; ++i) {
            const slot_info& info = s.rx_info[i];
            mutable_bytes all(s.rx_buf[info.index].data(), info.size);
            const std::size_t seg = info.segment ? info.segment : info.size;
            for (std::size_t off = 0; off < info.size || (off == 0 && info.size == 0);) {
                const std::size_t len = info.size - off < seg ? info.size - off : seg;
                rx_datagram d{all.subspan(off, len), info.from, info.to};
                f(static_cast<const rx_datagram&>(d));
                if (len == 0) break;
                off += len;
            }
        }
    }

    // --- batched send ---

    /// Sends `items` with as few sendmmsg calls as the batch allows: runs of
    /// same-size datagrams (the last may be shorter) to one peer from one
    /// source become one GSO message when GSO is on. Returns how many items
    /// went out (a prefix of `items`; fewer than all when the socket's queue
    /// filled: send the rest later). Errors (nothing sent): would_block,
    /// address_invalid, message_too_large, unreachable, system_error. A GSO
    /// message the kernel refuses turns GSO off and the run goes out one by one.
    result<std::size_t> send_batch(std::span<const tx_datagram> items) noexcept {
        if (!st_) return error(errc::address_invalid, 0, "udp_batch not bound");
        std::size_t done = 0;
        while (done < items.size()) {
            auto r = send_some(items.subspan(done));
            if (!r) {
                if (done) return done;
                return r.error();
            }
            done += *r;
            if (*r == 0) break;
        }
        return done;
    }

    // --- the simple per-datagram path (transport::datagram) ---

    result<std::size_t> send_to(const endpoint& to, bytes_view data) noexcept {
        tx_datagram d{data, to, {}};
        auto r = send_batch(std::span<const tx_datagram>(&d, 1));
        if (!r) return r.error();
        return data.size();
    }
    result<received> receive_from(mutable_bytes buf) noexcept {
        if (!st_) return error(errc::address_invalid, 0, "udp_batch not bound");
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        ++st_->stats.syscalls;
        const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), MSG_TRUNC,
                                     reinterpret_cast<sockaddr*>(&ss), &len);
        if (n < 0) return detail::sys_error(errno, "recvfrom");
        if (static_cast<std::size_t>(n) > buf.size()) return error(errc::message_too_large);
        ++st_->stats.received;
        return received{static_cast<std::size_t>(n), detail::from_sockaddr(ss)};
    }

    endpoint local_endpoint() const noexcept { return local_; }
    udp_features features() const noexcept { return feat_; }
    /// Counters (all zero on a socket that is not bound).
    const udp_batch_stats& stats() const noexcept {
        static const udp_batch_stats none{};
        return st_ ? st_->stats : none;
    }
    void reset_stats() noexcept {
        if (st_) st_->stats = {};
    }
    int fd() const noexcept { return fd_; }
    bool is_open() const noexcept { return fd_ >= 0; }
    void close() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    static constexpr std::size_t control_size =
        CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo)) + CMSG_SPACE(sizeof(int));
    static constexpr std::size_t max_iov = Batch * 8 < 1024 ? Batch * 8 : 1024;

    struct slot_info {
        std::size_t index = 0, size = 0, segment = 0;
        endpoint from{}, to{};
    };
    struct storage {
        std::array<std::array<std::byte, MaxSize>, Batch> rx_buf;
        std::array<mmsghdr, Batch> rx_msg;
        std::array<iovec, Batch> rx_iov;
        std::array<sockaddr_storage, Batch> rx_name;
        std::array<std::array<char, control_size>, Batch> rx_ctl alignas(cmsghdr);
        std::array<slot_info, Batch> rx_info;
        std::size_t rx_count = 0, rx_datagrams = 0;

        std::array<mmsghdr, Batch> tx_msg;
        std::array<iovec, max_iov> tx_iov;
        std::array<sockaddr_storage, Batch> tx_name;
        std::array<std::array<char, control_size>, Batch> tx_ctl alignas(cmsghdr);
        std::array<std::size_t, Batch> tx_items;  // items per message
        std::array<bool, Batch> tx_gso;
        udp_batch_stats stats;
    };

    static bool same_path(const tx_datagram& a, const tx_datagram& b) noexcept {
        return a.to == b.to && a.from == b.from;
    }

    // One sendmmsg of up to Batch messages; returns the items it sent.
    result<std::size_t> send_some(std::span<const tx_datagram> items) noexcept {
        storage& s = *st_;
        std::size_t msgs = 0, iov = 0, i = 0;
        while (i < items.size() && msgs < Batch && iov < max_iov) {
            const tx_datagram& first = items[i];
            socklen_t nlen = detail::to_sockaddr(first.to, s.tx_name[msgs]);
            if (nlen == 0) {
                if (msgs == 0) return error(errc::address_invalid, 0, "destination");
                break;
            }
            // How long a GSO run starting here may be.
            std::size_t run = 1;
            const std::size_t seg = first.data.size();
            if (feat_.gso && seg > 0) {
                const std::size_t limit =
                    first.to.family == endpoint::family_t::v6 ? 65535 - 40 - 8 : 65535 - 20 - 8;
                std::size_t total = seg;
                while (i + run < items.size() && run < max_gso_segments && iov + run < max_iov) {
                    const tx_datagram& nx = items[i + run];
                    if (!same_path(first, nx) || nx.data.size() > seg || nx.data.empty() ||
                        total + nx.data.size() > limit)
                        break;
                    total += nx.data.size();
                    ++run;
                    if (nx.data.size() < seg) break;  // a shorter one ends the run
                }
            }
            for (std::size_t k = 0; k < run; ++k)
                s.tx_iov[iov + k] = {const_cast<std::byte*>(items[i + k].data.data()),
                                     items[i + k].data.size()};
            msghdr& m = s.tx_msg[msgs].msg_hdr;
            m = {};
            m.msg_name = &s.tx_name[msgs];
            m.msg_namelen = nlen;
            m.msg_iov = &s.tx_iov[iov];
            m.msg_iovlen = run;
            std::size_t clen = 0;
            char* ctl = s.tx_ctl[msgs].data();
            std::memset(ctl, 0, control_size);
            m.msg_control = ctl;
            m.msg_controllen = control_size;
            cmsghdr* c = CMSG_FIRSTHDR(&m);
            if (run > 1) {
                c->cmsg_level = SOL_UDP;
                c->cmsg_type = UDP_SEGMENT;
                c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
                const auto g = static_cast<std::uint16_t>(seg);
                std::memcpy(CMSG_DATA(c), &g, sizeof g);
                clen += CMSG_SPACE(sizeof(std::uint16_t));
                c = CMSG_NXTHDR(&m, c);
            }
            if (first.from.family == endpoint::family_t::v4 &&
                first.to.family == endpoint::family_t::v4) {
                c->cmsg_level = IPPROTO_IP;
                c->cmsg_type = IP_PKTINFO;
                c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
                in_pktinfo pi{};
                std::memcpy(&pi.ipi_spec_dst, first.from.addr.data(), 4);
                std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
                clen += CMSG_SPACE(sizeof(in_pktinfo));
            } else if (first.from.family == endpoint::family_t::v6) {
                c->cmsg_level = IPPROTO_IPV6;
                c->cmsg_type = IPV6_PKTINFO;
                c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
                in6_pktinfo pi{};
                std::memcpy(&pi.ipi6_addr, first.from.addr.data(), 16);
                std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
                clen += CMSG_SPACE(sizeof(in6_pktinfo));
            }
            m.msg_controllen = clen;
            if (clen == 0) m.msg_control = nullptr;
            s.tx_items[msgs] = run;
            s.tx_gso[msgs] = run > 1;
            ++msgs;
            iov += run;
            i += run;
        }
        ++s.stats.syscalls;
        const int n = ::sendmmsg(fd_, s.tx_msg.data(), static_cast<unsigned>(msgs), 0);
        if (n < 0) {
            const int e = errno;
            if (s.tx_gso[0] && (e == EIO || e == EINVAL || e == EOPNOTSUPP || e == ENOPROTOOPT)) {
                feat_.gso = false;        // the device or kernel refuses GSO here: fall back
                return send_some(items);  // once: GSO is off now
            }
            return detail::sys_error(e, "sendmmsg");
        }
        std::size_t sent = 0;
        for (int k = 0; k < n; ++k) {
            sent += s.tx_items[static_cast<std::size_t>(k)];
            if (s.tx_gso[static_cast<std::size_t>(k)]) ++s.stats.gso_messages;
        }
        s.stats.sent += sent;
        return sent;
    }

    int fd_ = -1;
    endpoint local_{};
    udp_features feat_{};
    std::unique_ptr<storage> st_;
};

static_assert(datagram<udp_batch<>>, "udp_batch must satisfy transport::datagram");

}  // namespace l2sec::transport
