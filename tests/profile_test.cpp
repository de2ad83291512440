// Profiles: expansion, filters, and every kind of defect reported with
// file, line and key.
#include "diobench/runner/profile.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "diobench/kernel.hpp"
#include "diobench/runner/cpu_usage.hpp"
#include "diobench/runner/decision.hpp"
#include "diobench/runner/repetition_cost.hpp"
#include "diobench/runner/result_store.hpp"
#include "diobench/runner/safety.hpp"
#include "diobench/sqlite.hpp"
#include "diobench/units.hpp"

namespace diobench {
namespace {

namespace fs = std::filesystem;

class ProfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("diobench-profile-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "job.fio") << "[global]\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& text) {
    const fs::path p = dir_ / "p.ini";
    std::ofstream(p) << text;
    return p.string();
  }
  // The message of the ProfileError that loading `text` raises.
  std::string error_of(const std::string& text) {
    try {
      load_profile(write(text), "emulated");
    } catch (const ProfileError& e) {
      return e.what();
    }
    return "(no error)";
  }
  fs::path dir_;
};

constexpr const char* kMinimal =
    "[profile]\nrepetitions = 2\n[matrix]\npolicy = always\ntarget = file loop\n"
    "loop_dio = on off\n[workload.r]\nrw = randread\nbs = 4k 64k\niodepth = 1\n";

TEST_F(ProfileTest, ExpandsEveryAxis) {
  const Profile p = load_profile(write(kMinimal), "emulated");
  EXPECT_EQ(p.repetitions, 2u);
  // 2 block sizes x (file + loop dio on + loop dio off)
  ASSERT_EQ(p.cells.size(), 6u);
  EXPECT_EQ(p.cells[0].workload.name, "r-4k");
  EXPECT_EQ(p.cells[0].target, TargetKind::File);
  EXPECT_FALSE(p.cells[0].loop_dio.has_value());
  EXPECT_TRUE(p.cells[1].loop_dio.value());
  EXPECT_FALSE(p.cells[2].loop_dio.value());
  EXPECT_EQ(p.cells[3].workload.bs, "64k");
  std::set<std::string> names;
  for (const Cell& c : p.cells) names.insert(c.name());
  EXPECT_EQ(names.size(), p.cells.size()) << "cell names must be unique";
}

// zfs_dio_strict rides on the semantics axis: "2.4-strict" is 2.4 with
// the parameter set, its own cell, stored and filtered by that text.
TEST_F(ProfileTest, SemanticsAxisCarriesTheStrictParameter) {
  const Profile p =
      load_profile(write("[matrix]\npolicy = standard\ntarget = file\napp_direct = 1\n"
                         "semantics = 2.3 2.4 2.4-strict\n[workload.r]\nrw = randread\nbs = 4k\n"),
                   "emulated");
  ASSERT_EQ(p.cells.size(), 3u);
  std::set<std::string> names, labels;
  for (const Cell& c : p.cells) {
    names.insert(c.name());
    labels.insert(c.axes().at("semantics").get<std::string>());
    EXPECT_EQ(c.dio_strict, c.axes().at("semantics") == "2.4-strict");
  }
  EXPECT_EQ(names.size(), 3u);
  EXPECT_EQ(labels, (std::set<std::string>{"2.3", "2.4", "2.4-strict"}));
  EXPECT_EQ(filter_cells(p.cells, {"semantics=2.4-strict"}).size(), 1u);
  EXPECT_NE(error_of("[matrix]\nsemantics = 2.3-strict\n[workload.r]\nrw = read\n"), "(no error)");
}

TEST_F(ProfileTest, WorkloadSubmitOverridesTheMatrix) {
  const Profile p = load_profile(
      write("[matrix]\npolicy = always\ntarget = file\nsubmit = psync\n"
            "[workload.a]\nrw = read\n[workload.b]\nrw = read\niodepth = 32\nsubmit = uring\n"),
      "emulated");
  ASSERT_EQ(p.cells.size(), 2u);
  EXPECT_EQ(p.cells[0].submit, "psync");
  EXPECT_EQ(p.cells[1].submit, "uring");
}

TEST_F(ProfileTest, FiltersAreAndAcrossAxesOrWithinOne) {
  const Profile p = load_profile(write(kMinimal), "emulated");
  EXPECT_EQ(filter_cells(p.cells, {"target=loop"}).size(), 4u);
  EXPECT_EQ(filter_cells(p.cells, {"target=loop", "loop_dio=on"}).size(), 2u);
  EXPECT_EQ(filter_cells(p.cells, {"bs=4k", "bs=64k"}).size(), 6u);
  EXPECT_EQ(filter_cells(p.cells, {"policy=disabled"}).size(), 0u);
  EXPECT_THROW(filter_cells(p.cells, {"colour=red"}), std::invalid_argument);
  EXPECT_THROW(filter_cells(p.cells, {"policy"}), std::invalid_argument);
}

TEST_F(ProfileTest, BenchSectionSwitchesTheDriversOn) {
  EXPECT_FALSE(load_profile(write(kMinimal), "emulated").bench.enabled());
  const Profile p =
      load_profile(write(std::string(kMinimal) +
                         "[bench]\ndrivers = bs:4096/\nrepetitions = 3\nmin_time = 0.05\n"),
                   "emulated");
  EXPECT_TRUE(p.bench.enabled());
  EXPECT_EQ(p.bench.drivers, "bs:4096/");
  EXPECT_EQ(p.bench.repetitions, 3u);
  EXPECT_DOUBLE_EQ(p.bench.min_time_s, 0.05);
  EXPECT_EQ(p.bench.file_size_mib, 1024u);
  const std::string file = (dir_ / "p.ini").string();
  EXPECT_EQ(error_of(std::string(kMinimal) + "[bench]\ndrivers = (Hot\n"),
            file +
                ":12: bench.drivers: invalid value '(Hot' (none, all, or a regular expression "
                "over driver names)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[bench]\nrepetitions = 1\n"),
            file + ":12: bench.repetitions: invalid value '1' (a whole number from 2 to 1000)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[bench]\nmin_time = 0\n"),
            file + ":12: bench.min_time: invalid value '0' (seconds, above 0 and at most 60)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[bench]\nfile_size = 8\n"),
            file + ":12: bench.file_size: invalid value '8' (a whole number from 64 to 1048576)");
}

