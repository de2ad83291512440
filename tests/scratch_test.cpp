// ScratchArea: ownership by marker, refusal of foreign data, real data files.
#include "diobench/scratch.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "small_filesystem.hpp"
#include "test_files.hpp"

namespace diobench {
namespace {

namespace fs = std::filesystem;

using test::slurp;

// A per-test root under /var/tmp, removed whatever the test's outcome; the
// scratch areas under test live below it.
class ScratchAreaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = "/var/tmp/diobench-test-" + std::to_string(::getpid()) + "-" + info->name();
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string root_;
};

TEST_F(ScratchAreaTest, CreatesDirectoryWithParentsAndWritesMarker) {
  const std::string dir = root_ + "/a/b/scratch";
  ScratchArea area(dir);
  EXPECT_EQ(area.dir(), dir);
  EXPECT_TRUE(fs::is_directory(dir));
  const std::string marker = slurp(dir + "/" + kScratchMarker);
  EXPECT_EQ(marker.rfind("diobench scratch area, created ", 0), 0u) << marker;
  EXPECT_NE(marker.find("by pid " + std::to_string(::getpid()) + "\n"), std::string::npos)
      << marker;
  EXPECT_TRUE(ScratchArea::is_owned(dir));
}

TEST_F(ScratchAreaTest, DirectoryIsMadeAbsoluteAndNormal) {
  const fs::path saved = fs::current_path();
  fs::current_path(root_);
  std::string dir;
  try {
    ScratchArea area("./rel/../scratch/");
    dir = area.dir();
  } catch (...) {
    fs::current_path(saved);
    throw;
  }
  fs::current_path(saved);
  EXPECT_EQ(dir, root_ + "/scratch");
}

TEST_F(ScratchAreaTest, AdoptsAnEmptyDirectory) {
  const std::string dir = root_ + "/empty";
  fs::create_directory(dir);
  ScratchArea area(dir);
  EXPECT_TRUE(ScratchArea::is_owned(dir));
}

TEST_F(ScratchAreaTest, RefusesForeignNonEmptyDirectory) {
  const std::string dir = root_ + "/user-data";
  fs::create_directory(dir);
  std::ofstream(dir + "/precious") << "do not touch";
  try {
    ScratchArea area(dir);
    FAIL() << "adopted a directory with someone else's data";
  } catch (const ScratchRefused& e) {  // bad input: the command line exits 2
    EXPECT_NE(std::string(e.what()).find(dir), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir + "/" + kScratchMarker));
  EXPECT_EQ(slurp(dir + "/precious"), "do not touch");
}

TEST_F(ScratchAreaTest, ReopensItsOwnAreaAndKeepsTheMarker) {
  const std::string dir = root_ + "/scratch";
  { ScratchArea first(dir); }
  const std::string marker = slurp(dir + "/" + kScratchMarker);
  std::ofstream(dir + "/leftover") << "from a crashed run";
  ScratchArea second(dir);
  EXPECT_EQ(slurp(dir + "/" + kScratchMarker), marker);
}

TEST_F(ScratchAreaTest, IsOwnedNeedsTheRealMarker) {
  EXPECT_FALSE(ScratchArea::is_owned(root_));
  EXPECT_FALSE(ScratchArea::is_owned(root_ + "/missing"));
  std::ofstream(root_ + "/" + kScratchMarker) << "something else\n";
  EXPECT_FALSE(ScratchArea::is_owned(root_));
}

TEST_F(ScratchAreaTest, CreateFileWritesRealAllocatedData) {
  ScratchArea area(root_ + "/scratch");
  constexpr std::uint64_t kBytes = (3u << 20) + 12345;
  const std::string path = area.create_file("data", kBytes);
  EXPECT_EQ(path, root_ + "/scratch/data");
  EXPECT_TRUE(fs::path(path).is_absolute());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), kBytes);
  EXPECT_GE(static_cast<std::uint64_t>(st.st_blocks) * 512, kBytes);
  // Not zeros, not one repeated byte, and no two MiB alike.
  const std::string data = slurp(path);
  ASSERT_EQ(data.size(), kBytes);
  EXPECT_EQ(data.find_first_not_of('\0'), 0u);
  EXPECT_NE(data.find_first_not_of(data[0]), std::string::npos);
  EXPECT_NE(data.substr(0, 1 << 20), data.substr(1 << 20, 1 << 20));
  EXPECT_NE(data.substr(kBytes - 4096).find_first_not_of('\0'), std::string::npos);
}

