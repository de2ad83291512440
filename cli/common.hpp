// What every diobench subcommand uses: the exit statuses, the usage error,
// the option parser and where the binary and its engine are.
#pragma once

#include <boost/program_options.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace diobench::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

// Exit statuses (docs/design.md §14).
inline constexpr int kOk = 0, kFailed = 1, kUsage = 2;

// Bad usage or input: main() prints it and exits kUsage.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The directory this binary is in ("." when /proc/self/exe cannot be read).
std::string self_dir();

// The fio engine's absolute path.
std::string engine_path();

// Parses a command's options (and positional arguments, when `positional`
// names the option they fill, with `count` of them, -1 for any number).
po::variables_map parse(const std::string& command, const po::options_description& desc,
                        const std::vector<std::string>& args, const char* positional = nullptr,
                        int count = 0);

}  // namespace diobench::cli
