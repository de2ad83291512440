#include "diobench/reports/verdict.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <cstdio>
#include <map>

#include "diobench/policy.hpp"
#include "diobench/units.hpp"

namespace diobench {

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::Pass:
      return "PASS";
    case Outcome::Fail:
      return "FAIL";
    case Outcome::Inconclusive:
      return "INCONCLUSIVE";
    case Outcome::Crash:
      return "CRASH";
  }
  return "?";
}

bool is_fallback_path_cell(const CellData& c) {
  if (c.axis("target") != "loop") return false;
  const auto policy = parse_policy(c.axis("policy"));
  const auto rules = parse_semantics_label(c.axis("semantics"));
  const auto recordsize = parse_size(c.axis("recordsize"));
  if (!policy) return false;
  PolicyConfig config;
  config.policy = *policy;
  if (rules) {
    config.semantics = rules->semantics;
    config.dio_strict = rules->dio_strict;
  }
  if (recordsize) config.recordsize = *recordsize;
  config.loop_buffered = c.loop_buffered;
  return loop_workload_takes_direct_path(config, c.axis("rw"), c.axis("bs"),
                                         c.axis("loop_dio") == "on");
}

std::string workload_group(const CellData& c) { return workload_group(c, c.axis("workload")); }

std::string workload_group(const CellData& c, const std::string& workload) {
  std::string g = workload;
  if (c.axis("app_direct") == "1") g += " O_DIRECT";
  g += " " + c.axis("submit");
  if (c.axis("semantics") != "2.3") g += " zfs" + c.axis("semantics");
  if (c.axis("recordsize") != "131072") g += " rs=" + c.axis("recordsize");
  if (c.axis("backend") != "emulated") g = c.axis("backend") + " " + g;
  return g;
}

unsigned next_look(unsigned repetitions) {
  unsigned n = kMinRepetitions;
  while (n < repetitions) n = std::max(n + 1, static_cast<unsigned>(std::lround(1.15 * n)));
  return n;
}

double look_alpha(std::size_t repetitions) {
  if (repetitions % 2) return 0;
  const unsigned per_cell = static_cast<unsigned>(repetitions / 2);
  if (per_cell < kMinRepetitions || next_look(per_cell) != per_cell) return 0;
  double j = 1;  // the look's index: 1 at 5 + 5
  for (unsigned n = kMinRepetitions; n < per_cell; n = next_look(n + 1)) ++j;
  return kVerdictAlpha / (j * (j + 1));  // sum over j >= 1 of 1/(j(j+1)) telescopes to 1
}

