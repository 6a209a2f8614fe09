// The transport policies' pure parts: the IPv4 header reader of raw_esp, the
// IP length check of the TUN readers, memory_tun against a plain queue, and
// the classic BPF programs of shard.hpp run by a small interpreter (the
// kernel's semantics for SKF_NET_OFF loads) against shard_of itself, and the
// segmentation of offloaded TUN packets (checksums of every segment verify)
// and its inverse, the coalescing of TCP segments into super-packets.
// Input: a mode byte, then the bytes of that mode.
#include <l2sec/transport/memory_tun.hpp>
#include <l2sec/transport/raw_esp.hpp>
#include <l2sec/transport/shard.hpp>
#include <l2sec/transport/tun_offload.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

using l2sec::bytes_view;
using l2sec::equal;
using l2sec::store_be16;
using l2sec::store_be32;
using namespace l2sec::transport;

namespace {

[[noreturn]] void fail() {
    std::abort();
}

// Runs a classic BPF program over `net` (the network header): offsets are
// SKF_NET_OFF-relative, as in the reuseport and socket-filter programs.
// Returns the program's result, or 0 when a load falls outside (the kernel
// drops the packet / falls back to its own hash).
std::uint32_t run_cbpf(const bpf_program_buffer& p, const std::vector<std::uint8_t>& net) {
    std::uint32_t a = 0, x = 0, m[16] = {};
    auto load = [&](std::uint32_t k, std::size_t n, bool& ok) -> std::uint32_t {
        const auto off = static_cast<std::int64_t>(static_cast<std::int32_t>(k)) - SKF_NET_OFF;
        if (off < 0 || static_cast<std::size_t>(off) + n > net.size()) {
            ok = false;
            return 0;
        }
        std::uint32_t v = 0;
        for (std::size_t i = 0; i < n; ++i)
            v = (v << 8) | net[static_cast<std::size_t>(off) + i];
        return v;
    };
    for (std::size_t pc = 0; pc < p.size; ++pc) {
        const sock_filter& f = p.insns[pc];
        bool ok = true;
        switch (f.code) {
            case BPF_LD | BPF_B | BPF_ABS:
                a = load(f.k, 1, ok);
                break;
            case BPF_LD | BPF_H | BPF_ABS:
                a = load(f.k, 2, ok);
                break;
            case BPF_LD | BPF_W | BPF_ABS:
                a = load(f.k, 4, ok);
                break;
            case BPF_LD | BPF_H | BPF_IND:
                a = load(f.k + x, 2, ok);
                break;
            case BPF_LDX | BPF_B | BPF_MSH:
                x = (load(f.k, 1, ok) & 0xf) * 4;
                break;
            case BPF_LD | BPF_IMM:
                a = f.k;
                break;
            case BPF_LD | BPF_MEM:
                a = m[f.k & 15];
                break;
            case BPF_LDX | BPF_MEM:
                x = m[f.k & 15];
                break;
            case BPF_ST:
                m[f.k & 15] = a;
                break;
            case BPF_ALU | BPF_RSH | BPF_K:
                a >>= f.k;
                break;
            case BPF_ALU | BPF_MUL | BPF_K:
                a *= f.k;
                break;
            case BPF_ALU | BPF_XOR | BPF_X:
                a ^= x;
                break;
            case BPF_ALU | BPF_MOD | BPF_K:
                a %= f.k;
                break;
            case BPF_MISC | BPF_TAX:
                x = a;
                break;
            case BPF_JMP | BPF_JEQ | BPF_K:
                pc += a == f.k ? f.jt : f.jf;
                break;
            case BPF_JMP | BPF_JA:
                pc += f.k;
                break;
            case BPF_RET | BPF_A:
                return a;
            case BPF_RET | BPF_K:
                return f.k;
            default:
                fail();  // an instruction the builders never emit
        }
        if (!ok) return 0;
    }
    fail();  // fell off the end
}

void fuzz_shard(const std::uint8_t* d, std::size_t n) {
    if (n < 24) return;
    const bool v6 = d[0] & 1;
    const auto key = (d[0] & 2) ? shard_key::address : shard_key::address_and_port;
    const std::size_t shards = 1 + d[1] % 16;
    std::vector<std::uint8_t> net;
    endpoint src;
    if (!v6) {
        const std::size_t ihl = 5 + d[2] % 11;
        net.assign(ihl * 4 + 8, 0);
        net[0] = static_cast<std::uint8_t>(0x40 | ihl);
        std::memcpy(&net[12], d + 3, 4);
        std::memcpy(&net[ihl * 4], d + 7, 2);
        src = endpoint::v4(d[3], d[4], d[5], d[6], static_cast<std::uint16_t>((d[7] << 8) | d[8]));
    } else {
        net.assign(48, 0);
        net[0] = 0x60;
        std::memcpy(&net[8], d + 3, 16);
        std::memcpy(&net[40], d + 19, 2);
        std::array<std::uint8_t, 16> a;
        std::memcpy(a.data(), d + 3, 16);
        if (detail::v4_mapped(endpoint::v6(a, 0))) a[10] = 0;  // never on the wire as IPv6
        std::memcpy(&net[8], a.data(), 16);
        src = endpoint::v6(a, static_cast<std::uint16_t>((d[19] << 8) | d[20]));
    }
    if (run_cbpf(reuseport_program(shards, key), net) != shard_of(src, shards, key)) fail();
    const std::size_t idx = d[21] % shards;
    const bool keep = run_cbpf(esp_shard_filter(idx, shards, key), net) != 0;
    if (keep != (esp_shard_of(src, shards, key) == idx)) fail();
}

void fuzz_ipv4(const std::uint8_t* d, std::size_t n) {
    bytes_view b(reinterpret_cast<const std::byte*>(d), n);
    auto h = parse_ipv4_header(b);
    if (h && (h->header_len < 20 || h->header_len > 60 || h->header_len > n)) fail();
    if (ip_packet_length(b) > 65535 + 40) fail();
}

void fuzz_memory_tun(const std::uint8_t* d, std::size_t n) {
    auto tun = std::make_unique<memory_tun<4, 256>>(200);
    std::deque<std::vector<std::byte>> in, out;
    std::array<std::byte, 300> buf{};
    for (std::size_t i = 0; i + 2 <= n; i += 2) {
        const unsigned op = d[i] & 3, arg = d[i + 1];
        std::vector<std::byte> pkt(arg, static_cast<std::byte>(i));
        switch (op) {
            case 0: {
                auto r = tun->inject(pkt);
                if (r)
                    in.push_back(pkt);
                else if (arg <= 200 && in.size() < 4)
                    fail();
                break;
            }
            case 1: {
                const std::size_t headroom = arg % 301;
                auto r = tun->read_packet(buf, headroom);
                if (r) {
                    if (in.empty() || r->data() != buf.data() + headroom || !equal(*r, in.front()))
                        fail();
                    in.pop_front();
                } else if (r.error() == errc::would_block && !in.empty()) {
                    fail();
                }
                break;
            }
            case 2: {
                auto r = tun->write_packet(pkt);
                if (r)
                    out.push_back(pkt);
                else if (arg <= 200 && out.size() < 4)
                    fail();
                break;
            }
            default: {
                auto r = tun->extract(std::span(buf).first(arg));
                if (r) {
                    if (out.empty() || !equal(bytes_view(buf.data(), *r), out.front())) fail();
                    out.pop_front();
                } else if (r.error() == errc::would_block && !out.empty()) {
                    fail();
                }
            }
        }
    }
}

// A virtio header + packet as an offloading TUN gives it: every segment fits
// its announced size, and a GSO segment's checksums verify.
void fuzz_gso(const std::uint8_t* d, std::size_t n) {
    auto g = parse_gso(bytes_view(reinterpret_cast<const std::byte*>(d), n));
    if (!g) return;
    static std::array<std::byte, 65536 + 64> out;
    for (std::size_t k = 0; k < g->segments && k < 80; ++k) {
        auto w = write_segment(*g, k, out);
        if (!w || *w != g->segment_size(k)) fail();
        if (g->gso == vnet_gso::none) continue;
        bytes_view p(out.data(), *w);
        if (!g->v6 && l2sec::internet_checksum(p.first(g->ip_header)) != 0) fail();
        std::uint32_t sum = g->v6 ? l2sec::checksum_add(0, p.subspan(8, 32))
                                  : l2sec::checksum_add(0, p.subspan(12, 8));
        sum += g->protocol;
        sum += static_cast<std::uint32_t>(p.size() - g->ip_header);
        if (l2sec::checksum_fold(l2sec::checksum_add(sum, p.subspan(g->ip_header))) != 0) fail();
    }
    if (write_segment(*g, g->segments, out)) fail();
}

// TCP segments made from the input (sizes, flags, sequence gaps, addresses
// varied by it): whatever run coalescible_run accepts, build_super_packet
// then write_segment gives back every segment byte for byte.
std::vector<std::byte> tcp_segment_of(std::uint8_t src_last, std::uint32_t seq, std::uint8_t flags,
                                      std::size_t len, std::uint16_t id, std::uint8_t fill) {
    std::vector<std::byte> p(40 + len, static_cast<std::byte>(fill));
    p[0] = std::byte{0x45};
    store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
    store_be16(&p[4], id);
    p[6] = std::byte{0x40};
    p[8] = std::byte{64};
    p[9] = std::byte{6};
    p[12] = std::byte{10}, p[15] = std::byte{src_last};
    p[16] = std::byte{10}, p[19] = std::byte{1};
    store_be16(&p[10], 0);
    store_be16(&p[10], l2sec::internet_checksum(bytes_view(p).first(20)));
    store_be16(&p[20], 40000);
    store_be16(&p[22], 5001);
    store_be32(&p[24], seq);
    store_be32(&p[28], 99);
    p[32] = std::byte{0x50};
    p[33] = std::byte{flags};
    store_be16(&p[34], 65535);
    store_be16(&p[36], 0);
    std::uint32_t sum = l2sec::checksum_add(0, bytes_view(p).subspan(12, 8)) + 6 +
                        static_cast<std::uint32_t>(20 + len);
    store_be16(&p[36], l2sec::checksum_fold(l2sec::checksum_add(sum, bytes_view(p).subspan(20))));
    return p;
}

void fuzz_coalesce(const std::uint8_t* d, std::size_t n) {
    if (n < 4) return;
    const std::size_t mss = 1 + (std::size_t{d[0]} << 8 | d[1]) % 1460;
    std::uint32_t seq = 0xffffff00u + d[2];
    std::vector<std::vector<std::byte>> segs;
    for (std::size_t i = 3; i + 2 <= n && segs.size() < 80; i += 2) {
        const std::uint8_t a = d[i], b = d[i + 1];
        std::size_t len = (a & 0x80) ? mss * (b % 2) + b % mss : mss;  // mostly full ones
        const std::uint8_t flags = (a & 0x40) ? static_cast<std::uint8_t>(b) : std::uint8_t{0x10};
        const std::uint8_t src = (a & 0x20) ? 8 : 9;
        if (a & 0x10) seq += b;  // a gap
        segs.push_back(
            tcp_segment_of(src, seq, flags, len, static_cast<std::uint16_t>(700 + segs.size()), a));
        seq += static_cast<std::uint32_t>(len);
    }
    std::vector<bytes_view> views(segs.begin(), segs.end());
    static std::array<std::byte, vnet_header_size + 65536> super;
    static std::array<std::byte, 1600> out;
    for (std::size_t at = 0; at < views.size();) {
        const std::size_t run = coalescible_run(std::span(views).subspan(at));
        if (run == 0) fail();
        if (run > 1) {
            auto b = build_super_packet(std::span(views).subspan(at, run), super);
            if (!b) fail();
            auto g = parse_gso(bytes_view(super.data(), *b));
            if (!g || g->segments != run) fail();
            for (std::size_t k = 0; k < run; ++k) {
                // the segment's ID is the first's plus k in both: identical bytes
                auto w = write_segment(*g, k, out);
                if (!w || !equal(bytes_view(out.data(), *w), views[at + k])) fail();
            }
        }
        at += run;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    switch (data[0] % 5) {
        case 4:
            fuzz_coalesce(data + 1, size - 1);
            break;
        case 3:
            fuzz_gso(data + 1, size - 1);
            break;
        case 0:
            fuzz_ipv4(data + 1, size - 1);
            break;
        case 1:
            fuzz_memory_tun(data + 1, size - 1);
            break;
        default:
            fuzz_shard(data + 1, size - 1);
            break;
    }
    return 0;
}
