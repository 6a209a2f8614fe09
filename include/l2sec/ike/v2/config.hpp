// Configuration of the IKEv2 engine: capacities (template parameters), the
// proposal lists, the options, and what an initiator connects to. The PSK
// store seam and single_psk are IKEv1's (the same thing: a key per peer).
//
// The default proposals are the strongest the built-in clients meet:
//   Windows 10/11:  AES-CBC-256 + SHA-256/SHA-1 on MODP-2048 when configured
//                   (its out-of-the-box list is MODP-1024 only: allow_weak)
//   macOS/iOS:      AES-GCM-256 / AES-CBC-256 + SHA-256 on ECP-256, MODP-2048
//   Android 12+:    AES-GCM / AES-CBC + SHA-2 on Curve25519, ECP-256/384, MODP-2048
// ESP: AES-GCM-16 and AES-CBC + HMAC-SHA-256/SHA-1 (ESN with config::esn).
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/esp/algorithms.hpp>
#include <l2sec/ike/registry.hpp>
#include <l2sec/ike/v1/config.hpp>
#include <l2sec/ike/v1/proposals.hpp>
#include <l2sec/ike/v2/keys.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace l2sec::ike::v2 {

/// Capacities. MaxSas: established IKE SAs (a rekey briefly holds two for
/// one peer, a rekey collision three; beyond MaxSas they borrow free
/// slots); MaxHalfOpen: IKE SAs between IKE_SA_INIT and IKE_AUTH (a flood of
/// IKE_SA_INIT fills these only); MaxSas + MaxHalfOpen slots in all;
/// MaxChildrenPerSa: ESP SA pairs per IKE SA (rekeyed ones while they
/// overlap; three when both ends rekey one at once, RFC 7296 2.8.1: the old
/// one and each end's new one).
template <std::size_t MaxSas, std::size_t MaxHalfOpen, std::size_t MaxChildrenPerSa = 3>
struct limits {
    static_assert(MaxSas > 0 && MaxHalfOpen > 0 && MaxChildrenPerSa > 0,
                  "ike::v2::limits needs room for at least one SA of each kind");
    static constexpr std::size_t max_sas = MaxSas;
    static constexpr std::size_t max_half_open = MaxHalfOpen;
    static constexpr std::size_t max_children = MaxChildrenPerSa;
    static constexpr std::size_t slots = MaxSas + MaxHalfOpen;
};
using default_limits = limits<32, 32>;

using v1::psk_store;
using v1::single_psk;

/// One IKE SA transform set: ENCR (+ key length), PRF, INTEG (none for AEAD), DH.
struct ike_proposal {
    encr_id encr = encr_id::aes_gcm_16;
    std::uint16_t key_bits = 256;
    prf_id prf = prf_id::hmac_sha2_256;
    integ_id integ = integ_id::none;
    dh_group group = dh_group::ecp256;

    constexpr suite keys_suite() const noexcept { return {encr, key_bits, prf, integ}; }
    friend constexpr bool operator==(const ike_proposal&, const ike_proposal&) = default;
};

/// One ESP transform set for a Child SA (the ESP suite; ESN: config::esn).
using v1::esp_proposal;

/// MODP-1024, MD5 and SHA-1-96 with MODP-1024: only with config::allow_weak.
constexpr bool is_weak(const ike_proposal& p) noexcept {
    return p.group == dh_group::modp1024 || p.group == dh_group::modp768 ||
           p.prf == prf_id::hmac_md5 || p.integ == integ_id::hmac_md5_96 || p.encr == encr_id::des3;
}
using v1::is_weak;

