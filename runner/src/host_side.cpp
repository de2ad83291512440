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
#include "diobench/runner/arc_check.hpp"
#include "diobench/runner/cell.hpp"
#include "diobench/runner/journal.hpp"
#include "diobench/runner/safety.hpp"
#include "diobench/runner/system_info.hpp"
#include "diobench/runner/work_dataset.hpp"
#include "diobench/scratch.hpp"
#include "diobench/zfs.hpp"

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
bool file_made_earlier(const HostPaths& paths, const std::string& file, std::uint64_t size) {
  std::error_code ec;
  if (!fs::exists(paths.journal(), ec)) return false;
  const auto st = fs::symlink_status(file, ec);
  return !ec && fs::is_regular_file(st) && fs::file_size(file, ec) == size && !ec;
}

void check_engine(const std::string& engine) {
  if (!fs::exists(engine)) {
    throw std::invalid_argument("the engine " + engine + " does not exist on host " + this_host() +
                                ": fio servers load an external engine from their own file "
                                "system, so diobench must be installed at the same path on "
                                "every host");
  }
}

// The file this host's repetitions use: in the scratch area, or on zfs in
// the run's child dataset, made the first time (journaled first, with
// the run's token) and kept for the next repetitions.
std::string data_file(const HostPaths& paths, const HostCell& cell) {
  if (!cell.on_zfs()) return paths.file();
  if (!is_work_dataset_name(cell.work_dataset, cell.dataset)) {
    throw std::invalid_argument("invalid --work-dataset '" + cell.work_dataset +
                                "' (not a child diobench makes of '" + cell.dataset + "')");
  }
  if (!zfs_get(cell.dataset, "direct")) {
    throw std::runtime_error("dataset " + cell.dataset + " on host " + this_host() +
                             ": cannot read its direct property (no such dataset, no zfs, or an "
                             "OpenZFS without Direct I/O)");
  }
  Journal journal(paths.journal());
  WorkDataset work(journal, cell.work_dataset);
  work.keep();  // destroyed by host_finish, through the journal
  return zfs_scratch_dir(work.mountpoint()) + "/" + paths.file_name();
}

// The scratch file, made and journaled the first time of the run.
void ensure_scratch_file(const HostPaths& paths, const std::string& file, std::uint64_t size) {
  if (file_made_earlier(paths, file, size)) return;
  ScratchArea area(fs::path(file).parent_path().string());
  const std::string name = fs::path(file).filename().string();
  Journal(paths.journal()).scratch_file_created(file);
  area.create_file(name, size);
  area.release(name);  // removed by host_finish, through the journal
}

// A loop device left by a repetition whose counters never came (its
// client lost): detached before the next one attaches its own.
void detach_leftover_loop(const std::string& file) {
  const std::vector<std::string> problems = detach_loops_backed_by(file);
  if (!problems.empty()) throw std::runtime_error(problems.front());
}

// zfs: the ARC emptied by export + import when asked (before a loop
// device would keep the pool busy), then the cell's policy set on the
// run's child dataset (not journaled: destroying the dataset at the end
// takes the setting with it). Returns the ARC's data size before and
// after the drop, when it was emptied.
nlohmann::json apply_zfs_policy(const HostPaths& paths, const HostCell& cell,
                                const std::string& file) {
  nlohmann::json arc = nlohmann::json::object();
  const std::string pool = pool_of(cell.dataset);
  if (cell.arc_drop == "export") {
    if (const auto why = arc_export_refusal(pool, cell.work_dataset, paths.dir)) {
      throw std::runtime_error("cannot empty the ARC on host " + this_host() + ": " + *why +
                               " (--arc-drop none runs without)");
    }
    const auto before = read_arc_data_size();
    Journal journal(paths.journal());
    if (const auto why = empty_arc_by_export(journal, pool, pool_devices(pool), file)) {
      throw std::runtime_error(*why + " on host " + this_host());
    }
    const auto after = read_arc_data_size();
    if (before) arc["arc_data_before"] = *before;
    if (after) arc["arc_data_after"] = *after;
  }
  if (!zfs_set(cell.work_dataset, "direct", cell.policy)) {
    throw std::runtime_error("zfs set direct=" + cell.policy + " " + cell.work_dataset +
                             " failed on host " + this_host());
  }
  return arc;
}

