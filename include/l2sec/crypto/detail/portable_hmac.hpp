// HMAC (RFC 2104) over a portable digest, behind crypto::portable::make_mac:
// the inner and outer pads are hashed once at keying, so each message costs
// only its own blocks. Internal: use crypto::portable (crypto/portable.hpp).
#pragma once

#include <l2sec/crypto/detail/portable_digests.hpp>

#include <algorithm>
#include <array>
#include <cstddef>

namespace l2sec::crypto::detail {

template <fixed_digest H>
class hmac {
  public:
    static constexpr std::size_t digest_size = H::digest_size;

    constexpr hmac() noexcept = default;
    constexpr explicit hmac(bytes_view key) noexcept { set_key(key); }

    constexpr void set_key(bytes_view key) noexcept {
        std::array<std::byte, H::block_size> k{};
        if (key.size() > H::block_size) {
            H h;
            h.update(key);
            h.final(std::span<std::byte, H::digest_size>(k.data(), H::digest_size));
        } else {
            std::copy(key.begin(), key.end(), k.begin());
        }
        std::array<std::byte, H::block_size> ipad{}, opad{};
        for (std::size_t i = 0; i < H::block_size; ++i) {
            ipad[i] = k[i] ^ std::byte{0x36};
            opad[i] = k[i] ^ std::byte{0x5c};
        }
        inner0_.reset();
        inner0_.update(ipad);
        outer0_.reset();
        outer0_.update(opad);
        inner_ = inner0_;
    }

    static constexpr std::size_t output_size() noexcept { return H::digest_size; }
    constexpr void update(bytes_view in) noexcept { inner_.update(in); }
    /// Writes min(out.size(), digest_size) bytes and rearms for the next message.
    constexpr void final(mutable_bytes out) noexcept {
        std::array<std::byte, H::digest_size> d{};
        inner_.final(d);
        H o = outer0_;
        o.update(d);
        o.final(d);
        std::copy_n(d.begin(), std::min(out.size(), d.size()), out.begin());
        inner_ = inner0_;
    }

  private:
    H inner0_{}, outer0_{}, inner_{};
};

}  // namespace l2sec::crypto::detail
