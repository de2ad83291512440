#include "diobench/runner/journal.hpp"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "diobench/child_process.hpp"
#include "diobench/durable_file.hpp"
#include "diobench/loop_device.hpp"
#include "diobench/runner/work_dataset.hpp"
#include "diobench/scratch.hpp"
#include "diobench/zfs.hpp"

namespace diobench {

namespace fs = std::filesystem;

Journal::Journal(std::string path) : path_(std::move(path)) {}

void Journal::record(const nlohmann::json& entry) {
  // Created 0600 (restore acts only on such journals), never through a
  // link; the line and, the first time, the directory entry are fsynced.
  append_durably(path_, entry.dump() + "\n", 0600);
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

void Journal::scratch_dir_created(const std::string& path) {
  record({{"op", "scratch_dir"}, {"path", path}});
}
void Journal::scratch_dir_removed(const std::string& path) {
  record({{"op", "undo"}, {"of", "scratch_dir"}, {"path", path}});
}
void Journal::ssh_control_dir_created(const std::string& path) {
  record({{"op", "ssh_control_dir"}, {"path", path}});
}
void Journal::ssh_control_dir_removed(const std::string& path) {
  record({{"op", "undo"}, {"of", "ssh_control_dir"}, {"path", path}});
}

void Journal::zfs_dataset_creating(const std::string& dataset, const std::string& token) {
  record({{"op", "zfs_dataset"}, {"dataset", dataset}, {"token", token}});
}
void Journal::zfs_dataset_destroyed(const std::string& dataset) {
  record({{"op", "undo"}, {"of", "zfs_dataset"}, {"dataset", dataset}});
}

void Journal::pool_exporting(const std::string& pool, const std::vector<std::string>& devices) {
  record({{"op", "pool_export"}, {"pool", pool}, {"devices", devices}});
}
void Journal::pool_imported(const std::string& pool) {
  record({{"op", "undo"}, {"of", "pool_export"}, {"pool", pool}});
}

void Journal::zfs_property_changing(const std::string& dataset, const std::string& property,
                                    const std::string& old, bool inherit) {
  record({{"op", "zfs_property"},
          {"dataset", dataset},
          {"property", property},
          {"old", old},
          {"inherit", inherit}});
}
void Journal::zfs_property_restored(const std::string& dataset, const std::string& property) {
  record({{"op", "undo"}, {"of", "zfs_property"}, {"dataset", dataset}, {"property", property}});
}

std::vector<nlohmann::json> Journal::read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str());
}

