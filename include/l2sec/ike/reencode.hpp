// Decode-and-re-encode of a whole message: every payload body is decoded into
// its typed view and written back from the view's fields. Used to prove the
// codecs byte-exact, and as a deep validation of a received message.
#pragma once

#include <l2sec/ike/message.hpp>
#include <l2sec/ike/v1/payloads.hpp>
#include <l2sec/ike/v2/payloads.hpp>

namespace l2sec::ike {

/// Re-encode a parsed message (the payload bodies of an encrypted IKEv1
/// message and of SK/SKF are copied as they are).
inline result<std::size_t> reencode(const message& m, mutable_bytes out) noexcept {
    message_builder b(out, m.header());
    if (m.header().encrypted()) {
        b.out().patch_u8(16, m.header().next_payload);
        b.out().bytes(m.body());
        return b.finish();
    }
    auto chain = m.payloads();
    for (auto it = chain.begin(); it != chain.end(); ++it) {
        b.begin_raw(it->type, it->flags);
        auto ok =
            m.header().is_v2() ? v2::reencode_body(*it, b.out()) : v1::reencode_body(*it, b.out());
        if (!ok) return ok.error();
        b.end();
        if (ends_chain(it->type) && m.header().is_v2()) b.chain().set_last_next(it->next);
    }
    if (!chain.ok()) return chain.last_error();
    return b.finish();
}

/// Deep validation: the chain and every payload body.
inline result<void> validate(const message& m) noexcept {
    if (m.header().encrypted()) return {};
    return m.header().is_v2() ? v2::validate(m.payloads()) : v1::validate(m.payloads());
}

}  // namespace l2sec::ike
