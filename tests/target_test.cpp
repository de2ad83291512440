// Target probing: the pure parsers on literal lines, then the real thing on
// this machine (a file under /var/tmp, loop devices over it), with the
// expectation computed another way (/proc/mounts, statfs) than the probe
// computes it (st_dev against /proc/self/mountinfo).
#include "diobench/target.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>

#include "../core/src/target_parse.hpp"
#include "diobench/loop_device.hpp"
#include "test_files.hpp"

namespace diobench {
namespace {

namespace fs = std::filesystem;
using detail::MountEntry;

// A directory under /var/tmp removed with everything in it, whatever the
// test's outcome; a loop device still bound to a file in it (a LoopDevice
// that failed to detach) is reported and unbound first.
class TempDir {
 public:
  explicit TempDir(const std::string& tag)
      : path_("/var/tmp/diobench-test-" + std::to_string(::getpid()) + "-" + tag) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    for (const auto& entry : fs::directory_iterator("/sys/block")) {
      std::ifstream backing(entry.path() / "loop" / "backing_file");
      std::string file;
      if (!backing || !std::getline(backing, file) || file.rfind(path_, 0) != 0) {
        continue;
      }
      ADD_FAILURE() << "loop device left attached: " << entry.path();
      const std::string device = "/dev/" + entry.path().filename().string();
      const int fd = ::open(device.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        ::ioctl(fd, LOOP_CLR_FD, 0);
        ::close(fd);
      }
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void make_file(const std::string& path, std::uintmax_t bytes) {
  std::ofstream(path).close();
  fs::resize_file(path, bytes);
}

// The loop-device cases need root; in an unprivileged run they are skipped
// rather than failed, the parsing cases still run.
bool can_attach_loop_devices() { return ::access("/dev/loop-control", R_OK | W_OK) == 0; }

using test::slurp;

// ---- mountinfo parsing ----------------------------------------------------

TEST(MountinfoLine, ParsesZfsDatasetWithAnonymousDevice) {
  const auto entry = detail::parse_mountinfo_line(
      "123 45 0:52 / /tank/ds rw,relatime shared:1 - zfs tank/ds "
      "rw,xattr,noacl");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->major, 0u);
  EXPECT_EQ(entry->minor, 52u);
  EXPECT_EQ(entry->root, "/");
  EXPECT_EQ(entry->mount_point, "/tank/ds");
  EXPECT_EQ(entry->fs_type, "zfs");
  EXPECT_EQ(entry->source, "tank/ds");
}

TEST(MountinfoLine, DecodesOctalEscapesInMountPointAndSource) {
  const auto entry = detail::parse_mountinfo_line(
      "36 35 98:0 /mnt1 /mnt/my\\040disk\\011x rw,noatime master:1 - ext3 "
      "/dev/odd\\134name rw,errors=continue");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->major, 98u);
  EXPECT_EQ(entry->minor, 0u);
  EXPECT_EQ(entry->root, "/mnt1");
  EXPECT_EQ(entry->mount_point, "/mnt/my disk\tx");
  EXPECT_EQ(entry->fs_type, "ext3");
  EXPECT_EQ(entry->source, "/dev/odd\\name");
}

TEST(MountinfoLine, HandlesNoOrSeveralOptionalFields) {
  const auto none =
      detail::parse_mountinfo_line("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard");
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->mount_point, "/");
  EXPECT_EQ(none->fs_type, "ext4");
  EXPECT_EQ(none->source, "/dev/vda");

  const auto several = detail::parse_mountinfo_line(
      "40 27 8:17 /sub /data rw shared:7 master:2 propagate_from:3 unbindable "
      "- xfs /dev/sdb1 rw,attr2");
  ASSERT_TRUE(several.has_value());
  EXPECT_EQ(several->major, 8u);
  EXPECT_EQ(several->minor, 17u);
  EXPECT_EQ(several->root, "/sub");
  EXPECT_EQ(several->mount_point, "/data");
  EXPECT_EQ(several->fs_type, "xfs");
  EXPECT_EQ(several->source, "/dev/sdb1");
}

TEST(MountinfoLine, LeavesIncompleteEscapesAlone) {
  EXPECT_EQ(detail::decode_mount_escapes("a\\04"), "a\\04");
  EXPECT_EQ(detail::decode_mount_escapes("a\\x40b"), "a\\x40b");
  EXPECT_EQ(detail::decode_mount_escapes("\\040\\040"), "  ");
}

TEST(MountinfoLine, RejectsMalformedLines) {
  EXPECT_FALSE(detail::parse_mountinfo_line("").has_value());
  EXPECT_FALSE(detail::parse_mountinfo_line("27 1 254:0 / / rw").has_value());
  // No " - " separator.
  EXPECT_FALSE(
      detail::parse_mountinfo_line("27 1 254:0 / / rw,relatime ext4 /dev/vda rw").has_value());
  // Separator but no source.
  EXPECT_FALSE(detail::parse_mountinfo_line("27 1 254:0 / / rw,relatime - ext4").has_value());
  // Device not major:minor.
  EXPECT_FALSE(
      detail::parse_mountinfo_line("27 1 254-0 / / rw,relatime - ext4 /dev/vda rw").has_value());
  EXPECT_FALSE(
      detail::parse_mountinfo_line("27 1 25x:0 / / rw,relatime - ext4 /dev/vda rw").has_value());
}

TEST(MountinfoText, SkipsBadLinesAndKeepsOrder) {
  const auto mounts = detail::parse_mountinfo(
      "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
      "garbage\n"
      "123 27 0:52 / /tank/ds rw shared:1 - zfs tank/ds rw\n");
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0].mount_point, "/");
  EXPECT_EQ(mounts[1].mount_point, "/tank/ds");
}

