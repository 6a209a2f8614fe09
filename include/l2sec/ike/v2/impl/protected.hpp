// The IKEv2 engine's protected messages: sealed whole (SK) or, RFC 7383, as
// SKF fragments into a slot's buffer; the peer's fragments verified one by
// one and reassembled. Included by impl/engine.hpp (which documents each).
#pragma once

#include <l2sec/ike/v2/impl/engine.hpp>

namespace l2sec::ike::v2::detail {

#define L2SEC_IKE2_CORE template <class B, class R, class L, class S>
#define L2SEC_IKE2_SELF engine_core<B, R, L, S>

L2SEC_IKE2_CORE
template <class Body>
auto L2SEC_IKE2_SELF::inner_chain(Body&& body) noexcept
    -> result<std::pair<std::uint8_t, bytes_view>> {
    writer w(mutable_bytes(frag_buf.get(), msg_capacity));
    w.u8(0);
    chain_writer c(w, 0);
    body(c);
    auto n = w.finish("inner payloads");
    if (!n) return n.error();
    return std::pair<std::uint8_t, bytes_view>{std::to_integer<std::uint8_t>(frag_buf[0]),
                                               bytes_view(frag_buf.get() + 1, *n - 1)};
}

L2SEC_IKE2_CORE
result<std::size_t> L2SEC_IKE2_SELF::seal_whole(sa_t& s, mutable_bytes out, const header& h,
                                                std::uint8_t first, bytes_view chain) noexcept {
    std::array<std::byte, 16> iv{};
    const std::size_t ivn = s.sk_tx->info().iv_size;
    if (!random(mutable_bytes(iv.data(), ivn)))
        return error(engine_errc::crypto_failure, 0, "SK IV");
    message_builder b(out, h);
    auto sk = begin_sk(b, bytes_view(iv.data(), ivn));
    b.out().patch_u8(sk.next_at, first);
    b.out().bytes(chain);
    return s.sk_tx->seal(b, sk);
}

L2SEC_IKE2_CORE
template <class Body>
result<std::uint16_t> L2SEC_IKE2_SELF::seal_out(sa_t& s, mutable_bytes buf, pieces& pc, exchange x,
                                                bool response, std::uint32_t mid,
                                                Body&& body) noexcept {
    pc.n = 0;
    auto in = inner_chain(body);
    if (!in) return in.error();
    const header h = hdr(s, x, response, mid);
    auto whole = [&]() -> result<std::uint16_t> {
        auto n = seal_whole(s, buf.subspan(marker), h, in->first, in->second);
        if (!n) return n.error();
        return static_cast<std::uint16_t>(*n);
    };
    const auto& info = s.sk_tx->info();
    const std::size_t around = s.floated ? marker : 0;  // the datagram has the marker too
    std::size_t ct = in->second.size() + 1;
    if (info.block_size > 1) ct += (info.block_size - ct % info.block_size) % info.block_size;
    const std::size_t size =
        header::size + payload::header_size + info.iv_size + ct + info.icv_size;
    if (!s.frag || size + around <= cfg.fragment_size) return whole();
    const std::size_t max_msg = std::min(cfg.fragment_size - around, msg_capacity);
    std::size_t at = 0;
    bool fits = true;
    auto n = fragment_and_seal(
        *s.sk_tx, h, in->first, in->second, skf_max_plain(info, max_msg),
        [&](mutable_bytes iv) { return random(iv); },
        mutable_bytes(frag_buf.get() + msg_capacity, max_msg),
        [&](std::uint16_t k, std::uint16_t, bytes_view f) {
            if (!fits || k > pieces::max || at + marker + f.size() > buf.size()) {
                fits = false;
                return;
            }
            std::fill_n(buf.data() + at, marker, std::byte{0});
            copy_to(buf.subspan(at + marker), f);
            at += marker + f.size();
            pc.end[k - 1] = static_cast<std::uint16_t>(at);
        });
    if (!n || !fits) {
        pc.n = 0;
        ++st.fragment_fallbacks;
        return whole();
    }
    pc.n = static_cast<std::uint8_t>(*n);
    st.fragments_sent += *n;
    return static_cast<std::uint16_t>(at);
}

L2SEC_IKE2_CORE
std::uint16_t L2SEC_IKE2_SELF::skf_number(const message& m) noexcept {
    payload last{};
    for (const auto& pl : m.payloads())
        last = pl;
    if (last.kind() != payload_type::skf) return 0;
    auto f = skf::parse(last);
    return f ? f->number : 0;
}

L2SEC_IKE2_CORE
void L2SEC_IKE2_SELF::on_repeated_fragment(sa_t& s, bytes_view msg, std::uint16_t piece) noexcept {
    ++st.duplicates;
    if (piece != 1) return;
    mutable_bytes buf(rx.get(), msg.size());
    copy_to(buf, msg);
    if (auto pt = s.sk_rx->open(buf); !pt) return fail_note(pt.error());
    queue(s, 1);
}

L2SEC_IKE2_CORE
auto L2SEC_IKE2_SELF::reassembly_for(const sa_t& s, std::uint32_t mid, bool response) noexcept
    -> reassembly& {
    const auto slot = static_cast<std::uint32_t>(index_of(s));
    reassembly* oldest = &reasm[0];
    for (std::size_t i = 0; i < reassembly_slots; ++i) {
        auto& r = reasm[i];
        if (r.gen == s.generation && r.slot == slot && r.mid == mid && r.response == response)
            return r;
        if (r.started < oldest->started) oldest = &r;  // a free one (0), else the oldest
    }
    auto& r = *oldest;
    r.slot = slot;
    r.gen = s.generation;
    r.mid = mid;
    r.response = response;
    r.started = ++reasm_clock;
    r.r.emplace(mutable_bytes(r.store));
    return r;
}

L2SEC_IKE2_CORE
std::optional<sk_plaintext> L2SEC_IKE2_SELF::reassemble(sa_t& s, const header& h,
                                                        const sk_plaintext& f,
                                                        time_point now) noexcept {
    if (!s.frag) {
        fail_note(error(engine_errc::invalid_payload, f.offset,
                        "SKF fragment (fragmentation was not negotiated)"));
        return std::nullopt;
    }
    ++st.fragments_received;
    s.last_rx = now;
    auto& r = reassembly_for(s, h.message_id, h.response());
    if (r.r->received() && f.total != r.r->total()) {
        if (f.total < r.r->total()) {
            fail_note(error(errc::fragment_mismatch, f.offset, "SKF total (fewer than before)"));
            return std::nullopt;
        }
        r.r->reset();
    }
    auto done = r.r->add(f);
    if (!done) {
        fail_note(done.error());
        return std::nullopt;
    }
    if (!*done) return std::nullopt;
    auto whole = r.r->assemble(mutable_bytes(rx.get(), rx_capacity));
    release(r);
    if (!whole) {
        fail_note(whole.error());
        return std::nullopt;
    }
    return *whole;
}

#undef L2SEC_IKE2_CORE
#undef L2SEC_IKE2_SELF

}  // namespace l2sec::ike::v2::detail
