// IKE codecs and key schedules on the real strongSwan messages of
// tests/data/ike_*.pcap. Filter with e.g. --benchmark_filter='^ike_'.
// ike_decode/<msg>/<bytes>     parse (header + whole payload chain walk)
// ike_validate/<msg>/<bytes>   parse + every payload body decoded (SA down to attributes)
// ike_reencode/<msg>/<bytes>   parse + decode + re-encode into a buffer
// ike_key_schedule/<suite>     IKEv2: SKEYSEED + prf+ into SK_d..SK_pr; IKEv1: SKEYID +
// SKEYID_d/a/e ike_sk_open/<suite>/<bytes>  copy + verify + decrypt an IKE_AUTH SK payload (keys
// set up once) ike_dh/<group>               one key pair + agreement (the expensive part of
// IKE_SA_INIT)
#include <benchmark/benchmark.h>

#include <l2sec/crypto/botan.hpp>
#include <l2sec/ike.hpp>
#include <l2sec/pcap.hpp>

#include <array>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace l2sec;
using B = crypto::botan;

std::string data_dir() {
    std::string f = __FILE__;
    return f.substr(0, f.rfind('/')) + "/../tests/data/";
}

std::vector<std::vector<std::byte>> capture(const char* name) {
    std::vector<std::vector<std::byte>> out;
    auto file = pcap::load_file(data_dir() + name);
    if (!file) return out;
    auto pf = pcap::file_view::parse(*file);
    if (!pf) return out;
    for (const auto& rec : pf->records()) {
        if (!rec) break;
        auto ip = pcap::decode_ip_frame(pf->linktype(), rec->data);
        if (!ip) continue;
        auto udp = pcap::decode_udp(*ip);
        if (!udp) continue;
        bytes_view msg = udp->payload;
        if (udp->src_port == 4500 || udp->dst_port == 4500) {
            auto m = ike::strip_non_esp_marker(msg);
            if (!m) continue;
            msg = *m;
        }
        out.emplace_back(msg.begin(), msg.end());
    }
    return out;
}

std::map<std::string, std::vector<std::byte>> keys(const char* name) {
    std::map<std::string, std::vector<std::byte>> out;
    std::ifstream f(data_dir() + name);
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream s(line);
        std::string k, v;
        if (!(s >> k >> v)) continue;
        std::vector<std::byte> b;
        for (std::size_t i = 0; i + 1 < v.size(); i += 2)
            b.push_back(static_cast<std::byte>(std::stoul(v.substr(i, 2), nullptr, 16)));
        out[k] = b;
    }
    return out;
}

void decode(benchmark::State& st, const char* file, std::size_t index, int depth) {
    auto pk = capture(file);
    if (pk.size() <= index) {
        st.SkipWithError("capture missing");
        return;
    }
    const auto& m = pk[index];
    std::array<std::byte, 2048> out{};
    for (auto _ : st) {
        auto msg = ike::parse(m);
        if (!msg) st.SkipWithError("parse");
        std::size_t n = 0;
        if (depth == 0) {
            for (const auto& p : msg->payloads())
                n += p.body.size();
        } else if (depth == 1) {
            n = ike::validate(*msg).has_value();
        } else {
            n = ike::reencode(*msg, out).value_or(0);
        }
        benchmark::DoNotOptimize(n);
    }
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(m.size()));
    st.SetLabel(std::to_string(m.size()) + " bytes");
}

void register_decoders() {
    struct item {
        const char* name;
        const char* file;
        std::size_t index;
    };
    const item items[] = {{"ike_sa_init_request", "ike_v2cbc.pcap", 0},
                          {"ike_sa_init_response", "ike_v2cbc.pcap", 1},
                          {"v1_main_mode_sa", "ike_v1.pcap", 0},
                          {"v1_main_mode_ke", "ike_v1.pcap", 2}};
    const char* kinds[] = {"ike_decode", "ike_validate", "ike_reencode"};
    for (const auto& it : items) {
        auto pk = capture(it.file);
        std::size_t size = pk.size() > it.index ? pk[it.index].size() : 0;
        for (int d = 0; d < 3; ++d) {
            std::string name = std::string(kinds[d]) + "/" + it.name + "/" + std::to_string(size);
            benchmark::RegisterBenchmark(name.c_str(), decode, it.file, it.index, d);
        }
    }
}

