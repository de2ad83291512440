#include "diobench/runner/run.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <system_error>

#include "diobench/durable_file.hpp"
#include "diobench/loop_device.hpp"
#include "diobench/page_cache.hpp"
#include "diobench/runner/arc_check.hpp"
#include "diobench/runner/crash_record.hpp"
#include "diobench/runner/fio_process.hpp"
#include "diobench/runner/fleet_run.hpp"
#include "diobench/runner/interrupt.hpp"
#include "diobench/runner/journal.hpp"
#include "diobench/runner/plan_file.hpp"
#include "diobench/runner/property_override.hpp"
#include "diobench/runner/repetition_cost.hpp"
#include "diobench/runner/result_store.hpp"
#include "diobench/runner/safety.hpp"
#include "diobench/runner/system_info.hpp"
#include "diobench/runner/timing.hpp"
#include "diobench/runner/work_dataset.hpp"
#include "diobench/scratch.hpp"
#include "diobench/statistics.hpp"
#include "diobench/units.hpp"
#include "diobench/zfs.hpp"

namespace diobench {

namespace fs = std::filesystem;

namespace {

PathCounters read_counters(const std::string& file) {
  PathCounters total;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) total += parse_sidecar_line(line).counters;
  }
  return total;
}

// Everything a repetition needs that does not change between them.
struct Context {
  const Profile& profile;
  const RunOptions& options;
  std::string run_dir;
  std::string scratch_file;
  // Block devices under the scratch area: the one below the filesystem,
  // or on the zfs backend the pool's leaf vdevs.
  std::vector<std::string> storage_devices;
  Journal& journal;
  PropertyOverride* direct = nullptr;     // zfs backend: the dataset's direct=
  std::string pool;                       // zfs backend
  std::vector<std::string> pool_devices;  // zfs backend with --arc-drop export
};

// The failed outcome of a repetition, with the reason.
RepetitionRecord& failed(RepetitionRecord& rec, const std::string& why) {
  rec.status = "failed";
  rec.message = why;
  rec.finished = utc_timestamp();
  return rec;
}

// zfs backend: the ARC emptied before the repetition (a buffered read
// must come from the disk, as a page-cache hit must not), by exporting and
// importing the pool; before the loop device is attached, which would keep
// the pool busy. Returns why not, when the export failed.
std::optional<std::string> empty_arc(const Context& ctx, RepetitionRecord& rec) {
  if (!ctx.direct || ctx.options.arc_drop != "export") return std::nullopt;
  rec.arc_data_before = read_arc_data_size();
  if (auto why = empty_arc_by_export(ctx.journal, ctx.pool, ctx.pool_devices, ctx.scratch_file)) {
    return why;
  }
  rec.arc_data_after = read_arc_data_size();
  return std::nullopt;
}

// The loop device of a loop cell, detached (and the undo journaled)
// however the repetition ends.
class AttachedLoop {
 public:
  AttachedLoop(const Cell& cell, const Context& ctx) : ctx_(ctx) {
    if (cell.target != TargetKind::Loop) return;
    ctx.journal.loop_attaching(ctx.scratch_file);
    // Through the crash guard like every loop device (the dataset's direct
    // is already the cell's policy): it refuses what attempt() would have.
    loop_.emplace(attach_loop(
        ctx.scratch_file, LoopOptions{cell.loop_dio.value_or(false), 512, false},
        {{cell.workload.rw, cell.workload.bs, cell.app_direct}}, ctx.options.force_unsafe));
  }
  ~AttachedLoop() {
    if (loop_ && loop_->detach()) {
      try {
        ctx_.journal.loop_detached(ctx_.scratch_file);
      } catch (...) {  // restore will find it attached-and-gone: harmless
      }
    }
  }
  AttachedLoop(const AttachedLoop&) = delete;
  AttachedLoop& operator=(const AttachedLoop&) = delete;
  bool attached() const { return loop_.has_value(); }
  // What fio opens: the loop device, or the scratch file itself.
  std::string target() const { return loop_ ? loop_->path() : ctx_.scratch_file; }
  std::string name() const { return loop_ ? fs::path(loop_->path()).filename().string() : ""; }

 private:
  const Context& ctx_;
  std::optional<LoopDevice> loop_;
};

// fio with the engine, every parameter of the cell in its environment
// (profiles/job.fio reads them).
FioInvocation fio_invocation(const Cell& cell, const Context& ctx, const std::string& target,
                             const std::string& base, const std::string& counters) {
  const Profile& p = ctx.profile;
  FioInvocation fio;
  fio.log_file = base + ".log";
  for (const auto& [name, value] : job_values(cell, p, ctx.options.engine_path, target, counters)) {
    fio.env.push_back(name + "=" + value);
  }
  fio.args = {"--output-format=json+", p.job_template};
  fio.output_file = base + ".json";
  FioWork work;  // profiles/job.fio is time_based
  work.ramp_s = p.ramp_s;
  work.runtime_s = p.runtime_s;
  work.time_based = true;
  fio.timeout_s = fio_time_limit_s(work);
  return fio;
}

// What the layers below fio had counted before it started: the storage
// devices, the loop device, and on zfs the pool's iostats and the ARC's.
struct BelowFio {
  std::vector<std::optional<DeviceCounters>> storage;
  std::optional<DeviceCounters> loop;
  std::optional<PoolIoStats> pool, arc;
};

BelowFio read_below(const Context& ctx, const AttachedLoop& loop) {
  BelowFio b;
  for (const std::string& dev : ctx.storage_devices) b.storage.push_back(device_counters(dev));
  if (loop.attached()) b.loop = device_counters(loop.name());
  if (ctx.direct) {
    b.pool = read_pool_iostats(ctx.pool);
    b.arc = read_arc_stats();
  }
  return b;
}

// The deltas since `before` into the record; returns the pool's.
std::optional<PoolIoStats> record_below(const Context& ctx, const AttachedLoop& loop,
                                        const BelowFio& before, RepetitionRecord& rec) {
  if (before.arc) {
    if (const auto after = read_arc_stats()) rec.arcstats = arc_deltas(*before.arc, *after);
  }
  std::optional<PoolIoStats> pool_delta;
  if (before.pool) {
    if (const auto after = read_pool_iostats(ctx.pool)) {
      pool_delta = *after - *before.pool;
      rec.zfs_iostats = pool_delta->values;
    }
  }
  for (std::size_t i = 0; i < ctx.storage_devices.size(); ++i) {
    if (auto d = device_delta(ctx.storage_devices[i], "storage", before.storage[i])) {
      rec.devices.push_back(*d);
    }
  }
  if (loop.attached()) {
    if (auto d = device_delta(loop.name(), "loop", before.loop)) rec.devices.push_back(*d);
  }
  return pool_delta;
}

