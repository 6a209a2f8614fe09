// Frames waiting to be sent by a PPP link, each with its address/control and
// protocol fields (ready for an L2TP data message). Fixed size, no allocation.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/writer.hpp>
#include <l2sec/ppp/frame.hpp>

#include <array>
#include <cstddef>
#include <optional>

namespace l2sec::ppp {

/// Frames waiting to be sent, each with its address/control and protocol
/// fields (ready for an L2TP data message).
template <std::size_t N = 8, std::size_t MaxFrame = 1504>
class frame_queue {
  public:
    /// A buffer for one frame of `proto` with the header written; write the
    /// packet into the returned span and commit its size.
    mutable_bytes begin(protocol proto) noexcept {
        if (count_ == N) {
            ++overflows_;
            return {};
        }
        auto& f = frames_[(head_ + count_) % N];
        writer w(f.data);
        (void)encode_frame_header(w, proto);
        pending_hdr_ = w.size();
        return mutable_bytes(f.data).subspan(pending_hdr_);
    }
    void commit(std::size_t packet_size) noexcept {
        if (count_ == N) return;
        frames_[(head_ + count_) % N].size = pending_hdr_ + packet_size;
        ++count_;
    }
    /// Copy the oldest frame into `out`; its size, or nullopt when empty.
    std::optional<std::size_t> pop(mutable_bytes out) noexcept {
        if (count_ == 0) return std::nullopt;
        auto& f = frames_[head_];
        if (out.size() < f.size) return std::nullopt;
        copy_to(out, bytes_view(f.data.data(), f.size));
        head_ = (head_ + 1) % N;
        --count_;
        return f.size;
    }
    std::size_t size() const noexcept { return count_; }
    std::size_t overflows() const noexcept { return overflows_; }

  private:
    struct frame {
        std::array<std::byte, MaxFrame> data{};
        std::size_t size = 0;
    };
    std::array<frame, N> frames_{};
    std::size_t head_ = 0, count_ = 0, pending_hdr_ = 0, overflows_ = 0;
};

}  // namespace l2sec::ppp
