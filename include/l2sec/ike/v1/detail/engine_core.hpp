// The IKEv1 engine's state: engine_core, the class behind ike::v1::engine,
// with its SA table, queues and the declarations of every step; the bodies
// are in ../impl/ (one room per job). Not an API.
#pragma once

#include <l2sec/core/writer.hpp>
#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/ike/header.hpp>
#include <l2sec/ike/message.hpp>
#include <l2sec/ike/v1/detail/state.hpp>
#include <l2sec/ike/v1/detail/wire.hpp>
#include <l2sec/ike/v1/events.hpp>

#include <l2sec/core/deadline_heap.hpp>
#include <l2sec/core/hash_index.hpp>
#include <l2sec/core/intrusive_list.hpp>
#include <l2sec/core/static_vector.hpp>

#include <algorithm>
#include <memory>
#include <new>

namespace l2sec::ike::v1::detail {

template <class B, class R, class L, class S>
class engine_core {
  public:
    using sa_t = ike_sa<B, L::max_children>;
    static constexpr std::size_t slots = L::slots;
    static constexpr std::size_t children = L::max_children;
    static constexpr std::size_t event_capacity = 4 * slots + 16;
    static constexpr std::size_t out_capacity = slots * (children + 2) + 16;
    static constexpr std::size_t oneshot_count = 16;
    static constexpr std::size_t rx_capacity = 65536;

    struct out_ref {
        std::uint32_t slot = 0;
        std::uint32_t gen = 0;
        std::uint8_t which = 0;  ///< 0: phase 1 tx, 1..: child (which-1), 255: oneshot
    };
    struct oneshot {
        transport::endpoint local, peer;
        std::array<std::byte, marker + 512> buf{};
        std::uint16_t n = 0;
        bool with_marker = false;
    };

    config cfg;
    static_vector<phase1_proposal, 64> p1;
    static_vector<esp_proposal, 32> p2;
    std::array<std::byte, 128> local_id{};
    R rnd;
    S psk;
    std::unique_ptr<sa_t[]> tab;
    std::unique_ptr<event[]> events;
    std::size_t ev_head = 0, ev_count = 0;
    std::unique_ptr<out_ref[]> outq;
    std::size_t out_head = 0, out_count = 0;
    std::array<oneshot, oneshot_count> shots{};
    std::size_t shot_next = 0;
    std::unique_ptr<std::byte[]> rx;
    // IKEv1 fragmentation (Cisco/Microsoft payload 132): one message at a time.
    std::unique_ptr<std::byte[]> frag_store, frag_out;
    std::optional<fragment_reassembler<255>> reasm;
    std::uint64_t frag_cky_i = 0, frag_cky_r = 0;
    transport::endpoint frag_peer{};
    std::uint16_t frag_id = 0;
    time_point frag_started{};
    std::size_t n_half = 0, n_est = 0;
    // A message going out in fragments (poll_datagram hands out one at a
    // time): which message, the next piece (0: none), the fragment ID.
    static constexpr std::size_t frag_tx_capacity = marker + 8192;
    std::unique_ptr<std::byte[]> frag_tx_buf;
    out_ref frag_tx{};
    std::uint8_t frag_tx_next = 0;
    std::uint16_t frag_tx_id = 0;
    // O(1) lookups at any capacity: IKE SAs by initiator cookie, installed
    // Quick Mode SAs by inbound SPI. Peers choose initiator cookies, so the
    // hash is keyed with a secret drawn at make() (no chosen collisions).
    static_assert(slots < 65535, "ike::v1 limits: at most 65534 IKE SA slots in all");
    // 16-bit IDs: beyond 65534 Quick Mode slots, SPIs are found by a scan.
    static constexpr bool spi_indexed = slots * children < 65535;
    hash_index<spi_indexed ? slots * children : 1> by_spi;
    hash_index<slots> by_cky;
    hash_index<slots> by_peer;  // established SAs by peer endpoint (INITIAL-CONTACT)
    std::uint64_t hash_key = 0;
    // Slots by state, so no step scans the table: the free ones, and the
    // half-open ones oldest first with their peers beside them (admission
    // walks at most max_half_open entries). The hooks live outside the slots
    // because reset() rebuilds an sa_t in place.
    std::unique_ptr<list_hook[]> hooks;
    std::unique_ptr<transport::endpoint[]> half_peer;
    intrusive_list free_list, half_list;
    // Every SA with a timer, keyed by a time no later than its next deadline
    // (rearm() after each change that can make it earlier; keys left early,
    // as when last_rx moves on, are corrected lazily by next_deadline()).
    using timer_heap = deadline_heap<slots>;
    std::unique_ptr<timer_heap> timers;
    std::unique_ptr<std::uint16_t[]> due;
    engine_stats st{};

