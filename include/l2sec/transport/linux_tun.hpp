// A Linux TUN device (/dev/net/tun, IFF_TUN | IFF_NO_PI) as a tun_device:
// non-blocking, one IP packet per read and write, no allocation, the
// descriptor for poll/epoll/io_uring. Optionally multi-queue
// (IFF_MULTI_QUEUE): open the same name once per worker and the kernel
// spreads flows over the queues. The interface is configured with
// transport::netdev (ioctls, no shelling out), also reachable from here.
//
//   auto tun = transport::linux_tun::open("l2sec0");       // needs CAP_NET_ADMIN
//   if (!tun) die(tun.error().message());  // permission denied / not supported / name in use
//   tun->set_mtu(1400); tun->set_ipv4(endpoint::v4(10,99,0,1,0), 24); tun->set_up();
//   std::array<std::byte, 2048> buf;
//   auto pkt = tun->read_packet(buf, 96);  // packet at buf[96, ...): headroom for the headers
//
// Batched reads: transport::read_batch(tun, bufs, headroom, out) loops read()
// until EAGAIN (a TUN descriptor has no recvmmsg).
#pragma once

#include <l2sec/transport/detail/sys.hpp>
#include <l2sec/transport/netdev.hpp>
#include <l2sec/transport/tun.hpp>
#include <l2sec/transport/tun_offload.hpp>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <utility>

namespace l2sec::transport {

struct tun_options {
    /// IFF_MULTI_QUEUE: every open() of the same name adds a queue (one per
    /// worker); all opens of one device must agree on this flag.
    bool multi_queue = false;
    /// IFF_VNET_HDR + TUNSETOFFLOAD (checksum, TSO, USO): the kernel hands
    /// over TCP/UDP super-packets of up to 64 KiB and read_packet cuts them
    /// into MTU-sized IP packets (tun_offload.hpp), so the kernel's TCP/UDP
    /// stacks run once per 64 KiB. Costs one 64 KiB buffer per queue.
    bool offload = false;
    /// Where the clone device lives (tests point it elsewhere to see the error).
    const char* clone_device = "/dev/net/tun";
};

/// Which offloads a linux_tun got from the kernel.
struct tun_offloads {
    bool csum = false;  ///< TUN_F_CSUM: transport checksums may be left to us
    bool tso = false;   ///< TUN_F_TSO4 | TUN_F_TSO6
    bool uso = false;   ///< TUN_F_USO4 | TUN_F_USO6 (Linux 6.2)
};

class linux_tun {
  public:
    linux_tun() noexcept = default;
    linux_tun(const linux_tun&) = delete;
    linux_tun& operator=(const linux_tun&) = delete;
    linux_tun(linux_tun&& o) noexcept { take(o); }
    linux_tun& operator=(linux_tun&& o) noexcept {
        if (this != &o) {
            close();
            take(o);
        }
        return *this;
    }
    ~linux_tun() { close(); }