// ---- choosing the mount ----------------------------------------------------

const std::vector<MountEntry> kMounts = detail::parse_mountinfo(
    "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
    "50 27 254:0 /srv /mnt/bind rw - ext4 /dev/vda rw\n"
    "60 27 0:52 / /tank rw - zfs tank rw\n"
    "61 60 0:53 / /tank/ds rw - zfs tank/ds rw\n"
    "70 27 0:60 / /mnt/top rw - tmpfs first rw\n"
    "71 27 0:60 / /mnt/top rw - tmpfs second rw\n"
    "80 27 0:70 / /mnt/btr rw - btrfs /dev/sdc rw\n");

TEST(FindMount, ZfsDatasetMatchedByItsOwnAnonymousDevice) {
  const auto m = detail::find_mount(kMounts, 0, 53, "/tank/ds/file");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->source, "tank/ds");
  EXPECT_EQ(m->mount_point, "/tank/ds");
}

TEST(FindMount, BindMountOfSameDevicePrefersTheMountHoldingThePath) {
  const auto root = detail::find_mount(kMounts, 254, 0, "/var/tmp/f");
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->mount_point, "/");
  const auto bind = detail::find_mount(kMounts, 254, 0, "/mnt/bind/f");
  ASSERT_TRUE(bind.has_value());
  EXPECT_EQ(bind->mount_point, "/mnt/bind");
}

TEST(FindMount, LastEntryWinsForOvermountsAndUnknownPaths) {
  const auto top = detail::find_mount(kMounts, 0, 60, "/mnt/top/f");
  ASSERT_TRUE(top.has_value());
  EXPECT_EQ(top->source, "second");
  const auto no_path = detail::find_mount(kMounts, 254, 0, "");
  ASSERT_TRUE(no_path.has_value());
  EXPECT_EQ(no_path->mount_point, "/mnt/bind");
}

TEST(FindMount, FallsBackToPathWhenNoDeviceMatches) {
  // btrfs subvolumes report a device of their own.
  const auto m = detail::find_mount(kMounts, 0, 99, "/mnt/btr/subvol/f");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->fs_type, "btrfs");
  // "/mnt/top" must not hold "/mnt/topfile".
  const auto prefix = detail::find_mount(kMounts, 0, 99, "/mnt/topfile");
  ASSERT_TRUE(prefix.has_value());
  EXPECT_EQ(prefix->mount_point, "/");
  EXPECT_FALSE(detail::find_mount(kMounts, 0, 99, "").has_value());
}

// ---- zfs get ---------------------------------------------------------------

TEST(ZfsGet, ParsesPropertyValueLines) {
  const auto p = detail::parse_zfs_get("direct\talways\nrecordsize\t131072\n");
  EXPECT_EQ(p.direct, "always");
  EXPECT_EQ(p.recordsize, 131072u);
  const auto reversed = detail::parse_zfs_get("recordsize\t1048576\ndirect\tstandard");
  EXPECT_EQ(reversed.direct, "standard");
  EXPECT_EQ(reversed.recordsize, 1048576u);
}

TEST(ZfsGet, UnknownValuesStayEmpty) {
  const auto dash = detail::parse_zfs_get("direct\t-\nrecordsize\t-\n");
  EXPECT_EQ(dash.direct, "");
  EXPECT_EQ(dash.recordsize, 0u);
  const auto junk = detail::parse_zfs_get("recordsize\t128K\nnonsense\n");
  EXPECT_EQ(junk.recordsize, 0u);
  const auto only_rs = detail::parse_zfs_get("recordsize\t16384\n");
  EXPECT_EQ(only_rs.direct, "");
  EXPECT_EQ(only_rs.recordsize, 16384u);
  EXPECT_EQ(detail::parse_zfs_get("").recordsize, 0u);
}

