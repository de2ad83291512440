// diobench run: a profile's matrix, its options checked, the plan
// (--dry-run) or the run itself and its outcome.
#include <ctime>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "diobench/reports/run_data.hpp"
#include "diobench/reports/verdict.hpp"
#include "diobench/runner/decision.hpp"
#include "diobench/runner/fleet.hpp"
#include "diobench/runner/interrupt.hpp"
#include "diobench/runner/profile.hpp"
#include "diobench/runner/run.hpp"

namespace diobench::cli {
namespace {

std::string default_run_dir() {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", std::gmtime(&now));
  return std::string("/var/tmp/diobench-runs/") + stamp;
}

std::string profiles_dir() {
  // Beside the source tree's profiles/ (the binary lives in build/).
  for (const fs::path& candidate :
       {fs::path(self_dir()) / ".." / "profiles", fs::path(DIOBENCH_SOURCE_DIR) / "profiles"}) {
    if (fs::exists(candidate / "smoke.ini")) return fs::canonical(candidate).string();
  }
  return "profiles";
}

// A profile by path, or by name from the shipped ones ("quick").
std::string resolve_profile(const std::string& given) {
  if (given.find('/') != std::string::npos || fs::exists(given)) return given;
  const fs::path shipped =
      fs::path(profiles_dir()) / (given + (fs::path(given).has_extension() ? "" : ".ini"));
  if (fs::exists(shipped)) return shipped.string();
  throw UsageError("invalid --profile value '" + given +
                   "': no such file, and no shipped profile of that name in " + profiles_dir());
}

// The verdict as `run --until-decided` sees it: the reports library's,
// over the run directory as it stands. The runner asks; it does not link
// the reports itself.
diobench::DecisionState verdict_state(const std::string& dir, double threshold) {
  const diobench::RunData run = diobench::load_run(dir);
  diobench::DecisionState state;
  for (const diobench::Comparison& c : diobench::compute_verdict(run, threshold, run.seed)) {
    if (c.outcome == diobench::Outcome::Pass || c.outcome == diobench::Outcome::Fail ||
        c.outcome == diobench::Outcome::Crash) {
      ++state.decided;
      continue;
    }
    state.open.push_back({c.workload + ", " + c.kind + ", " + c.metric, c.subject, c.reference,
                          c.repetitions_to_decide, c.note});
  }
  return state;
}

// --until-decided and its limits, checked (exit 2 naming a bad value).
void decision_options(const po::variables_map& vm, diobench::RunOptions& o) {
  o.until_decided = vm.count("until-decided") > 0;
  if (!o.until_decided && o.resume == false &&
      (vm.count("budget") || vm.count("max-repetitions") || vm.count("threshold"))) {
    throw UsageError("--budget, --max-repetitions and --threshold go with --until-decided");
  }
  if (vm.count("budget")) {
    const std::string b = vm["budget"].as<std::string>();
    o.budget_s = diobench::parse_duration(b);
    if (!o.budget_s)
      throw UsageError("invalid --budget value '" + b + "' (a duration: 900, 900s, 15m, 1h30m)");
  }
  if (vm.count("max-repetitions")) {
    const unsigned n = vm["max-repetitions"].as<unsigned>();
    if (n == 0 || n > 1000) {
      throw UsageError("invalid --max-repetitions value '" + std::to_string(n) + "' (1 to 1000)");
    }
    o.max_repetitions = n;
  }
  if (vm.count("threshold")) {
    const double t = vm["threshold"].as<double>();
    if (!(t > 0 && t < 100)) {
      throw UsageError("invalid --threshold value '" + std::to_string(t) +
                       "' (a percentage between 0 and 100)");
    }
    o.threshold = t / 100;
  }
  o.decider = verdict_state;
}

// What `diobench run` was given, before it is checked.
struct RunArgs {
  std::string profile, backend, dir, dataset, out, resume;
  unsigned repetitions = 0;
  std::uint64_t seed = 0;
  std::vector<std::string> filters;
  std::vector<std::string> hosts;
  std::string ssh;
};

po::options_description run_description(RunArgs& a) {
  po::options_description desc(
      "Usage: diobench run [options]\n\n"
      "Runs a profile's matrix (every policy x target x loop_dio x workload it lists)\n"
      "with the diobench fio engine: repetitions in random order (recorded seed),\n"
      "each on a target whose cache was dropped and checked, stored in a run\n"
      "directory (raw fio JSON, engine counters, results.db). Loop cells need root;\n"
      "without it they are skipped. Ctrl-C stops after the current repetition and\n"
      "cleans up; `diobench restore` undoes what a killed run left.\n\nOptions");
  desc.add_options()("help,h", "this text")(
      "profile", po::value(&a.profile)->default_value("smoke"),
      "profile file, or the name of a shipped one: smoke, quick, full, fallback-cost, capacity")(
      "backend", po::value(&a.backend)->default_value("emulated"), "emulated or zfs")(
      "dir", po::value(&a.dir)->default_value("/var/tmp/diobench"),
      "scratch area for the emulated backend (created with an ownership marker; only its own files "
      "are touched)")(
      "dataset", po::value(&a.dataset),
      "POOL/DATASET for the zfs backend: the run creates a child of it to work in "
      "(POOL/DATASET/diobench-<random>, inheriting its properties), sets direct= there and "
      "destroys it at the end; the dataset itself is not changed")(
      "in-place",
      "zfs backend: work in --dataset itself, setting its direct= per repetition and "
      "back at the end, instead of in a child dataset")(
      "out", po::value(&a.out),
      "run directory to create (default: /var/tmp/diobench-runs/<UTC time>)")(
      "repetitions", po::value(&a.repetitions), "repetitions per cell (overrides the profile)")(
      "seed", po::value(&a.seed),
      "seed of the repetition order (default: the profile's, else random)")(
      "filter", po::value(&a.filters)->composing(),
      "AXIS=VALUE: keep only matching cells; repeatable (same axis: any of the values). "
      "Axes: backend policy target loop_dio app_direct submit semantics recordsize workload rw bs "
      "iodepth numjobs rwmixread")(
      "dry-run",
      "print the expanded matrix, the cell count and the estimated duration; run nothing")(
      "json", "with --dry-run: the cells as a JSON array, every axis a key")(
      "resume", po::value(&a.resume),
      "RUNDIR: finish an interrupted run (its finished repetitions are kept)")(
      "force-unsafe",
      "run loop cells known to crash this host's OpenZFS (2.3.0) or hang it (O_DIRECT writes over "
      "512 KiB before 2.3.3); never the default")(
      "arc-drop", po::value<std::string>()->default_value("auto"),
      "zfs backend: empty the ARC before each repetition: auto (zpool export + import of the pool "
      "where it allows it: no other mounted dataset, the run directory elsewhere; refused with the "
      "reason where it does not), export (the same without those checks: you vouch the pool is "
      "dedicated to benchmarking), or none (opt out: a repetition may be served by the ARC; the "
      "run's system information says so)")(
      "bench", po::value<std::string>(),
      "the Google Benchmark drivers after the matrix: none, all, or a filter over their names "
      "(e.g. 'bs:4096/'); overrides the profile's [bench] drivers")(
      "until-decided",
      "after the base repetitions, add repetitions (in batches, the two cells of each comparison "
      "interleaved in random order) to the cells of the verdict's undecided comparisons until "
      "every one is PASS, FAIL or CRASH, or the budget or the cap is reached; then name what is "
      "still open and what it would take. --resume continues the decision")(
      "budget", po::value<std::string>(),
      "with --until-decided: the run time allowed, base repetitions included (900, 900s, 15m, "
      "1h30m; default: the profile's budget). With --resume: a new budget for the whole run, "
      "its earlier invocations' time included (64m after 44m used allows 20 more)")(
      "max-repetitions", po::value<unsigned>(),
      "with --until-decided: at most N repetitions per cell (default: the profile's "
      "max_repetitions). With --resume: a new cap")(
      "host", po::value(&a.hosts)->composing(),
      "HOST[:PORT] or [IPV6-ADDR][:PORT]: run every repetition on this fio server too, all "
      "hosts at once through one fio --client (repeatable; overrides the profile's [hosts]; "
      "port default 8765). Each host needs `fio --server` (for IPv6: fio "
      "--server=ip6:ADDR), sshd and diobench at this same path; its scratch area is --dir")(
      "ssh", po::value(&a.ssh),
      "the command that reaches a fleet host for its set-up, as words (default: ssh -o "
      "BatchMode=yes); e.g. 'ssh -F FILE'. ssh itself shares one connection per host for the "
      "run (ControlMaster); '-o ControlMaster=no' in it turns that off")(
      "threshold", po::value<double>(),
      "with --until-decided: the verdict's cost threshold, in percent (default 5, as diobench "
      "report)");
  return desc;
}

// The run's options from the command line, every value checked (exit 2
// naming a bad one).
diobench::RunOptions run_options(const po::variables_map& vm, const RunArgs& a) {
  if (a.backend != "emulated" && a.backend != "zfs") {
    throw UsageError("invalid --backend value '" + a.backend + "' (expected emulated or zfs)");
  }
  if (a.backend == "zfs" && a.dataset.empty() && a.resume.empty()) {
    throw UsageError("--backend zfs needs --dataset POOL/DATASET");
  }
  if (vm.count("repetitions") && a.repetitions == 0) {
    throw UsageError("invalid --repetitions value '0' (at least 1)");
  }
  if (vm.count("json") && !vm.count("dry-run")) throw UsageError("--json goes with --dry-run");
  if (!a.resume.empty() &&
      (vm.count("out") || vm.count("filter") || vm.count("bench") || !vm["arc-drop"].defaulted() ||
       vm.count("until-decided") || vm.count("threshold") || !vm["profile"].defaulted() ||
       vm.count("host") || vm.count("ssh"))) {
    throw UsageError(
        "--resume takes the run's own profile, filters, decision and output directory "
        "(only --budget and --max-repetitions may change)");
  }

  diobench::RunOptions o;
  o.backend = a.backend;
  o.scratch_dir = a.dir;
  o.dataset = a.dataset;
  o.filters = a.filters;
  o.hosts = a.hosts;
  o.ssh = a.ssh;
  if (vm.count("ssh")) diobench::HostShell::split_command(a.ssh);  // exit 2 when empty
  if (vm.count("repetitions")) o.repetitions = a.repetitions;
  if (vm.count("seed")) o.seed = a.seed;
  o.force_unsafe = vm.count("force-unsafe") > 0;
  o.arc_drop = vm["arc-drop"].as<std::string>();
  if (o.arc_drop != "auto" && o.arc_drop != "none" && o.arc_drop != "export") {
    throw UsageError("invalid --arc-drop value '" + o.arc_drop +
                     "' (expected auto, none or export)");
  }
  o.in_place = vm.count("in-place") > 0;
  if (o.in_place && (a.backend != "zfs" || !a.resume.empty())) {
    throw UsageError("--in-place goes with --backend zfs (and a resumed run keeps its own choice)");
  }
  if (!vm["arc-drop"].defaulted() && a.backend != "zfs" && a.resume.empty()) {
    throw UsageError("--arc-drop goes with --backend zfs");
  }
  if (vm.count("bench")) {
    o.bench_drivers = vm["bench"].as<std::string>();
    if (!diobench::BenchSettings::valid_drivers(*o.bench_drivers)) {
      throw UsageError("invalid --bench value '" + *o.bench_drivers +
                       "' (none, all, or a regular expression over driver names)");
    }
  }
  o.resume = !a.resume.empty();
  decision_options(vm, o);
  o.out_dir = o.resume ? a.resume : a.out.empty() ? default_run_dir() : a.out;
  if (!o.resume) o.profile_path = resolve_profile(a.profile);
  return o;
}

// --dry-run: the cells, their count and the estimated time (or the cells
// as JSON).
int print_plan(const diobench::RunOptions& o, bool json) {
  const diobench::Profile p = diobench::plan_run(o);
  if (json) {
    nlohmann::json cells = nlohmann::json::array();
    for (const auto& c : p.cells) {
      nlohmann::json j = c.axes();
      j["name"] = c.name();
      cells.push_back(j);
    }
    std::cout << cells.dump(2) << "\n";
    return kOk;
  }
  for (std::size_t i = 0; i < p.cells.size(); ++i) {
    std::cout << i + 1 << "  " << p.cells[i].name() << "\n";
  }
  if (!p.hosts.empty()) {
    std::cout << "\non " << p.hosts.size() << " hosts at once (one fio --client per repetition): ";
    for (const auto& h : diobench::parse_host_specs(p.hosts)) std::cout << h.label() << " ";
    std::cout << "\n"
              << p.cells.size() << " cells x " << p.hosts.size()
              << " hosts = " << p.cells.size() * p.hosts.size()
              << " host cells, each stored per host and as fio's sum over the hosts\n";
  }
  const double s = p.estimated_seconds(p.cells.size(), p.repetitions);
  std::cout << "\n"
            << p.cells.size() << " cells x " << p.repetitions
            << " repetitions = " << p.cells.size() * p.repetitions << " fio runs of " << p.ramp_s
            << " s ramp + " << p.runtime_s << " s; estimated " << static_cast<long>(s / 60)
            << " min " << static_cast<long>(s) % 60 << " s\n";
  if (o.until_decided) {
    std::cout << "then, until decided: repetitions added to the undecided comparisons' cells "
                 "within a budget of "
              << diobench::format_duration(p.budget_s) << " for the whole run, at most "
              << p.max_repetitions << " per cell\n";
  }
  if (p.bench.enabled()) {
    std::cout << "then the bench drivers '" << p.bench.drivers << "' (" << p.bench.repetitions
              << " repetitions x " << p.bench.min_time_s
              << " s each; all of them take about 8 min here, see bench/README.md)\n";
  }
  return kOk;
}

// The counts on stderr, and the exit status: 128 + the signal when
// interrupted, 1 when stopped early or something failed.
int report_outcome(const diobench::RunOutcome& r, const diobench::RunOptions& o) {
  std::cerr << r.ok << " repetitions ok, " << r.failed << " failed, " << r.skipped << " skipped";
  if (o.until_decided || r.decided + r.open > 0) {
    std::cerr << "; " << r.decided << " comparisons decided, " << r.open << " open";
  }
  if (r.interrupted) {
    std::cerr << ", " << r.left << " not run: interrupted; scratch files and loop devices "
              << "removed; finish with: diobench run --resume " << o.out_dir << "\n";
    return 128 + r.signal;
  }
  if (!r.stopped.empty()) {
    std::cerr << ", " << r.left << " not run: stopped: " << r.stopped
              << "; the repetitions finished before it are kept; free space, then: diobench run "
                 "--resume "
              << o.out_dir << "\n";
    return kFailed;
  }
  std::cerr << "\n";
  return r.failed || r.bench_failed() ? kFailed : kOk;
}

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  RunArgs a;
  const po::options_description desc = run_description(a);
  const po::variables_map vm = parse("run", desc, args);
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return kOk;
  }
  try {
    diobench::RunOptions o = run_options(vm, a);
    if (vm.count("dry-run")) return print_plan(o, vm.count("json") > 0);
    o.engine_path = engine_path();
    o.bench_path = (fs::path(self_dir()) / "bench" / "diobench-bench").string();
    o.diobench_path = (fs::path(self_dir()) / "diobench").string();
    diobench::InterruptGuard interrupts;
    return report_outcome(diobench::execute_run(o, std::cout, std::cerr), o);
  } catch (const diobench::ProfileError& e) {
    throw UsageError(e.what());
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

}  // namespace diobench::cli
