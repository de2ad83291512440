// A target opened the way the emulated policy needs it: one buffered and
// one O_DIRECT descriptor of the same file or device, so that each piece
// of a Route can be issued on the side the policy chose. Used by the fio
// engine and by the bench drivers (one implementation of "issue a route").
#pragma once

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "diobench/policy.hpp"

namespace diobench {

// RWF_DONTCACHE (Linux 6.14, include/uapi/linux/fs.h): buffered I/O whose
// pages leave the page cache once the request is done (reads) or written
// back (writes). The emulated backend serves the model's uncached
// segments with it. Debian 12's headers predate it, hence the number.
inline constexpr int kRwfDontcache = 0x00000080;

// 0 when `fd` takes RWF_DONTCACHE, else the errno the kernel gave a
// one-byte read with it (EOPNOTSUPP: a kernel before 6.14, or a
// filesystem without support, e.g. tmpfs).
int probe_dontcache(int fd) noexcept;

class RoutedFile {
 public:
  RoutedFile() = default;
  // Emulated: both descriptors, `flags` (O_RDONLY/O_RDWR, O_CREAT, O_SYNC...)
  // on each, O_DIRECT added to the second. Throws std::system_error naming
  // the path (and, for O_DIRECT, that the filesystem must support it).
  static RoutedFile open_emulated(const std::string& path, int flags);
  // As asked: a single descriptor with exactly `flags` (the zfs backend,
  // where the kernel applies the policy); every segment goes to it.
  static RoutedFile open_as_asked(const std::string& path, int flags);

  ~RoutedFile() { close(); }
  RoutedFile(RoutedFile&& other) noexcept { *this = static_cast<RoutedFile&&>(other); }
  RoutedFile& operator=(RoutedFile&& other) noexcept;
  RoutedFile(const RoutedFile&) = delete;
  RoutedFile& operator=(const RoutedFile&) = delete;

  int buffered_fd() const { return buffered_fd_; }
  int direct_fd() const { return direct_fd_; }  // -1 when opened as asked
  int fd_for(const Segment& s) const {
    return s.direct && direct_fd_ >= 0 ? direct_fd_ : buffered_fd_;
  }
  // Closes both; returns 0 or the first errno.
  int close() noexcept;

  // Issues `route` with pread/pwrite, segment by segment, finishing short
  // transfers. Returns 0 or an errno; at end of file *resid gets the bytes
  // not transferred. Einval routes must not reach here.
  int issue(const Route& route, Direction dir, void* buf, std::uint64_t* resid) const noexcept {
    if (route.segment_count == 1 && route.direct_piece == 0) {  // the common case
      const Segment& seg = route.segments[0];
      const ssize_t n = transfer(fd_for(seg), dir, buf, seg.length, seg.offset, seg.uncached);
      if (n >= 0 && static_cast<std::uint64_t>(n) == seg.length) return 0;
    }
    return issue_slowly(route, dir, buf, resid);
  }

 private:
  static ssize_t transfer(int fd, Direction dir, void* p, std::uint64_t len, std::uint64_t off,
                          bool uncached) noexcept {
    if (uncached) {
      const iovec iov{p, len};
      return dir == Direction::Read
                 ? ::preadv2(fd, &iov, 1, static_cast<off_t>(off), kRwfDontcache)
                 : ::pwritev2(fd, &iov, 1, static_cast<off_t>(off), kRwfDontcache);
    }
    return dir == Direction::Read ? ::pread(fd, p, len, static_cast<off_t>(off))
                                  : ::pwrite(fd, p, len, static_cast<off_t>(off));
  }
  int issue_slowly(const Route& route, Direction dir, void* buf,
                   std::uint64_t* resid) const noexcept;

  int buffered_fd_ = -1;
  int direct_fd_ = -1;
};

}  // namespace diobench
