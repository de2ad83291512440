#include "diobench/runner/system_info.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>
#include <system_error>
#include <vector>

#include "diobench/child_process.hpp"
#include "diobench/mounts.hpp"
#include "diobench/target.hpp"
#include "diobench/zfs.hpp"

namespace diobench {

namespace fs = std::filesystem;

namespace {

std::string first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

// A program's first output, trimmed; empty if it cannot run or fails.
std::string command_output(const std::vector<std::string>& argv) {
  ChildCommand command;
  command.argv = argv;
  command.capture_output = true;
  command.timeout_s = 30;
  try {
    const ChildExit exit = run_child(command);
    if (!exit.ok()) return "";
    std::string out = exit.output;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  } catch (const std::system_error&) {
    return "";
  }
}

std::string field_of(const char* file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        const auto v = line.find_first_not_of(" \t", colon + 1);
        return v == std::string::npos ? "" : line.substr(v);
      }
    }
  }
  return "";
}

}  // namespace

std::optional<std::string> block_device_of(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  const fs::path sys =
      "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  std::error_code ec;
  const fs::path real = fs::canonical(sys, ec);
  if (ec) return std::nullopt;
  return real.filename().string();
}

std::optional<DeviceCounters> device_counters(const std::string& name) {
  std::ifstream in("/sys/class/block/" + name + "/stat");
  // Fields: reads, merges, sectors read, ms, writes, merges, sectors written, ...
  std::uint64_t f[7];
  for (auto& v : f) {
    if (!(in >> v)) return std::nullopt;
  }
  return DeviceCounters{f[2] * 512, f[6] * 512};
}

std::vector<std::string> pool_block_devices(const std::string& pool) {
  std::vector<std::string> names;
  for (const std::string& vdev : pool_devices(pool)) {
    std::error_code ec;
    const std::string name = fs::canonical(vdev, ec).filename().string();
    if (!ec && device_counters(name)) names.push_back(name);
  }
  return names;
}

std::optional<DeviceIo> device_delta(const std::string& name, const std::string& role,
                                     const std::optional<DeviceCounters>& before) {
  const auto after = device_counters(name);
  if (!before || !after) return std::nullopt;
  return DeviceIo{name, role, after->read_bytes - before->read_bytes,
                  after->write_bytes - before->write_bytes};
}

void sync_to_storage(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::map<std::string, std::string> collect_system_info(const std::string& scratch_dir) {
  std::map<std::string, std::string> info;
  struct utsname u {};
  if (uname(&u) == 0) {
    info["kernel"] = std::string(u.sysname) + " " + u.release + " " + u.version;
    info["machine"] = u.machine;
    info["hostname"] = u.nodename;
  }
  info["cpu.model"] = field_of("/proc/cpuinfo", "model name");
  info["cpu.count"] = std::to_string(sysconf(_SC_NPROCESSORS_ONLN));
  info["memory.total"] = field_of("/proc/meminfo", "MemTotal");
  info["fio.version"] = command_output({"fio", "--version"});
  try {
    const TargetInfo t = probe_target(scratch_dir);
    info["scratch.dir"] = scratch_dir;
    info["scratch.fs"] = t.fs_type;
    info["scratch.fs_source"] = t.fs_source;
    info["scratch.mount_point"] = t.mount_point;
    for (const MountEntry& m : read_mount_table("/proc/self/mounts")) {
      if (m.mount_point == t.mount_point) info["scratch.mount_options"] = m.options;
    }
    if (t.zfs) {
      info["zfs.dataset"] = t.zfs->name;
      info["zfs.direct"] = t.zfs->direct;
      info["zfs.recordsize"] = std::to_string(t.zfs->recordsize);
    }
  } catch (const std::exception& e) {
    info["scratch.error"] = e.what();
  }
  if (const auto dev = block_device_of(scratch_dir)) {
    info["block.device"] = *dev;
    // A partition's queue settings are its disk's.
    fs::path queue = fs::path("/sys/class/block") / *dev / "queue";
    if (!fs::exists(queue)) queue = fs::path("/sys/class/block") / *dev / ".." / "queue";
    info["block.scheduler"] = first_line(queue / "scheduler");
    info["block.rotational"] = first_line(queue / "rotational");
    info["block.logical_block_size"] = first_line(queue / "logical_block_size");
  }
  if (const auto v = zfs_module_version()) {
    info["zfs.version"] = *v;
    std::error_code ec;
    for (const auto& p : fs::directory_iterator("/sys/module/zfs/parameters", ec)) {
      info["zfs.tunable." + p.path().filename().string()] = first_line(p.path());
    }
  }
  // What only the caller knows, e.g. the qemu lane's accelerator and guest
  // image: DIOBENCH_SYSINFO_VM_ACCELERATOR=tcg becomes vm.accelerator.
  constexpr std::string_view kPrefix = "DIOBENCH_SYSINFO_";
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (entry.rfind(kPrefix, 0) != 0 || eq == std::string_view::npos || eq == kPrefix.size())
      continue;
    std::string key(entry.substr(kPrefix.size(), eq - kPrefix.size()));
    for (char& c : key)
      c = c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    info[key] = std::string(entry.substr(eq + 1));
  }
  return info;
}

}  // namespace diobench