// fio's own results and the engine's counters into the record, and what
// the zfs backend checks against them.
RepetitionRecord& read_results(const FioExit& exit, const std::string& base,
                               const std::optional<PoolIoStats>& pool_delta,
                               RepetitionRecord& rec) {
  if (!exit.ok()) return failed(rec, "fio " + exit.reason + ": " + exit.log);
  try {
    rec.fio = read_fio_json(base + ".json");
    if (const int err = rec.fio->first_error()) {
      return failed(rec,
                    "fio reported error " + std::to_string(err) + " (" + std::strerror(err) + ")");
    }
    rec.counters = read_counters(base + ".counters.jsonl");
  } catch (const std::exception& e) {
    return failed(rec, e.what());
  }
  check_zfs_repetition(rec, pool_delta);
  rec.status = "ok";
  rec.finished = utc_timestamp();
  return rec;
}

RepetitionRecord run_repetition(const Cell& cell, unsigned rep, unsigned position,
                                const Context& ctx) {
  RepetitionRecord rec = starting_repetition(cell, rep, position);
  const std::string rel = raw_files_base(cell, rep);
  const std::string base = (fs::path(ctx.run_dir) / rel).string();
  fs::create_directories(fs::path(base).parent_path());

  const auto drop_start = Clock::now();
  if (const auto why = empty_arc(ctx, rec)) return failed(rec, *why);
  if (ctx.direct) ctx.direct->set(std::string(to_string(cell.policy)));
  const AttachedLoop loop(cell, ctx);
  std::uint64_t resident = drop_cached_pages(ctx.scratch_file);
  if (loop.attached()) resident += drop_cached_pages(loop.target());
  rec.cache_drop_ms = ms_since(drop_start);
  if (resident) {
    return failed(rec, std::to_string(resident) +
                           " pages of the target stayed in the page cache after the drop; "
                           "a repetition on a warm cache would not measure the path");
  }

  const std::string counters = base + ".counters.jsonl";
  fs::remove(counters);
  const BelowFio before = read_below(ctx, loop);
  const auto fio_start = Clock::now();
  const FioExit exit = run_fio(fio_invocation(cell, ctx, loop.target(), base, counters));
  rec.fio_ms = ms_since(fio_start);
  rec.cpu_busy_s = exit.cpu_busy_s;
  rec.cpu_window_s = exit.cpu_window_s;
  rec.fio_cpu_s = exit.child_cpu_s;
  // Buffered writes may still sit in a page cache (the loop device's own,
  // then the file's) when fio exits; what they move below belongs to this
  // repetition, so push them down before the counters are read. Outside
  // fio's measured time: the throughput stays what the writer saw.
  if (cell.workload.writes()) {
    sync_to_storage(loop.target());
    if (loop.attached()) sync_to_storage(ctx.scratch_file);
  }
  const std::optional<PoolIoStats> pool_delta = record_below(ctx, loop, before, rec);
  // fio's JSON is kept exactly as fio wrote it, under its final name only
  // once fio exited 0 (run_fio; a crash or a failed fio leaves a .partial).
  rec.fio_json = rel + ".json";
  rec.counters_file = rel + ".counters.jsonl";
  return read_results(exit, base, pool_delta, rec);
}

// A copy of the user's `from` kept in the run directory as `to`.
void copy_durably(const fs::path& from, const fs::path& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + from.string());
  std::ostringstream text;
  text << in.rdbuf();
  write_file_durably(to.string(), text.str());
}

void write_plan(const std::string& file, const PlanFile& p) {
  nlohmann::json j{{"backend", p.backend}, {"scratch_dir", p.scratch_dir}, {"dataset", p.dataset},
                   {"filters", p.filters}, {"repetitions", p.repetitions}, {"seed", p.seed},
                   {"bench", p.bench},     {"arc_drop", p.arc_drop}};
  if (!p.work_dataset.empty()) j["work_dataset"] = p.work_dataset;
  if (!p.hosts.empty()) {
    j["hosts"] = p.hosts;
    j["ssh"] = p.ssh;
  }
  if (p.until_decided) {
    j["until_decided"] = {{"budget_s", p.until_decided->budget_s},
                          {"max_repetitions", p.until_decided->max_repetitions},
                          {"threshold", p.until_decided->threshold}};
  }
  write_file_durably(file, j.dump(2) + "\n");
}

std::string duration_text(double seconds) { return format_duration(seconds); }

void print_summary(const std::vector<Cell>& cells,
                   const std::map<std::string, std::vector<RepetitionRecord>>& done,
                   std::ostream& out) {
  char line[320];
  std::snprintf(line, sizeof line, "%-22s %-9s %-13s %-4s %10s %10s %10s  %s\n", "workload",
                "policy", "target", "reps", "MiB/s", "IOPS", "p99 us", "path split (requests)");
  out << line;
  for (const Cell& c : cells) {
    const auto it = done.find(c.name());
    std::vector<double> bw, iops, p99;
    PathCounters split;
    std::string note;
    const Direction d = c.workload.reads() ? Direction::Read : Direction::Write;
    if (it != done.end()) {
      for (const RepetitionRecord& r : it->second) {
        if (r.status != "ok") {
          note = r.status + ": " + r.message.substr(0, 60);
          continue;
        }
        const DirectionResult& m =
            d == Direction::Read ? r.fio->jobs[0].read : r.fio->jobs[0].write;
        bw.push_back(m.bw_bytes / 1048576.0);
        iops.push_back(m.iops);
        p99.push_back(m.percentile_ns(99.0) / 1000.0);
        split += *r.counters;
      }
    }
    std::string s = split.shares(d);
    if (!note.empty()) s += " [" + note + "]";
    // A median as text, "-" when nothing was measured (rather than NaN).
    auto column = [](const std::vector<double>& v, int decimals) {
      if (v.empty()) return std::string("-");
      char text[32];
      std::snprintf(text, sizeof text, "%.*f", decimals, median(v));
      return std::string(text);
    };
    std::snprintf(line, sizeof line, "%-22s %-9s %-13s %-4zu %10s %10s %10s  %s\n",
                  c.workload.name.c_str(), std::string(to_string(c.policy)).c_str(),
                  c.target_label().c_str(), bw.size(), column(bw, 1).c_str(),
                  column(iops, 0).c_str(), column(p99, 1).c_str(), s.c_str());
    out << line;
  }
}

