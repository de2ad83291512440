// The durable-write helper: whole files or none, nothing left beside them,
// no symbolic link followed.
#include "diobench/durable_file.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "test_files.hpp"

namespace diobench {
namespace {

namespace fs = std::filesystem;

using test::slurp;

class DurableFileTest : public ::testing::Test {
 protected:
  std::size_t entries() const {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}));
  }
  test::TempDir temp_{"diobench-durable-test"};
  const fs::path& dir_ = temp_.path();
};

TEST_F(DurableFileTest, ReplacesTheFileWholeAndLeavesNothingBeside) {
  write_file_durably((dir_ / "plan.json").string(), "first\n");
  write_file_durably((dir_ / "plan.json").string(), "second, longer\n");
  EXPECT_EQ(slurp(dir_ / "plan.json"), "second, longer\n");
  EXPECT_EQ(entries(), 1u) << "a temporary file was left";
}

TEST_F(DurableFileTest, GivesTheFileTheModeAsked) {
  write_file_durably((dir_ / "private").string(), "x", 0600);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "private").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(DurableFileTest, ASymbolicLinkInPlaceIsReplacedNotWrittenThrough) {
  const fs::path victim = dir_ / "victim";
  std::ofstream(victim) << "precious\n";
  fs::create_symlink(victim, dir_ / "report.md");
  write_file_durably((dir_ / "report.md").string(), "report\n");
  EXPECT_EQ(slurp(victim), "precious\n");
  EXPECT_FALSE(fs::is_symlink(dir_ / "report.md"));
  EXPECT_EQ(slurp(dir_ / "report.md"), "report\n");
}

TEST_F(DurableFileTest, AppendCreatesWithTheModeAndRefusesALink) {
  const fs::path journal = dir_ / "journal.jsonl";
  append_durably(journal.string(), "a\n", 0600);
  append_durably(journal.string(), "b\n", 0600);
  EXPECT_EQ(slurp(journal), "a\nb\n");
  struct stat st {};
  ASSERT_EQ(::stat(journal.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const fs::path victim = dir_ / "victim";
  std::ofstream(victim) << "precious\n";
  fs::create_symlink(victim, dir_ / "linked.jsonl");
  EXPECT_THROW(append_durably((dir_ / "linked.jsonl").string(), "c\n"), std::system_error);
  EXPECT_EQ(slurp(victim), "precious\n");
}

TEST_F(DurableFileTest, PublishRenamesACompleteFileIntoPlace) {
  std::ofstream(dir_ / "out.json.partial") << "{}\n";
  publish_file_durably((dir_ / "out.json.partial").string(), (dir_ / "out.json").string());
  EXPECT_EQ(slurp(dir_ / "out.json"), "{}\n");
  EXPECT_FALSE(fs::exists(dir_ / "out.json.partial"));
  EXPECT_THROW(publish_file_durably((dir_ / "missing").string(), (dir_ / "x").string()),
               std::system_error);
}

TEST_F(DurableFileTest, ADirectoryThatIsALinkIsRefused) {
  fs::create_directory(dir_ / "real");
  fs::create_directory_symlink(dir_ / "real", dir_ / "link");
  EXPECT_THROW(write_file_durably((dir_ / "link" / "f").string(), "x"), std::system_error);
  EXPECT_FALSE(fs::exists(dir_ / "real" / "f"));
}

}  // namespace
}  // namespace diobench