// Workload names reach file names, gnuplot scripts and reports: a safe
// alphabet only, the offending name in the message (the CLI exits 2).
TEST_F(ProfileTest, WorkloadNamesAreRestrictedToASafeAlphabet) {
  const std::string base = "[matrix]\npolicy = always\ntarget = file\n";
  for (const std::string bad :
       {"rr`touch x`", "a b", "caf\xc3\xa9", "x$(id)", "quote'd", "dot.ted"}) {
    const std::string e = error_of(base + "[workload." + bad + "]\nrw = read\n");
    EXPECT_NE(e.find("invalid workload name '" + bad + "'"), std::string::npos) << bad << ": " << e;
  }
  EXPECT_EQ(error_of(base + "[workload.rand_read-4k]\nrw = randread\nbs = 4k\n"), "(no error)");
}

// The INI dialect of the one parser: '#' ends a line's text anywhere, and
// white space around names and values does not count.
TEST_F(ProfileTest, CommentsAndBlanksAroundNamesAndValuesDoNotCount) {
  const Profile p = load_profile(
      write("# a profile\n[profile]\n  ramp =  3   # seconds\nruntime=4\n[matrix]\n"
            "policy = always # only one\n target = file\n[ workload.r ]\nrw = randread\t\n"),
      "emulated");
  EXPECT_EQ(p.ramp_s, 3u);
  EXPECT_EQ(p.runtime_s, 4u);
  ASSERT_EQ(p.cells.size(), 1u);
  EXPECT_EQ(p.cells[0].workload.rw, "randread");
}

// The report reads a run's ramp with the runner's parser: the same value,
// the default included, and the same refusal of a bad one.
TEST_F(ProfileTest, TheReportsRampIsTheRunnersRamp) {
  const std::string defaulted = write(kMinimal);
  EXPECT_EQ(profile_ramp_seconds(defaulted), load_profile(defaulted, "emulated").ramp_s);
  EXPECT_EQ(profile_ramp_seconds(write("[profile]\nramp = 7\n")), 7);
  EXPECT_THROW(profile_ramp_seconds(write("[profile]\nramp = x\n")), ProfileError);
  EXPECT_THROW(profile_ramp_seconds((dir_ / "missing.ini").string()), ProfileError);
}

