// `diobench report`: per-cell statistics, the verdict, amplification
// findings and the run's system information, written as cells.csv,
// report.md and index.html with figures, and the verdict table on stdout.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "diobench/reports/run_data.hpp"
#include "diobench/reports/verdict.hpp"

namespace diobench {

struct CellSummary {
  const CellData* cell = nullptr;
  std::size_t n = 0;
  double throughput_median = 0, throughput_mean = 0, throughput_cv = 0;
  Interval throughput_interval;  // 95% bootstrap, of the median
  double iops_median = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0;  // medians across repetitions (ns)
  Interval p99_interval;
  double amplification = 0;  // device bytes / bytes asked (median); 0: unknown
  PathCounters split;        // summed over repetitions
  bool contradiction = false;
  // CPU seconds per GiB moved (RepetitionData::cpu_per_gib): every CPU's
  // non-idle time (/proc/stat) and fio's own user + system time; medians
  // with 95% bootstrap intervals over the repetitions that recorded them
  // (cpu_n and fio_cpu_n; 0: not recorded).
  double cpu_per_gib = 0, fio_cpu_per_gib = 0;
  Interval cpu_per_gib_interval, fio_cpu_per_gib_interval;
  std::size_t cpu_n = 0, fio_cpu_n = 0;
};

std::vector<CellSummary> summarize(const RunData& run, std::uint64_t seed);

// A cell whose storage moved more than twice what was asked, and why.
struct Finding {
  std::string cell;
  double amplification = 0;
  std::string cause;
};
std::vector<Finding> amplification_findings(const std::vector<CellSummary>& cells);

// The answer (answer.hpp), then the verdict comparison by comparison
// (the effect in words, its interval, the outcome, the CPU ratio), then
// the cells that crashed the guest with the first lines of each excerpt.
void print_verdict(const RunData& run, const std::vector<Comparison>& verdict, double threshold,
                   std::ostream& out);

// "ok", "CRASH" (the guest crashed during a repetition) or "no data".
std::string cell_outcome(const CellData& c);

struct Figure;

// Writes cells.csv, report.md (with the figures' PNGs) and a
// self-contained index.html (CSS and the figures' SVG inline) into
// `out_dir`, where the figures already are.
void write_report(const RunData& run, const std::vector<CellSummary>& cells,
                  const std::vector<Comparison>& verdict, double threshold,
                  const std::vector<Figure>& figures, std::size_t figures_omitted,
                  const std::string& out_dir);

}  // namespace diobench
