// What the I/O loop of l2sec-server and l2sec-client (vpn_workers.hpp,
// run_vpn and run_worker) needs around it: startup messages a user can act
// on, socket and TUN queue sizes, the clock.
#pragma once

#include <l2sec/transport/linux_tun.hpp>
#include <l2sec/transport/posix_udp.hpp>
#include <l2sec/transport/raw_esp.hpp>
#include <l2sec/vpn/packets.hpp>

#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>

namespace l2sec::examples {

/// What a user should read when a socket or device cannot be had at
/// startup: the error, and what to do about it. `sys` is errno right after
/// the failed call (posix_udp reports system_error without it).
inline std::string startup_failure(const error& e, int sys) {
    std::string s = e.message();
    if (e == transport::errc::permission_denied || sys == EACCES || sys == EPERM)
        return s + (sys ? std::string(": ") + std::strerror(sys) : std::string()) +
               " (run as root, or grant CAP_NET_BIND_SERVICE for ports below 1024, CAP_NET_RAW for "
               "raw ESP, CAP_NET_ADMIN for a TUN device)";
    if (sys == EADDRINUSE)
        return s + ": " + std::strerror(sys) +
               " (another IKE daemon, such as charon, pluto or racoon, or another l2sec program "
               "holds the port: stop it, or use --ike-port/--nat-port)";
    if (sys == EADDRNOTAVAIL)
        return s + ": " + std::strerror(sys) + " (the address is not on an interface of this host)";
    if (e == transport::errc::not_supported)
        return s +
               " (no /dev/net/tun: load the tun module, or pass /dev/net/tun into the "
               "container)";
    if (e == transport::errc::name_in_use)
        return s + " (pick another --tun name, or delete the interface)";
    if (sys != 0) return s + ": " + std::strerror(sys);
    return s;
}

/// A 4 MiB receive buffer (SO_RCVBUFFORCE as root, else SO_RCVBUF up to
/// net.core.rmem_max): with the default ~200 KiB a raw ESP socket holds about
/// 90 packets and drops the rest of a TCP window's burst (bench/throughput.sh
/// saw 10% loss before this).
inline void grow_receive_buffer(int fd) noexcept {
    int size = 4 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

/// A longer kernel queue toward the program on TUN device `name` (the
/// default txqueuelen of 500 overflows on a TCP burst while the loop is busy
/// with the other direction; bench/throughput.sh counts tx_dropped). Best
/// effort: false when the ioctl is refused.
inline bool grow_tun_queue(const char* name, int packets = 4096) noexcept {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    ifr.ifr_qlen = packets;
    const bool ok = ::ioctl(fd, SIOCSIFTXQLEN, &ifr) == 0;
    ::close(fd);
    return ok;
}

inline time_point vpn_now() {
    return std::chrono::steady_clock::now();
}

}  // namespace l2sec::examples
