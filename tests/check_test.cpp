// `diobench check`: synthetic run directories built here (a results.db
// written by the runner's own ResultStore; a lane test directory with the
// files vm/guest/test.sh collects), judged by the library and by the
// binary (exit status 0 / 1 / 2).
#include "diobench/check/check.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "diobench/check/path_judgement.hpp"
#include "diobench/path_counters.hpp"
#include "diobench/runner/result_store.hpp"

namespace fs = std::filesystem;
using namespace diobench;

namespace {

constexpr std::uint64_t kMiB = 1048576;

struct Exit {
  int status;
  std::string output;
};

// The binary, its stdout and stderr together.
Exit run_check(const std::vector<std::string>& args) {
  std::string cmd = std::string(DIOBENCH_BINARY) + " check";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  const int rc = p ? pclose(p) : -1;
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

Cell make_cell(Policy policy, TargetKind target, std::optional<bool> loop_dio,
               const std::string& rw, const std::string& bs) {
  Cell c;
  c.backend = "zfs";
  c.policy = policy;
  c.target = target;
  c.loop_dio = loop_dio;
  c.workload = Workload{rw + "-" + bs, rw, bs};
  return c;
}

// Bytes on the pool's two paths for one repetition.
struct Seen {
  std::uint64_t direct_read = 0, arc_read = 0, direct_write = 0, arc_write = 0;
  std::map<std::string, std::uint64_t> arcstats = {};  // the runner's arc_deltas
};

class CheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/diobench-check-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }

  // The cells an agreeing run shows, with what the pool saw in each: the
  // model's predictions for them are direct, ARC, ARC (a write through a
  // dio-off loop device stays in the ARC), direct, ARC.
  std::vector<std::pair<Cell, Seen>> agreeing_cells() const {
    return {
        {make_cell(Policy::Always, TargetKind::File, std::nullopt, "randread", "4k"),
         Seen{300 * kMiB, 1 * kMiB, 0, 0}},
        {make_cell(Policy::Disabled, TargetKind::File, std::nullopt, "write", "1m"),
         Seen{0, 2 * kMiB, 0, 500 * kMiB}},
        {make_cell(Policy::Always, TargetKind::Loop, false, "write", "1m"),
         Seen{0, 0, 0, 400 * kMiB}},
        {make_cell(Policy::Standard, TargetKind::Loop, true, "randread", "4k"),
         Seen{200 * kMiB, 0, 0, 0}},
        {make_cell(Policy::Standard, TargetKind::File, std::nullopt, "randread", "4k"),
         Seen{0, 80 * kMiB, 0, 0}},
    };
  }

  // A run directory of the zfs backend: every repetition ok, the runner's
  // split check agreeing, the ARC flushed from 64 MiB down to 1 MiB; made
  // on `kernel` (system_info), by default the lane's 6.1, whose loop
  // driver hands a dio-off backing file one page at a time.
  std::string write_run(const std::string& name, const std::vector<std::pair<Cell, Seen>>& cells,
                        const std::string& backend = "zfs",
                        const std::string& kernel = "Linux 6.1.0-57-amd64 #1 SMP") {
    const std::string dir = root_ + "/" + name;
    fs::create_directories(dir);
    ResultStore store(dir + "/results.db");
    store.begin_run("smoke", backend, 7, utc_timestamp());
    store.add_system_info({{"kernel", kernel}});
    std::vector<Cell> plain;
    for (const auto& [c, seen] : cells) plain.push_back(c);
    store.add_cells(plain);
    unsigned position = 0;
    for (unsigned rep = 1; rep <= 2; ++rep) {
      for (const auto& [c, seen] : cells) {
        RepetitionRecord r;
        r.cell = c.name();
        r.repetition = rep;
        r.position = ++position;
        r.status = "ok";
        r.split_check = "agrees";
        r.arc_check = "ok";
        r.zfs_iostats = {{"direct_read_bytes", seen.direct_read},
                         {"arc_read_bytes", seen.arc_read},
                         {"direct_write_bytes", seen.direct_write},
                         {"arc_write_bytes", seen.arc_write},
                         {"direct_read_count", seen.direct_read / 4096}};
        r.arcstats = seen.arcstats;
        r.arc_data_before = 64 * kMiB;
        r.arc_data_after = 1 * kMiB;
        if (flush_left_ && position == 3) r.arc_data_after = *flush_left_;
        store.add_repetition(r);
      }
    }
    store.finish_run("finished", utc_timestamp());
    return dir;
  }

