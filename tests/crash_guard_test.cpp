// The crash guard for loop devices about to be attached (runner/safety.hpp):
// which backing files, loop modes and traffic it refuses, and that
// attach_loop refuses before anything is attached.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "diobench/runner/safety.hpp"
#include "loops.hpp"

namespace diobench {
namespace {

namespace fs = std::filesystem;

TargetInfo on_zfs(const std::string& direct, std::uint64_t recordsize = 128 * 1024) {
  TargetInfo t;
  t.path = "/tank/ds/scratch.dat";
  t.fs_type = "zfs";
  t.fs_source = "tank/ds";
  t.zfs = ZfsDataset{"tank/ds", direct, recordsize};
  return t;
}

TargetInfo on_ext4() {
  TargetInfo t;
  t.path = "/var/tmp/scratch.dat";
  t.fs_type = "ext4";
  t.fs_source = "/dev/vda1";
  return t;
}

const std::vector<LoopTraffic> kReads4k{{"randread", "4k"}};
const std::vector<LoopTraffic> kWrites4k{{"randwrite", "4k"}};

class LoopAttachRisk : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("DIOBENCH_POSE_ZFS_DIRECT"); }
  void TearDown() override { ::unsetenv("DIOBENCH_POSE_ZFS_DIRECT"); }
};

// The model's table for the loop driver's requests on 2.3.0: dio on sends
// them direct under standard and always; dio off sends pages, which only
// `always` takes direct, and only for reads (a 4 KiB write is under a record).
TEST_F(LoopAttachRisk, RefusesExactlyWhereTheLoopsRequestsGoDirect) {
  const std::optional<std::string> bad = "2.3.0";
  EXPECT_TRUE(loop_attach_risk(on_zfs("standard"), true, kReads4k, bad).has_value());
  EXPECT_TRUE(loop_attach_risk(on_zfs("always"), true, kReads4k, bad).has_value());
  EXPECT_FALSE(loop_attach_risk(on_zfs("disabled"), true, kReads4k, bad).has_value());
  EXPECT_FALSE(loop_attach_risk(on_zfs("standard"), false, kReads4k, bad).has_value());
  EXPECT_TRUE(loop_attach_risk(on_zfs("always"), false, kReads4k, bad).has_value());
  EXPECT_FALSE(loop_attach_risk(on_zfs("always"), false, kWrites4k, bad).has_value());
  // Any of the traffic going direct is enough.
  EXPECT_TRUE(
      loop_attach_risk(on_zfs("always"), false, {kWrites4k[0], kReads4k[0]}, bad).has_value());
}

TEST_F(LoopAttachRisk, OnlyTheBuggyReleasesAndOnlyOnZfs) {
  EXPECT_TRUE(loop_attach_risk(on_zfs("standard"), true, kReads4k, "2.3.0-rc5").has_value());
  EXPECT_TRUE(
      loop_attach_risk(on_zfs("standard"), true, kReads4k, "2.3.2-2~bpo12+2.diobench_unfixed")
          .has_value());
  // zfs-vm --patch with any other patch labels its module diobench_patch_<sha8>:
  // built from 2.3.2, it is not the unfixed build.
  EXPECT_FALSE(loop_attach_risk(on_zfs("standard"), true, kReads4k,
                                "2.3.2-2~bpo12+2.diobench_patch_b9d8a253")
                   .has_value());
  EXPECT_FALSE(loop_attach_risk(on_zfs("standard"), true, kReads4k, "2.3.1").has_value());
  EXPECT_FALSE(loop_attach_risk(on_zfs("standard"), true, kReads4k, std::nullopt).has_value());
  EXPECT_FALSE(loop_attach_risk(on_ext4(), true, kReads4k, "2.3.0").has_value());
}

TEST_F(LoopAttachRisk, ADirectPropertyThatCannotBeReadCountsAsAlways) {
  // `always` is the only policy under which a dio-off loop's reads go direct.
  EXPECT_TRUE(loop_attach_risk(on_zfs(""), false, kReads4k, "2.3.0").has_value());
  TargetInfo no_dataset = on_zfs("standard");
  no_dataset.zfs.reset();
  EXPECT_TRUE(loop_attach_risk(no_dataset, false, kReads4k, "2.3.0").has_value());
}

TEST_F(LoopAttachRisk, TheReasonSaysWhatAndHowToForce) {
  const auto why = loop_attach_risk(on_zfs("standard"), true, kReads4k, "2.3.0");
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("OpenZFS 2.3.0"), std::string::npos) << *why;
  EXPECT_NE(why->find("direct=standard with loop dio on"), std::string::npos) << *why;
  EXPECT_NE(why->find("randread of 4k"), std::string::npos) << *why;
  EXPECT_NE(why->find("--force-unsafe"), std::string::npos) << *why;
}

// The hang of issue 17277 (docs/design.md §2.1): every release before
// 2.3.3 has it; the lane's 2.3.2 variants count whatever their patch.
TEST(HangGuard, ReleasesBefore2_3_3Hang) {
  for (const char* v :
       {"2.3.2-2~bpo12+2", "2.3.2-2~bpo12+2.diobench_patch_e41ddaf7",
        "2.3.2-2~bpo12+2.diobench_unfixed", "2.3.0", "2.2.7-1", "0.8.6", "garbage"}) {
    EXPECT_TRUE(zfs_version_hangs_on_cut_loop_writes(v)) << v;
  }
  for (const char* v : {"2.3.3", "2.3.9-1", "2.4.0-rc1", "2.4.4-1~bpo13+1", "3.0.0"}) {
    EXPECT_FALSE(zfs_version_hangs_on_cut_loop_writes(v)) << v;
  }
}

