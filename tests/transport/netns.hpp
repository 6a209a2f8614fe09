// Kernel-facing transport tests run in a network namespace of their own,
// made by the test and gone when it ends (lo up, nothing else), so they touch
// nothing of the host. Their doctest suites are "kernel.<area>", skipped in the
// plain unit run and run by the ctest entries transport.<area>
// (`--no-skip --test-suite=kernel.<area>`), which exit 77 with the reason
// when the namespace or the feature cannot be had (not root, no /dev/net/tun).
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/checksum.hpp>
#include <l2sec/transport/endpoint.hpp>
#include <l2sec/transport/netdev.hpp>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace l2sec::test {

/// Ends the test run with ctest's skip code, saying why on stderr and stdout.
[[noreturn]] inline void skip_run(const std::string& why) {
    std::fprintf(stdout, "SKIP: %s\n", why.c_str());
    std::fprintf(stderr, "SKIP: %s\n", why.c_str());
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(77);
}

/// The calling thread in a fresh network namespace until destruction (then
/// back in the one it came from). Threads started meanwhile inherit it.
class scoped_netns {
  public:
    scoped_netns() {
        if (::geteuid() != 0) skip_run("needs root (CAP_SYS_ADMIN for a network namespace)");
        orig_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (orig_ < 0) skip_run(std::string("cannot open own netns: ") + std::strerror(errno));
        if (::unshare(CLONE_NEWNET) != 0)
            skip_run(std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno));
        if (auto r = transport::netdev::set_up("lo"); !r)
            skip_run("cannot bring lo up in the namespace: " + r.error().message());
    }
    ~scoped_netns() {
        if (orig_ >= 0) {
            (void)::setns(orig_, CLONE_NEWNET);
            ::close(orig_);
        }
    }
    scoped_netns(const scoped_netns&) = delete;
    scoped_netns& operator=(const scoped_netns&) = delete;

  private:
    int orig_ = -1;
};

/// Runs a shell command (iproute2, read-only inspection) in this thread's
/// namespace and returns its stdout: an independent view of what the kernel has.
inline std::string run(const std::string& cmd) {
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[512];
        while (std::size_t n = std::fread(buf, 1, sizeof buf, p))
            out.append(buf, n);
        ::pclose(p);
    }
    return out;
}

/// An IPv4 + UDP packet with correct checksums (RFC 791, RFC 768).
inline std::vector<std::byte> ipv4_udp(const transport::endpoint& src,
                                       const transport::endpoint& dst, bytes_view payload) {
    std::vector<std::byte> p(28 + payload.size());
    const auto total = static_cast<std::uint16_t>(p.size());
    p[0] = std::byte{0x45};
    store_be16(&p[2], total);
    store_be16(&p[4], 0x1234);  // identification
    p[8] = std::byte{64};
    p[9] = std::byte{17};
    std::memcpy(&p[12], src.addr.data(), 4);
    std::memcpy(&p[16], dst.addr.data(), 4);
    store_be16(&p[10], internet_checksum(bytes_view(p.data(), 20)));
    store_be16(&p[20], src.port);
    store_be16(&p[22], dst.port);
    store_be16(&p[24], static_cast<std::uint16_t>(8 + payload.size()));
    if (!payload.empty()) std::memcpy(&p[28], payload.data(), payload.size());
    std::array<std::byte, 12> pseudo{};
    std::memcpy(&pseudo[0], src.addr.data(), 4);
    std::memcpy(&pseudo[4], dst.addr.data(), 4);
    pseudo[9] = std::byte{17};
    store_be16(&pseudo[10], static_cast<std::uint16_t>(8 + payload.size()));
    std::uint16_t c =
        checksum_fold(checksum_add(checksum_add(0, pseudo), bytes_view(&p[20], p.size() - 20)));
    store_be16(&p[26], c == 0 ? 0xffff : c);
    return p;
}

}  // namespace l2sec::test