  std::string root_;
  std::optional<std::uint64_t> flush_left_;  // what the third repetition's flush left
};

const CellCheck& row_of(const CheckResult& r, const std::string& cell) {
  for (const CellCheck& c : r.cells) {
    if (c.cell == cell) return c;
  }
  throw std::runtime_error("no row for " + cell);
}

const RunFact& fact_of(const CheckResult& r, const std::string& name) {
  for (const RunFact& f : r.facts) {
    if (f.name == name) return f;
  }
  throw std::runtime_error("no fact " + name);
}

}  // namespace

TEST(PathJudgement, ClassesFollowTheStatedTolerance) {
  EXPECT_EQ(classify({16 * kMiB, 1 * kMiB}), PathClass::Direct);  // exactly 1/16
  EXPECT_EQ(classify({16 * kMiB, 1 * kMiB + 1}), PathClass::Mixed);
  EXPECT_EQ(classify({0, 5}), PathClass::Arc);
  EXPECT_EQ(classify({1, 0}), PathClass::Direct);
  EXPECT_EQ(classify({0, 0}), PathClass::None);
}

TEST(PathJudgement, PredictionsComeFromThePolicyModel) {
  CellShape s;
  s.rw = "write";
  s.bs = "192k";
  s.app_direct = true;
  s.config.policy = Policy::Standard;
  // A 192k O_DIRECT write from a record boundary: one record direct, a 64k tail buffered.
  auto p = predict(s, Direction::Write);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->path, Path::Split);
  EXPECT_EQ(p->path_class(), PathClass::Mixed);
  EXPECT_EQ(p->text(), "split 67% direct");
  // Through a dio-off loop device the file sees 4 KiB pages: under always
  // reads go direct, writes (less than a record) stay in the ARC.
  s = CellShape{};
  s.loop = true;
  s.loop_dio = false;
  s.config.policy = Policy::Always;
  s.rw = "randrw";
  s.bs = "1m";
  EXPECT_EQ(predict(s, Direction::Read)->path_class(), PathClass::Direct);
  EXPECT_EQ(predict(s, Direction::Write)->path_class(), PathClass::Arc);
  // A misaligned O_DIRECT buffer under standard (2.3): EINVAL.
  s = CellShape{};
  s.app_direct = true;
  s.buffer_aligned = false;
  s.rw = "read";
  s.bs = "128k";
  EXPECT_EQ(predict(s, Direction::Read)->path, Path::Einval);
  s.bs = "4k-16k";
  EXPECT_FALSE(predict(s, Direction::Read));
  EXPECT_NE(disagreement(s, Direction::Read, {}).find("bs=4k-16k"), std::string::npos);
}

// The qemu lane's 1 MiB writes through loop dio on without O_DIRECT: the
// loop device's writeback cut some records, a quarter of the bytes went
// through the ARC. Direct predicted, mixed seen: accepted there only.
TEST(PathJudgement, ALoopDevicesPageCacheMayCutRecords) {
  CellShape s;
  s.loop = true;
  s.loop_dio = true;
  s.config.policy = Policy::Standard;
  s.rw = "write";
  s.bs = "1m";
  const PathBytes lane{1055 * kMiB, 379 * kMiB};
  EXPECT_EQ(disagreement(s, Direction::Write, lane), "");
  EXPECT_NE(disagreement(s, Direction::Write, {0, 379 * kMiB}), "");  // never ARC alone
  s.app_direct = true;  // O_DIRECT on the loop device: its requests as fio made them
  EXPECT_NE(disagreement(s, Direction::Write, lane)
                .find("the model predicts direct, the pool shows mixed"),
            std::string::npos);
  s.app_direct = false;
  s.loop = false;  // a file has no such page cache in between
  EXPECT_NE(disagreement(s, Direction::Write, lane), "");
}

