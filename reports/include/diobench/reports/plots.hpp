// The report's figures, drawn by gnuplot through gnuplot-iostream: each as
// SVG (inlined into index.html) and PNG (beside report.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "diobench/reports/report.hpp"
#include "diobench/reports/verdict.hpp"

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

// One row of the forest plot: a comparison's ratio (fallback / reference)
// with its interval, coloured by its outcome. A NaN ratio (a crashed cell)
// is drawn as the word CRASH on the row.
struct ForestRow {
  std::string label;  // in words, e.g. "4k rand read QD1: always, loop dio on vs file · throughput"
  double ratio = 0;
  Interval interval;
  Outcome outcome = Outcome::Inconclusive;
};
// The colour of an outcome, in the forest plot and on the page ("#228833").
const char* outcome_colour(Outcome o);
// The forest plot: every row a horizontal bar on a log scale of the ratio,
// the band [1 - threshold, 1 + threshold] shaded behind, as <name>.svg and
// <name>.png in `out_dir` (name "forest"). gnuplot's complaints are
// appended to `gnuplot_errors`. nullopt (nothing drawn) for no rows.
// Throws std::runtime_error when gnuplot cannot be started.
std::optional<Figure> draw_forest_plot(const std::vector<ForestRow>& rows, double threshold,
                                       const std::string& out_dir, std::string& gnuplot_errors);

}  // namespace diobench