namespace detail {
inline constexpr std::array<ike_proposal, 14> default_ike_list{{
    {encr_id::aes_gcm_16, 256, prf_id::hmac_sha2_256, integ_id::none, dh_group::curve25519},
    {encr_id::aes_gcm_16, 256, prf_id::hmac_sha2_256, integ_id::none, dh_group::ecp256},
    {encr_id::aes_gcm_16, 256, prf_id::hmac_sha2_384, integ_id::none, dh_group::ecp384},
    {encr_id::aes_gcm_16, 256, prf_id::hmac_sha2_256, integ_id::none, dh_group::modp2048},
    {encr_id::aes_gcm_16, 128, prf_id::hmac_sha2_256, integ_id::none, dh_group::ecp256},
    {encr_id::aes_cbc, 256, prf_id::hmac_sha2_256, integ_id::hmac_sha2_256_128,
     dh_group::curve25519},
    {encr_id::aes_cbc, 256, prf_id::hmac_sha2_256, integ_id::hmac_sha2_256_128, dh_group::ecp256},
    {encr_id::aes_cbc, 256, prf_id::hmac_sha2_384, integ_id::hmac_sha2_384_192, dh_group::ecp384},
    {encr_id::aes_cbc, 256, prf_id::hmac_sha2_256, integ_id::hmac_sha2_256_128, dh_group::modp2048},
    {encr_id::aes_cbc, 256, prf_id::hmac_sha2_384, integ_id::hmac_sha2_384_192, dh_group::modp2048},
    {encr_id::aes_cbc, 256, prf_id::hmac_sha1, integ_id::hmac_sha1_96, dh_group::modp2048},
    {encr_id::aes_cbc, 128, prf_id::hmac_sha2_256, integ_id::hmac_sha2_256_128, dh_group::modp2048},
    {encr_id::aes_cbc, 128, prf_id::hmac_sha1, integ_id::hmac_sha1_96, dh_group::modp2048},
    {encr_id::aes_cbc, 256, prf_id::hmac_sha2_256, integ_id::hmac_sha2_256_128, dh_group::modp1536},
}};
/// Windows' out-of-the-box IKEv2 list (MODP-1024).
inline constexpr std::array<ike_proposal, 4> weak_ike_list{{
    {encr_id::aes_cbc, 256, prf_id::hmac_sha2_256, integ_id::hmac_sha2_256_128, dh_group::modp1024},
    {encr_id::aes_cbc, 256, prf_id::hmac_sha2_384, integ_id::hmac_sha2_384_192, dh_group::modp1024},
    {encr_id::aes_cbc, 256, prf_id::hmac_sha1, integ_id::hmac_sha1_96, dh_group::modp1024},
    {encr_id::aes_cbc, 128, prf_id::hmac_sha1, integ_id::hmac_sha1_96, dh_group::modp1024},
}};
inline constexpr std::array<esp_proposal, 6> default_esp_list{{
    {{esp::encryption::aes_gcm_16, 32, esp::integrity::none}},
    {{esp::encryption::aes_gcm_16, 16, esp::integrity::none}},
    {{esp::encryption::aes_cbc, 32, esp::integrity::hmac_sha2_256_128}},
    {{esp::encryption::aes_cbc, 16, esp::integrity::hmac_sha2_256_128}},
    {{esp::encryption::aes_cbc, 32, esp::integrity::hmac_sha1_96}},
    {{esp::encryption::aes_cbc, 16, esp::integrity::hmac_sha1_96}},
}};
}  // namespace detail

constexpr std::span<const ike_proposal> default_ike_proposals() noexcept {
    return detail::default_ike_list;
}
constexpr std::span<const ike_proposal> weak_ike_proposals() noexcept {
    return detail::weak_ike_list;
}
constexpr std::span<const esp_proposal> default_esp_proposals() noexcept {
    return detail::default_esp_list;
}

/// Where a responder's virtual addresses come from (CP CFG_REQUEST, RFC 7296
/// 3.15): assign() writes an IPv4 address (and a DNS server, or 0.0.0.0 for
/// none) for the peer and returns true; release() gives it back when the IKE
/// SA goes. Plain function pointers with a context: nothing allocated.
struct address_pool {
    bool (*assign)(void* ctx, const transport::endpoint& peer, bytes_view peer_id,
                   std::array<std::uint8_t, 4>& address,
                   std::array<std::uint8_t, 4>& dns) = nullptr;
    void (*release)(void* ctx, const std::array<std::uint8_t, 4>& address) = nullptr;
    void* ctx = nullptr;
    constexpr bool valid() const noexcept { return assign != nullptr; }
};

/// CP attribute types (RFC 7296 3.15.1).
inline constexpr std::uint16_t cp_internal_ip4_address = 1;
inline constexpr std::uint16_t cp_internal_ip4_dns = 3;

