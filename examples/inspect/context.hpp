// What every layer printer of l2sec-inspect shares: the command-line
// settings, the JSON writer for the current line, and the first decoding
// error, printed after the layers as {"error":{"layer","code","offset"}}.
//
// Offsets in errors count from the first byte of the captured frame
// (link-layer header included), like Wireshark's packet bytes pane.
#pragma once

#include "json.hpp"

#include <l2sec/core/error.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace l2sec::inspect {

/// Command-line settings. To add an option for a new layer, add its field
/// here (or keep the state in your own header) and one entry to the option
/// table in main.cpp.
struct settings {
    std::uint16_t l2tp_port = 1701;
    std::optional<std::string> l2tp_secret;  ///< unhides hidden AVPs when set
    bool show_skipped = true;                ///< print {"frame":N,"skipped":...}
};

struct decode_error {
    const char* layer;
    std::string code;  ///< the errc's message text
    std::size_t offset;
};

struct packet_context {
    json_writer& j;
    const settings& opts;
    std::optional<decode_error> err;

    /// Records `e` (offsets relative to `base`, the frame offset of the
    /// buffer the decoder saw) unless an earlier error was recorded.
    void fail(const char* layer, const l2sec::error& e, std::size_t base = 0) {
        if (!err) err = decode_error{layer, e.code.message(), base + e.offset};
    }
    void write_error() {
        if (!err) return;
        j.begin_object("error")
            .field("layer", err->layer)
            .field("code", std::string_view(err->code))
            .field("offset", err->offset)
            .end_object();
    }
};

}  // namespace l2sec::inspect
