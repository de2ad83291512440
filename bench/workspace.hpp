// What the drivers share for the whole process: the scratch area and the
// files and loop devices on it, each made on first use (so a filtered run
// only pays for what it measures) and kept until the process ends, because
// Google Benchmark sets a fixture up again for every repetition and every
// calibration run, and random interleaving visits the fixtures in turn.
//
// A set-up that fails is remembered: every later driver needing it fails
// with the same message instead of trying again.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "diobench/loop_device.hpp"
#include "diobench/scratch.hpp"

namespace diobench::bench {

struct WorkspaceOptions {
  // An existing writable directory; the workspace lives in a new
  // subdirectory diobench-bench-<pid> of it.
  std::string scratch_parent = "/var/tmp";
  std::uint64_t data_bytes = std::uint64_t{1} << 30;  // cold, direct, loop, uring
  // Empty: the block device under the scratch directory, falling back to
  // the data file when it cannot be opened. Set: exactly this, no fallback.
  std::string ceiling_device;
  // Attach loop devices the crash guard refuses (runner/safety.hpp).
  bool force_unsafe = false;
};

// The request sizes the LoopRead drivers read through a loop device: the
// crash guard is asked about each before a loop device is attached.
inline const std::vector<std::int64_t> kLoopReadSizes{4 << 10, 16 << 10, 64 << 10, 256 << 10,
                                                      1 << 20};

// Where the O_DIRECT read ceiling is measured.
struct CeilingTarget {
  std::string path;
  std::uint64_t bytes = 0;
  bool block_device = false;
  std::string label;  // says what was measured, and why not the device
};

class Workspace {
 public:
  // Creates the scratch area; throws (message names the directory).
  explicit Workspace(const WorkspaceOptions& options);
  // Detaches the loop devices, removes the files, the marker and the
  // directory (rmdir: anything unexpected in it is left and reported).
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  const std::string& dir() const { return dir_; }
  const WorkspaceOptions& options() const { return options_; }
  // File sizes, for the free-space check and the context block.
  static std::uint64_t HotBytes(std::uint64_t data_bytes);
  static std::uint64_t WriteBytes(std::uint64_t data_bytes);

  // Each throws std::runtime_error with the set-up failure.
  // A small file the hot drivers keep resident.
  const std::string& HotFile();
  // The large file: cold buffered, O_DIRECT, routing, io_uring, loop backing.
  const std::string& DataFile();
  // The O_DIRECT write target.
  const std::string& WriteFile();
  // A read-only loop device over DataFile() with the loop driver's direct
  // I/O on or off, attached only if the crash guard allows reads of
  // kLoopReadSizes through it (or force_unsafe); else throws its refusal.
  const diobench::LoopDevice& Loop(bool direct_io);
  const CeilingTarget& Ceiling();

 private:
  // A value made once, or the message of the one attempt that failed.
  template <class T>
  struct Made {
    std::optional<T> value;
    std::string error;
  };
  template <class T, class Make>
  const T& Once(Made<T>& slot, Make make);
  const std::string& File(Made<std::string>& slot, const char* name, std::uint64_t bytes);

  WorkspaceOptions options_;
  std::string dir_;
  std::unique_ptr<diobench::ScratchArea> scratch_;
  Made<std::string> hot_, data_, write_;
  std::map<bool, Made<diobench::LoopDevice>> loops_;
  Made<CeilingTarget> ceiling_;
};

// The process's workspace: main creates it before the benchmarks run and
// destroys it after (and an atexit hook covers exit() paths).
void SetUpWorkspace(const WorkspaceOptions& options);  // throws
void TearDownWorkspace() noexcept;
Workspace& TheWorkspace();

}  // namespace diobench::bench
