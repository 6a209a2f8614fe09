// The command line of the l2tp_lac and l2tp_lns examples: "--switch" flags
// and "--name value" options, each bound to a variable of main().
#pragma once

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>

namespace l2sec::examples {

class options {
  public:
    /// "--name" (no value) sets `target` to `value`.
    options& flag(const std::string& name, bool& target, bool value = true) {
        flags_[name] = [&target, value] { target = value; };
        return *this;
    }
    /// "--name V" stores V in `target`.
    options& text(const std::string& name, std::string& target) {
        return custom(name, [&target](const std::string& v) { target = v; });
    }
    /// "--name N" stores std::atoi(N) in `target`.
    options& number(const std::string& name, int& target) {
        return custom(name, [&target](const std::string& v) { target = std::atoi(v.c_str()); });
    }
    /// "--name V" calls `apply(V)`.
    options& custom(const std::string& name, std::function<void(const std::string&)> apply) {
        values_[name] = std::move(apply);
        return *this;
    }

    /// Applies argv[1..]; false (after a message on stderr) for an unknown
    /// option or a missing value.
    bool parse(int argc, char** argv) const {
        for (int i = 1; i < argc; ++i) {
            std::string k = argv[i];
            if (auto f = flags_.find(k); f != flags_.end()) {
                f->second();
                continue;
            }
            if (i + 1 >= argc) {
                std::fprintf(stderr, "missing value for %s\n", k.c_str());
                return false;
            }
            auto v = values_.find(k);
            if (v == values_.end()) {
                std::fprintf(stderr, "unknown option %s\n", k.c_str());
                return false;
            }
            v->second(argv[++i]);
        }
        return true;
    }

  private:
    std::map<std::string, std::function<void()>> flags_;
    std::map<std::string, std::function<void(const std::string&)>> values_;
};

}  // namespace l2sec::examples