TEST(PathJudgement, ADirectionNotIssuedMustMoveNothingDirect) {
  CellShape s;
  s.rw = "write";
  s.bs = "4k";
  s.config.policy = Policy::Always;
  // a partial write reads its record through the ARC: fine
  EXPECT_EQ(disagreement(s, Direction::Read, {0, 128 * 1024}), "");
  EXPECT_NE(disagreement(s, Direction::Read, {4096, 0}).find("unexpected direct read"),
            std::string::npos);
}

// OpenZFS 2.4 (zfs-2.4.0 zfs_setup_direct): O_DIRECT under `disabled` is
// served uncached. The model predicts it; arcstats prove it.
TEST(PathJudgement, Semantics24PredictsUncached) {
  CellShape shape;
  shape.config.policy = Policy::Disabled;
  shape.config.semantics = Semantics::V2_4;
  shape.app_direct = true;
  shape.rw = "randread";
  shape.bs = "128k";
  const auto p = predict(shape, Direction::Read);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->text(), "ARC (uncached)");
  EXPECT_TRUE(p->all_uncached());
  EXPECT_EQ(p->path_class(), PathClass::Arc);
  const PathBytes through_arc{0, 64 * kMiB};
  EXPECT_EQ(uncached_disagreement(shape, through_arc, ArcKeeping{1 * kMiB, 0}), "");
  EXPECT_NE(
      uncached_disagreement(shape, through_arc, ArcKeeping{60 * kMiB, 0}).find("served cached"),
      std::string::npos);
  EXPECT_NE(
      uncached_disagreement(shape, PathBytes{0, 0}, ArcKeeping{}).find("none through the ARC"),
      std::string::npos);
  shape.config.semantics = Semantics::V2_3;  // 2.3: the same cell is cached, nothing to prove
  EXPECT_FALSE(predict(shape, Direction::Read)->all_uncached());
  EXPECT_EQ(uncached_disagreement(shape, through_arc, ArcKeeping{60 * kMiB, 0}), "");
  EXPECT_FALSE(arc_keeping({{"mru_data", 1}}).has_value());
  EXPECT_EQ(arc_keeping({{"mru_data", 1}, {"mfu_data", 2}, {"uncached_hits", 3}})->kept_data, 3u);
}

TEST_F(CheckTest, UncachedReadsAreProvedFromArcstats) {
  Cell c = make_cell(Policy::Disabled, TargetKind::File, std::nullopt, "randread", "128k");
  c.semantics = Semantics::V2_4;
  c.app_direct = true;
  // Through the ARC, which kept under 1/16 of it: uncached.
  Seen seen{0, 64 * kMiB, 0, 0, {{"mru_data", 2 * kMiB}, {"mfu_data", 0}, {"uncached_hits", 9}}};
  CheckResult r = check_directory(write_run("kept-little", {{c, seen}}));
  EXPECT_EQ(row_of(r, c.name()).verdict, CellVerdict::Ok) << row_of(r, c.name()).reason;
  // The ARC kept it all: a cached read, not 2.4's uncached one.
  seen.arcstats["mru_data"] = 60 * kMiB;
  r = check_directory(write_run("kept-all", {{c, seen}}));
  EXPECT_EQ(row_of(r, c.name()).verdict, CellVerdict::Mismatch);
  EXPECT_NE(row_of(r, c.name()).reason.find("served cached"), std::string::npos)
      << row_of(r, c.name()).reason;
  // No arcstats: nothing proves it.
  seen.arcstats.clear();
  r = check_directory(write_run("no-arcstats", {{c, seen}}));
  EXPECT_EQ(row_of(r, c.name()).verdict, CellVerdict::Mismatch);
  EXPECT_NE(row_of(r, c.name()).reason.find("cannot be proved"), std::string::npos)
      << row_of(r, c.name()).reason;
}

