// Spreading peers over worker threads by their outer address (and port), so
// each worker owns its peers' IKE, ESP, L2TP and PPP state and the per-packet
// path takes no lock.
//
// - shard_of(endpoint, n): a stable hash of the peer's outer address and
//   port (or address only) onto 0..n-1. Same inputs, same shard, in every
//   process and every run (no per-process seed: the kernel program below
//   computes exactly the same function).
// - bind_shard(local, sockets): n SO_REUSEPORT UDP sockets on one port and a
//   classic BPF program (SO_ATTACH_REUSEPORT_CBPF) that makes the kernel hand
//   each datagram to socket shard_of(source, n): a peer always lands on the
//   same worker. Do it for 500 and for 4500 with the same n and key, and
//   worker i owns socket i of both groups.
// - bind_esp_shard(local, sockets): the same choice for raw ESP (protocol
//   50), where every raw socket sees every packet: socket i gets a filter
//   (SO_ATTACH_FILTER) that keeps only the packets of shard i.
//
//   std::array<transport::posix_udp, 2> ike, natt;
//   transport::bind_shard(endpoint::v4(0, 0, 0, 0, 500), std::span(ike));
//   transport::bind_shard(endpoint::v4(0, 0, 0, 0, 4500), std::span(natt));
//   // worker i polls ike[i] and natt[i]; a datagram from peer p is on shard_of(p, 2)
//
// Which key: shard_key::address_and_port spreads several clients behind one
// NAT over the workers, but a NATed peer's IKE SA moves from its 500 flow to
// its 4500 flow with another source port (NAT-T floating, RFC 3947), which
// may be another worker's: the server then hands the IKE SA over once.
// shard_key::address keeps everything of one public address on one worker,
// floating included, at the price of one worker per NAT. Raw ESP has no port:
// its shard is the one of the peer's address with port 500 (a peer that is
// not behind a NAT speaks IKE from port 500) under address_and_port, or of
// the address under address.
//
// The group's socket order is the kernel's: sockets join in bind order and a
// closed socket's slot is taken by the last one, so close them all together.
// IPv6: the program reads a UDP header right after the fixed IPv6 header (no
// extension headers); a dual-stack socket's IPv4 peers (::ffff:a.b.c.d) hash
// as their IPv4 address.
#pragma once

#include <l2sec/transport/posix_udp.hpp>
#include <l2sec/transport/raw_esp.hpp>
#include <l2sec/transport/udp_batch.hpp>

#include <linux/filter.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