// A loop cell's device over the scratch file, journaled first, through
// the crash guard, left attached for the fio server.
std::string attach_host_loop(const HostPaths& paths, const HostCell& cell,
                             const std::string& file) {
  Journal(paths.journal()).loop_attaching(file);
  LoopDevice loop = attach_loop(file, LoopOptions{*cell.loop_dio, 512, false},
                                {{cell.rw, cell.bs, cell.app_direct}}, cell.force_unsafe);
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

// The layers below fio and their counters now, for host_take_counters:
// the storage (the scratch area's device, or the pool's disks), the loop
// device, and on zfs the pool's iostats and the ARC's counters.
void record_below(const HostPaths& paths, const HostCell& cell, const std::string& file,
                  const std::string& target, nlohmann::json state) {
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
  if (cell.on_zfs()) {
    const std::string pool = pool_of(cell.dataset);
    for (const std::string& disk : pool_block_devices(pool)) add(disk, "storage");
    state["pool"] = pool;
    if (const auto io = read_pool_iostats(pool)) state["iostats"] = io->values;
    if (const auto arc = read_arc_stats()) state["arcstats"] = arc->values;
  } else {
    add(block_device_of(paths.dir), "storage");
  }
  if (target != file) add(fs::path(target).filename().string(), "loop");
  state["file"] = file;
  state["target"] = target;
  state["writes"] = rw_writes(cell.rw);
  state["devices"] = devices;
  write_file_durably(paths.devices(), state.dump());
}

}  // namespace

std::string host_prepare(const HostPaths& paths, const HostCell& cell) {
  paths.check();
  check_engine(cell.engine);
  const ScratchArea area(paths.dir);
  make_run_dir(paths);
  const std::string file = data_file(paths, cell);
  ensure_scratch_file(paths, file, cell.size);
  detach_leftover_loop(file);
  std::error_code ec;
  fs::remove(paths.counters(), ec);
  fs::remove(paths.devices(), ec);
  nlohmann::json state =
      cell.on_zfs() ? apply_zfs_policy(paths, cell, file) : nlohmann::json::object();
  const std::string target = cell.loop_dio ? attach_host_loop(paths, cell, file) : file;
  drop_and_check(target == file ? std::vector<std::string>{target}
                                : std::vector<std::string>{file, target});
  record_below(paths, cell, file, target, std::move(state));
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

// What the layers host_prepare recorded moved since; written data pushed
// down first (the loop device's page cache, then the file's), as a local
// run does, and the loop device detached. {"devices": [...]} and on zfs
// the pool's and the ARC's deltas.
nlohmann::json below_moved(const HostPaths& paths) {
  const std::string saved = take_file(paths.devices());
  nlohmann::json moved{{"devices", nlohmann::json::array()}};
  if (saved.empty()) return moved;
  const nlohmann::json state = nlohmann::json::parse(saved);
  const std::string file = state.at("file"), target = state.at("target");
  if (state.at("writes").get<bool>()) {
    sync_to_storage(target);
    if (target != file) sync_to_storage(file);
  }
  for (const nlohmann::json& d : state.at("devices")) {
    const DeviceCounters before{d.at("read_bytes"), d.at("write_bytes")};
    if (const auto io = device_delta(d.at("device"), d.at("role"), before)) {
      moved["devices"].push_back({{"device", io->device},
                                  {"role", io->role},
                                  {"read_bytes", io->read_bytes},
                                  {"write_bytes", io->write_bytes}});
    }
  }
  if (state.contains("iostats")) {
    if (const auto after = read_pool_iostats(state.at("pool"))) {
      const PoolIoStats before{state.at("iostats").get<std::map<std::string, std::uint64_t>>()};
      moved["zfs_iostats"] = (*after - before).values;
    }
  }
  if (state.contains("arcstats")) {
    if (const auto after = read_arc_stats()) {
      const PoolIoStats before{state.at("arcstats").get<std::map<std::string, std::uint64_t>>()};
      moved["arcstats"] = arc_deltas(before, *after);
    }
  }
  for (const char* k : {"arc_data_before", "arc_data_after"}) {
    if (state.contains(k)) moved[k] = state.at(k);
  }
  if (target != file) {
    const std::vector<std::string> problems = detach_loops_backed_by(file);
    if (!problems.empty()) throw std::runtime_error(problems.front());
    Journal(paths.journal()).loop_detached(file);
  }
  return moved;
}

}  // namespace

std::string host_take_counters(const HostPaths& paths) {
  paths.check();
  nlohmann::json reply = below_moved(paths);
  reply["sidecar"] = take_file(paths.counters());
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