    /// Create (or attach to) the TUN device `name`; an empty name lets the
    /// kernel pick tunN (see name()). The device lives as long as its last
    /// queue is open. Errors: address_invalid (name of 16 bytes or more),
    /// not_supported (no /dev/net/tun or no TUN driver), permission_denied
    /// (no CAP_NET_ADMIN, or /dev/net/tun not accessible), name_in_use (an
    /// interface of that name that is not a TUN, a TUN with other flags, or a
    /// single-queue TUN already open), system_error.
    static result<linux_tun> open(std::string_view name = {}, tun_options opt = {}) noexcept {
        if (name.size() >= IFNAMSIZ) return error(errc::address_invalid, 0, "interface name");
        int fd = ::open(opt.clone_device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            const int e = errno;
            if (e == ENOENT || e == ENODEV || e == ENXIO)
                return error(errc::not_supported, 0, "open /dev/net/tun (no TUN driver)");
            return detail::sys_error(e, "open /dev/net/tun");
        }
        ifreq ifr{};
        ifr.ifr_flags =
            static_cast<short>(IFF_TUN | IFF_NO_PI | (opt.multi_queue ? IFF_MULTI_QUEUE : 0) |
                               (opt.offload ? IFF_VNET_HDR : 0));
        std::memcpy(ifr.ifr_name, name.data(), name.size());
        if (::ioctl(fd, TUNSETIFF, &ifr) != 0) {
            const int e = errno;
            ::close(fd);
            if (e == EBUSY || e == EINVAL || e == EEXIST)
                return error(errc::name_in_use, 0, "TUNSETIFF");
            return detail::sys_error(e, "TUNSETIFF");
        }
        linux_tun t;
        t.fd_ = fd;
        std::memcpy(t.name_, ifr.ifr_name, IFNAMSIZ);
        t.name_[IFNAMSIZ - 1] = '\0';
        if (opt.offload) {
            t.scratch_.reset(new (std::nothrow) std::byte[scratch_size]);
            t.wscratch_.reset(new (std::nothrow) std::byte[scratch_size]);
            if (!t.scratch_ || !t.wscratch_)
                return error(l2sec::errc::capacity_exceeded, 0, "tun offload buffer");
            int hdr = static_cast<int>(vnet_header_size);
            if (::ioctl(fd, TUNSETVNETHDRSZ, &hdr) != 0)
                return detail::sys_error(errno, "TUNSETVNETHDRSZ");
            constexpr unsigned csum = 0x01, tso4 = 0x02, tso6 = 0x04, tso_ecn = 0x08, uso4 = 0x20,
                               uso6 = 0x40;
            if (::ioctl(fd, TUNSETOFFLOAD, csum | tso4 | tso6 | tso_ecn | uso4 | uso6) == 0) {
                t.offloads_ = {true, true, true};
            } else if (::ioctl(fd, TUNSETOFFLOAD, csum | tso4 | tso6 | tso_ecn) == 0) {
                t.offloads_ = {true, true, false};  // a kernel before 6.2: no USO
            } else if (::ioctl(fd, TUNSETOFFLOAD, csum) == 0) {
                t.offloads_ = {true, false, false};
            }
        }
        return t;
    }

    /// One IP packet into `buf[headroom, ...)`. Errors: would_block,
    /// message_too_large (the packet was longer than the space; the kernel
    /// has dropped it), truncated_packet, address_invalid (headroom), system_error.
    result<mutable_bytes> read_packet(mutable_bytes buf, std::size_t headroom) noexcept {
        if (headroom >= buf.size()) return error(errc::address_invalid, 0, "headroom");
        if (scratch_) return read_offloaded(buf, headroom);
        const std::size_t space = buf.size() - headroom;
        ++reads_;
        const ssize_t n = ::read(fd_, buf.data() + headroom, space);
        if (n < 0) return detail::sys_error(errno, "read tun");
        const auto got = static_cast<std::size_t>(n);
        // A packet longer than the space is cut by the kernel (which may report
        // the whole length or what it copied): its IP length field tells.
        if (got > space) return error(errc::message_too_large, 0, "tun packet");
        auto pkt = buf.subspan(headroom, got);
        if (ip_packet_length(pkt) > got) {
            if (got == space) return error(errc::message_too_large, 0, "tun packet");
            return error(errc::truncated_packet, 0, "IP length");
        }
        return pkt;
    }

    /// One IP packet to the kernel. Errors: would_block, message_too_large
    /// (above the device's MTU is still accepted by the kernel and may be
    /// dropped later: keep to mtu()), address_invalid (not an IP packet),
    /// system_error.
    result<std::size_t> write_packet(bytes_view pkt) noexcept {
        ++writes_;
        if (scratch_) {  // a zero virtio header: no GSO, checksums complete
            std::array<std::byte, vnet_header_size> none{};
            iovec iov[2] = {{none.data(), none.size()},
                            {const_cast<std::byte*>(pkt.data()), pkt.size()}};
            const ssize_t n = ::writev(fd_, iov, 2);
            if (n < 0) return detail::sys_error(errno, "write tun");
            return pkt.size();
        }
        const ssize_t n = ::write(fd_, pkt.data(), pkt.size());
        if (n < 0) return detail::sys_error(errno, "write tun");
        return static_cast<std::size_t>(n);
    }

    /// Writes `pkts` in order; with offloads, runs of consecutive packets of
    /// one TCP flow (TSO) or UDP flow (USO) go to the kernel as one super-packet each
    /// (coalescible_run, build_super_packet), so its TCP receive path runs once
    /// per run. Returns how many packets were written (all, or the prefix
    /// before an error; the error itself when the first one fails).
    result<std::size_t> write_batch(std::span<const bytes_view> pkts) noexcept {
        std::size_t done = 0;
        while (done < pkts.size()) {
            const std::size_t run =
                wscratch_ ? coalescible_run(pkts.subspan(done), offloads_.tso, offloads_.uso) : 1;
            if (run > 1) {
                auto b = build_super_packet(pkts.subspan(done, run),
                                            mutable_bytes(wscratch_.get(), scratch_size));
                if (b) {
                    ++writes_;
                    const ssize_t n = ::write(fd_, wscratch_.get(), *b);
                    if (n < 0) {
                        if (done) return done;
                        return detail::sys_error(errno, "write tun");
                    }
                    ++coalesced_;
                    done += run;
                    continue;
                }
            }
            auto w = write_packet(pkts[done]);
            if (!w) {
                if (done) return done;
                return w.error();
            }
            ++done;
        }
        return done;
    }