    engine_core(const config& c, R&& r, S&& s) : cfg(c), rnd(std::move(r)), psk(std::move(s)) {
        tab = std::make_unique<sa_t[]>(slots);
        hooks = std::make_unique<list_hook[]>(slots);
        half_peer = std::make_unique<transport::endpoint[]>(slots);
        timers = std::make_unique<timer_heap>();
        due = std::make_unique<std::uint16_t[]>(slots);
        for (std::size_t i = 0; i < slots; ++i)
            free_list.push_back(hook_of(), id_of(i));
        frag_tx_buf = std::make_unique<std::byte[]>(frag_tx_capacity);
        (void)rnd.fill(as_writable_bytes(std::span(&hash_key, 1)));  // 0 still works
        events = std::make_unique<event[]>(event_capacity);
        outq = std::make_unique<out_ref[]>(out_capacity);
        rx = std::make_unique<std::byte[]>(rx_capacity);
        frag_store = std::make_unique<std::byte[]>(rx_capacity);
        frag_out = std::make_unique<std::byte[]>(rx_capacity);
        for (auto& p : c.ike_proposals)
            if (c.allow_weak || !is_weak(p)) p1.push_back(p);
        // allow_weak permits weak entries in a configured list; with the
        // default lists it also appends the weak ones.
        if (c.allow_weak && c.ike_proposals.data() == default_ike_proposals().data())
            for (auto& p : weak_ike_proposals())
                if (std::find(p1.begin(), p1.end(), p) == p1.end()) p1.push_back(p);
        for (auto& p : c.esp_proposals)
            if (c.allow_weak || !is_weak(p)) p2.push_back(p);
        if (c.allow_weak && c.esp_proposals.data() == default_esp_proposals().data())
            for (auto& p : weak_esp_proposals())
                if (std::find(p2.begin(), p2.end(), p) == p2.end()) p2.push_back(p);
        std::size_t n = std::min(c.local_id.size(), local_id.size());
        copy_to(local_id, c.local_id.first(n));
        cfg.local_id = bytes_view(local_id.data(), n);
        cfg.ike_proposals = p1.span();
        cfg.esp_proposals = p2.span();
    }

    static result<void> validate(const config& c) noexcept;

    sa_handle handle(std::size_t i) const noexcept;
    sa_t* get(sa_handle h) noexcept;
    std::size_t index_of(const sa_t& s) const noexcept;

    void fail_note(const error& e) noexcept;

    void push_event(event&& e) noexcept;
    void emit(event_kind k, const sa_t& s, std::error_code why = {}) noexcept;

    void queue(const sa_t& s, std::uint8_t which) noexcept;

    bool random(mutable_bytes b) noexcept { return rnd.fill(b); }
    template <class T>
    bool random_int(T& v) noexcept;

