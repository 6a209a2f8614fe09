// pcapng files (draft-ietf-opsawg-pcapng), what dumpcap and tshark write by
// default: a view over the whole file, iterated packet by packet without
// allocating. Sections (either byte order), Interface Description Blocks
// (link type, snap length, if_tsresol), Enhanced, Simple and obsolete Packet
// Blocks; every other block type is skipped.
//
//   if (l2sec::pcap::is_pcapng(bytes)) {
//       auto f = l2sec::pcap::pcapng_view::parse(bytes);
//       for (const auto& r : f->records()) {          // result<pcapng_record>
//           if (!r) { report(r.error()); break; }
//           decode_ip_frame(r->link, r->data);          // per-interface link type
//       }
//   }
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/core/static_vector.hpp>
#include <l2sec/pcap/error.hpp>
#include <l2sec/pcap/file.hpp>

#include <cstddef>
#include <cstdint>

namespace l2sec::pcap {

inline constexpr std::uint32_t pcapng_shb = 0x0A0D0D0A;  ///< Section Header Block
inline constexpr std::uint32_t pcapng_idb = 1;           ///< Interface Description Block
inline constexpr std::uint32_t pcapng_pb = 2;            ///< Packet Block (obsolete)
inline constexpr std::uint32_t pcapng_spb = 3;           ///< Simple Packet Block
inline constexpr std::uint32_t pcapng_epb = 6;           ///< Enhanced Packet Block
inline constexpr std::uint32_t pcapng_byte_order_magic = 0x1A2B3C4D;

/// True when the bytes start like a pcapng file (a Section Header Block).
constexpr bool is_pcapng(bytes_view file) noexcept {
    return file.size() >= 4 && load_be32(file.data()) == pcapng_shb;
}

/// A packet of a pcapng file: the classic record fields (ts_frac always in
/// nanoseconds; file_offset = offset of the block) plus its interface's link type.
struct pcapng_record : record {
    std::uint32_t link = 0;          ///< LINKTYPE_* of the interface
    std::uint32_t interface_id = 0;  ///< index of the IDB in its section
};

class pcapng_view {
  public:
    static constexpr std::size_t max_interfaces = 32;
    struct sentinel {};

    /// Checks that the file starts with a valid Section Header Block.
    static result<pcapng_view> parse(bytes_view file) noexcept {
        if (file.size() < 12) return error(errc::truncated_block, 0, "section header");
        if (!is_pcapng(file)) return error(errc::bad_magic, 0, "block type");
        std::uint32_t bom = load_be32(file.data() + 8);
        if (bom != pcapng_byte_order_magic &&
            detail::load32(file.data() + 8, false) != pcapng_byte_order_magic)
            return error(errc::bad_magic, 8, "byte-order magic");
        return pcapng_view(file);
    }
    bytes_view bytes() const noexcept { return file_; }

    class iterator {
      public:
        using value_type = result<pcapng_record>;
        using difference_type = std::ptrdiff_t;

        iterator() noexcept = default;
        explicit iterator(bytes_view f) noexcept : file_(f) { load(); }
        const result<pcapng_record>& operator*() const noexcept { return cur_; }
        const result<pcapng_record>* operator->() const noexcept { return &cur_; }
        iterator& operator++() noexcept {
            if (!cur_) {
                done_ = true;
                return *this;
            }
            ++index_;
            load();
            return *this;
        }
        void operator++(int) noexcept { ++*this; }
        friend bool operator==(const iterator& it, sentinel) noexcept { return it.done_; }

      private:
        struct interface {
            std::uint32_t link = 0;
            std::uint32_t snaplen = 0;
            std::uint8_t tsresol = 6;  ///< if_tsresol: 10^-n, or 2^-n when the top bit is set
        };

        std::uint32_t u32(std::size_t at) const noexcept {
            return detail::load32(file_.data() + at, big_endian_);
        }
        std::uint16_t u16(std::size_t at) const noexcept {
            return detail::load16(file_.data() + at, big_endian_);
        }
        void fail(errc e, std::size_t at, const char* field) noexcept {
            cur_ = error(e, at, field);
        }

        // Seconds and nanoseconds of a timestamp in if_tsresol units.
        static void split_time(std::uint64_t ts, std::uint8_t res, pcapng_record& r) noexcept {
            std::uint64_t sec = 0, ns = 0;
            if (res & 0x80) {
                unsigned n = res & 0x7F;
                if (n >= 64) n = 63;
                sec = ts >> n;
                std::uint64_t frac = ts & ((std::uint64_t{1} << n) - 1);
                ns = n <= 33 ? (frac * 1000000000ULL) >> n : frac >> (n - 30);
            } else {
                unsigned n = res > 19 ? 19 : res;
                std::uint64_t units = 1;
                for (unsigned i = 0; i < n; ++i)
                    units *= 10;
                sec = ts / units;
                std::uint64_t frac = ts % units;
                ns = units <= 1000000000ULL ? frac * (1000000000ULL / units)
                                            : frac / (units / 1000000000ULL);
            }
            r.ts_sec = static_cast<std::uint32_t>(sec);
            r.ts_frac = static_cast<std::uint32_t>(ns);
        }