// The Google Benchmark drivers (bench/), once per run after the matrix, on
// the same scratch area (a directory of their own in it, journaled, so that
// `diobench restore` removes what a killed run left). Their JSON is kept as
// they wrote it; a run that already has it (resume) does not run them again.
std::string run_bench_drivers(const BenchSettings& bench, const RunOptions& o,
                              const fs::path& run_dir, ScratchArea& scratch, Journal& journal,
                              std::ostream& progress) {
  const fs::path out_dir = run_dir / "bench";
  const fs::path json = out_dir / "bench.json";
  if (fs::exists(json)) return "ok";
  if (InterruptGuard::requested()) return "";
  if (o.backend == "zfs") {
    progress << "bench drivers: skipped (they apply the policy themselves on the file system "
                "underneath; run them with the emulated backend)\n";
    return "skipped: zfs backend";
  }
  if (o.bench_path.empty() || !fs::exists(o.bench_path)) {
    return "failed: the bench drivers (diobench-bench) were not found beside diobench; "
           "rebuild with scripts/build";
  }
  fs::create_directories(out_dir);
  const std::string work =
      (fs::path(scratch.dir()) / ("bench-" + run_dir.filename().string())).string();
  journal.scratch_dir_created(work);
  fs::create_directories(work);
  FioInvocation b;
  b.program = o.bench_path;
  b.first_signal_stops = true;
  b.log_file = (out_dir / "bench.log").string();
  const std::string partial = json.string() + ".partial";
  char min_time[32];
  std::snprintf(min_time, sizeof min_time, "%g", bench.min_time_s);
  b.args = {"--scratch",
            work,
            "--file-size",
            std::to_string(bench.file_size_mib),
            "--benchmark_repetitions=" + std::to_string(bench.repetitions),
            std::string("--benchmark_min_time=") + min_time,
            "--benchmark_out=" + partial,
            "--benchmark_out_format=json"};
  if (bench.drivers != "all") b.args.push_back("--benchmark_filter=" + bench.drivers);
  if (o.force_unsafe) b.args.push_back("--force-unsafe");  // their loop devices ask the guard too
  b.timeout_s = bench_drivers_time_limit_s(o.bench_path, b.args, bench.repetitions,
                                           bench.min_time_s, bench.file_size_mib);
  progress << "bench drivers (" << bench.drivers << ", " << bench.repetitions << " x " << min_time
           << " s each): " << b.log_file << "\n";
  const auto start = Clock::now();
  std::string result;
  try {
    const FioExit exit = run_fio(b);
    if (!exit.timed_out && (exit.status == 0 || exit.status == 1)) {
      std::error_code ec;
      try {
        publish_file_durably(partial, json.string());
      } catch (const std::system_error& e) {
        ec = e.code();
      }
      if (ec) {
        result = "failed: no JSON written (" + ec.message() + "); see " + b.log_file;
      } else {
        result = exit.status == 0 ? "ok" : "some drivers reported errors (see bench/bench.json)";
      }
    } else if (InterruptGuard::requested()) {
      result = "";  // stopped by the signal: --resume runs them again
    } else {
      result = "failed: diobench-bench " + exit.reason + ": " + exit.log;
    }
  } catch (const std::exception& e) {
    result = std::string("failed: ") + e.what();
  }
  std::error_code ec;
  fs::remove(partial, ec);
  // The drivers clean up after themselves; anything left is our problem.
  if (fs::remove_all(work, ec) != static_cast<std::uintmax_t>(-1) && !ec) {
    journal.scratch_dir_removed(work);
  }
  progress << "bench drivers: " << (result.empty() ? "interrupted" : result) << " ("
           << duration_text(ms_since(start) / 1000) << ")\n";
  return result;
}

}  // namespace

Profile plan_run(const RunOptions& o) {
  Profile p = load_profile(o.profile_path, o.backend);
  p.cells = filter_cells(p.cells, o.filters);
  if (p.cells.empty()) throw std::invalid_argument("the filters leave no cell to run");
  if (o.repetitions) p.repetitions = *o.repetitions;
  if (o.seed) p.seed = *o.seed;
  if (o.bench_drivers) p.bench.drivers = *o.bench_drivers;
  if (o.budget_s) p.budget_s = *o.budget_s;
  if (o.max_repetitions) p.max_repetitions = *o.max_repetitions;
  if (!o.hosts.empty()) p.hosts = o.hosts;
  parse_host_specs(p.hosts);  // std::invalid_argument naming a bad one
  return p;
}

