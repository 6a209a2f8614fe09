// --keylog FILE for the server and the client: each ESP SA as a line of
// Wireshark's esp_sa UAT (vpn::wireshark_esp_sa_line), appended to FILE, and
// each IKEv1 SA as a line of its ikev1_decryption_table UAT
// (vpn::wireshark_ikev1_line), appended to FILE.ikev1: two files because a
// UAT file holds one table. One line per SA, not per packet; shared by the
// server's workers under a lock.
#pragma once

#include <l2sec/vpn/keylog.hpp>

#include <fstream>
#include <memory>
#include <mutex>
#include <string>

namespace l2sec::examples {

struct file_key_log {
    std::shared_ptr<std::ofstream> out, ike1;
    std::shared_ptr<std::mutex> lock;

    /// Append to `path`; an empty path logs nothing.
    static file_key_log open(const std::string& path) {
        file_key_log k;
        if (path.empty()) return k;
        k.out = std::make_shared<std::ofstream>(path, std::ios::app);
        k.ike1 = std::make_shared<std::ofstream>(path + ".ikev1", std::ios::app);
        k.lock = std::make_shared<std::mutex>();
        return k;
    }
    void esp_sa(const vpn::esp_key_record& r) noexcept {
        if (!out) return;
        std::lock_guard g(*lock);
        *out << vpn::wireshark_esp_sa_line(r) << '\n';
        out->flush();
    }
    void ike_sa(const vpn::ike_key_record& r) noexcept {
        if (!ike1) return;
        std::lock_guard g(*lock);
        *ike1 << vpn::wireshark_ikev1_line(r) << '\n';
        ike1->flush();
    }
};
static_assert(vpn::ike_key_log<file_key_log>);

}  // namespace l2sec::examples
