// Proposal lists on the command line: "--ike-proposals aes256-sha1-modp2048,
// aes128-sha256-ecp256" (cipher-hash-group) and "--esp-proposals
// aes256-gcm,aes128-cbc-sha1" (esp::parse_suite's names).
#pragma once

#include <l2sec/ike/v1/config.hpp>
#include <l2sec/ike/v1/proposals.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace l2sec::examples {

inline std::optional<crypto::dh_id> parse_group(std::string_view g) {
    if (g == "modp1024") return crypto::dh_id::modp1024;
    if (g == "modp1536") return crypto::dh_id::modp1536;
    if (g == "modp2048") return crypto::dh_id::modp2048;
    if (g == "modp3072") return crypto::dh_id::modp3072;
    if (g == "ecp256") return crypto::dh_id::ecp256;
    if (g == "ecp384") return crypto::dh_id::ecp384;
    if (g == "x25519" || g == "curve25519") return crypto::dh_id::curve25519;
    return std::nullopt;
}

/// False with `error` naming the entry that is not cipher-hash-group.
inline bool parse_ike_proposals(const std::string& list, std::vector<ike::v1::phase1_proposal>& out,
                                std::string& error) {
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ',')) {
        auto a = item.find('-'), b = item.rfind('-');
        if (a == std::string::npos || a == b) {
            error = "IKE proposal \"" + item +
                    "\": expected cipher-hash-group, e.g. aes256-sha1-modp2048";
            return false;
        }
        std::string c = item.substr(0, a), h = item.substr(a + 1, b - a - 1),
                    g = item.substr(b + 1);
        ike::v1::phase1_proposal p;
        if (c == "aes128" || c == "aes192" || c == "aes256") {
            p.encr = ike::v1_encr::aes_cbc;
            p.key_bits = static_cast<std::uint16_t>(std::stoi(c.substr(3)));
        } else if (c == "3des") {
            p.encr = ike::v1_encr::des3_cbc;
            p.key_bits = 192;
        } else if (c == "des") {
            p.encr = ike::v1_encr::des_cbc;
            p.key_bits = 64;
        } else {
            error = "IKE proposal \"" + item + "\": unknown cipher " + c +
                    " (aes128, aes192, aes256, 3des, des)";
            return false;
        }
        if (h == "md5")
            p.hash = ike::v1_hash::md5;
        else if (h == "sha1")
            p.hash = ike::v1_hash::sha1;
        else if (h == "sha256")
            p.hash = ike::v1_hash::sha2_256;
        else if (h == "sha384")
            p.hash = ike::v1_hash::sha2_384;
        else if (h == "sha512")
            p.hash = ike::v1_hash::sha2_512;
        else {
            error = "IKE proposal \"" + item + "\": unknown hash " + h +
                    " (md5, sha1, sha256, sha384, sha512)";
            return false;
        }
        auto grp = parse_group(g);
        if (!grp) {
            error = "IKE proposal \"" + item + "\": unknown group " + g +
                    " (modp1024, modp1536, modp2048, modp3072, ecp256, ecp384, x25519)";
            return false;
        }
        p.group = *grp;
        out.push_back(p);
    }
    return !out.empty();
}

inline bool parse_esp_proposals(const std::string& list, std::vector<ike::v1::esp_proposal>& out,
                                std::string& error) {
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ',')) {
        auto s = esp::parse_suite(item);
        if (!s) {
            error = "ESP proposal \"" + item +
                    "\": expected aes128-gcm, aes256-gcm, aes256-cbc-sha1, aes128-cbc-sha256, "
                    "3des-cbc-sha1, ...";
            return false;
        }
        out.push_back(ike::v1::esp_proposal{*s});
    }
    return !out.empty();
}

/// The parsed --ike-proposals / --esp-proposals of a program: it owns the
/// lists that the IKE config's spans point into, so it lives as long as the
/// server or client. An empty list leaves the config's default.
struct proposal_lists {
    std::vector<ike::v1::phase1_proposal> ike;
    std::vector<ike::v1::esp_proposal> esp;

    /// False, with `error` saying which entry, when a list does not parse.
    bool apply(const std::string& ike_list, const std::string& esp_list, ike::v1::config& cfg,
               std::string& error) {
        if (!ike_list.empty()) {
            if (!parse_ike_proposals(ike_list, ike, error)) return false;
            cfg.ike_proposals = ike;
        }
        if (!esp_list.empty()) {
            if (!parse_esp_proposals(esp_list, esp, error)) return false;
            cfg.esp_proposals = esp;
        }
        return true;
    }
};

}  // namespace l2sec::examples