TEST_F(ProfileTest, DefectsNameFileLineAndKey) {
  const std::string file = (dir_ / "p.ini").string();
  EXPECT_EQ(error_of("[profile]\nrepetitions = 0\n[workload.r]\nrw = read\n"),
            file + ":2: profile.repetitions: invalid value '0' (a whole number from 1 to 1000)");
  EXPECT_EQ(
      error_of("[matrix]\n\npolicy = always sometimes\n[workload.r]\nrw = read\n"),
      file + ":3: matrix.policy: invalid value 'sometimes' (expected disabled, standard, always)");
  EXPECT_EQ(error_of("[matrix]\ncolour = red\n[workload.r]\nrw = read\n"),
            file + ":2: matrix.colour: unknown key");
  EXPECT_EQ(error_of("[workload.r]\nrw = read\nbs = 4q\n"),
            file + ":3: workload.r.bs: invalid size '4q' (from 512 to 64m, e.g. 4k, 1m)");
  EXPECT_EQ(error_of("[workload.r]\nrw read\n"),
            file + ":2: expected 'key = value', got 'rw read'");
  EXPECT_EQ(error_of("[profile\n"), file + ":1: malformed section header '[profile'");
  EXPECT_EQ(error_of("[extras]\n"),
            file +
                ":1: extras: unknown section (expected [profile], [matrix], [bench], [hosts] or "
                "[workload.NAME])");
  EXPECT_EQ(error_of("[workload.r]\nrw = read\nrw = write\n"),
            file + ":3: workload.r.rw: given twice (first on line 2)");
  EXPECT_EQ(error_of("[matrix]\nrecordsize = 96k\n[workload.r]\nrw = read\n"),
            file + ":2: matrix.recordsize: must be a power of two, got 96k");
  EXPECT_EQ(error_of("[profile]\njob = ../elsewhere.fio\n[workload.r]\nrw = read\n"),
            file + ":2: profile.job: must name a file beside the profile, got '../elsewhere.fio'");
  EXPECT_EQ(error_of("[profile]\nrepetitions = 1\n"),
            file + ": no [workload.NAME] section: nothing to run");
  EXPECT_EQ(error_of("[workload.r]\nbs = 4k\n"),
            file + ": workload.r: needs rw = (read, write, randread, ...)");
  EXPECT_EQ(error_of("[workload.r]\nrw = read\nrwmixread = 70\n"),
            file + ":3: workload.r.rwmixread: only applies to rw, readwrite and randrw");
  EXPECT_EQ(error_of("[profile]\nbudget = soon\n[workload.r]\nrw = read\n"),
            file + ":2: profile.budget: invalid value 'soon' (a duration: 900, 900s, 15m, 1h30m)");
  EXPECT_EQ(
      error_of("[profile]\nmax_repetitions = 0\n[workload.r]\nrw = read\n"),
      file + ":2: profile.max_repetitions: invalid value '0' (a whole number from 1 to 1000)");
  for (const char* seed : {"-1", "12abc", "18446744073709551616", "+7", "0x10"}) {
    EXPECT_EQ(error_of(std::string("[profile]\nseed = ") + seed + "\n[workload.r]\nrw = read\n"),
              file + ":2: profile.seed: invalid value '" + seed +
                  "' (a whole number from 0 to 18446744073709551615)");
  }
  EXPECT_EQ(load_profile(write("[profile]\nseed = 18446744073709551615\n[workload.r]\nrw = read\n"),
                         "emulated")
                .seed,
            18446744073709551615ull);
}

TEST_F(ProfileTest, BudgetAndCapOfUntilDecided) {
  const Profile defaults = load_profile(write("[workload.r]\nrw = read\n"), "emulated");
  EXPECT_EQ(defaults.budget_s, 30 * 60);
  EXPECT_EQ(defaults.max_repetitions, 30u);
  const Profile p = load_profile(
      write("[profile]\nbudget = 14m30s\nmax_repetitions = 12\n[workload.r]\nrw = read\n"),
      "emulated");
  EXPECT_EQ(p.budget_s, 14 * 60 + 30);
  EXPECT_EQ(p.max_repetitions, 12u);
}

