// Statistics over repetitions: robust centres, spreads, confidence
// intervals by bootstrap (recorded seed, so a report can be reproduced
// exactly) and the Mann-Whitney U test for comparing two runs.
#pragma once

#include <cstdint>
#include <vector>

namespace diobench {

double median(std::vector<double> values);  // NaN when empty
double mean(const std::vector<double>& values);
// Sample standard deviation / mean; NaN with fewer than 2 values.
double coefficient_of_variation(const std::vector<double>& values);

struct Interval {
  double low = 0, high = 0;
  bool contains(double x) const { return low <= x && x <= high; }
};

inline constexpr int kBootstrapResamples = 4000;

// Percentile bootstrap interval of the median at `level` (e.g. 0.95).
// Fewer than 2 values: the degenerate interval [x, x].
Interval bootstrap_median_interval(const std::vector<double>& values, double level,
                                   std::uint64_t seed, int resamples = kBootstrapResamples);

// Percentile bootstrap interval of median(a) / median(b), resampling each
// group on its own.
Interval bootstrap_ratio_interval(const std::vector<double>& a, const std::vector<double>& b,
                                  double level, std::uint64_t seed,
                                  int resamples = kBootstrapResamples);

struct MannWhitney {
  double u = 0;   // U of the first sample
  double z = 0;   // normal approximation, tie- and continuity-corrected
  double p = 1;   // two-sided
};

// Two-sided Mann-Whitney U test (normal approximation with tie correction;
// reliable from about 8 values per side, which callers should say).
MannWhitney mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace diobench
