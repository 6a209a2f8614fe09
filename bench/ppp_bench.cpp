// PPP codecs: LCP Configure-Request decode/encode and RFC 1662 HDLC framing.
//   l2sec-bench --benchmark_filter=ppp_
#include <benchmark/benchmark.h>

#include <l2sec/ppp.hpp>

#include <array>
#include <cstddef>
#include <vector>

namespace {

using namespace l2sec;
using namespace l2sec::ppp;

// LCP Configure-Request: MRU, ACCM, auth CHAP-MD5, magic, PFC, ACFC (29 bytes).
constexpr std::array<std::uint8_t, 29> confreq_bytes{
    0x01, 0x07, 0x00, 0x1d, 0x01, 0x04, 0x05, 0xdc, 0x02, 0x06, 0x00, 0x00, 0x00, 0x00, 0x03,
    0x05, 0xc2, 0x23, 0x05, 0x05, 0x06, 0x12, 0x34, 0x56, 0x78, 0x07, 0x02, 0x08, 0x02};

bytes_view confreq() {
    return {reinterpret_cast<const std::byte*>(confreq_bytes.data()), confreq_bytes.size()};
}

void lcp_decode(benchmark::State& st) {
    const auto in = confreq();
    for (auto _ : st) {
        auto p = lcp::decode(in);
        std::uint32_t acc = 0;
        for (auto raw : p->options()) {
            auto o = lcp::parse_option(raw);
            acc += static_cast<std::uint32_t>(o->index());
        }
        benchmark::DoNotOptimize(acc);
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(in.size()));
}

void lcp_encode(benchmark::State& st) {
    std::array<std::byte, 64> out{};
    std::uint32_t magic = 0x12345678;
    std::uint16_t mru = 1500;
    std::uint32_t accm = 0;
    for (auto _ : st) {
        // Opaque inputs, so the compiler cannot precompute the packet.
        benchmark::DoNotOptimize(mru);
        benchmark::DoNotOptimize(accm);
        mutable_bytes buf(out);
        benchmark::DoNotOptimize(buf);
        packet_writer pw(buf, code::configure_request, 7);
        pw.option(lcp::mru{mru})
            .option(lcp::accm{accm})
            .option(lcp::auth_protocol::chap_md5())
            .option(lcp::magic_number{magic++})
            .option(lcp::pfc{})
            .option(lcp::acfc{});
        auto n = pw.finish();
        benchmark::DoNotOptimize(n);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(confreq_bytes.size()));
}

std::vector<std::byte> frame_1500() {
    std::vector<std::byte> f(1500);
    f[0] = std::byte{0xff};
    f[1] = std::byte{0x03};
    f[2] = std::byte{0x00};
    f[3] = std::byte{0x21};
    for (std::size_t i = 4; i < f.size(); ++i)
        f[i] = static_cast<std::byte>((i * 131 + 7) & 0xff);
    return f;
}

void hdlc_encode(benchmark::State& st, std::uint32_t accm, hdlc::fcs_kind k) {
    const auto f = frame_1500();
    std::vector<std::byte> out(hdlc::max_encoded_size(f.size(), k));
    for (auto _ : st) {
        auto n = hdlc::encode(out, f, {.accm = accm, .fcs = k});
        benchmark::DoNotOptimize(n);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(f.size()));
}

void hdlc_decode(benchmark::State& st, std::uint32_t accm, hdlc::fcs_kind k) {
    const auto f = frame_1500();
    std::vector<std::byte> enc(hdlc::max_encoded_size(f.size(), k));
    const auto n = *hdlc::encode(enc, f, {.accm = accm, .fcs = k});
    std::vector<std::byte> buf(1600);
    hdlc::decoder dec(buf, k);
    const bytes_view in = bytes_view(enc).first(n);
    for (auto _ : st) {
        auto r = dec.feed(in);
        benchmark::DoNotOptimize(r);
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(f.size()));
}

}  // namespace

BENCHMARK(lcp_decode)->Name("ppp_lcp_decode/confreq/29");
BENCHMARK(lcp_encode)->Name("ppp_lcp_encode/confreq/29");
BENCHMARK_CAPTURE(hdlc_encode, accm_all_fcs16, 0xffffffffu, hdlc::fcs_kind::fcs16)
    ->Name("ppp_hdlc_encode/accm_all_fcs16/1500");
BENCHMARK_CAPTURE(hdlc_encode, accm_none_fcs16, 0u, hdlc::fcs_kind::fcs16)
    ->Name("ppp_hdlc_encode/accm_none_fcs16/1500");
BENCHMARK_CAPTURE(hdlc_encode, accm_all_fcs32, 0xffffffffu, hdlc::fcs_kind::fcs32)
    ->Name("ppp_hdlc_encode/accm_all_fcs32/1500");
BENCHMARK_CAPTURE(hdlc_decode, accm_all_fcs16, 0xffffffffu, hdlc::fcs_kind::fcs16)
    ->Name("ppp_hdlc_decode/accm_all_fcs16/1500");
BENCHMARK_CAPTURE(hdlc_decode, accm_none_fcs16, 0u, hdlc::fcs_kind::fcs16)
    ->Name("ppp_hdlc_decode/accm_none_fcs16/1500");
BENCHMARK_CAPTURE(hdlc_decode, accm_all_fcs32, 0xffffffffu, hdlc::fcs_kind::fcs32)
    ->Name("ppp_hdlc_decode/accm_all_fcs32/1500");
