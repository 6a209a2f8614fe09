// PPP frame -> control packet (LCP/IPCP/IPV6CP, typed options), PAP, CHAP.
// Whatever parses must re-encode to the same bytes (up to the packet Length),
// and no decoder may read out of bounds or report an offset past the input.
#include <l2sec/ppp.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <variant>

namespace {

using namespace l2sec;

void require(bool ok) {
    if (!ok) std::abort();
}

void check_error_offset(const l2sec::error& e, std::size_t size) {
    require(e.offset <= size);
}

std::array<std::byte, 70000> g_out;

void control(ppp::protocol proto, bytes_view info, std::size_t base, std::size_t total) {
    auto p = ppp::decode_control(proto, info, base);
    if (!p) return check_error_offset(p.error(), total);
    require(p->length >= 4 && p->length <= info.size());
    bytes_view packet = info.first(p->length);
    if (!ppp::is_code_defined(proto, p->code)) return;
    if (p->is_configure()) {
        // Typed re-encode: every option parses or reports a bad length at its Length byte.
        ppp::packet_writer pw(g_out, p->code, p->identifier);
        bool all_typed = true;
        for (auto raw : p->options()) {
            require(raw.offset >= base + 4 && raw.offset < base + p->length);
            auto r = ppp::visit_option(proto, raw, [&](const auto& o) { pw.option(o); });
            if (!r) {
                require(r.error() == ppp::errc::option_bad_length);
                require(r.error().offset == raw.offset + 1);
                all_typed = false;
                break;
            }
        }
        if (all_typed) {
            auto n = pw.finish();
            require(n.has_value());
            require(equal(bytes_view(g_out).first(*n), packet));
        }
        // Raw re-encode always round-trips.
        ppp::packet_writer raw_w(g_out, p->code, p->identifier);
        for (auto raw : p->options())
            raw_w.option(raw);
        auto n = raw_w.finish();
        require(n.has_value() && equal(bytes_view(g_out).first(*n), packet));
        return;
    }
    result<std::size_t> n = std::size_t{0};
    switch (p->code) {
        case ppp::code::terminate_request:
        case ppp::code::terminate_ack:
            n = ppp::encode_terminate(g_out, p->code, p->identifier, p->data);
            break;
        case ppp::code::code_reject:
            n = ppp::encode_code_reject(g_out, p->identifier, p->rejected_packet(), 70000);
            break;
        case ppp::code::protocol_reject:
            n = ppp::encode_protocol_reject(g_out, p->identifier, p->rejected_protocol(),
                                            p->rejected_information(), 70000);
            break;
        case ppp::code::echo_request:
        case ppp::code::echo_reply:
        case ppp::code::discard_request:
            n = ppp::encode_echo(g_out, p->code, p->identifier, p->magic_number(), p->echo_data());
            break;
        default:
            return;
    }
    require(n.has_value() && equal(bytes_view(g_out).first(*n), packet));
}

void pap_packet(bytes_view info, std::size_t base, std::size_t total) {
    auto p = ppp::pap::decode(info, base);
    if (!p) return check_error_offset(p.error(), total);
    result<std::size_t> n = std::size_t{0};
    if (p->code == ppp::pap::code::authenticate_request)
        n = ppp::pap::encode_request(g_out, p->identifier, p->peer_id, p->password);
    else
        n = ppp::pap::encode_reply(g_out, p->code, p->identifier, p->message);
    require(n.has_value());
    // Trailing bytes within Length are tolerated (and an Ack/Nak without
    // Msg-Length), so compare what decodes from our encoding instead.
    auto q = ppp::pap::decode(bytes_view(g_out).first(*n));
    require(q.has_value() && q->code == p->code && q->identifier == p->identifier);
    require(equal(q->peer_id, p->peer_id) && equal(q->password, p->password) &&
            equal(q->message, p->message));
}

void chap_packet(bytes_view info, std::size_t base, std::size_t total) {
    auto p = ppp::chap::decode(info, base);
    if (!p) return check_error_offset(p.error(), total);
    result<std::size_t> n = std::size_t{0};
    if (p->code == ppp::chap::code::challenge || p->code == ppp::chap::code::response)
        n = ppp::chap::encode_value(g_out, p->code, p->identifier, p->value, p->name);
    else
        n = ppp::chap::encode_result(g_out, p->code, p->identifier, p->message);
    require(n.has_value() && equal(bytes_view(g_out).first(*n), info.first(p->length)));
    if (p->code == ppp::chap::code::response) (void)ppp::chap::parse_ms_chap_v2_response(p->value);
    if (p->code == ppp::chap::code::success) (void)ppp::chap::parse_ms_chap_v2_success(p->message);
    if (p->code == ppp::chap::code::failure) {
        auto f = ppp::chap::parse_ms_chap_v2_failure(p->message, p->offset + 4);
        if (!f)
            require(f.error().offset <= total);
        else
            require(f->message.size() <= p->message.size());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    bytes_view in(reinterpret_cast<const std::byte*>(data), size);
    auto f = ppp::decode_frame(in);
    if (!f) {
        check_error_offset(f.error(), size);
        return 0;
    }
    require(f->header_size + f->information.size() == size);
    // Frame re-encode.
    ppp::frame_options o{f->has_address_control, f->protocol_compressed};
    auto n = ppp::encode_frame(g_out, f->protocol, f->information, o);
    require(n.has_value());
    const bool lcp = f->protocol == ppp::protocol::lcp;
    if (!lcp || (f->has_address_control && !f->protocol_compressed))
        require(equal(bytes_view(g_out).first(*n), in));

    const std::size_t base = f->header_size;
    switch (f->protocol) {
        case ppp::protocol::pap:
            pap_packet(f->information, base, size);
            break;
        case ppp::protocol::chap:
            chap_packet(f->information, base, size);
            break;
        default:
            if (ppp::is_control_protocol(f->protocol))
                control(f->protocol, f->information, base, size);
            break;
    }
    return 0;
}