namespace {

// One repetition to run: which cell, which of its repetitions, and its
// place in the run's order.
struct Slot {
  std::size_t cell = 0;
  unsigned repetition = 0;
  unsigned position = 0;
};

// How a list of repetitions ended.
enum class SlotsEnd { Done, Budget, Interrupted, Stopped };

// A full filesystem under the run directory or the scratch file: fio's
// error text, ours (strerror), or SQLite's for SQLITE_FULL. Every later
// repetition would fail the same way.
bool out_of_space(const std::string& message) {
  return message.find(std::strerror(ENOSPC)) != std::string::npos ||
         message.find("database or disk is full") != std::string::npos;
}

// The run's options as they apply: on --resume, the run's own plan
// (with a new budget or cap when given); and the zfs dataset's checks.
RunOptions resolve_options(const RunOptions& given, const fs::path& dir) {
  RunOptions o = given;
  if (!o.resume) {
    if (fs::exists(dir) && !fs::is_empty(dir)) {
      throw std::invalid_argument("run directory " + dir.string() +
                                  " exists and is not empty (use --resume to finish it)");
    }
    return o;
  }
  const PlanFile plan = read_plan((dir / "plan.json").string());
  o.profile_path = (dir / "profile.ini").string();
  o.backend = plan.backend;
  o.scratch_dir = plan.scratch_dir;
  o.dataset = plan.dataset;
  o.filters = plan.filters;
  o.repetitions = plan.repetitions;
  o.seed = plan.seed;
  o.bench_drivers = plan.bench;
  o.arc_drop = plan.arc_drop;
  o.work_dataset = plan.work_dataset;
  o.in_place = plan.work_dataset == plan.dataset;
  o.hosts = plan.hosts;
  o.ssh = plan.ssh;
  if (o.backend == "zfs" && !o.in_place && !is_work_dataset_name(o.work_dataset, o.dataset)) {
    throw std::invalid_argument((dir / "plan.json").string() + ": work_dataset '" + o.work_dataset +
                                "' is not a child diobench makes of '" + o.dataset + "'");
  }
  if (plan.until_decided) {
    o.until_decided = true;
    if (!o.budget_s) o.budget_s = plan.until_decided->budget_s;
    if (!o.max_repetitions) o.max_repetitions = plan.until_decided->max_repetitions;
    o.threshold = plan.until_decided->threshold;
  }
  return o;
}

// zfs backend: the scratch area lives on the dataset the run works in
// (work_dataset.hpp); the engine passes requests through and ZFS applies
// the policy the runner sets per repetition. Checks the user's dataset
// and names the one to work in; returns the pool's name.
std::string check_zfs_dataset(RunOptions& o) {
  const auto direct = zfs_get(o.dataset, "direct");
  if (!direct || direct->empty() || *direct == "-") {
    throw std::invalid_argument("dataset '" + o.dataset +
                                "': cannot read its direct property (no such dataset, no zfs "
                                "command, or OpenZFS older than 2.3)");
  }
  const auto mountpoint = zfs_mountpoint(o.dataset);
  if (!mountpoint) throw std::invalid_argument("dataset '" + o.dataset + "' is not mounted");
  if (o.in_place) {
    o.work_dataset = o.dataset;
    o.scratch_dir = zfs_scratch_dir(*mountpoint);
  } else if (o.work_dataset.empty()) {
    o.work_dataset = new_work_dataset_name(o.dataset);
  }
  return pool_of(o.dataset);
}

// zfs backend: how the ARC is emptied before each repetition, and what
// the system information says of it. "auto" becomes "export" where the
// pool allows it; where it does not, the run is refused with the reason.
std::string resolve_arc_drop(RunOptions& o, const std::string& pool, const std::string& run_dir) {
  if (o.backend != "zfs") {
    o.arc_drop = "none";
    return "";
  }
  if (o.arc_drop == "none") {
    return "none (opted out with --arc-drop none: a repetition may be served by the ARC)";
  }
  if (o.arc_drop == "export") return "export (zpool export + import before each repetition)";
  if (const auto why = arc_export_refusal(pool, o.work_dataset, run_dir)) {
    throw std::invalid_argument("cannot empty the ARC before each repetition: " + *why +
                                "; use a pool dedicated to benchmarking, or --arc-drop none to run "
                                "without (a repetition may then be served by the ARC)");
  }
  o.arc_drop = "export";
  return "export (the default: zpool export + import before each repetition)";
}

// zfs backend on a fleet: the dataset is each host's, checked there
// (`diobench host prepare`); the child each host works in has one name on
// all of them, and each host empties its own ARC. Working in place is
// refused: a host's dataset would keep the last cell's direct= when the
// host is lost. Returns the system information's note on the ARC.
std::string name_fleet_work_dataset(RunOptions& o) {
  if (o.backend != "zfs") {
    o.arc_drop = "none";
    return "";
  }
  if (o.in_place) {
    throw std::invalid_argument(
        "--in-place does not go with a fleet run (--host, [hosts]): each host works in a "
        "child of --dataset that it makes and destroys");
  }
  if (o.work_dataset.empty()) o.work_dataset = new_work_dataset_name(o.dataset);
  if (o.arc_drop == "none") {
    return "none (opted out with --arc-drop none: a repetition may be served by the ARC)";
  }
  o.arc_drop = "export";  // a host whose pool does not allow it fails with the reason
  return "export (on each host: zpool export + import before each repetition)";
}

// The base repetitions in a random order (recorded seed): slow drift of
// the machine spreads over all cells instead of biasing the late ones.
std::vector<Slot> base_order(const Profile& profile) {
  std::vector<Slot> order;
  for (std::size_t c = 0; c < profile.cells.size(); ++c) {
    for (unsigned r = 1; r <= profile.repetitions; ++r) order.push_back({c, r, 0});
  }
  std::mt19937_64 rng(profile.seed);
  std::shuffle(order.begin(), order.end(), rng);
  for (std::size_t i = 0; i < order.size(); ++i) order[i].position = static_cast<unsigned>(i + 1);
  return order;
}

class RunSession {
 public:
  RunSession(const RunOptions& given, std::ostream& out, std::ostream& progress);
  RunOutcome run();

 private:
  void start_run_directory();
  void prepare_work_dataset();
  void store_plan();
  void read_back_stored();
  void prepare_scratch();
  void ensure_target();
  void prepare_context();
  void share_host_connections();
  void end_host_connections();
  SlotsEnd run_slots(const std::vector<Slot>& slots, const std::string& phase,
                     std::optional<double> budget_s);
  std::vector<RepetitionRecord> attempt(const Cell& cell, const Slot& slot);
  void record(const Slot& slot, std::vector<RepetitionRecord> rows, double slot_s);
  void show_progress(const Slot& slot, const std::vector<RepetitionRecord>& rows,
                     const std::string& phase, std::size_t ran, std::size_t count, double eta_s);
  void start_fleet();
  void decide();
  std::string decide_batches(DecisionState& state);
  void report_decision(const DecisionState& state, const std::string& why);
  void clean_up();

  bool already_done(const Cell& cell, unsigned rep) const {
    return finished_.count({cell.name(), rep}) > 0 || crashed_.count(cell.name()) > 0;
  }
  double spent_s() const {
    return spent_before_s_ + std::chrono::duration<double>(Clock::now() - start_).count();
  }
  double predict(const std::vector<Slot>& slots, std::size_t from) const;