    void free_sa(sa_t& s) noexcept;
    static std::uint16_t id_of(std::size_t index) noexcept {
        return static_cast<std::uint16_t>(index + 1);
    }
    auto hook_of() noexcept {
        return [this](std::uint16_t id) -> list_hook& { return hooks[id - 1u]; };
    }
    /// A free slot (still on the free list), or null when all are taken.
    sa_t* first_free() noexcept {
        return free_list.empty() ? nullptr : &tab[free_list.front() - 1u];
    }
    /// A free slot becomes half-open (its state already set) towards `peer`.
    void enter_half_open(sa_t& s, const transport::endpoint& peer) noexcept;
    /// Put `s` on the timer heap at its next deadline (off it without one).
    void rearm(const sa_t& s) noexcept;
    time_point deadline_of(const sa_t& s) const noexcept;
    void tick_sa(std::size_t i, time_point now) noexcept;
    void reset(sa_t& s) noexcept;
    std::uint64_t key_hash(std::uint64_t v) const noexcept;
    void index_sa(sa_t& s) noexcept;
    void unindex_sa(sa_t& s) noexcept;
    void index_peer(sa_t& s) noexcept;
    void unindex_peer(sa_t& s) noexcept;
    void index_child(sa_t& s, child_slot& c) noexcept;
    void unindex_child(sa_t& s, child_slot& c) noexcept;
    template <class Pred>
    sa_t* find_sa(std::uint64_t cky_i, Pred&& is_it) noexcept;
    std::optional<std::pair<sa_t*, child_slot*>> find_child(std::uint32_t spi_in) noexcept;
    std::optional<std::uint16_t> indexed_child(std::uint32_t spi_in) const noexcept;

    void remove_sa(sa_t& s, std::error_code why) noexcept;
    void child_down(sa_t& s, child_slot& c, std::error_code why) noexcept;

    time_point retx_time(unsigned tries, time_point now) const noexcept;

    sa_t* alloc_half_open(const transport::endpoint& peer, time_point now) noexcept;

    std::optional<outgoing_datagram> poll_datagram() noexcept;
    bytes_view message_of(sa_t& s, std::uint8_t which) const noexcept;
    bool send_fragmented(const sa_t& s, std::size_t n) const noexcept;
    std::optional<outgoing_datagram> next_fragment() noexcept;

    std::optional<event> poll_event() noexcept;

    oneshot& take_shot(const transport::endpoint& local, const transport::endpoint& peer,
                       bool with_marker) noexcept;
    void queue_shot(const oneshot& o) noexcept;

    header v1_header(const sa_t& s, exchange x, std::uint32_t mid = 0) const noexcept;

    bool seal(sa_t& s, mutable_bytes buf, std::size_t n, iv& chain, std::uint16_t& out_n) noexcept;

    result<sa_handle> connect(const connection& c, time_point now) noexcept;

    void add_vendor_ids(message_builder& b, nat_t natt, bool all_natt, bool dpd,
                        bool frag) noexcept;

    static void read_vendor_ids(const payload_range& chain, sa_t& s) noexcept;

    payload_type nat_d_type(const sa_t& s) const noexcept;
    payload_type nat_oa_type(const sa_t& s) const noexcept;

    void receive(bytes_view dg, const transport::endpoint& local, const transport::endpoint& peer,
                 time_point now) noexcept;

    void receive_ike(bytes_view m, const transport::endpoint& local,
                     const transport::endpoint& peer, time_point now, bool outer) noexcept;

    void on_fragment(const message& msg, const transport::endpoint& local,
                     const transport::endpoint& peer, time_point now) noexcept;

    bytes_view am_id(const sa_t& s, std::array<std::byte, 4 + 128>& b) const noexcept;

    result<void> start_aggressive(sa_t& s, time_point now) noexcept;

