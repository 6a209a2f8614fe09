// Classic pcap files (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html):
// a view over a whole file in memory, iterated record by record without
// allocating, and a writer of the same format into a caller's buffer.
//
//   auto f = l2sec::pcap::file_view::parse(bytes);
//   if (!f) return f.error();
//   for (l2sec::result<l2sec::pcap::record> r : f->records()) {
//       if (!r) { report(r.error()); break; }   // iteration stops after an error
//       use(r->data, f->link_type());
//   }
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/pcap/error.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>

namespace l2sec::pcap {

/// LINKTYPE_* values (https://www.tcpdump.org/linktypes.html) this library decodes.
enum class link_type : std::uint32_t {
    null = 0,  ///< BSD loopback: 4-byte address family in host order
    ethernet = 1,
    raw = 101,        ///< raw IPv4 or IPv6, by the version nibble
    linux_sll = 113,  ///< Linux cooked capture v1 (tshark -i any)
    ipv4 = 228,
    ipv6 = 229,
    linux_sll2 = 276,  ///< Linux cooked capture v2
};

inline constexpr std::uint32_t magic_micro = 0xa1b2c3d4;
inline constexpr std::uint32_t magic_nano = 0xa1b23c4d;
inline constexpr std::size_t file_header_size = 24;
inline constexpr std::size_t record_header_size = 16;
/// Largest record accepted whatever the snap length says (libpcap's own limit).
inline constexpr std::uint32_t max_record_size = 262144;

struct file_header {
    bool big_endian = false;  ///< byte order the file was written in
    bool nanosecond = false;  ///< timestamps' fraction is in ns (else µs)
    std::uint16_t version_major = 2;
    std::uint16_t version_minor = 4;
    std::uint32_t snaplen = 0;
    std::uint32_t link = 0;  ///< raw LINKTYPE value (may be one link_type does not name)
    constexpr link_type linktype() const noexcept { return static_cast<link_type>(link); }
};

/// One packet record; `data` points into the file buffer.
struct record {
    std::size_t index = 0;        ///< 0-based record number (tshark's frame number - 1)
    std::size_t file_offset = 0;  ///< offset of the record header in the file
    std::uint32_t ts_sec = 0;
    std::uint32_t ts_frac = 0;   ///< µs or ns, as the file header says
    std::uint32_t orig_len = 0;  ///< length on the wire (>= data.size() when truncated)
    bytes_view data{};           ///< the captured bytes
    bool truncated() const noexcept { return orig_len > data.size(); }
};

namespace detail {
constexpr std::uint32_t load32(const std::byte* p, bool be) noexcept {
    return be ? load_be32(p) : load_le32(p);
}
constexpr std::uint16_t load16(const std::byte* p, bool be) noexcept {
    return be ? load_be16(p) : load_le16(p);
}
}  // namespace detail

/// Decodes the 24-byte file header.
inline result<file_header> parse_file_header(bytes_view file) noexcept {
    if (file.size() < file_header_size) return error(errc::truncated_file_header, 0, "file header");
    file_header h;
    std::uint32_t m = load_be32(file.data());
    if (m == magic_micro || m == magic_nano) {
        h.big_endian = true;
    } else {
        m = detail::load32(file.data(), false);
        if (m != magic_micro && m != magic_nano) return error(errc::bad_magic, 0, "magic");
    }
    h.nanosecond = (m == magic_nano);
    h.version_major = detail::load16(file.data() + 4, h.big_endian);
    h.version_minor = detail::load16(file.data() + 6, h.big_endian);
    if (h.version_major != 2) return error(errc::unsupported_version, 4, "version_major");
    h.snaplen = detail::load32(file.data() + 16, h.big_endian);
    // The upper bits of the link field carry FCS information (draft section 4); keep the type.
    h.link = detail::load32(file.data() + 20, h.big_endian) & 0x0FFFFFFFu;
    return h;
}

/// Decodes the record whose header starts at `offset`; index is informational.
inline result<record> parse_record(bytes_view file, const file_header& h, std::size_t offset,
                                   std::size_t index = 0) noexcept {
    if (offset > file.size() || file.size() - offset < record_header_size)
        return error(errc::truncated_record_header, offset, "record header");
    const std::byte* p = file.data() + offset;
    record r;
    r.index = index;
    r.file_offset = offset;
    r.ts_sec = detail::load32(p, h.big_endian);
    r.ts_frac = detail::load32(p + 4, h.big_endian);
    std::uint32_t incl = detail::load32(p + 8, h.big_endian);
    r.orig_len = detail::load32(p + 12, h.big_endian);
    std::uint32_t limit = h.snaplen > max_record_size ? h.snaplen : max_record_size;
    if (incl > limit) return error(errc::record_too_large, offset + 8, "incl_len");
    if (file.size() - offset - record_header_size < incl)
        return error(errc::truncated_record, offset + 8, "incl_len");
    r.data = file.subspan(offset + record_header_size, incl);
    return r;
}

/// A classic pcap file in memory. Cheap to copy; never owns the bytes.
class file_view {
  public:
    class iterator;
    struct sentinel {};

