// Configuration files for the server and client: `--config FILE` takes the
// same keys as the command line, one per line, as "key value" or
// "key = value" (no leading dashes; '#' comments). A flag is a key alone, or
// "key = yes". Options given on the command line after --config win.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace l2sec::examples {

/// argv with every "--config FILE" replaced by the options the file holds.
/// False with `error` set (file and line) when a file cannot be read.
inline bool expand_config(int argc, char** argv, std::vector<std::string>& out,
                          std::string& error) {
    out.clear();
    out.push_back(argc > 0 ? argv[0] : "l2sec");
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a != "--config") {
            out.push_back(a);
            continue;
        }
        if (i + 1 >= argc) {
            error = "missing value for --config";
            return false;
        }
        std::string path = argv[++i];
        std::ifstream in(path);
        if (!in) {
            error = "cannot read config file " + path;
            return false;
        }
        std::string line;
        while (std::getline(in, line)) {
            if (auto h = line.find('#'); h != std::string::npos) line.erase(h);
            for (auto& c : line)
                if (c == '=') c = ' ';
            std::istringstream ls(line);
            std::string key, value;
            if (!(ls >> key)) continue;
            std::getline(ls >> std::ws, value);
            while (!value.empty() &&
                   (value.back() == ' ' || value.back() == '\t' || value.back() == '\r'))
                value.pop_back();
            if (key.rfind("--", 0) != 0) key = "--" + key;
            if (value == "yes" || value == "true") value.clear();
            out.push_back(key);
            if (!value.empty()) out.push_back(value);
        }
    }
    return true;
}

}  // namespace l2sec::examples
