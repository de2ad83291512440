// diobench compare on constructed runs.
#include "diobench/reports/compare.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "verdict_cells.hpp"

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
  EXPECT_NE(csv.str().find("\ny,,,,,,,,,,,,,,,,crash in B\n"), std::string::npos) << csv.str();
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

// A cell of the zfs backend: every repetition moved `asked` bytes by fio
// (randread: the read direction) and the pool counted `direct` and `arc`
// bytes of reads.
CellData pool_cell(const std::string& name, std::uint64_t direct, std::uint64_t arc) {
  CellData c = cell(name, nine(100), 50);
  for (RepetitionData& r : c.repetitions) {
    r.bytes_asked = 1 << 20;
    r.pool_read = {direct, arc};
    r.pool_bytes = direct + arc;
    r.pool_measured = true;
  }
  return c;
}

std::size_t at(const std::string& text, const std::string& what) {
  const std::size_t i = text.find(what);
  EXPECT_NE(i, std::string::npos) << "no '" << what << "' in:\n" << text;
  return i;
}

// A patch that sends a cell to another path is what a reviewer must see
// first: before the crashes and before any number.
TEST(Compare, PathChangesComeFirst) {
  RunData a, b;
  a.cells = {pool_cell("x", 32 << 20, 0), pool_cell("y", 0, 14 << 20), pool_cell("z", 1, 1)};
  b.cells = {pool_cell("x", 0, 32 << 20), pool_cell("y", 0, 15 << 20), pool_cell("z", 1, 1)};
  b.cells[2].crashed = 1;
  b.cells[2].repetitions.clear();
  const RunComparison c = compare_runs(a, b);
  EXPECT_EQ(c.path_cells, 2u);  // z crashed in B: listed apart, not compared
  ASSERT_EQ(c.path_changes.size(), 1u);
  EXPECT_EQ(c.path_changes[0].cell, "x");
  EXPECT_EQ(c.path_changes[0].a, "read: direct");
  EXPECT_EQ(c.path_changes[0].b, "read: ARC");
  std::ostringstream md, json;
  write_comparison(c, a, b, "md", md);
  const std::string m = md.str();
  EXPECT_LT(at(m, "## Path changes"), at(m, "## Cells that crashed the guest"));
  EXPECT_LT(at(m, "## Cells that crashed the guest"), at(m, "## Changes per cell"));
  at(m, "**1 of 2 cells changed path**");
  at(m, "| x | read: direct | read: ARC |");
  write_comparison(c, a, b, "json", json);
  EXPECT_EQ(nlohmann::json::parse(json.str())["path_changes"][0]["b"], "read: ARC");
}

TEST(Compare, SamePathsSayNoChangeAndRunsWithoutPoolCountersSayNone) {
  RunData a, b;
  a.cells = {pool_cell("x", 32 << 20, 1 << 20)};  // metadata within check's 1/16
  b.cells = {pool_cell("x", 30 << 20, 0)};
  const RunComparison c = compare_runs(a, b);
  EXPECT_TRUE(c.path_changes.empty());
  EXPECT_EQ(c.path_cells, 1u);
  std::ostringstream md;
  write_comparison(c, a, b, "md", md);
  at(md.str(), "No cell changed path: in all 1 cells");
  RunData e = a, f = b;  // the emulated backend: no pool counters
  e.cells = {cell("x", nine(100), 50)};
  f.cells = {cell("x", nine(100), 50)};
  std::ostringstream none;
  write_comparison(compare_runs(e, f), e, f, "md", none);
  at(none.str(), "no path to compare");
}

// Per cell the change with its interval: nine against nine apart is a
// decided change, the same values are not; the count of decided changes
// is set against what chance gives.
TEST(Compare, ChangesHaveIntervalsAndDecidedOnesAreCounted) {
  RunData a, b;
  a.cells = {cell("x", nine(100), 50), cell("y", nine(100), 80)};
  b.cells = {cell("x", nine(200), 50), cell("y", nine(100), 80)};
  const RunComparison c = compare_runs(a, b);
  ASSERT_EQ(c.cells.size(), 2u);
  const CellChange& x = c.cells[0];
  // B's values are 200..208 against 100..108: every ratio lies in
  // [200/108, 208/100]; the rank bounds sit inside that.
  EXPECT_GE(x.throughput_ratio.low, 200.0 / 108 - 1e-9);
  EXPECT_LE(x.throughput_ratio.high, 208.0 / 100 + 1e-9);
  EXPECT_TRUE(x.throughput_decided());
  EXPECT_FALSE(x.p99_decided());  // equal latencies: the interval holds 1
  EXPECT_TRUE(x.p99_ratio.contains(1));
  EXPECT_FALSE(c.cells[1].throughput_decided());
  EXPECT_TRUE(c.cells[1].throughput_ratio.contains(1));
  EXPECT_EQ(c.decidable, 4u);
  EXPECT_EQ(c.decided, 1u);
  EXPECT_NEAR(c.chance_of_as_many, 1 - std::pow(1 - kChangeFalseRate, 4), 1e-12);
  // Three repetitions a side bound nothing: no decision, and not counted.
  RunData d, e;
  d.cells = {cell("x", {1, 2, 3}, 5)};
  e.cells = {cell("x", {7, 8, 9}, 5)};
  const RunComparison few = compare_runs(d, e);
  EXPECT_FALSE(few.cells[0].throughput_decided());
  EXPECT_EQ(few.decidable, 0u);
  std::ostringstream none;
  write_comparison(few, d, e, "md", none);
  at(none.str(), "No change could be decided");
  std::ostringstream md, csv;
  write_comparison(c, a, b, "md", md);
  at(md.str(), "Decided changes: **1 of 4**");
  at(md.str(), "| x | 9/9 | 0.0 | 0.0 | **+96.2% [");
  write_comparison(c, a, b, "csv", csv);
  at(csv.str(), "throughput_ratio_low,throughput_ratio_high");
}