namespace {

// An entry as Journal::record writes it: an object with an "op", and the
// fields restore reads of their types (text; `inherit` a boolean, `devices`
// a list of text). Restore reads them without further checks.
bool well_formed(const nlohmann::json& e) {
  if (!e.is_object() || !e.contains("op")) return false;
  for (const auto& [key, value] : e.items()) {
    const bool ok =
        key == "inherit" ? value.is_boolean()
        : key == "devices"
            ? value.is_array() && std::all_of(value.begin(), value.end(),
                                              [](const auto& d) { return d.is_string(); })
        : key == "op" || key == "of" || key == "path" || key == "backing" || key == "dataset" ||
                key == "property" || key == "old" || key == "pool" || key == "token"
            ? value.is_string()
            : true;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::vector<nlohmann::json> Journal::parse(const std::string& text,
                                           std::vector<std::string>* skipped) {
  std::vector<nlohmann::json> entries;
  std::istringstream in(text);
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    // A line cut short by a crash mid-write (then continued by a later
    // restore's undo), or one that is not an entry at all, is skipped.
    bool ok = false;
    try {
      nlohmann::json e = nlohmann::json::parse(line);
      ok = well_formed(e);
      if (ok) entries.push_back(std::move(e));
    } catch (const nlohmann::json::exception&) {  // not JSON, or a number out of range
    }
    if (!ok && skipped && !line.empty()) {
      skipped->push_back("line " + std::to_string(number) + ": " + line.substr(0, 80));
    }
  }
  return entries;
}

namespace {

// Loop devices whose backing file is `backing` (with `under`: any file
// below the directory `backing`): that very file, not another of its name.
std::vector<std::string> loops_backed_by(const std::string& backing, bool under = false) {
  std::vector<std::string> found;
  for (const BoundLoop& loop : bound_loop_devices()) {
    const bool named =
        under ? loop.backing_file.rfind(backing + "/", 0) == 0 : loop.backing_file == backing;
    if (named && loop_bound_to(loop.path, loop.backing_file)) {
      found.push_back(loop.path);
    }
  }
  return found;
}

bool in_owned_scratch(const std::string& path) {
  return ScratchArea::is_owned(fs::path(path).parent_path().string());
}

// Detaches the loop devices backed by `backing` (or by files under it),
// then waits (up to 5 s) for the kernel to let go: it does so at the last
// close, e.g. of a fio that was dying with us. True when none is left.
bool detach_loops(const std::string& backing, bool under, RestoreReport& report) {
  const std::vector<std::string> devices = loops_backed_by(backing, under);
  for (const std::string& dev : devices) {
    const int fd = ::open(dev.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && ::ioctl(fd, LOOP_CLR_FD, 0) == 0) {
      report.detached.push_back(dev);
    } else {
      report.problems.push_back("cannot detach " + dev + ": " + std::strerror(errno));
    }
    if (fd >= 0) ::close(fd);
  }
  for (int i = 0; i < 100 && !devices.empty() && !loops_backed_by(backing, under).empty(); ++i) {
    ::usleep(50000);
  }
  const std::vector<std::string> left = loops_backed_by(backing, under);
  for (const std::string& dev : left) {
    report.problems.push_back(dev + " is still attached to " + backing + " (in use?)");
  }
  return left.empty();
}

// The file descriptor of one check, closed on scope exit.
struct OpenedFd {
  int fd;
  ~OpenedFd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// The journal's text, read only when it can be trusted: its directory
// opened without following a link, owned by the user running diobench and
// not writable by group or others; the journal a regular file (not a
// link) of that user with mode 0600. "" when there is none.
std::string read_trusted(const std::string& path) {
  const fs::path p(path);
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  const OpenedFd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
  if (d.fd < 0) {
    if (errno == ENOENT) return "";
    throw JournalRefused(
        "refusing " + dir + ": " +
        (errno == ELOOP || errno == ENOTDIR
             ? std::string("not a directory of its own (a symbolic link or a file)")
             : std::strerror(errno)));
  }
  if (const auto why = unsafe_reason(d.fd)) throw JournalRefused("refusing " + dir + ": " + *why);
  const std::string name = p.filename().string();
  const OpenedFd f{::openat(d.fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)};
  if (f.fd < 0) {
    if (errno == ENOENT) return "";
    throw JournalRefused(
        "refusing " + path + ": " +
        (errno == ELOOP ? std::string("a symbolic link (not followed)") : std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0)
    throw JournalRefused("refusing " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw JournalRefused("refusing " + path + ": not a regular file");
  if (const auto why = unsafe_reason(f.fd)) throw JournalRefused("refusing " + path + ": " + *why);
  if ((st.st_mode & 07777) != 0600) {
    throw JournalRefused("refusing " + path + ": its mode is " + mode_text(st.st_mode) +
                         ", not 0600 as diobench creates its journals");
  }
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw JournalRefused("refusing " + path + ": cannot read it: " + std::strerror(errno));
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

// Destroys a dataset the run created, if it still carries the run's token
// (a dataset of the same name that is not ours is left alone). True when
// it is gone: destroyed now, or not there any more.
bool destroy_own_dataset(const std::string& dataset, const std::string& token,
                         RestoreReport& report) {
  const auto tag = zfs_get(dataset, kRunTokenProperty);
  if (!tag) {
    const std::string parent = dataset.substr(0, dataset.rfind('/'));
    if (zfs_get(parent, "name")) return true;  // the parent answers, the dataset is gone
    report.problems.push_back("cannot tell whether dataset " + dataset +
                              " is still there (zfs get failed)");
    return false;
  }
  if (token.empty() || *tag != token) {
    report.problems.push_back("dataset " + dataset + " does not carry " + kRunTokenProperty + "=" +
                              token + " (it has '" + *tag + "'): not ours, left alone");
    return false;
  }
  if (!zfs_destroy(dataset)) {
    report.problems.push_back("cannot destroy dataset " + dataset + " (zfs destroy " + dataset +
                              "; in use?)");
    return false;
  }
  report.destroyed.push_back(dataset);
  return true;
}

}  // namespace

namespace {

// What a journal leaves to undo: each change's count minus its undos,
// keyed by what it changed (a scratch file's or directory's path, a loop
// device's backing file, "dataset\tproperty", a pool, a dataset), with
// what undoing it needs.
struct Outstanding {
  std::map<std::pair<std::string, std::string>, int> open;  // (kind, key) -> count
  std::map<std::string, std::string> old_values;            // zfs property key -> value to restore
  std::map<std::string, bool> inherit;                      // zfs property key -> by `zfs inherit`
  std::map<std::string, std::vector<std::string>> pool_devices;  // pool -> its vdevs
  std::map<std::string, std::string> tokens;  // dataset the run made -> its token

  // The keys of one kind of change still open.
  std::vector<std::string> of(const std::string& kind) const {
    std::vector<std::string> keys;
    for (const auto& [change, count] : open) {
      if (count > 0 && change.first == kind) keys.push_back(change.second);
    }
    return keys;
  }
  bool is_open(const std::string& kind, const std::string& key) const {
    const auto it = open.find({kind, key});
    return it != open.end() && it->second > 0;
  }
};

std::string key_of(const std::string& kind, const nlohmann::json& e) {
  if (kind == "loop") return e.value("backing", "");
  if (kind == "zfs_property") return e.value("dataset", "") + "\t" + e.value("property", "");
  if (kind == "pool_export") return e.value("pool", "");
  if (kind == "zfs_dataset") return e.value("dataset", "");
  return e.value("path", "");
}

Outstanding outstanding_changes(const std::vector<nlohmann::json>& entries) {
  Outstanding o;
  for (const nlohmann::json& e : entries) {
    const std::string op = e.value("op", "");
    if (op == "undo") {
      const std::string of = e.value("of", "");
      --o.open[{of, key_of(of, e)}];
      continue;
    }
    if (op != "scratch_file" && op != "scratch_dir" && op != "loop" && op != "zfs_property" &&
        op != "pool_export" && op != "zfs_dataset" && op != "ssh_control_dir") {
      continue;
    }
    const std::string key = key_of(op, e);
    if (op == "pool_export") o.pool_devices[key] = e.value("devices", std::vector<std::string>{});
    if (op == "zfs_dataset") o.tokens[key] = e.value("token", "");
    if (op == "zfs_property" &&
        o.open[{op, key}] <= 0) {  // the first change's value is the original
      o.old_values[key] = e.value("old", "");
      o.inherit[key] = e.value("inherit", false);
    }
    ++o.open[{op, key}];
  }
  return o;
}

// A pool exported to drop the ARC comes back first: its datasets hold
// the properties and files undone after it.
void import_pools(const Outstanding& o, Journal& journal, RestoreReport& report) {
  for (const std::string& pool : o.of("pool_export")) {
    if (pool_imported(pool)) {
      journal.pool_imported(pool);
    } else if (zpool_import(pool, o.pool_devices.at(pool))) {
      report.reset.push_back("pool " + pool + " imported");
      journal.pool_imported(pool);
    } else {
      report.problems.push_back("cannot import pool " + pool + " (zpool import " + pool + ")");
    }
  }
}

// Properties go back, except on a dataset the run made: they go with it
// (settled here once it is gone, else by destroy_datasets).
void restore_properties(const Outstanding& o, Journal& journal, RestoreReport& report) {
  for (const std::string& key : o.of("zfs_property")) {
    const auto tab = key.find('\t');
    const std::string dataset = key.substr(0, tab), property = key.substr(tab + 1);
    if (o.tokens.count(dataset)) {
      if (!o.is_open("zfs_dataset", dataset)) journal.zfs_property_restored(dataset, property);
      continue;
    }
    const std::string& old = o.old_values.at(key);
    const bool inherit = o.inherit.at(key);
    if (inherit ? zfs_inherit(dataset, property) : zfs_set(dataset, property, old)) {
      report.reset.push_back(dataset + " " + property + "=" + old +
                             (inherit ? " (inherited again)" : ""));
      journal.zfs_property_restored(dataset, property);
    } else {
      report.problems.push_back("cannot set " + property + "=" + old + " on " + dataset);
    }
  }
}

// Loop devices before the files: their backing files are the scratch files.
void detach_loop_devices(const Outstanding& o, Journal& journal, RestoreReport& report) {
  for (const std::string& backing : o.of("loop")) {
    if (detach_loops(backing, false, report)) journal.loop_detached(backing);
  }
}

void remove_scratch_dirs(const Outstanding& o, Journal& journal, RestoreReport& report) {
  for (const std::string& dir : o.of("scratch_dir")) {
    // Files that still back a loop device stay (the device would keep a
    // deleted file nobody could name); the next restore tries again.
    if (!detach_loops(dir, true, report)) continue;
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
      journal.scratch_dir_removed(dir);
    } else if (!in_owned_scratch(dir)) {
      report.problems.push_back(dir + " is not in a diobench scratch area: left alone");
    } else if (fs::remove_all(dir, ec) != static_cast<std::uintmax_t>(-1) && !ec) {
      report.removed.push_back(dir);
      journal.scratch_dir_removed(dir);
    } else {
      report.problems.push_back("cannot remove " + dir + ": " + ec.message());
    }
  }
}

void remove_scratch_files(const Outstanding& o, Journal& journal, RestoreReport& report) {
  for (const std::string& file : o.of("scratch_file")) {
    std::error_code ec;
    if (!loops_backed_by(file).empty()) {
      report.problems.push_back(file + " still backs a loop device: left for the next restore");
    } else if (!fs::exists(file, ec)) {
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
}

// Last, the datasets the run made, with their properties: their files and
// loop devices are gone by now.
void destroy_datasets(const Outstanding& o, Journal& journal, RestoreReport& report) {
  for (const std::string& dataset : o.of("zfs_dataset")) {
    if (!destroy_own_dataset(dataset, o.tokens.at(dataset), report)) continue;
    journal.zfs_dataset_destroyed(dataset);
    for (const std::string& key : o.of("zfs_property")) {
      if (key.rfind(dataset + "\t", 0) == 0)
        journal.zfs_property_restored(dataset, key.substr(dataset.size() + 1));
    }
  }
}

void end_ssh_master(const std::string& socket) {
  ChildCommand c;
  // With the socket's own path, ssh asks its master to end; the host
  // name is not used.
  c.argv = {"ssh", "-o", "ControlPath=" + socket, "-O", "exit", "diobench"};
  c.timeout_s = 10;
  try {
    ChildProcess(c).wait();  // a master that has ended already: nothing to do
  } catch (const std::exception&) {
  }
}

void remove_ssh_control_dirs(const Outstanding& o, Journal& journal, RestoreReport& report) {
  for (const std::string& dir : o.of("ssh_control_dir")) {
    std::error_code ec;
    const bool existed = fs::exists(fs::symlink_status(dir, ec));
    if (const auto why = remove_ssh_control_dir(dir)) {
      report.problems.push_back(*why);
      continue;
    }
    if (existed) report.removed.push_back(dir);
    journal.ssh_control_dir_removed(dir);
  }
}

}  // namespace

std::vector<std::string> detach_loops_backed_by(const std::string& backing) {
  RestoreReport report;
  detach_loops(backing, false, report);
  return report.problems;
}

std::optional<std::string> remove_ssh_control_dir(const std::string& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::nullopt;
    return "cannot inspect " + dir + ": " + std::strerror(errno);
  }
  if (!S_ISDIR(st.st_mode) ||
      fs::path(dir).filename().string().rfind(kSshControlDirPrefix, 0) != 0) {
    return dir + " is not a directory of ssh sockets diobench made: left alone";
  }
  std::error_code ec;
  std::vector<fs::path> sockets;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_socket(ec))
      return dir + " holds more than ssh's sockets (" + e.path().filename().string() +
             "): left alone";
    sockets.push_back(e.path());
  }
  if (ec) return "cannot read " + dir + ": " + ec.message();
  for (const fs::path& s : sockets) {
    end_ssh_master(s.string());
    fs::remove(s, ec);
  }
  if (!fs::remove(dir, ec) || ec) return "cannot remove " + dir + ": " + ec.message();
  return std::nullopt;
}

RestoreReport restore_journal(const std::string& path) {
  RestoreReport report;
  const Outstanding o = outstanding_changes(Journal::parse(read_trusted(path), &report.skipped));
  Journal journal(path);
  import_pools(o, journal, report);
  restore_properties(o, journal, report);
  detach_loop_devices(o, journal, report);
  remove_scratch_dirs(o, journal, report);
  remove_scratch_files(o, journal, report);
  destroy_datasets(o, journal, report);
  remove_ssh_control_dirs(o, journal, report);
  if (report.problems.empty()) fs::remove(path);
  return report;
}

JournalSearch find_journals(const std::string& runs_dir) {
  JournalSearch found;
  {
    const OpenedFd d{::open(runs_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
    if (d.fd < 0) {
      if (errno == ENOENT) return found;
      throw JournalRefused(
          "refusing " + runs_dir + ": " +
          (errno == ELOOP || errno == ENOTDIR
               ? std::string("not a directory of its own (a symbolic link or a file)")
               : std::strerror(errno)));
    }
    if (const auto why = unsafe_reason(d.fd))
      throw JournalRefused("refusing " + runs_dir + ": " + *why);
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(runs_dir, ec)) {
    const fs::path journal = e.path() / "journal.jsonl";
    if (e.is_symlink(ec)) {
      if (fs::exists(journal, ec)) {
        found.refused.push_back("refusing " + e.path().string() +
                                ": a symbolic link to a run directory (not followed)");
      }
      continue;
    }
    if (e.is_directory(ec) && fs::exists(fs::symlink_status(journal, ec))) {
      found.run_dirs.push_back(e.path().string());
    }
  }
  std::sort(found.run_dirs.begin(), found.run_dirs.end());
  return found;
}

}  // namespace diobench
