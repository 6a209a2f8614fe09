// IKEv1 and IKEv2 decoders on arbitrary input: header, payload chain, every
// payload body (deep validation), and the byte-exact round trip property: a
// message that validates re-encodes to exactly its input.
#include <l2sec/ike.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    l2sec::bytes_view in(reinterpret_cast<const std::byte*>(data), size);
    static std::array<std::byte, 70000> out;
    if (auto m = l2sec::ike::parse(in)) {
        std::size_t n = 0;
        for (const auto& p : m->payloads())
            n += p.size();
        (void)n;
        if (l2sec::ike::validate(*m)) {
            auto r = l2sec::ike::reencode(*m, out);
            if (!r || *r != size || std::memcmp(out.data(), data, size) != 0) std::abort();
        }
    }
    // The same bytes as a decrypted body: an IKEv1 plaintext and an IKEv2 SK inner chain.
    if (size > 1) {
        auto first = static_cast<std::uint8_t>(data[0]);
        auto rest = in.subspan(1);
        (void)l2sec::ike::v1::validate(l2sec::ike::parse_v1_plaintext(rest, first));
        (void)l2sec::ike::v2::validate(l2sec::ike::parse_v2_inner(rest, first));
    }
    return 0;
}