TEST_F(CheckTest, AnAgreeingRunPasses) {
  const std::string dir = write_run("agree", agreeing_cells());
  const CheckResult r = check_directory(dir);
  EXPECT_EQ(r.kind, "run directory");
  ASSERT_EQ(r.cells.size(), 5u);
  for (const CellCheck& c : r.cells)
    EXPECT_EQ(c.verdict, CellVerdict::Ok) << c.cell << ": " << c.reason;
  for (const RunFact& f : r.facts) EXPECT_TRUE(f.ok) << f.name << ": " << f.detail;
  EXPECT_TRUE(r.passed());
  const CellCheck& loop = row_of(r, agreeing_cells()[2].first.name());
  EXPECT_EQ(loop.predicted, "write: ARC (fallback)");
  EXPECT_EQ(loop.observed, "write: direct 0.0M ARC 800.0M");

  const Exit e = run_check({dir});
  EXPECT_EQ(e.status, 0) << e.output;
  EXPECT_NE(
      e.output.find("tolerance: a direction is 'direct' when its ARC bytes are at most 1/16 of"),
      std::string::npos)
      << e.output;
  EXPECT_NE(e.output.find("check: PASS"), std::string::npos) << e.output;
}

// The run's own kernel decides the loop cells: on 6.12.117 (whole requests
// with dio off, docs/design.md §4.1) 1 MiB writes through a dio-off loop
// device under `always` go direct, so the ARC-only 6.1 figures contradict
// the model there and direct ones agree.
TEST_F(CheckTest, TheRunsKernelDecidesWhatADioOffLoopDeviceHandsTheFile) {
  const std::string kernel = "Linux 6.12.117+deb13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.12.117-1";
  auto cells = agreeing_cells();
  const std::string loop = cells[2].first.name();
  CheckResult r = check_directory(write_run("k612-arc", cells, "zfs", kernel));
  EXPECT_EQ(row_of(r, loop).predicted, "write: direct");
  EXPECT_EQ(row_of(r, loop).verdict, CellVerdict::Mismatch) << row_of(r, loop).reason;
  EXPECT_FALSE(r.passed());
  cells[2].second = Seen{0, 0, 400 * kMiB, 0};
  r = check_directory(write_run("k612-direct", cells, "zfs", kernel));
  EXPECT_EQ(row_of(r, loop).verdict, CellVerdict::Ok) << row_of(r, loop).reason;
  EXPECT_TRUE(r.passed());
}

TEST_F(CheckTest, AnObservedSplitThatContradictsTheModelFailsNamingTheCell) {
  auto cells = agreeing_cells();
  // direct=always, page-aligned 4k reads: the model sends them direct; the
  // pool shows them all through the ARC.
  cells[0].second = Seen{0, 300 * kMiB, 0, 0};
  const std::string bad = cells[0].first.name();
  const std::string dir = write_run("contradict", cells);
  const CheckResult r = check_directory(dir);
  EXPECT_FALSE(r.passed());
  const CellCheck& row = row_of(r, bad);
  EXPECT_EQ(row.verdict, CellVerdict::Mismatch);
  EXPECT_NE(row.reason.find("the model predicts direct, the pool shows ARC"), std::string::npos)
      << row.reason;
  for (const CellCheck& c : r.cells) {
    if (c.cell != bad) {
      EXPECT_EQ(c.verdict, CellVerdict::Ok) << c.cell;
    }
  }
  const Exit e = run_check({dir});
  EXPECT_EQ(e.status, 1) << e.output;
  EXPECT_NE(e.output.find(bad), std::string::npos);
  EXPECT_NE(e.output.find("MISMATCH: rep 1: reads: the model predicts direct"), std::string::npos)
      << e.output;
}

