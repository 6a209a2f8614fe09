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

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

namespace l2sec::transport {

struct tun_options {
    /// IFF_MULTI_QUEUE: every open() of the same name adds a queue (one per
    /// worker); all opens of one device must agree on this flag.
    bool multi_queue = false;
    /// Where the clone device lives (tests point it elsewhere to see the error).
    const char* clone_device = "/dev/net/tun";
};

class linux_tun {
  public:
    linux_tun() noexcept = default;
    linux_tun(const linux_tun&) = delete;
    linux_tun& operator=(const linux_tun&) = delete;
    linux_tun(linux_tun&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {
        std::memcpy(name_, o.name_, sizeof name_);
    }
    linux_tun& operator=(linux_tun&& o) noexcept {
        if (this != &o) {
            close();
            fd_ = std::exchange(o.fd_, -1);
            std::memcpy(name_, o.name_, sizeof name_);
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
            static_cast<short>(IFF_TUN | IFF_NO_PI | (opt.multi_queue ? IFF_MULTI_QUEUE : 0));
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
        return t;
    }

    /// One IP packet into `buf[headroom, ...)`. Errors: would_block,
    /// message_too_large (the packet was longer than the space; the kernel
    /// has dropped it), truncated_packet, address_invalid (headroom), system_error.
    result<mutable_bytes> read_packet(mutable_bytes buf, std::size_t headroom) noexcept {
        if (headroom >= buf.size()) return error(errc::address_invalid, 0, "headroom");
        const std::size_t space = buf.size() - headroom;
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
        const ssize_t n = ::write(fd_, pkt.data(), pkt.size());
        if (n < 0) return detail::sys_error(errno, "write tun");
        return static_cast<std::size_t>(n);
    }

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
    int fd_ = -1;
    char name_[IFNAMSIZ] = {};
};

static_assert(tun_device<linux_tun>, "linux_tun must satisfy transport::tun_device");

}  // namespace l2sec::transport