TEST(Units, SizesParseAndPrint) {
  EXPECT_EQ(parse_size("4k"), 4096u);
  EXPECT_EQ(parse_size("1M"), 1u << 20);
  EXPECT_EQ(parse_size("4608"), 4608u);
  EXPECT_FALSE(parse_size("").has_value());
  EXPECT_FALSE(parse_size("k").has_value());
  EXPECT_FALSE(parse_size("-4k").has_value());
  EXPECT_FALSE(parse_size("4kb").has_value());
  EXPECT_FALSE(parse_size("99999999999999999999").has_value());
  EXPECT_EQ(format_size(131072), "128k");
  EXPECT_EQ(format_size(1536), "1536");
  EXPECT_EQ(format_size(2ull << 30), "2g");
}

// The crash guard's decision, with the module version given (the runner
// reads it from /sys/module/zfs/version, or $DIOBENCH_ZFS_VERSION_FILE).
TEST(CrashGuard, RefusesExactlyTheCellsThatCrash2_3_0) {
  Cell loop;
  loop.target = TargetKind::Loop;
  loop.workload.rw = "randread";
  loop.workload.bs = "4k";
  for (Policy p : {Policy::Disabled, Policy::Standard, Policy::Always}) {
    for (bool dio : {false, true}) {
      loop.policy = p;
      loop.loop_dio = dio;
      // Reads of a page: direct under always (any dio) and standard + dio on.
      const bool crashes = p == Policy::Always || (p == Policy::Standard && dio);
      EXPECT_EQ(loop.loop_takes_direct_path(), crashes);
      EXPECT_EQ(crash_risk(loop, true, "2.3.0").has_value(), crashes);
      EXPECT_EQ(crash_risk(loop, true, "2.3.0-rc5").has_value(), crashes);
      EXPECT_FALSE(crash_risk(loop, true, "2.3.1").has_value());
      EXPECT_FALSE(crash_risk(loop, true, "2.3.2-1~bpo12+1").has_value());
      EXPECT_EQ(crash_risk(loop, true, "2.3.2-2~bpo12+2.diobench_unfixed").has_value(), crashes);
      EXPECT_FALSE(crash_risk(loop, false, "2.3.0").has_value()) << "not on ZFS";
      EXPECT_FALSE(crash_risk(loop, true, std::nullopt).has_value()) << "no ZFS loaded";
    }
  }
  Cell file;
  file.policy = Policy::Always;
  EXPECT_FALSE(crash_risk(file, true, "2.3.0").has_value());
  loop.policy = Policy::Always;
  loop.loop_dio = false;
  EXPECT_NE(crash_risk(loop, true, "2.3.0")->find("--force-unsafe"), std::string::npos);
  // 1 MiB writes through a dio-off loop device stay in the ARC on a kernel
  // whose loop driver goes page by page (pages under a record): the qemu
  // lane saw them survive the unfixed build on 6.1. A kernel that hands
  // whole requests (6.12.25+, docs/design.md §4.1) sends them direct.
  loop.workload.rw = "write";
  loop.workload.bs = "1m";
  EXPECT_FALSE(loop.loop_takes_direct_path(LoopBuffered::PerPage));
  EXPECT_TRUE(loop.loop_takes_direct_path(LoopBuffered::WholeRequest));
  EXPECT_EQ(crash_risk(loop, true, "2.3.0").has_value(),
            running_loop_buffered() == LoopBuffered::WholeRequest);
  loop.loop_dio = true;
  EXPECT_TRUE(crash_risk(loop, true, "2.3.0").has_value());
}