namespace {

// Cost interval and outcome in log-ratio terms: `shift` bounds
// log(subject / reference), and the threshold's edge is where the cost
// equals it.
double edge_shift(bool latency, double threshold) {
  return latency ? std::log1p(threshold) : std::log1p(-threshold);
}

// Costs of a log ratio: rising with the shift for latency, falling for
// throughput.
Interval cost_of(const Interval& shift, bool latency) {
  if (latency) return {std::expm1(shift.low), std::expm1(shift.high)};
  return {-std::expm1(shift.high), -std::expm1(shift.low)};
}

Outcome decide(const Interval& shift, bool latency, double threshold) {
  const Interval cost = cost_of(shift, latency);
  if (cost.high <= threshold) return Outcome::Pass;
  if (cost.low > threshold) return Outcome::Fail;
  return Outcome::Inconclusive;
}

// fio reports latency percentiles from its histogram (fio 3.33, stat.c,
// plat_idx_to_val): below 128 ns every nanosecond, above that 64 buckets
// per power of two, a value standing for its bucket's middle. How far such
// a value (ns) can be from the latency it stands for, on a log scale: half
// a bucket, at most 1/128 of the value ("up to 1/2^(FIO_IO_U_PLAT_BITS+1)
// of the value", stat.h).
double fio_latency_error(double ns) {
  if (ns < 128) return 0;
  const double half_bucket = std::exp2(std::floor(std::log2(ns)) - 7);
  return -std::log1p(-half_bucket / ns);
}

Interval widened(const Interval& shift, double by) { return {shift.low - by, shift.high + by}; }

// What the replay of the looks found.
struct Replay {
  Interval shift{-INFINITY, INFINITY};  // intersection over the looks
  // p99 latency: how far the shift between fio's values can be from that
  // between the real latencies (the largest error on each side so far).
  double x_error = 0, y_error = 0;
  Interval last{-INFINITY, INFINITY};  // the last look's own bounds
  Outcome outcome = Outcome::Inconclusive;
  std::size_t decided_x = 0, decided_y = 0;
  std::vector<double> x, y;  // log values, in replay order
};

// Walks the repetitions in the order they were recorded (the subject's
// first on a tie) and looks wherever the count is one of the looks and
// each side has at least kMinRepetitions, spending look_alpha(count) on
// each side.
Replay replay_looks(const std::vector<Measurement>& subject,
                    const std::vector<Measurement>& reference, bool latency, double threshold) {
  std::vector<std::pair<Measurement, bool>> order;  // (value, is the reference)
  for (const Measurement& m : subject) order.emplace_back(m, false);
  for (const Measurement& m : reference) order.emplace_back(m, true);
  std::stable_sort(order.begin(), order.end(), [](const auto& l, const auto& r) {
    return std::make_pair(l.first.order, l.second) < std::make_pair(r.first.order, r.second);
  });
  Replay r;
  for (const auto& [m, is_reference] : order) {
    (is_reference ? r.y : r.x).push_back(std::log(m.value));
    if (latency) {
      double& error = is_reference ? r.y_error : r.x_error;
      error = std::max(error, fio_latency_error(m.value));
    }
    const double alpha = look_alpha(r.x.size() + r.y.size());
    if (std::min(r.x.size(), r.y.size()) < kMinRepetitions || alpha == 0) continue;
    r.last = widened(shift_bounds(r.x, r.y, alpha), r.x_error + r.y_error);
    r.shift = {std::max(r.shift.low, r.last.low), std::min(r.shift.high, r.last.high)};
    if (r.outcome != Outcome::Inconclusive) continue;  // a decision stands
    r.outcome = decide(r.shift, latency, threshold);
    if (r.outcome != Outcome::Inconclusive) {
      r.decided_x = r.x.size();
      r.decided_y = r.y.size();
    }
  }
  return r;
}

// Pooled standard deviation of the two samples around their own means.
double pooled_sd(const std::vector<double>& x, const std::vector<double>& y) {
  double ss = 0;
  for (const auto* v : {&x, &y}) {
    const double m = mean(*v);
    for (double e : *v) ss += (e - m) * (e - m);
  }
  const double df = static_cast<double>(x.size() + y.size()) - 2;
  return df > 0 ? std::sqrt(ss / df) : std::nan("");
}

// The first look past `have` repetitions per cell at which the bounds
// would likely clear the edge: the rank bound's half-width is about
// z * sigma * sqrt(pi/3 * 2/n) for normal noise (the Hodges-Lehmann
// estimate's variance, Hollander and Wolfe), with z for the look's alpha.
std::optional<unsigned> repetitions_to_clear(double sigma, double distance, std::size_t have) {
  constexpr unsigned kCap = 1000000;
  if (!(sigma >= 0) || !(distance > 1e-9)) return std::nullopt;
  const boost::math::normal standard;
  unsigned n = next_look(static_cast<unsigned>(have) + 1);
  for (; n < kCap; n = next_look(n + 1)) {
    const double z = boost::math::quantile(boost::math::complement(standard, look_alpha(2 * n)));
    if (z * sigma * std::sqrt(M_PI / 3 * 2 / n) < distance) return n;
  }
  return kCap;
}

}  // namespace

Interval ratio_bounds(const std::vector<double>& subject, const std::vector<double>& reference,
                      bool latency, double alpha) {
  std::vector<double> x, y;
  double x_error = 0, y_error = 0;
  for (double v : subject) {
    x.push_back(std::log(v));
    if (latency) x_error = std::max(x_error, fio_latency_error(v));
  }
  for (double v : reference) {
    y.push_back(std::log(v));
    if (latency) y_error = std::max(y_error, fio_latency_error(v));
  }
  const Interval shift = widened(shift_bounds(x, y, alpha), x_error + y_error);
  return {std::exp(shift.low), std::exp(shift.high)};
}

Comparison compare_series(const std::vector<Measurement>& subject,
                          const std::vector<Measurement>& reference, bool latency,
                          double threshold) {
  Comparison c;
  c.metric = latency ? "p99 latency" : "throughput";
  if (subject.empty() || reference.empty()) {
    c.note = "no measured repetition on one side";
    return c;
  }
  for (const auto* side : {&subject, &reference}) {
    for (const Measurement& m : *side) {
      if (!(m.value > 0) || !std::isfinite(m.value)) {
        c.note = "a repetition measured " + std::to_string(m.value) + ": no ratio";
        return c;
      }
    }
  }
  std::vector<double> a, b;
  for (const Measurement& m : subject) a.push_back(m.value);
  for (const Measurement& m : reference) b.push_back(m.value);
  c.ratio = median(a) / median(b);
  c.cost = latency ? c.ratio - 1 : 1 - c.ratio;
  Replay r = replay_looks(subject, reference, latency, threshold);
  const std::size_t n = std::min(r.x.size(), r.y.size());
  if (n < kMinRepetitions) {
    // Nothing decided: the bounds the first look would spend, for show.
    r.shift =
        widened(shift_bounds(r.x, r.y, look_alpha(2 * kMinRepetitions)), r.x_error + r.y_error);
  } else if (r.shift.low > r.shift.high) {
    r.shift = r.last;
    c.note = "later repetitions contradict the decision made at " + std::to_string(r.decided_x) +
             " and " + std::to_string(r.decided_y) + " repetitions";
  }
  c.ratio_interval = {std::exp(r.shift.low), std::exp(r.shift.high)};
  c.cost_interval = cost_of(r.shift, latency);
  c.outcome = r.outcome;
  c.decided_subject_repetitions = static_cast<unsigned>(r.decided_x);
  c.decided_reference_repetitions = static_cast<unsigned>(r.decided_y);
  if (c.outcome != Outcome::Inconclusive) return c;
  const double distance =
      std::fabs(hodges_lehmann_shift(r.x, r.y) - edge_shift(latency, threshold)) -
      (r.x_error + r.y_error);
  c.repetitions_to_decide = repetitions_to_clear(pooled_sd(r.x, r.y), distance, n);
  if (n < kMinRepetitions) {
    c.note = "needs at least " + std::to_string(kMinRepetitions) + " repetitions per cell";
    c.repetitions_to_decide =
        std::max<unsigned>(kMinRepetitions, c.repetitions_to_decide.value_or(0));
  } else if (!c.repetitions_to_decide) {
    c.note = latency ? "the estimate is within fio's latency resolution of the threshold"
                     : "the estimate sits on the threshold";
  }
  return c;
}

