// The verdict under optional stopping, on simulated sequential runs: each
// run starts with 5 repetitions per cell, adds one repetition to each cell
// per look, asks the verdict after every look and stops at the first PASS
// or FAIL or at 30 repetitions per cell, as `diobench run --until-decided`
// does. With a known true cost, a PASS above the threshold or a FAIL at or
// under it is wrong; each scenario's wrong-decision rate must stay at or
// under 5%, and the easy cases must be decided (a verdict that never
// decides would pass the first check alone). The measured rates are
// printed and recorded as test properties.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "diobench/reports/verdict.hpp"

namespace diobench {
namespace {

constexpr double kThreshold = 0.05;
constexpr unsigned kBase = kMinRepetitions;
constexpr unsigned kCap = 30;
constexpr int kRuns = 500;

// One repetition's factor around the cell's median: a draw from a
// distribution with median 1, "worse" (slower) meaning a lower factor for
// throughput and a higher one for latency.
using Noise = std::function<double(std::mt19937_64&, bool latency)>;

Noise lognormal(double cv) {
  const double sigma = std::sqrt(std::log1p(cv * cv));
  return [sigma](std::mt19937_64& rng, bool) {
    return std::exp(sigma * std::normal_distribution<>()(rng));
  };
}

// Heavy tails both ways: a log factor of 2% times Student's t with 2
// degrees of freedom (no finite variance).
Noise student_t2() {
  return [](std::mt19937_64& rng, bool) {
    return std::exp(0.02 * std::student_t_distribution<>(2)(rng));
  };
}

// Heavy tail on the bad side, as a disturbed repetition looks: CV 2%, and
// one repetition in ten 1.5x to 3x worse.
Noise outliers() {
  return [](std::mt19937_64& rng, bool latency) {
    const double base = std::exp(0.02 * std::normal_distribution<>()(rng));
    if (std::uniform_real_distribution<>()(rng) >= 0.1) return base;
    const double worse = std::uniform_real_distribution<>(1.5, 3.0)(rng);
    return latency ? base * worse : base / worse;
  };
}

// fio reports latency percentiles from a histogram: 64 linear buckets per
// power of two of nanoseconds (FIO_IO_U_PLAT_BITS = 6 in fio's stat.h), so
// equal values are common. Around 100 us a bucket is 1 us wide.
double fio_bucket(double ns) {
  const double step = std::exp2(std::floor(std::log2(ns))) / 64;
  return (std::floor(ns / step) + 0.5) * step;
}

struct Scenario {
  std::string noise_name;
  Noise subject_noise, reference_noise;
  bool latency = false;
  double cost = 0;  // the true cost of the fallback cell
  bool quantized = false;
};

struct Tally {
  int runs = 0, wrong = 0, decided = 0;
  std::vector<unsigned> stops;  // repetitions per cell at each decision
  double wrong_rate() const { return static_cast<double>(wrong) / runs; }
  double decided_rate() const { return static_cast<double>(decided) / runs; }
  unsigned median_stop() const {
    if (stops.empty()) return 0;
    std::vector<unsigned> s = stops;
    std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(s.size() / 2), s.end());
    return s[s.size() / 2];
  }
};

bool wrong(Outcome o, double cost) {
  return (o == Outcome::Pass && cost > kThreshold) || (o == Outcome::Fail && cost <= kThreshold);
}

// One cell's repetitions 1..count around `median`.
std::vector<Measurement> draw(const Scenario& s, const Noise& noise, double median, unsigned count,
                              std::mt19937_64& rng) {
  std::vector<Measurement> v;
  for (unsigned i = 1; i <= count; ++i) {
    double x = median * noise(rng, s.latency);
    if (s.quantized) x = fio_bucket(x);
    v.push_back({i, x});
  }
  return v;
}

double subject_median(const Scenario& s, double reference) {
  return reference * (s.latency ? 1 + s.cost : 1 - s.cost);
}

// What a runner that looks after every added repetition sees: the first
// look (repetitions per cell) with PASS or FAIL, or kCap + 1 for none.
std::pair<Outcome, unsigned> look_by_look(const Scenario& s, const std::vector<Measurement>& a,
                                          const std::vector<Measurement>& b) {
  for (unsigned n = kBase; n <= kCap; ++n) {
    const std::vector<Measurement> sa(a.begin(), a.begin() + n), sb(b.begin(), b.begin() + n);
    const Comparison c = compare_series(sa, sb, s.latency, kThreshold);
    if (c.outcome != Outcome::Inconclusive) return {c.outcome, n};
  }
  return {Outcome::Inconclusive, kCap + 1};
}

// kRuns sequential runs. The decision stands once made, so one call on the
// repetitions up to the cap replays every look; the first runs are also
// asked look by look, as the runner does, and must stop at the same look
// with the same outcome, and a report recomputed after the reference got
// more repetitions (for another comparison) must say the same.
Tally simulate(const Scenario& s, std::uint64_t seed, int runs) {
  std::mt19937_64 rng(seed);
  Tally t;
  const double reference = s.latency ? 100e3 : 500e6;  // 100 us; 500 MB/s
  for (int run = 0; run < runs; ++run) {
    const auto a = draw(s, s.subject_noise, subject_median(s, reference), kCap, rng);
    auto b = draw(s, s.reference_noise, reference, kCap + 5, rng);
    const auto more = b;
    b.resize(kCap);
    const Comparison c = compare_series(a, b, s.latency, kThreshold);
    const unsigned stop = std::max(c.decided_subject_repetitions, c.decided_reference_repetitions);
    ++t.runs;
    if (c.outcome != Outcome::Inconclusive) {
      ++t.decided;
      t.stops.push_back(stop);
    }
    if (wrong(c.outcome, s.cost)) ++t.wrong;
    if (run < 25) {
      const auto [outcome, looked] = look_by_look(s, a, b);
      EXPECT_EQ(outcome, c.outcome) << "run " << run;
      if (outcome != Outcome::Inconclusive) {
        EXPECT_EQ(looked, stop) << "run " << run;
        const std::vector<Measurement> decided(a.begin(), a.begin() + looked);
        EXPECT_EQ(compare_series(decided, more, s.latency, kThreshold).outcome, outcome)
            << "run " << run;
      }
    }
  }
  return t;
}

std::string describe(const Scenario& s) {
  char line[160];
  std::snprintf(line, sizeof line, "%s %s cost %+.0f%%%s", s.latency ? "p99" : "throughput",
                s.noise_name.c_str(), 100 * s.cost, s.quantized ? " fio-buckets" : "");
  return line;
}

Tally run_and_report(const Scenario& s, std::uint64_t seed, int runs = kRuns) {
  const Tally t = simulate(s, seed, runs);
  char line[256];
  std::snprintf(line, sizeof line,
                "%-44s wrong %5.1f%%  decided %5.1f%%  median stop %2u reps/cell",
                describe(s).c_str(), 100 * t.wrong_rate(), 100 * t.decided_rate(), t.median_stop());
  std::printf("[ sequential ] %s\n", line);
  ::testing::Test::RecordProperty(describe(s), line);
  return t;
}

struct NamedNoise {
  std::string name;
  Noise noise;
};

std::vector<NamedNoise> noises() {
  return {{"cv2%", lognormal(0.02)},
          {"cv10%", lognormal(0.10)},
          {"cv30%", lognormal(0.30)},
          {"t2-heavy", student_t2()},
          {"outliers", outliers()}};
}

// True costs inside the threshold (a FAIL is wrong) and outside (a PASS
// is wrong), on every kind of noise, for both metrics.
TEST(VerdictSequential, WrongDecisionsStayAtOrUnderFivePercent) {
  std::uint64_t seed = 20261201;
  for (const NamedNoise& n : noises()) {
    for (bool latency : {false, true}) {
      for (double cost : {0.0, 0.03, 0.05, 0.06, 0.10, 0.20}) {
        const Scenario s{n.name, n.noise, n.noise, latency, cost};
        const Tally t = run_and_report(s, ++seed);
        EXPECT_LE(t.wrong_rate(), 0.05) << describe(s);
      }
    }
  }
}

// The fallback cell noisier than its reference (the shift model's
// assumption broken; measured at 3.4% to 4.3% wrong at the edge in 5000
// runs, hence more runs here), and fio's bucketed latency (ties).
TEST(VerdictSequential, WrongDecisionsStayLowOffTheModel) {
  std::uint64_t seed = 20261301;
  for (double cost : {0.0, 0.05, 0.06, 0.10}) {
    for (bool latency : {false, true}) {
      const Scenario s{"cv10%-vs-cv2%", lognormal(0.10), lognormal(0.02), latency, cost};
      EXPECT_LE(run_and_report(s, ++seed, 4 * kRuns).wrong_rate(), 0.05) << describe(s);
    }
    // A spread below the buckets' width is the hard case: without the
    // allowance for fio's resolution, a 5% cost at CV 0.5% was judged FAIL
    // in 37% of runs.
    for (double cv : {0.005, 0.02}) {
      const Scenario q{"cv" + std::to_string(cv * 100).substr(0, 3) + "%",
                       lognormal(cv),
                       lognormal(cv),
                       true,
                       cost,
                       true};
      EXPECT_LE(run_and_report(q, ++seed).wrong_rate(), 0.05) << describe(q);
    }
  }
}

// Power: at CV 2% a cost of 0% (PASS) or 15% (FAIL) is decided, rightly,
// in nine runs in ten within the cap, and typically within 12 repetitions.
TEST(VerdictSequential, ClearCasesAreDecided) {
  std::uint64_t seed = 20261401;
  for (bool latency : {false, true}) {
    for (double cost : {0.0, 0.15}) {
      const Scenario s{"cv2%", lognormal(0.02), lognormal(0.02), latency, cost};
      const Tally t = run_and_report(s, ++seed);
      EXPECT_GE(static_cast<double>(t.decided - t.wrong) / t.runs, 0.90) << describe(s);
      EXPECT_LE(t.median_stop(), 12u) << describe(s);
    }
  }
}

// The simulation can see the problem it guards against: the same rank
// bounds at a fixed 95% per look, asked after every look, decide wrongly
// far more often than 5% at the edge.
TEST(VerdictSequential, AFixedLevelPerLookFailsTheSameCheck) {
  std::mt19937_64 rng(20261501);
  const Scenario s{"cv10%", lognormal(0.10), lognormal(0.10), false, kThreshold};
  int wrong_fail = 0;
  for (int run = 0; run < kRuns; ++run) {
    const auto a = draw(s, s.subject_noise, subject_median(s, 1), kCap, rng);
    const auto b = draw(s, s.reference_noise, 1, kCap, rng);
    std::vector<double> x, y;
    for (unsigned n = 1; n <= kCap; ++n) {
      x.push_back(std::log(a[n - 1].value));
      y.push_back(std::log(b[n - 1].value));
      if (n < kBase) continue;
      const Interval shift = shift_bounds(x, y, 0.05);
      if (-std::expm1(shift.high) > kThreshold) {  // the whole cost interval above: FAIL
        ++wrong_fail;
        break;
      }
      if (-std::expm1(shift.low) <= kThreshold) break;  // PASS: right, stop
    }
  }
  const double rate = static_cast<double>(wrong_fail) / kRuns;
  std::printf("[ sequential ] fixed 95%% per look, throughput cv10%% cost +5%%: wrong %.1f%%\n",
              100 * rate);
  EXPECT_GT(rate, 0.05);
}

// The looks and what each spends: alpha / (j (j + 1)) for the j-th,
// nothing between looks, and at most alpha over all of them.
TEST(VerdictSequential, TheSpendingAddsUpToAlpha) {
  std::vector<unsigned> looks;
  for (unsigned n = 1; looks.size() < 15; n = next_look(n) + 1) looks.push_back(next_look(n));
  EXPECT_EQ(looks, (std::vector<unsigned>{5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 21, 24, 28, 32, 37}));
  EXPECT_DOUBLE_EQ(look_alpha(10), kVerdictAlpha / 2);
  EXPECT_DOUBLE_EQ(look_alpha(12), kVerdictAlpha / 6);
  EXPECT_DOUBLE_EQ(look_alpha(2 * 37), kVerdictAlpha / (15 * 16));
  for (std::size_t between : {8u, 11u, 13u, 22u, 2u * 11, 2u * 36})
    EXPECT_EQ(look_alpha(between), 0) << between;
  double total = 0;
  unsigned count = 0;
  for (unsigned n = kMinRepetitions; n < 1000000; n = next_look(n + 1), ++count)
    total += look_alpha(2 * n);
  EXPECT_LE(total, kVerdictAlpha);
  EXPECT_NEAR(total, kVerdictAlpha * count / (count + 1), 1e-12);  // the telescoped sum
}

}  // namespace
}  // namespace diobench
