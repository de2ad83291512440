// Target probing from stat(2), sysfs and /proc/self/mountinfo. Nothing here
// needs the zfs command except the dataset's properties, so a machine
// without ZFS still gets a full description of file and loop targets.
#include "diobench/target.hpp"

#include <fcntl.h>
#include <libmount.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "diobench/child_process.hpp"
#include "diobench/zfs.hpp"
#include "target_parse.hpp"

namespace diobench {
namespace detail {
namespace {

// True when `path` lies under `mount_point` (a mount point is a directory,
// so "/mnt/a" does not hold "/mnt/ab").
bool is_under(std::string_view mount_point, std::string_view path) {
  if (mount_point == "/") return !path.empty() && path.front() == '/';
  if (path.substr(0, mount_point.size()) != mount_point) return false;
  return path.size() == mount_point.size() || path[mount_point.size()] == '/';
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

std::string decode_mount_escapes(std::string_view field) {
  const std::string in(field);
  const std::unique_ptr<char, void (*)(void*)> out(mnt_unmangle(in.c_str()), std::free);
  return out ? out.get() : in;
}

// mountinfo's entries are the ones with a root (libmount reads the
// mounts/fstab format too, and guesses the format from the first line).
std::vector<MountEntry> parse_mountinfo(std::string_view text) {
  std::vector<MountEntry> mounts = parse_mount_table(text);
  std::erase_if(mounts, [](const MountEntry& m) { return m.root.empty(); });
  return mounts;
}

std::optional<MountEntry> parse_mountinfo_line(std::string_view line) {
  std::vector<MountEntry> mounts = parse_mountinfo(line.substr(0, line.find('\n')));
  if (mounts.empty()) return std::nullopt;
  return std::move(mounts.front());
}

std::optional<MountEntry> find_mount(const std::vector<MountEntry>& mounts, unsigned int major,
                                     unsigned int minor, std::string_view path) {
  const MountEntry* under = nullptr;     // same device, holds `path`
  const MountEntry* same_dev = nullptr;  // same device, anywhere
  const MountEntry* by_path = nullptr;   // any device, holds `path`
  for (const MountEntry& m : mounts) {
    const bool holds = !path.empty() && is_under(m.mount_point, path);
    if (holds && (by_path == nullptr || m.mount_point.size() >= by_path->mount_point.size())) {
      by_path = &m;
    }
    if (m.major != major || m.minor != minor) continue;
    same_dev = &m;
    if (holds && (under == nullptr || m.mount_point.size() >= under->mount_point.size())) {
      under = &m;
    }
  }
  if (under != nullptr) return *under;
  if (same_dev != nullptr) return *same_dev;
  if (by_path != nullptr) return *by_path;
  return std::nullopt;
}

ZfsProperties parse_zfs_get(std::string_view output) {
  ZfsProperties props;
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    const std::string_view line = output.substr(start, end - start);
    start = end + 1;
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    const std::string_view name = trim(line.substr(0, tab));
    const std::string_view value = trim(line.substr(tab + 1));
    if (value.empty() || value == "-") continue;
    if (name == "direct") {
      props.direct = std::string(value);
    } else if (name == "recordsize") {
      std::uint64_t bytes = 0;
      const char* last = value.data() + value.size();
      auto [ptr, ec] = std::from_chars(value.data(), last, bytes);
      if (ec == std::errc() && ptr == last) props.recordsize = bytes;
    }
  }
  return props;
}

namespace {

// Runs a command (no shell: dataset names are never shell syntax) and
// returns its standard output if it exits 0 within `timeout_s`; its
// complaints go nowhere (they would end up in fio's or the runner's
// output). Safe inside fio's job threads (child_process.hpp). A command
// that hangs is killed and says so on our standard error.
std::optional<std::string> run_and_capture(const std::vector<std::string>& argv, double timeout_s) {
  ChildCommand command;
  command.argv = argv;
  command.capture_output = true;
  command.timeout_s = timeout_s;
  try {
    const ChildExit exit = run_child(command);
    if (exit.timed_out) {
      std::string line = "diobench:";
      for (const std::string& a : argv) line += " " + a;
      std::fprintf(stderr, "%s: %s\n", line.c_str(), exit.reason().c_str());
    }
    if (!exit.ok()) return std::nullopt;
    return exit.output;
  } catch (const std::system_error&) {
    return std::nullopt;  // no such command
  }
}

std::optional<std::string> run_tool(const char* tool, const std::vector<std::string>& args,
                                    double timeout_s) {
  std::vector<std::string> argv{tool};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_and_capture(argv, timeout_s);
}

}  // namespace

std::optional<std::string> run_zfs(const std::vector<std::string>& args, double timeout_s) {
  return run_tool("zfs", args, timeout_s);
}
std::optional<std::string> run_zpool(const std::vector<std::string>& args, double timeout_s) {
  return run_tool("zpool", args, timeout_s);
}

ZfsProperties read_zfs_properties(const std::string& dataset) {
  if (auto out = run_zfs({"get", "-Hp", "-o", "property,value", "direct,recordsize", dataset})) {
    return parse_zfs_get(*out);
  }
  // zfs before 2.3 rejects the whole query for the unknown `direct`.
  if (auto out = run_zfs({"get", "-Hp", "-o", "property,value", "recordsize", dataset})) {
    return parse_zfs_get(*out);
  }
  return {};
}

}  // namespace detail

namespace {

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

std::string trimmed(std::string_view text) { return std::string(detail::trim(text)); }

std::string sysfs_block_dir(dev_t device) {
  return "/sys/dev/block/" + std::to_string(major(device)) + ":" + std::to_string(minor(device));
}

std::optional<std::uint32_t> read_u32(const std::string& path) {
  const std::optional<std::string> text = read_text_file(path);
  if (!text) return std::nullopt;
  const std::string value = trimmed(*text);
  std::uint32_t number = 0;
  const char* last = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), last, number);
  if (ec != std::errc() || ptr != last || value.empty()) return std::nullopt;
  return number;
}

std::uint32_t read_logical_block_size(const std::string& sys_dir) {
  // A partition has no queue/ of its own: its queue is the whole disk's.
  for (const char* queue : {"/queue", "/../queue"}) {
    if (auto size = read_u32(sys_dir + queue + "/logical_block_size")) {
      return *size;
    }
  }
  return 512;
}

// Fills fs_type, fs_source and mount_point for a file on device `device`.
void describe_filesystem(dev_t device, const std::string& path, TargetInfo& info) {
  const std::optional<std::string> text = read_text_file("/proc/self/mountinfo");
  if (!text) return;
  std::error_code ec;
  const std::filesystem::path canonical = std::filesystem::canonical(path, ec);
  const auto mount = detail::find_mount(detail::parse_mountinfo(*text), major(device),
                                        minor(device), ec ? std::string() : canonical.string());
  if (!mount) return;
  info.fs_type = mount->fs_type;
  info.fs_source = mount->source;
  info.mount_point = mount->mount_point;
}

// The device the loop driver's backing file lives on. By path first; the
// driver's own record covers a backing file that was deleted or lives in
// another mount namespace.
std::optional<dev_t> backing_file_device(const std::string& loop_path,
                                         const std::string& backing_file) {
  struct stat st {};
  if (::stat(backing_file.c_str(), &st) == 0) return st.st_dev;
  const int fd = ::open(loop_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  loop_info64 status{};
  const int rc = ::ioctl(fd, LOOP_GET_STATUS64, &status);
  ::close(fd);
  if (rc != 0) return std::nullopt;
  return static_cast<dev_t>(status.lo_device);
}

}  // namespace

std::string to_string(TargetKind kind) {
  switch (kind) {
    case TargetKind::File:
      return "file";
    case TargetKind::Block:
      return "block";
    case TargetKind::Loop:
      return "loop";
  }
  return "unknown";
}

std::string ZfsDataset::pool() const { return pool_of(name); }

TargetInfo probe_target(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw std::system_error(errno, std::generic_category(), "probe target: stat " + path);
  }
  TargetInfo info;
  info.path = path;