    /// The offloads in use (all false unless opened with tun_options::offload).
    tun_offloads offloads() const noexcept { return offloads_; }
    /// Super-packets read and segments produced (offload mode), for tests and benchmarks.
    std::uint64_t super_packets() const noexcept { return supers_; }
    /// read() system calls made on this queue, for benchmarks.
    std::uint64_t read_calls() const noexcept { return reads_; }
    /// write() system calls made, and how many of them carried a coalesced super-packet.
    std::uint64_t write_calls() const noexcept { return writes_; }
    std::uint64_t coalesced_writes() const noexcept { return coalesced_; }

    int native_handle() const noexcept { return fd_; }
    bool is_open() const noexcept { return fd_ >= 0; }
    /// The interface name the kernel gave (e.g. "tun0" when open() had none).
    std::string_view name() const noexcept { return name_; }
    void close() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    // Configuration of this device (see netdev.hpp for errors).
    result<void> set_up(bool up = true) const noexcept { return netdev::set_up(name(), up); }
    result<void> set_mtu(std::size_t mtu) const noexcept { return netdev::set_mtu(name(), mtu); }
    result<std::size_t> mtu() const noexcept { return netdev::mtu(name()); }
    result<void> set_ipv4(const endpoint& addr, unsigned prefix,
                          const endpoint& peer = {}) const noexcept {
        return netdev::set_ipv4(name(), addr, prefix, peer);
    }
    result<void> add_ipv6(const endpoint& addr, unsigned prefix) const noexcept {
        return netdev::add_ipv6(name(), addr, prefix);
    }
    result<void> add_route(const endpoint& dst, unsigned prefix) const noexcept {
        return netdev::add_route(name(), dst, prefix);
    }

  private:
    static constexpr std::size_t scratch_size = vnet_header_size + 65535 + 256;

    void take(linux_tun& o) noexcept {
        fd_ = std::exchange(o.fd_, -1);
        std::memcpy(name_, o.name_, sizeof name_);
        scratch_ = std::move(o.scratch_);
        pending_ = o.pending_;
        next_ = std::exchange(o.next_, 0);
        offloads_ = o.offloads_;
        supers_ = o.supers_;
        reads_ = o.reads_;
        writes_ = o.writes_;
        coalesced_ = o.coalesced_;
        wscratch_ = std::move(o.wscratch_);
    }

    // Offload mode: segments of the last super-packet first, then the next read.
    result<mutable_bytes> read_offloaded(mutable_bytes buf, std::size_t headroom) noexcept {
        if (next_ >= pending_.segments) {
            ++reads_;
            const ssize_t n = ::read(fd_, scratch_.get(), scratch_size);
            if (n < 0) return detail::sys_error(errno, "read tun");
            auto g = parse_gso(bytes_view(scratch_.get(), static_cast<std::size_t>(n)));
            if (!g) return g.error();  // dropped
            pending_ = *g;
            next_ = 0;
            if (pending_.segments > 1) ++supers_;
        }
        const std::size_t k = next_++;
        auto w = write_segment(pending_, k, buf.subspan(headroom));
        if (!w) return error(errc::message_too_large, 0, "tun packet");  // this segment is dropped
        return buf.subspan(headroom, *w);
    }

    int fd_ = -1;
    char name_[IFNAMSIZ] = {};
    std::unique_ptr<std::byte[]> scratch_;
    gso_packet pending_{{}, vnet_gso::none, false, false, 0, 0, 0, false, 0, 0, 0, 0, 0};
    std::size_t next_ = 0;
    tun_offloads offloads_{};
    std::uint64_t supers_ = 0, reads_ = 0, writes_ = 0, coalesced_ = 0;
    std::unique_ptr<std::byte[]> wscratch_;
};

static_assert(tun_device<linux_tun>, "linux_tun must satisfy transport::tun_device");

}  // namespace l2sec::transport
