// The report's figures, drawn by gnuplot through gnuplot-iostream: each as
// SVG (inlined into index.html) and PNG (beside report.md).
#pragma once

#include <string>
#include <vector>

#include "diobench/reports/report.hpp"

namespace diobench {

struct Figure {
  std::string title;
  std::string name;  // file stem: <name>.svg and <name>.png in the report directory
};

struct Figures {
  std::vector<Figure> figures;
  std::string gnuplot_errors;  // whatever gnuplot wrote to stderr (empty: none)
  std::size_t omitted = 0;     // workloads past the first 24 get no figures
};

// Throughput per workload (policy x target, median with 95% whiskers),
// completion latency percentile curves per workload, latency (p99, p50)
// against IOPS for cells that sweep iodepth x numjobs (a capacity run),
// and the path split of every cell. Throws std::runtime_error when
// gnuplot cannot be started.
Figures draw_figures(const std::vector<CellSummary>& cells, const std::string& out_dir);

}  // namespace diobench
