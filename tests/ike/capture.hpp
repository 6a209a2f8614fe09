// Test helpers: the IKE messages of a capture under tests/data (UDP 500, or
// 4500 after the non-ESP marker), and the secrets charon logged beside it.
#pragma once

#include <l2sec/ike.hpp>
#include <l2sec/pcap.hpp>

#include "support/hex.hpp"

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace l2sec::test {

struct ike_packet {
    std::vector<std::byte> ike;  ///< the IKE message
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
};

inline std::vector<std::byte> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(c.size());
    for (std::size_t i = 0; i < c.size(); ++i)
        out[i] = static_cast<std::byte>(c[i]);
    return out;
}

inline std::vector<ike_packet> ike_capture(const std::string& name) {
    std::vector<ike_packet> out;
    auto file = read_file(std::string(L2SEC_TEST_DATA) + "/" + name);
    auto pf = pcap::file_view::parse(file);
    if (!pf) return out;
    for (const auto& rec : pf->records()) {
        if (!rec) break;
        auto ip = pcap::decode_ip_frame(pf->linktype(), rec->data);
        if (!ip || ip->protocol != 17) continue;
        auto udp = pcap::decode_udp(*ip);
        if (!udp) continue;
        bytes_view msg = udp->payload;
        if (udp->src_port == 4500 || udp->dst_port == 4500) {
            auto m = ike::strip_non_esp_marker(msg);
            if (!m) continue;
            msg = *m;
        } else if (udp->src_port != 500 && udp->dst_port != 500) {
            continue;
        }
        out.push_back(
            {std::vector<std::byte>(msg.begin(), msg.end()), udp->src_port, udp->dst_port});
    }
    return out;
}

/// `name hex` lines written by tests/interop/ike_keys.py.
inline std::map<std::string, std::vector<std::byte>> ike_keys(const std::string& name) {
    std::map<std::string, std::vector<std::byte>> out;
    std::ifstream f(std::string(L2SEC_TEST_DATA) + "/" + name);
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream s(line);
        std::string k, v;
        if (s >> k >> v) out[k] = hex(v);
    }
    return out;
}

}  // namespace l2sec::test
