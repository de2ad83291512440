// A loop device this process attached, detached when the object dies.
// Attaching uses LOOP_CTL_GET_FREE + LOOP_CONFIGURE so that the backing
// file, the direct-I/O flag and the logical block size are set in one
// ioctl (no window in which the device exists half-configured).
#pragma once

#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "diobench/dio_align.hpp"

namespace diobench {

// Every refusal's text starts with this, so that a stored repetition's
// message says what happened to the cell (the report's outcome).
inline constexpr const char* kLoopDioRefused = "loop direct I/O refused by the kernel";
bool is_loop_dio_refusal(const std::string& message);

// The kernel kept a loop device that was asked for direct I/O buffered:
// LOOP_CONFIGURE left loop/dio at 0 and LOOP_SET_DIRECT_IO failed (or
// changed nothing). A dio-on cell must then not run at all.
class LoopDioRefused : public std::system_error {
 public:
  explicit LoopDioRefused(const std::string& reason)
      : std::system_error(EINVAL, std::generic_category(), reason) {}
};

// Why: the device, the backing file and its dio alignment (statx), the
// loop block size, LOOP_SET_DIRECT_IO's errno (0: it returned 0 but dio
// stayed off) and the kernel release, with the likely cause.
std::string loop_dio_refusal_text(const std::string& device, const std::string& backing_file,
                                  std::uint32_t logical_block_size, const DioAlign& align,
                                  int set_direct_io_errno, const std::string& kernel);

struct LoopOptions {
  bool direct_io = false;                  // LO_FLAGS_DIRECT_IO
  std::uint32_t logical_block_size = 512;  // 512 .. 4096, power of two
  bool read_only = false;
};

class LoopDevice {
 public:
  // Attaches `backing_file`; throws std::system_error naming the file and
  // the failing step, LoopDioRefused when direct I/O was asked for and
  // the kernel would not give it. Retries when another process takes the free device
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
  // Lets go without detaching: the device stays bound to its file after
  // this process ends (a fleet host's loop device, used by a fio server
  // next); whoever journaled it detaches it (detach_loops_backed_by).
  void leave_attached() noexcept;

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

// Whether the loop device `device` is bound to the very file `file` names
// here (the device and inode LOOP_GET_STATUS64 gives against stat's), not
// only to a file of that name: the same path names other files in other
// mount namespaces (containers, a fleet test's namespace hosts), and their
// devices are not ours.
bool loop_bound_to(const std::string& device, const std::string& file);

}  // namespace diobench