// A run's loop cells on a module with the hang of issue 17277: the writes
// that may be cut are refused (stored skipped), the rest run.
TEST(CrashGuard, RefusesCuttableLoopWritesBefore2_3_3) {
  Cell loop;
  loop.target = TargetKind::Loop;
  loop.loop_dio = true;
  loop.app_direct = true;
  loop.workload.rw = "write";
  loop.workload.bs = "1m";
  for (Policy p : {Policy::Disabled, Policy::Standard, Policy::Always}) {
    loop.policy = p;
    const auto why = crash_risk(loop, true, "2.3.2-2~bpo12+2");
    ASSERT_TRUE(why.has_value());
    EXPECT_NE(why->find("issue 17277"), std::string::npos) << *why;
    EXPECT_FALSE(crash_risk(loop, true, "2.3.3").has_value());
    EXPECT_FALSE(crash_risk(loop, false, "2.3.2").has_value()) << "not on ZFS";
  }
  loop.workload.bs = "128k";
  EXPECT_FALSE(crash_risk(loop, true, "2.3.2").has_value());
  loop.workload.bs = "1m";
  loop.app_direct = false;
  EXPECT_FALSE(crash_risk(loop, true, "2.3.2").has_value()) << "through the page cache";
  loop.app_direct = true;
  loop.workload.rw = "randread";
  EXPECT_FALSE(crash_risk(loop, true, "2.3.2").has_value());
  Cell file = loop;
  file.target = TargetKind::File;
  file.workload.rw = "write";
  file.workload.bs = "1m";
  EXPECT_FALSE(crash_risk(file, true, "2.3.2").has_value());
}

// On the zfs backend a cell's semantics are the loaded module's rules:
// taken from it when the profile leaves them out or says `module`, and a
// profile naming other rules is refused, naming both.
TEST_F(ProfileTest, OnZfsTheLoadedModulesRulesLabelTheCells) {
  const std::string f = (dir_ / "zfs-version").string();
  std::ofstream(f) << "2.4.4-1~bpo13+1\n";
  setenv("DIOBENCH_ZFS_VERSION_FILE", f.c_str(), 1);
  const std::string body = "[workload.w]\nrw = read\nbs = 4k\n";
  const Profile left_out = load_profile(write(body), "zfs");
  ASSERT_FALSE(left_out.cells.empty());
  for (const Cell& c : left_out.cells) EXPECT_EQ(c.semantics, Semantics::V2_4) << c.name();
  const Profile named = load_profile(write("[matrix]\nsemantics = module\n" + body), "zfs");
  for (const Cell& c : named.cells) EXPECT_EQ(c.semantics, Semantics::V2_4) << c.name();
  try {
    load_profile(write("[matrix]\nsemantics = 2.3\n" + body), "zfs");
    ADD_FAILURE() << "semantics 2.3 on a 2.4.4 module was accepted";
  } catch (const ProfileError& e) {
    EXPECT_NE(std::string(e.what()).find("'2.3' is not the rules of the loaded OpenZFS module "
                                         "2.4.4-1~bpo13+1 (2.4)"),
              std::string::npos)
        << e.what();
  }
  // The emulated backend applies whatever is named; `module` is refused.
  EXPECT_EQ(
      load_profile(write("[matrix]\nsemantics = 2.3\n" + body), "emulated").cells.front().semantics,
      Semantics::V2_3);
  EXPECT_NE(error_of("[matrix]\nsemantics = module\n" + body).find("'module' goes with"),
            std::string::npos);
  unsetenv("DIOBENCH_ZFS_VERSION_FILE");
}

TEST(CrashGuard, VersionSourceIsInjectable) {
  const std::string f = fs::temp_directory_path() / ("zfsver-" + std::to_string(getpid()));
  std::ofstream(f) << "2.3.0\n";
  setenv("DIOBENCH_ZFS_VERSION_FILE", f.c_str(), 1);
  EXPECT_EQ(loaded_zfs_version(), "2.3.0");
  unsetenv("DIOBENCH_ZFS_VERSION_FILE");
  fs::remove(f);
}

TEST(CpuUsage, BusyIsTheWindowLessTheIdleAndIowaitTime) {
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  // user nice system idle iowait irq softirq steal guest guest_nice
  EXPECT_DOUBLE_EQ(*idle_seconds_from_proc_stat("cpu  100 20 30 5000 400 6 7 8 50 0\ncpu0 1 2 3\n"),
                   (5000 + 400) / hz);
  EXPECT_FALSE(idle_seconds_from_proc_stat("cpu0 1 2 3 4 5 6 7 8\n"));
  EXPECT_FALSE(idle_seconds_from_proc_stat("cpu 1 2 3\n"));
  // 3 s on 2 CPUs with 4 s idle: 2 s busy; never below 0 or above 6.
  EXPECT_DOUBLE_EQ(busy_seconds(3, 2, 10, 14), 2);
  EXPECT_DOUBLE_EQ(busy_seconds(3, 2, 10, 17), 0);
  EXPECT_DOUBLE_EQ(busy_seconds(3, 2, 10, 9), 6);
  const auto now = system_idle_seconds();
  ASSERT_TRUE(now);
  EXPECT_GT(*now, 0);
}

