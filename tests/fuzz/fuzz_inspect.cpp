// l2sec-inspect's JSON printers on arbitrary UDP payloads: L2TP (with and
// without a tunnel secret, so hidden AVPs get unhidden) and the PPP frames of
// data messages. Every line must be produced without reading out of bounds,
// and error offsets must stay inside the payload.
#include "../../examples/inspect/l2tp_json.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace l2sec::inspect;
    l2sec::bytes_view in(reinterpret_cast<const std::byte*>(data), size);
    settings plain;
    settings secret;
    secret.l2tp_secret = "l2sec-secret";
    for (const settings* s : {&plain, &secret}) {
        json_writer j;
        j.begin_object();
        packet_context c{j, *s, std::nullopt};
        print_l2tp(c, in, 0);
        c.write_error();
        j.end_object();
        if (c.err && c.err->offset > size) std::abort();
        if (j.str().empty() || j.str().front() != '{' || j.str().back() != '}') std::abort();
    }
    // The same bytes as a bare PPP frame.
    json_writer j;
    j.begin_object();
    packet_context c{j, plain, std::nullopt};
    print_ppp(c, in, 0);
    c.write_error();
    j.end_object();
    if (c.err && c.err->offset > size) std::abort();
    return 0;
}
