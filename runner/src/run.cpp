#include "diobench/runner/run.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>

#include "diobench/loop_device.hpp"
#include "diobench/runner/crash_record.hpp"
#include "diobench/runner/fio_process.hpp"
#include "diobench/runner/interrupt.hpp"
#include "diobench/runner/journal.hpp"
#include "diobench/runner/property_override.hpp"
#include "diobench/page_cache.hpp"
#include "diobench/runner/result_store.hpp"
#include "diobench/runner/safety.hpp"
#include "diobench/runner/system_info.hpp"
#include "diobench/scratch.hpp"
#include "diobench/statistics.hpp"
#include "diobench/units.hpp"
#include "diobench/zfs.hpp"

namespace diobench {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

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
  PropertyOverride* direct = nullptr;  // zfs backend: the dataset's direct=
  std::string pool;                    // zfs backend
  std::vector<std::string> pool_devices;  // zfs backend with --arc-drop export
};

// What the pool's iostats say about the path, against what the engine
// expected: direct bytes where it expected some, none where it expected
// none. (Sizes differ legitimately: a 4k direct read moves a whole record.)
std::string check_split(const PathCounters& expected, const PoolIoStats& d) {
  std::string verdict = "agrees";
  for (Direction dir : {Direction::Read, Direction::Write}) {
    const std::uint64_t want = expected.bucket(dir, Path::Direct).bytes +
                               expected.bucket(dir, Path::Split).direct_bytes;
    const std::string side = dir == Direction::Read ? "read" : "write";
    const std::uint64_t seen = d["direct_" + side + "_bytes"];
    if ((want > 0) != (seen > 0)) verdict = "contradicts";
  }
  return verdict;
}

std::optional<DeviceIo> device_delta(const std::string& name, const std::string& role,
                                     const std::optional<DeviceCounters>& before) {
  const auto after = device_counters(name);
  if (!before || !after) return std::nullopt;
  return DeviceIo{name, role, after->read_bytes - before->read_bytes,
                  after->write_bytes - before->write_bytes};
}