namespace {

Comparison compare(const std::string& group, const std::string& kind, const CellData& s,
                   const CellData& r, bool latency, double threshold) {
  auto values = [latency](const CellData& cell) {
    std::vector<Measurement> v;
    // In the order the run made them, so that the replay sees what the
    // runner saw at each look (repetition numbers as a fallback).
    for (const auto& x : cell.repetitions) {
      v.push_back({x.position ? x.position : x.repetition, latency ? x.p99 : x.throughput});
    }
    return v;
  };
  Comparison c;
  if (s.crashed || r.crashed) {
    c.metric = latency ? "p99 latency" : "throughput";
    c.outcome = Outcome::Crash;
    // No numbers: a crashed cell measured nothing.
    c.ratio = c.cost = std::nan("");
    c.ratio_interval = c.cost_interval = {std::nan(""), std::nan("")};
    c.note = s.crashed ? "the fallback-path cell crashed the guest"
                       : "the reference cell crashed the guest";
  } else {
    c = compare_series(values(s), values(r), latency, threshold);
  }
  c.workload = group;
  c.kind = kind;
  c.subject = s.name;
  c.reference = r.name;
  return c;
}

}  // namespace

std::vector<Comparison> compute_verdict(const RunData& run, double threshold,
                                        std::uint64_t /*seed*/) {
  std::map<std::string, std::vector<const CellData*>> groups;
  std::vector<std::string> order;
  for (const CellData& c : run.cells) {
    const std::string g = workload_group(c);
    if (!groups.count(g)) order.push_back(g);
    groups[g].push_back(&c);
  }
  std::vector<Comparison> out;
  for (const std::string& g : order) {
    const auto& cells = groups[g];
    auto find = [&](const std::string& policy, const std::string& target, const std::string& dio) {
      for (const CellData* c : cells) {
        if (c->axis("policy") == policy && c->axis("target") == target &&
            c->axis("loop_dio") == dio) {
          return c;
        }
      }
      return static_cast<const CellData*>(nullptr);
    };
    for (const CellData* s : cells) {
      if (!is_fallback_path_cell(*s)) continue;
      const CellData* file = find(s->axis("policy"), "file", "n/a");
      const CellData* buffered = find("disabled", "loop", "off");
      for (bool latency : {false, true}) {
        if (file) out.push_back(compare(g, "loop tax", *s, *file, latency, threshold));
        if (buffered) out.push_back(compare(g, "degradation", *s, *buffered, latency, threshold));
      }
    }
  }
  return out;
}

std::string verdict_method_text(double threshold) {
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f%%", 100 * threshold);
  const std::string t = pct;
  return "**How the verdict decides.** Each fallback-path cell is compared with its reference "
         "as the ratio of their repetitions, throughput and p99 latency apart; the cost is how "
         "much worse the fallback cell is (a faster one costs nothing). The interval bounds that "
         "ratio without assuming a shape for the noise: on a log scale, the rank interval of the "
         "shift between the two cells (the one that inverts the Wilcoxon rank-sum test), exact "
         "at any number of repetitions when the two cells spread alike; for p99 latency it is "
         "widened by the resolution of fio's latency histogram (half a bucket, at most 1/128 "
         "of the value, per cell). "
         "It stays valid however "
         "often the repetitions are looked at and wherever adding them stops (`diobench run "
         "--until-decided`): the verdict looks at 5, 6, 7, 8, 9, 10 repetitions per cell, then "
         "at about 15% more each time (12, 14, 16, 18, 21, 24, ...), the j-th look spends a "
         "one-sided error of 5% / (j (j + 1)), and these add up to 5%, so each end of the "
         "interval holds at every look at once with at least 95% probability. The repetitions "
         "are replayed in the order the run made them; the first look where the whole cost "
         "interval is at or under the " +
         t +
         " threshold decides PASS, wholly above it FAIL, and "
         "that decision stands. A wrong PASS, or a wrong FAIL, thus has a probability of at most "
         "5%. Nothing is decided with fewer than " +
         std::to_string(kMinRepetitions) +
         " repetitions per cell; INCONCLUSIVE gives the repetitions per cell at which the "
         "verdict would likely decide, if the spread and the estimate hold. The interval shown "
         "is the narrowest all the looks support; the ratio shown is that of the medians.";
}

}  // namespace diobench
