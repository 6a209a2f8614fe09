// Configuration of the IKEv1 engine: capacities (template parameters, fixed
// at construction), the pre-shared key store policy, the engine options, and
// what an initiator connects to.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/crypto/dh.hpp>
#include <l2sec/esp/sa.hpp>
#include <l2sec/ike/v1/proposals.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace l2sec::ike::v1 {

/// Capacities. MaxSas: established IKE SAs; MaxHalfOpen: IKE SAs still in
/// Main/Aggressive Mode (a flood of first messages fills these and nothing
/// else); MaxChildrenPerSa: ESP SA pairs per IKE SA, rekeyed ones included
/// while they overlap. Every slot is allocated once, by the engine's make().
template <std::size_t MaxSas, std::size_t MaxHalfOpen, std::size_t MaxChildrenPerSa = 4>
struct limits {
    static_assert(MaxSas > 0 && MaxHalfOpen > 0 && MaxChildrenPerSa > 0,
                  "ike::v1::limits needs room for at least one SA of each kind");
    static constexpr std::size_t max_sas = MaxSas;
    static constexpr std::size_t max_half_open = MaxHalfOpen;
    static constexpr std::size_t max_children = MaxChildrenPerSa;
    static constexpr std::size_t slots = MaxSas + MaxHalfOpen;
};
using default_limits = limits<64, 64>;
/// A client of one server (vpn::client): its IKE SA and the one replacing it
/// while they overlap, either end's rekey half-open beside them. Each slot
/// (about 18 KiB) holds its message buffers: the 128 of default_limits cost a
/// client about 2.3 MB of heap, these 8 about 150 KiB (beside the engine's
/// fixed buffers).
using client_limits = limits<4, 4>;
/// A server for `Clients` peers: as many half-open slots as a burst of
/// reconnecting clients needs, capped at 1024.
template <std::size_t Clients>
using server_limits = limits<Clients, (Clients < 64 ? 64 : (Clients > 1024 ? 1024 : Clients))>;

/// Where pre-shared keys come from. find_psk writes the key for `peer`
/// (outer address; in Aggressive Mode also its ID payload data, else empty)
/// into `out` and returns its size, or nullopt when the peer is unknown.
template <class S>
concept psk_store = requires(S& s, const transport::endpoint& peer, bytes_view peer_id,
                             std::span<std::byte> out) {
    { s.find_psk(peer, peer_id, out) } -> std::same_as<std::optional<std::size_t>>;
};

/// One pre-shared key for every peer (up to 128 bytes); wiped on destruction.
class single_psk {
  public:
    static constexpr std::size_t capacity = 128;
    single_psk() noexcept = default;
    explicit single_psk(bytes_view psk) noexcept {
        size_ = psk.size() < capacity ? psk.size() : capacity;
        for (std::size_t i = 0; i < size_; ++i)
            key_[i] = psk[i];
    }
    single_psk(single_psk&& o) noexcept : key_(o.key_), size_(o.size_) { o.wipe(); }
    single_psk& operator=(single_psk&& o) noexcept {
        if (this != &o) {
            key_ = o.key_;
            size_ = o.size_;
            o.wipe();
        }
        return *this;
    }
    single_psk(const single_psk&) = delete;
    single_psk& operator=(const single_psk&) = delete;
    ~single_psk() { wipe(); }

    std::optional<std::size_t> find_psk(const transport::endpoint&, bytes_view,
                                        std::span<std::byte> out) const noexcept {
        if (size_ == 0 || out.size() < size_) return std::nullopt;
        for (std::size_t i = 0; i < size_; ++i)
            out[i] = key_[i];
        return size_;
    }

  private:
    void wipe() noexcept {
        crypto::secure_zero(key_);
        size_ = 0;
    }
    std::array<std::byte, capacity> key_{};
    std::size_t size_ = 0;
};
static_assert(psk_store<single_psk>);

/// Engine options; validated by engine::make() (engine_errc::invalid_config names
/// the field).
struct config {
    /// Phase 1 transforms, in order of preference: offered as initiator,
    /// accepted as responder (the first of ours the peer also offers wins).
    std::span<const phase1_proposal> ike_proposals = default_ike_proposals();
    std::span<const esp_proposal> esp_proposals = default_esp_proposals();
    /// Accept (and offer) MODP-1024, 3DES, DES and MD5: weak entries of the
    /// configured lists are kept (else dropped), and when a list is the
    /// default one, weak_ike_proposals() / weak_esp_proposals() join it, after it.
    bool allow_weak = false;
    /// Responder: accept Aggressive Mode (its PSK hash travels before
    /// authentication and can be cracked offline).
    bool allow_aggressive = false;
    /// Responder behind a 1:1 NAT: send NAT-D hashes that show no NAT on our
    /// side (Windows then needs no AssumeUDPEncapsulationContextOnSendRule).
    bool present_unnatted = false;
    std::chrono::seconds phase1_lifetime{28800}, phase2_lifetime{3600};
    std::uint64_t phase2_lifetime_kb = 0;   ///< 0 = none
    std::chrono::seconds dpd_interval{30};  ///< 0 = no DPD of our own
    std::chrono::seconds dpd_timeout{150};
    std::chrono::milliseconds retransmit_initial{500};
    unsigned retransmit_tries = 6;
    /// A half-open SA (Main Mode not finished) is dropped after this.
    std::chrono::seconds half_open_timeout{30};
    /// Half-open SAs from one outer address (several clients behind one NAT);
    /// beyond it a new first message evicts the oldest only when that one is
    /// older than `under_load_timeout`, else it is dropped (the peer retransmits).
    std::size_t half_open_per_address = 16;
    std::chrono::seconds under_load_timeout{2};
    /// Our phase 1 ID data (Aggressive Mode; Main Mode sends ID_IPV4_ADDR of
    /// the local address when empty). Its type: `local_id_type`.
    bytes_view local_id{};
    std::uint8_t local_id_type = 2;  ///< ID_FQDN
    /// Send the Vendor IDs for DPD and IKE fragmentation.
    bool send_dpd_vendor_id = true;
    bool send_fragmentation_vendor_id = true;
    /// The largest IKE datagram (UDP payload, with the non-ESP marker on
    /// 4500) sent whole to a peer that announced IKE fragmentation; longer
    /// messages go out as Cisco/Microsoft fragments (payload 132). 1232 =
    /// IPv6's minimum MTU (1280) less the IPv6 and UDP headers: never IP
    /// fragmented on any path. 0: never fragment; else 128..8192.
    std::size_t fragment_size = 1232;
    /// Soft lifetime: rekey at this share of the hard lifetime minus a random
    /// jitter of up to `rekey_jitter` of it (initiator of the SA only, and the
    /// responder when the peer does not rekey in time).
    double rekey_margin = 0.9;
    double rekey_jitter = 0.05;
    /// How long a replaced ESP SA stays installed after its successor is up.
    std::chrono::seconds rekey_overlap{10};
    /// Android 6/7 truncate HMAC-SHA-256 to 96 bits in ESP: negotiate
    /// HMAC-SHA-256 but install hmac_sha2_256_96.
    bool sha256_96_compat = false;
};

/// What an initiator connects to (engine::connect).
struct connection {
    transport::endpoint local, peer;  ///< peer port 500
    esp::mode mode = esp::mode::transport;
    std::uint8_t protocol = 17;
    std::uint16_t local_port = 1701, remote_port = 1701;  ///< selectors
    std::optional<crypto::dh_id> pfs;                     ///< Quick Mode KE
    bool aggressive = false;
    bytes_view id;  ///< ID for aggressive mode
};

}  // namespace l2sec::ike::v1
