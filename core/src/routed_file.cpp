#include "diobench/routed_file.hpp"

#include <algorithm>
#include <cstring>
#include <system_error>

namespace diobench {

namespace {
int open_or_throw(const std::string& path, int flags, const char* what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), std::string("open ") + path + what);
  }
  return fd;
}
}  // namespace

int probe_dontcache(int fd) noexcept {
  // A zero-length request is not checked; one byte at offset 0 is (and
  // harmless: at worst it reads a byte, or nothing at end of file).
  char byte = 0;
  const iovec iov{&byte, 1};
  return ::preadv2(fd, &iov, 1, 0, kRwfDontcache) < 0 ? errno : 0;
}

RoutedFile RoutedFile::open_emulated(const std::string& path, int flags) {
  RoutedFile f;
  f.buffered_fd_ = open_or_throw(path, flags, "");
  f.direct_fd_ =
      open_or_throw(path, (flags & ~O_CREAT) | O_DIRECT,
                    " with O_DIRECT (the emulated backend needs a filesystem that supports it)");
  return f;
}

RoutedFile RoutedFile::open_as_asked(const std::string& path, int flags) {
  RoutedFile f;
  f.buffered_fd_ = open_or_throw(path, flags, "");
  return f;
}

RoutedFile& RoutedFile::operator=(RoutedFile&& other) noexcept {
  if (this != &other) {
    close();
    buffered_fd_ = other.buffered_fd_;
    direct_fd_ = other.direct_fd_;
    other.buffered_fd_ = other.direct_fd_ = -1;
  }
  return *this;
}

int RoutedFile::close() noexcept {
  int err = 0;
  for (int* fd : {&direct_fd_, &buffered_fd_}) {
    if (*fd >= 0 && ::close(*fd) != 0 && err == 0) err = errno;
    *fd = -1;
  }
  return err;
}

int RoutedFile::issue_slowly(const Route& route, Direction dir, void* buf,
                             std::uint64_t* resid) const noexcept {
  char* base = static_cast<char*>(buf);
  for (unsigned i = 0; i < route.segment_count; ++i) {
    const Segment& seg = route.segments[i];
    // Page-by-page direct requests (the loop model) are each one call.
    const std::uint64_t piece = seg.direct && route.direct_piece ? route.direct_piece : seg.length;
    std::uint64_t done = 0;
    while (done < seg.length) {
      const std::uint64_t want = std::min(piece - done % piece, seg.length - done);
      const ssize_t n = transfer(fd_for(seg), dir, base + seg.buffer_offset + done, want,
                                 seg.offset + done, seg.uncached);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno;
      }
      if (n == 0) {  // end of file: the rest of the request is residual
        std::uint64_t rest = seg.length - done;
        for (unsigned j = i + 1; j < route.segment_count; ++j) {
          rest += route.segments[j].length;
        }
        *resid = rest;
        return 0;
      }
      done += static_cast<std::uint64_t>(n);
    }
  }
  return 0;
}

}  // namespace diobench