// PATH pointed at a directory with a fake `zfs`, restored afterwards.
class FakeZfsOnPath {
 public:
  FakeZfsOnPath(const std::string& dir, const std::string& script)
      : saved_(std::getenv("PATH") ? std::getenv("PATH") : "") {
    const std::string zfs = dir + "/zfs";
    std::ofstream(zfs) << script;
    fs::permissions(zfs, fs::perms::owner_all);
    ::setenv("PATH", dir.c_str(), 1);
  }
  ~FakeZfsOnPath() { ::setenv("PATH", saved_.c_str(), 1); }
  FakeZfsOnPath(const FakeZfsOnPath&) = delete;
  FakeZfsOnPath& operator=(const FakeZfsOnPath&) = delete;

 private:
  std::string saved_;
};

TEST(ZfsGet, RunsTheZfsCommandFromPath) {
  TempDir dir("fakezfs");
  // Answers only the exact query, so a wrong command line shows up as
  // empty properties.
  FakeZfsOnPath fake(dir.path(),
                     "#!/bin/sh\n"
                     "[ \"$*\" = 'get -Hp -o property,value direct,recordsize "
                     "tank/my ds' ] || exit 2\n"
                     "printf 'direct\\talways\\nrecordsize\\t131072\\n'\n");
  const auto p = detail::read_zfs_properties("tank/my ds");
  EXPECT_EQ(p.direct, "always");
  EXPECT_EQ(p.recordsize, 131072u);
}

TEST(ZfsGet, FallsBackToRecordsizeForOldZfs) {
  TempDir dir("oldzfs");
  FakeZfsOnPath fake(dir.path(),
                     "#!/bin/sh\n"
                     "case \"$*\" in *direct*) echo bad property >&2; exit 2;; esac\n"
                     "printf 'recordsize\\t65536\\n'\n");
  const auto p = detail::read_zfs_properties("tank");
  EXPECT_EQ(p.direct, "");
  EXPECT_EQ(p.recordsize, 65536u);
}

TEST(ZfsGet, NoZfsCommandMeansUnknown) {
  TempDir dir("nozfs");
  const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", dir.path().c_str(), 1);
  const auto p = detail::read_zfs_properties("tank");
  ::setenv("PATH", saved.c_str(), 1);
  EXPECT_EQ(p.direct, "");
  EXPECT_EQ(p.recordsize, 0u);
}

// ---- small pieces
// ------------------------------------------------------------

TEST(TargetKind, NamesAreTheResultSchemaStrings) {
  EXPECT_EQ(to_string(TargetKind::File), "file");
  EXPECT_EQ(to_string(TargetKind::Block), "block");
  EXPECT_EQ(to_string(TargetKind::Loop), "loop");
}

TEST(ZfsDatasetName, PoolIsTheFirstComponent) {
  EXPECT_EQ((ZfsDataset{"tank/ds/sub", "", 0}.pool()), "tank");
  EXPECT_EQ((ZfsDataset{"tank", "", 0}.pool()), "tank");
  EXPECT_EQ((ZfsDataset{"", "", 0}.pool()), "");
}

TEST(ZfsModuleVersion, MatchesSysfs) {
  const auto version = zfs_module_version();
  std::ifstream sysfs("/sys/module/zfs/version");
  if (!sysfs) {
    EXPECT_FALSE(version.has_value());
  } else {
    std::string expected;
    sysfs >> expected;
    ASSERT_TRUE(version.has_value());
    EXPECT_EQ(*version, expected);
  }
}

// ---- probing this machine ------------------------------------------------

struct ExpectedMount {
  std::string source;
  std::string mount_point;
  std::string fs_type;
};

std::string decode_octal(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 3), nullptr, 8)));
      i += 3;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// The mount holding `path` by the other route: /proc/mounts, longest mount
// point that is a prefix of the canonical path, the last one on ties.
ExpectedMount expected_mount(const std::string& path) {
  const std::string canonical = fs::canonical(path).string();
  std::ifstream mounts("/proc/mounts");
  ExpectedMount best;
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string source, mount_point, type;
    fields >> source >> mount_point >> type;
    mount_point = decode_octal(mount_point);
    const bool holds = mount_point == "/" || canonical == mount_point ||
                       canonical.rfind(mount_point + "/", 0) == 0;
    if (holds && mount_point.size() >= best.mount_point.size()) {
      best = {decode_octal(source), mount_point, type};
    }
  }
  return best;
}

