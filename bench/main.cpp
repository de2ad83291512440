// diobench-bench: Google Benchmark drivers for the per-request cost of each
// I/O path (see bench/README.md).
//
// Our own options are taken out of argv before Google Benchmark sees the
// rest. Defaults that differ from Google Benchmark's (9 repetitions, random
// interleaving) are put in front of the user's arguments, so a later
// --benchmark_repetitions=2 on the command line still wins.
//
// Exit status (docs/design.md §14): 0 success, 1 a driver reported an error,
// 2 bad usage or an unusable scratch directory. On SIGINT/SIGTERM/SIGHUP
// the drivers stop, the workspace is cleaned up (loop devices detached,
// files removed) and the process then dies of the same signal.
#include <benchmark/benchmark.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "diobench/target.hpp"
#include "diobench/version.hpp"
#include "run_control.hpp"
#include "workspace.hpp"

namespace {

using diobench::bench::WorkspaceOptions;

constexpr int kOk = 0, kFailed = 1, kUsage = 2;
constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
// Queue depth 32 of 1 MiB reads needs 32 distinct blocks; twice that keeps
// a cold pass from wrapping at once.
constexpr std::uint64_t kMinFileMiB = 64;
constexpr const char* kScratchEnv = "DIOBENCH_BENCH_SCRATCH";

const char* kUsageText =
    R"(diobench-bench - per-request cost of each I/O path, with ceilings

Usage: diobench-bench [options] [Google Benchmark flags]

Options:
  --scratch DIR          existing writable directory for the scratch area
                         (a subdirectory diobench-bench-<pid>, removed at
                         exit); default $DIOBENCH_BENCH_SCRATCH or /var/tmp
  --file-size MIB        size of the large data file (cold, O_DIRECT, loop,
                         io_uring drivers; ceiling fallback), default 1024,
                         at least 64
  --ceiling-device PATH  measure the O_DIRECT read ceiling on PATH (opened
                         read-only) instead of the block device under the
                         scratch directory; no fallback if it cannot be read
  --force-unsafe         attach loop devices even where the crash guard
                         refuses them (OpenZFS 2.3.0 under the scratch
                         directory: the host crashes); never the default
  -h, --help             this text, then Google Benchmark's flags

Defaults that differ from Google Benchmark's (override them on the command
line): --benchmark_repetitions=9 --benchmark_enable_random_interleaving=true

Exit status: 0 success, 1 a driver reported an error, 2 bad usage or an
unusable scratch directory.
)";

void PrintHelp() {
  std::fputs(kUsageText, stdout);
  std::fputs("\nGoogle Benchmark flags:\n", stdout);
  benchmark::PrintDefaultHelp();
}

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "diobench-bench: %s (see --help)\n", message.c_str());
  std::exit(kUsage);
}

// Takes --name VALUE / --name=VALUE out of argv. Returns true if found.
bool TakeOption(std::vector<char*>& args, std::size_t& i, std::string_view name,
                std::string* value) {
  const std::string_view arg = args[i];
  if (arg == name) {
    if (i + 1 >= args.size()) UsageError(std::string(name) + " needs a value");
    *value = args[i + 1];
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
               args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    return true;
  }
  if (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=') {
    *value = std::string(arg.substr(name.size() + 1));
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
    return true;
  }
  return false;
}

