// The users file of l2sec-server (--users FILE): one "name password" per
// line, '#' starts a comment, blank lines are ignored. A ppp::credential_store:
// lookups allocate nothing; the passwords are wiped when the store goes.
#pragma once

#include <l2sec/crypto/constant_time.hpp>
#include <l2sec/ppp/credentials.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace l2sec::examples {

class users_file {
  public:
    /// Read `path`. False with `error` set (file and line) when it cannot be
    /// read or a line has no password.
    bool load(const std::string& path, std::string& error) {
        std::ifstream in(path);
        if (!in) {
            error = "cannot read users file " + path;
            return false;
        }
        std::string line;
        int n = 0;
        while (std::getline(in, line)) {
            ++n;
            if (auto h = line.find('#'); h != std::string::npos) line.erase(h);
            std::istringstream ls(line);
            std::string user, pw;
            if (!(ls >> user)) continue;
            if (!(ls >> pw)) {
                error = path + ":" + std::to_string(n) + ": user \"" + user + "\" has no password";
                return false;
            }
            users_[user] = pw;
        }
        if (users_.empty()) {
            error = "users file " + path + " names no user";
            return false;
        }
        return true;
    }
    void add(const std::string& user, const std::string& password) { users_[user] = password; }
    std::size_t size() const noexcept { return users_.size(); }

    std::optional<std::size_t> find_password(std::string_view user, std::span<char> out) noexcept {
        auto it = users_.find(user);
        if (it == users_.end() || it->second.size() > out.size()) return std::nullopt;
        std::copy(it->second.begin(), it->second.end(), out.begin());
        return it->second.size();
    }

    ~users_file() {
        for (auto& [u, p] : users_)
            crypto::secure_zero(std::as_writable_bytes(std::span(p)));
    }

  private:
    std::map<std::string, std::string, std::less<>> users_;
};
static_assert(ppp::credential_store<users_file>);

}  // namespace l2sec::examples