TEST_F(ScratchAreaTest, CreateFileReusesOrResizes) {
  ScratchArea area(root_ + "/scratch");
  const std::string path = area.create_file("data", 1 << 20);
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  EXPECT_EQ(area.create_file("data", 1 << 20), path);
  struct stat again {};
  ASSERT_EQ(::stat(path.c_str(), &again), 0);
  EXPECT_EQ(again.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(again.st_mtim.tv_nsec, before.st_mtim.tv_nsec);  // not rewritten
  EXPECT_EQ(area.create_file("data", 2 << 20), path);
  EXPECT_EQ(fs::file_size(path), 2u << 20);
  EXPECT_EQ(area.create_file("empty", 0), root_ + "/scratch/empty");
  EXPECT_EQ(fs::file_size(root_ + "/scratch/empty"), 0u);
}

TEST_F(ScratchAreaTest, RejectsNamesThatLeaveTheAreaOrHitTheMarker) {
  ScratchArea area(root_ + "/scratch");
  for (const char* name :
       {"", ".", "..", "../escape", "a/b", "/etc/passwd", "x..y", kScratchMarker}) {
    EXPECT_THROW(area.create_file(name, 4096), std::invalid_argument) << name;
  }
  EXPECT_FALSE(fs::exists(root_ + "/escape"));
  EXPECT_EQ(slurp(root_ + "/scratch/" + kScratchMarker).rfind("diobench", 0), 0u);
  // Only the marker is there.
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ + "/scratch"), fs::directory_iterator()), 1);
}

TEST_F(ScratchAreaTest, DestructorRemovesOnlyWhatItCreated) {
  const std::string dir = root_ + "/scratch";
  std::string a, b;
  {
    ScratchArea area(dir);
    a = area.create_file("a", 4096);
    b = area.create_file("b", 8192);
    std::ofstream(dir + "/not-mine") << "x";
    ASSERT_TRUE(fs::exists(a));
    ASSERT_TRUE(fs::exists(b));
  }
  EXPECT_FALSE(fs::exists(a));
  EXPECT_FALSE(fs::exists(b));
  EXPECT_TRUE(fs::exists(dir + "/not-mine"));
  EXPECT_TRUE(fs::exists(dir + "/" + kScratchMarker));
  EXPECT_TRUE(fs::is_directory(dir));
}

TEST_F(ScratchAreaTest, RemoveFileDeletesOnlyItsOwnFiles) {
  const std::string dir = root_ + "/scratch";
  ScratchArea area(dir);
  const std::string a = area.create_file("a", 4096);
  area.remove_file("a");
  EXPECT_FALSE(fs::exists(a));
  area.remove_file("a");  // twice is harmless
  std::ofstream(dir + "/not-mine") << "x";
  area.remove_file("not-mine");
  EXPECT_TRUE(fs::exists(dir + "/not-mine"));
  area.remove_file("../scratch");  // never follows a path out
  EXPECT_TRUE(fs::is_directory(dir));
}

// ---------------------------------------------------------------------------
// Root-safety: the suite runs as root in world-writable /var/tmp.

// A directory with a valid marker, as another user could prepare it.
std::string planted_area(const std::string& dir, mode_t mode) {
  fs::create_directories(dir);
  std::ofstream(dir + "/" + kScratchMarker) << "diobench scratch area, created by someone\n";
  EXPECT_EQ(::chmod(dir.c_str(), mode), 0);
  return dir;
}

