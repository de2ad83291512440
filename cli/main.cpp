// diobench: the command line. One binary, one subcommand per job.
//
// Exit status (docs/design.md §14): 0 success, 1 a failed benchmark, 2 bad usage
// or bad input, with a message naming the offending value.
//
// The commands themselves: run_command.cpp (run), machine_commands.cpp
// (restore, host, crashed), reading_commands.cpp (report, check, compare,
// bench-table, engine-path); common.hpp has what they share.
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "diobench/version.hpp"

namespace {

const char* kOverview = R"(diobench - does OpenZFS's Direct I/O fallback path cost little?

Usage: diobench <command> [options]

Commands:
  run           run a profile's matrix (policy x target x loop dio x workload)
                with the diobench fio engine; stores a run directory and
                prints a table (`diobench run --help`)
  restore       undo what an interrupted run left (loop devices, scratch files,
                dataset properties, an exported pool)
  host          a fleet run's set-up on one of its hosts (asked over ssh by
                `diobench run --host`; `diobench host --help`)
  crashed       record that the machine died during a run's current repetition
                (the qemu lane calls it with the guest's serial console)
  report        statistics, the verdict and findings of a run (cells.csv, report.md,
                index.html; with the run's Google Benchmark results when it has them)
  check         a finished zfs run held against the policy model: per cell the
                predicted path split against the pool's iostats, and the run's
                facts (ARC flushed, iostats agreeing); exit 1 on a contradiction
  compare       two runs cell by cell: path changes, crashes, changes with intervals
  bench-table   the per-request cost table from a diobench-bench JSON file
  engine-path   print the absolute path of the fio engine, for your own jobs:
                  fio --ioengine=external:$(diobench engine-path) --policy=always ...

Options:
  -h, --help     this text; `diobench <command> --help` for a command's options
  -V, --version  print the version

Exit status: 0 success, 1 a benchmark failed, 2 bad usage or input.
)";

}  // namespace

namespace cli = diobench::cli;

int main(int argc, char** argv) {
  const std::vector<std::string> all(argv + 1, argv + argc);
  try {
    if (all.empty()) {
      std::cerr << kOverview;
      return cli::kUsage;
    }
    const std::string& command = all.front();
    const std::vector<std::string> rest(all.begin() + 1, all.end());
    if (command == "-h" || command == "--help" || command == "help") {
      std::cout << kOverview;
      return cli::kOk;
    }
    if (command == "-V" || command == "--version") {
      std::cout << "diobench " << diobench::kVersion << "\n";
      return cli::kOk;
    }
    if (command == "engine-path") return cli::cmd_engine_path(rest);
    if (command == "run") return cli::cmd_run(rest);
    if (command == "restore") return cli::cmd_restore(rest);
    if (command == "crashed") return cli::cmd_crashed(rest);
    if (command == "host") return cli::cmd_host(rest);
    if (command == "report") return cli::cmd_report(rest);
    if (command == "check") return cli::cmd_check(rest);
    if (command == "compare") return cli::cmd_compare(rest);
    if (command == "bench-table") return cli::cmd_bench_table(rest);
    throw cli::UsageError("unknown command '" + command + "' (see: diobench --help)");
  } catch (const cli::UsageError& e) {
    std::cerr << "diobench: " << e.what() << "\n";
    return cli::kUsage;
  } catch (const std::exception& e) {
    std::cerr << "diobench: " << e.what() << "\n";
    return cli::kFailed;
  }
}
