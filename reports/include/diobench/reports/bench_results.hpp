// Google Benchmark results of the bench/ drivers (diobench-bench's JSON, as
// Google Benchmark wrote it): the per-request cost of each I/O path, the
// comparisons a reviewer of the loop-device fix asks for, every driver
// family's instances, and the ceilings (the "roofline") the fio cells of a
// run are held against.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "diobench/reports/document.hpp"
#include "diobench/reports/run_data.hpp"
#include "diobench/statistics.hpp"
#include "diobench/units.hpp"

namespace diobench {

// One repetition of one driver instance (an "iteration" row).
struct BenchRepetition {
  double time_us = 0;  // real time per iteration (= per request), in µs
  double cpu_us = 0;
  std::map<std::string, double> values;  // rates and user counters
};

struct BenchDriver {
  std::string name;    // run name without Google Benchmark's /manual_time
  std::string family;  // the name up to the first '/'
  std::string label;
  std::vector<BenchRepetition> repetitions;  // the ones without an error
  std::vector<std::string> errors;           // distinct error messages
  std::vector<double> times() const;
  // Median over the repetitions of a rate or counter; nullopt if none has it.
  std::optional<double> median_of(const std::string& key) const;
};

struct BenchResults {
  std::string source;  // the file read
  std::map<std::string, std::string> context;
  std::vector<BenchDriver> drivers;  // in the order the file first names them
  const BenchDriver* find(const std::string& name) const;
};

// Throws ReportError naming `path` when it is missing or not Google
// Benchmark JSON.
BenchResults load_bench_results(const std::string& path);
BenchResults parse_bench_results(const std::string& text, const std::string& source);

// Order-statistic (distribution-free) interval of the median: [x_(k),
// x_(n-k+1)] for the largest k whose coverage is still at least `level`.
// nullopt when there are too few values (under 6 for 95%).
struct MedianInterval {
  Interval interval;
  double coverage = 0;
};
std::optional<MedianInterval> median_order_interval(std::vector<double> values, double level);

// The per-request cost table at block size `bs`, the ceilings, and the
// comparisons (ratio of medians, bootstrap 95% interval) at `bs` and, when
// `other_sizes`, at every other block size measured.
Document request_cost_document(const BenchResults& b, std::uint64_t bs, bool other_sizes);

// A table per driver family with every instance: median time, rates,
// counters; failed drivers with their error message, never a number.
Document driver_family_document(const BenchResults& b, int level);

// A fio cell as a fraction of the device ceiling of the same kind.
struct CeilingShare {
  std::optional<double> fraction;  // fio's rate / the ceiling's rate
  std::string ceiling;             // which ceiling, e.g. "O_DIRECT random 4k QD32 (stand-in file)"
  std::string note;                // why there is no fraction
};
CeilingShare ceiling_share(const BenchResults& b, const CellData& cell, double throughput_bps,
                           double iops);

}  // namespace diobench
