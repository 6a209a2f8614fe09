// One negotiated ESP SA pair (Quick Mode), by value: everything the caller
// needs to install two esp::sa, keys included (fixed arrays, wiped when the
// object is destroyed).
#pragma once

#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/esp/sa.hpp>
#include <l2sec/transport/endpoint.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace l2sec::ike::v1 {

/// Names one IKE SA of an engine (slot + generation: a stale handle after
/// the SA is gone matches nothing).
struct sa_handle {
    std::uint32_t index = 0;
    std::uint32_t generation = 0;
    constexpr bool valid() const noexcept { return generation != 0; }
    friend constexpr bool operator==(const sa_handle&, const sa_handle&) = default;
};

/// Who is behind a NAT, from the NAT-D payloads (RFC 3947 3.2).
struct nat_state {
    bool local_behind = false;  ///< our address was translated
    bool peer_behind = false;   ///< the peer's address was translated
    constexpr bool any() const noexcept { return local_behind || peer_behind; }
    friend constexpr bool operator==(const nat_state&, const nat_state&) = default;
};

struct child_sa {
    static constexpr std::size_t max_enc_key = 36;    ///< AES-256 + 4-byte salt
    static constexpr std::size_t max_integ_key = 64;  ///< HMAC-SHA-512

    sa_handle ike;                    ///< which IKE SA produced it
    transport::endpoint local, peer;  ///< outer endpoints as they are now (4500 after NAT-T)
    bool udp_encap = false;           ///< RFC 3948 UDP encapsulation on port 4500
    nat_state nat;
    esp::suite suite{};
    esp::mode mode = esp::mode::transport;
    std::uint32_t spi_in = 0, spi_out = 0;
    std::uint8_t protocol = 0;  ///< negotiated selectors (0 = any)
    std::uint16_t local_port = 0, remote_port = 0;
    std::chrono::seconds lifetime{0};
    std::uint64_t lifetime_kb = 0;                   ///< 0 = none
    std::optional<transport::endpoint> nat_oa_peer;  ///< the peer's original address (NAT-OA)
    /// PFS: the DH group of the KE exchanged for these keys (Quick Mode with
    /// KE, CREATE_CHILD_SA with KE); 0 = keys from the IKE SA's alone.
    std::uint16_t pfs_group = 0;
    /// RFC 4303 2.2.1 extended (64-bit) sequence numbers: IKEv2's ESN
    /// transform (config::esn); IKEv1 negotiates none.
    bool esn = false;

    std::array<std::byte, max_enc_key> enc_in{}, enc_out{};
    std::array<std::byte, max_integ_key> integ_in{}, integ_out{};

    child_sa() = default;
    child_sa(const child_sa&) = default;
    child_sa& operator=(const child_sa&) = default;
    ~child_sa() {
        crypto::secure_zero(enc_in);
        crypto::secure_zero(enc_out);
        crypto::secure_zero(integ_in);
        crypto::secure_zero(integ_out);
    }

    /// The esp::sa configuration for packets we receive (spans into this object).
    esp::sa_config inbound_config() const noexcept { return make_config(spi_in, enc_in, integ_in); }
    /// The esp::sa configuration for packets we send (spans into this object).
    esp::sa_config outbound_config() const noexcept {
        return make_config(spi_out, enc_out, integ_out);
    }

  private:
    esp::sa_config make_config(std::uint32_t spi, const std::array<std::byte, max_enc_key>& e,
                               const std::array<std::byte, max_integ_key>& i) const noexcept {
        esp::sa_config c;
        c.spi = spi;
        c.algorithms = suite;
        c.enc_key = bytes_view(e.data(), suite.enc_keymat_size());
        c.integ_key = bytes_view(i.data(), esp::integrity_key_size(suite.integ));
        c.esn = esn;
        c.mode = mode;
        return c;
    }
};

}  // namespace l2sec::ike::v1
