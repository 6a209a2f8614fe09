// A whole pcap file from arbitrary bytes: iterate every record and decode the
// link layer, IP and UDP of each, under every link type this library knows.
// Nothing may read outside the input, and every offset must lie inside it.
#include <l2sec/pcap.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    l2sec::bytes_view in(reinterpret_cast<const std::byte*>(data), size);
    auto f = l2sec::pcap::file_view::parse(in);
    if (!f) return 0;
    static constexpr std::uint32_t links[] = {0, 1, 101, 113, 228, 229, 276};
    for (const auto& r : f->records()) {
        if (!r) {
            if (r.error().offset > size) std::abort();
            break;
        }
        for (std::uint32_t link : {f->header().link, links[r->index % 7]}) {
            auto ip = l2sec::pcap::decode_ip_frame(link, r->data);
            if (!ip) {
                if (ip.error().offset > r->data.size()) std::abort();
                continue;
            }
            if (ip->payload_offset + ip->payload.size() > r->data.size()) std::abort();
            (void)l2sec::pcap::ip_header_checksum_ok(*ip);
            auto u = l2sec::pcap::decode_udp(*ip);
            if (!u) {
                if (u.error().offset > r->data.size()) std::abort();
                continue;
            }
            if (u->payload_offset + u->payload.size() > r->data.size()) std::abort();
            (void)l2sec::pcap::udp_checksum_ok(*ip, *u);
        }
    }
    return 0;
}
