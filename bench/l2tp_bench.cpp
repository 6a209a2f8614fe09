// L2TPv2 codec benchmarks: SCCRQ decode/encode with its usual AVPs, and the
// datapath's data-message header decode/encode.
//   l2sec-bench --benchmark_filter=l2tp
#include <benchmark/benchmark.h>

#include <l2sec/crypto/botan.hpp>
#include <l2sec/crypto/portable.hpp>
#include <l2sec/l2tp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace {

namespace l2tp = l2sec::l2tp;
namespace avps = l2sec::l2tp::avps;
namespace crypto = l2sec::crypto;

// SCCRQ as a LAC usually sends it: Message Type, Protocol Version, Host Name,
// Framing and Bearer Capabilities, Firmware Revision, Vendor Name, Assigned
// Tunnel ID, Receive Window Size.
l2sec::result<l2sec::bytes_view> build_sccrq(l2sec::mutable_bytes buf, std::uint16_t ns) {
    l2tp::message_builder b(buf, 0, 0, ns, 0);
    b.add(avps::message_type{l2tp::message_type::sccrq})
        .add(avps::protocol_version{1, 0})
        .add(avps::host_name{l2sec::as_bytes("lac.example.net")})
        .add(avps::framing_capabilities{avps::framing::sync | avps::framing::async})
        .add(avps::bearer_capabilities{avps::bearer::digital | avps::bearer::analog})
        .add(avps::firmware_revision{0x0690})
        .add(avps::vendor_name{l2sec::as_bytes("l2sec")})
        .add(avps::assigned_tunnel_id{0x1234})
        .add(avps::receive_window_size{8});
    return b.finish();
}

void l2tp_encode_sccrq(benchmark::State& state) {
    std::array<std::byte, 256> buf{};
    std::size_t n = 0;
    std::uint16_t ns = 0;
    for (auto _ : state) {
        auto r = build_sccrq(buf, ns++);
        benchmark::DoNotOptimize(r);
        n = r->size();
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(l2tp_encode_sccrq)->Name("l2tp_encode/sccrq/9avps");

// Parse + iterate + typed decode of every AVP (what an engine does per message).
void l2tp_decode_sccrq(benchmark::State& state) {
    std::array<std::byte, 256> buf{};
    auto msg = *build_sccrq(buf, 0);
    for (auto _ : state) {
        auto m = l2tp::parse(msg);
        std::uint32_t sum = 0;
        for (auto a : m->avps())
            (void)l2tp::visit_avp(a, [&](const auto&) { ++sum; });
        benchmark::DoNotOptimize(sum);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(msg.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(l2tp_decode_sccrq)->Name("l2tp_decode/sccrq/9avps");

// Parse + validate (section 6) only, no typed decode.
void l2tp_parse_validate_sccrq(benchmark::State& state) {
    std::array<std::byte, 256> buf{};
    auto msg = *build_sccrq(buf, 0);
    for (auto _ : state) {
        auto m = l2tp::parse(msg);
        auto v = l2tp::validate(*m);
        benchmark::DoNotOptimize(v);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(msg.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(l2tp_parse_validate_sccrq)->Name("l2tp_decode/sccrq_validate/9avps");

// Data header decode for a PPP frame of range(0) octets; header without
// options (6 octets) or with L and S (12 octets).
void l2tp_data_decode(benchmark::State& state, bool with_ls) {
    std::array<std::byte, 2048> buf{};
    const auto payload = static_cast<std::size_t>(state.range(0));
    l2tp::header h = l2tp::data_header(7, 9);
    h.has_length = h.has_sequence = with_ls;
    auto n = *l2tp::write_data_header(buf, h, payload);
    l2sec::bytes_view pkt = l2sec::bytes_view(buf).first(n + payload);
    for (auto _ : state) {
        auto d = l2tp::parse_data(pkt);
        benchmark::DoNotOptimize(d->payload.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(pkt.size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK_CAPTURE(l2tp_data_decode, plain, false)
    ->Name("l2tp_data_decode/plain")
    ->Arg(64)
    ->Arg(1400);
BENCHMARK_CAPTURE(l2tp_data_decode, ls, true)
    ->Name("l2tp_data_decode/length_sequence")
    ->Arg(64)
    ->Arg(1400);

// Data header encode into the headroom in front of a PPP frame (in place).
void l2tp_data_encode(benchmark::State& state, bool with_ls) {
    std::array<std::byte, 2048> buf{};
    const auto payload = static_cast<std::size_t>(state.range(0));
    l2tp::header h = l2tp::data_header(7, 9);
    h.has_length = h.has_sequence = with_ls;
    std::uint16_t ns = 0;
    for (auto _ : state) {
        h.ns = ns++;
        auto n = l2tp::write_data_header(buf, h, payload);
        benchmark::DoNotOptimize(n);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(state.iterations() *
                            static_cast<std::int64_t>((h.encoded_size() + payload)));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK_CAPTURE(l2tp_data_encode, plain, false)
    ->Name("l2tp_data_encode/plain")
    ->Arg(64)
    ->Arg(1400);
BENCHMARK_CAPTURE(l2tp_data_encode, ls, true)
    ->Name("l2tp_data_encode/length_sequence")
    ->Arg(64)
    ->Arg(1400);

// Hidden AVP: unhide a 16-octet value (two MD5 blocks), with the MD5 of
// the backend B (a context made once, as the engine holds it).
template <class B>
void l2tp_unhide(benchmark::State& state) {
    auto md5 = *B::make_hash(crypto::hash_id::md5);
    std::array<std::byte, 256> buf{};
    std::array<std::byte, 16> rv{};
    l2tp::message_builder b(buf, 1, 2, 0, 0);
    b.add(avps::message_type{l2tp::message_type::iccn})
        .add(avps::random_vector{rv})
        .add_hidden(md5, avps::proxy_authen_response{rv}, l2sec::as_bytes("secret"));
    auto msg = *b.finish();
    auto m = *l2tp::parse(msg);
    l2tp::avp_view hidden;
    for (auto a : m.avps())
        if (a.hidden()) hidden = a;
    std::array<std::byte, 64> out{};
    for (auto _ : state) {
        auto p = l2tp::unhide(md5, hidden, l2sec::as_bytes("secret"), out);
        benchmark::DoNotOptimize(p);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(hidden.value().size()));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(l2tp_unhide<crypto::botan>)->Name("l2tp_unhide/proxy_authen_response/18");
BENCHMARK(l2tp_unhide<crypto::portable>)->Name("l2tp_unhide/proxy_authen_response/18/portable");

}  // namespace
