// Differential fuzzing of the anti-replay window: the RFC 6479 block ring
// (esp::replay_window<4096>) against a plain set of every accepted number.
// Input: 2 bytes of window size, then 3-byte steps: a signed jump from the
// highest number so far (forward, backward, far backward) and whether the
// packet's ICV "verified" (only then is it recorded, as in esp::sa).
#include <l2sec/esp/replay_window.hpp>

#include <cstddef>
#include <cstdint>
#include <set>

using namespace l2sec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    std::size_t w = ((std::size_t{data[0]} << 8) | data[1]) % 4097;
    esp::replay_window<4096> win(w);
    std::set<std::uint64_t> seen;
    std::uint64_t top = 0;
    for (std::size_t i = 2; i + 3 <= size; i += 3) {
        auto step = static_cast<std::int16_t>((data[i] << 8) | data[i + 1]);
        bool verified = (data[i + 2] & 1) != 0;
        std::uint64_t seq;
        if ((data[i + 2] & 6) == 6)
            seq = top + 70000u * static_cast<std::uint16_t>(step);  // big jumps
        else if (step >= 0)
            seq = top + static_cast<std::uint64_t>(step);
        else
            seq = top >= static_cast<std::uint64_t>(-step) ? top - static_cast<std::uint64_t>(-step)
                                                           : 0;
        esp::replay_verdict expect;
        if (w == 0 || seq > top)
            expect = esp::replay_verdict::ok;
        else if (top - seq >= w)
            expect = esp::replay_verdict::too_old;
        else
            expect = seen.count(seq) ? esp::replay_verdict::duplicate : esp::replay_verdict::ok;
        if (win.check(seq) != expect) __builtin_trap();
        if (expect == esp::replay_verdict::ok && verified) {
            win.update(seq);
            seen.insert(seq);
            if (seq > top) top = seq;
            if (win.top() != top) __builtin_trap();
        }
    }
    return 0;
}