// statfs's magic for the filesystems we can name, to cross-check the name.
void expect_magic_agrees(const std::string& path, const std::string& fs_type) {
  struct statfs sfs {};
  ASSERT_EQ(::statfs(path.c_str(), &sfs), 0);
  const auto magic = static_cast<unsigned long>(sfs.f_type);
  if (fs_type == "ext4" || fs_type == "ext3" || fs_type == "ext2") {
    EXPECT_EQ(magic, 0xEF53ul);
  } else if (fs_type == "xfs") {
    EXPECT_EQ(magic, 0x58465342ul);
  } else if (fs_type == "tmpfs") {
    EXPECT_EQ(magic, 0x01021994ul);
  } else if (fs_type == "btrfs") {
    EXPECT_EQ(magic, 0x9123683Eul);
  } else if (fs_type == "zfs") {
    EXPECT_EQ(magic, 0x2FC12FC1ul);
  }
}

TEST(ProbeTarget, RegularFileUnderVarTmp) {
  TempDir dir("probe-file");
  const std::string file = dir.path() + "/data";
  make_file(file, 1 << 20);

  const TargetInfo info = probe_target(file);
  const ExpectedMount expected = expected_mount(file);
  ASSERT_FALSE(expected.fs_type.empty());
  EXPECT_EQ(info.kind, TargetKind::File);
  EXPECT_EQ(info.path, file);
  EXPECT_EQ(info.fs_type, expected.fs_type);
  EXPECT_EQ(info.fs_source, expected.source);
  EXPECT_EQ(info.mount_point, expected.mount_point);
  EXPECT_EQ(info.logical_block_size, 512u);
  EXPECT_FALSE(info.loop.has_value());
  EXPECT_EQ(info.zfs.has_value(), info.fs_type == "zfs");
  expect_magic_agrees(file, info.fs_type);
}

TEST(ProbeTarget, RelativePathKeptAsGiven) {
  TempDir dir("probe-rel");
  make_file(dir.path() + "/data", 4096);
  const fs::path saved = fs::current_path();
  fs::current_path(dir.path());
  TargetInfo info;
  EXPECT_NO_THROW(info = probe_target("data"));
  fs::current_path(saved);
  EXPECT_EQ(info.path, "data");
  EXPECT_EQ(info.mount_point, expected_mount(dir.path()).mount_point);
}

TEST(ProbeTarget, NonexistentPathThrowsEnoent) {
  const std::string missing = "/var/tmp/diobench-test-does-not-exist/x";
  try {
    probe_target(missing);
    FAIL() << "probe_target did not throw";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
}

struct LoopCase {
  bool direct_io;
  std::uint32_t logical_block_size;
};

class ProbeLoop : public ::testing::TestWithParam<LoopCase> {};

TEST_P(ProbeLoop, DescribesDriverAndBackingFilesystem) {
  if (!can_attach_loop_devices()) GTEST_SKIP() << "needs /dev/loop-control";
  const LoopCase c = GetParam();
  TempDir dir("probe-loop");
  const std::string backing = dir.path() + "/backing";
  make_file(backing, 32 << 20);
  LoopDevice loop(backing, {c.direct_io, c.logical_block_size, false});

  const TargetInfo info = probe_target(loop.path());
  const TargetInfo file = probe_target(backing);
  const ExpectedMount expected = expected_mount(backing);
  EXPECT_EQ(info.kind, TargetKind::Loop);
  EXPECT_EQ(info.path, loop.path());
  ASSERT_TRUE(info.loop.has_value());
  EXPECT_EQ(info.loop->backing_file, fs::canonical(backing).string());
  EXPECT_EQ(info.loop->direct_io, c.direct_io);
  EXPECT_EQ(info.loop->logical_block_size, c.logical_block_size);
  EXPECT_EQ(info.logical_block_size, c.logical_block_size);
  // The filesystem is the backing file's, not devtmpfs holding /dev/loopN.
  EXPECT_EQ(info.fs_type, expected.fs_type);
  EXPECT_EQ(info.fs_source, expected.source);
  EXPECT_EQ(info.mount_point, expected.mount_point);
  EXPECT_EQ(info.fs_type, file.fs_type);
}

INSTANTIATE_TEST_SUITE_P(DioAndBlockSize, ProbeLoop,
                         ::testing::Values(LoopCase{true, 4096}, LoopCase{false, 4096},
                                           LoopCase{false, 512}),
                         [](const ::testing::TestParamInfo<LoopCase>& p) {
                           return std::string(p.param.direct_io ? "DioOn" : "DioOff") +
                                  std::to_string(p.param.logical_block_size);
                         });

TEST(ProbeTarget, UnboundLoopDeviceIsAPlainBlockDevice) {
  // Find a loop device nobody has bound; it has no loop/ in sysfs.
  for (int n = 0; n < 64; ++n) {
    const std::string name = "loop" + std::to_string(n);
    if (!fs::exists("/dev/" + name) || !fs::exists("/sys/block/" + name) ||
        fs::exists("/sys/block/" + name + "/loop")) {
      continue;
    }
    const TargetInfo info = probe_target("/dev/" + name);
    // Another process may have bound it meanwhile; then try the next.
    if (fs::exists("/sys/block/" + name + "/loop")) continue;
    EXPECT_EQ(info.kind, TargetKind::Block);
    EXPECT_FALSE(info.loop.has_value());
    return;
  }
  GTEST_SKIP() << "no unbound loop device to look at";
}

TEST(ProbeTarget, WholeDiskReportsItsLogicalBlockSize) {
  for (const auto& entry : fs::directory_iterator("/sys/block")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("loop", 0) == 0 || !fs::exists("/dev/" + name)) continue;
    const TargetInfo info = probe_target("/dev/" + name);
    EXPECT_EQ(info.kind, TargetKind::Block) << name;
    EXPECT_EQ(std::to_string(info.logical_block_size) + "\n",
              slurp(entry.path().string() + "/queue/logical_block_size"))
        << name;
    return;
  }
  GTEST_SKIP() << "no block device other than loop devices";
}

