// The undo journal as a file: created private, never written through a
// link, and acted on by restore only when nobody else could have written it.
#include "diobench/runner/journal.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "diobench/runner/work_dataset.hpp"
#include "diobench/scratch.hpp"
#include "test_files.hpp"

namespace diobench {
namespace {

namespace fs = std::filesystem;

using test::slurp;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = temp_.path();
    run_ = root_ / "run";
    fs::create_directory(run_);
    ::chmod(run_.c_str(), 0755);
  }
  test::TempDir temp_{"diobench-journal-test"};

  // A run directory whose journal says a scratch file was created and
  // never removed; returns that file (real, in a marked scratch area).
  std::string journal_with_a_scratch_file(mode_t journal_mode) {
    area_.emplace((root_ / "scratch").string());
    const std::string file = area_->create_file("run.dat", 4096);
    const fs::path journal = run_ / "journal.jsonl";
    std::ofstream(journal) << R"({"op":"scratch_file","path":")" << file << "\"}\n";
    ::chmod(journal.c_str(), journal_mode);
    return file;
  }
  std::string expect_refused(const std::string& path, const std::string& why) {
    try {
      restore_journal(path);
      ADD_FAILURE() << "acted on " << path;
      return "";
    } catch (const JournalRefused& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
      return e.what();
    }
  }

  fs::path root_, run_;
  std::optional<ScratchArea> area_;
};

