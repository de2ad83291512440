// Profiles: the matrix a run covers, as an INI file (parsed with
// Boost.Program_options) beside a fio job template. See profiles/README.md
// for the format.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "diobench/runner/cell.hpp"

namespace diobench {

// [bench]: the Google Benchmark drivers (bench/), run once after the
// matrix on the same scratch area; their JSON goes into the run directory.
struct BenchSettings {
  std::string drivers = "none";   // none | all | a --benchmark_filter regex
  unsigned repetitions = 9;       // per driver, every one kept in the JSON
  double min_time_s = 0.5;        // per repetition of a driver
  unsigned file_size_mib = 1024;  // the drivers' large data file
  bool enabled() const { return drivers != "none"; }
  // none, all, or a regular expression Google Benchmark can use as a filter.
  static bool valid_drivers(const std::string& drivers);
};

struct Profile {
  std::string path;  // the INI file, absolute
  std::string name;  // file name without .ini
  std::string description;
  unsigned repetitions = 1;
  unsigned ramp_s = 1;
  unsigned runtime_s = 2;
  std::uint64_t size = 256ull << 20;  // bytes per target
  std::string job_template;           // absolute path of the fio job file
  std::uint64_t seed = 0;             // cell order; 0: chosen at run time
  // --until-decided: the run time allowed, base repetitions included, and
  // the most repetitions a cell may get.
  double budget_s = 30 * 60;
  unsigned max_repetitions = 30;
  std::vector<Cell> cells;  // expanded, in profile order
  BenchSettings bench;
  // [hosts] list: HOST[:PORT] of each fleet host (fleet.hpp), as written;
  // empty: the run is local.
  std::vector<std::string> hosts;

  // Seconds a run of `cells` would take with `repetitions` each, counting
  // ramp, runtime and a per-repetition allowance for set-up.
  double estimated_seconds(std::size_t cell_count, unsigned repetitions) const;
  // The guess for one repetition before any was measured: ramp, runtime
  // and a set-up allowance (the run learns the real cost: repetition_cost.hpp).
  double seconds_per_repetition() const;
};

// A duration as people write it: 900, 900s, 15m, 1h30m, 14m30s (whole
// seconds, minutes, hours); nullopt for anything else or zero.
std::optional<double> parse_duration(const std::string& text);
// "m:ss" (or "h:mm:ss"), seconds rounded.
std::string format_duration(double seconds);

// A defect in a profile: where it is and what is wrong.
class ProfileError : public std::runtime_error {
 public:
  ProfileError(const std::string& file, int line, const std::string& key,
               const std::string& problem);
};

// Reads, validates and expands a profile; backend applies to every cell.
// Throws ProfileError (file, line, key) for anything malformed.
Profile load_profile(const std::string& path, const std::string& backend);
// The same from the profile's text; `path` names it in errors and locates
// the job template beside it.
Profile parse_profile(const std::string& text, const std::string& path, const std::string& backend);

// The ramp a profile file gives (its default where it gives none), read by
// the same parser, for the report of a run made with it: nothing else of
// the profile is checked (a run directory keeps its profile but the
// fixtures of old runs may lack the job template). Throws ProfileError.
double profile_ramp_seconds(const std::string& path);

// The values profiles/job.fio reads for a cell (${DIOBENCH_*}): the local
// runner puts them in fio's environment, a fleet run writes them into the
// job it sends (fleet.hpp). `target` is what fio opens, `counters` the
// engine's sidecar.
std::map<std::string, std::string> job_values(const Cell& cell, const Profile& profile,
                                              const std::string& engine, const std::string& target,
                                              const std::string& counters);

// Keeps the cells whose axes match every filter ("axis=value"); several
// filters on one axis are alternatives. Throws std::invalid_argument naming
// the filter when it is not axis=value or names an unknown axis.
std::vector<Cell> filter_cells(const std::vector<Cell>& cells,
                               const std::vector<std::string>& filters);

}  // namespace diobench
