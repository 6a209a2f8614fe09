// Loading a peer's state before the packet that needs it. With thousands of
// peers every packet finds its peer's records out of cache and out of the
// TLB; one after another, behind each cipher call, those misses cost more
// than the cipher. A receive batch can first read the records of all its
// packets, so that their misses overlap one another (vpn::server::warm).
//
// Plain loads, not prefetch instructions: on the machine we measured
// (AMD EPYC, KVM guest, 10,000 peers) prefetcht0 over the same lines changed
// nothing, where these loads took a third off what the peers' state cost
// (docs/performance.md).
#pragma once

namespace l2sec {

/// Read the byte at `p` and at every 64 bytes after it, `lines` in all,
/// and discard them: the cache lines holding them are loaded. Every byte
/// read must belong to the object; nothing is written.
inline void warm(const void* p, int lines = 1) noexcept {
    const auto* c = static_cast<const volatile unsigned char*>(p);
    for (int i = 0; i < lines; ++i)
        (void)c[i * 64];
}

}  // namespace l2sec
