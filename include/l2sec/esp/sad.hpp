// A fixed-capacity security association database: SA pairs (inbound and
// outbound) keyed by the peer's outer address AND UDP port.
//
// Several L2TP/IPsec clients behind one NAT share the NAT's public address
// and use the same transport-mode selectors (UDP 1701), so the address alone
// cannot tell which outbound SA a packet needs: the NAT-T source port does
// (RFC 3948; the "error 809" family of problems). Inbound packets are found
// by SPI, which the receiver chose unique. Nothing here allocates.
//
//   esp::sad<crypto::botan, 64> db;
//   auto slot = db.add(peer, inbound_cfg, outbound_cfg);     // peer = {addr, port}
//   db.outbound(peer)->protect(...);                         // by address + port
//   if (auto* e = db.inbound(spi)) e->in.unprotect(pkt);     // by SPI
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/core/result.hpp>
#include <l2sec/esp/error.hpp>
#include <l2sec/esp/sa.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec::esp {

/// A peer as seen on the wire: IPv4 (4 bytes) or IPv6 (16 bytes) address and
/// UDP port (4500 or whatever the NAT mapped; 0 for ESP directly over IP).
struct endpoint {
    std::array<std::byte, 16> addr{};
    std::uint8_t addr_len = 4;
    std::uint16_t port = 0;

    static endpoint from(bytes_view address, std::uint16_t udp_port) noexcept {
        endpoint e;
        e.addr_len = static_cast<std::uint8_t>(address.size() == 16 ? 16 : 4);
        copy_to(e.addr, address.first(e.addr_len));
        e.port = udp_port;
        return e;
    }
    bytes_view address() const noexcept { return bytes_view(addr).first(addr_len); }
    friend bool operator==(const endpoint& a, const endpoint& b) noexcept {
        return a.addr_len == b.addr_len && a.port == b.port && equal(a.address(), b.address());
    }
};

template <crypto::datapath_backend Crypto, std::size_t Capacity, std::size_t MaxWindow = 4096>
class sad {
  public:
    using sa_type = sa<Crypto, MaxWindow>;

    struct entry {
        endpoint peer;
        sa_type in;   ///< packets from the peer (our SPI)
        sa_type out;  ///< packets to the peer (its SPI)
    };

    /// Adds an SA pair for `peer`; returns its slot. Refuses a second pair for
    /// the same peer endpoint or a duplicate inbound SPI (invalid_config), and
    /// a full table (core capacity_exceeded).
    result<std::size_t> add(const endpoint& peer, const sa_config& in_cfg,
                            const sa_config& out_cfg) noexcept {
        if (outbound_slot(peer)) return error(errc::invalid_config, 0, "peer endpoint");
        if (inbound(in_cfg.spi)) return error(errc::invalid_config, 0, "inbound SPI");
        std::size_t slot = Capacity;
        for (std::size_t i = 0; i < Capacity; ++i)
            if (!slots_[i]) {
                slot = i;
                break;
            }
        if (slot == Capacity) return error(l2sec::errc::capacity_exceeded, 0, "SA table");
        auto in = sa_type::make(in_cfg);
        if (!in) return in.error();
        auto out = sa_type::make(out_cfg);
        if (!out) return out.error();
        slots_[slot].emplace(entry{peer, std::move(*in), std::move(*out)});
        ++size_;
        return slot;
    }

    /// The pair whose inbound SA has this SPI, or null.
    entry* inbound(std::uint32_t spi) noexcept {
        for (auto& s : slots_)
            if (s && s->in.spi() == spi) return &*s;
        return nullptr;
    }
    /// The outbound SA for a peer address AND port, or null.
    sa_type* outbound(const endpoint& peer) noexcept {
        auto slot = outbound_slot(peer);
        return slot ? &slots_[*slot]->out : nullptr;
    }
    entry* at(std::size_t slot) noexcept {
        return slot < Capacity && slots_[slot] ? &*slots_[slot] : nullptr;
    }

    /// A verified inbound packet came from a new address/port (the NAT
    /// mapping changed, RFC 3948 / RFC 7296 2.23): send there from now on.
    bool update_peer(std::size_t slot, const endpoint& peer) noexcept {
        auto* e = at(slot);
        if (!e) return false;
        if (auto other = outbound_slot(peer); other && *other != slot) return false;
        e->peer = peer;
        return true;
    }
    bool remove(std::size_t slot) noexcept {
        if (!at(slot)) return false;
        slots_[slot].reset();
        --size_;
        return true;
    }
    std::size_t size() const noexcept { return size_; }
    static constexpr std::size_t capacity() noexcept { return Capacity; }

  private:
    std::optional<std::size_t> outbound_slot(const endpoint& peer) const noexcept {
        for (std::size_t i = 0; i < Capacity; ++i)
            if (slots_[i] && slots_[i]->peer == peer) return i;
        return std::nullopt;
    }

    std::array<std::optional<entry>, Capacity> slots_{};
    std::size_t size_ = 0;
};

}  // namespace l2sec::esp
