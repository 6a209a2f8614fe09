// Built against the installed package: proves the headers and the exported
// target are usable without the source tree.
#include <l2sec/l2sec.hpp>

#include <cstdio>

int main() {
    std::array<std::byte, 4> buf{};
    l2sec::writer w(buf);
    w.u16(0xC802);
    w.u16(0x0010);
    l2sec::reader r(buf);
    bool ok = r.u16() == 0xC802 && r.u16() == 0x0010 && w.finish().has_value();
    std::puts(ok ? "consumer: ok" : "consumer: FAILED");
    return ok ? 0 : 1;
}