TEST_F(CheckTest, DirectBytesUnderDisabledAreAContradiction) {
  auto cells = agreeing_cells();
  cells[1].second.direct_write = 4 * kMiB;  // disabled: nothing may go direct
  const CheckResult r = check_directory(write_run("disabled", cells));
  EXPECT_EQ(row_of(r, cells[1].first.name()).verdict, CellVerdict::Mismatch);
  EXPECT_FALSE(r.passed());
}

TEST_F(CheckTest, AFlushThatLeftTheArcFullFailsTheRun) {
  flush_left_ = 40 * kMiB;  // of 64 MiB (63 came in since the previous flush)
  const CheckResult r = check_directory(write_run("warm", agreeing_cells()));
  const RunFact& f = fact_of(r, "arc-flushed");
  EXPECT_FALSE(f.ok);
  EXPECT_NE(
      f.detail.find("rep 1: ARC data 1.0 MiB after the previous flush, 64.0 MiB before this one, "
                    "40.0 MiB after it"),
      std::string::npos)
      << f.detail;
  EXPECT_FALSE(r.passed());
}

// A run of `n` repetitions alternating a direct=always and a
// direct=disabled 128k read cell (iostats agreeing with the model): before
// each flush the ARC holds the residue so far plus `in_mib` this repetition
// brought in; after it, the residue grown by `left_kib`.
std::string write_flush_run(const std::string& dir, unsigned n, std::uint64_t in_mib,
                            std::uint64_t left_kib) {
  fs::create_directories(dir);
  ResultStore store(dir + "/results.db");
  store.begin_run("smoke", "zfs", 1, utc_timestamp());
  const Cell always = make_cell(Policy::Always, TargetKind::File, std::nullopt, "read", "128k");
  const Cell disabled = make_cell(Policy::Disabled, TargetKind::File, std::nullopt, "read", "128k");
  store.add_cells({always, disabled});
  std::uint64_t residue = 0;
  for (unsigned i = 1; i <= n; ++i) {
    const bool direct = i % 2 == 1;
    RepetitionRecord r;
    r.cell = direct ? always.name() : disabled.name();
    r.repetition = (i + 1) / 2;
    r.position = i;
    r.status = "ok";
    r.split_check = "agrees";
    r.zfs_iostats = {{direct ? "direct_read_bytes" : "arc_read_bytes", 8 * kMiB}};
    r.arc_data_before = residue + in_mib * kMiB;
    residue += left_kib * 1024;
    r.arc_data_after = residue;
    store.add_repetition(r);
  }
  return dir;
}

// The residue rule on the shapes vm/check-runner's test had (the ARC's
// data size in the qemu lane on OpenZFS 2.3.2).
TEST_F(CheckTest, TheMeasuredArcResiduePasses) {
  // 56 MiB left after 90 flushes of 200 MiB each
  const CheckResult r = check_directory(write_flush_run(root_ + "/measured", 90, 200, 637));
  EXPECT_TRUE(fact_of(r, "arc-flushed").ok) << fact_of(r, "arc-flushed").detail;
  const RunFact& f = fact_of(r, "arc-residue");
  EXPECT_TRUE(f.ok) << f.detail;
  EXPECT_NE(
      f.detail.find("56.0 MiB left after the last flush of 18000.0 MiB that came in over the run "
                    "(bound 1800.0 MiB"),
      std::string::npos)
      << f.detail;
  EXPECT_TRUE(r.passed());
}

