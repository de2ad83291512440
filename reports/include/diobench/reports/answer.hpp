// The answer a report opens with, in words: for each fallback-path cell
// and the cell it is held against, what the fallback does to throughput,
// p99 latency and CPU per GiB, and whether that costs little (the
// verdict's outcome); then how many such answers are PASS, FAIL, still
// open or CRASH.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diobench/reports/run_data.hpp"
#include "diobench/reports/verdict.hpp"

namespace diobench {

// The CPU a comparison's two cells spent per GiB moved, system-wide:
// median(subject) / median(reference) of RepetitionData::cpu_per_gib, with
// a 95% bootstrap interval. nullopt when either cell has fewer than two
// repetitions that recorded it. Informative only: the verdict decides on
// throughput and p99.
struct CpuRatio {
  double ratio = 0;
  Interval interval;
};
std::optional<CpuRatio> cpu_ratio(const RunData& run, const Comparison& c, std::uint64_t seed);

struct AnswerLine {
  Outcome outcome = Outcome::Inconclusive;
  std::string text;         // plain words; may carry `code` spans
  std::string short_label;  // for a figure's row: "4k rand read QD1: always, loop dio on"
  std::vector<const Comparison*> comparisons;  // into the verdict given
  std::optional<CpuRatio> cpu;                 // of the two cells compared
};
struct Answer {
  std::vector<AnswerLine> lines;
  std::size_t pass = 0, fail = 0, open = 0, crash = 0;
  std::string heading;  // "The answer: does the fallback path cost little? (threshold 5%)"
  std::string counts;   // "2 PASS, 1 FAIL, 3 still open (...)"
  std::string banner;   // the emulated-CPU banner, or empty
  std::string scope;    // what the run's loop cells measure, when it must be said
  std::string rows;     // a fleet run: which rows it is computed on (fleet_rows_statement)
};
// One line per fallback-path cell and reference (its throughput and p99
// comparisons together): CRASH if either crashed, FAIL if either metric
// fails, still open if either is undecided, PASS when both pass.
Answer the_answer(const RunData& run, const std::vector<Comparison>& verdict, double threshold,
                  std::uint64_t seed);
// The line a comparison is part of (nullptr if none).
const AnswerLine* line_of(const Answer& a, const Comparison& c);

// A cell's workload in words, from its axes (rw, bs, iodepth, numjobs,
// submit, app O_DIRECT, and what differs from the defaults):
// "4k random reads at queue depth 1 (psync, buffered application)".
std::string workload_in_words(const CellData& cell);
// Short: "4k rand read QD1 psync".
std::string workload_short(const CellData& cell);
// Where the cell's requests go: "through a loop device, `always`, dio on".
std::string target_in_words(const CellData& cell);
// A ratio of the fallback cell to its reference in words, never a
// negative cost: throughput "1.66x faster", "12.0% slower"; p99 latency
// "12.0% higher", "2.10x as long", "12.0% lower". "-" for NaN.
std::string effect_in_words(double ratio, bool latency);
// An interval of such a ratio: "[1.2% to 4.9% slower]",
// "[2.0% faster, 3.0% slower]" (from the lower ratio to the higher);
// an end at 0 or infinity is "no lower bound" / "no upper bound".
std::string interval_in_words(const Interval& ratio, bool latency);
// What the comparison's reference is: "the native file",
// "the buffered loop path (`disabled`, dio off)".
std::string reference_in_words(const Comparison& c);

}  // namespace diobench
