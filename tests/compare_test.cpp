// diobench compare on constructed runs.
#include "diobench/reports/compare.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

namespace diobench {
namespace {

CellData cell(const std::string& name, std::vector<double> throughput, double p99) {
  CellData c;
  c.name = name;
  c.axes = {{"rw", "randread"}};
  for (double t : throughput) {
    RepetitionData r;
    r.throughput = t;
    r.p99 = p99;
    c.repetitions.push_back(r);
  }
  return c;
}

std::vector<double> nine(double base) {
  std::vector<double> v;
  for (int i = 0; i < 9; ++i) v.push_back(base + i);
  return v;
}

TEST(Compare, MatchesCellsAndSummarises) {
  RunData a, b;
  a.dir = "A";
  b.dir = "B";
  a.cells = {cell("x", nine(100), 50), cell("y", nine(200), 80), cell("gone", nine(1), 1)};
  b.cells = {cell("x", nine(200), 50), cell("y", nine(100), 80), cell("new", nine(1), 1)};
  const RunComparison c = compare_runs(a, b);
  ASSERT_EQ(c.cells.size(), 2u);
  EXPECT_EQ(c.only_a, std::vector<std::string>{"gone"});
  EXPECT_EQ(c.only_b, std::vector<std::string>{"new"});
  // x doubled (medians 104 -> 204), y halved (204 -> 104): geometric mean 1.
  EXPECT_NEAR(c.cells[0].throughput_change, 204.0 / 104 - 1, 1e-12);
  EXPECT_NEAR(c.geomean_throughput_ratio, 1.0, 1e-12);
  // Nine against nine with no overlap: U = 0, p well under 0.001.
  EXPECT_LT(c.cells[0].throughput_p, 0.001);
  EXPECT_FALSE(c.cells[0].few_repetitions);
  // Identical latencies everywhere: no difference, p = 1.
  EXPECT_DOUBLE_EQ(c.cells[0].p99_p, 1.0);
  EXPECT_DOUBLE_EQ(c.geomean_p99_ratio, 1.0);
}

TEST(Compare, FewRepetitionsAreFlaggedInEveryFormat) {
  RunData a, b;
  a.cells = {cell("x", {1, 2, 3}, 5)};
  b.cells = {cell("x", {1, 2, 3}, 5)};
  const RunComparison c = compare_runs(a, b);
  ASSERT_EQ(c.cells.size(), 1u);
  EXPECT_TRUE(c.cells[0].few_repetitions);
  std::ostringstream md, csv, json;
  write_comparison(c, a, b, "md", md);
  write_comparison(c, a, b, "csv", csv);
  write_comparison(c, a, b, "json", json);
  EXPECT_NE(md.str().find("Warning"), std::string::npos);
  EXPECT_NE(csv.str().find(",yes\n"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::parse(json.str())["cells"][0]["few_repetitions"].get<bool>());
}

}  // namespace
}  // namespace diobench