// A partition on a loop device, added with BLKPG and deleted however the
// test ends (before the device is detached).
class LoopPartition {
 public:
  LoopPartition(const LoopDevice& loop, long long start, long long length)
      : fd_(::open(loop.path().c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open");
    // Partitions need LO_FLAGS_PARTSCAN (otherwise the disk says no-part).
    loop_info64 status{};
    if (::ioctl(fd_, LOOP_GET_STATUS64, &status) != 0) fail("LOOP_GET_STATUS64");
    status.lo_flags |= LO_FLAGS_PARTSCAN;
    if (::ioctl(fd_, LOOP_SET_STATUS64, &status) != 0) fail("LOOP_SET_STATUS64");
    blkpg_partition part{};
    part.start = start;
    part.length = length;
    part.pno = 1;
    blkpg_ioctl_arg arg{};
    arg.op = BLKPG_ADD_PARTITION;
    arg.datalen = sizeof part;
    arg.data = &part;
    if (::ioctl(fd_, BLKPG, &arg) != 0) fail("BLKPG_ADD_PARTITION");
    path_ = loop.path() + "p1";
  }
  ~LoopPartition() {
    blkpg_partition part{};
    part.pno = 1;
    blkpg_ioctl_arg arg{};
    arg.op = BLKPG_DEL_PARTITION;
    arg.datalen = sizeof part;
    arg.data = &part;
    ::ioctl(fd_, BLKPG, &arg);
    ::close(fd_);
  }
  LoopPartition(const LoopPartition&) = delete;
  LoopPartition& operator=(const LoopPartition&) = delete;
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(const char* what) {
    const int err = errno;
    ::close(fd_);
    throw std::system_error(err, std::generic_category(), what);
  }
  int fd_;
  std::string path_;
};

TEST(ProbeTarget, PartitionTakesTheLogicalBlockSizeOfItsDisk) {
  if (!can_attach_loop_devices()) GTEST_SKIP() << "needs /dev/loop-control";
  TempDir dir("probe-part");
  const std::string backing = dir.path() + "/backing";
  make_file(backing, 16 << 20);
  LoopDevice loop(backing, {false, 4096, false});
  LoopPartition part(loop, 1 << 20, 8 << 20);
  // devtmpfs creates the node as the partition is added; allow a moment.
  for (int i = 0; i < 200 && !fs::exists(part.path()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(fs::exists(part.path()));
  struct stat st {};
  ASSERT_EQ(::stat(part.path().c_str(), &st), 0);
  const std::string sys = "/sys/dev/block/" + std::to_string(major(st.st_rdev)) + ":" +
                          std::to_string(minor(st.st_rdev));
  // The point of the test: the fallback to the parent's queue/ is needed.
  ASSERT_FALSE(fs::exists(sys + "/queue/logical_block_size"));

  const TargetInfo info = probe_target(part.path());
  EXPECT_EQ(info.kind, TargetKind::Block);
  EXPECT_FALSE(info.loop.has_value());
  EXPECT_EQ(info.logical_block_size, 4096u);
}

}  // namespace
}  // namespace diobench