TEST_F(JournalTest, IsCreatedReadableByItsOwnerOnly) {
  Journal journal((run_ / "journal.jsonl").string());
  journal.scratch_file_created("/nowhere/run.dat");
  struct stat st {};
  ASSERT_EQ(::stat((run_ / "journal.jsonl").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(JournalTest, IsNeverWrittenThroughALink) {
  const fs::path victim = root_ / "victim";
  std::ofstream(victim) << "precious\n";
  fs::create_symlink(victim, run_ / "journal.jsonl");
  Journal journal((run_ / "journal.jsonl").string());
  EXPECT_THROW(journal.scratch_file_created("/nowhere/run.dat"), std::system_error);
  EXPECT_EQ(slurp(victim), "precious\n");
}

TEST_F(JournalTest, RestoreActsOnATrustedJournal) {
  const std::string file = journal_with_a_scratch_file(0600);
  const RestoreReport r = restore_journal((run_ / "journal.jsonl").string());
  EXPECT_TRUE(r.problems.empty());
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(fs::exists(run_ / "journal.jsonl"));
}

// A fleet run's directory of ssh control sockets: restore removes it and
// its sockets, and leaves alone what is not such a directory (another
// name, a symbolic link, a directory holding a file).
TEST_F(JournalTest, RestoreRemovesOnlyAnSshSocketDirectory) {
  auto socket_at = [](const fs::path& p) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", p.c_str());
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << p;
    ::close(fd);
  };
  const fs::path ours = root_ / "diobench-ssh.0000beef", with_file = root_ / "diobench-ssh.2",
                 other = root_ / "other-ssh", link = root_ / "diobench-ssh.link";
  for (const fs::path& d : {ours, with_file, other}) fs::create_directory(d);
  socket_at(ours / "a");
  socket_at(ours / "b");
  socket_at(with_file / "a");
  std::ofstream(with_file / "notes") << "not ssh's\n";
  socket_at(other / "a");
  fs::create_directory_symlink(other, link);
  {
    Journal journal((run_ / "journal.jsonl").string());
    for (const fs::path& d : {ours, with_file, other, link}) journal.ssh_control_dir_created(d);
    journal.ssh_control_dir_created((root_ / "diobench-ssh.gone").string());  // removed already
  }
  const RestoreReport r = restore_journal((run_ / "journal.jsonl").string());
  EXPECT_FALSE(fs::exists(ours));
  EXPECT_EQ(r.removed, std::vector<std::string>{ours.string()});
  EXPECT_TRUE(fs::exists(with_file / "notes"));
  EXPECT_TRUE(fs::exists(with_file / "a"));
  EXPECT_TRUE(fs::exists(other / "a"));
  EXPECT_TRUE(fs::is_symlink(link));
  ASSERT_EQ(r.problems.size(), 3u);
  EXPECT_NE(r.problems[0].find("holds more than ssh's sockets (notes)"), std::string::npos)
      << r.problems[0];
  EXPECT_NE(r.problems[1].find("not a directory of ssh sockets diobench made"), std::string::npos)
      << r.problems[1];
  EXPECT_NE(r.problems[2].find("not a directory of ssh sockets diobench made"), std::string::npos)
      << r.problems[2];
}

TEST_F(JournalTest, RestoreNamesTheLinesItCannotRead) {
  const std::string file = journal_with_a_scratch_file(0600);
  std::ofstream(run_ / "journal.jsonl", std::ios::app) << "5\n{\"op\":\"loop\",\"backing\":7}\n";
  const RestoreReport r = restore_journal((run_ / "journal.jsonl").string());
  EXPECT_FALSE(fs::exists(file));  // the readable entry is still undone
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_EQ(r.skipped[0], "line 2: 5");
  EXPECT_NE(r.skipped[1].find("line 3: "), std::string::npos) << r.skipped[1];
}

TEST_F(JournalTest, RestoreRefusesAJournalOthersCanRead) {
  const std::string file = journal_with_a_scratch_file(0644);
  expect_refused((run_ / "journal.jsonl").string(), "mode is 0644, not 0600");
  EXPECT_TRUE(fs::exists(file));
}

TEST_F(JournalTest, RestoreRefusesAJournalInADirectoryOthersCanWrite) {
  const std::string file = journal_with_a_scratch_file(0600);
  ::chmod(run_.c_str(), 0777);
  expect_refused((run_ / "journal.jsonl").string(), "writable by group or others (mode 0777)");
  EXPECT_TRUE(fs::exists(file));
}

TEST_F(JournalTest, RestoreRefusesAJournalOfAnotherUser) {
  if (::geteuid() != 0)
    GTEST_FAIL() << "needs root to give the journal away (scripts/test runs as root)";
  const std::string file = journal_with_a_scratch_file(0600);
  ASSERT_EQ(::chown((run_ / "journal.jsonl").c_str(), 65534, 65534), 0);
  expect_refused((run_ / "journal.jsonl").string(), "owned by uid 65534");
  EXPECT_TRUE(fs::exists(file));
}

TEST_F(JournalTest, RestoreRefusesAJournalInADirectoryOfAnotherUser) {
  if (::geteuid() != 0)
    GTEST_FAIL() << "needs root to give the directory away (scripts/test runs as root)";
  const std::string file = journal_with_a_scratch_file(0600);
  ASSERT_EQ(::chown(run_.c_str(), 65534, 65534), 0);
  expect_refused((run_ / "journal.jsonl").string(), "owned by uid 65534");
  EXPECT_TRUE(fs::exists(file));
}

TEST_F(JournalTest, RestoreDoesNotFollowALinkedJournalOrRunDirectory) {
  const std::string file = journal_with_a_scratch_file(0600);
  fs::rename(run_ / "journal.jsonl", root_ / "elsewhere.jsonl");
  fs::create_symlink(root_ / "elsewhere.jsonl", run_ / "journal.jsonl");
  expect_refused((run_ / "journal.jsonl").string(), "a symbolic link");
  fs::remove(run_ / "journal.jsonl");
  fs::rename(root_ / "elsewhere.jsonl", run_ / "journal.jsonl");
  fs::create_directory_symlink(run_, root_ / "linked-run");
  expect_refused((root_ / "linked-run" / "journal.jsonl").string(), "not a directory of its own");
  EXPECT_TRUE(fs::exists(file));
}

TEST_F(JournalTest, FindJournalsListsRunDirectoriesAndRefusesLinks) {
  fs::create_directories(root_ / "runs" / "a");
  fs::create_directories(root_ / "runs" / "empty");
  std::ofstream(root_ / "runs" / "a" / "journal.jsonl") << "";
  fs::create_directories(root_ / "other");
  std::ofstream(root_ / "other" / "journal.jsonl") << "";
  fs::create_directory_symlink(root_ / "other", root_ / "runs" / "b");
  ::chmod((root_ / "runs").c_str(), 0755);
  const JournalSearch found = find_journals((root_ / "runs").string());
  ASSERT_EQ(found.run_dirs.size(), 1u);
  EXPECT_EQ(found.run_dirs[0], (root_ / "runs" / "a").string());
  ASSERT_EQ(found.refused.size(), 1u);
  EXPECT_NE(found.refused[0].find((root_ / "runs" / "b").string()), std::string::npos)
      << found.refused[0];
  ::chmod((root_ / "runs").c_str(), 0777);
  EXPECT_THROW(find_journals((root_ / "runs").string()), JournalRefused);
}

}  // namespace
}  // namespace diobench

namespace diobench {
namespace {

// The child a zfs run works in: a fresh random name each time, and only
// such names pass the check a resumed run's plan goes through.
TEST(WorkDatasetName, IsARandomChildThatOnlyItsOwnShapePasses) {
  const std::string a = new_work_dataset_name("tank/ds"), b = new_work_dataset_name("tank/ds");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("tank/ds/diobench-", 0), 0u) << a;
  EXPECT_TRUE(is_work_dataset_name(a, "tank/ds")) << a;
  EXPECT_FALSE(is_work_dataset_name(a, "tank/other")) << a;
  for (const char* bad : {"tank/ds", "tank/ds/diobench-", "tank/ds/diobench-0123456789abcdeg",
                          "tank/ds/diobench-0123456789abcdef0",
                          "tank/ds/x/diobench-0123456789abcdef", "tank/other", ""}) {
    EXPECT_FALSE(is_work_dataset_name(bad, "tank/ds")) << bad;
  }
  EXPECT_TRUE(is_work_dataset_name("tank/ds/diobench-0123456789abcdef", "tank/ds"));
  EXPECT_FALSE(is_work_dataset_name("/diobench-0123456789abcdef", ""));
}

}  // namespace
}  // namespace diobench
