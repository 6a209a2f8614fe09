// Internal state of the IKEv1 engine: one slot per IKE SA with its Quick
// Mode children, fixed-size buffers only (no allocation once the slot array
// exists). Not a public interface.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/esp/algorithms.hpp>
#include <l2sec/ike/v1/child_sa.hpp>
#include <l2sec/ike/v1/config.hpp>
#include <l2sec/ike/v1/keys.hpp>
#include <l2sec/ike/v1/proposals.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec::ike::v1::detail {

using time_point = std::chrono::steady_clock::time_point;
inline constexpr time_point never = time_point::max();

/// FNV-1a over a datagram: recognises a retransmitted peer message (answered
/// from the cached reply, never processed twice).
constexpr std::uint64_t fingerprint(bytes_view b) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (auto c : b)
        h = (h ^ std::to_integer<std::uint8_t>(c)) * 0x100000001b3ull;
    return h ^ b.size();
}

enum class p1_state : std::uint8_t {
    free,
    i_mm1_sent,  ///< initiator: waiting for MM2
    i_mm3_sent,
    i_mm5_sent,
    r_mm2_sent,  ///< responder: waiting for MM3
    r_mm4_sent,
    i_am1_sent,  ///< Aggressive Mode initiator: waiting for AM2
    r_am2_sent,  ///< Aggressive Mode responder: waiting for AM3
    established,
};
constexpr bool half_open(p1_state s) noexcept {
    return s != p1_state::free && s != p1_state::established;
}

/// Which NAT-T dialect the peers agreed on (RFC 3947 or the drafts Windows
/// and macOS still send; the drafts use payloads 130/131 and modes 61443/61444).
enum class nat_t : std::uint8_t { none, draft02, draft03, rfc3947 };

inline constexpr std::size_t tx_capacity = 2048;  ///< phase 1 message
inline constexpr std::size_t qm_capacity = 1536;  ///< Quick Mode message
inline constexpr std::size_t marker = 4;          ///< room for the non-ESP marker

/// One Quick Mode exchange and, once done, the ESP SA pair it installed.
struct child_slot {
    enum class state : std::uint8_t { free, i_qm1_sent, r_qm2_sent, installed };
    state st = state::free;
    bool initiator = false;
    std::uint32_t mid = 0;
    iv chain{};
    std::array<std::byte, 256> ni{}, nr{};
    std::uint16_t ni_n = 0, nr_n = 0;
    std::uint32_t spi_in = 0, spi_out = 0;
    esp::suite suite{};
    std::uint16_t encap = 0;
    std::uint32_t life_s = 0;
    std::uint64_t life_kb = 0;
    std::uint8_t protocol = 0;
    std::uint16_t local_port = 0, remote_port = 0;
    std::optional<transport::endpoint> nat_oa_peer;
    std::uint32_t replaces = 0;  ///< inbound SPI of the SA this one rekeys
    esp::mode mode = esp::mode::transport;
    transport::endpoint id_local, id_peer;  ///< addresses of our Quick Mode IDs (initiator)
    /// A peer's QM1 IDs as they came (IDcr: our side, IDci: theirs; subnets
    /// and ranges too): a rekey we start sends them back, swapped. Empty for
    /// the SAs we started (their IDs are id_local/id_peer).
    std::array<std::byte, 40> raw_id_local{}, raw_id_peer{};
    std::uint8_t raw_id_local_n = 0, raw_id_peer_n = 0;
    // PFS: the group, and g^xy once agreed (wiped at install)
    std::optional<crypto::dh_id> pfs;
    std::array<std::byte, crypto::max_dh_shared_size> gxy{};
    std::uint16_t gxy_n = 0;
    // retransmission / duplicates
    std::array<std::byte, marker + qm_capacity> tx{};
    std::uint16_t tx_n = 0;
    unsigned tries = 0;
    time_point retx_at = never;
    std::uint64_t rx_fp = 0;
    // lifetime
    time_point installed_at{}, soft_at = never, hard_at = never;
    std::uint64_t bytes = 0;
    bool rekeyed = false;  ///< a successor is up: hard_at is the overlap end
};

template <class B, std::size_t Children>
struct ike_sa {
    p1_state st = p1_state::free;
    bool initiator = false;
    bool aggressive = false;
    std::uint32_t generation = 1;
    std::uint64_t cky_i = 0, cky_r = 0;
    bool indexed = false;             ///< in engine_core::by_cky (under cky_i)
    bool peer_indexed = false;        ///< in engine_core::by_peer (established, under peer)
    std::uint8_t keyed_failures = 0;  ///< MM5/MM6 that failed under our keys
    transport::endpoint local, peer;
    time_point created{}, established_at{}, expires_at = never, soft_at = never;
    time_point last_rx{};
    phase1_proposal chosen{};
    phase1_info info{};
    std::uint32_t life_s = 0;
    std::optional<typename B::key_exchange> kx;
    std::array<std::byte, crypto::max_dh_public_size> gx_i{}, gx_r{};
    std::uint16_t gx_n = 0;
    std::array<std::byte, 256> ni{}, nr{};
    std::uint16_t ni_n = 0, nr_n = 0;
    std::array<std::byte, 1536> sai_b{};
    std::uint16_t sai_n = 0;
    std::array<std::byte, 128> peer_id{};  ///< peer's phase 1 ID body
    std::uint16_t peer_id_n = 0;
    phase1_keys keys{};
    iv chain{};    ///< phase 1 CBC chain
    iv p1_last{};  ///< last phase 1 block: base of the phase 2 IVs
    std::optional<message_crypto<B>> mc;
    std::optional<typename B::mac> prf_a;  ///< keyed with SKEYID_a once: phase 2 hashes
    std::optional<typename B::hash> ivh;   ///< phase 2 IVs
    nat_t natt = nat_t::none;
    nat_state nat{};
    bool floated = false;
    bool peer_dpd = false, peer_frag = false, initial_contact = false;
    // retransmission / duplicates of the phase 1 exchange
    std::array<std::byte, marker + tx_capacity> tx{};
    std::uint16_t tx_n = 0;
    unsigned tries = 0;
    time_point retx_at = never;
    std::uint64_t rx_fp = 0;
    // DPD (RFC 3706)
    std::uint32_t dpd_seq = 0;
    time_point dpd_resend_at = never, dpd_deadline = never;
    unsigned dpd_tries = 0;
    // rekeying / re-authentication
    std::optional<sa_handle> reauth_of;  ///< the IKE SA this one re-authenticates
    time_point close_at = never;         ///< replaced: Delete after the overlap
    // initiator side
    connection conn{};
    std::array<std::byte, 128> conn_id{};
    std::array<child_slot, Children> children{};
    std::array<std::optional<typename B::key_exchange>, Children> qm_kx{};  ///< PFS key pairs

    void wipe() noexcept {
        crypto::secure_zero(mutable_bytes(keys.skeyid.bytes));
        crypto::secure_zero(mutable_bytes(keys.d.bytes));
        crypto::secure_zero(mutable_bytes(keys.a.bytes));
        crypto::secure_zero(mutable_bytes(keys.e.bytes));
        crypto::secure_zero(mutable_bytes(keys.ka.bytes));
        kx.reset();
        mc.reset();
        prf_a.reset();
        ivh.reset();
        for (auto& k : qm_kx)
            k.reset();
        for (auto& c : children)
            crypto::secure_zero(mutable_bytes(c.gxy));
    }
};

}  // namespace l2sec::ike::v1::detail
