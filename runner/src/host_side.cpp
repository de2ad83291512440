#include "diobench/runner/host_side.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "diobench/durable_file.hpp"
#include "diobench/page_cache.hpp"
#include "diobench/runner/cell.hpp"
#include "diobench/runner/journal.hpp"
#include "diobench/runner/safety.hpp"
#include "diobench/runner/system_info.hpp"
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

void check_engine(const std::string& engine) {
  if (!fs::exists(engine)) {
    throw std::invalid_argument("the engine " + engine + " does not exist on host " + this_host() +
                                ": fio servers load an external engine from their own file "
                                "system, so diobench must be installed at the same path on "
                                "every host");
  }
}

// The scratch file, made and journaled the first time of the run.
void ensure_scratch_file(const HostPaths& paths, std::uint64_t size) {
  ScratchArea area(paths.dir);
  make_run_dir(paths);
  if (file_made_earlier(paths, size)) return;
  Journal journal(paths.journal());
  journal.scratch_file_created(paths.file());
  area.create_file(paths.file_name(), size);
  area.release(paths.file_name());  // removed by host_finish, through the journal
}

// A loop device left by a repetition whose counters never came (its
// client lost): detached before the next one attaches its own.
void detach_leftover_loop(const HostPaths& paths) {
  const std::vector<std::string> problems = detach_loops_backed_by(paths.file());
  if (!problems.empty()) throw std::runtime_error(problems.front());
}

// A loop cell's device over the scratch file, journaled first, through
// the crash guard, left attached for the fio server.
std::string attach_host_loop(const HostPaths& paths, const HostCell& cell) {
  Journal(paths.journal()).loop_attaching(paths.file());
  LoopDevice loop = attach_loop(paths.file(), LoopOptions{*cell.loop_dio, 512, false},
                                {{cell.rw, cell.bs}}, cell.force_unsafe);
  loop.leave_attached();
  return loop.path();
}

void drop_and_check(const std::vector<std::string>& targets) {
  std::uint64_t resident = 0;
  for (const std::string& t : targets) resident += drop_cached_pages(t);
  if (resident) {
    throw std::runtime_error(std::to_string(resident) + " pages of " + targets.front() +
                             " on host " + this_host() +
                             " stayed in the page cache after the drop; a repetition on a warm "
                             "cache would not measure the path");
  }
}

// The devices below fio and their counters now, for host_take_counters.
void record_devices(const HostPaths& paths, const HostCell& cell, const std::string& target) {
  nlohmann::json devices = nlohmann::json::array();
  auto add = [&](const std::optional<std::string>& name, const char* role) {
    const auto c = name ? device_counters(*name) : std::nullopt;
    if (c) {
      devices.push_back({{"device", *name},
                         {"role", role},
                         {"read_bytes", c->read_bytes},
                         {"write_bytes", c->write_bytes}});
    }
  };
  add(block_device_of(paths.dir), "storage");
  if (target != paths.file()) add(fs::path(target).filename().string(), "loop");
  const nlohmann::json state{
      {"target", target}, {"writes", rw_writes(cell.rw)}, {"devices", devices}};
  write_file_durably(paths.devices(), state.dump());
}

}  // namespace

std::string host_prepare(const HostPaths& paths, const HostCell& cell) {
  paths.check();
  check_engine(cell.engine);
  ensure_scratch_file(paths, cell.size);
  detach_leftover_loop(paths);
  std::error_code ec;
  fs::remove(paths.counters(), ec);
  fs::remove(paths.devices(), ec);
  const std::string target = cell.loop_dio ? attach_host_loop(paths, cell) : paths.file();
  drop_and_check(target == paths.file() ? std::vector<std::string>{target}
                                        : std::vector<std::string>{paths.file(), target});
  record_devices(paths, cell, target);
  return target;
}

namespace {

std::string take_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream text;
  text << in.rdbuf();
  std::error_code ec;
  fs::remove(path, ec);
  return text.str();
}

// What the devices host_prepare recorded moved since; written data pushed
// down first (the loop device's page cache, then the file's), as a local
// run does, and the loop device detached.
nlohmann::json devices_moved(const HostPaths& paths) {
  const std::string saved = take_file(paths.devices());
  nlohmann::json moved = nlohmann::json::array();
  if (saved.empty()) return moved;
  const nlohmann::json state = nlohmann::json::parse(saved);
  const std::string target = state.at("target");
  if (state.at("writes").get<bool>()) {
    sync_to_storage(target);
    if (target != paths.file()) sync_to_storage(paths.file());
  }
  for (const nlohmann::json& d : state.at("devices")) {
    const DeviceCounters before{d.at("read_bytes"), d.at("write_bytes")};
    if (const auto io = device_delta(d.at("device"), d.at("role"), before)) {
      moved.push_back({{"device", io->device},
                       {"role", io->role},
                       {"read_bytes", io->read_bytes},
                       {"write_bytes", io->write_bytes}});
    }
  }
  if (target != paths.file()) {
    const std::vector<std::string> problems = detach_loops_backed_by(paths.file());
    if (!problems.empty()) throw std::runtime_error(problems.front());
    Journal(paths.journal()).loop_detached(paths.file());
  }
  return moved;
}

}  // namespace

std::string host_take_counters(const HostPaths& paths) {
  paths.check();
  const nlohmann::json devices = devices_moved(paths);
  const nlohmann::json reply{{"sidecar", take_file(paths.counters())}, {"devices", devices}};
  return reply.dump() + "\n";
}

RestoreReport host_finish(const HostPaths& paths) {
  paths.check();
  RestoreReport report;
  std::error_code ec;
  fs::remove(paths.counters(), ec);
  fs::remove(paths.devices(), ec);
  if (fs::exists(paths.journal(), ec)) {
    try {
      report = restore_journal(paths.journal());
    } catch (const JournalRefused& e) {
      report.problems.push_back(e.what());
    }
  }
  if (report.problems.empty()) fs::remove(paths.journal(), ec);  // all undone
  fs::remove(paths.run_dir(), ec);                               // only once empty
  if (ec && ec != std::errc::no_such_file_or_directory) {
    report.problems.push_back(paths.run_dir() + " left: " + ec.message());
  }
  return report;
}

std::optional<HostPaths> host_paths_of(const std::string& dir) {
  const fs::path d = fs::absolute(dir).lexically_normal();
  const std::string name = d.filename().string();
  if (name.rfind("host-", 0) != 0) return std::nullopt;
  HostPaths paths{d.parent_path().string(), name.substr(5)};
  try {
    paths.check();
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
  if (!ScratchArea::is_owned(paths.dir)) return std::nullopt;
  return paths;
}

}  // namespace diobench
