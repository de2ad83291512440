// Only the kernel's own struct statx has the dio fields (glibc 2.36's
// does not), so this file speaks to the system call directly.
#include "diobench/dio_align.hpp"

#include <fcntl.h>
#include <linux/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace diobench {

std::string DioAlign::text() const {
  if (!reported) return "not reported";
  if (offset == 0) return "none (no O_DIRECT)";
  return "offset " + std::to_string(offset) + ", memory " + std::to_string(memory);
}

DioAlign dio_align(const std::string& file) {
  struct statx stx {};
  DioAlign a;
  if (::syscall(SYS_statx, AT_FDCWD, file.c_str(), AT_SYMLINK_NOFOLLOW, STATX_DIOALIGN, &stx) !=
      0) {
    return a;
  }
  if ((stx.stx_mask & STATX_DIOALIGN) == 0) return a;
  a.reported = true;
  a.memory = stx.stx_dio_mem_align;
  a.offset = stx.stx_dio_offset_align;
  return a;
}

}  // namespace diobench