// A results.db written before the CPU and ARC columns existed opens, and
// gains them (a run of an older diobench can be resumed).
TEST(ResultStoreSchema, AnOldDatabaseGainsTheNewColumns) {
  const std::string db =
      (fs::temp_directory_path() / ("diobench-old-" + std::to_string(getpid()) + ".db")).string();
  fs::remove(db);
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(h,
                   "CREATE TABLE repetitions(id INTEGER PRIMARY KEY, cell_id INTEGER NOT NULL,"
                   " repetition INTEGER NOT NULL, position INTEGER NOT NULL, status TEXT NOT NULL,"
                   " message TEXT, started TEXT, finished TEXT, fio_json TEXT, counters_file TEXT,"
                   " elapsed_ms REAL, cache_drop_ms REAL, fio_ms REAL, split_check TEXT,"
                   " UNIQUE(cell_id, repetition));",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(h);
  { ResultStore store(db); }
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  std::set<std::string> columns;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(h, "PRAGMA table_info(repetitions)", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW)
    columns.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
  sqlite3_finalize(st);
  sqlite3_close(h);
  for (const char* c :
       {"cpu_busy_s", "cpu_window_s", "fio_cpu_s", "arc_check", "arc_data_before"}) {
    EXPECT_TRUE(columns.count(c)) << c;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db + suffix);
}

// Root writes results.db: a symlink planted at its name is refused and
// what it points at stays as it was (an empty file would otherwise take
// the schema).
TEST(ResultStoreSchema, ASymlinkAtTheNameIsRefused) {
  const fs::path dir = fs::temp_directory_path() / ("diobench-store-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directory(dir);
  const fs::path victim = dir / "victim", link = dir / "results.db";
  { std::ofstream touch(victim); }
  fs::create_symlink(victim, link);
  EXPECT_THROW(ResultStore store(link.string()), std::runtime_error);
  EXPECT_EQ(fs::file_size(victim), 0u) << "the store wrote through the symlink";
  fs::remove_all(dir);
}

// The store's one transaction rule: steps that return are committed,
// steps that throw leave nothing behind and their own error is the one
// the caller sees.
TEST(ResultStoreSchema, ATransactionCommitsOrLeavesNothing) {
  const std::string db =
      (fs::temp_directory_path() / ("diobench-tx-" + std::to_string(getpid()) + ".db")).string();
  fs::remove(db);
  sqlite::Database d(db, sqlite::Database::Access::Create);
  d.exec("CREATE TABLE t(v INTEGER);");
  d.in_transaction([&] { d.exec("INSERT INTO t VALUES(1);"); });
  try {
    d.in_transaction([&] {
      d.exec("INSERT INTO t VALUES(2);");
      throw std::runtime_error("the second step failed");
    });
    ADD_FAILURE() << "the steps' error was not rethrown";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "the second step failed");
  }
  std::vector<std::int64_t> rows;
  d.each("SELECT v FROM t ORDER BY v",
         [&](const sqlite::Statement& st) { rows.push_back(st.integer(0)); });
  EXPECT_EQ(rows, std::vector<std::int64_t>{1});
  // after a rollback the next transaction opens (none was left open)
  d.in_transaction([&] { d.exec("INSERT INTO t VALUES(3);"); });
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db + suffix);
}