  RunOptions o_;
  std::ostream& out_;
  std::ostream& progress_;
  fs::path dir_;
  std::string pool_;
  Profile profile_;
  Clock::time_point start_ = Clock::now();
  double spent_before_s_ = 0;  // repetition time of earlier invocations (resume)
  std::unique_ptr<ResultStore> store_;
  std::unique_ptr<Journal> journal_;
  std::optional<WorkDataset> work_dataset_;  // declared before what lives in it
  std::optional<ScratchArea> scratch_;
  std::string file_name_, scratch_file_;
  std::optional<PropertyOverride> direct_property_;
  std::unique_ptr<Context> ctx_;
  std::optional<FleetSettings> fleet_;  // a fleet run: its hosts and how they are reached
  std::string ssh_control_dir_;         // a fleet run's shared ssh connections' sockets
  std::vector<Slot> base_;
  std::set<std::pair<std::string, unsigned>> finished_;
  std::set<std::string> crashed_;  // a cell that took the machine down is not run again
  // Every repetition of the run, this invocation's and earlier ones', for
  // the summary; and the highest repetition number each cell has used.
  std::map<std::string, std::vector<RepetitionRecord>> done_;
  std::map<std::string, unsigned> attempts_;
  std::map<std::string, std::size_t> index_;  // cell name -> profile_.cells
  RepetitionCost cost_{0};
  unsigned next_position_ = 1;
  bool target_ready_ = false;
  bool root_ = geteuid() == 0, on_zfs_ = false, tty_ = isatty(STDERR_FILENO);
  std::optional<std::string> zfs_version_ = loaded_zfs_version();
  RunOutcome outcome_;
  std::string arc_drop_note_;  // for the system information
};

RunSession::RunSession(const RunOptions& given, std::ostream& out, std::ostream& progress)
    : o_(resolve_options(given, fs::absolute(given.out_dir))),
      out_(out),
      progress_(progress),
      dir_(fs::absolute(given.out_dir)) {
  if (o_.until_decided && !o_.decider) {
    throw std::invalid_argument("--until-decided needs the verdict (no decider given)");
  }
  profile_ = plan_run(o_);
  if (!profile_.hosts.empty()) {
    arc_drop_note_ = name_fleet_work_dataset(o_);
  } else {
    if (o_.backend == "zfs") pool_ = check_zfs_dataset(o_);
    arc_drop_note_ = resolve_arc_drop(o_, pool_, dir_.string());
  }
  if (!o_.seed && profile_.seed == 0) profile_.seed = std::random_device{}() | 1u;
  cost_ = RepetitionCost(profile_.seconds_per_repetition());
  start_fleet();
  for (std::size_t c = 0; c < profile_.cells.size(); ++c) index_[profile_.cells[c].name()] = c;
  base_ = base_order(profile_);
  next_position_ = static_cast<unsigned>(base_.size() + 1);
}

// A fleet run's settings, checked before anything is made.
void RunSession::start_fleet() {
  if (profile_.hosts.empty()) return;
  FleetSettings f;
  f.hosts = parse_host_specs(profile_.hosts);
  if (!o_.ssh.empty()) f.shell.ssh = HostShell::split_command(o_.ssh);
  f.shell.diobench = o_.diobench_path;
  f.paths = HostPaths{o_.scratch_dir, dir_.filename().string()};
  f.paths.check();
  f.engine = o_.engine_path;
  f.force_unsafe = o_.force_unsafe;
  f.run_dir = dir_.string();
  if (o_.backend == "zfs") f.zfs = FleetZfs{o_.dataset, o_.work_dataset, o_.arc_drop};
  fleet_ = std::move(f);
}

RunOutcome RunSession::run() {
  start_run_directory();
  prepare_work_dataset();
  store_plan();
  read_back_stored();
  prepare_scratch();
  prepare_context();
  share_host_connections();
  std::size_t todo = 0;
  for (const Slot& s : base_) todo += !already_done(profile_.cells[s.cell], s.repetition);
  if (todo < base_.size()) {
    progress_ << base_.size() - todo << " repetitions already done";
    if (!crashed_.empty())
      progress_ << " or left out (" << crashed_.size() << " cells crashed the machine)";
    progress_ << "; " << todo << " to go\n";
  }
  run_slots(base_, "", std::nullopt);
  if (o_.until_decided && outcome_.stopped.empty() && !InterruptGuard::requested()) decide();
  clean_up();
  out_ << "\n";
  print_summary(profile_.cells, done_, out_);
  out_ << "\nrun directory: " << dir_.string() << "\n";
  return outcome_;
}

// A fleet run that reaches its hosts with ssh itself: one connection per
// host for all its commands (two a repetition), not one each. The sockets
// go in a directory of the run's own under /tmp (a socket's path must fit
// 107 bytes), journaled before it is made.
void RunSession::share_host_connections() {
  if (!fleet_ || !fleet_->shell.is_ssh()) return;
  std::random_device random;
  char token[9];
  std::snprintf(token, sizeof token, "%08x", static_cast<unsigned>(random()));
  const std::string dir = std::string("/tmp/") + kSshControlDirPrefix + token;
  journal_->ssh_control_dir_created(dir);
  if (::mkdir(dir.c_str(), 0700) != 0)
    throw std::system_error(errno, std::generic_category(), "cannot create " + dir);
  ssh_control_dir_ = dir;
  fleet_->shell.share_connections(dir);
}

// The shared connections end and their directory goes (restore, below,
// when this fails).
void RunSession::end_host_connections() {
  if (ssh_control_dir_.empty()) return;
  if (const auto why = remove_ssh_control_dir(ssh_control_dir_)) {
    progress_ << "clean-up: " << *why << "\n";
    return;
  }
  journal_->ssh_control_dir_removed(ssh_control_dir_);
}

void RunSession::start_run_directory() {
  if (!o_.resume) {
    fs::create_directories(dir_);
    copy_durably(profile_.path, dir_ / "profile.ini");
    copy_durably(profile_.job_template, dir_ / fs::path(profile_.job_template).filename());
  }
  journal_ = std::make_unique<Journal>((dir_ / "journal.jsonl").string());
}

// zfs backend: the child dataset the run works in, made (or, resumed,
// taken up again) before anything is written to it.
void RunSession::prepare_work_dataset() {
  if (o_.backend != "zfs" || o_.in_place || fleet_) return;  // a fleet host makes its own
  work_dataset_.emplace(*journal_, o_.work_dataset);
  o_.scratch_dir = zfs_scratch_dir(work_dataset_->mountpoint());
  progress_ << "working in dataset " << o_.work_dataset
            << " (made for this run, destroyed at its end)\n";
}

void RunSession::store_plan() {
  PlanFile plan{o_.backend,   o_.scratch_dir,  o_.dataset,           profile_.bench.drivers,
                o_.arc_drop,  o_.filters,      profile_.repetitions, profile_.seed,
                std::nullopt, o_.work_dataset, profile_.hosts,       o_.ssh};
  if (o_.until_decided) {
    plan.until_decided =
        PlanFile::Decision{profile_.budget_s, profile_.max_repetitions, o_.threshold};
  }
  write_plan((dir_ / "plan.json").string(), plan);  // on resume: a new budget or cap
  store_ = std::make_unique<ResultStore>((dir_ / "results.db").string());
  store_->begin_run(profile_.name, o_.backend, profile_.seed, utc_timestamp());
  store_->add_cells(profile_.cells);
  finished_ = store_->finished_repetitions();
  crashed_ = store_->crashed_cells();
}

// What earlier invocations stored (the raw files read back for the
// summary), the time their repetitions took, and what each cost.
void RunSession::read_back_stored() {
  for (RepetitionRecord& r : store_->stored_repetitions()) {
    // A fleet's hosts' own rows: the sum (the repetition's row) stands for them.
    if (!r.host.empty() && r.host != kAllHosts) continue;
    attempts_[r.cell] = std::max(attempts_[r.cell], r.repetition);
    next_position_ = std::max(next_position_, r.position + 1);
    spent_before_s_ += r.elapsed_ms / 1000;
    const auto it = index_.find(r.cell);
    if (it != index_.end() && r.elapsed_ms > 0)
      cost_.add(profile_.cells[it->second], r.elapsed_ms / 1000);
    if (r.status == "ok" && finished_.count({r.cell, r.repetition})) {
      try {
        r.fio = read_fio_json((dir_ / r.fio_json).string());
        if (r.host == kAllHosts) r.fio = host_view(*r.fio, kAllHosts, profile_.hosts.size());
        if (!r.fio) throw std::runtime_error("no sum over the hosts in " + r.fio_json);
        r.counters = read_counters((dir_ / r.counters_file).string());
      } catch (const std::exception& e) {
        r.status = "failed";
        r.message = "stored, but its raw files cannot be read back: " + std::string(e.what());
      }
      done_[r.cell].push_back(std::move(r));
    } else if (r.status == "crash") {
      done_[r.cell].push_back(std::move(r));
    }
  }
  for (const Cell& c : profile_.cells)
    attempts_[c.name()] = std::max(attempts_[c.name()], profile_.repetitions);
}

void RunSession::prepare_scratch() {
  if (fleet_) {  // each host's own, made there (host_side.hpp)
    if (o_.resume) return;
    std::map<std::string, std::string> info = collect_system_info(dir_.string());
    std::string hosts;
    for (const HostSpec& h : fleet_->hosts) hosts += (hosts.empty() ? "" : " ") + h.label();
    info["fleet.hosts"] = hosts;
    info["fleet.scratch_dir"] = fleet_->paths.dir + " (on every host)";
    info["fleet.note"] = "system information of the machine that ran fio as the client";
    if (fleet_->zfs) {
      info["runner.dataset"] = o_.work_dataset + " on each host (a child of " + o_.dataset +
                               " made for this run and destroyed at its end)";
      info["runner.arc_drop"] = arc_drop_note_;
    }
    store_->add_system_info(info);
    return;
  }
  try {
    scratch_.emplace(o_.scratch_dir);
  } catch (const std::system_error&) {
    throw;
  } catch (const std::runtime_error& e) {  // a directory that is not ours
    throw std::invalid_argument(e.what());
  }
  file_name_ = "run-" + dir_.filename().string() + ".dat";
  scratch_file_ = (fs::path(scratch_->dir()) / file_name_).string();
  scratch_->check_room(file_name_, profile_.size);  // before any change: exit 2 with the numbers
  if (!o_.resume) {
    std::map<std::string, std::string> info = collect_system_info(scratch_->dir());
    if (!arc_drop_note_.empty()) info["runner.arc_drop"] = arc_drop_note_;
    if (o_.backend == "zfs") {
      info["runner.dataset"] =
          o_.in_place ? o_.dataset + " (in place: its direct= set per repetition and back)"
                      : o_.work_dataset + " (a child of " + o_.dataset +
                            " made for this run and destroyed at its end)";
    }
    store_->add_system_info(info);
  }
}

// The target, made before the first repetition that needs it (a finished
// run being resumed needs none).
void RunSession::ensure_target() {
  if (target_ready_ || fleet_) return;  // a fleet host prepares its own per repetition
  journal_->scratch_file_created(scratch_file_);
  progress_ << "preparing " << format_size(profile_.size) << " scratch file " << scratch_file_
            << "\n";
  scratch_->create_file(file_name_, profile_.size);
  on_zfs_ = probe_target(scratch_file_).fs_type == "zfs";
  target_ready_ = true;
}

void RunSession::prepare_context() {
  if (fleet_) return;
  if (o_.backend == "zfs") direct_property_.emplace(*journal_, o_.work_dataset, "direct");
  ctx_ = std::make_unique<Context>(Context{profile_,
                                           o_,
                                           dir_.string(),
                                           scratch_file_,
                                           {},
                                           *journal_,
                                           direct_property_ ? &*direct_property_ : nullptr,
                                           pool_,
                                           {}});
  if (o_.backend == "zfs") {
    ctx_->storage_devices = pool_block_devices(pool_);
  } else if (const auto dev = block_device_of(scratch_->dir())) {  // the file's, made later
    ctx_->storage_devices.push_back(*dev);
  }
  if (o_.backend == "zfs" && o_.arc_drop == "export") {
    ctx_->pool_devices = pool_devices(pool_);
    if (ctx_->pool_devices.empty()) {
      throw std::invalid_argument("--arc-drop export: cannot list the devices of pool '" + pool_ +
                                  "' (zpool list -vHP)");
    }
  }
}

// Seconds the slots from `from` on would take (the finished ones skipped).
double RunSession::predict(const std::vector<Slot>& slots, std::size_t from) const {
  double s = 0;
  for (std::size_t i = from; i < slots.size(); ++i) {
    const Cell& c = profile_.cells[slots[i].cell];
    if (!already_done(c, slots[i].repetition)) s += cost_.predict(c);
  }
  return s;
}

// Runs the slots not yet done, in order; with a budget, stops before a
// repetition the run's time would not cover.
SlotsEnd RunSession::run_slots(const std::vector<Slot>& slots, const std::string& phase,
                               std::optional<double> budget_s) {
  std::size_t count = 0, ran = 0;
  for (const Slot& s : slots) count += !already_done(profile_.cells[s.cell], s.repetition);
  SlotsEnd end = SlotsEnd::Done;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const Cell& cell = profile_.cells[slots[i].cell];
    if (already_done(cell, slots[i].repetition)) continue;
    if (InterruptGuard::requested()) {
      ++outcome_.left;
      end = SlotsEnd::Interrupted;
      continue;
    }
    if (budget_s && spent_s() + cost_.predict(cell) > *budget_s) return SlotsEnd::Budget;
    ensure_target();  // once per run: not a cost of the repetition
    const auto slot_start = Clock::now();
    std::vector<RepetitionRecord> rows = attempt(cell, slots[i]);
    const RepetitionRecord& rec = rows.back();  // the repetition's own row (a fleet's sum)
    if (InterruptGuard::requested() && rec.status != "ok") {
      clear_running(dir_.string());
      ++outcome_.left;  // cut short: not stored, --resume runs it again
      end = SlotsEnd::Interrupted;
      continue;
    }
    const std::vector<RepetitionRecord> shown = rows;
    std::string full;
    for (const RepetitionRecord& r : rows) {
      if (out_of_space(r.message)) full = r.message;
    }
    try {
      record(slots[i], std::move(rows), ms_since(slot_start) / 1000);
    } catch (const std::exception& e) {
      if (!out_of_space(e.what())) throw;
      clear_running(dir_.string());  // not stored: --resume runs it again
      full = std::string("storing it: ") + e.what();
    }
    show_progress(slots[i], shown, phase, ++ran, count, predict(slots, i + 1));
    if (!full.empty()) {
      outcome_.stopped = "no space left (" + shown.back().cell + " repetition " +
                         std::to_string(shown.back().repetition) + ": " + full.substr(0, 200) + ")";
      for (std::size_t j = i + 1; j < slots.size(); ++j) {
        outcome_.left += !already_done(profile_.cells[slots[j].cell], slots[j].repetition);
      }
      end = SlotsEnd::Stopped;
      break;
    }
  }
  if (tty_) progress_ << "\n";
  return end;
}

