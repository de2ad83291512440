// Per-request measurement shared by the drivers.
//
// Every I/O driver times its own requests (UseManualTime): set-up work that
// must happen between requests, such as dropping the page cache again when
// a cold pass wraps around, then costs nothing, without PauseTiming's
// overhead. Each request's latency is also kept, so that a repetition
// reports its own p50/p99/max request latency as counters next to Google
// Benchmark's per-iteration time; across repetitions ComputeStatistics adds
// p50/p99/max rows for both.
#pragma once

#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdint>
#include <vector>

namespace diobench::bench {

// CLOCK_MONOTONIC in nanoseconds (vDSO: ~20 ns with the TSC clocksource).
inline std::uint64_t NowNs() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

class RequestClock {
 public:
  explicit RequestClock(const benchmark::State& state);

  // The time one benchmark iteration took (QD1: the request's latency;
  // QD>1: the interval between completions, i.e. the amortised cost).
  void Iteration(benchmark::State& state, std::uint64_t ns) {
    state.SetIterationTime(static_cast<double>(ns) * 1e-9);
  }
  // One request's submit-to-completion latency.
  void Request(std::uint64_t ns) { latencies_ns_.push_back(ns); }

  // Sets the counters of a finished (not failed) run:
  // bytes_per_second, items_per_second (rates over the manual time) and
  // lat_p50_us, lat_p99_us, lat_max_us (this repetition's requests).
  void Publish(benchmark::State& state, std::uint64_t bytes_per_request);

 private:
  std::vector<std::uint64_t> latencies_ns_;
};

// bytes_per_second / items_per_second with the flags a report parser
// expects (rates; bytes 1024-based).
void SetRateCounters(benchmark::State& state, std::uint64_t requests,
                     std::uint64_t bytes_per_request);

// Registration defaults of every driver: microseconds, every repetition
// kept in the output (the U-test of compare.py needs them), p50/p99/max
// across repetitions. Use with Benchmark::Apply.
void RequestDefaults(benchmark::internal::Benchmark* b);   // + UseManualTime
void RealTimeDefaults(benchmark::internal::Benchmark* b);  // + UseRealTime

// Block sizes of the synchronous paths: 4k, 16k, 64k, 256k, 1M.
void AllBlockSizes(benchmark::internal::Benchmark* b);
// 4k, 64k, 1M: for the variants that differ by a constant per request.
void FewBlockSizes(benchmark::internal::Benchmark* b);

}  // namespace diobench::bench
