// Profiles: expansion, filters, and every kind of defect reported with
// file, line and key.
#include "diobench/runner/profile.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

#include "diobench/runner/safety.hpp"
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
  const Profile p = load_profile(
      write(std::string(kMinimal) + "[bench]\ndrivers = bs:4096/\nrepetitions = 3\nmin_time = 0.05\n"),
      "emulated");
  EXPECT_TRUE(p.bench.enabled());
  EXPECT_EQ(p.bench.drivers, "bs:4096/");
  EXPECT_EQ(p.bench.repetitions, 3u);
  EXPECT_DOUBLE_EQ(p.bench.min_time_s, 0.05);
  EXPECT_EQ(p.bench.file_size_mib, 1024u);
  const std::string file = (dir_ / "p.ini").string();
  EXPECT_EQ(error_of(std::string(kMinimal) + "[bench]\ndrivers = (Hot\n"),
            file + ":12: bench.drivers: invalid value '(Hot' (none, all, or a regular expression "
                   "over driver names)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[bench]\nrepetitions = 1\n"),
            file + ":12: bench.repetitions: invalid value '1' (a whole number from 2 to 1000)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[bench]\nmin_time = 0\n"),
            file + ":12: bench.min_time: invalid value '0' (seconds, above 0 and at most 60)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "[bench]\nfile_size = 8\n"),
            file + ":12: bench.file_size: invalid value '8' (a whole number from 64 to 1048576)");
}

TEST_F(ProfileTest, DefectsNameFileLineAndKey) {
  const std::string file = (dir_ / "p.ini").string();
  EXPECT_EQ(error_of("[profile]\nrepetitions = 0\n[workload.r]\nrw = read\n"),
            file + ":2: profile.repetitions: invalid value '0' (a whole number from 1 to 1000)");
  EXPECT_EQ(error_of("[matrix]\n\npolicy = always sometimes\n[workload.r]\nrw = read\n"),
            file + ":3: matrix.policy: invalid value 'sometimes' (expected disabled, standard, always)");
  EXPECT_EQ(error_of("[matrix]\ncolour = red\n[workload.r]\nrw = read\n"),
            file + ":2: matrix.colour: unknown key");
  EXPECT_EQ(error_of("[workload.r]\nrw = read\nbs = 4q\n"),
            file + ":3: workload.r.bs: invalid size '4q' (from 512 to 64m, e.g. 4k, 1m)");
  EXPECT_EQ(error_of("[workload.r]\nrw read\n"), file + ":2: expected 'key = value', got 'rw read'");
  EXPECT_EQ(error_of("[profile\n"), file + ":1: malformed section header '[profile'");
  EXPECT_EQ(error_of("[extras]\n"),
            file + ":1: extras: unknown section (expected [profile], [matrix], [bench] or "
                   "[workload.NAME])");
  EXPECT_EQ(error_of("[workload.r]\nrw = read\nrw = write\n"),
            file + ":3: workload.r.rw: given twice (first on line 2)");
  EXPECT_EQ(error_of("[matrix]\nrecordsize = 96k\n[workload.r]\nrw = read\n"),
            file + ":2: matrix.recordsize: must be a power of two, got 96k");
  EXPECT_EQ(error_of("[profile]\njob = ../elsewhere.fio\n[workload.r]\nrw = read\n"),
            file + ":2: profile.job: must name a file beside the profile, got '../elsewhere.fio'");
  EXPECT_EQ(error_of("[profile]\nrepetitions = 1\n"), file + ": no [workload.NAME] section: nothing to run");
  EXPECT_EQ(error_of("[workload.r]\nbs = 4k\n"), file + ": workload.r: needs rw = (read, write, randread, ...)");
  EXPECT_EQ(error_of("[workload.r]\nrw = read\nrwmixread = 70\n"),
            file + ":3: workload.r.rwmixread: only applies to rw, readwrite and randrw");
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
  // 1 MiB writes through a dio-off loop device stay in the ARC (pages under
  // a record): the qemu lane saw them survive the unfixed build.
  loop.workload.rw = "write";
  loop.workload.bs = "1m";
  EXPECT_FALSE(crash_risk(loop, true, "2.3.0").has_value());
  loop.loop_dio = true;
  EXPECT_TRUE(crash_risk(loop, true, "2.3.0").has_value());
}

TEST(CrashGuard, VersionSourceIsInjectable) {
  const std::string f = fs::temp_directory_path() / ("zfsver-" + std::to_string(getpid()));
  std::ofstream(f) << "2.3.0\n";
  setenv("DIOBENCH_ZFS_VERSION_FILE", f.c_str(), 1);
  EXPECT_EQ(loaded_zfs_version(), "2.3.0");
  unsetenv("DIOBENCH_ZFS_VERSION_FILE");
  fs::remove(f);
}

}  // namespace
}  // namespace diobench
