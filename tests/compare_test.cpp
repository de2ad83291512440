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
  EXPECT_NE(csv.str().find(",yes,compared\n"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::parse(json.str())["cells"][0]["few_repetitions"].get<bool>());
}

// The fixed-vs-unfixed review: cells that crashed the guest in either run
// are listed with the run they crashed in, never compared, never "only in".
TEST(Compare, CrashedCellsAreListedApartWithTheirRun) {
  RunData a, b;
  a.cells = {cell("x", nine(100), 50), cell("y", nine(200), 80), cell("z", nine(1), 1)};
  b.cells = {cell("x", nine(100), 50), cell("y", {}, 0), cell("z", nine(1), 1)};
  b.cells[1].crashed = 2;
  b.cells[1].crash_excerpts = {
      "", "BUG: kernel NULL pointer dereference\nRIP: zfs_uio_get_dio_pages_alloc"};
  a.cells[2].crashed = 1;  // crashed once in A, measured in both: compared and listed
  a.cells[2].crash_excerpts = {"Oops: 0000"};
  const RunComparison c = compare_runs(a, b);
  ASSERT_EQ(c.cells.size(), 2u);
  EXPECT_EQ(c.cells[0].cell, "x");
  EXPECT_EQ(c.cells[1].cell, "z");
  EXPECT_TRUE(c.only_a.empty());
  EXPECT_TRUE(c.only_b.empty());
  ASSERT_EQ(c.crashed.size(), 2u);
  EXPECT_EQ(c.crashed[0].cell, "y");
  EXPECT_FALSE(c.crashed[0].in_a);
  EXPECT_TRUE(c.crashed[0].in_b);
  EXPECT_EQ(c.crashed[0].excerpt_b,
            "BUG: kernel NULL pointer dereference\nRIP: zfs_uio_get_dio_pages_alloc");
  EXPECT_TRUE(c.crashed[1].in_a);
  EXPECT_FALSE(c.crashed[1].in_b);
  std::ostringstream md, csv, json;
  write_comparison(c, a, b, "md", md);
  write_comparison(c, a, b, "csv", csv);
  write_comparison(c, a, b, "json", json);
  EXPECT_NE(md.str().find("| y | B | `BUG: kernel NULL pointer dereference` |"), std::string::npos)
      << md.str();
  EXPECT_NE(md.str().find("| z | A | `Oops: 0000` |"), std::string::npos) << md.str();
  EXPECT_NE(csv.str().find("\ny,,,,,,,,,,,,crash in B\n"), std::string::npos) << csv.str();
  const auto j = nlohmann::json::parse(json.str());
  ASSERT_EQ(j["crashed"].size(), 2u);
  EXPECT_TRUE(j["crashed"][0]["in_b"].get<bool>());
}

TEST(Compare, WarnsAboutEmulatedCpusAndDifferentAccelerators) {
  RunData a, b;
  a.cells = {cell("x", nine(100), 50)};
  b.cells = {cell("x", nine(100), 50)};
  EXPECT_TRUE(compare_runs(a, b).warnings.empty()) << "two runs outside the guest";
  b.guest = GuestLane{"tcg", true, "6.1.0-56-amd64", "2.3.2", "fixed"};
  const RunComparison c = compare_runs(a, b);
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_NE(c.warnings[0].find(kEmulatedCpuBanner), std::string::npos);
  EXPECT_NE(c.warnings[0].find("run B"), std::string::npos);
  EXPECT_NE(c.warnings[1].find("differ in accelerator"), std::string::npos);
  std::ostringstream md;
  write_comparison(c, a, b, "md", md);
  EXPECT_NE(md.str().find("emulated CPU: compare only within the same run"), std::string::npos);
  // Both on TCG: the banner, but the accelerators agree.
  a.guest = b.guest;
  const RunComparison both = compare_runs(a, b);
  ASSERT_EQ(both.warnings.size(), 1u);
  EXPECT_NE(both.warnings[0].find("both runs"), std::string::npos);
  // KVM on one side, TCG on the other.
  a.guest->accelerator = "kvm";
  a.guest->emulated_cpu = false;
  EXPECT_EQ(compare_runs(a, b).warnings.size(), 2u);
}

}  // namespace
}  // namespace diobench
