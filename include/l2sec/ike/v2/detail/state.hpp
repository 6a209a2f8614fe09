// Internal state of the IKEv2 engine: one slot per IKE SA with its Child
// SAs, fixed-size buffers only (no allocation once the slot array exists).
// Not a public interface.
#pragma once

#include <l2sec/core/bytes.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/crypto/dh.hpp>
#include <l2sec/ike/v1/detail/state.hpp>
#include <l2sec/ike/v2/config.hpp>
#include <l2sec/ike/v2/detail/wire.hpp>
#include <l2sec/ike/v2/events.hpp>
#include <l2sec/ike/v2/keys.hpp>
#include <l2sec/ike/v2/sk.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec::ike::v2::detail {

using time_point = std::chrono::steady_clock::time_point;
inline constexpr time_point never = time_point::max();

using v1::detail::fingerprint;

enum class sa_state : std::uint8_t {
    free,
    i_init_sent,  ///< initiator: IKE_SA_INIT request out
    i_auth_sent,  ///< initiator: IKE_AUTH request out
    r_init_done,  ///< responder: IKE_SA_INIT answered, waiting for IKE_AUTH
    established,
};
constexpr bool half_open(sa_state s) noexcept {
    return s != sa_state::free && s != sa_state::established;
}

/// What our outstanding request is.
enum class request : std::uint8_t {
    none,
    init,
    auth,
    liveness,
    delete_ike,
    delete_child,
    rekey_child,
    rekey_ike,
    delete_old,  ///< Delete for the IKE SA we replaced by a rekey
};

inline constexpr std::size_t msg_capacity = 2048;  ///< one IKE message
inline constexpr std::size_t marker = 4;           ///< room for the non-ESP marker

/// Where the pieces of a message sent as RFC 7383 fragments lie in its
/// buffer: piece k is buf[start(k), end[k]), its first `marker` bytes room
/// for the non-ESP marker. n == 0: the message went whole (buf[marker, +len)).
struct pieces {
    static constexpr std::size_t max = 16;
    std::array<std::uint16_t, max> end{};
    std::uint8_t n = 0;
    constexpr std::size_t start(std::size_t k) const noexcept { return k ? end[k - 1] : 0; }
};

struct child_slot {
    bool used = false;
    bool ours = false;  ///< we created it (IKE_AUTH initiator or our CREATE_CHILD_SA): we rekey it
    time_point soft_at = never;  ///< rekey then
    time_point gone_at = never;  ///< replaced: removed then (the overlap)
    selector ts_i, ts_r;         ///< as negotiated (TSi of the exchange that made it)
    child_sa sa;
};

template <class B, std::size_t Children>
struct ike_sa {
    sa_state st = sa_state::free;
    bool initiator = false;
    std::uint32_t generation = 1;
    std::uint64_t spi_i = 0, spi_r = 0;
    transport::endpoint local, peer;
    bool floated = false;  ///< on 4500 with the non-ESP marker
    bool frag = false;     ///< RFC 7383 fragmentation: both sides announced it
    bool indexed = false;  ///< in the engine's SPIi index
    time_point created{}, last_rx{};
    time_point retire_at = never;  ///< rekeyed: its successor took the children; gone then
    time_point soft_at = never;    ///< we rekey this IKE SA then (its initiator only)
    ike_proposal chosen{};
    suite_info info{};
    std::optional<typename B::key_exchange> kx;
    std::array<std::byte, 256> ni{}, nr{};
    std::uint16_t ni_n = 0, nr_n = 0;
    ike_sa_keys keys{};
    std::optional<sk_protect<B>> sk_tx, sk_rx;  ///< ours out, the peer's in
    // the IKE_SA_INIT messages: AUTH signs them
    std::array<std::byte, msg_capacity> init_req{}, init_resp{};
    std::uint16_t init_req_n = 0, init_resp_n = 0;
    std::uint64_t init_fp = 0;  ///< responder: the IKE_SA_INIT request (duplicates)
    std::array<std::byte, 128> cookie{};
    std::uint16_t cookie_n = 0;
    nat_state nat{};
    // message IDs (window 1): our next request, the peer's next request
    std::uint32_t my_mid = 0, peer_mid = 0;
    request pending = request::none;
    std::array<std::byte, marker + msg_capacity> tx{};  ///< our outstanding request
    std::uint16_t tx_n = 0;
    pieces tx_pieces{};
    unsigned tries = 0;
    time_point retx_at = never;
    std::array<std::byte, marker + msg_capacity> resp{};  ///< our last response (duplicates)
    std::uint16_t resp_n = 0;
    pieces resp_pieces{};
    bool resp_valid = false;
    std::uint64_t resp_fp = 0;          ///< the request it answers
    std::uint32_t pending_spi = 0;      ///< the Child SA being negotiated: our inbound SPI
    std::uint32_t rekey_old = 0;        ///< our CREATE_CHILD_SA: inbound SPI of the SA it replaces
    std::array<std::byte, 32> rk_ni{};  ///< our CREATE_CHILD_SA nonce
    std::uint64_t rk_spi = 0;           ///< our IKE SA rekey: the new SA's SPIi
    std::optional<typename B::key_exchange> rk_kx;
    /// RFC 7296 2.8.1/2.8.2: while our rekey was outstanding the peer
    /// rekeyed the same SA. What its exchange made (the Child SA with our
    /// inbound SPI coll_spi, or the IKE SA coll_ike = {slot, generation})
    /// and the lower of its two nonces, compared with ours when ours ends.
    std::uint32_t coll_spi = 0;
    sa_handle coll_ike{};
    std::array<std::byte, 256> coll_nonce{};
    std::uint16_t coll_nonce_n = 0;
    /// The peer's colliding rekey made this SA from coll_from, whose own
    /// rekey was then outstanding: if the peer deletes this one as
    /// redundant first, its Child SAs go back there.
    sa_handle coll_from{};
    /// The redundant IKE SA of a collision that we close: never reported up,
    /// goes without events.
    bool redundant = false;
    connection conn{};
    /// The IDi the peer authenticated with (responder; kept across IKE SA
    /// rekeys): INITIAL_CONTACT ends the other SAs with the same one.
    /// Longer IDs are not kept (peer_id_set false: never matched).
    bool peer_id_set = false;
    std::uint8_t peer_id_type = 0;
    std::uint16_t peer_id_n = 0;
    std::array<std::byte, 256> peer_id{};
    /// CP: the virtual address given to (responder) or got from (initiator) the peer
    bool has_vip = false;
    bool vip_pool = false;  ///< ours, from config::pool: released when the SA goes
    std::array<std::uint8_t, 4> vip{}, vdns{};
    std::array<child_slot, Children> children{};

    void wipe() noexcept {
        for (auto* k : {&keys.d, &keys.ai, &keys.ar, &keys.ei, &keys.er, &keys.pi, &keys.pr})
            crypto::secure_zero(mutable_bytes(k->bytes));
        kx.reset();
        rk_kx.reset();
        sk_tx.reset();
        sk_rx.reset();
        for (auto& c : children)
            c = child_slot{};
    }
};

}  // namespace l2sec::ike::v2::detail
