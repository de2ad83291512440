// The commands that read what runs stored: report, check, compare,
// bench-table, and engine-path.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "diobench/check/check.hpp"
#include "diobench/check/path_judgement.hpp"
#include "diobench/reports/bench_results.hpp"
#include "diobench/reports/compare.hpp"
#include "diobench/reports/document.hpp"
#include "diobench/reports/plots.hpp"
#include "diobench/reports/report.hpp"
#include "diobench/reports/run_data.hpp"
#include "diobench/reports/versions.hpp"
#include "diobench/units.hpp"

namespace diobench::cli {

int cmd_engine_path(const std::vector<std::string>& args) {
  po::options_description desc(
      "Usage: diobench engine-path\n\nPrints the absolute path of the fio engine.\n\nOptions");
  desc.add_options()("help,h", "this text");
  const po::variables_map vm = parse("engine-path", desc, args);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kOk;
  }
  std::cout << engine_path() << "\n";
  return kOk;
}

int cmd_report(const std::vector<std::string>& args) {
  std::string dir, out;
  double threshold_pct = 5;
  po::options_description desc(
      "Usage: diobench report RUNDIR [--out DIR] [--threshold PCT]\n\n"
      "Per-cell statistics (median, mean, 95% bootstrap interval, CV, latency\n"
      "percentiles), the verdict (loop tax and degradation cost of each fallback-path\n"
      "cell, PASS / FAIL / INCONCLUSIVE), amplification findings and the run's system\n"
      "information: cells.csv and report.md in DIR, the verdict on stdout. Cells\n"
      "during which the qemu guest crashed show CRASH with the console excerpt.\n"
      "With RUNDIR/bench/bench.json (Google Benchmark drivers): the per-request\n"
      "cost table, a table per driver family, and each fio read cell as a fraction\n"
      "of its device ceiling. A run with RUNDIR/zfsvm.json on an emulated CPU (TCG)\n"
      "carries a banner saying so. A fleet run (diobench run --host): the answer,\n"
      "the verdict and the cells are fio's sums over the hosts; a section Hosts (and\n"
      "hosts.csv) has each host's cells and the spread between the hosts per cell.\n\nOptions");
  desc.add_options()("help,h", "this text")("rundir", po::value(&dir), "the run directory")(
      "out", po::value(&out), "where to write (default: RUNDIR/report)")(
      "threshold", po::value(&threshold_pct)->default_value(5),
      "cost threshold of the verdict, in percent");
  const po::variables_map vm = parse("report", desc, args, "rundir", 1);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kOk;
  }
  if (dir.empty()) throw UsageError("report needs a run directory (see: diobench report --help)");
  if (!(threshold_pct > 0 && threshold_pct < 100)) {
    throw UsageError("invalid --threshold value '" + std::to_string(threshold_pct) +
                     "' (a percentage between 0 and 100)");
  }
  if (out.empty()) out = (fs::path(dir) / "report").string();
  try {
    const diobench::RunData run = diobench::load_run(dir);
    const double threshold = threshold_pct / 100;
    const auto verdict = diobench::compute_verdict(run, threshold, run.seed);
    const auto cells = diobench::summarize(run, run.seed);
    const diobench::Figures figures = diobench::draw_figures(cells, out);
    if (!figures.gnuplot_errors.empty()) {
      std::cerr << "diobench: gnuplot reported:\n" << figures.gnuplot_errors;
    }
    diobench::write_report(run, cells, verdict, threshold, figures.figures, figures.omitted, out);
    if (!run.bench_problem.empty()) std::cerr << "diobench: warning: " << run.bench_problem << "\n";
    diobench::print_verdict(run, verdict, threshold, std::cout);
    std::cout << "\nreport: " << (fs::path(out) / "index.html").string() << " and report.md\n";
  } catch (const diobench::ReportError& e) {
    throw UsageError(e.what());
  }
  return kOk;
}

