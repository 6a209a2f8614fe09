// Conveniences for tools (these allocate; the codecs above do not): load a
// whole file, and build a pcap file in a growing std::vector or an ostream.
//
//   l2sec::pcap::vector_writer out({.link = 1});
//   out.add(frame_bytes, ts_sec, ts_usec);
//   std::ofstream("x.pcap", std::ios::binary) << out;   // or out.bytes()
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/pcap/file.hpp>

#include <fstream>
#include <ios>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace l2sec::pcap {

/// Reads a whole file; nullopt when it cannot be opened or read.
inline std::optional<std::vector<std::byte>> load_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::vector<std::byte> data;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        auto n = static_cast<std::size_t>(in.gcount());
        auto* b = reinterpret_cast<const std::byte*>(buf);
        data.insert(data.end(), b, b + n);
        if (!in) break;
    }
    if (in.bad()) return std::nullopt;
    return data;
}

/// A pcap file growing in memory.
class vector_writer {
  public:
    explicit vector_writer(const write_options& o = {}) : opt_(o) {
        data_.resize(file_header_size);
        writer w(data_);
        write_file_header(w, opt_);
    }
    /// Appends one record; false when the data is larger than the snap length.
    bool add(bytes_view frame, std::uint32_t ts_sec = 0, std::uint32_t frac = 0) {
        if (frame.size() > opt_.snaplen) return false;
        std::size_t at = data_.size();
        data_.resize(at + record_header_size + frame.size());
        writer w(mutable_bytes(data_).subspan(at));
        return write_record(w, frame, ts_sec, frac, opt_).has_value();
    }
    const std::vector<std::byte>& bytes() const noexcept { return data_; }
    const write_options& options() const noexcept { return opt_; }

    friend std::ostream& operator<<(std::ostream& os, const vector_writer& v) {
        return os.write(reinterpret_cast<const char*>(v.data_.data()),
                        static_cast<std::streamsize>(v.data_.size()));
    }

  private:
    write_options opt_;
    std::vector<std::byte> data_;
};

}  // namespace l2sec::pcap
