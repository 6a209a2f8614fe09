// L2TPv2 messages from arbitrary bytes: parse, iterate, unhide with a fixed
// secret, decode every AVP as its typed value, check mandatory AVPs, validate
// against RFC 2661 section 6, and re-encode whatever parsed cleanly: the
// builder must reproduce the same bytes, and a header must decode to itself.
#include <l2sec/crypto/portable.hpp>
#include <l2sec/l2tp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace l2tp = l2sec::l2tp;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void fuzz_control(const l2tp::message_view& m) {
    const auto secret = l2sec::as_bytes("fuzz-secret");
    static auto md5 = *l2sec::crypto::portable::make_hash(l2sec::crypto::hash_id::md5);
    std::array<std::byte, 1024> plain{};
    std::array<std::byte, 1100> tmp{};
    (void)l2tp::validate(m);
    (void)l2tp::check_mandatory(m.avps());
    (void)m.get<l2tp::avps::host_name>();
    (void)m.get<l2tp::avps::assigned_tunnel_id>();
    std::size_t n = 0;
    for (l2tp::avp_view a : m.avps()) {
        ++n;
        check(a.length() >= 6 && a.value_offset() + a.value().size() <= m.bytes().size());
        (void)l2tp::visit_avp(a, [](const auto&) {});
        auto p = l2tp::unhide(md5, a, secret, plain);
        if (!p) continue;
        std::size_t visited = 0;
        auto r = l2tp::visit_avp(a, *p, [&](const auto& v) {
            ++visited;
            using V = std::decay_t<decltype(v)>;
            if constexpr (!std::is_same_v<V, l2tp::avp_view>) {
                // Typed value re-encodes to the same octets (reserved fields aside).
                l2sec::writer w(tmp);
                v.encode(w);
                check(w.size() == v.size());
                if constexpr (!std::is_same_v<V, l2tp::avps::call_errors> &&
                              !std::is_same_v<V, l2tp::avps::accm> &&
                              !std::is_same_v<V, l2tp::avps::proxy_authen_id>)
                    check(l2sec::equal(w.written(), *p));
                // Hide and unhide it again under a fresh random vector.
                if (!a.hidden() && !l2tp::must_not_hide(a.vendor(), a.type()) &&
                    v.size() + 8 <= tmp.size()) {
                    std::array<std::byte, 4> rv{std::byte{1}, std::byte{2}, std::byte{3},
                                                std::byte{4}};
                    l2sec::mutable_bytes sub(tmp.data(), 2 + v.size());
                    l2sec::store_be16(sub.data(), static_cast<std::uint16_t>(v.size()));
                    l2sec::writer w2(sub.subspan(2));
                    v.encode(w2);
                    check(l2tp::hide_in_place(md5, a.type(), secret, rv, sub).has_value());
                    std::array<std::byte, 1100> back{};
                    auto u = l2tp::unhide_value(md5, a.type(), secret, rv, sub, back);
                    check(u.has_value());
                    if (u) {
                        auto again = V::decode(*u, 0);
                        check(again.has_value() && *again == v);
                    }
                }
            }
        });
        if (r) check(visited == 1);
    }
    // Rebuild the message from its parts: same bytes.
    std::array<std::byte, 65535> out{};
    const auto& h = m.hdr();
    l2tp::message_builder b(out, h.tunnel_id, h.session_id, h.ns, h.nr);
    bool reserved = (l2sec::load_be16(m.bytes().data()) & l2tp::flags::reserved) != 0;
    for (l2tp::avp_view a : m.avps()) {
        b.add_raw(a.vendor(), a.type(), a.value(), a.mandatory(), a.hidden());
        reserved = reserved || a.reserved_bits() != 0;
    }
    auto re = b.finish();
    check(re.has_value());
    // The builder never sets reserved bits: compare only when none were set.
    if (re && !reserved) check(l2sec::equal(*re, m.bytes()));
    (void)n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    l2sec::bytes_view in(reinterpret_cast<const std::byte*>(data), size);
    for (bool lenient : {false, true}) {
        l2tp::parse_options opt{.ignore_reserved_bits = lenient};
        auto m = l2tp::parse(in, opt);
        if (!m) {
            check(m.error().offset <= size);
            continue;
        }
        check(m->bytes().size() <= size);
        if (m->is_control()) {
            fuzz_control(*m);
        } else {
            auto d = l2tp::parse_data(in, opt);
            check(d.has_value());
            check(d->payload.size() == m->payload().size());
            // Re-encode the header; it decodes to the same fields.
            std::array<std::byte, 65535 + 16> out{};
            l2tp::header h = d->header;
            auto n = l2tp::write_data_header(out, h, d->payload.size());
            check(n.has_value());
            if (n) {
                l2sec::copy_to(l2sec::mutable_bytes(out).subspan(*n), d->payload);
                auto d2 = l2tp::parse_data(l2sec::bytes_view(out).first(*n + d->payload.size()));
                check(d2.has_value());
                check(d2->header.tunnel_id == h.tunnel_id &&
                      d2->header.session_id == h.session_id && d2->header.ns == h.ns &&
                      d2->header.nr == h.nr && d2->header.offset_size == h.offset_size &&
                      d2->header.priority == h.priority && l2sec::equal(d2->payload, d->payload));
            }
        }
    }
    return 0;
}
