// A loop device this process attached, detached when the object dies.
// Attaching uses LOOP_CTL_GET_FREE + LOOP_CONFIGURE so that the backing
// file, the direct-I/O flag and the logical block size are set in one
// ioctl (no window in which the device exists half-configured).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace diobench {

struct LoopOptions {
  bool direct_io = false;                  // LO_FLAGS_DIRECT_IO
  std::uint32_t logical_block_size = 512;  // 512 .. 4096, power of two
  bool read_only = false;
};

class LoopDevice {
 public:
  // Attaches `backing_file`; throws std::system_error naming the file and
  // the failing step. Retries when another process takes the free device
  // between GET_FREE and CONFIGURE (EBUSY).
  LoopDevice(const std::string& backing_file, const LoopOptions& options);
  ~LoopDevice();  // detaches (LOOP_CLR_FD); never throws
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;
  LoopDevice(LoopDevice&& other) noexcept;
  LoopDevice& operator=(LoopDevice&& other) noexcept;

  const std::string& path() const { return path_; }  // "/dev/loopN"
  int number() const { return number_; }
  const std::string& backing_file() const { return backing_file_; }
  // Detaches now; safe to call twice. Returns false if the kernel refused.
  bool detach() noexcept;

 private:
  std::string path_;
  std::string backing_file_;
  int number_ = -1;
  int fd_ = -1;  // kept open until detach
};

// A loop device bound to a file now, as sysfs shows it.
struct BoundLoop {
  std::string path;          // "/dev/loopN"
  std::string backing_file;  // as the kernel names it
};
// Every loop device bound to a file, from /sys/block/loop*/loop/backing_file:
// the one listing of loop devices (restore, the tests' leak checks).
std::vector<BoundLoop> bound_loop_devices();

}  // namespace diobench