TEST_F(ScratchAreaTest, NewAreaIsPrivate) {
  ScratchArea area(root_ + "/fresh");
  struct stat st {};
  ASSERT_EQ(::stat(area.dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  const std::string file = area.create_file("data.dat", 4096);
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u) << "the data file is readable by others";
}

TEST_F(ScratchAreaTest, RefusesAnAreaWritableByOthersEvenWithAMarker) {
  const std::string dir = planted_area(root_ + "/open", 0777);
  try {
    ScratchArea area(dir);
    FAIL() << "adopted a world-writable directory";
  } catch (const ScratchRefused& e) {
    EXPECT_NE(std::string(e.what()).find(dir), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("writable by group or others"), std::string::npos);
  }
  EXPECT_FALSE(ScratchArea::is_owned(dir));
}

TEST_F(ScratchAreaTest, RefusesAnAreaOwnedByAnotherUser) {
  if (::geteuid() != 0)
    GTEST_FAIL() << "needs root to give the directory away (scripts/test runs as root)";
  const std::string dir = planted_area(root_ + "/theirs", 0755);
  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
  try {
    ScratchArea area(dir);
    FAIL() << "adopted a directory owned by uid 65534";
  } catch (const ScratchRefused& e) {
    EXPECT_NE(std::string(e.what()).find("owned by uid 65534"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(ScratchArea::is_owned(dir));
}

TEST_F(ScratchAreaTest, RefusesASymbolicLinkAsTheArea) {
  const std::string real = planted_area(root_ + "/real", 0700);
  const std::string link = root_ + "/link";
  fs::create_directory_symlink(real, link);
  EXPECT_THROW(ScratchArea area(link), ScratchRefused);
  EXPECT_FALSE(ScratchArea::is_owned(link));
}

// A link planted where the data file goes must not make root truncate its
// target: the file is opened without following links.
TEST_F(ScratchAreaTest, DoesNotFollowALinkPlantedAsTheDataFile) {
  const std::string victim = root_ + "/victim";
  std::ofstream(victim) << "precious";
  ScratchArea area(root_ + "/area");
  fs::create_symlink(victim, area.dir() + "/data.dat");
  EXPECT_THROW(area.create_file("data.dat", 4096), std::system_error);
  EXPECT_EQ(slurp(victim), "precious");
}

// No descriptor of the area stays open between operations: one would keep
// a ZFS pool busy, and the runner exports the pool between repetitions.
TEST_F(ScratchAreaTest, KeepsNoDescriptorOfTheAreaOpen) {
  ScratchArea area(root_ + "/idle");
  area.create_file("data.dat", 4096);
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(entry.path(), ec);
    if (ec) continue;
    EXPECT_NE(target.string().rfind(area.dir(), 0), 0u) << "open: " << target;
  }
}

// A directory swapped in under the same name is not the area any more.
TEST_F(ScratchAreaTest, RefusesADirectoryReplacedWhileInUse) {
  ScratchArea area(root_ + "/swapped");
  fs::rename(area.dir(), root_ + "/moved-away");
  fs::create_directory(area.dir());
  ::chmod(area.dir().c_str(), 0700);
  EXPECT_THROW(area.create_file("data.dat", 4096), ScratchRefused);
  EXPECT_FALSE(fs::exists(area.dir() + "/data.dat"));
}

// A data file the file system cannot hold is refused before anything is
// written (statvfs), with the numbers and the path; one that fits is made.
TEST_F(ScratchAreaTest, RefusesADataFileTheFileSystemCannotHold) {
  if (::geteuid() != 0)
    GTEST_FAIL() << "needs root for a small file system (scripts/test runs as root)";
  SmallFileSystem small(64);
  ScratchArea area(small.mount_point() + "/scratch");
  try {
    area.create_file("big.dat", std::uint64_t{128} << 20);
    FAIL() << "a 128 MiB data file was started on a 64 MiB file system";
  } catch (const ScratchRefused& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("needed 134217728 bytes (128 MiB)"), std::string::npos) << what;
    EXPECT_NE(what.find("available "), std::string::npos) << what;
    EXPECT_NE(what.find(area.dir() + "/big.dat"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(area.dir() + "/big.dat"));
  EXPECT_THROW(area.check_room("big.dat", std::uint64_t{128} << 20), ScratchRefused);
  EXPECT_NO_THROW(area.check_room("small.dat", std::uint64_t{8} << 20));
  EXPECT_EQ(fs::file_size(area.create_file("small.dat", std::uint64_t{8} << 20)),
            std::uint64_t{8} << 20);
}

}  // namespace
}  // namespace diobench