WorkspaceOptions ParseOurOptions(std::vector<char*>& args) {
  WorkspaceOptions options;
  if (const char* env = std::getenv(kScratchEnv); env && *env) {
    options.scratch_parent = env;
  }
  std::string value;
  for (std::size_t i = 1; i < args.size();) {
    const std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      PrintHelp();
      std::exit(kOk);
    }
    if (TakeOption(args, i, "--scratch", &value)) {
      if (value.empty()) UsageError("--scratch needs a directory");
      options.scratch_parent = value;
    } else if (TakeOption(args, i, "--file-size", &value)) {
      char* end = nullptr;
      errno = 0;
      const unsigned long long mib = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno != 0 || mib < kMinFileMiB ||
          mib > (std::uint64_t{1} << 24)) {
        UsageError("--file-size '" + value +
                   "' is not a whole number of MiB"
                   " from " +
                   std::to_string(kMinFileMiB));
      }
      options.data_bytes = mib * kMiB;
    } else if (arg == "--force-unsafe") {
      options.force_unsafe = true;
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (TakeOption(args, i, "--ceiling-device", &value)) {
      if (value.empty()) UsageError("--ceiling-device needs a path");
      options.ceiling_device = value;
    } else {
      ++i;
    }
  }
  return options;
}

// The scratch parent must already exist: creating directories where the
// user mistyped a path is not our call. Exits with a message on failure.
void ValidateScratch(const WorkspaceOptions& options) {
  const std::string& dir = options.scratch_parent;
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "diobench-bench: scratch directory %s: %s\n", dir.c_str(), why.c_str());
    std::exit(kUsage);
  };
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0) fail(std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) fail(std::strerror(ENOTDIR));
  struct statvfs vfs {};
  if (statvfs(dir.c_str(), &vfs) != 0) fail(std::strerror(errno));
  if ((vfs.f_flag & ST_RDONLY) != 0) fail(std::strerror(EROFS));
  if (access(dir.c_str(), W_OK | X_OK) != 0) fail(std::strerror(errno));
  const std::uint64_t needed =
      options.data_bytes + diobench::bench::Workspace::HotBytes(options.data_bytes) +
      diobench::bench::Workspace::WriteBytes(options.data_bytes) + 64 * kMiB;
  const std::uint64_t available = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (available < needed) {
    fail("needs " + std::to_string(needed / kMiB) + " MiB free, has " +
         std::to_string(available / kMiB) + " MiB (try a smaller --file-size)");
  }
}

// Recorded beside the results, as OpenZFS's perf tests do with config.json.
void AddContext(const WorkspaceOptions& options, const diobench::bench::Workspace& workspace) {
  benchmark::AddCustomContext("diobench_version", diobench::kVersion);
  utsname uts{};
  if (uname(&uts) == 0) benchmark::AddCustomContext("kernel", uts.release);
  benchmark::AddCustomContext("scratch", workspace.dir());
  try {
    const diobench::TargetInfo info = diobench::probe_target(workspace.dir());
    benchmark::AddCustomContext("scratch_fs", info.fs_type);
    benchmark::AddCustomContext("scratch_source", info.fs_source);
  } catch (const std::exception& e) {
    benchmark::AddCustomContext("scratch_fs", std::string("unknown: ") + e.what());
  }
  benchmark::AddCustomContext("data_file_mib", std::to_string(options.data_bytes / kMiB));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  const WorkspaceOptions options = ParseOurOptions(args);

  static char repetitions[] = "--benchmark_repetitions=9";
  static char interleaving[] = "--benchmark_enable_random_interleaving=true";
  args.insert(args.begin() + 1, {repetitions, interleaving});
  int bench_argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&bench_argc, args.data(), PrintHelp);
  if (bench_argc > 1) {
    for (int i = 1; i < bench_argc; ++i) {
      std::fprintf(stderr, "diobench-bench: unknown argument '%s'\n",
                   args[static_cast<std::size_t>(i)]);
    }
    UsageError("unknown arguments");
  }

  ValidateScratch(options);
  diobench::bench::InstallInterruptHandlers();
  try {
    diobench::bench::SetUpWorkspace(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "diobench-bench: %s\n", e.what());
    return kUsage;
  }
  AddContext(options, diobench::bench::TheWorkspace());

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  diobench::bench::TearDownWorkspace();

  if (const int sig = diobench::bench::InterruptSignal(); sig != 0) {
    // Die of the signal, so the caller (a shell, CTest) sees why we ended.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
  return diobench::bench::FailedRuns() > 0 ? kFailed : kOk;
}