// One repetition, or the reason it is not run (stored as skipped): its
// row, or in a fleet run each host's and their sum (last).
std::vector<RepetitionRecord> RunSession::attempt(const Cell& cell, const Slot& slot) {
  ensure_target();
  RepetitionRecord rec;
  const auto rep_start = Clock::now();
  std::optional<std::string> refusal;
  if (cell.target == TargetKind::Loop && !root_)
    refusal = "loop devices need root (run as root for the loop cells)";
  if (!refusal && !o_.force_unsafe) refusal = crash_risk(cell, on_zfs_, zfs_version_);
  if (refusal) {
    rec.cell = cell.name();
    rec.repetition = slot.repetition;
    rec.position = slot.position;
    rec.status = "skipped";
    rec.message = *refusal;
    rec.started = rec.finished = utc_timestamp();
    return fleet_ ? fleet_rows(rec, *fleet_) : std::vector<RepetitionRecord>{rec};
  }
  // Names this repetition for `diobench crashed` should the machine die
  // under it (cleared once the repetition is stored).
  mark_running(dir_.string(), {cell.name(), slot.repetition, slot.position, utc_timestamp()});
  std::vector<RepetitionRecord> rows;
  try {
    if (fleet_) {
      rows = run_fleet_repetition(cell, slot.repetition, slot.position, profile_, *fleet_);
    } else {
      rows.push_back(run_repetition(cell, slot.repetition, slot.position, *ctx_));
    }
  } catch (const std::exception& e) {
    rec.cell = cell.name();
    rec.repetition = slot.repetition;
    rec.position = slot.position;
    rec.status = "failed";
    rec.message = e.what();
    rows = fleet_ ? fleet_rows(rec, *fleet_) : std::vector<RepetitionRecord>{rec};
  }
  for (RepetitionRecord& r : rows)
    r.elapsed_ms = ms_since(rep_start);  // set-up and clean-up included
  return rows;
}

