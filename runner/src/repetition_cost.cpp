#include "diobench/runner/repetition_cost.hpp"

namespace diobench {

namespace {
std::string kind_of(const Cell& c) { return c.workload.name + "\t" + c.target_label(); }
}  // namespace

void RepetitionCost::add(const Cell& cell, double seconds) {
  add_to(by_cell_[cell.name()], seconds);
  add_to(by_kind_[kind_of(cell)], seconds);
  add_to(by_workload_[cell.workload.name], seconds);
  add_to(all_, seconds);
}

double RepetitionCost::predict(const Cell& cell) const {
  for (const auto& [table, key] :
       {std::pair{&by_cell_, cell.name()}, std::pair{&by_kind_, kind_of(cell)},
        std::pair{&by_workload_, cell.workload.name}}) {
    const auto it = table->find(key);
    if (it != table->end() && it->second.n > 0) return it->second.sum / it->second.n;
  }
  return all_.n > 0 ? all_.sum / all_.n : prior_s_;
}

}  // namespace diobench