int cmd_check(const std::vector<std::string>& args) {
  std::string dir;
  po::options_description desc(
      std::string("Usage: diobench check DIR\n\n"
                  "Holds a finished run on real ZFS against the policy model. DIR is a run\n"
                  "directory of `diobench run --backend zfs` (results.db) or a lane test\n"
                  "directory (cells/*/, as `scripts/zfs-vm test` collects it). For every cell\n"
                  "and direction: the model's route for the cell's requests (a loop cell: what\n"
                  "the loop driver hands the file below) against the bytes the pool's iostats\n"
                  "counted on the direct path and through the ARC, in every repetition. For a\n"
                  "run directory also the runner's facts: every repetition ok, the runner's own\n"
                  "split check agreeing, no direct read served by a warm ARC, the ARC flushed\n"
                  "before each repetition (each flush leaves under 4 MiB or 10% of what came in\n"
                  "since the previous one) and its residue bounded over the run (at most the\n"
                  "larger of 16 MiB and 10% of all that came in).\n\n") +
      diobench::kToleranceText +
      ".\n\nPrints a table (cell, predicted split, observed bytes, OK / MISMATCH / ERROR)\n"
      "and the facts; writes nothing. Exit 0 when all agree, 1 on a contradiction (named),\n"
      "2 on bad input (not a run directory, a damaged results.db, ...).\n\nOptions");
  desc.add_options()("help,h", "this text")("dir", po::value(&dir), "the directory to judge");
  const po::variables_map vm = parse("check", desc, args, "dir", 1);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kOk;
  }
  if (dir.empty()) throw UsageError("check needs a directory (see: diobench check --help)");
  try {
    const diobench::CheckResult result = diobench::check_directory(dir);
    diobench::print_check(result, std::cout);
    return result.passed() ? kOk : kFailed;
  } catch (const diobench::CheckInputError& e) {
    throw UsageError(e.what());
  }
}

namespace {

// diobench check's result for the side-by-side view, or why there is none.
std::optional<diobench::CheckResult> checked(const std::string& dir, std::string* problem) {
  try {
    return diobench::check_run_directory(dir);
  } catch (const std::exception& e) {
    *problem = e.what();
    return std::nullopt;
  }
}

int compare_side_by_side(const std::vector<std::string>& dirs, const std::string& format) {
  if (format == "csv") {
    throw UsageError("invalid --format value 'csv' with more than two runs (md or json)");
  }
  std::vector<diobench::RunData> runs;
  std::vector<std::optional<diobench::CheckResult>> checks;
  std::vector<std::string> problems;
  for (const std::string& d : dirs) {
    runs.push_back(diobench::load_run(d));
    problems.emplace_back();
    checks.push_back(checked(d, &problems.back()));
  }
  const diobench::VersionMatrix m = diobench::side_by_side(runs, checks, problems);
  diobench::write_side_by_side(m, runs, format, std::cout);
  return kOk;
}

// Two runs, or two hosts of one fleet run, compared cell by cell.
void compare_two(const diobench::RunData& a, const diobench::RunData& b,
                 const std::string& format) {
  const diobench::RunComparison c = diobench::compare_runs(a, b);
  diobench::write_comparison(c, a, b, format, std::cout);
  // The CSV is a table: its warnings go beside it.
  if (format == "csv") {
    for (const std::string& w : c.warnings) std::cerr << "diobench: warning: " << w << "\n";
  }
}

// `compare RUNDIR --host A --host B`: the two hosts' own rows as the two sides.
int compare_hosts(const std::vector<std::string>& dirs, const std::vector<std::string>& hosts,
                  bool side_by_side, const std::string& format) {
  if (dirs.size() != 1 || side_by_side) {
    throw UsageError(
        "--host compares two hosts of one fleet run: give one run directory (see: diobench "
        "compare --help)");
  }
  if (hosts.size() != 2) {
    const std::string times = hosts.size() == 1 ? "once" : std::to_string(hosts.size()) + " times";
    throw UsageError("--host given " + times + ": compare takes two hosts, --host A --host B");
  }
  const diobench::RunData a = diobench::load_host_view(dirs[0], hosts[0]);
  const diobench::RunData b = diobench::load_host_view(dirs[0], hosts[1]);
  if (a.host == b.host) {
    throw UsageError("--host '" + hosts[1] + "' is host " + a.host +
                     " again: compare two different hosts");
  }
  compare_two(a, b, format);
  return kOk;
}

}  // namespace

