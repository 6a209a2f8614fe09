// A whole pcap or pcapng file from arbitrary bytes: iterate every record and decode the
// link layer, IP and UDP of each, under every link type this library knows.
// Nothing may read outside the input, and every offset must lie inside it.
#include <l2sec/pcap.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

void frame(std::uint32_t link, l2sec::bytes_view data) {
    auto ip = l2sec::pcap::decode_ip_frame(link, data);
    if (!ip) {
        if (ip.error().offset > data.size()) std::abort();
        return;
    }
    if (ip->payload_offset + ip->payload.size() > data.size()) std::abort();
    (void)l2sec::pcap::ip_header_checksum_ok(*ip);
    auto u = l2sec::pcap::decode_udp(*ip);
    if (!u) {
        if (u.error().offset > data.size()) std::abort();
        return;
    }
    if (u->payload_offset + u->payload.size() > data.size()) std::abort();
    (void)l2sec::pcap::udp_checksum_ok(*ip, *u);
}

constexpr std::uint32_t links[] = {0, 1, 101, 113, 228, 229, 276};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    l2sec::bytes_view in(reinterpret_cast<const std::byte*>(data), size);
    if (l2sec::pcap::is_pcapng(in)) {
        auto f = l2sec::pcap::pcapng_view::parse(in);
        if (!f) return 0;
        for (const auto& r : f->records()) {
            if (!r) {
                if (r.error().offset > size) std::abort();
                break;
            }
            frame(r->link, r->data);
            frame(links[r->index % 7], r->data);
        }
        return 0;
    }
    auto f = l2sec::pcap::file_view::parse(in);
    if (!f) return 0;
    for (const auto& r : f->records()) {
        if (!r) {
            if (r.error().offset > size) std::abort();
            break;
        }
        frame(f->header().link, r->data);
        frame(links[r->index % 7], r->data);
    }
    return 0;
}