        void load() noexcept {
            for (;;) {
                if (off_ >= file_.size()) {
                    done_ = true;
                    return;
                }
                const std::size_t at = off_;
                if (file_.size() - at < 12) return fail(errc::truncated_block, at, "block header");
                const std::uint32_t type = load_be32(file_.data() + at);
                if (type == pcapng_shb) {
                    std::uint32_t bom = load_be32(file_.data() + at + 8);
                    if (bom == pcapng_byte_order_magic)
                        big_endian_ = true;
                    else if (detail::load32(file_.data() + at + 8, false) ==
                             pcapng_byte_order_magic)
                        big_endian_ = false;
                    else
                        return fail(errc::bad_magic, at + 8, "byte-order magic");
                }
                const std::uint32_t len = u32(at + 4);
                if (len < 12 || len % 4 != 0)
                    return fail(errc::bad_block_length, at + 4, "block length");
                if (len > file_.size() - at)
                    return fail(errc::truncated_block, at + 4, "block length");
                if (u32(at + len - 4) != len)
                    return fail(errc::bad_block_length, at + len - 4, "trailing block length");
                const std::size_t body = at + 8;
                const std::size_t body_len = len - 12;
                off_ = at + len;
                switch (u32(at)) {
                    case pcapng_shb:
                        if (body_len < 16)
                            return fail(errc::truncated_block, body, "section header");
                        if (u16(body + 4) != 1)
                            return fail(errc::unsupported_version, body + 4, "major version");
                        ifaces_.clear();
                        continue;
                    case pcapng_idb: {
                        if (body_len < 8) return fail(errc::truncated_block, body, "interface");
                        interface i;
                        i.link = u16(body);
                        i.snaplen = u32(body + 4);
                        // options: code(2) length(2) value padded to 4; opt_endofopt = 0
                        std::size_t o = body + 8, end = body + body_len;
                        while (end - o >= 4) {
                            std::uint16_t code = u16(o), olen = u16(o + 2);
                            if (code == 0) break;
                            std::size_t padded = (std::size_t{olen} + 3) & ~std::size_t{3};
                            if (padded > end - o - 4)
                                return fail(errc::truncated_block, o + 2, "interface option");
                            if (code == 9 && olen == 1)
                                i.tsresol = std::to_integer<std::uint8_t>(file_[o + 4]);
                            o += 4 + padded;
                        }
                        if (!ifaces_.push_back(i))
                            return fail(errc::too_many_interfaces, at, "interface");
                        continue;
                    }
                    case pcapng_epb:
                    case pcapng_pb: {
                        const bool epb = u32(at) == pcapng_epb;
                        if (body_len < 20) return fail(errc::truncated_block, body, "packet block");
                        pcapng_record r;
                        r.interface_id = epb ? u32(body) : u16(body);
                        if (r.interface_id >= ifaces_.size())
                            return fail(errc::unknown_interface, body, "interface id");
                        const interface& i = ifaces_[r.interface_id];
                        std::uint64_t ts = (std::uint64_t{u32(body + 4)} << 32) | u32(body + 8);
                        split_time(ts, i.tsresol, r);
                        std::uint32_t caplen = u32(body + 12);
                        r.orig_len = u32(body + 16);
                        if (caplen > body_len - 20)
                            return fail(errc::truncated_block, body + 12, "captured length");
                        r.data = file_.subspan(body + 20, caplen);
                        r.link = i.link;
                        r.index = index_;
                        r.file_offset = at;
                        cur_ = r;
                        return;
                    }
                    case pcapng_spb: {
                        if (body_len < 4) return fail(errc::truncated_block, body, "simple packet");
                        if (ifaces_.empty())
                            return fail(errc::unknown_interface, body, "interface id");
                        pcapng_record r;
                        r.orig_len = u32(body);
                        std::size_t caplen = r.orig_len;
                        if (ifaces_[0].snaplen != 0 && caplen > ifaces_[0].snaplen)
                            caplen = ifaces_[0].snaplen;
                        if (caplen > body_len - 4) caplen = body_len - 4;
                        r.data = file_.subspan(body + 4, caplen);
                        r.link = ifaces_[0].link;
                        r.index = index_;
                        r.file_offset = at;
                        cur_ = r;
                        return;
                    }
                    default:
                        continue;  // statistics, name resolution, custom blocks...
                }
            }
        }

        bytes_view file_{};
        std::size_t off_ = 0;
        std::size_t index_ = 0;
        bool big_endian_ = false;
        bool done_ = false;
        static_vector<interface, max_interfaces> ifaces_{};
        result<pcapng_record> cur_ = error();
    };

    struct range {
        bytes_view file;
        iterator begin() const noexcept { return iterator(file); }
        sentinel end() const noexcept { return {}; }
    };
    /// `for (const result<pcapng_record>& r : f.records())`; ends after an error.
    range records() const noexcept { return range{file_}; }

  private:
    explicit pcapng_view(bytes_view f) noexcept : file_(f) {}
    bytes_view file_{};
};

}  // namespace l2sec::pcap