int cmd_compare(const std::vector<std::string>& args) {
  std::vector<std::string> dirs, hosts;
  std::string format;
  po::options_description desc(
      "Usage: diobench compare RUN_A RUN_B [--format md|csv|json]\n"
      "       diobench compare RUN_1 RUN_2 RUN_3 ... [--format md|json]\n"
      "       diobench compare --side-by-side RUN_1 RUN_2 [--format md|json]\n"
      "       diobench compare RUNDIR --host A --host B [--format md|csv|json]\n\n"
      "Two runs: before/after a patch, or host A against host B. First the cells whose\n"
      "path changed (zfs backend: the pool's bytes per direction, direct / ARC / mixed /\n"
      "none as diobench check classes them), then the cells during which the qemu\n"
      "guest crashed (in either run: listed apart, not compared), then for every\n"
      "cell measured in both runs the change of B against A in throughput and p99\n"
      "latency (medians) with its 95% rank interval and a two-sided Mann-Whitney U\n"
      "p-value (weak under 9 repetitions a side: flagged), how many changes are\n"
      "decided against how many chance would give, the geometric mean of the\n"
      "changes, the bytes that reached the pool per byte asked on both sides, and\n"
      "the verdict of each run. A run on an emulated CPU (TCG), or two runs on\n"
      "different accelerators, are warned about.\n\n"
      "Three runs or more (or --side-by-side): one column per run, e.g. the same\n"
      "profile on several guest images of the version matrix (scripts/zfs-vm): each\n"
      "run's kernel and OpenZFS, the cells that crashed the guest, whether the\n"
      "policy model's path table held (diobench check on each run), the path each\n"
      "cell took, the amplification, and the verdict of each run. Throughput is not\n"
      "set side by side: runs in different guests are not comparable.\n\n"
      "A fleet run (diobench run --host) and --host twice: host A against host B\n"
      "of that run, each host's own rows as a side (not fio's sum), with the same\n"
      "output as two runs. A host is named as the run stored it (HOST:PORT) or by\n"
      "its name alone; one the run does not have is refused with its hosts.\n\nOptions");
  desc.add_options()("help,h", "this text")("format", po::value(&format)->default_value("md"),
                                            "md, csv (two runs) or json")(
      "side-by-side", "one column per run, also for two runs")(
      "host", po::value(&hosts), "a host of the fleet run RUNDIR, twice: host A, then host B")(
      "run", po::value(&dirs), "the runs");
  const po::variables_map vm = parse("compare", desc, args, "run", -1);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kOk;
  }
  const bool side_by_side = vm.count("side-by-side") > 0 || dirs.size() > 2;
  if (format != "md" && format != "csv" && format != "json") {
    throw UsageError("invalid --format value '" + format + "' (expected md, csv or json)");
  }
  try {
    if (!hosts.empty()) return compare_hosts(dirs, hosts, vm.count("side-by-side") > 0, format);
    if (dirs.size() < 2)
      throw UsageError("compare needs two run directories or more (see: diobench compare --help)");
    if (side_by_side) return compare_side_by_side(dirs, format);
    compare_two(diobench::load_run(dirs[0]), diobench::load_run(dirs[1]), format);
  } catch (const diobench::ReportError& e) {
    throw UsageError(e.what());
  }
  return kOk;
}

int cmd_bench_table(const std::vector<std::string>& args) {
  std::string file, bs_text;
  po::options_description desc(
      "Usage: diobench bench-table FILE.json [--bs BYTES] [--sizes] [--families]\n\n"
      "The per-request cost of each path from diobench-bench's JSON\n"
      "(--benchmark_out=FILE.json --benchmark_out_format=json), as Markdown on\n"
      "stdout: microseconds per request (median, order-statistic 95% interval of\n"
      "the median, min..max, median request p99), the fraction of its ceiling, the\n"
      "ceilings, and the comparisons as ratios of medians with bootstrap 95%\n"
      "intervals.\n\nOptions");
  desc.add_options()("help,h", "this text")("file", po::value(&file), "the JSON file")(
      "bs", po::value(&bs_text)->default_value("4096"),
      "block size of the table (4096, 4k, 64k, ...)")(
      "sizes", "also the comparisons at every other block size measured")(
      "families", "also a table per driver family with every instance");
  const po::variables_map vm = parse("bench-table", desc, args, "file", 1);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kOk;
  }
  if (file.empty())
    throw UsageError("bench-table needs a JSON file (see: diobench bench-table --help)");
  const auto bs = diobench::parse_size(bs_text);
  if (!bs || *bs == 0)
    throw UsageError("invalid --bs value '" + bs_text + "' (a block size, e.g. 4096 or 64k)");
  try {
    const diobench::BenchResults b = diobench::load_bench_results(file);
    std::cout << diobench::to_markdown(
        diobench::request_cost_document(b, *bs, vm.count("sizes") > 0));
    if (vm.count("families"))
      std::cout << diobench::to_markdown(diobench::driver_family_document(b, 2));
  } catch (const diobench::ReportError& e) {
    throw UsageError(e.what());
  }
  return kOk;
}

}  // namespace diobench::cli