// fsync of a file or block device (for a block device: its page cache
// written through to the device); failures only mean less was flushed.
void sync_to_storage(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

RepetitionRecord run_repetition(const Cell& cell, unsigned rep, unsigned position,
                                 const Context& ctx) {
  RepetitionRecord rec;
  rec.cell = cell.name();
  rec.repetition = rep;
  rec.position = position;
  rec.started = utc_timestamp();
  const std::string rel = "raw/" + cell.name() + "/rep" + std::to_string(rep);
  const fs::path base = fs::path(ctx.run_dir) / rel;
  fs::create_directories(base.parent_path());
  auto fail = [&](const std::string& why) {
    rec.status = "failed";
    rec.message = why;
    rec.finished = utc_timestamp();
    return rec;
  };

  // The ARC first (zfs backend): a buffered read must come from the disk,
  // as a page-cache hit must not. Before the loop device is attached, which
  // would keep the pool busy.
  const auto drop_start = Clock::now();
  if (ctx.direct && ctx.options.arc_drop == "export") {
    rec.arc_data_before = read_arc_data_size();
    ctx.journal.pool_exporting(ctx.pool, ctx.pool_devices);
    if (!zpool_export(ctx.pool)) {
      ctx.journal.pool_imported(ctx.pool);  // nothing happened
      return fail("zpool export " + ctx.pool + " failed (in use?); cannot drop the ARC");
    }
    if (!zpool_import(ctx.pool, ctx.pool_devices)) {
      throw std::runtime_error("zpool import " + ctx.pool +
                               " failed after exporting it to drop the ARC; "
                               "`diobench restore` retries");
    }
    ctx.journal.pool_imported(ctx.pool);
    rec.arc_data_after = read_arc_data_size();
    if (!fs::exists(ctx.scratch_file)) {
      throw std::runtime_error("after zpool import " + ctx.pool + ", " + ctx.scratch_file +
                               " is not there (dataset not mounted again?)");
    }
  }

  std::optional<LoopDevice> loop;
  std::string target = ctx.scratch_file;
  if (cell.target == TargetKind::Loop) {
    ctx.journal.loop_attaching(ctx.scratch_file);
    loop.emplace(ctx.scratch_file, LoopOptions{cell.loop_dio.value_or(false), 512, false});
    target = loop->path();
  }
  // Detach (and journal the undo) however this function is left.
  struct Detach {
    std::optional<LoopDevice>& loop;
    const Context& ctx;
    ~Detach() {
      if (loop && loop->detach()) {
        try {
          ctx.journal.loop_detached(ctx.scratch_file);
        } catch (...) {  // restore will find it attached-and-gone: harmless
        }
      }
    }
  } detach{loop, ctx};

  if (ctx.direct) ctx.direct->set(std::string(to_string(cell.policy)));
  std::uint64_t resident = drop_cached_pages(ctx.scratch_file);
  if (loop) resident += drop_cached_pages(loop->path());
  rec.cache_drop_ms = ms_since(drop_start);
  if (resident) {
    return fail(std::to_string(resident) +
                " pages of the target stayed in the page cache after the drop; "
                "a repetition on a warm cache would not measure the path");
  }

  std::vector<std::optional<DeviceCounters>> storage_before;
  std::optional<DeviceCounters> loop_before;
  for (const std::string& dev : ctx.storage_devices) storage_before.push_back(device_counters(dev));
  const std::string loop_name = loop ? fs::path(loop->path()).filename().string() : "";
  if (loop) loop_before = device_counters(loop_name);

  const std::string json = base.string() + ".json";
  const std::string partial = json + ".partial";
  const std::string counters = base.string() + ".counters.jsonl";
  fs::remove(counters);
  FioInvocation fio;
  fio.log_file = base.string() + ".log";
  const Profile& p = ctx.profile;
  fio.env = {
      "DIOBENCH_ENGINE=" + ctx.options.engine_path,
      "DIOBENCH_POLICY=" + std::string(to_string(cell.policy)),
      "DIOBENCH_SEMANTICS=" + std::string(to_string(cell.semantics)),
      "DIOBENCH_RECORDSIZE=" + std::to_string(cell.recordsize),
      "DIOBENCH_SUBMIT=" + cell.submit,
      "DIOBENCH_BACKEND=" + cell.backend,
      "DIOBENCH_COUNTERS=" + counters,
      "DIOBENCH_TARGET=" + target,
      "DIOBENCH_SIZE=" + std::to_string(p.size),
      "DIOBENCH_RW=" + cell.workload.rw,
      "DIOBENCH_BS=" + cell.workload.bs,
      "DIOBENCH_RWMIXREAD=" + std::to_string(cell.workload.rwmixread ? cell.workload.rwmixread : 50),
      "DIOBENCH_IODEPTH=" + std::to_string(cell.workload.iodepth),
      "DIOBENCH_NUMJOBS=" + std::to_string(cell.workload.numjobs),
      "DIOBENCH_APP_DIRECT=" + std::string(cell.app_direct ? "1" : "0"),
      "DIOBENCH_RAMP=" + std::to_string(p.ramp_s),
      "DIOBENCH_RUNTIME=" + std::to_string(p.runtime_s),
  };
  fio.args = {"--output-format=json+", "--output=" + partial, p.job_template};
  std::optional<PoolIoStats> pool_before;
  if (ctx.direct) pool_before = read_pool_iostats(ctx.pool);
  const auto fio_start = Clock::now();
  const FioExit exit = run_fio(fio);
  rec.fio_ms = ms_since(fio_start);
  // Buffered writes may still sit in a page cache (the loop device's own,
  // then the file's) when fio exits; what they move below belongs to this
  // repetition, so push them down before the counters are read. Outside
  // fio's measured time: the throughput stays what the writer saw.
  if (cell.workload.writes()) {
    sync_to_storage(target);
    if (loop) sync_to_storage(ctx.scratch_file);
  }
  std::optional<PoolIoStats> pool_delta;
  if (pool_before) {
    if (const auto after = read_pool_iostats(ctx.pool)) {
      pool_delta = *after - *pool_before;
      rec.zfs_iostats = pool_delta->values;
    }
  }

  for (std::size_t i = 0; i < ctx.storage_devices.size(); ++i) {
    if (auto d = device_delta(ctx.storage_devices[i], "storage", storage_before[i])) {
      rec.devices.push_back(*d);
    }
  }
  if (loop) {
    if (auto d = device_delta(loop_name, "loop", loop_before)) rec.devices.push_back(*d);
  }
  // fio's JSON is kept exactly as fio wrote it, under its final name only
  // once complete (a crash leaves a .partial, never a truncated .json).
  std::error_code ec;
  fs::rename(partial, json, ec);
  rec.fio_json = rel + ".json";
  rec.counters_file = rel + ".counters.jsonl";
  if (exit.status != 0) return fail("fio exited with status " + std::to_string(exit.status) + ": " + exit.log);
  try {
    rec.fio = read_fio_json(json);
    if (const int err = rec.fio->first_error()) {
      return fail("fio reported error " + std::to_string(err) + " (" + std::strerror(err) + ")");
    }
    rec.counters = read_counters(counters);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (pool_delta) {
    rec.split_check = check_split(*rec.counters, *pool_delta);
    if (rec.split_check != "agrees") {
      rec.message = "the pool's iostats contradict the expected path split";
    }
  }
  rec.status = "ok";
  rec.finished = utc_timestamp();
  return rec;
}

struct PlanFile {
  std::string backend, scratch_dir, dataset, bench = "none", arc_drop = "none";
  std::vector<std::string> filters;
  unsigned repetitions = 1;
  std::uint64_t seed = 0;
};

void write_plan(const std::string& file, const PlanFile& p) {
  const nlohmann::json j{{"backend", p.backend},     {"scratch_dir", p.scratch_dir},
                         {"dataset", p.dataset},     {"filters", p.filters},
                         {"repetitions", p.repetitions}, {"seed", p.seed},
                         {"bench", p.bench}, {"arc_drop", p.arc_drop}};
  const std::string tmp = file + ".tmp";
  std::ofstream(tmp) << j.dump(2) << "\n";
  fs::rename(tmp, file);
}

PlanFile read_plan(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::invalid_argument(file + " not found: not a diobench run directory");
  const nlohmann::json j = nlohmann::json::parse(in);
  PlanFile p;
  p.backend = j.at("backend");
  p.scratch_dir = j.at("scratch_dir");
  p.dataset = j.value("dataset", "");
  p.filters = j.at("filters").get<std::vector<std::string>>();
  p.repetitions = j.at("repetitions");
  p.seed = j.at("seed");
  p.bench = j.value("bench", "none");
  p.arc_drop = j.value("arc_drop", "none");
  return p;
}

std::string duration_text(double seconds) {
  char buf[32];
  const long s = std::lround(seconds);
  std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

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
        const DirectionResult& m = d == Direction::Read ? r.fio->jobs[0].read : r.fio->jobs[0].write;
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
  const std::string work = (fs::path(scratch.dir()) / ("bench-" + run_dir.filename().string())).string();
  journal.scratch_dir_created(work);
  fs::create_directories(work);
  FioInvocation b;
  b.program = o.bench_path;
  b.first_signal_stops = true;
  b.log_file = (out_dir / "bench.log").string();
  const std::string partial = json.string() + ".partial";
  char min_time[32];
  std::snprintf(min_time, sizeof min_time, "%g", bench.min_time_s);
  b.args = {"--scratch", work,
            "--file-size", std::to_string(bench.file_size_mib),
            "--benchmark_repetitions=" + std::to_string(bench.repetitions),
            std::string("--benchmark_min_time=") + min_time,
            "--benchmark_out=" + partial,
            "--benchmark_out_format=json"};
  if (bench.drivers != "all") b.args.push_back("--benchmark_filter=" + bench.drivers);
  progress << "bench drivers (" << bench.drivers << ", " << bench.repetitions << " x "
           << min_time << " s each): " << b.log_file << "\n";
  const auto start = Clock::now();
  std::string result;
  try {
    const FioExit exit = run_fio(b);
    if (exit.status == 0 || exit.status == 1) {
      std::error_code ec;
      fs::rename(partial, json, ec);
      if (ec) {
        result = "failed: no JSON written (" + ec.message() + "); see " + b.log_file;
      } else {
        result = exit.status == 0 ? "ok" : "some drivers reported errors (see bench/bench.json)";
      }
    } else if (InterruptGuard::requested()) {
      result = "";  // stopped by the signal: --resume runs them again
    } else {
      result = "failed: diobench-bench exited with status " + std::to_string(exit.status) + ": " +
               exit.log;
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
  return p;
}

RunOutcome execute_run(const RunOptions& given, std::ostream& out, std::ostream& progress) {
  RunOptions o = given;
  const fs::path dir = fs::absolute(o.out_dir);
  if (o.resume) {
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
  } else if (fs::exists(dir) && !fs::is_empty(dir)) {
    throw std::invalid_argument("run directory " + dir.string() +
                                " exists and is not empty (use --resume to finish it)");
  }
  std::string pool;
  if (o.backend == "zfs") {
    // The scratch area lives on the dataset; the engine passes requests
    // through and ZFS applies the policy the runner sets per repetition.
    const auto direct = zfs_get(o.dataset, "direct");
    if (!direct || direct->empty() || *direct == "-") {
      throw std::invalid_argument("dataset '" + o.dataset +
                                  "': cannot read its direct property (no such dataset, no zfs "
                                  "command, or OpenZFS older than 2.3)");
    }
    const auto mountpoint = zfs_get(o.dataset, "mountpoint");
    if (!mountpoint || mountpoint->empty() || mountpoint->front() != '/') {
      throw std::invalid_argument("dataset '" + o.dataset + "' is not mounted");
    }
    o.scratch_dir = *mountpoint + "/diobench";
    pool = o.dataset.substr(0, o.dataset.find('/'));
  }
  Profile profile = plan_run(o);
  if (!o.seed && profile.seed == 0) profile.seed = std::random_device{}() | 1u;

  if (!o.resume) {
    fs::create_directories(dir);
    fs::copy_file(profile.path, dir / "profile.ini");
    fs::copy_file(profile.job_template, dir / fs::path(profile.job_template).filename());
    write_plan((dir / "plan.json").string(),
               PlanFile{o.backend, o.scratch_dir, o.dataset, profile.bench.drivers, o.arc_drop,
                        o.filters, profile.repetitions, profile.seed});
  }
  ResultStore store((dir / "results.db").string());
  store.begin_run(profile.name, o.backend, profile.seed, utc_timestamp());
  store.add_cells(profile.cells);
  const std::set<std::pair<std::string, unsigned>> finished = store.finished_repetitions();
  // A cell that took the machine down once is not run again.
  const std::set<std::string> crashed = store.crashed_cells();
  auto already_done = [&](const Cell& cell, unsigned rep) {
    return finished.count({cell.name(), rep}) > 0 || crashed.count(cell.name()) > 0;
  };

  // The repetitions in a random order (recorded seed): slow drift of the
  // machine spreads over all cells instead of biasing the late ones.
  std::vector<std::pair<std::size_t, unsigned>> order;
  for (std::size_t c = 0; c < profile.cells.size(); ++c) {
    for (unsigned r = 1; r <= profile.repetitions; ++r) order.emplace_back(c, r);
  }
  std::mt19937_64 rng(profile.seed);
  std::shuffle(order.begin(), order.end(), rng);

  Journal journal((dir / "journal.jsonl").string());
  std::optional<ScratchArea> area;
  try {
    area.emplace(o.scratch_dir);
  } catch (const std::system_error&) {
    throw;
  } catch (const std::runtime_error& e) {  // a directory that is not ours
    throw std::invalid_argument(e.what());
  }
  ScratchArea& scratch = *area;
  const std::string file_name = "run-" + dir.filename().string() + ".dat";
  const std::string scratch_file = (fs::path(scratch.dir()) / file_name).string();
  std::size_t left_to_run = 0;
  for (const auto& [c, r] : order) left_to_run += !already_done(profile.cells[c], r);
  if (left_to_run > 0) {  // a finished run being resumed needs no target
    journal.scratch_file_created(scratch_file);
    progress << "preparing " << format_size(profile.size) << " scratch file " << scratch_file
             << "\n";
    scratch.create_file(file_name, profile.size);
  }
  if (!o.resume) store.add_system_info(collect_system_info(scratch.dir()));

  const bool root = geteuid() == 0;
  // (Only a created scratch file can be probed; with nothing left to run
  // there is none, and nothing to guard.)
  const bool on_zfs = left_to_run > 0 && probe_target(scratch_file).fs_type == "zfs";
  const std::optional<std::string> zfs_version = loaded_zfs_version();
  std::optional<PropertyOverride> direct_property;
  if (o.backend == "zfs") direct_property.emplace(journal, o.dataset, "direct");
  Context ctx{profile, o, dir.string(), scratch_file, {}, journal,
              direct_property ? &*direct_property : nullptr, pool, {}};
  if (o.backend == "zfs") {
    // What the pool's disks moved: each leaf vdev's block device.
    for (const std::string& vdev : pool_devices(pool)) {
      std::error_code ec;
      const std::string name = fs::canonical(vdev, ec).filename().string();
      if (!ec && device_counters(name)) ctx.storage_devices.push_back(name);
    }
  } else if (const auto dev = block_device_of(scratch_file)) {
    ctx.storage_devices.push_back(*dev);
  }
  if (o.backend == "zfs" && o.arc_drop == "export") {
    ctx.pool_devices = pool_devices(pool);
    if (ctx.pool_devices.empty()) {
      throw std::invalid_argument("--arc-drop export: cannot list the devices of pool '" + pool +
                                  "' (zpool list -vHP)");
    }
  }

  RunOutcome outcome;
  // The summary covers the whole run: what earlier invocations stored
  // (read back from the raw files) as well as what this one runs.
  std::map<std::string, std::vector<RepetitionRecord>> done;
  for (RepetitionRecord& r : store.stored_repetitions()) {
    if (r.status == "ok" && finished.count({r.cell, r.repetition})) {
      try {
        r.fio = read_fio_json((dir / r.fio_json).string());
        r.counters = read_counters((dir / r.counters_file).string());
      } catch (const std::exception& e) {
        r.status = "failed";
        r.message = "stored, but its raw files cannot be read back: " + std::string(e.what());
      }
      done[r.cell].push_back(std::move(r));
    } else if (r.status == "crash") {
      done[r.cell].push_back(std::move(r));
    }
  }
  const bool tty = isatty(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  const std::size_t total = order.size();
  const std::size_t todo = left_to_run;
  std::size_t ran = 0;
  if (todo < total) {
    progress << total - todo << " repetitions already done";
    if (!crashed.empty()) progress << " or left out (" << crashed.size() << " cells crashed the machine)";
    progress << "; " << todo << " to go\n";
  }

  for (std::size_t i = 0; i < total; ++i) {
    const Cell& cell = profile.cells[order[i].first];
    const unsigned rep = order[i].second;
    if (already_done(cell, rep)) continue;
    if (InterruptGuard::requested()) {
      ++outcome.left;
      continue;
    }
    RepetitionRecord rec;
    const auto rep_start = Clock::now();
    std::optional<std::string> refusal;
    if (cell.target == TargetKind::Loop && !root) refusal = "loop devices need root (run as root for the loop cells)";
    if (!refusal && !o.force_unsafe) refusal = crash_risk(cell, on_zfs, zfs_version);
    if (refusal) {
      rec.cell = cell.name();
      rec.repetition = rep;
      rec.position = static_cast<unsigned>(i + 1);
      rec.status = "skipped";
      rec.message = *refusal;
      rec.started = rec.finished = utc_timestamp();
    } else {
      // Names this repetition for `diobench crashed` should the machine
      // die under it (cleared once the repetition is stored).
      mark_running(dir.string(), {cell.name(), rep, static_cast<unsigned>(i + 1), utc_timestamp()});
      try {
        rec = run_repetition(cell, rep, static_cast<unsigned>(i + 1), ctx);
      } catch (const std::exception& e) {
        rec.cell = cell.name();
        rec.repetition = rep;
        rec.position = static_cast<unsigned>(i + 1);
        rec.status = "failed";
        rec.message = e.what();
      }
      rec.elapsed_ms = ms_since(rep_start);  // set-up and clean-up included
    }
    if (InterruptGuard::requested() && rec.status != "ok") {
      clear_running(dir.string());
      ++outcome.left;  // cut short: not stored, --resume runs it again
      continue;
    }
    store.add_repetition(rec);
    clear_running(dir.string());
    done[rec.cell].push_back(rec);
    ++ran;
    if (rec.status == "ok") ++outcome.ok;
    else if (rec.status == "skipped") ++outcome.skipped;
    else ++outcome.failed;

    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double eta = elapsed / static_cast<double>(ran) * static_cast<double>(todo - ran);
    std::string last = rec.status;
    if (rec.status == "ok") {
      const Direction d = cell.workload.reads() ? Direction::Read : Direction::Write;
      const DirectionResult& m = d == Direction::Read ? rec.fio->jobs[0].read : rec.fio->jobs[0].write;
      char buf[96];
      std::snprintf(buf, sizeof buf, "%.1f MiB/s, p99 %.0f us", m.bw_bytes / 1048576.0,
                    m.percentile_ns(99.0) / 1000.0);
      last = buf;
    } else if (!rec.message.empty()) {
      last += ": " + rec.message.substr(0, 100);
    }
    char line[400];
    std::snprintf(line, sizeof line, "[%zu/%zu] %s rep %u  elapsed %s eta %s  %s", ran, todo,
                  cell.name().c_str(), rep, duration_text(elapsed).c_str(),
                  duration_text(eta).c_str(), last.c_str());
    if (tty) {
      progress << "\r\033[K" << line << std::flush;
    } else {
      progress << line << "\n";
    }
  }
  if (tty) progress << "\n";

  // Clean up: the property goes back, the scratch file goes; the journal
  // records both.
  direct_property.reset();
  scratch.remove_file(file_name);
  journal.scratch_file_removed(scratch_file);
  if (profile.bench.enabled()) {
    outcome.bench = run_bench_drivers(profile.bench, o, dir, scratch, journal, progress);
  }
  // Normally nothing is outstanding by now and this only removes the
  // journal; whatever a failed clean-up left is undone here.
  for (const std::string& problem : restore_journal(journal.path()).problems) {
    progress << "clean-up: " << problem << "\n";
  }
  outcome.interrupted = InterruptGuard::requested();
  outcome.signal = InterruptGuard::signal();
  store.finish_run(outcome.interrupted ? "interrupted" : outcome.failed ? "failed" : "complete",
                   utc_timestamp());

  // The table covers every repetition of the run, this invocation's and
  // earlier ones'.
  out << "\n";
  print_summary(profile.cells, done, out);
  out << "\nrun directory: " << dir.string() << "\n";
  return outcome;
}

}  // namespace diobench
