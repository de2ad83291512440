#include "request_timing.hpp"

#include <algorithm>
#include <cmath>

namespace diobench::bench {
namespace {

// A repetition with more requests than this still works; the reserve only
// keeps the vector from reallocating while the clock is running.
constexpr benchmark::IterationCount kMaxReserved = 1 << 24;

// Linear interpolation between closest ranks (numpy's default), so that
// p50 of an even count is the mean of the middle two, like the median row.
double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const double rank = q * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(rank));
  const std::size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (rank - static_cast<double>(below)) * (values[above] - values[below]);
}

double P50(const std::vector<double>& v) { return Percentile(v, 0.50); }
double P99(const std::vector<double>& v) { return Percentile(v, 0.99); }
double Max(const std::vector<double>& v) {
  return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
}

// Nearest-rank percentile of request latencies, in microseconds. The
// vector is reordered (nth_element), which is fine once the run is over.
double LatencyUs(std::vector<std::uint64_t>& ns, double q) {
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ns.size())));
  const std::size_t index = rank == 0 ? 0 : rank - 1;
  std::nth_element(ns.begin(), ns.begin() + static_cast<std::ptrdiff_t>(index), ns.end());
  return static_cast<double>(ns[index]) / 1e3;
}

void CommonDefaults(benchmark::internal::Benchmark* b) {
  b->Unit(benchmark::kMicrosecond)
      ->ReportAggregatesOnly(false)
      ->ComputeStatistics("p50", P50)
      ->ComputeStatistics("p99", P99)
      ->ComputeStatistics("max", Max);
}

}  // namespace

RequestClock::RequestClock(const benchmark::State& state) {
  latencies_ns_.reserve(static_cast<std::size_t>(std::min(state.max_iterations, kMaxReserved)));
}

void RequestClock::Publish(benchmark::State& state, std::uint64_t bytes_per_request) {
  SetRateCounters(state, static_cast<std::uint64_t>(state.iterations()), bytes_per_request);
  if (latencies_ns_.empty()) return;
  // Plain values (no flags): a repetition's own distribution, not a rate.
  state.counters["lat_p50_us"] = LatencyUs(latencies_ns_, 0.50);
  state.counters["lat_p99_us"] = LatencyUs(latencies_ns_, 0.99);
  state.counters["lat_max_us"] = LatencyUs(latencies_ns_, 1.0);
}

void SetRateCounters(benchmark::State& state, std::uint64_t requests,
                     std::uint64_t bytes_per_request) {
  using benchmark::Counter;
  state.counters["bytes_per_second"] = Counter(static_cast<double>(requests * bytes_per_request),
                                               Counter::kIsRate, Counter::kIs1024);
  state.counters["items_per_second"] = Counter(static_cast<double>(requests), Counter::kIsRate);
}

void RequestDefaults(benchmark::internal::Benchmark* b) {
  CommonDefaults(b);
  b->UseManualTime();
}

void RealTimeDefaults(benchmark::internal::Benchmark* b) {
  CommonDefaults(b);
  b->UseRealTime();
}

void AllBlockSizes(benchmark::internal::Benchmark* b) {
  b->ArgName("bs");
  for (std::int64_t bs = 4 << 10; bs <= 1 << 20; bs *= 4) b->Arg(bs);
}

void FewBlockSizes(benchmark::internal::Benchmark* b) {
  b->ArgName("bs")->Arg(4 << 10)->Arg(64 << 10)->Arg(1 << 20);
}

}  // namespace diobench::bench