    // Responder: the first of our phase 1 proposals, in our order of
    // preference, that the peer's SA payload offers, with the proposal and
    // transform that carried it (MM2 and AM2 echo them). With `ke_size`
    // (Aggressive Mode, whose KE comes with the SA) only groups whose public
    // value has that size qualify.
    struct p1_choice {
        proposal prop;
        payload transform;
        phase1_proposal chosen;
        std::uint32_t life;  ///< the peer's proposed lifetime in seconds, 0 = none
    };
    std::optional<p1_choice> choose_phase1(const v1::sa& v,
                                           std::optional<std::size_t> ke_size) const noexcept;
    // Responder: a half-open SA for the first message (MM1 or AM1) whose SA
    // payload `sa_body` was answered with `pick`: indexed by the peer's
    // cookie, with the transform, the lifetime, the SA body (for HASH_I/R)
    // and the peer's vendor IDs. Null when the half-open limits refuse it.
    sa_t* open_responder_sa(const message& msg, const payload_range& chain, bytes_view sa_body,
                            const p1_choice& pick, const transport::endpoint& local,
                            const transport::endpoint& peer, time_point now) noexcept;

    void on_am1(const message& msg, std::uint64_t fp, const transport::endpoint& local,
                const transport::endpoint& peer, time_point now) noexcept;

    result<void> derive_am(sa_t& s, bytes_view peer_ke, bytes_view peer_id_data) noexcept;

    result<void> on_am2(sa_t& s, mutable_bytes buf, time_point now) noexcept;

    result<void> on_am3(sa_t& s, mutable_bytes buf, const transport::endpoint& local,
                        const transport::endpoint& peer, time_point now) noexcept;

    void on_mm1(const message& msg, std::uint64_t fp, const transport::endpoint& local,
                const transport::endpoint& peer, time_point now) noexcept;

    void on_plain_notify(const message& msg, const transport::endpoint& peer) noexcept;

    void notify_plain(const header& in, const transport::endpoint& local,
                      const transport::endpoint& peer, notify_type t) noexcept;

    result<void> on_mm2(sa_t& s, mutable_bytes buf, time_point now) noexcept;

    /// KE, Nonce and NAT-D payloads of MM3/MM4.
    struct ke_nonce {
        bytes_view ke, nonce;
        std::array<bytes_view, 4> natd{};
        std::size_t n_natd = 0;
    };
    result<ke_nonce> read_ke_nonce(const sa_t& s, const message& msg) const noexcept;

    result<void> derive(sa_t& s, bytes_view peer_ke) noexcept;

    result<void> detect_nat(sa_t& s, const ke_nonce& k) noexcept;

    result<void> on_mm3(sa_t& s, mutable_bytes buf, time_point now) noexcept;

    result<void> on_mm4(sa_t& s, mutable_bytes buf, time_point now) noexcept;

    static std::array<std::byte, 16> cookies(const sa_t& s) noexcept;

    static bytes_view id_body(const sa_t& s, std::array<std::byte, 20>& b) noexcept;

    /// Decrypt `buf` with a copy of `chain`; on success the copy is returned
    /// with the plaintext chain.
    struct opened {
        payload_range chain;
        iv next;
    };
    result<opened> open(sa_t& s, mutable_bytes buf, const iv& chain) noexcept;

    static error garbled(const error& e, const char* what) noexcept;
    bool keyed_failure(const error& e) const noexcept;
    error wrong_psk(sa_t& s, const error& e) noexcept;
    result<void> on_mm5_answer(sa_t& s, mutable_bytes buf, std::uint32_t mid,
                               time_point now) noexcept;

    result<void> on_mm5(sa_t& s, mutable_bytes buf, const transport::endpoint& local,
                        const transport::endpoint& peer, time_point now) noexcept;

    void initial_contact(sa_t& keep) noexcept;

    void established(sa_t& s, time_point now) noexcept;

    result<void> on_mm6(sa_t& s, mutable_bytes buf, time_point now) noexcept;

    child_slot* free_child(sa_t& s) noexcept;
    std::uint8_t child_index(const sa_t& s, const child_slot& c) const noexcept;

    bool udp_encap(const sa_t& s) const noexcept { return s.natt != nat_t::none && s.nat.any(); }

