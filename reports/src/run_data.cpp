#include "diobench/reports/run_data.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "diobench/policy.hpp"
#include "diobench/reports/bench_results.hpp"
#include "diobench/results_reader.hpp"
#include "diobench/runner/profile.hpp"

namespace diobench {

namespace fs = std::filesystem;

std::string CellData::axis(const std::string& key) const {
  const auto it = axes.find(key);
  return it == axes.end() ? "" : it->second;
}

bool CellData::reads() const { return rw_reads(axis("rw")); }

bool emulated_loop_cell(const CellData& c) {
  return c.axis("backend") == "emulated" && c.axis("target") == "loop";
}

namespace {

// The ramp of the profile a run used (its copy in the run directory), as
// the runner's parser reads it; -1 when the file is missing or not a profile.
double run_ramp_seconds(const std::string& profile_ini) {
  if (!fs::exists(profile_ini)) return -1;
  try {
    return profile_ramp_seconds(profile_ini);
  } catch (const ProfileError&) {
    return -1;
  }
}

[[noreturn]] void bad_input(const std::string& message) { throw ReportError(message); }

std::string json_text(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// RUNDIR/zfsvm.json, written by scripts/zfs-vm for runs inside its guest.
void load_guest_lane(RunData& run) {
  const fs::path file = fs::path(run.dir) / "zfsvm.json";
  if (!fs::exists(file)) return;
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw ReportError(file.string() + ": not JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw ReportError(file.string() + ": not a JSON object");
  GuestLane g;
  g.accelerator = json_text(j, "accelerator");
  const auto emulated = j.find("emulated_cpu");
  g.emulated_cpu = (emulated != j.end() && emulated->is_boolean()) ? emulated->get<bool>()
                                                                   : g.accelerator == "tcg";
  g.guest_kernel = json_text(j, "guest_kernel");
  // The module the guest loaded says more than the package it came from.
  if (j.contains("guest") && j["guest"].is_object())
    g.zfs_version = json_text(j["guest"], "zfs_module");
  if (g.zfs_version.empty()) g.zfs_version = json_text(j, "zfs_package");
  g.zfs_variant = json_text(j, "zfs_variant");
  run.system["zfsvm.accelerator"] = g.accelerator + (g.emulated_cpu ? " (emulated CPU)" : "");
  run.system["zfsvm.guest_kernel"] = g.guest_kernel;
  run.system["zfsvm.zfs_version"] = g.zfs_version;
  if (!g.zfs_variant.empty()) run.system["zfsvm.zfs_variant"] = g.zfs_variant;
  if (const std::string q = json_text(j, "qemu"); !q.empty()) run.system["zfsvm.qemu"] = q;
  if (const std::string i = json_text(j, "image"); !i.empty()) run.system["zfsvm.image"] = i;
  run.guest = g;
}

// The CPU and ARC columns of repetitions, where the run's index has them
// (runs recorded before the runner wrote them have none: unknown).
void load_cpu_columns(const ResultsReader& db, const std::string& rows,
                      const std::function<RepetitionData*(std::int64_t)>& rep) {
  std::string select = "SELECT id";
  for (const char* c : {"cpu_busy_s", "cpu_window_s", "fio_cpu_s", "arc_check"}) {
    select += db.has_column("repetitions", c) ? std::string(", ") + c : ", NULL";
  }
  db.each(select + " FROM repetitions" + rows, [&](const ResultsReader::Row& st) {
    RepetitionData* r = rep(st.integer(0));
    if (!r) return;
    r->cpu_busy_s = st.optional_real(1);
    r->cpu_window_s = st.optional_real(2);
    r->fio_cpu_s = st.optional_real(3);
    r->arc_check = st.text(4);
  });
}

}  // namespace

double RepetitionData::amplification(double ramp_s) const {
  const double below = pool_measured     ? static_cast<double>(pool_bytes)
                       : device_measured ? static_cast<double>(device_bytes)
                                         : 0;
  return per_byte_asked(below, ramp_s);
}

double RepetitionData::per_byte_asked(double below, double ramp_s) const {
  // A loop device that moved nothing was not in the data path (the
  // emulated backend's loop model): fio's own bytes stand for what it asked.
  const double asked = loop_measured && loop_bytes > 0
                           ? static_cast<double>(loop_bytes)  // the same window as `below`
                           : in_window(static_cast<double>(bytes_asked), ramp_s);
  return below > 0 && asked > 0 ? below / asked : 0;
}

double RepetitionData::in_window(double bytes, double ramp_s) const {
  if (ramp_s < 0 || !(runtime_ms > 0)) return bytes;  // ramp unknown: fio's count as it is
  return bytes * (runtime_ms + 1000 * ramp_s) / runtime_ms;
}

std::optional<double> RepetitionData::cpu_per_gib(const std::optional<double>& cpu_s,
                                                  double ramp_s) const {
  const double bytes = in_window(static_cast<double>(bytes_total), ramp_s);
  if (!cpu_s || !(*cpu_s >= 0) || !(bytes > 0)) return std::nullopt;
  return *cpu_s / (bytes / 1073741824.0);
}

namespace {

// Reads results.db into a RunData, one table at a time; repetitions are
// found by their id (only the ok ones carry measurements). `host` picks
// the rows: "" each repetition's own (ResultsReader::repetition_rows),
// else that host's of a fleet run.
class RunLoader {
 public:
  RunLoader(const std::string& dir, const std::string& db_path, const std::string& host)
      : db_(db_path, bad_input),
        db_path_(db_path),
        rows_(host.empty() ? db_.repetition_rows() : ResultsReader::host_rows(host)) {
    run_.dir = dir;
    run_.host = host;
  }

  RunData load() {
    run_.hosts = db_.hosts();
    read_run();
    read_cells();
    read_repetitions();
    read_metrics();
    read_percentiles();
    read_path_counters();
    read_devices();
    read_pool();
    load_cpu_columns(db_, rows_, [this](std::int64_t id) { return repetition(id); });
    db_.each("SELECT key, value FROM system_info ORDER BY key",
             [&](const ResultsReader::Row& st) { run_.system[st.text(0)] = st.text(1); });
    const LoopBuffered loop_buffered = loop_buffered_of_kernel(run_.system["kernel"]);
    for (CellData& c : run_.cells) c.loop_buffered = loop_buffered;
    return std::move(run_);
  }

 private:
  RepetitionData* repetition(std::int64_t id) {
    const auto it = rep_index_.find(id);
    if (it == rep_index_.end()) return nullptr;
    return &run_.cells[it->second.first].repetitions[it->second.second];
  }
  const CellData& cell_of(std::int64_t repetition_id) {
    return run_.cells[rep_index_[repetition_id].first];
  }

  void read_run() {
    db_.each("SELECT profile, backend, seed, status FROM runs", [&](const ResultsReader::Row& st) {
      run_.profile = st.text(0);
      run_.backend = st.text(1);
      run_.seed = static_cast<std::uint64_t>(st.integer(2));
      run_.status = st.text(3);
    });
  }

  void read_cells() {
    db_.each("SELECT * FROM cells ORDER BY id", [&](const ResultsReader::Row& st) {
      CellData c;
      for (int i = 0; i < st.columns(); ++i) {
        c.axes[st.name(i)] = st.text(i);
      }
      c.name = c.axes["name"];
      cell_index_[st.integer(0)] = run_.cells.size();
      run_.cells.push_back(std::move(c));
    });
  }

  // Crashed, failed and skipped repetitions are counted with their
  // messages; ok ones get a RepetitionData the later tables fill.
  void read_repetitions() {
    db_.each(
        "SELECT id, cell_id, repetition, status, message, split_check, position FROM repetitions" +
            rows_ + " ORDER BY cell_id, repetition",
        [&](const ResultsReader::Row& st) {
          const auto cell = cell_index_.find(st.integer(1));
          if (cell == cell_index_.end()) {
            throw ReportError(db_path_ + ": a repetition of an unknown cell (damaged index)");
          }
          CellData& c = run_.cells[cell->second];
          const std::string status = st.text(3);
          if (status == "crash") {
            c.crashed++;
            c.crash_excerpts.push_back(st.text(4));
            return;
          }
          if (status != "ok") {
            (status == "skipped" ? c.skipped : c.failed)++;
            c.messages.push_back(st.text(4));
            return;
          }
          RepetitionData r;
          r.repetition = static_cast<unsigned>(st.integer(2));
          r.split_check = st.text(5);
          r.position = static_cast<std::uint64_t>(st.integer(6));
          rep_index_[st.integer(0)] = {cell->second, c.repetitions.size()};
          c.repetitions.push_back(r);
        });
  }

  // fio's figures; the latencies and the bytes asked in the workload's
  // direction.
  void read_metrics() {
    db_.each(
        "SELECT repetition_id, direction, bw_bytes, iops, io_bytes, p50_ns, p90_ns, p99_ns,"
        " p999_ns, runtime_ms FROM metrics",
        [&](const ResultsReader::Row& st) {
          RepetitionData* r = repetition(st.integer(0));
          if (!r) return;
          r->throughput += st.real(2);
          r->bytes_total += static_cast<std::uint64_t>(st.integer(4));
          if ((st.text(1) == "read") == cell_of(st.integer(0)).reads()) {
            r->bytes_asked = static_cast<std::uint64_t>(st.integer(4));
            r->iops = st.real(3);
            r->p50 = st.real(5);
            r->p90 = st.real(6);
            r->p99 = st.real(7);
            r->p999 = st.real(8);
            r->runtime_ms = st.real(9);
          }
        });
  }

  void read_percentiles() {
    db_.each("SELECT repetition_id, direction, percentile, clat_ns FROM percentiles",
             [&](const ResultsReader::Row& st) {
               RepetitionData* r = repetition(st.integer(0));
               if (r && (st.text(1) == "read") == cell_of(st.integer(0)).reads()) {
                 r->percentiles[st.real(2)] = st.real(3);
               }
             });
  }

  void read_path_counters() {
    db_.each(
        "SELECT repetition_id, direction, path, requests, bytes, direct_bytes, buffered_bytes"
        " FROM path_counters",
        [&](const ResultsReader::Row& st) {
          RepetitionData* r = repetition(st.integer(0));
          if (!r) return;
          const Direction d = st.text(1) == "read" ? Direction::Read : Direction::Write;
          const std::string path = st.text(2);
          for (Path p : kAllPaths) {
            if (path != to_string(p)) continue;
            const auto u = [&](int col) { return static_cast<std::uint64_t>(st.integer(col)); };
            r->counters.count(d, p, u(3), p == Path::Split ? u(5) : (p == Path::Direct ? u(4) : 0),
                              p == Path::Split ? u(6) : (p == Path::Direct ? 0 : u(4)));
          }
        });
  }

  // The bytes the devices below moved in the workload's direction: the
  // storage under the scratch area, and a loop target's own device.
  void read_devices() {
    db_.each(
        "SELECT repetition_id, role, read_bytes, write_bytes FROM device_io"
        " WHERE role IN ('storage', 'loop')",
        [&](const ResultsReader::Row& st) {
          RepetitionData* r = repetition(st.integer(0));
          if (!r) return;
          const bool loop = st.text(1) == "loop";
          const bool reads = cell_of(st.integer(0)).reads();
          (loop ? r->loop_bytes : r->device_bytes) +=
              static_cast<std::uint64_t>(st.integer(reads ? 2 : 3));
          (loop ? r->loop_measured : r->device_measured) = true;
        });
  }

  // What the pool read or wrote for the workload, per direction and path:
  // ARC misses (records read from disk, or written through the ARC) and
  // direct I/O; pool_bytes is the main direction's sum.
  void read_pool() {
    db_.each(
        "SELECT repetition_id, name, delta FROM zfs_iostats WHERE name IN"
        " ('arc_read_bytes', 'direct_read_bytes', 'arc_write_bytes', 'direct_write_bytes')",
        [&](const ResultsReader::Row& st) {
          RepetitionData* r = repetition(st.integer(0));
          if (!r) return;
          const std::string name = st.text(1);
          const bool read = name.find("_read_") != std::string::npos;
          PathBytes& bytes = read ? r->pool_read : r->pool_write;
          const auto delta = static_cast<std::uint64_t>(std::max<std::int64_t>(0, st.integer(2)));
          (name.rfind("direct_", 0) == 0 ? bytes.direct : bytes.arc) += delta;
          if (read == cell_of(st.integer(0)).reads()) r->pool_bytes += delta;
          r->pool_measured = true;
        });
  }

  ResultsReader db_;
  std::string db_path_;
  std::string rows_;  // the SQL condition on repetitions
  RunData run_;
  std::map<std::int64_t, std::size_t> cell_index_;                         // cell id -> index
  std::map<std::int64_t, std::pair<std::size_t, std::size_t>> rep_index_;  // id -> cell, repetition
};

// A run whose every cell crashed the guest is still a result to report;
// one with nothing measured and nothing crashed is not.
void require_results(const RunData& run) {
  std::size_t measured = 0, crashed = 0;
  for (const CellData& c : run.cells) {
    measured += c.repetitions.size();
    crashed += c.crashed;
  }
  if (measured == 0 && crashed == 0) {
    throw ReportError(run.dir + (run.host.empty() ? ": the run" : ": host '" + run.host + "'") +
                      " has no measured repetition to report");
  }
}

// The bench drivers' results beside the run, if it has them; a file that
// cannot be read is said in the report, not fatal.
void load_bench(RunData& run) {
  const fs::path bench = fs::path(run.dir) / "bench" / "bench.json";
  if (!fs::exists(bench)) return;
  try {
    run.bench = std::make_shared<const BenchResults>(load_bench_results(bench.string()));
  } catch (const ReportError& e) {
    run.bench_problem = e.what();
  }
}

// The results index of a run directory, or why there is none.
std::string results_index(const std::string& dir) {
  if (!fs::is_directory(dir)) throw ReportError("run directory '" + dir + "' not found");
  const std::string db_path = (fs::path(dir) / "results.db").string();
  if (!fs::exists(db_path))
    throw ReportError(dir + ": no results.db (not a diobench run directory)");
  return db_path;
}

// `wanted` is a host's label (HOST:PORT) or, when that is unique, its
// name without the port.
std::string host_of_run(const std::string& dir, const std::vector<std::string>& hosts,
                        const std::string& wanted) {
  if (hosts.empty())
    throw ReportError("host '" + wanted + "': " + dir + " is not a fleet run (it has no hosts)");
  std::vector<std::string> found;
  for (const std::string& h : hosts) {
    if (h == wanted) return h;
    if (h.substr(0, h.rfind(':')) == wanted) found.push_back(h);
  }
  if (found.size() == 1) return found.front();
  std::string list;
  for (const std::string& h : hosts) list += (list.empty() ? "" : ", ") + h;
  throw ReportError("host '" + wanted + "' is not in " + dir + " (its hosts: " + list + ")");
}

// The run's rows for `host` ("": each repetition's own) with what lies
// beside results.db.
RunData load_rows(const std::string& dir, const std::string& db_path, const std::string& host,
                  Measured measured) {
  RunData run = RunLoader(dir, db_path, host).load();
  run.ramp_s = run_ramp_seconds((fs::path(dir) / "profile.ini").string());
  if (measured == Measured::Required) require_results(run);
  load_guest_lane(run);
  load_bench(run);
  return run;
}

}  // namespace

RunData load_run(const std::string& dir) {
  return load_rows(dir, results_index(dir), "", Measured::Required);
}

RunData load_host_view(const std::string& dir, const std::string& host, Measured measured) {
  const std::string db_path = results_index(dir);
  const std::string label = host_of_run(dir, ResultsReader(db_path, bad_input).hosts(), host);
  return load_rows(dir, db_path, label, measured);
}

}  // namespace diobench