TEST_F(CheckTest, AResidueGrowingOverTheRunFailsIt) {
  // Each flush keeps 3.9 MiB of the 20 that came in: under arc-flushed's
  // 4 MiB every time, 351 MiB over the run.
  const CheckResult r = check_directory(write_flush_run(root_ + "/growing", 90, 20, 3994));
  EXPECT_TRUE(fact_of(r, "arc-flushed").ok) << fact_of(r, "arc-flushed").detail;
  const RunFact& f = fact_of(r, "arc-residue");
  EXPECT_FALSE(f.ok);
  EXPECT_NE(f.detail.find("ARC residue grew: 351.0 MiB left after the last flush of 1800.0 MiB"),
            std::string::npos)
      << f.detail;
  EXPECT_NE(f.detail.find("bound 180.0 MiB"), std::string::npos) << f.detail;
  for (const char* other : {"statuses", "iostats-agree", "arc-cold"})
    EXPECT_TRUE(fact_of(r, other).ok) << other;
  for (const CellCheck& c : r.cells)
    EXPECT_EQ(c.verdict, CellVerdict::Ok) << c.cell << ": " << c.reason;
  EXPECT_FALSE(r.passed());
  // a short run stays under the 16 MiB floor at the same rate
  const CheckResult short_run = check_directory(write_flush_run(root_ + "/short", 4, 20, 3994));
  EXPECT_TRUE(fact_of(short_run, "arc-residue").ok) << fact_of(short_run, "arc-residue").detail;
  EXPECT_NE(fact_of(short_run, "arc-residue").detail.find("(bound 16.0 MiB"), std::string::npos);
}

TEST_F(CheckTest, BadInputExitsTwoNamingIt) {
  Exit e = run_check({root_ + "/nowhere"});
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_NE(e.output.find(root_ + "/nowhere"), std::string::npos) << e.output;

  fs::create_directories(root_ + "/empty");
  e = run_check({root_ + "/empty"});
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_NE(e.output.find("neither a run directory (results.db) nor a lane test directory"),
            std::string::npos)
      << e.output;

  fs::create_directories(root_ + "/corrupt");
  std::ofstream(root_ + "/corrupt/results.db")
      << "this is not an SQLite database, but long enough to be read" << std::string(200, 'x');
  e = run_check({root_ + "/corrupt"});
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_NE(e.output.find(root_ + "/corrupt/results.db"), std::string::npos) << e.output;

  e = run_check({write_run("emulated", agreeing_cells(), "emulated")});
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_NE(e.output.find("'emulated' backend"), std::string::npos) << e.output;

  e = run_check({});
  EXPECT_EQ(e.status, 2) << e.output;
  EXPECT_EQ(run_check({"--help"}).status, 0);
}

// ---------------------------------------------------------------- lane test

namespace {

std::string kstat(std::uint64_t direct_read, std::uint64_t arc_read, std::uint64_t direct_write,
                  std::uint64_t arc_write) {
  std::ostringstream s;
  s << "41 1 0x01 12 3264 0 0\nname type data\n"
    << "direct_read_count 4 " << direct_read / 4096 << "\ndirect_read_bytes 4 " << direct_read
    << "\n"
    << "arc_read_count 4 " << arc_read / 4096 << "\narc_read_bytes 4 " << arc_read << "\n"
    << "direct_write_bytes 4 " << direct_write << "\narc_write_bytes 4 " << arc_write << "\n";
  return s.str();
}

// One cell as vm/guest/test.sh leaves it.
void write_lane_cell(const fs::path& cells, const std::string& policy, const std::string& target,
                     const std::string& rw, const std::string& bs, const std::string& iomem_align,
                     bool app_direct, const std::string& loop_dio, Path counted,
                     const std::string& after_kstat, int fio_rc, long fio_error) {
  const fs::path d = cells / (policy + "." + target + "." + rw);
  fs::create_directories(d);
  nlohmann::json args = nlohmann::json::array({"fio", "--rw=" + rw, "--bs=" + bs});
  if (!iomem_align.empty()) args.push_back("--iomem_align=" + iomem_align);
  std::ofstream(d / "meta.json") << nlohmann::json{{"id", d.filename().string()},
                                                   {"policy", policy},
                                                   {"target", target},
                                                   {"rw", rw},
                                                   {"bs", bs},
                                                   {"app_direct", app_direct},
                                                   {"loop_dio", loop_dio},
                                                   {"zfs_direct", policy},
                                                   {"recordsize", 131072},
                                                   {"fio_args", args}};
  JobCounters job;
  job.job = "cell";
  job.config.policy = *parse_policy(policy);
  job.submit = "psync";
  job.backend = "zfs";
  job.target.kind = loop_dio.empty() ? TargetKind::File : TargetKind::Loop;
  job.target.path = "/x";
  if (!loop_dio.empty()) job.target.loop = LoopInfo{"/x", loop_dio == "on", 512};
  // what the engine counted: 128 requests of 128 KiB on `counted`
  const Direction dir = rw == "read" ? Direction::Read : Direction::Write;
  const std::uint64_t bytes = counted == Path::Einval ? 0 : 16 * kMiB;
  job.counters.count(dir, counted, counted == Path::Einval ? 1 : 128,
                     counted == Path::Direct ? bytes : 0, counted == Path::Direct ? 0 : bytes);
  std::ofstream(d / "counters.jsonl") << sidecar_line(job);
  std::ofstream(d / "iostats.before") << kstat(0, 0, 0, 0);
  std::ofstream(d / "iostats.after") << after_kstat;
  std::ofstream(d / "fio.rc") << fio_rc << "\n";
  std::ofstream(d / "fio.json") << nlohmann::json{
      {"jobs", nlohmann::json::array({{{"error", fio_error}, {"total_err", fio_error ? 1 : 0}}})}};
}

}  // namespace

