// diobench compare with one column per run (the version matrix), on
// constructed runs and check results.
#include "diobench/reports/versions.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "verdict_cells.hpp"

namespace diobench {
namespace {

// A zfs-backend read cell: nine repetitions that each asked 1 MiB, and the
// pool's read bytes on the direct path and through the ARC.
CellData read_cell(const std::string& name, std::uint64_t direct, std::uint64_t arc) {
  CellData c;
  c.name = name;
  c.axes = {{"rw", "randread"}};
  for (int i = 0; i < 9; ++i) {
    RepetitionData r;
    r.repetition = static_cast<unsigned>(i + 1);
    r.throughput = 100 + i;
    r.p99 = 50;
    r.bytes_asked = 1 << 20;
    r.pool_read = {direct, arc};
    r.pool_bytes = direct + arc;
    r.pool_measured = true;
    c.repetitions.push_back(r);
  }
  return c;
}

RunData zfs_run(const std::string& kernel, const std::string& zfs, std::vector<CellData> cells) {
  RunData r;
  r.dir = "/runs/" + zfs;
  r.profile = "smoke";
  r.backend = "zfs";
  r.ramp_s = -1;
  r.guest = GuestLane{"tcg", true, kernel, zfs, "fixed"};
  r.cells = std::move(cells);
  return r;
}

CheckResult all_ok(const RunData& r) {
  CheckResult c;
  c.dir = r.dir;
  c.kind = "run directory";
  for (const CellData& cell : r.cells) {
    c.cells.push_back(
        {cell.name, "read", "read: direct", "read: direct 1.0M ARC 0", CellVerdict::Ok, ""});
  }
  return c;
}

const SideBySideRow* row(const std::vector<SideBySideRow>& rows, const std::string& name) {
  for (const SideBySideRow& r : rows) {
    if (r.name == name) return &r;
  }
  ADD_FAILURE() << "no row " << name;
  return nullptr;
}

VersionMatrix matrix(const std::vector<RunData>& runs) {
  std::vector<std::optional<CheckResult>> checks;
  for (const RunData& r : runs) checks.emplace_back(all_ok(r));
  return side_by_side(runs, checks, std::vector<std::string>(runs.size()));
}

TEST(SideBySide, EachRunsKernelZfsAndReproducerOutcome) {
  RunData a = zfs_run("6.1.0-57-amd64", "2.3.2", {read_cell("x", 1 << 20, 0)});
  RunData b = zfs_run("6.12.38-amd64", "2.4.4", {read_cell("x", 1 << 20, 0)});
  b.cells.push_back(read_cell("y", 0, 0));
  b.cells.back().repetitions.clear();
  b.cells.back().crashed = 1;
  b.system["zfsvm.image"] = "trixie-6.12-2.4.4";
  const VersionMatrix m = matrix({a, b});
  ASSERT_EQ(m.columns.size(), 2u);
  EXPECT_EQ(m.columns[0].label, "6.1.0-57-amd64, zfs 2.3.2 (fixed)");
  EXPECT_EQ(m.columns[1].label, "trixie-6.12-2.4.4");
  RunData unfixed = a;
  unfixed.guest->zfs_variant = "unfixed";
  unfixed.system["zfsvm.image"] = "bookworm-6.1-2.3.2";
  EXPECT_EQ(matrix({a, unfixed}).columns[1].label, "bookworm-6.1-2.3.2 (unfixed)");
  EXPECT_EQ(m.columns[0].kernel, "6.1.0-57-amd64");
  EXPECT_EQ(m.columns[1].zfs, "2.4.4 (fixed)");
  EXPECT_EQ(m.columns[0].reproducer, "survives");
  EXPECT_EQ(m.columns[1].reproducer, "crash (1 cells)");
  ASSERT_EQ(m.crashes.size(), 1u);
  EXPECT_EQ(m.crashes[0].entries, (std::vector<std::string>{"-", "CRASH"}));
  // emulated CPUs are warned about: no throughput side by side
  ASSERT_FALSE(m.warnings.empty());
  EXPECT_NE(m.warnings[0].find("emulated CPU"), std::string::npos);
}

TEST(SideBySide, APathThatDiffersBetweenVersionsIsMarkedAMissingCellIsNot) {
  const RunData a = zfs_run("k", "2.3.2", {read_cell("x", 1 << 20, 0), read_cell("y", 0, 1 << 20)});
  const RunData b = zfs_run("k", "2.4.4", {read_cell("x", 0, 1 << 20), read_cell("y", 0, 1 << 20)});
  const RunData c = zfs_run("k", "2.3.9", {read_cell("x", 1 << 20, 0)});
  const VersionMatrix m = matrix({a, b, c});
  const SideBySideRow* x = row(m.paths, "x");
  const SideBySideRow* y = row(m.paths, "y");
  ASSERT_TRUE(x && y);
  EXPECT_EQ(x->entries, (std::vector<std::string>{"read: direct", "read: ARC", "read: direct"}));
  EXPECT_TRUE(x->differs);
  EXPECT_EQ(y->entries[2], "-");
  EXPECT_FALSE(y->differs);  // c lacks y: no difference of behaviour
}

// The module's rules are the run's (the zfs backend takes them from the
// loaded module), so 2.3.2's cell and 2.4.4's ".zfs2.4" cell of the same
// shape share a row; a run that holds cells of both rules keeps them apart.
TEST(SideBySide, CellsMatchAcrossReleasesWithoutTheirRules) {
  CellData old_rules = read_cell("zfs.r.always.file.buffered.psync", 1 << 20, 0);
  old_rules.axes["semantics"] = "2.3";
  CellData new_rules = read_cell("zfs.r.always.file.buffered.psync.zfs2.4", 0, 1 << 20);
  new_rules.axes["semantics"] = "2.4";
  const RunData a = zfs_run("6.1", "2.3.2", {old_rules});
  const RunData b = zfs_run("6.12", "2.4.4", {new_rules});
  VersionMatrix m = matrix({a, b});
  ASSERT_EQ(m.paths.size(), 1u);
  EXPECT_EQ(m.paths[0].name, "zfs.r.always.file.buffered.psync");
  EXPECT_EQ(m.paths[0].entries, (std::vector<std::string>{"read: direct", "read: ARC"}));
  EXPECT_TRUE(m.paths[0].differs);
  const RunData mixed = zfs_run("6.12", "2.4.4", {old_rules, new_rules});
  m = matrix({a, mixed});
  EXPECT_EQ(m.paths.size(), 2u);
}

TEST(SideBySide, ThePathTableHeldOrNotPerRun) {
  const RunData a = zfs_run("k", "2.3.2", {read_cell("x", 1 << 20, 0), read_cell("y", 1 << 20, 0)});
  const RunData b = zfs_run("k", "2.4.4", {read_cell("x", 1 << 20, 0), read_cell("y", 0, 1 << 20)});
  const RunData c = zfs_run("k", "2.3.9", {read_cell("x", 1 << 20, 0)});
  CheckResult cb = all_ok(b);
  cb.cells[1].verdict = CellVerdict::Mismatch;
  cb.cells[1].observed = "read: direct 0 ARC 1.0M";
  const VersionMatrix m =
      side_by_side({a, b, c}, {all_ok(a), cb, std::nullopt}, {"", "", "results.db: damaged"});
  EXPECT_EQ(m.columns[0].path_table, "held (2 cells)");
  EXPECT_TRUE(m.columns[0].path_table_held);
  EXPECT_EQ(m.columns[1].path_table, "contradicted (1 of 2 cells)");
  EXPECT_FALSE(m.columns[1].path_table_held);
  EXPECT_EQ(m.columns[2].path_table, "not judged: results.db: damaged");
  ASSERT_EQ(m.contradicted.size(), 1u);
  EXPECT_EQ(m.contradicted[0].name, "y");
  EXPECT_EQ(m.contradicted[0].entries[0], "OK");
  EXPECT_NE(m.contradicted[0].entries[1].find("observed read: direct 0 ARC 1.0M"),
            std::string::npos);
  EXPECT_EQ(m.contradicted[0].entries[2], "-");
}

TEST(SideBySide, AmplificationDiffersOnlyBeyondTheTolerance) {
  const RunData a =
      zfs_run("k", "a", {read_cell("near", 1 << 20, 0), read_cell("far", 1 << 20, 0)});
  // near: 1.04 bytes per byte against 1.00 (inside 10%); far: 2.00
  const RunData b = zfs_run(
      "k", "b", {read_cell("near", (1 << 20) + (1 << 20) / 25, 0), read_cell("far", 2 << 20, 0)});
  const VersionMatrix m = matrix({a, b});
  EXPECT_FALSE(row(m.amplification, "near")->differs);
  EXPECT_TRUE(row(m.amplification, "far")->differs);
  EXPECT_EQ(row(m.amplification, "far")->entries[1], "2.00x (direct 2.00, ARC 0.00)");
}

TEST(SideBySide, VerdictRowsDifferInOutcomeNotInCost) {
  auto run = [](double fallback, const std::string& zfs) {
    std::vector<double> t100(12, 100), p(12, 50), tf(12, fallback);
    for (std::size_t i = 0; i < 12; ++i) {
      t100[i] *= 1 + 0.001 * static_cast<double>(i % 5);
      tf[i] *= 1 + 0.001 * static_cast<double>(i % 5);
    }
    RunData r = zfs_run("k", zfs, {});
    r.backend = "emulated";
    r.cells = {test::verdict_cell("always", "file", "n/a", t100, p),
               test::verdict_cell("always", "loop", "on", tf, p),
               test::verdict_cell("disabled", "loop", "off", t100, p),
               test::verdict_cell("disabled", "file", "n/a", t100, p)};
    return r;
  };
  // 1% and 2% slower both pass; half the throughput fails
  const VersionMatrix same = matrix({run(99, "a"), run(98, "b")});
  const VersionMatrix other = matrix({run(99, "a"), run(50, "b")});
  ASSERT_FALSE(same.verdict.empty());
  bool any_differs = false, fail_seen = false;
  for (const SideBySideRow& r : same.verdict) any_differs = any_differs || r.differs;
  EXPECT_FALSE(any_differs);
  for (const SideBySideRow& r : other.verdict) {
    if (r.entries[1].rfind("FAIL", 0) == 0) {
      fail_seen = true;
      EXPECT_TRUE(r.differs) << r.name;
    }
  }
  EXPECT_TRUE(fail_seen);
  EXPECT_EQ(other.columns[0].reproducer, "-");  // not the zfs backend
}

TEST(SideBySide, MarkdownAndJsonCarryEveryColumn) {
  const RunData a = zfs_run("6.1", "2.3.2", {read_cell("x", 1 << 20, 0)});
  const RunData b = zfs_run("6.12", "2.4.4", {read_cell("x", 0, 1 << 20)});
  const RunData c = zfs_run("7.3", "2.4.4b", {read_cell("x", 0, 1 << 20)});
  const std::vector<RunData> runs{a, b, c};
  const VersionMatrix m = matrix(runs);
  std::ostringstream md, js;
  write_side_by_side(m, runs, "md", md);
  write_side_by_side(m, runs, "json", js);
  const std::string text = md.str();
  for (const char* want :
       {"3 runs side by side", "| kernel | 6.1 | 6.12 | 7.3 |",
        "| reproducer | survives | survives | survives |",
        "| x | **read: direct** | **read: ARC** | **read: ARC** |", "1 of 1 rows differ"}) {
    EXPECT_NE(text.find(want), std::string::npos) << "no '" << want << "' in:\n" << text;
  }
  const nlohmann::json j = nlohmann::json::parse(js.str());
  ASSERT_EQ(j["runs"].size(), 3u);
  EXPECT_EQ(j["runs"][2]["kernel"], "7.3");
  EXPECT_TRUE(j["paths"][0]["differs"].get<bool>());
}

}  // namespace
}  // namespace diobench
