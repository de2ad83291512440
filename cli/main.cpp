// diobench: the command line. One binary, one subcommand per job.
//
// Exit status (DESIGN.md): 0 success, 1 a failed benchmark, 2 bad usage
// or bad input, with a message naming the offending value.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "diobench/runner/interrupt.hpp"
#include "diobench/runner/side_by_side.hpp"
#include "diobench/version.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr int kOk = 0, kFailed = 1, kUsage = 2;

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* kOverview = R"(diobench - does OpenZFS's Direct I/O fallback path cost little?

Usage: diobench <command> [options]

Commands:
  run           run the side-by-side comparison (every direct= policy x
                {file, loop dio on, loop dio off}, one read and one write
                workload) with the diobench fio engine; prints a table
  engine-path   print the absolute path of the fio engine, for your own jobs:
                  fio --ioengine=external:$(diobench engine-path) --policy=always ...

Options:
  -h, --help     this text; `diobench <command> --help` for a command's options
  -V, --version  print the version

Exit status: 0 success, 1 a benchmark failed, 2 bad usage or input.
)";

std::string self_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

// The engine sits beside the binary in the build tree (engines/); the
// path compiled in is the fallback when the binary was copied elsewhere.
std::string engine_path() {
  for (const fs::path& candidate :
       {fs::path(self_dir()) / "engines" / "diobench-engine.so",
        fs::path(DIOBENCH_ENGINE_BUILD_PATH)}) {
    if (fs::exists(candidate)) return fs::canonical(candidate).string();
  }
  throw std::runtime_error(
      "the fio engine (diobench-engine.so) was not found beside this binary; "
      "rebuild with scripts/build");
}

std::string default_run_dir() {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", std::gmtime(&now));
  return std::string("/var/tmp/diobench-runs/") + stamp;
}

po::variables_map parse(const std::string& command, const po::options_description& desc,
                        const std::vector<std::string>& args) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (see: diobench " + command + " --help)");
  }
  return vm;
}

int cmd_engine_path(const std::vector<std::string>& args) {
  po::options_description desc("Usage: diobench engine-path\n\nPrints the absolute path of the fio engine.\n\nOptions");
  desc.add_options()("help,h", "this text");
  const po::variables_map vm = parse("engine-path", desc, args);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kOk;
  }
  std::cout << engine_path() << "\n";
  return kOk;
}

int cmd_run(const std::vector<std::string>& args) {
  std::string dir, out, submit, size_text;
  unsigned runtime = 0, ramp = 0;
  po::options_description desc(
      "Usage: diobench run [options]\n\n"
      "Runs every direct= policy (disabled, standard, always) x {file, loop dio on,\n"
      "loop dio off} for a 4k random-read and a 1M sequential-write workload with\n"
      "the diobench fio engine (emulated backend) on a scratch file, and prints\n"
      "throughput, p99 completion latency and the path split of each cell.\n"
      "Loop cells need root; without it they are skipped.\n\nOptions");
  desc.add_options()
      ("help,h", "this text")
      ("dir", po::value(&dir)->default_value("/var/tmp/diobench"),
       "scratch area (created with an ownership marker; only its own files are touched)")
      ("out", po::value(&out), "where fio's JSON, sidecars and logs go (default: /var/tmp/diobench-runs/<UTC time>)")
      ("runtime", po::value(&runtime)->default_value(3), "measured seconds per cell")
      ("ramp", po::value(&ramp)->default_value(1), "warm-up seconds per cell, not measured")
      ("size", po::value(&size_text)->default_value("256M"), "scratch file size (K, M, G suffixes)")
      ("submit", po::value(&submit)->default_value("psync"), "engine submission: psync or uring");
  const po::variables_map vm = parse("run", desc, args);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kOk;
  }
  if (submit != "psync" && submit != "uring") {
    throw UsageError("invalid --submit value '" + submit + "' (expected psync or uring)");
  }
  if (runtime == 0) throw UsageError("invalid --runtime value '0' (at least 1 second)");
  std::uint64_t size = 0;
  {
    std::size_t used = 0;
    unsigned long long n = 0;
    try {
      n = std::stoull(size_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    const std::string suffix = size_text.substr(used);
    const int shift = suffix.empty() ? 0 : suffix == "K" || suffix == "k" ? 10
                      : suffix == "M" || suffix == "m" ? 20
                      : suffix == "G" || suffix == "g" ? 30 : -1;
    if (used == 0 || shift < 0 || n == 0) {
      throw UsageError("invalid --size value '" + size_text + "' (e.g. 256M)");
    }
    size = static_cast<std::uint64_t>(n) << shift;
    if (size < (16u << 20) || size % (1u << 20) != 0) {
      throw UsageError("invalid --size value '" + size_text + "' (a whole number of MiB, at least 16M)");
    }
  }

  diobench::SideBySideOptions o;
  o.scratch_dir = dir;
  o.out_dir = out.empty() ? default_run_dir() : out;
  o.engine_path = engine_path();
  o.runtime_s = runtime;
  o.ramp_s = ramp;
  o.size = size;
  o.submit = submit;

  diobench::InterruptGuard interrupts;
  const auto results = diobench::run_side_by_side(o, std::cerr);
  std::cout << "\n";
  diobench::print_table(results, std::cout);
  std::cout << "\nraw results: " << o.out_dir << "\n";
  if (diobench::InterruptGuard::requested()) {
    std::cerr << "interrupted: stopped after the running cell; scratch files and loop devices removed\n";
    return 128 + diobench::InterruptGuard::signal();
  }
  for (const auto& r : results) {
    if (r.outcome == diobench::CellResult::Outcome::Failed) return kFailed;
  }
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> all(argv + 1, argv + argc);
  try {
    if (all.empty()) {
      std::cerr << kOverview;
      return kUsage;
    }
    const std::string& command = all.front();
    const std::vector<std::string> rest(all.begin() + 1, all.end());
    if (command == "-h" || command == "--help" || command == "help") {
      std::cout << kOverview;
      return kOk;
    }
    if (command == "-V" || command == "--version") {
      std::cout << "diobench " << diobench::kVersion << "\n";
      return kOk;
    }
    if (command == "engine-path") return cmd_engine_path(rest);
    if (command == "run") return cmd_run(rest);
    throw UsageError("unknown command '" + command + "' (see: diobench --help)");
  } catch (const UsageError& e) {
    std::cerr << "diobench: " << e.what() << "\n";
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "diobench: " << e.what() << "\n";
    return kFailed;
  }
}