TEST_F(CheckTest, ALaneTestDirectoryIsJudgedCellByCell) {
  const fs::path cells = fs::path(root_) / "lane" / "cells";
  // always, aligned O_DIRECT reads: direct; a few metadata misses
  write_lane_cell(cells, "always", "file-odirect", "read", "128k", "4k", true, "", Path::Direct,
                  kstat(16 * kMiB, 512 * 1024, 0, 0), 0, 0);
  // standard, O_DIRECT with a misaligned buffer: EINVAL, fio ends the job
  write_lane_cell(cells, "standard", "file-odirect-unaligned", "read", "128k", "512", true, "",
                  Path::Einval, kstat(0, 128 * 1024, 0, 0), 1, 22);
  // always through a dio-off loop device, writes: the ARC
  write_lane_cell(cells, "always", "loop-dio-off", "write", "128k", "4k", true, "off",
                  Path::Fallback, kstat(0, 0, 0, 16 * kMiB), 0, 0);
  CheckResult r = check_directory(root_ + "/lane");
  EXPECT_EQ(r.kind, "lane test directory");
  ASSERT_EQ(r.cells.size(), 3u);
  for (const CellCheck& c : r.cells)
    EXPECT_EQ(c.verdict, CellVerdict::Ok) << c.cell << ": " << c.reason;
  EXPECT_TRUE(r.passed());
  EXPECT_EQ(run_check({root_ + "/lane"}).status, 0);

  // disabled, yet the pool shows direct reads
  write_lane_cell(cells, "disabled", "file-odirect", "read", "128k", "4k", true, "", Path::Buffered,
                  kstat(16 * kMiB, 0, 0, 0), 0, 0);
  r = check_directory(root_ + "/lane");
  const CellCheck& bad = row_of(r, "disabled.file-odirect.read");
  EXPECT_EQ(bad.verdict, CellVerdict::Mismatch);
  EXPECT_NE(bad.reason.find("the model predicts ARC (ARC (buffered)), the pool shows direct"),
            std::string::npos)
      << bad.reason;
  const Exit e = run_check({root_ + "/lane"});
  EXPECT_EQ(e.status, 1) << e.output;
  EXPECT_NE(e.output.find("disabled.file-odirect.read"), std::string::npos);

  // a damaged meta.json is bad input
  std::ofstream(cells / "disabled.file-odirect.read" / "meta.json") << "{not json";
  const Exit damaged = run_check({root_ + "/lane"});
  EXPECT_EQ(damaged.status, 2) << damaged.output;
  EXPECT_NE(damaged.output.find("disabled.file-odirect.read/meta.json: not JSON"),
            std::string::npos)
      << damaged.output;
}

