// results.db: the SQLite index of a run directory. The raw files (fio's
// JSON as fio wrote it, the counters sidecars) stay beside it; the index
// holds what reports query: runs, cells, repetitions, metrics with
// percentiles, path counters, the bytes the devices below moved, and the
// system information. Each repetition is stored in one transaction, so a
// crash leaves either all of a repetition or none of it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "diobench/fio_result.hpp"
#include "diobench/path_counters.hpp"
#include "diobench/runner/cell.hpp"
#include "diobench/runner/system_info.hpp"
#include "diobench/sqlite.hpp"

namespace diobench {

// Now, as the store writes times: ISO 8601 UTC to the second.
std::string utc_timestamp();

struct RepetitionRecord {
  std::string cell;  // Cell::name()
  // Where it ran: "" this machine; in a fleet run HOST:PORT, or
  // kFioAllClients for fio's sum over the hosts (fleet.hpp).
  std::string host;
  unsigned repetition = 0;
  unsigned position = 0;  // 1-based place in the run's order
  std::string status;     // ok | failed | skipped | crash (the kernel died during it)
  std::string message;
  std::string started, finished;  // ISO 8601 UTC
  // Where the repetition's wall time went (ms): the whole of it, the
  // cache drop and check, and the fio process from spawn to exit.
  double elapsed_ms = 0, cache_drop_ms = 0, fio_ms = 0;
  std::string fio_json, counters_file;  // relative to the run directory
  std::optional<FioResult> fio;
  std::optional<PathCounters> counters;
  std::vector<DeviceIo> devices;
  // zfs backend: the pool's iostats deltas, and whether the path they
  // prove agrees with the split the engine expected ("agrees",
  // "contradicts"; empty elsewhere).
  std::map<std::string, std::uint64_t> zfs_iostats;
  std::string split_check;
  // zfs backend: the ARC's data_size (arcstats) before and after the ARC
  // was dropped for this repetition; absent where it was not dropped.
  std::optional<std::uint64_t> arc_data_before, arc_data_after;
  // CPU (fio_process.hpp): the machine's non-idle seconds over all CPUs
  // while fio ran, that window's wall seconds, fio's own user + system
  // seconds; absent where not measured.
  std::optional<double> cpu_busy_s, cpu_window_s, fio_cpu_s;
  // zfs backend: the ARC's counter deltas over fio (arc_check.hpp), and
  // whether they show the ARC served what the model expects from disk
  // (nullopt: not checked; "ok"; or what was seen).
  std::map<std::string, std::uint64_t> arcstats;
  std::optional<std::string> arc_check;
};

// A repetition's record as it starts: its cell, number, place in the run
// and start time; the rest is filled in as it runs.
RepetitionRecord starting_repetition(const Cell& cell, unsigned repetition, unsigned position);

// Where a repetition's raw files go, relative to the run directory
// (raw/<cell>/rep<N>; fio's JSON, its log, the engine's counters add
// their suffixes).
std::string raw_files_base(const Cell& cell, unsigned repetition);

class ResultStore {
 public:
  explicit ResultStore(const std::string& db_path);  // creates the schema

  // The run row (one per run directory); returns its id.
  void begin_run(const std::string& profile, const std::string& backend, std::uint64_t seed,
                 const std::string& started);
  void finish_run(const std::string& status, const std::string& finished);
  void add_cells(const std::vector<Cell>& cells);  // idempotent by name
  void add_system_info(const std::map<std::string, std::string>& info);
  void add_repetition(const RepetitionRecord& r);  // one transaction
  // A repetition's rows, every host's and the sum, in one transaction;
  // they replace every row stored before for that cell and repetition.
  void add_repetitions(const std::vector<RepetitionRecord>& rows);

  // (cell name, repetition) pairs already stored with status ok (on every
  // host, in a fleet run).
  std::set<std::pair<std::string, unsigned>> finished_repetitions() const;
  std::optional<std::uint64_t> seed() const;
  // Cells with a repetition that crashed the machine.
  std::set<std::string> crashed_cells() const;
  // Every stored repetition (identity, status, message, file names,
  // elapsed_ms, host; no parsed results), in run order: what an earlier invocation left.
  std::vector<RepetitionRecord> stored_repetitions() const;

 private:
  sqlite::Database db_;
};

}  // namespace diobench