/// Engine options; validated by engine::make() (invalid_config names the field).
struct config {
    /// In order of preference: offered as initiator (one proposal each, the
    /// KE for the first one's group), accepted as responder (the first of
    /// ours the peer offers wins; one with the group of the peer's KE is
    /// preferred over an INVALID_KE_PAYLOAD round trip only among those).
    std::span<const ike_proposal> ike_proposals = default_ike_proposals();
    std::span<const esp_proposal> esp_proposals = default_esp_proposals();
    /// Keep weak entries of the lists (MODP-1024, MD5); with the default IKE
    /// list, weak_ike_proposals() (Windows' defaults) join it after it.
    bool allow_weak = false;
    std::chrono::milliseconds retransmit_initial{500};
    unsigned retransmit_tries = 6;
    /// An IKE SA whose IKE_AUTH does not finish is dropped after this.
    std::chrono::seconds half_open_timeout{30};
    /// Responder: half-open IKE SAs from one outer address (clients behind
    /// one NAT share it); beyond it IKE_SA_INIT is dropped (the peer retries).
    std::size_t half_open_per_address = 16;
    /// Liveness check (empty INFORMATIONAL) after this long without anything
    /// from the peer; 0 = none. The peer is dead when retransmissions run out.
    std::chrono::seconds dpd_interval{30};
    /// Our IDi/IDr (ID_FQDN when set; else ID_IPV4_ADDR/ID_IPV6_ADDR of the local address).
    bytes_view local_id{};
    std::uint8_t local_id_type = 2;  ///< ID_FQDN
    /// Responder: the selector we accept on our side (protocol 0 = any,
    /// port 0 = any): L2TP/IPsec is UDP 1701; "any" serves tunnel-mode clients.
    std::uint8_t child_protocol = 0;
    std::uint16_t child_local_port = 0;
    /// Responder: accept tunnel-mode Child SAs (else only transport).
    bool allow_tunnel = true;
    /// Responder under load (RFC 7296 2.6): with this many half-open IKE SAs
    /// (0 = half of MaxHalfOpen), an IKE_SA_INIT without a valid COOKIE gets a
    /// stateless COOKIE notify and costs nothing.
    std::size_t cookie_threshold = 0;
    /// Child SA lifetime: the side that created the Child SA rekeys it with
    /// CREATE_CHILD_SA at `rekey_margin` of it; the replaced SA stays for
    /// `rekey_overlap` unless the peer deletes it first. 0 = never rekey.
    std::chrono::seconds child_lifetime{3600};
    /// PFS for the Child SAs we rekey (RFC 7296 1.3.1): a KE in this group
    /// and the group in every ESP proposal of our CREATE_CHILD_SA; the new
    /// keys then come from a fresh DH too. 0 = none. (A peer's KE is
    /// answered either way, in any group of ike_proposals.)
    dh_group child_pfs = dh_group{0};
    /// Extended (64-bit) sequence numbers (RFC 4303 2.2.1): offered first in
    /// every ESP proposal (without ESN second) and, as responder, chosen when
    /// the peer offers them. For links that send 2^32 packets within a
    /// Child SA's lifetime (4 G packets: about 3 hours at 10 Gbit/s).
    bool esn = false;
    /// IKE SA lifetime: its initiator rekeys it (CREATE_CHILD_SA with a new
    /// KE) at `rekey_margin` of it; 0 = never (the peer may still rekey).
    std::chrono::seconds ike_lifetime{14400};
    /// Responder: answers CP(CFG_REQUEST) with INTERNAL_IP4_ADDRESS/DNS from
    /// here, and narrows the peer's TSi to that address (native IKEv2 clients).
    address_pool pool{};
    /// Our rekeys go at this fraction of a lifetime, less a random part of
    /// up to a tenth of the rest (at 0.9: between 89 % and 90 %).
    double rekey_margin = 0.9;
    std::chrono::seconds rekey_overlap{10};
    /// RFC 7383: announce IKEV2_FRAGMENTATION_SUPPORTED in IKE_SA_INIT. When
    /// both sides do, a protected message longer than `fragment_size` goes
    /// out as SKF fragments (each with its own IV and ICV, all of them
    /// retransmitted together), and the peer's SKF fragments are verified
    /// one by one and reassembled.
    bool fragmentation = true;
    /// The largest IKE datagram (UDP payload, non-ESP marker included) sent,
    /// as IKEv1's: 1232 = IPv6's minimum MTU less its IP and UDP headers, so
    /// never IP-fragmented on any path. At least 200.
    std::size_t fragment_size = 1232;
};

/// What an initiator connects to (engine::connect).
struct connection {
    transport::endpoint local, peer;  ///< peer port 500
    esp::mode mode = esp::mode::transport;
    /// TSi/TSr: our and the peer's address with these (0 = any). Transport
    /// L2TP/IPsec: UDP, 1701 both sides. Tunnel "any": protocol 0, ports 0,
    /// the whole address range.
    std::uint8_t protocol = 17;
    std::uint16_t local_port = 1701, remote_port = 1701;
    bool any_address = false;  ///< tunnel: 0.0.0.0-255.255.255.255 both sides
    /// Ask for a virtual address and DNS server (CP CFG_REQUEST in IKE_AUTH);
    /// the answer comes with ike_up (event::internal_address, internal_dns).
    bool request_address = false;
};

}  // namespace l2sec::ike::v2
