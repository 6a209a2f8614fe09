// Drives the bounds-checked reader with arbitrary lengths: it must never read
// outside the input, whatever sequence of reads the data asks for.
#include <l2sec/core.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    l2sec::reader r(l2sec::bytes_view(reinterpret_cast<const std::byte*>(data), size));
    while (r && !r.empty()) {
        switch (r.u8() % 6) {
            case 0: (void)r.u16(); break;
            case 1: (void)r.u32(); break;
            case 2: (void)r.u64(); break;
            case 3: {
                auto s = r.sub(r.u8());
                while (s && !s.empty()) (void)s.u24();
                break;
            }
            case 4: (void)r.bytes(r.u16()); break;
            default: (void)r.peek(r.u8()); break;
        }
    }
    return 0;
}