namespace l2sec::transport {

enum class shard_key : std::uint8_t {
    address_and_port,  ///< the outer source address and UDP port
    address,           ///< the outer source address only
};

namespace detail {
inline constexpr std::uint32_t shard_k1 = 0x85ebca6bu;
inline constexpr std::uint32_t shard_k2 = 0x9e3779b1u;

constexpr bool v4_mapped(const endpoint& e) noexcept {
    if (e.family != endpoint::family_t::v6) return false;
    for (int i = 0; i < 10; ++i)
        if (e.addr[static_cast<std::size_t>(i)] != 0) return false;
    return e.addr[10] == 0xff && e.addr[11] == 0xff;
}
constexpr std::uint32_t word(const endpoint& e, std::size_t i) noexcept {
    return (std::uint32_t{e.addr[i]} << 24) | (std::uint32_t{e.addr[i + 1]} << 16) |
           (std::uint32_t{e.addr[i + 2]} << 8) | e.addr[i + 3];
}
/// The address folded to 32 bits: IPv4 itself, IPv6 the XOR of its words.
constexpr std::uint32_t fold_address(const endpoint& e) noexcept {
    if (e.family == endpoint::family_t::v4) return word(e, 0);
    if (v4_mapped(e)) return word(e, 12);
    return word(e, 0) ^ word(e, 4) ^ word(e, 8) ^ word(e, 12);
}
/// The mixing both shard_of and the BPF programs compute (32-bit, wrapping).
constexpr std::uint32_t shard_mix(std::uint32_t addr, std::uint32_t port) noexcept {
    std::uint32_t h = addr ^ (port * shard_k1);
    h *= shard_k2;
    h ^= h >> 16;
    h *= shard_k1;
    h ^= h >> 13;
    return h;
}
}  // namespace detail

/// The 32-bit shard hash of a peer's outer endpoint.
constexpr std::uint32_t shard_hash(const endpoint& peer,
                                   shard_key key = shard_key::address_and_port) noexcept {
    const std::uint32_t port = key == shard_key::address_and_port ? peer.port : 0u;
    return detail::shard_mix(detail::fold_address(peer), port);
}

/// Which of `n` workers owns `peer` (0 when n is 0 or 1).
constexpr std::size_t shard_of(const endpoint& peer, std::size_t n,
                               shard_key key = shard_key::address_and_port) noexcept {
    return n <= 1 ? 0 : shard_hash(peer, key) % static_cast<std::uint32_t>(n);
}

/// The shard of a raw ESP packet from `source` (no port: see the header comment).
constexpr std::size_t esp_shard_of(const endpoint& source, std::size_t n,
                                   shard_key key = shard_key::address_and_port) noexcept {
    endpoint e = source;
    e.port = key == shard_key::address_and_port ? 500 : 0;
    return shard_of(e, n, key);
}

/// A classic BPF program of at most 64 instructions, built without allocation.
struct bpf_program_buffer {
    std::array<sock_filter, 64> insns{};
    std::size_t size = 0;
    constexpr void add(std::uint16_t code, std::uint32_t k, std::uint8_t jt = 0,
                       std::uint8_t jf = 0) noexcept {
        insns[size++] = sock_filter{code, jt, jf, k};
    }
    sock_fprog fprog() noexcept { return {static_cast<unsigned short>(size), insns.data()}; }
};

namespace detail {
inline constexpr std::uint32_t net(std::int32_t off) noexcept {
    return static_cast<std::uint32_t>(SKF_NET_OFF + off);
}
// A = shard_mix(A, M[1]) with M[1] = port * k1 already; uses X and M[0].
constexpr void emit_mix(bpf_program_buffer& p) noexcept {
    p.add(BPF_LDX | BPF_MEM, 1);          // X = port * k1
    p.add(BPF_ALU | BPF_XOR | BPF_X, 0);  // A = addr ^ X
    p.add(BPF_ALU | BPF_MUL | BPF_K, shard_k2);
    for (std::uint32_t shift : {16u, 13u}) {
        p.add(BPF_ST, 0);  // M0 = h
        p.add(BPF_ALU | BPF_RSH | BPF_K, shift);
        p.add(BPF_MISC | BPF_TAX, 0);  // X = h >> shift
        p.add(BPF_LD | BPF_MEM, 0);    // A = h
        p.add(BPF_ALU | BPF_XOR | BPF_X, 0);
        if (shift == 16) p.add(BPF_ALU | BPF_MUL | BPF_K, shard_k1);
    }
}
// A = the folded source address; M[1] = port * k1 (or the constant `port`
// * k1 when fixed_port >= 0). Handles IPv4 (IHL from the header) and IPv6.
constexpr void emit_key(bpf_program_buffer& p, shard_key key, int fixed_port) noexcept {
    const bool use_port = key == shard_key::address_and_port;
    // if version == 6 goto v6
    p.add(BPF_LD | BPF_B | BPF_ABS, net(0));
    p.add(BPF_ALU | BPF_RSH | BPF_K, 4);
    const std::size_t branch = p.size;
    p.add(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 0);  // jt patched below
    // IPv4: port at IHL*4, address at 12.
    if (!use_port) {
        p.add(BPF_LD | BPF_IMM, 0);
    } else if (fixed_port >= 0) {
        p.add(BPF_LD | BPF_IMM, static_cast<std::uint32_t>(fixed_port) * shard_k1);
    } else {
        p.add(BPF_LDX | BPF_B | BPF_MSH, net(0));  // X = 4 * (IHL)
        p.add(BPF_LD | BPF_H | BPF_IND, net(0));   // A = source port
        p.add(BPF_ALU | BPF_MUL | BPF_K, shard_k1);
    }
    p.add(BPF_ST, 1);
    p.add(BPF_LD | BPF_W | BPF_ABS, net(12));
    const std::size_t jump_end = p.size;
    p.add(BPF_JMP | BPF_JA, 0);  // k patched below
    // IPv6: fold the four source words, port at 40.
    const std::size_t v6 = p.size;
    p.insns[branch].jt = static_cast<std::uint8_t>(v6 - branch - 1);
    if (!use_port) {
        p.add(BPF_LD | BPF_IMM, 0);
    } else if (fixed_port >= 0) {
        p.add(BPF_LD | BPF_IMM, static_cast<std::uint32_t>(fixed_port) * shard_k1);
    } else {
        p.add(BPF_LD | BPF_H | BPF_ABS, net(40));
        p.add(BPF_ALU | BPF_MUL | BPF_K, shard_k1);
    }
    p.add(BPF_ST, 1);
    // v4-mapped sources never reach here: a dual-stack socket's IPv4 packets
    // carry an IPv4 header.
    p.add(BPF_LD | BPF_W | BPF_ABS, net(8));
    for (std::int32_t off : {12, 16, 20}) {
        p.add(BPF_ST, 0);
        p.add(BPF_LD | BPF_W | BPF_ABS, net(off));
        p.add(BPF_LDX | BPF_MEM, 0);
        p.add(BPF_ALU | BPF_XOR | BPF_X, 0);
    }
    p.insns[jump_end].k = static_cast<std::uint32_t>(p.size - jump_end - 1);
}
}  // namespace detail

/// The SO_ATTACH_REUSEPORT_CBPF program: returns shard_of(source, n, key).
constexpr bpf_program_buffer reuseport_program(std::size_t n, shard_key key) noexcept {
    bpf_program_buffer p;
    detail::emit_key(p, key, -1);
    detail::emit_mix(p);
    p.add(BPF_ALU | BPF_MOD | BPF_K, static_cast<std::uint32_t>(n ? n : 1));
    p.add(BPF_RET | BPF_A, 0);
    return p;
}

/// The SO_ATTACH_FILTER program of raw ESP socket `index`: keeps a packet
/// when esp_shard_of(source, n, key) == index.
constexpr bpf_program_buffer esp_shard_filter(std::size_t index, std::size_t n,
                                              shard_key key) noexcept {
    bpf_program_buffer p;
    detail::emit_key(p, key, key == shard_key::address_and_port ? 500 : 0);
    detail::emit_mix(p);
    p.add(BPF_ALU | BPF_MOD | BPF_K, static_cast<std::uint32_t>(n ? n : 1));
    p.add(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(index), 0, 1);
    p.add(BPF_RET | BPF_K, 0x40000);  // keep (the whole packet)
    p.add(BPF_RET | BPF_K, 0);        // drop
    return p;
}

namespace detail {
inline udp_options with_reuse_port(udp_options o) noexcept {
    o.reuse_port = true;
    return o;
}
inline udp_batch_options with_reuse_port(udp_batch_options o) noexcept {
    o.socket.reuse_port = true;
    return o;
}
}  // namespace detail

/// Binds `sockets.size()` (1..255) UDP sockets (posix_udp or udp_batch) to
/// `local` with SO_REUSEPORT and steers each datagram to socket
/// shard_of(source, n, key). Port 0 picks one free port for all. On error the
/// sockets bound so far are closed. Errors: address_invalid (no sockets, more
/// than 255), those of Socket::bind, not_supported (the kernel refuses the
/// program: SO_ATTACH_REUSEPORT_CBPF needs Linux 4.5).
template <class Socket, std::size_t Extent, class Options = udp_options>
result<void> bind_shard(const endpoint& local, std::span<Socket, Extent> sockets,
                        shard_key key = shard_key::address_and_port,
                        const Options& opt = {}) noexcept {
    if (sockets.empty() || sockets.size() > 255)
        return error(errc::address_invalid, 0, "shard count");
    const auto o = detail::with_reuse_port(opt);
    endpoint at = local;
    for (std::size_t i = 0; i < sockets.size(); ++i) {
        auto s = Socket::bind(at, o);
        if (!s) {
            for (std::size_t k = 0; k < i; ++k)
                sockets[k].close();
            return s.error();
        }
        sockets[i] = std::move(*s);
        if (i == 0) {
            at = sockets[0].local_endpoint();  // the port the kernel picked
            auto prog = reuseport_program(sockets.size(), key);
            sock_fprog f = prog.fprog();
            if (::setsockopt(sockets[0].fd(), SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &f, sizeof f) !=
                0) {
                const int e = errno;
                sockets[0].close();
                return detail::sys_error(e == EINVAL ? ENOPROTOOPT : e, "SO_ATTACH_REUSEPORT_CBPF");
            }
        }
    }
    return {};
}

/// Opens `sockets.size()` raw ESP sockets on `local`, socket i keeping only
/// the packets of shard i (esp_shard_of), and drops what was queued before
/// the filter was in place. Errors: as raw_esp::bind, address_invalid (count),
/// not_supported (SO_ATTACH_FILTER refused).
inline result<void> bind_esp_shard(const endpoint& local, std::span<raw_esp> sockets,
                                   shard_key key = shard_key::address_and_port) noexcept {
    if (sockets.empty() || sockets.size() > 255)
        return error(errc::address_invalid, 0, "shard count");
    for (std::size_t i = 0; i < sockets.size(); ++i) {
        auto s = raw_esp::bind(local);
        if (!s) {
            for (std::size_t k = 0; k < i; ++k)
                sockets[k].close();
            return s.error();
        }
        auto prog = esp_shard_filter(i, sockets.size(), key);
        sock_fprog f = prog.fprog();
        if (::setsockopt(s->fd(), SOL_SOCKET, SO_ATTACH_FILTER, &f, sizeof f) != 0) {
            const int e = errno;
            for (std::size_t k = 0; k < i; ++k)
                sockets[k].close();
            return detail::sys_error(e == EINVAL ? ENOPROTOOPT : e, "SO_ATTACH_FILTER");
        }
        std::array<std::byte, 64> scratch;
        while (::recv(s->fd(), scratch.data(), scratch.size(), MSG_DONTWAIT | MSG_TRUNC) >= 0) {
        }
        sockets[i] = std::move(*s);
    }
    return {};
}

}  // namespace l2sec::transport