    /// What a Quick Mode we start negotiates.
    struct qm_params {
        std::uint8_t protocol = 17;
        std::uint16_t local_port = 1701, remote_port = 1701;
        esp::mode mode = esp::mode::transport;
        std::optional<crypto::dh_id> pfs;
        transport::endpoint id_local, id_peer;
        bytes_view raw_id_local, raw_id_peer;  ///< IDs to send as they are (a responder's rekey)
    };
    qm_params params_of(const sa_t& s) const noexcept;
    qm_params params_of(const sa_t& s, const child_slot& c) const noexcept;

    result<void> start_quick_mode(sa_t& s, const qm_params& qp, std::uint32_t replaces,
                                  time_point now) noexcept;

    void write_qm_ids(message_builder& b, const sa_t&, const child_slot& c) noexcept;

    result<void> on_established(sa_t& s, mutable_bytes buf, std::uint64_t fp,
                                const transport::endpoint& local, const transport::endpoint& peer,
                                time_point now) noexcept;

    /// A decrypted Quick Mode message whose HASH(1)/HASH(2) is checked.
    struct qm_view {
        payload_range chain;
        iv next;
        std::optional<payload> sap, nonce, ke, idci, idcr, oai, oar;
    };
    result<qm_view> open_qm(sa_t& s, mutable_bytes buf, const iv& chain, std::uint32_t mid,
                            bytes_view ni) noexcept;

    result<void> on_qm1(sa_t& s, mutable_bytes buf, std::uint64_t fp, time_point now) noexcept;

    result<void> on_qm2(sa_t& s, child_slot& c, mutable_bytes buf, std::uint64_t fp,
                        time_point now) noexcept;

    result<void> on_qm3(sa_t& s, child_slot& c, mutable_bytes buf, std::uint64_t fp,
                        time_point now) noexcept;

    result<void> install(sa_t& s, child_slot& c, time_point now) noexcept;

    result<iv> p2_iv(sa_t& s, std::uint32_t mid) noexcept;
    result<key> hash_a(sa_t& s, std::uint32_t mid, bytes_view ni, bytes_view rest) noexcept;
    result<key> hash3_a(sa_t& s, std::uint32_t mid, bytes_view ni, bytes_view nr) noexcept;

    time_point soft_time(time_point now, std::chrono::seconds life, bool first) noexcept;

    result<void> on_informational(sa_t& s, mutable_bytes buf, std::uint32_t mid,
                                  time_point now) noexcept;

    void on_error_notify(sa_t& s, const notification& n) noexcept;
    void on_status_notify(sa_t& s, const notification& n, std::uint32_t, time_point now) noexcept;

    bool dpd_on(const sa_t& s) const noexcept;
    void send_dpd(sa_t& s, time_point now) noexcept;

    template <class Body>
    void send_informational(sa_t& s, payload_type type, Body&& body) noexcept;

    void send_deletes(sa_t& s) noexcept;

    void close(sa_handle hd, time_point now) noexcept;
    void close_all(time_point now) noexcept;

    void tick(time_point now) noexcept;

    std::optional<time_point> next_deadline() const noexcept;

    void note_esp_traffic(std::uint32_t spi_in, std::size_t bytes, time_point now) noexcept;

    // Before note_esp_traffic(spi_in): pass 0 loads the SPI's index slot,
    // pass 1 the child SA (find's compare reads it) and its IKE SA's lines.
    void warm_traffic(std::uint32_t spi_in, unsigned pass) const noexcept {
        if constexpr (spi_indexed) {
            if (pass == 0) return by_spi.warm(key_hash(spi_in));
            auto id = indexed_child(spi_in);
            if (!id) return;
            const auto& s = tab[(*id - 1u) / children];
            l2sec::warm(&s.st);
            l2sec::warm(&s.last_rx);
        }
    }
};

}  // namespace l2sec::ike::v1::detail
