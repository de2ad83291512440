#include "workspace.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "diobench/runner/safety.hpp"
#include "diobench/target.hpp"

namespace diobench::bench {
namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

std::unique_ptr<Workspace> g_workspace;

// Size of a block device or regular file open on `fd`; 0 with *err set.
std::uint64_t SizeOf(int fd, int* err) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    *err = errno;
    return 0;
  }
  if (S_ISREG(st.st_mode)) return static_cast<std::uint64_t>(st.st_size);
  std::uint64_t bytes = 0;
  if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &bytes) == 0) return bytes;
  *err = S_ISBLK(st.st_mode) ? errno : ENOTBLK;
  return 0;
}

// Opens `path` read-only with O_DIRECT (the ceiling never writes) and
// returns its size, or throws with the errno text.
std::uint64_t ProbeReadable(const std::string& path, bool* block_device) {
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "open " + path);
  }
  struct stat st {};
  fstat(fd, &st);
  *block_device = S_ISBLK(st.st_mode);
  int err = 0;
  const std::uint64_t bytes = SizeOf(fd, &err);
  close(fd);
  if (bytes == 0) {
    throw std::system_error(err ? err : EINVAL, std::generic_category(), "size of " + path);
  }
  return bytes;
}

}  // namespace

std::uint64_t Workspace::HotBytes(std::uint64_t data_bytes) {
  return std::min(data_bytes, 64 * kMiB);
}

std::uint64_t Workspace::WriteBytes(std::uint64_t data_bytes) {
  return std::min(data_bytes, 256 * kMiB);
}

namespace {

// A fresh private directory with an unpredictable name (mkdtemp: mode 0700).
std::string make_private_dir(const std::string& parent) {
  std::string templ = parent + "/diobench-bench-XXXXXX";
  if (!mkdtemp(templ.data())) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + templ);
  }
  return templ;
}

}  // namespace

Workspace::Workspace(const WorkspaceOptions& options)
    : options_(options), dir_(make_private_dir(options.scratch_parent)) {
  scratch_ = std::make_unique<diobench::ScratchArea>(dir_);
  dir_ = scratch_->dir();  // normalised
}

Workspace::~Workspace() {
  loops_.clear();    // detach before the backing file goes
  scratch_.reset();  // removes the files it created
  const std::string marker = dir_ + "/" + diobench::kScratchMarker;
  unlink(marker.c_str());
  // rmdir, never a recursive removal: something we did not create in here
  // is not ours to delete.
  if (rmdir(dir_.c_str()) != 0 && errno != ENOENT) {
    std::fprintf(stderr, "diobench-bench: could not remove %s: %s\n", dir_.c_str(),
                 std::strerror(errno));
  }
}

template <class T, class Make>
const T& Workspace::Once(Made<T>& slot, Make make) {
  if (slot.value) return *slot.value;
  if (!slot.error.empty()) throw std::runtime_error(slot.error);
  try {
    make(slot.value);
  } catch (const std::exception& e) {
    slot.value.reset();
    slot.error = e.what();
    throw std::runtime_error(slot.error);
  }
  return *slot.value;
}

const std::string& Workspace::File(Made<std::string>& slot, const char* name, std::uint64_t bytes) {
  return Once(
      slot, [&](std::optional<std::string>& value) { value = scratch_->create_file(name, bytes); });
}

const std::string& Workspace::HotFile() {
  return File(hot_, "hot.dat", HotBytes(options_.data_bytes));
}

const std::string& Workspace::DataFile() { return File(data_, "data.dat", options_.data_bytes); }

const std::string& Workspace::WriteFile() {
  return File(write_, "write.dat", WriteBytes(options_.data_bytes));
}

const diobench::LoopDevice& Workspace::Loop(bool direct_io) {
  return Once(loops_[direct_io], [&](std::optional<diobench::LoopDevice>& value) {
    const std::string& backing = DataFile();
    // Read-only: the drivers only read through it, and a bug
    // cannot then scribble over the data the cold drivers use.
    // 512-byte blocks, like the runner's loop cells.
    std::vector<diobench::LoopTraffic> reads;
    for (std::int64_t bs : kLoopReadSizes) reads.push_back({"read", std::to_string(bs)});
    value.emplace(diobench::attach_loop(backing, diobench::LoopOptions{direct_io, 512, true}, reads,
                                        options_.force_unsafe));
  });
}

const CeilingTarget& Workspace::Ceiling() {
  return Once(ceiling_, [&](std::optional<CeilingTarget>& value) {
    CeilingTarget t;
    if (!options_.ceiling_device.empty()) {
      // Asked for explicitly: measure exactly that or fail.
      t.path = options_.ceiling_device;
      t.bytes = ProbeReadable(t.path, &t.block_device);
      t.label =
          std::string(t.block_device ? "block device " : "file ") + t.path + " (--ceiling-device)";
      value = t;
      return;
    }
    // The device under the scratch directory, read-only. Where it cannot
    // be opened (no permission, not a block device: tmpfs, overlay, a ZFS
    // dataset), the large data file read with O_DIRECT stands in, and the
    // label says so.
    std::string why;
    try {
      const diobench::TargetInfo info = diobench::probe_target(dir_);
      struct stat st {};
      if (info.fs_source.empty() || stat(info.fs_source.c_str(), &st) != 0 ||
          !S_ISBLK(st.st_mode)) {
        why = "mount source '" + info.fs_source + "' of " + dir_ + " is not a block device";
      } else {
        t.path = info.fs_source;
        t.bytes = ProbeReadable(t.path, &t.block_device);
        t.label = "block device " + t.path + " under " + dir_;
        value = t;
        return;
      }
    } catch (const std::exception& e) {
      why = e.what();
    }
    t.path = DataFile();
    bool block = false;
    t.bytes = ProbeReadable(t.path, &block);
    t.block_device = false;
    t.label = "scratch file " + t.path + " (" + std::to_string(t.bytes / kMiB) +
              " MiB, O_DIRECT) standing in for the device: " + why;
    value = t;
  });
}

void SetUpWorkspace(const WorkspaceOptions& options) {
  g_workspace = std::make_unique<Workspace>(options);
  // exit() from inside Google Benchmark (e.g. an unwritable
  // --benchmark_out) must not leave loop devices behind.
  static bool registered = false;
  if (!registered) {
    registered = true;
    std::atexit([] { TearDownWorkspace(); });
  }
}

void TearDownWorkspace() noexcept { g_workspace.reset(); }

Workspace& TheWorkspace() {
  if (!g_workspace) throw std::logic_error("the workspace is not set up");
  return *g_workspace;
}

}  // namespace diobench::bench