    /// Checks the file header; records are checked one by one while iterating.
    static inline result<file_view> parse(bytes_view file) noexcept {
        auto h = parse_file_header(file);
        if (!h) return h.error();
        return file_view(file, *h);
    }

    constexpr const file_header& header() const noexcept { return header_; }
    constexpr link_type linktype() const noexcept { return header_.linktype(); }
    constexpr bytes_view bytes() const noexcept { return file_; }

    /// Forward iteration over result<record>; after an error the next step is the end.
    class iterator {
      public:
        using value_type = result<record>;
        using difference_type = std::ptrdiff_t;

        iterator() noexcept = default;
        iterator(bytes_view file, const file_header& h, std::size_t off) noexcept
            : file_(file), header_(h), off_(off), cur_(error()) {
            load();
        }
        const result<record>& operator*() const noexcept { return cur_; }
        const result<record>* operator->() const noexcept { return &cur_; }
        iterator& operator++() noexcept {
            if (!cur_) {
                done_ = true;
                return *this;
            }
            off_ += record_header_size + cur_->data.size();
            ++index_;
            load();
            return *this;
        }
        void operator++(int) noexcept { ++*this; }
        friend bool operator==(const iterator& it, sentinel) noexcept { return it.done_; }

      private:
        void load() noexcept {
            if (off_ >= file_.size()) {
                done_ = true;
                return;
            }
            cur_ = parse_record(file_, header_, off_, index_);
        }
        bytes_view file_{};
        file_header header_{};
        std::size_t off_ = 0;
        std::size_t index_ = 0;
        result<record> cur_ = error();
        bool done_ = false;
    };

    /// Holds the file view and header by value: safe even when the file_view
    /// it came from was a temporary (`for (auto& r : parse(b)->records())`).
    struct range {
        bytes_view file;
        file_header header;
        iterator begin() const noexcept { return iterator(file, header, file_header_size); }
        constexpr sentinel end() const noexcept { return {}; }
    };
    /// `for (const result<record>& r : f.records())`.
    constexpr range records() const noexcept { return range{file_, header_}; }

  private:
    constexpr file_view(bytes_view f, const file_header& h) noexcept : file_(f), header_(h) {}
    bytes_view file_{};
    file_header header_{};
};

// ---- writing ----

struct write_options {
    std::uint32_t link = static_cast<std::uint32_t>(link_type::ethernet);
    std::uint32_t snaplen = max_record_size;
    bool nanosecond = false;
    bool big_endian = false;  ///< byte order to write (readers accept both)
};

namespace detail {
constexpr void put32(writer& w, std::uint32_t v, bool be) noexcept {
    if (be) {
        w.u32(v);
    } else {
        w.u8(static_cast<std::uint8_t>(v));
        w.u8(static_cast<std::uint8_t>(v >> 8));
        w.u8(static_cast<std::uint8_t>(v >> 16));
        w.u8(static_cast<std::uint8_t>(v >> 24));
    }
}
constexpr void put16(writer& w, std::uint16_t v, bool be) noexcept {
    if (be) {
        w.u16(v);
    } else {
        w.u8(static_cast<std::uint8_t>(v));
        w.u8(static_cast<std::uint8_t>(v >> 8));
    }
}
}  // namespace detail

/// Appends the 24-byte file header; check w.finish() for buffer_too_small.
constexpr void write_file_header(writer& w, const write_options& o = {}) noexcept {
    detail::put32(w, o.nanosecond ? magic_nano : magic_micro, o.big_endian);
    detail::put16(w, 2, o.big_endian);
    detail::put16(w, 4, o.big_endian);
    detail::put32(w, 0, o.big_endian);  // thiszone
    detail::put32(w, 0, o.big_endian);  // sigfigs
    detail::put32(w, o.snaplen, o.big_endian);
    detail::put32(w, o.link, o.big_endian);
}

/// Appends one record (header + data); `frac` is µs or ns as the file header says.
/// Fails (invalid_argument) when the data exceeds the snap length.
inline result<std::size_t> write_record(writer& w, bytes_view data, std::uint32_t ts_sec,
                                        std::uint32_t frac, const write_options& o = {},
                                        std::uint32_t orig_len = 0) noexcept {
    if (data.size() > o.snaplen) return error(l2sec::errc::invalid_argument, 0, "record data");
    auto len = static_cast<std::uint32_t>(data.size());
    std::size_t start = w.size();
    detail::put32(w, ts_sec, o.big_endian);
    detail::put32(w, frac, o.big_endian);
    detail::put32(w, len, o.big_endian);
    detail::put32(w, orig_len > len ? orig_len : len, o.big_endian);
    w.bytes(data);
    auto n = w.finish("pcap record");
    if (!n) return n.error();
    return *n - start;
}

}  // namespace l2sec::pcap
