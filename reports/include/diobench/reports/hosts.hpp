// A fleet run's hosts in the report (docs/design.md §7.9): each host's own
// cells beside fio's sum over the hosts, and per cell the spread between
// the hosts. The answer, the verdict and the report's Cells table stay on
// the sum ("All clients"), and say so.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "diobench/reports/document.hpp"
#include "diobench/reports/report.hpp"
#include "diobench/reports/run_data.hpp"

namespace diobench {

// One host of a fleet run: its rows read as a run of their own
// (load_host_view), and its cells summarised as any run's are
// (summarize). `cells` points into `run`: not copyable, only moved.
struct HostRun {
  RunData run;
  std::vector<CellSummary> cells;
  HostRun(RunData r, std::uint64_t seed);
  HostRun(const HostRun&) = delete;
  HostRun& operator=(const HostRun&) = delete;
  HostRun(HostRun&&) = default;
  HostRun& operator=(HostRun&&) = default;
};

// Every host of a fleet run, in the run's order; none for a local run.
std::vector<HostRun> load_hosts(const RunData& run, std::uint64_t seed);

// One figure of a cell across the hosts that measured it: the lowest,
// the median and the highest of the hosts' medians.
struct Spread {
  std::size_t hosts = 0;
  double low = 0, median = 0, high = 0;
  double ratio() const { return low > 0 ? high / low : NAN; }  // highest / lowest
};
struct CellSpread {
  std::string cell;
  double sum_throughput = 0;  // fio's sum, median over repetitions (bytes/s)
  Spread throughput, p99;     // bytes/s, ns
};
// Per cell of the sum's summary, in its order.
std::vector<CellSpread> host_spread(const std::vector<CellSummary>& sums,
                                    const std::vector<HostRun>& hosts);

// Which rows the answer, the verdict and the cells of a fleet run are
// computed on, in words; empty for a local run.
std::string fleet_rows_statement(const RunData& run);

// The report's Hosts section: what its rows are, the spread between the
// hosts per cell, each host's cells beside the sum, and the hosts'
// failed repetitions. Empty for a local run.
Document hosts_document(const RunData& run, const std::vector<CellSummary>& sums,
                        const std::vector<HostRun>& hosts);

// hosts.csv: a row per cell and host, fio's sum first ("All clients").
std::string hosts_csv(const std::vector<CellSummary>& sums, const std::vector<HostRun>& hosts);

}  // namespace diobench