// Stores a repetition's rows; the counts are of rows measured (a fleet's
// hosts', not their sum), the summary gets the repetition's own row.
void RunSession::record(const Slot& slot, std::vector<RepetitionRecord> rows, double slot_s) {
  store_->add_repetitions(rows);
  clear_running(dir_.string());
  const Cell& cell = profile_.cells[slot.cell];
  RepetitionRecord rec = std::move(rows.back());
  if (fleet_) rows.pop_back();
  attempts_[rec.cell] = std::max(attempts_[rec.cell], rec.repetition);
  // What a repetition costs, storing it included; a skipped one costs
  // nothing worth learning.
  if (rec.status != "skipped") cost_.add(cell, slot_s);
  for (const RepetitionRecord& r : fleet_ ? rows : std::vector<RepetitionRecord>{rec}) {
    if (r.status == "ok") {
      ++outcome_.ok;
    } else if (r.status == "skipped") {
      ++outcome_.skipped;
    } else {
      ++outcome_.failed;
    }
  }
  if (rec.status == "ok") finished_.insert({rec.cell, rec.repetition});
  done_[rec.cell].push_back(std::move(rec));
}

void RunSession::show_progress(const Slot& slot, const std::vector<RepetitionRecord>& rows,
                               const std::string& phase, std::size_t ran, std::size_t count,
                               double eta_s) {
  const RepetitionRecord& rec = rows.back();
  std::string last = rec.status;
  if (rec.status == "ok") {
    const Cell& cell = profile_.cells[slot.cell];
    const DirectionResult& m =
        cell.workload.reads() ? rec.fio->jobs[0].read : rec.fio->jobs[0].write;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.1f MiB/s, p99 %.0f us", m.bw_bytes / 1048576.0,
                  m.percentile_ns(99.0) / 1000.0);
    last = buf;
  } else if (!rec.message.empty()) {
    last += ": " + rec.message.substr(0, 100);
  }
  if (fleet_) {  // which hosts are done with this repetition, and how
    std::string ok, not_ok;
    for (std::size_t i = 0; i + 1 < rows.size(); ++i) {
      std::string& list = rows[i].status == "ok" ? ok : not_ok;
      list += (list.empty() ? "" : " ") + rows[i].host;
    }
    last += "  hosts ok: " + (ok.empty() ? "none" : ok);
    if (!not_ok.empty()) last += "; not: " + not_ok;
  }
  char line[640];
  std::snprintf(line, sizeof line, "%s[%zu/%zu] %s rep %u  elapsed %s eta %s  %s",
                phase.empty() ? "" : (phase + " ").c_str(), ran, count, rec.cell.c_str(),
                rec.repetition, duration_text(spent_s()).c_str(), duration_text(eta_s).c_str(),
                last.c_str());
  if (tty_) {
    progress_ << "\r\033[K" << line << std::flush;
  } else {
    progress_ << line << "\n";
  }
}

