#include "diobench/runner/journal.hpp"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <system_error>

#include "diobench/scratch.hpp"
#include "diobench/zfs.hpp"

namespace diobench {

namespace fs = std::filesystem;

Journal::Journal(std::string path) : path_(std::move(path)) {}

void Journal::record(const nlohmann::json& entry) {
  const std::string line = entry.dump() + "\n";
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "journal " + path_);
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) throw std::system_error(err, std::generic_category(), "journal " + path_);
  if (!dir_synced_) {  // the journal's own directory entry must survive too
    const int dfd = ::open(fs::path(path_).parent_path().c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    dir_synced_ = true;
  }
}

void Journal::scratch_file_created(const std::string& path) {
  record({{"op", "scratch_file"}, {"path", path}});
}
void Journal::scratch_file_removed(const std::string& path) {
  record({{"op", "undo"}, {"of", "scratch_file"}, {"path", path}});
}
void Journal::loop_attaching(const std::string& backing) {
  record({{"op", "loop"}, {"backing", backing}});
}
void Journal::loop_detached(const std::string& backing) {
  record({{"op", "undo"}, {"of", "loop"}, {"backing", backing}});
}

void Journal::zfs_property_changing(const std::string& dataset, const std::string& property,
                                    const std::string& old) {
  record({{"op", "zfs_property"}, {"dataset", dataset}, {"property", property}, {"old", old}});
}
void Journal::zfs_property_restored(const std::string& dataset, const std::string& property) {
  record({{"op", "undo"}, {"of", "zfs_property"}, {"dataset", dataset}, {"property", property}});
}

std::vector<nlohmann::json> Journal::read(const std::string& path) {
  std::vector<nlohmann::json> entries;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    // A line cut short by a crash mid-write is the last one; skip it.
    try {
      entries.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::parse_error&) {
    }
  }
  return entries;
}

namespace {

// Loop devices whose backing file is `backing`, from sysfs.
std::vector<std::string> loops_backed_by(const std::string& backing) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/sys/block", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("loop", 0) != 0) continue;
    std::ifstream f(e.path() / "loop" / "backing_file");
    std::string file;
    if (f && std::getline(f, file) && file == backing) found.push_back("/dev/" + name);
  }
  return found;
}

bool in_owned_scratch(const std::string& path) {
  return ScratchArea::is_owned(fs::path(path).parent_path().string());
}

}  // namespace

RestoreReport restore_journal(const std::string& path) {
  RestoreReport report;
  // Outstanding changes: each change's count minus its undos.
  // Changes are keyed by what they changed: a scratch file's path, a loop
  // device's backing file, "dataset\tproperty".
  auto key_of = [](const std::string& kind, const nlohmann::json& e) {
    if (kind == "loop") return e.value("backing", "");
    if (kind == "zfs_property") return e.value("dataset", "") + "\t" + e.value("property", "");
    return e.value("path", "");
  };
  std::map<std::pair<std::string, std::string>, int> open;
  std::map<std::string, std::string> old_values;  // zfs key -> value to restore
  for (const nlohmann::json& e : Journal::read(path)) {
    const std::string op = e.value("op", "");
    if (op == "undo") {
      const std::string of = e.value("of", "");
      --open[{of, key_of(of, e)}];
    } else if (op == "scratch_file" || op == "loop" || op == "zfs_property") {
      const std::string key = key_of(op, e);
      if (op == "zfs_property" && open[{op, key}] <= 0) old_values[key] = e.value("old", "");
      ++open[{op, key}];
    }
  }
  Journal journal(path);
  for (const auto& [change, count] : open) {
    if (count <= 0 || change.first != "zfs_property") continue;
    const auto tab = change.second.find('\t');
    const std::string dataset = change.second.substr(0, tab);
    const std::string property = change.second.substr(tab + 1);
    const std::string& old = old_values[change.second];
    if (zfs_set(dataset, property, old)) {
      report.reset.push_back(dataset + " " + property + "=" + old);
      journal.zfs_property_restored(dataset, property);
    } else {
      report.problems.push_back("cannot set " + property + "=" + old + " on " + dataset);
    }
  }
  // Loop devices first: their backing files are the scratch files.
  for (const auto& [change, count] : open) {
    if (count <= 0 || change.first != "loop") continue;
    const std::string& backing = change.second;
    const std::vector<std::string> devices = loops_backed_by(backing);
    for (const std::string& dev : devices) {
      const int fd = ::open(dev.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0 && ::ioctl(fd, LOOP_CLR_FD, 0) == 0) {
        report.detached.push_back(dev);
      } else {
        report.problems.push_back("cannot detach " + dev + ": " + std::strerror(errno));
      }
      if (fd >= 0) ::close(fd);
    }
    // The kernel lets go at the last close: wait (up to 5 s) for a process
    // that still has the device open, e.g. a fio that was dying with us.
    for (int i = 0; i < 100 && !devices.empty() && !loops_backed_by(backing).empty(); ++i) {
      ::usleep(50000);
    }
    for (const std::string& dev : loops_backed_by(backing)) {
      report.problems.push_back(dev + " is still attached to " + backing + " (in use?)");
    }
    journal.loop_detached(backing);
  }
  for (const auto& [change, count] : open) {
    if (count <= 0 || change.first != "scratch_file") continue;
    const std::string& file = change.second;
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      journal.scratch_file_removed(file);
    } else if (!in_owned_scratch(file)) {
      report.problems.push_back(file + " is not in a diobench scratch area: left alone");
    } else if (fs::remove(file, ec)) {
      report.removed.push_back(file);
      journal.scratch_file_removed(file);
    } else {
      report.problems.push_back("cannot remove " + file + ": " + ec.message());
    }
  }
  if (report.problems.empty()) fs::remove(path);
  return report;
}

}  // namespace diobench