TEST(Duration, ParsesWhatPeopleWrite) {
  EXPECT_EQ(parse_duration("900"), 900);
  EXPECT_EQ(parse_duration("900s"), 900);
  EXPECT_EQ(parse_duration("15m"), 900);
  EXPECT_EQ(parse_duration("1h30m"), 5400);
  EXPECT_EQ(parse_duration("14m30s"), 870);
  for (const char* bad : {"", "0", "0m", "m", "15 m", "-5", "1.5h", "15min", "h"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
  EXPECT_EQ(format_duration(870), "14:30");
  EXPECT_EQ(format_duration(3725), "1:02:05");
}

// The batch of --until-decided: only the cells of open comparisons grow,
// both cells of a comparison to the same count, bounded by the cap.
TEST(UntilDecided, TheBatchGrowsOnlyTheOpenComparisonsCells) {
  DecisionState state;
  state.decided = 3;
  state.open.push_back({"w, loop tax, throughput", "loop-on", "file", 9u, ""});
  state.open.push_back({"w, degradation, p99 latency", "loop-off", "buffered", std::nullopt, ""});
  const std::map<std::string, unsigned> attempts{
      {"loop-on", 6}, {"file", 6}, {"loop-off", 4}, {"buffered", 4}, {"unrelated", 4}};
  const auto batch = plan_batch(state, attempts, 8, 42);
  std::map<std::string, std::vector<unsigned>> added;
  for (const PlannedRepetition& p : batch) added[p.cell].push_back(p.repetition);
  for (auto& [cell, reps] : added) std::sort(reps.begin(), reps.end());
  // 9 wanted, at most half again (6 -> 9) and never past the cap of 8;
  // no estimate: half again, at least two (4 -> 6).
  EXPECT_EQ(
      added,
      (std::map<std::string, std::vector<unsigned>>{
          {"loop-on", {7, 8}}, {"file", {7, 8}}, {"loop-off", {5, 6}}, {"buffered", {5, 6}}}));
  // Random order, reproducible from the seed, not cell by cell.
  EXPECT_EQ(batch, plan_batch(state, attempts, 8, 42));
  EXPECT_NE(batch, plan_batch(state, attempts, 8, 43));
  // Everything at the cap: nothing left to add.
  EXPECT_TRUE(
      plan_batch(state, {{"loop-on", 8}, {"file", 8}, {"loop-off", 8}, {"buffered", 8}}, 8, 1)
          .empty());
}

TEST(UntilDecided, TheBudgetKeepsWholeRoundsSoPairsStayLevel) {
  DecisionState state;
  state.open.push_back({"c", "a", "b", 10u, ""});
  const auto batch = plan_batch(state, {{"a", 4}, {"b", 4}}, 30, 7);  // a, b: 5 and 6 each
  ASSERT_EQ(batch.size(), 4u);
  auto cost = [](const std::string& cell) { return cell == "a" ? 10.0 : 5.0; };
  // 19 s: round 1 (a5 and b5, 15 s) fits whole; neither of round 2 fits
  // beside it, so the pair stays level.
  const auto fitted = fit_to_budget(batch, cost, 19, 7);
  ASSERT_EQ(fitted.size(), 2u);
  for (const PlannedRepetition& p : fitted) EXPECT_EQ(p.round, 1u) << p.cell;
  EXPECT_NE(fitted[0].cell, fitted[1].cell);
  EXPECT_TRUE(fit_to_budget(batch, cost, 4, 7).empty());
  EXPECT_EQ(fit_to_budget(batch, cost, 1000, 7).size(), 4u);
}

// The cost of a repetition: learned per cell, else per workload and kind
// of target, else per workload, else any; the prior only before anything.
TEST(RepetitionCost, LearnsFromTheMostSpecificMeasurement) {
  Cell file, loop, other;
  file.workload.name = loop.workload.name = "w";
  other.workload.name = "v";
  loop.target = TargetKind::Loop;
  loop.loop_dio = true;
  Cell loop_always = loop;
  loop_always.policy = Policy::Always;
  RepetitionCost cost(3.5);
  EXPECT_EQ(cost.predict(file), 3.5);
  cost.add(file, 4.0);
  cost.add(file, 5.0);
  EXPECT_EQ(cost.predict(file), 4.5);
  EXPECT_EQ(cost.predict(loop), 4.5);   // the workload's
  EXPECT_EQ(cost.predict(other), 4.5);  // anything measured
  cost.add(loop, 6.0);
  EXPECT_EQ(cost.predict(loop_always), 6.0);  // same workload, same kind of target
  EXPECT_EQ(cost.predict(file), 4.5);
  EXPECT_EQ(cost.measured(), 3u);
}

}  // namespace
}  // namespace diobench
