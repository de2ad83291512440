// Statistics against values worked out by hand.
#include "diobench/statistics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace diobench {
namespace {

TEST(Statistics, CentresAndSpread) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_TRUE(std::isnan(median({})));
  EXPECT_DOUBLE_EQ(mean({2, 4, 4, 4, 5, 5, 7, 9}), 5);
  // sample sd = sqrt(32 / 7)
  EXPECT_NEAR(coefficient_of_variation({2, 4, 4, 4, 5, 5, 7, 9}), std::sqrt(32.0 / 7) / 5, 1e-12);
  EXPECT_TRUE(std::isnan(coefficient_of_variation({1})));
}

// a = {19, 22, 16, 29, 24}, b = {20, 11, 17, 12}: pooled ranks give a the
// rank sum 5 + 7 + 3 + 9 + 8 = 32, so U = 32 - 5*6/2 = 17; mu = 10,
// sigma = sqrt(5*4*10/12) = 4.0825, z = (17 - 10 - 0.5) / sigma = 1.5922,
// two-sided p = 2 * (1 - Phi(1.5922)) = 0.1113.
TEST(Statistics, MannWhitneyTextbookCase) {
  const MannWhitney r = mann_whitney_u({19, 22, 16, 29, 24}, {20, 11, 17, 12});
  EXPECT_DOUBLE_EQ(r.u, 17);
  EXPECT_NEAR(r.z, 1.5922, 1e-4);
  EXPECT_NEAR(r.p, 0.1113, 1e-4);
  const MannWhitney swapped = mann_whitney_u({20, 11, 17, 12}, {19, 22, 16, 29, 24});
  EXPECT_DOUBLE_EQ(swapped.u, 3);
  EXPECT_NEAR(swapped.p, r.p, 1e-12);
}

// Ties share midranks: a = {1, 2, 2}, b = {2, 3, 3}. Ranks: 1 -> 1,
// the three 2s -> 3, the two 3s -> 5.5; a's sum = 1 + 3 + 3 = 7, U = 1.
// Tie term: (27 - 3) + (8 - 2) = 30; sigma^2 = 9/12 * (7 - 30/30) = 4.5.
TEST(Statistics, MannWhitneyWithTies) {
  const MannWhitney r = mann_whitney_u({1, 2, 2}, {2, 3, 3});
  EXPECT_DOUBLE_EQ(r.u, 1);
  EXPECT_NEAR(r.z, -(4.5 - 1 - 0.5) / std::sqrt(4.5), 1e-12);
  EXPECT_DOUBLE_EQ(mann_whitney_u({5, 5}, {5, 5}).p, 1.0);
}

// The percentile bootstrap interval of a median has a distribution worked
// out by hand. With nine distinct values x1 < ... < x9, a resample's median
// is at most xk when at least 5 of its 9 draws are, so
// P(median <= xk) = P(Binomial(9, k/9) >= 5):
//   k:  1       2       3       ...  6       7       8
//   P:  0.0014  0.0304  0.1448  ...  0.8552  0.9696  0.9986
// 80%: the 10% quantile is x3 (0.0304 < 0.10 <= 0.1448), the 90% one x7
// (0.8552 < 0.90 <= 0.9696); 90%: x3 and x7 again; 99%: the 0.5% quantile
// is x2, the 99.5% one x8. With 4000 resamples every one of these is more
// than 6 standard errors from the next value, so any seed gives them; the
// bounds lie strictly inside the data's range, and a tail of 1 - level
// instead of (1 - level) / 2 would give x4 and x6 at 80%.
TEST(Statistics, BootstrapMedianIntervalMatchesItsExactDistribution) {
  const std::vector<double> v{101, 97, 104, 99, 103, 98, 105, 100, 102};  // x1 = 97 .. x9 = 105
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const Interval eighty = bootstrap_median_interval(v, 0.80, seed);
    EXPECT_DOUBLE_EQ(eighty.low, 99) << "seed " << seed;
    EXPECT_DOUBLE_EQ(eighty.high, 103) << "seed " << seed;
    const Interval ninety = bootstrap_median_interval(v, 0.90, seed);
    EXPECT_DOUBLE_EQ(ninety.low, 99) << "seed " << seed;
    EXPECT_DOUBLE_EQ(ninety.high, 103) << "seed " << seed;
    const Interval ninety_nine = bootstrap_median_interval(v, 0.99, seed);
    EXPECT_DOUBLE_EQ(ninety_nine.low, 98) << "seed " << seed;
    EXPECT_DOUBLE_EQ(ninety_nine.high, 104) << "seed " << seed;
  }
}

