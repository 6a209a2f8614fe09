// A tiny streaming JSON writer for l2sec-inspect: one object per line, keys in
// the order they are written, strings escaped per RFC 8259 (bytes >= 0x80 that
// are not valid UTF-8 are written as \u00XX, i.e. read as Latin-1). A tool, so
// it allocates (std::string); the codecs it prints do not.
#pragma once

#include <l2sec/core/bytes.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace l2sec::inspect {

class json_writer {
  public:
    // ---- structure
    json_writer& begin_object() {
        pre_value();
        out_ += '{';
        first_.push_back(true);
        return *this;
    }
    json_writer& end_object() {
        out_ += '}';
        first_.pop_back();
        return *this;
    }
    json_writer& begin_array() {
        pre_value();
        out_ += '[';
        first_.push_back(true);
        return *this;
    }
    json_writer& end_array() {
        out_ += ']';
        first_.pop_back();
        return *this;
    }
    /// The next value is this key's (inside an object).
    json_writer& key(std::string_view k) {
        comma();
        string_raw(k);
        out_ += ':';
        after_key_ = true;
        return *this;
    }
    json_writer& begin_object(std::string_view k) { return key(k).begin_object(); }
    json_writer& begin_array(std::string_view k) { return key(k).begin_array(); }

    // ---- values
    json_writer& value(std::string_view s) {
        pre_value();
        string_raw(s);
        return *this;
    }
    json_writer& value(const char* s) { return s ? value(std::string_view(s)) : null(); }
    json_writer& value(bool b) {
        pre_value();
        out_ += b ? "true" : "false";
        return *this;
    }
    template <class T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) json_writer& value(T v) {
        pre_value();
        out_ += std::to_string(v);
        return *this;
    }
    json_writer& null() {
        pre_value();
        out_ += "null";
        return *this;
    }
    /// Bytes as a lower-case hex string ("" when empty).
    json_writer& hex(bytes_view b) {
        static constexpr char d[] = "0123456789abcdef";
        pre_value();
        out_ += '"';
        for (auto x : b) {
            auto v = std::to_integer<unsigned>(x);
            out_ += d[v >> 4];
            out_ += d[v & 15];
        }
        out_ += '"';
        return *this;
    }
    /// Bytes as a JSON string (a name, a host name, a message).
    json_writer& text(bytes_view b) { return value(as_chars(b)); }
    /// A 32-bit IPv4 address in dotted form.
    json_writer& ipv4(std::uint32_t a) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                      a & 255);
        return value(std::string_view(buf));
    }

    // ---- key + value shorthands
    template <class T>
    json_writer& field(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }
    json_writer& field_hex(std::string_view k, bytes_view b) { return key(k).hex(b); }
    json_writer& field_text(std::string_view k, bytes_view b) { return key(k).text(b); }

    const std::string& str() const noexcept { return out_; }
    void clear() {
        out_.clear();
        first_.clear();
        after_key_ = false;
    }

  private:
    void comma() {
        if (!first_.empty()) {
            if (!first_.back()) out_ += ',';
            first_.back() = false;
        }
    }
    void pre_value() {
        if (after_key_) {
            after_key_ = false;
            return;
        }
        comma();
    }
    void string_raw(std::string_view s) {
        out_ += '"';
        for (std::size_t i = 0; i < s.size(); ++i) {
            auto c = static_cast<unsigned char>(s[i]);
            switch (c) {
                case '"':
                    out_ += "\\\"";
                    continue;
                case '\\':
                    out_ += "\\\\";
                    continue;
                case '\n':
                    out_ += "\\n";
                    continue;
                case '\r':
                    out_ += "\\r";
                    continue;
                case '\t':
                    out_ += "\\t";
                    continue;
                default:
                    break;
            }
            if (c < 0x20 || c == 0x7f) {
                escape(c);
            } else if (c < 0x80) {
                out_ += static_cast<char>(c);
            } else {
                std::size_t n = utf8_sequence(s.substr(i));
                if (n == 0) {
                    escape(c);
                } else {
                    out_.append(s.substr(i, n));
                    i += n - 1;
                }
            }
        }
        out_ += '"';
    }
    void escape(unsigned c) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out_ += buf;
    }
    // Length of a well-formed UTF-8 sequence at the start of s, or 0.
    static std::size_t utf8_sequence(std::string_view s) {
        auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
        unsigned c = b(0);
        std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
        if (n == 0 || s.size() < n) return 0;
        for (std::size_t i = 1; i < n; ++i)
            if ((b(i) & 0xC0) != 0x80) return 0;
        if (n == 3 && c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
        if (n == 3 && c == 0xED && b(1) >= 0xA0) return 0;  // surrogates
        if (n == 4 && c == 0xF0 && b(1) < 0x90) return 0;
        if (n == 4 && c == 0xF4 && b(1) >= 0x90) return 0;
        return n;
    }

    std::string out_;
    std::vector<bool> first_;
    bool after_key_ = false;
};

}  // namespace l2sec::inspect