TEST(Compare, BinomialTail) {
  EXPECT_DOUBLE_EQ(binomial_tail(36, 0, 0.05), 1);
  EXPECT_NEAR(binomial_tail(20, 1, 0.05), 1 - std::pow(0.95, 20), 1e-12);
  EXPECT_NEAR(binomial_tail(2, 2, 0.5), 0.25, 1e-12);
  EXPECT_DOUBLE_EQ(binomial_tail(3, 4, 0.5), 0);
}

// Bytes to the pool per byte asked, both sides: a 4k read on the direct
// path moving its whole record (32x) against the same cell through the
// ARC (1x) differs; the same bytes do not.
TEST(Compare, AmplificationOfBothSidesAndItsDifferences) {
  RunData a, b;
  a.ramp_s = b.ramp_s = -1;  // unknown ramp: fio's bytes as they are
  a.cells = {pool_cell("x", 32 << 20, 0), pool_cell("y", 0, 1 << 20)};
  b.cells = {pool_cell("x", 0, 1 << 20), pool_cell("y", 0, 1 << 20)};
  const RunComparison c = compare_runs(a, b);
  ASSERT_EQ(c.amplification.size(), 2u);
  EXPECT_DOUBLE_EQ(c.amplification[0].a.direct, 32);
  EXPECT_DOUBLE_EQ(c.amplification[0].a.total, 32);
  EXPECT_DOUBLE_EQ(c.amplification[0].b.arc, 1);
  EXPECT_TRUE(c.amplification[0].differs);
  EXPECT_DOUBLE_EQ(c.amplification[1].a.total, 1);
  EXPECT_FALSE(c.amplification[1].differs);
  std::ostringstream md;
  write_comparison(c, a, b, "md", md);
  at(md.str(), "**1 of 2 cells differ**");
  at(md.str(), "| x | 32.00x | 32.00x | 0.00x | 1.00x | 0.00x | 1.00x | **yes** |");
}

CellData verdict_cell(const std::string& policy, const std::string& target, const std::string& dio,
                      double throughput) {
  std::vector<double> t, p99;
  for (int i = 0; i < 12; ++i) {
    t.push_back(throughput * (1 + 0.001 * (i % 5)));
    p99.push_back(50 * (1 + 0.001 * (i % 3)));
  }
  return test::verdict_cell(policy, target, dio, t, p99);
}

// The verdict of each run, side by side: a fallback path that halves the
// throughput in B fails there and passes in A.
TEST(Compare, TheVerdictOfEachRun) {
  auto run = [](double fallback) {
    RunData r;
    r.cells = {
        verdict_cell("always", "file", "n/a", 100), verdict_cell("always", "loop", "on", fallback),
        verdict_cell("disabled", "loop", "off", 100), verdict_cell("disabled", "file", "n/a", 100)};
    return r;
  };
  const RunData a = run(100), b = run(50);
  const RunComparison c = compare_runs(a, b);
  ASSERT_EQ(c.verdict.size(), 4u);  // {loop tax, degradation} x {throughput, p99}
  std::size_t differ = 0;
  for (const VerdictRow& r : c.verdict) {
    EXPECT_TRUE(r.in_a && r.in_b);
    EXPECT_EQ(r.a, Outcome::Pass) << r.comparison;
    if (r.comparison.find("throughput") != std::string::npos) {
      EXPECT_EQ(r.b, Outcome::Fail) << r.comparison;
      EXPECT_NEAR(r.cost_b, 0.5, 0.01);
      ++differ;
    }
  }
  EXPECT_EQ(differ, 2u);
  std::ostringstream md;
  write_comparison(c, a, b, "md", md);
  at(md.str(), "## Verdict of each run");
  at(md.str(), "A 4 PASS; B 2 FAIL, 2 PASS. **2 comparisons differ.**");
  // A subject that crashed has no cost to show.
  RunData crashed = run(100);
  crashed.cells[1].repetitions.clear();
  crashed.cells[1].crashed = 1;
  std::ostringstream md2;
  write_comparison(compare_runs(a, crashed), a, crashed, "md", md2);
  EXPECT_EQ(md2.str().find("nan"), std::string::npos) << md2.str();
  at(md2.str(), "| **CRASH** | - |");
}

}  // namespace
}  // namespace diobench
