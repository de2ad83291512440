// The kernel failure lines (runner/kernel_failure_lines.txt): the runner's
// crash excerpt and the qemu lane's CRASH test (vm/lane/guest.sh) read the
// one list, so both must take the same console lines as a failure's start.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "diobench/child_process.hpp"
#include "diobench/runner/crash_record.hpp"

namespace diobench {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = fs::path(DIOBENCH_FIXTURES).parent_path().parent_path();

// Kernel lines as the guest's console shows them; `failure` says whether
// each starts a failure report.
struct Line {
  std::string text;
  bool failure;
};
const std::vector<Line> kLines = {
    {"[   34.320000] BUG: kernel NULL pointer dereference, address: 00000000000000b0", true},
    {"[   34.320100] Oops: 0000 [#1] PREEMPT SMP NOPTI", true},
    {"[   35.000000] general protection fault, probably for non-canonical address", true},
    {"[   36.000000] Kernel panic - not syncing: Fatal exception", true},
    {"[   37.000000] kernel BUG at mm/filemap.c:1234!", true},
    {"[   38.000000] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [fio:812]", true},
    {"[  240.000000] INFO: task fio:812 blocked for more than 120 seconds.", true},
    {"[   39.000000] PANIC at zfs_vnops_os.c:412:zfs_uio_get_dio_pages_alloc()", true},
    // A program's output that quotes a crash is not one.
    {"[   40.000000] diobench: cell x crashed: BUG: kernel NULL pointer dereference", false},
    {"[    5.100000] zfs: module loaded", false},
};

TEST(KernelFailureLines, TheExcerptStartsAtEachFailureLineAndOnlyThere) {
  for (const Line& l : kLines) {
    const std::string console = "[    1.000000] Linux version 6.1.0\n" + l.text + "\nnext line\n";
    const std::string excerpt = crash_excerpt(console);
    if (l.failure) {
      EXPECT_EQ(excerpt, l.text + "\nnext line\n") << l.text;
    } else {
      EXPECT_EQ(excerpt, "") << l.text;
    }
  }
}

// The lane's pattern, built by guest.sh from the same file, over the
// console as the lane stamps it (the host's seconds before each line).
TEST(KernelFailureLines, TheLaneTakesTheSameLines) {
  const fs::path log = fs::temp_directory_path() / ("diobench-console-" + std::to_string(getpid()));
  {
    std::ofstream out(log);
    for (const Line& l : kLines) out << "  12.34 " << l.text << "\n";
  }
  // Each failure line's number in the log, as grep -n prints it.
  std::string expected;
  for (std::size_t i = 0; i < kLines.size(); ++i) {
    if (kLines[i].failure) expected += std::to_string(i + 1) + "\n";
  }
  // The lane's own line, evaluated with $top set, then grep as guest.sh runs it.
  const std::string script =
      "top=$1; eval \"$(sed -n '/^crash_re=/p' \"$top/vm/lane/guest.sh\")\"; "
      "[ -n \"$crash_re\" ] && grep -nE \"$crash_re\" \"$2\" | cut -d: -f1";
  ChildCommand c;
  c.argv = {"bash", "-c", script, "bash", kSource.string(), log.string()};
  c.capture_output = true;
  c.timeout_s = 30;
  const ChildExit e = run_child(c);
  fs::remove(log);
  EXPECT_TRUE(e.ok()) << e.reason();
  EXPECT_EQ(e.output, expected);
}

}  // namespace
}  // namespace diobench