  if (S_ISBLK(st.st_mode)) {
    const std::string sys_dir = sysfs_block_dir(st.st_rdev);
    info.logical_block_size = read_logical_block_size(sys_dir);
    // Only a bound loop device has loop/; an idle /dev/loopN is a plain,
    // empty block device.
    const auto backing = read_text_file(sys_dir + "/loop/backing_file");
    if (!backing) {
      info.kind = TargetKind::Block;
      return info;
    }
    info.kind = TargetKind::Loop;
    LoopInfo loop;
    loop.backing_file = *backing;
    if (!loop.backing_file.empty() && loop.backing_file.back() == '\n') {
      loop.backing_file.pop_back();  // keep any other blanks: they are the path's
    }
    loop.direct_io = trimmed(read_text_file(sys_dir + "/loop/dio").value_or("0")) == "1";
    loop.logical_block_size = info.logical_block_size;
    if (auto device = backing_file_device(path, loop.backing_file)) {
      describe_filesystem(*device, loop.backing_file, info);
    }
    info.loop = std::move(loop);
  } else {
    // Directories and other non-block nodes are described like files: what
    // the suite needs is the filesystem holding them.
    info.kind = TargetKind::File;
    describe_filesystem(st.st_dev, path, info);
  }

  if (info.fs_type == "zfs") {
    ZfsDataset dataset;
    dataset.name = info.fs_source;
    detail::ZfsProperties props = detail::read_zfs_properties(dataset.name);
    dataset.direct = std::move(props.direct);
    dataset.recordsize = props.recordsize;
    info.zfs = std::move(dataset);
  }
  return info;
}

std::optional<std::string> zfs_module_version() {
  const std::optional<std::string> text = read_text_file("/sys/module/zfs/version");
  if (!text) return std::nullopt;
  std::string version = trimmed(*text);
  if (version.empty()) return std::nullopt;
  return version;
}

}  // namespace diobench