// A 2.4 lane cell (the engine's sidecar says semantics 2.4): O_DIRECT
// reads under `disabled` are uncached; arcstats.before/after prove it.
TEST_F(CheckTest, ALaneCellsUncachedReadsAreProvedFromItsArcstats) {
  const fs::path cells = fs::path(root_) / "lane" / "cells";
  write_lane_cell(cells, "disabled", "file-odirect", "read", "128k", "4k", true, "", Path::Uncached,
                  kstat(0, 16 * kMiB, 0, 0), 0, 0);
  const fs::path d = cells / "disabled.file-odirect.read";
  JobCounters job = parse_sidecar_line([&] {
    std::ifstream in(d / "counters.jsonl");
    std::string l;
    std::getline(in, l);
    return l;
  }());
  job.config.semantics = Semantics::V2_4;
  std::ofstream(d / "counters.jsonl") << sidecar_line(job);
  const auto arc = [](std::uint64_t mru_data) {
    return "12 1 0x01 99 0 0 0\nname type data\nmru_data 4 " + std::to_string(mru_data) +
           "\nmfu_data 4 0\nuncached_hits 4 0\n";
  };
  auto judge = [&] { return check_directory(root_ + "/lane").cells.at(0); };
  // No arcstats: the uncached prediction cannot be proved.
  CellCheck row = judge();
  EXPECT_EQ(row.verdict, CellVerdict::Mismatch);
  EXPECT_NE(row.reason.find("cannot be proved"), std::string::npos) << row.reason;
  std::ofstream(d / "arcstats.before") << arc(4 * kMiB);
  std::ofstream(d / "arcstats.after") << arc(4 * kMiB + 256 * 1024);  // kept under 1/16
  row = judge();
  EXPECT_EQ(row.verdict, CellVerdict::Ok) << row.reason;
  EXPECT_NE(row.predicted.find("ARC (uncached)"), std::string::npos) << row.predicted;
  std::ofstream(d / "arcstats.after") << arc(20 * kMiB);  // kept all 16 MiB
  row = judge();
  EXPECT_EQ(row.verdict, CellVerdict::Mismatch);
  EXPECT_NE(row.reason.find("served cached"), std::string::npos) << row.reason;
  std::ofstream(d / "arcstats.after") << arc(1 * kMiB);  // a gauge that shrank keeps nothing
  EXPECT_EQ(judge().verdict, CellVerdict::Ok) << judge().reason;
}

TEST_F(CheckTest, ALaneCellTheEngineEmulatedIsAnError) {
  const fs::path cells = fs::path(root_) / "lane" / "cells";
  write_lane_cell(cells, "always", "file-odirect", "read", "128k", "4k", true, "", Path::Direct,
                  kstat(16 * kMiB, 0, 0, 0), 0, 0);
  const fs::path sidecar = cells / "always.file-odirect.read" / "counters.jsonl";
  JobCounters job = parse_sidecar_line([&] {
    std::ifstream in(sidecar);
    std::string l;
    std::getline(in, l);
    return l;
  }());
  job.backend = "emulated";
  std::ofstream(sidecar) << sidecar_line(job);
  const CheckResult r = check_directory(root_ + "/lane");
  EXPECT_EQ(r.cells.at(0).verdict, CellVerdict::Error);
  EXPECT_NE(r.cells.at(0).reason.find("engine backend is emulated, not zfs"), std::string::npos);
  EXPECT_FALSE(r.passed());
}

TEST_F(CheckTest, ALaneCellWhoseShapeTheEngineContradictsIsAnError) {
  // fio's default buffers (no --iomem_align) are not page-aligned: the
  // model sends them through the ARC under always; here the engine saw
  // aligned ones and counted direct reads.
  write_lane_cell(fs::path(root_) / "lane" / "cells", "always", "file-buffered-unaligned", "read",
                  "128k", "", false, "", Path::Direct, kstat(16 * kMiB, 0, 0, 0), 0, 0);
  const CheckResult r = check_directory(root_ + "/lane");
  EXPECT_EQ(r.cells.at(0).verdict, CellVerdict::Error);
  EXPECT_NE(r.cells.at(0).reason.find(
                "the engine counted direct reads where the model predicts ARC (fallback)"),
            std::string::npos)
      << r.cells.at(0).reason;
}