TEST(Statistics, BootstrapIntervalsAreReproducible) {
  const std::vector<double> v{98, 101, 99, 103, 100, 97, 102, 100, 99, 101};
  const Interval a = bootstrap_median_interval(v, 0.95, 42);
  const Interval b = bootstrap_median_interval(v, 0.95, 42);
  EXPECT_EQ(a.low, b.low);  // same seed, same interval
  EXPECT_EQ(a.high, b.high);
  const Interval one = bootstrap_median_interval({5}, 0.95, 1);
  EXPECT_EQ(one.low, 5);
  EXPECT_EQ(one.high, 5);
  // Ratio of two groups 10% apart: the interval holds 1.1, not 1.0.
  std::vector<double> slow;
  for (double x : v) slow.push_back(x * 1.1);
  const Interval r = bootstrap_ratio_interval(slow, v, 0.95, 7);
  EXPECT_TRUE(r.contains(1.1));
  EXPECT_FALSE(r.contains(1.0));
}

// Two samples of two: of the C(4, 2) = 6 equally likely arrangements, U
// (pairs with x below y) is 0, 1, 2, 2, 3, 4.
TEST(Statistics, RankSumDistributionByHand) {
  EXPECT_DOUBLE_EQ(mann_whitney_cdf(2, 2, 0), 1.0 / 6);
  EXPECT_DOUBLE_EQ(mann_whitney_cdf(2, 2, 1), 2.0 / 6);
  EXPECT_DOUBLE_EQ(mann_whitney_cdf(2, 2, 2), 4.0 / 6);
  EXPECT_DOUBLE_EQ(mann_whitney_cdf(2, 2, 4), 1);
  EXPECT_DOUBLE_EQ(mann_whitney_cdf(2, 2, -1), 0);
  // Five and five: U = 0, 1, 2, 3 in 1, 1, 2, 3 of the 252 arrangements
  // (partitions of U into at most five parts of at most five).
  EXPECT_DOUBLE_EQ(mann_whitney_cdf(5, 5, 3), 7.0 / 252);
  // Symmetric: P(U <= u) = P(U >= nm - u) = 1 - P(U <= nm - u - 1).
  for (double u : {3.0, 17.0, 30.0}) {
    EXPECT_NEAR(mann_whitney_cdf(7, 9, u), 1 - mann_whitney_cdf(7, 9, 63 - u - 1), 1e-12) << u;
  }
  // Past the exact limit, the normal approximation: centred.
  EXPECT_NEAR(mann_whitney_cdf(70, 70, 2450), 0.5, 0.01);
}

TEST(Statistics, ShiftBoundRankSpendsNoMoreThanAlpha) {
  // Cumulative 1, 2, 4, 7 of 252: 4/252 = 0.0159 fits 0.025, 7/252 does not.
  EXPECT_EQ(shift_bound_rank(5, 5, 0.025), 3u);
  EXPECT_EQ(shift_bound_rank(5, 5, 1.0 / 252), 1u);
  EXPECT_EQ(shift_bound_rank(5, 5, 0.003), 0u);
  EXPECT_EQ(shift_bound_rank(2, 2, 0.05), 0u);
  for (std::size_t n : {8u, 11u, 40u, 80u}) {  // 1 / C(16, 8) = 7.8e-5
    const std::size_t k = shift_bound_rank(n, n, 1e-4);
    ASSERT_GT(k, 0u) << n;
    EXPECT_LE(mann_whitney_cdf(n, n, static_cast<double>(k) - 1), 1e-4) << n;
    EXPECT_GT(mann_whitney_cdf(n, n, static_cast<double>(k)), 1e-4) << n;
  }
}

// x - y takes 5..13 with multiplicities 1 2 3 4 5 4 3 2 1: the 3rd smallest
// is 6, the 3rd largest 12, the 13th (the median) 9.
TEST(Statistics, ShiftBoundsArePairwiseDifferences) {
  const std::vector<double> x{10, 11, 12, 13, 14}, y{5, 1, 3, 2, 4};
  const Interval b = shift_bounds(x, y, 0.025);
  EXPECT_DOUBLE_EQ(b.low, 6);
  EXPECT_DOUBLE_EQ(b.high, 12);
  EXPECT_DOUBLE_EQ(hodges_lehmann_shift(x, y), 9);
  const Interval none = shift_bounds({1, 2}, {3, 4}, 0.05);
  EXPECT_EQ(none.low, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(none.high, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(hodges_lehmann_shift({}, {1})));
}

}  // namespace
}  // namespace diobench
