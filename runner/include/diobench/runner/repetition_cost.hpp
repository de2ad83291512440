// What one repetition costs in wall time, learned from the repetitions
// already run: fio's ramp and runtime plus everything around them (loop
// attach, cache drop and check, fio's start and exit, the flush of
// buffered writes, storing the result). The ETA and the budget of
// `--until-decided` rest on it.
#pragma once

#include <map>
#include <string>

#include "diobench/runner/cell.hpp"

namespace diobench {

class RepetitionCost {
 public:
  // `prior_s`: the guess before anything was measured (the profile's
  // ramp + runtime + a set-up allowance).
  explicit RepetitionCost(double prior_s) : prior_s_(prior_s) {}

  void add(const Cell& cell, double seconds);
  // The mean of what was measured for the most specific kind that has a
  // measurement: the cell itself, its workload on the same kind of target
  // (file, loop dio on, loop dio off), its workload, any repetition; else
  // the prior.
  double predict(const Cell& cell) const;
  std::size_t measured() const { return all_.n; }

 private:
  struct Mean {
    double sum = 0;
    std::size_t n = 0;
  };
  static void add_to(Mean& m, double s) {
    m.sum += s;
    ++m.n;
  }
  double prior_s_;
  std::map<std::string, Mean> by_cell_, by_kind_, by_workload_;
  Mean all_;
};

}  // namespace diobench
