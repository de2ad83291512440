// Statistics over repetitions: robust centres, spreads, confidence
// intervals by bootstrap (recorded seed, so a report can be reproduced
// exactly), the Mann-Whitney U test for comparing two runs, and the
// distribution-free bounds on a shift between two samples that the
// verdict uses.
#pragma once

#include <cstddef>
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
  double u = 0;  // U of the first sample
  double z = 0;  // normal approximation, tie- and continuity-corrected
  double p = 1;  // two-sided
};

// Two-sided Mann-Whitney U test (normal approximation with tie correction;
// reliable from about 8 values per side, which callers should say).
MannWhitney mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b);

// P(U <= u) for the Mann-Whitney count U = #{(i, j): x_i < y_j} of two
// samples of sizes n and m drawn from one continuous distribution. Exact
// (counted with the Gaussian binomial coefficient [n+m choose n]) while
// n + m <= kExactRankLimit; above, the normal approximation with continuity
// correction, which overstates these tails (U's are lighter), so bounds
// built on it stay on the safe side.
inline constexpr std::size_t kExactRankLimit = 120;
double mann_whitney_cdf(std::size_t n, std::size_t m, double u);

// The largest k with P(U <= k - 1) <= alpha: the rank of the pairwise
// difference that bounds a shift at one-sided level 1 - alpha. 0 when even
// the most extreme difference is not rare enough (too few values).
// Remembered per (n, m, alpha): the verdict asks the same few many times.
std::size_t shift_bound_rank(std::size_t n, std::size_t m, double alpha);

// One-sided bounds on the shift d in "x is distributed as y + d", each
// holding with probability at least 1 - alpha whatever the (continuous)
// distribution: the k-th smallest and the k-th largest of the n * m
// differences x_i - y_j, k = shift_bound_rank(n, m, alpha) (Hollander and
// Wolfe, Nonparametric Statistical Methods, the interval that inverts the
// Wilcoxon rank-sum test). -inf / +inf when k is 0.
Interval shift_bounds(const std::vector<double>& x, const std::vector<double>& y, double alpha);

// The Hodges-Lehmann estimate of that shift: the median of the n * m
// differences x_i - y_j. NaN when either sample is empty.
double hodges_lehmann_shift(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace diobench
