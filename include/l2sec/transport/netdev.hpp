// Configure a Linux network interface without shelling out: bring it up, set
// its MTU, give it an IPv4 address (with a prefix or a point-to-point peer)
// or an IPv6 address, and route a prefix to it. The classic SIOC* ioctls on
// an AF_INET/AF_INET6 datagram socket; every call needs CAP_NET_ADMIN in the
// interface's network namespace. Not for the per-packet path: each call opens
// and closes a socket (no allocation).
//
//   transport::netdev::set_mtu("l2sec0", 1400);
//   transport::netdev::set_ipv4("l2sec0", endpoint::v4(10, 99, 0, 1, 0), 32,
//                               endpoint::v4(10, 99, 0, 2, 0));          // peer
//   transport::netdev::set_up("l2sec0");
//   transport::netdev::add_route("l2sec0", endpoint::v4(10, 99, 0, 0, 0), 24);  // the pool
//
// Errors (all calls): address_invalid (empty or too long a name, an address
// of the wrong family, a prefix out of range), not_supported (no such
// interface, or the family is disabled), permission_denied (no
// CAP_NET_ADMIN), name_in_use (the route or address exists), system_error.
// The `field` of the error names the ioctl that failed.
#pragma once

#include <l2sec/core/result.hpp>
#include <l2sec/transport/detail/sys.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace l2sec::transport::netdev {

namespace detail {

/// A datagram socket of one family that closes itself.
struct ctl_socket {
    int fd;
    explicit ctl_socket(int family) noexcept : fd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
    ~ctl_socket() {
        if (fd >= 0) ::close(fd);
    }
    ctl_socket(const ctl_socket&) = delete;
    ctl_socket& operator=(const ctl_socket&) = delete;
};

inline bool fill_name(ifreq& ifr, std::string_view name) noexcept {
    std::memset(&ifr, 0, sizeof ifr);
    if (name.empty() || name.size() >= IFNAMSIZ) return false;
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    return true;
}

inline sockaddr v4_sockaddr(const std::uint8_t* a) noexcept {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_addr, a, 4);
    sockaddr sa{};
    static_assert(sizeof sin <= sizeof sa);
    std::memcpy(&sa, &sin, sizeof sin);
    return sa;
}

inline std::uint32_t v4_mask(unsigned prefix) noexcept {
    return prefix == 0 ? 0u : ~std::uint32_t{0} << (32 - prefix);
}

inline l2sec::error last(const char* what) noexcept {
    return transport::detail::sys_error(errno, what);
}

/// One ioctl on `ifr` with a socket of `family`.
inline result<void> ifreq_call(int family, unsigned long req, ifreq& ifr,
                               const char* what) noexcept {
    ctl_socket s(family);
    if (s.fd < 0) return last("socket");
    if (::ioctl(s.fd, req, &ifr) != 0) return last(what);
    return {};
}

}  // namespace detail

/// The interface index (SIOCGIFINDEX). Errors: address_invalid, not_supported (no such interface).
inline result<int> index(std::string_view name) noexcept {
    ifreq ifr;
    if (!detail::fill_name(ifr, name)) return error(errc::address_invalid, 0, "interface name");
    if (auto r = detail::ifreq_call(AF_INET, SIOCGIFINDEX, ifr, "SIOCGIFINDEX"); !r)
        return r.error();
    return ifr.ifr_ifindex;
}

/// The MTU the kernel has for the interface (SIOCGIFMTU).
inline result<std::size_t> mtu(std::string_view name) noexcept {
    ifreq ifr;
    if (!detail::fill_name(ifr, name)) return error(errc::address_invalid, 0, "interface name");
    if (auto r = detail::ifreq_call(AF_INET, SIOCGIFMTU, ifr, "SIOCGIFMTU"); !r) return r.error();
    return static_cast<std::size_t>(ifr.ifr_mtu);
}

/// Set the MTU (SIOCSIFMTU). Errors as above; address_invalid for an MTU the
/// device refuses (a TUN takes 68..65535).
inline result<void> set_mtu(std::string_view name, std::size_t value) noexcept {
    ifreq ifr;
    if (!detail::fill_name(ifr, name)) return error(errc::address_invalid, 0, "interface name");
    if (value > 65535) return error(errc::address_invalid, 0, "MTU");
    ifr.ifr_mtu = static_cast<int>(value);
    return detail::ifreq_call(AF_INET, SIOCSIFMTU, ifr, "SIOCSIFMTU");
}

/// Bring the interface up (or down) (SIOCGIFFLAGS + SIOCSIFFLAGS).
inline result<void> set_up(std::string_view name, bool up = true) noexcept {
    ifreq ifr;
    if (!detail::fill_name(ifr, name)) return error(errc::address_invalid, 0, "interface name");
    detail::ctl_socket s(AF_INET);
    if (s.fd < 0) return detail::last("socket");
    if (::ioctl(s.fd, SIOCGIFFLAGS, &ifr) != 0) return detail::last("SIOCGIFFLAGS");
    if (up)
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    else
        ifr.ifr_flags = static_cast<short>(ifr.ifr_flags & ~IFF_UP);
    if (::ioctl(s.fd, SIOCSIFFLAGS, &ifr) != 0) return detail::last("SIOCSIFFLAGS");
    return {};
}

/// Whether the interface is up (IFF_UP).
inline result<bool> is_up(std::string_view name) noexcept {
    ifreq ifr;
    if (!detail::fill_name(ifr, name)) return error(errc::address_invalid, 0, "interface name");
    if (auto r = detail::ifreq_call(AF_INET, SIOCGIFFLAGS, ifr, "SIOCGIFFLAGS"); !r)
        return r.error();
    return (ifr.ifr_flags & IFF_UP) != 0;
}