// Which writes a loop device may hand its backing file cut inside a
// bvec: O_DIRECT ones over 128 pages; with dio on, or with dio off on a
// kernel that hands whole requests. Not those through the page cache.
TEST(HangGuard, WritesThatMayBeCut) {
  const LoopTraffic big{"write", "1m"}, half{"write", "512k"}, over{"randwrite", "516k"},
      buffered{"write", "1m", false}, reads{"read", "1m"}, mixed{"randrw", "1m"},
      unreadable{"write", "4k-1m"};
  for (LoopBuffered kernel : {LoopBuffered::PerPage, LoopBuffered::WholeRequest}) {
    EXPECT_TRUE(loop_writes_may_be_cut(big, true, kernel));
    EXPECT_TRUE(loop_writes_may_be_cut(over, true, kernel));
    EXPECT_TRUE(loop_writes_may_be_cut(mixed, true, kernel));
    EXPECT_TRUE(loop_writes_may_be_cut(unreadable, true, kernel));
    EXPECT_FALSE(loop_writes_may_be_cut(buffered, true, kernel));
    EXPECT_FALSE(loop_writes_may_be_cut(half, true, kernel)) << "128 pages fit one request";
    EXPECT_FALSE(loop_writes_may_be_cut(reads, true, kernel)) << "reads pass no offset";
  }
  EXPECT_FALSE(loop_writes_may_be_cut(big, false, LoopBuffered::PerPage)) << "single pages";
  EXPECT_TRUE(loop_writes_may_be_cut(big, false, LoopBuffered::WholeRequest));
  EXPECT_FALSE(loop_writes_may_be_cut(buffered, false, LoopBuffered::WholeRequest));
}

// The guard refuses them on such a module under every policy (under
// `disabled` the request spins one level up), says why and how to force.
TEST_F(LoopAttachRisk, RefusesCuttableWritesBefore2_3_3) {
  const std::vector<LoopTraffic> big{{"write", "1m"}};
  for (const char* direct : {"disabled", "standard", "always"}) {
    const auto why = loop_attach_risk(on_zfs(direct), true, big, "2.3.2-2~bpo12+2");
    ASSERT_TRUE(why.has_value()) << direct;
    EXPECT_NE(why->find("OpenZFS 2.3.2-2~bpo12+2 can hang the host"), std::string::npos) << *why;
    EXPECT_NE(why->find("issue 17277"), std::string::npos) << *why;
    EXPECT_NE(why->find("fixed in 2.3.3"), std::string::npos) << *why;
    EXPECT_NE(why->find("--force-unsafe"), std::string::npos) << *why;
    EXPECT_FALSE(loop_attach_risk(on_zfs(direct), true, big, "2.3.3-1").has_value()) << direct;
  }
  EXPECT_FALSE(loop_attach_risk(on_zfs("always"), true, {{"write", "128k"}}, "2.3.2").has_value());
  EXPECT_FALSE(loop_attach_risk(on_zfs("always"), true, {{"read", "1m"}}, "2.3.2").has_value());
  EXPECT_FALSE(
      loop_attach_risk(on_zfs("always"), true, {{"write", "1m", false}}, "2.3.2").has_value())
      << "through the page cache";
  EXPECT_FALSE(loop_attach_risk(on_ext4(), true, big, "2.3.2").has_value()) << "not on ZFS";
  EXPECT_FALSE(loop_attach_risk(on_zfs("always"), true, big, std::nullopt).has_value());
}

// The pose (tests) only adds refusals: a file not on ZFS counts as on a
// dataset with that direct; a file really on ZFS keeps its own.
TEST_F(LoopAttachRisk, PoseAppliesOnlyOffZfs) {
  ::setenv("DIOBENCH_POSE_ZFS_DIRECT", "standard", 1);
  EXPECT_TRUE(loop_attach_risk(on_ext4(), true, kReads4k, "2.3.0").has_value());
  EXPECT_FALSE(loop_attach_risk(on_ext4(), false, kReads4k, "2.3.0").has_value());
  ::setenv("DIOBENCH_POSE_ZFS_DIRECT", "always", 1);
  EXPECT_FALSE(loop_attach_risk(on_zfs("disabled"), true, kReads4k, "2.3.0").has_value());
}

// attach_loop asks before attaching: refused, it leaves no loop device on
// the file (found from sysfs, not from the guard).
TEST_F(LoopAttachRisk, AttachLoopRefusesBeforeAttaching) {
  const std::string dir = "/var/tmp/diobench-guard-test-" + std::to_string(::getpid());
  fs::create_directories(dir);
  const std::string file = dir + "/backing";
  std::ofstream(file).close();
  fs::resize_file(file, 4 << 20);
  const std::string version_file = dir + "/zfs-version";
  std::ofstream(version_file) << "2.3.0\n";
  ::setenv("DIOBENCH_ZFS_VERSION_FILE", version_file.c_str(), 1);
  ::setenv("DIOBENCH_POSE_ZFS_DIRECT", "standard", 1);
  try {
    const LoopDevice loop = attach_loop(file, LoopOptions{true, 512, true}, kReads4k, false);
    ADD_FAILURE() << "attached " << loop.path()
                  << " over a (posed) OpenZFS 2.3.0 dataset with dio on";
  } catch (const LoopRefused& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("refused: OpenZFS 2.3.0"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a refusal: " << e.what();
  }
  ::unsetenv("DIOBENCH_ZFS_VERSION_FILE");
  EXPECT_EQ(test::loops_under(dir), std::vector<std::string>{});
  fs::remove_all(dir);
}

}  // namespace
}  // namespace diobench
