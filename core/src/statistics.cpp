#include "diobench/statistics.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <tuple>

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

Interval bootstrap_median_interval(const std::vector<double>& v, double level, std::uint64_t seed,
                                   int resamples) {
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

namespace {

// How many of the C(n+m, n) equally likely arrangements give U = u, for
// every u in [0, n*m]: the coefficients of the Gaussian binomial
// [n+m choose n]_q = prod_{i=1..n} (1 - q^(m+i)) / (1 - q^i). Each partial
// product is itself a polynomial with counts up to C(m+i, i), so 128-bit
// integers hold them exactly while n + m <= kExactRankLimit.
std::vector<__int128> rank_sum_counts(std::size_t n, std::size_t m) {
  std::vector<__int128> c(n * m + n + 1, 0);
  c[0] = 1;
  std::size_t degree = 0;
  for (std::size_t i = 1; i <= n; ++i) {
    const std::size_t up = m + i;
    for (std::size_t u = degree + up; u >= up; --u) c[u] -= c[u - up];  // times (1 - q^(m+i))
    for (std::size_t u = i; u <= degree + up; ++u) c[u] += c[u - i];    // over (1 - q^i)
    degree = i * m;
  }
  c.resize(n * m + 1);
  return c;
}

double normal_rank_cdf(std::size_t n, std::size_t m, double u) {
  const double nn = static_cast<double>(n), mm = static_cast<double>(m);
  const double sigma = std::sqrt(nn * mm * (nn + mm + 1) / 12);
  const boost::math::normal standard;
  return boost::math::cdf(standard, (std::floor(u) + 0.5 - nn * mm / 2) / sigma);
}

}  // namespace

double mann_whitney_cdf(std::size_t n, std::size_t m, double u) {
  if (u < 0) return 0;
  if (n == 0 || m == 0 || u >= static_cast<double>(n * m)) return 1;
  if (n + m > kExactRankLimit) return normal_rank_cdf(n, m, u);
  const std::vector<__int128> counts = rank_sum_counts(n, m);
  __int128 below = 0, total = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    total += counts[i];
    if (static_cast<double>(i) <= u) below += counts[i];
  }
  return static_cast<double>(static_cast<long double>(below) / static_cast<long double>(total));
}

namespace {

std::size_t compute_shift_bound_rank(std::size_t n, std::size_t m, double alpha) {
  if (n == 0 || m == 0) return 0;
  if (n + m > kExactRankLimit) {
    std::size_t k = 0;  // P(U <= k - 1) grows with k: step while it stays <= alpha
    while (k < n * m && normal_rank_cdf(n, m, static_cast<double>(k)) <= alpha) ++k;
    return k;
  }
  const std::vector<__int128> counts = rank_sum_counts(n, m);
  const __int128 total = std::accumulate(counts.begin(), counts.end(), __int128{0});
  // alpha as the caller wrote it (1.0 / 252 must admit 1 of 252).
  const long double limit =
      static_cast<long double>(alpha) * static_cast<long double>(total) * (1 + 1e-12L);
  __int128 below = 0;
  std::size_t k = 0;
  while (k < counts.size() && static_cast<long double>(below + counts[k]) <= limit)
    below += counts[k++];
  return k;
}

std::vector<double> pairwise_differences(const std::vector<double>& x,
                                         const std::vector<double>& y) {
  std::vector<double> d;
  d.reserve(x.size() * y.size());
  for (double a : x) {
    for (double b : y) d.push_back(a - b);
  }
  return d;
}

}  // namespace

std::size_t shift_bound_rank(std::size_t n, std::size_t m, double alpha) {
  static std::mutex lock;
  static std::map<std::tuple<std::size_t, std::size_t, double>, std::size_t> known;
  const auto key = std::make_tuple(n, m, alpha);
  {
    const std::lock_guard<std::mutex> hold(lock);
    if (const auto it = known.find(key); it != known.end()) return it->second;
  }
  const std::size_t k = compute_shift_bound_rank(n, m, alpha);
  const std::lock_guard<std::mutex> hold(lock);
  known.emplace(key, k);
  return k;
}

Interval shift_bounds(const std::vector<double>& x, const std::vector<double>& y, double alpha) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::size_t k = shift_bound_rank(x.size(), y.size(), alpha);
  if (k == 0) return Interval{-inf, inf};
  // The k-th smallest and the k-th largest of x_i - y_j; selecting the
  // second among what the first left above it.
  std::vector<double> d = pairwise_differences(x, y);
  const auto low = d.begin() + static_cast<std::ptrdiff_t>(k - 1);
  const auto high = d.end() - static_cast<std::ptrdiff_t>(k);
  std::nth_element(d.begin(), low, d.end());
  const double lower = *low;
  if (high > low) std::nth_element(low + 1, high, d.end());
  if (high < low) std::nth_element(d.begin(), high, low);  // alpha above one half
  return Interval{lower, *high};
}

double hodges_lehmann_shift(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.empty() || y.empty()) return std::nan("");
  return median(pairwise_differences(x, y));
}

}  // namespace diobench