// --until-decided: batches until every comparison is decided, or the
// budget, the cap or a signal stops it; then what is still open.
void RunSession::decide() {
  DecisionState state;
  const std::string why = decide_batches(state);
  outcome_.decided = state.decided;
  outcome_.open = state.open.size();
  report_decision(state, why);
}

std::string RunSession::decide_batches(DecisionState& state) {
  auto cost_of = [this](const std::string& cell) {
    return cost_.predict(profile_.cells[index_.at(cell)]);
  };
  for (unsigned batch = 1;; ++batch) {
    state = o_.decider(dir_.string(), o_.threshold);
    if (state.open.empty()) return "every comparison is decided";
    if (InterruptGuard::requested()) return "interrupted (--resume continues the decision)";
    const std::uint64_t seed = profile_.seed ^ (0x9E3779B97F4A7C15ull * next_position_);
    std::vector<PlannedRepetition> planned =
        plan_batch(state, attempts_, profile_.max_repetitions, seed);
    if (planned.empty()) {
      return "the open comparisons' cells have the most repetitions allowed (" +
             std::to_string(profile_.max_repetitions) + " per cell)";
    }
    const std::string spent = "budget " + duration_text(profile_.budget_s) + " reached (" +
                              duration_text(spent_s()) + " used)";
    planned = fit_to_budget(planned, cost_of, profile_.budget_s - spent_s(), seed);
    if (planned.empty()) return spent;
    std::vector<Slot> slots;
    for (const PlannedRepetition& p : planned)
      slots.push_back({index_.at(p.cell), p.repetition, next_position_++});
    progress_ << "until decided: " << state.decided << " decided, " << state.open.size()
              << " open; batch " << batch << ": " << slots.size() << " repetitions, about "
              << duration_text(predict(slots, 0)) << "\n";
    const unsigned ok_before = outcome_.ok;
    if (run_slots(slots, "batch " + std::to_string(batch), profile_.budget_s) ==
        SlotsEnd::Stopped) {
      return "the run stopped early (the reason is at the end)";
    }
    if (outcome_.ok == ok_before && !InterruptGuard::requested()) {
      state = o_.decider(dir_.string(), o_.threshold);
      return "batch " + std::to_string(batch) +
             " measured nothing (its repetitions failed or were skipped)";
    }
  }
}

void RunSession::report_decision(const DecisionState& state, const std::string& why) {
  out_ << "\nuntil decided (threshold " << o_.threshold * 100 << "%): " << state.decided << " of "
       << state.decided + state.open.size() << " comparisons decided; stopped: " << why << "\n";
  if (state.open.empty()) return;
  out_ << "still open, with what the verdict's method expects would decide each:\n";
  for (const OpenComparison& c : state.open) {
    out_ << "  " << c.label << ": " << c.subject << " vs " << c.reference << ": ";
    if (!c.repetitions_to_decide) {
      out_ << "no estimate" << (c.note.empty() ? "" : " (" + c.note + ")") << "\n";
      continue;
    }
    const unsigned want = *c.repetitions_to_decide;
    double seconds = 0;
    unsigned more = 0;
    for (const std::string& cell : {c.subject, c.reference}) {
      const unsigned have = attempts_[cell];
      const unsigned add = want > have ? want - have : 0;
      more += add;
      seconds += add * cost_.predict(profile_.cells[index_.at(cell)]);
    }
    out_ << "about " << want << " repetitions per cell (" << more << " more in all, about "
         << duration_text(seconds) << ")\n";
  }
}

// The property goes back, the scratch file goes (the journal records
// both); then the bench drivers; whatever a failed clean-up left is
// undone from the journal.
void RunSession::clean_up() {
  direct_property_.reset();
  if (target_ready_) {
    scratch_->remove_file(file_name_);
    journal_->scratch_file_removed(scratch_file_);
  }
  if (fleet_) {
    for (const std::string& problem : finish_fleet(*fleet_)) {
      progress_ << "clean-up: " << problem << "\n";
    }
    end_host_connections();
    if (profile_.bench.enabled()) outcome_.bench = "skipped: not run on fleet hosts";
  } else if (profile_.bench.enabled()) {
    outcome_.bench = run_bench_drivers(profile_.bench, o_, dir_, *scratch_, *journal_, progress_);
  }
  scratch_.reset();
  work_dataset_.reset();  // destroyed with what is left in it
  try {
    for (const std::string& problem : restore_journal(journal_->path()).problems) {
      progress_ << "clean-up: " << problem << "\n";
    }
  } catch (const JournalRefused& e) {  // e.g. a journal of an older diobench, mode 0644
    progress_ << "clean-up: " << e.what() << "\n";
  }
  outcome_.interrupted = InterruptGuard::requested();
  outcome_.signal = InterruptGuard::signal();
  const char* status = outcome_.interrupted        ? "interrupted"
                       : !outcome_.stopped.empty() ? "stopped"
                       : outcome_.failed           ? "failed"
                                                   : "complete";
  try {
    store_->finish_run(status, utc_timestamp());
  } catch (const std::exception&
               e) {  // still full: the run's end goes unrecorded, its repetitions are kept
    if (!out_of_space(e.what())) throw;
    progress_ << "clean-up: cannot record the run's end in results.db: " << e.what() << "\n";
  }
}

}  // namespace

RunOutcome execute_run(const RunOptions& given, std::ostream& out, std::ostream& progress) {
  RunSession session(given, out, progress);
  return session.run();
}

}  // namespace diobench