void ike_key_schedule_v2(benchmark::State& st) {
    auto pk = capture("ike_v2cbc.pcap");
    auto k = keys("ike_v2cbc.keys");
    auto info = *ike::v2::describe(
        {ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256, ike::integ_id::hmac_sha2_256_128});
    auto m0 = *ike::parse(pk.at(0));
    auto m1 = *ike::parse(pk.at(1));
    bytes_view ni, nr;
    for (const auto& p : m0.payloads())
        if (p.kind() == ike::payload_type::nonce) ni = p.body;
    for (const auto& p : m1.payloads())
        if (p.kind() == ike::payload_type::nonce) nr = p.body;
    const auto& gir = k.at("shared_diffie_hellman_secret");
    for (auto _ : st) {
        auto seed = ike::v2::skeyseed<B>(info, ni, nr, gir);
        auto sa = ike::v2::derive_ike_sa_keys<B>(info, *seed, ni, nr, m1.header().spi_i,
                                                 m1.header().spi_r);
        benchmark::DoNotOptimize(sa);
    }
}
BENCHMARK(ike_key_schedule_v2)->Name("ike_key_schedule/v2_modp2048_prfsha256");

void ike_key_schedule_v1(benchmark::State& st) {
    auto pk = capture("ike_v1.pcap");
    auto k = keys("ike_v1.keys");
    auto info = *ike::v1::describe({ike::v1_encr::aes_cbc, 128, ike::v1_hash::sha1});
    auto m2 = *ike::parse(pk.at(2));
    auto m3 = *ike::parse(pk.at(3));
    bytes_view ni, nr;
    for (const auto& p : m2.payloads())
        if (p.kind() == ike::payload_type::nonce_v1) ni = p.body;
    for (const auto& p : m3.payloads())
        if (p.kind() == ike::payload_type::nonce_v1) nr = p.body;
    const auto& gxy = k.at("shared_diffie_hellman_secret");
    auto psk = as_bytes("l2sec-ike-test-psk");
    for (auto _ : st) {
        auto skeyid = ike::v1::skeyid_psk<B>(info, psk, ni, nr);
        auto p1 =
            ike::v1::derive_phase1<B>(info, *skeyid, gxy, m3.header().spi_i, m3.header().spi_r);
        benchmark::DoNotOptimize(p1);
    }
}
BENCHMARK(ike_key_schedule_v1)->Name("ike_key_schedule/v1_modp2048_sha1");

void ike_sk_open(benchmark::State& st, const char* file, const char* keyfile, ike::v2::suite s) {
    auto pk = capture(file);
    auto k = keys(keyfile);
    auto info = *ike::v2::describe(s);
    auto rx = ike::v2::sk_protect<B>::make(
        info, k.at("sk_ei_secret"), info.aead ? bytes_view{} : bytes_view(k.at("sk_ai_secret")));
    if (!rx || pk.size() < 3) {
        st.SkipWithError("setup");
        return;
    }
    const auto& m = pk[2];
    std::array<std::byte, 2048> buf{};
    for (auto _ : st) {
        copy_to(buf, m);
        auto pt = rx->open(mutable_bytes(buf.data(), m.size()));
        if (!pt) st.SkipWithError("open");
        benchmark::DoNotOptimize(pt);
    }
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(m.size()));
}

void ike_dh(benchmark::State& st, crypto::dh_id g) {
    auto peer = crypto::botan_dh::make_key_exchange(g);
    std::array<std::byte, crypto::max_dh_shared_size> s{};
    for (auto _ : st) {
        auto kx = crypto::botan_dh::make_key_exchange(g);
        auto n = kx->agree(peer->public_value(), s);
        benchmark::DoNotOptimize(n);
    }
}

[[maybe_unused]] const bool registered = [] {
    register_decoders();
    auto cbc = capture("ike_v2cbc.pcap");
    auto gcm = capture("ike_v2gcm.pcap");
    std::string n1 =
        "ike_sk_open/aes128cbc_sha256/" + std::to_string(cbc.size() > 2 ? cbc[2].size() : 0);
    std::string n2 =
        "ike_sk_open/aes256gcm16/" + std::to_string(gcm.size() > 2 ? gcm[2].size() : 0);
    benchmark::RegisterBenchmark(
        n1.c_str(), ike_sk_open, "ike_v2cbc.pcap", "ike_v2cbc.keys",
        ike::v2::suite{ike::encr_id::aes_cbc, 128, ike::prf_id::hmac_sha2_256,
                       ike::integ_id::hmac_sha2_256_128});
    benchmark::RegisterBenchmark(n2.c_str(), ike_sk_open, "ike_v2gcm.pcap", "ike_v2gcm.keys",
                                 ike::v2::suite{ike::encr_id::aes_gcm_16, 256,
                                                ike::prf_id::hmac_sha2_384, ike::integ_id::none});
    benchmark::RegisterBenchmark("ike_dh/ecp256", ike_dh, crypto::dh_id::ecp256);
    benchmark::RegisterBenchmark("ike_dh/curve25519", ike_dh, crypto::dh_id::curve25519);
    benchmark::RegisterBenchmark("ike_dh/modp2048", ike_dh, crypto::dh_id::modp2048);
    return true;
}();

}  // namespace
