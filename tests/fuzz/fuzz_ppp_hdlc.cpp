// RFC 1662 async HDLC: feed arbitrary bytes in arbitrary chunks into the
// incremental decoder (it must always make progress, never overrun its
// buffer, and every frame it yields must carry a good FCS), and check that
// encode -> decode returns the input for any ACCM and FCS size.
//
// Input: byte 0 = options (bit 0: FCS-32, bit 1: drop unescaped control
// characters, bit 2: small buffer), byte 1 = chunk size, byte 2-5 = ACCM for
// the round trip, then the stream.
#include <l2sec/ppp/hdlc.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace l2sec;
using namespace l2sec::ppp;

void require(bool ok) {
    if (!ok) std::abort();
}

std::array<std::byte, 1 << 17> g_enc;
std::array<std::byte, 1 << 16> g_buf;
std::array<std::byte, 1 << 16> g_buf2;

// The frame decodes back to itself after re-encoding (so its FCS was good).
void reencode_check(bytes_view frame, hdlc::fcs_kind k) {
    auto n = hdlc::encode(g_enc, frame, {.accm = 0xffffffff, .fcs = k});
    require(n.has_value());
    hdlc::decoder d(g_buf2, k);
    auto r = d.feed(bytes_view(g_enc).first(*n));
    require(r.what == hdlc::event::frame && r.consumed == *n && equal(r.frame, frame));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 6) return 0;
    const auto opts = data[0];
    const std::size_t chunk = std::size_t{data[1]} + 1;
    const std::uint32_t accm = (std::uint32_t{data[2]} << 24) | (std::uint32_t{data[3]} << 16) |
                               (std::uint32_t{data[4]} << 8) | data[5];
    const auto k = (opts & 1) ? hdlc::fcs_kind::fcs32 : hdlc::fcs_kind::fcs16;
    bytes_view stream(reinterpret_cast<const std::byte*>(data + 6), size - 6);

    // 1. Arbitrary stream, arbitrary chunks.
    const std::size_t cap = (opts & 4) ? 24 : g_buf.size();
    hdlc::decoder dec(mutable_bytes(g_buf).first(cap), k, (opts & 2) ? 0xffffffffu : 0u);
    std::size_t fed = 0;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
        bytes_view in = stream.subspan(at, std::min(chunk, stream.size() - at));
        while (!in.empty()) {
            auto r = dec.feed(in);
            require(r.consumed > 0 && r.consumed <= in.size());
            fed += r.consumed;
            require(dec.stream_offset() == fed);
            in = in.subspan(r.consumed);
            if (r.what == hdlc::event::frame) {
                require(r.frame.size() + hdlc::fcs_size(k) <= cap);
                require(r.frame.data() == g_buf.data());
                reencode_check(r.frame, k);
            } else if (r.what != hdlc::event::need_more) {
                require(r.offset == fed - 1);
                require(r.error().code.category().name() == std::string_view("l2sec.ppp"));
            } else {
                require(in.empty());
            }
        }
    }

    // 2. Round trip: the stream as one frame, with the given ACCM; the
    // receiver drops nothing (its map is a subset of what was escaped).
    if (stream.size() + 4 <= g_buf.size()) {
        auto n =
            hdlc::encode(g_enc, stream, {.accm = accm, .fcs = k, .leading_flag = (opts & 8) != 0});
        require(n.has_value() && *n <= hdlc::max_encoded_size(stream.size(), k));
        hdlc::decoder d(g_buf, k, (opts & 16) ? accm : 0u);
        bytes_view in = bytes_view(g_enc).first(*n);
        int frames = 0;
        while (!in.empty()) {
            auto r = d.feed(in.first(std::min(chunk, in.size())));
            in = in.subspan(r.consumed);
            if (r.what == hdlc::event::frame) {
                ++frames;
                require(equal(r.frame, stream));
            } else if (stream.empty()) {
                // An empty frame is just the FCS: 2 or 4 bytes, a runt by RFC 1662 4.3.
                require(r.what == hdlc::event::need_more || r.what == hdlc::event::runt);
            } else if (stream.size() + hdlc::fcs_size(k) < hdlc::fcs_size(k) + 2) {
                require(r.what == hdlc::event::need_more || r.what == hdlc::event::runt);
            } else {
                require(r.what == hdlc::event::need_more);
            }
        }
        if (stream.size() >= 2) require(frames == 1);
    }
    return 0;
}
