#include "diobench/statistics.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <numeric>
#include <random>

namespace diobench {

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  const std::size_t n = v.size();
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2), v.end());
  const double upper = v[n / 2];
  if (n % 2) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2));
  return (lower + upper) / 2;
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return std::nan("");
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double coefficient_of_variation(const std::vector<double>& v) {
  if (v.size() < 2) return std::nan("");
  const double m = mean(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1)) / m;
}

namespace {

std::vector<double> resample(const std::vector<double>& v, std::mt19937_64& rng) {
  std::uniform_int_distribution<std::size_t> pick(0, v.size() - 1);
  std::vector<double> out(v.size());
  for (double& x : out) x = v[pick(rng)];
  return out;
}

// The [(1-level)/2, (1+level)/2] quantiles of `stats` (sorted in place).
Interval percentile_interval(std::vector<double>& stats, double level) {
  std::sort(stats.begin(), stats.end());
  const double tail = (1 - level) / 2;
  auto at = [&](double q) {
    const double pos = q * static_cast<double>(stats.size() - 1);
    const std::size_t i = static_cast<std::size_t>(pos);
    const double frac = pos - static_cast<double>(i);
    return i + 1 < stats.size() ? stats[i] * (1 - frac) + stats[i + 1] * frac : stats[i];
  };
  return Interval{at(tail), at(1 - tail)};
}

}  // namespace

Interval bootstrap_median_interval(const std::vector<double>& v, double level,
                                   std::uint64_t seed, int resamples) {
  if (v.size() < 2) {
    const double x = median(v);
    return Interval{x, x};
  }
  std::mt19937_64 rng(seed);
  std::vector<double> stats;
  stats.reserve(static_cast<std::size_t>(resamples));
  for (int i = 0; i < resamples; ++i) stats.push_back(median(resample(v, rng)));
  return percentile_interval(stats, level);
}

Interval bootstrap_ratio_interval(const std::vector<double>& a, const std::vector<double>& b,
                                  double level, std::uint64_t seed, int resamples) {
  if (a.size() < 2 || b.size() < 2) {
    const double r = median(a) / median(b);
    return Interval{r, r};
  }
  std::mt19937_64 rng(seed);
  std::vector<double> stats;
  stats.reserve(static_cast<std::size_t>(resamples));
  for (int i = 0; i < resamples; ++i) {
    stats.push_back(median(resample(a, rng)) / median(resample(b, rng)));
  }
  return percentile_interval(stats, level);
}

MannWhitney mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b) {
  MannWhitney r;
  const double n1 = static_cast<double>(a.size()), n2 = static_cast<double>(b.size());
  if (a.empty() || b.empty()) return r;
  // Midranks over the pooled sample; ties share their average rank.
  std::vector<std::pair<double, int>> pooled;
  for (double x : a) pooled.emplace_back(x, 0);
  for (double x : b) pooled.emplace_back(x, 1);
  std::sort(pooled.begin(), pooled.end());
  double rank_sum_a = 0, tie_term = 0;
  for (std::size_t i = 0; i < pooled.size();) {
    std::size_t j = i;
    while (j < pooled.size() && pooled[j].first == pooled[i].first) ++j;
    const double avg = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    const double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    for (std::size_t k = i; k < j; ++k) {
      if (pooled[k].second == 0) rank_sum_a += avg;
    }
    i = j;
  }
  r.u = rank_sum_a - n1 * (n1 + 1) / 2;
  const double n = n1 + n2;
  const double mu = n1 * n2 / 2;
  const double sigma = std::sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))));
  if (sigma == 0) return r;  // every value tied: no evidence of a difference
  const double diff = r.u - mu;
  r.z = (std::fabs(diff) - 0.5) / sigma * (diff < 0 ? -1 : 1);
  if (std::fabs(diff) < 0.5) r.z = 0;
  const boost::math::normal standard;
  r.p = std::min(1.0, 2 * boost::math::cdf(boost::math::complement(standard, std::fabs(r.z))));
  return r;
}

}  // namespace diobench
