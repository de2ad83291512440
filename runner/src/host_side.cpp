#include "diobench/runner/host_side.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "diobench/page_cache.hpp"
#include "diobench/runner/journal.hpp"
#include "diobench/scratch.hpp"

namespace diobench {

namespace fs = std::filesystem;

namespace {

std::string this_host() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// The run's own directory in the scratch area, mode 0700 (restore trusts
// a journal only in such a directory); never a link.
void make_run_dir(const HostPaths& paths) {
  if (::mkdir(paths.run_dir().c_str(), 0700) != 0 && errno != EEXIST) {
    throw std::system_error(errno, std::generic_category(), "mkdir " + paths.run_dir());
  }
  struct stat st {};
  if (::lstat(paths.run_dir().c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::runtime_error(paths.run_dir() + " is not a directory of diobench's");
  }
}

// The scratch file exists from an earlier repetition of this run: this
// run's journal names it and it has its size.
bool file_made_earlier(const HostPaths& paths, std::uint64_t size) {
  std::error_code ec;
  if (!fs::exists(paths.journal(), ec)) return false;
  const auto st = fs::symlink_status(paths.file(), ec);
  return !ec && fs::is_regular_file(st) && fs::file_size(paths.file(), ec) == size && !ec;
}

}  // namespace

void host_prepare(const HostPaths& paths, std::uint64_t size, const std::string& engine) {
  paths.check();
  if (!fs::exists(engine)) {
    throw std::invalid_argument("the engine " + engine + " does not exist on host " + this_host() +
                                ": fio servers load an external engine from their own file "
                                "system, so diobench must be installed at the same path on "
                                "every host");
  }
  ScratchArea area(paths.dir);
  make_run_dir(paths);
  if (!file_made_earlier(paths, size)) {
    Journal journal(paths.journal());
    journal.scratch_file_created(paths.file());
    area.create_file(paths.file_name(), size);
    area.release(paths.file_name());  // removed by host_finish, through the journal
  }
  std::error_code ec;
  fs::remove(paths.counters(), ec);
  if (const std::uint64_t resident = drop_cached_pages(paths.file())) {
    throw std::runtime_error(std::to_string(resident) + " pages of " + paths.file() + " on host " +
                             this_host() +
                             " stayed in the page cache after the drop; a repetition on a warm "
                             "cache would not measure the path");
  }
}

std::string host_take_counters(const HostPaths& paths) {
  paths.check();
  std::ifstream in(paths.counters());
  if (!in) return "";
  std::stringstream text;
  text << in.rdbuf();
  std::error_code ec;
  fs::remove(paths.counters(), ec);
  return text.str();
}

std::vector<std::string> host_finish(const HostPaths& paths) {
  paths.check();
  std::vector<std::string> problems;
  std::error_code ec;
  fs::remove(paths.counters(), ec);
  if (fs::exists(paths.journal(), ec)) {
    try {
      problems = restore_journal(paths.journal()).problems;
    } catch (const JournalRefused& e) {
      problems.push_back(e.what());
    }
  }
  fs::remove(paths.run_dir(), ec);  // only once empty
  if (ec && ec != std::errc::no_such_file_or_directory) {
    problems.push_back(paths.run_dir() + " left: " + ec.message());
  }
  return problems;
}

}  // namespace diobench