/// Give the interface its IPv4 address (replacing the primary one) with a
/// prefix length, and on a point-to-point device (a TUN) optionally the
/// peer's address (`peer.valid()`): SIOCSIFADDR, SIOCSIFNETMASK, SIOCSIFDSTADDR.
/// With a peer the kernel routes the peer's /32 to the device; with a prefix
/// below 32 it routes the prefix.
inline result<void> set_ipv4(std::string_view name, const endpoint& addr, unsigned prefix,
                             const endpoint& peer = {}) noexcept {
    ifreq ifr;
    if (!detail::fill_name(ifr, name)) return error(errc::address_invalid, 0, "interface name");
    if (addr.family != endpoint::family_t::v4) return error(errc::address_invalid, 0, "address");
    if (prefix > 32) return error(errc::address_invalid, 0, "prefix length");
    if (peer.valid() && peer.family != endpoint::family_t::v4)
        return error(errc::address_invalid, 0, "peer address");
    detail::ctl_socket s(AF_INET);
    if (s.fd < 0) return detail::last("socket");
    ifr.ifr_addr = detail::v4_sockaddr(addr.addr.data());
    if (::ioctl(s.fd, SIOCSIFADDR, &ifr) != 0) return detail::last("SIOCSIFADDR");
    std::uint8_t mask[4];
    const std::uint32_t m = htonl(detail::v4_mask(prefix));
    std::memcpy(mask, &m, 4);
    ifr.ifr_netmask = detail::v4_sockaddr(mask);
    if (::ioctl(s.fd, SIOCSIFNETMASK, &ifr) != 0) return detail::last("SIOCSIFNETMASK");
    if (peer.valid()) {
        ifr.ifr_dstaddr = detail::v4_sockaddr(peer.addr.data());
        if (::ioctl(s.fd, SIOCSIFDSTADDR, &ifr) != 0) return detail::last("SIOCSIFDSTADDR");
    }
    return {};
}

/// Add an IPv6 address with its prefix length (SIOCSIFADDR on AF_INET6).
/// Errors: not_supported when IPv6 is disabled on the interface.
inline result<void> add_ipv6(std::string_view name, const endpoint& addr,
                             unsigned prefix) noexcept {
    if (addr.family != endpoint::family_t::v6) return error(errc::address_invalid, 0, "address");
    if (prefix > 128) return error(errc::address_invalid, 0, "prefix length");
    auto idx = index(name);
    if (!idx) return idx.error();
    struct {  // struct in6_ifreq of <linux/ipv6.h>, which clashes with <netinet/in.h>
        in6_addr addr;
        std::uint32_t prefixlen;
        int ifindex;
    } req{};
    std::memcpy(&req.addr, addr.addr.data(), 16);
    req.prefixlen = prefix;
    req.ifindex = *idx;
    detail::ctl_socket s(AF_INET6);
    if (s.fd < 0) return detail::last("socket AF_INET6");
    if (::ioctl(s.fd, SIOCSIFADDR, &req) != 0) return detail::last("SIOCSIFADDR (IPv6)");
    return {};
}

/// Route `dst`/`prefix` (IPv4 or IPv6; the address bits past the prefix must
/// be zero) to the interface, which must be up (SIOCADDRT). Errors:
/// name_in_use when the route exists, address_invalid for host bits set.
inline result<void> add_route(std::string_view name, const endpoint& dst, unsigned prefix,
                              std::uint32_t metric = 0) noexcept {
    if (name.empty() || name.size() >= IFNAMSIZ)
        return error(errc::address_invalid, 0, "interface name");
    if (dst.family == endpoint::family_t::v4) {
        if (prefix > 32) return error(errc::address_invalid, 0, "prefix length");
        if ((dst.v4_host_order() & ~detail::v4_mask(prefix)) != 0)
            return error(errc::address_invalid, 0, "route destination (host bits set)");
        char dev[IFNAMSIZ] = {};
        std::memcpy(dev, name.data(), name.size());
        rtentry rt{};
        rt.rt_dst = detail::v4_sockaddr(dst.addr.data());
        std::uint8_t mask[4];
        const std::uint32_t m = htonl(detail::v4_mask(prefix));
        std::memcpy(mask, &m, 4);
        rt.rt_genmask = detail::v4_sockaddr(mask);
        rt.rt_flags = static_cast<unsigned short>(RTF_UP | (prefix == 32 ? RTF_HOST : 0));
        rt.rt_metric = static_cast<short>(metric + 1);  // the ioctl subtracts one
        rt.rt_dev = dev;
        detail::ctl_socket s(AF_INET);
        if (s.fd < 0) return detail::last("socket");
        if (::ioctl(s.fd, SIOCADDRT, &rt) != 0) return detail::last("SIOCADDRT");
        return {};
    }
    if (dst.family == endpoint::family_t::v6) {
        if (prefix > 128) return error(errc::address_invalid, 0, "prefix length");
        auto idx = index(name);
        if (!idx) return idx.error();
        in6_rtmsg rt{};
        std::memcpy(&rt.rtmsg_dst, dst.addr.data(), 16);
        rt.rtmsg_dst_len = static_cast<unsigned short>(prefix);
        rt.rtmsg_flags = RTF_UP | (prefix == 128 ? RTF_HOST : 0);
        rt.rtmsg_metric = metric ? metric : 1;
        rt.rtmsg_ifindex = *idx;
        detail::ctl_socket s(AF_INET6);
        if (s.fd < 0) return detail::last("socket AF_INET6");
        if (::ioctl(s.fd, SIOCADDRT, &rt) != 0) return detail::last("SIOCADDRT (IPv6)");
        return {};
    }
    return error(errc::address_invalid, 0, "route destination");
}

}  // namespace l2sec::transport::netdev
