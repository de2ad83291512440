#include "diobench/page_cache.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace diobench {

namespace {
std::uint64_t size_of(int fd, bool* block) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return 0;
  *block = S_ISBLK(st.st_mode);
  if (!*block) return static_cast<std::uint64_t>(st.st_size);
  std::uint64_t bytes = 0;
  return ioctl(fd, BLKGETSIZE64, &bytes) == 0 ? bytes : 0;
}
}  // namespace

int drop_cached_pages(int fd) {
  // Dirty pages cannot be dropped: write them back first.
  if (fdatasync(fd) != 0) return errno;
  return posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);  // returns the error
}

int count_resident(int fd, std::uint64_t bytes, std::uint64_t* resident, std::uint64_t* total) {
  const auto page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  *total = (bytes + page - 1) / page;
  *resident = 0;
  if (bytes == 0) return 0;
  void* map = mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return errno;
  std::vector<unsigned char> pages(*total);
  int err = 0;
  if (mincore(map, bytes, pages.data()) != 0) {
    err = errno;
  } else {
    *resident = static_cast<std::uint64_t>(
        std::count_if(pages.begin(), pages.end(), [](unsigned char v) { return (v & 1) != 0; }));
  }
  munmap(map, bytes);
  return err;
}

// cachestat(2)'s system call number and structures (include/uapi/linux/
// mman.h of Linux 6.5); Debian 12's kernel headers predate them.
namespace {
constexpr long kCachestatSyscall = 451;  // the same on every architecture
struct CachestatRange {
  std::uint64_t off;
  std::uint64_t len;
};
struct Cachestat {
  std::uint64_t nr_cache;
  std::uint64_t nr_dirty;
  std::uint64_t nr_writeback;
  std::uint64_t nr_evicted;
  std::uint64_t nr_recently_evicted;
};
}  // namespace

int count_cache(int fd, std::uint64_t bytes, CacheCount* count) {
  *count = {};
  if (bytes == 0) return 0;  // a length of 0 would mean "to the end"
  CachestatRange range{0, bytes};
  Cachestat stat{};
  if (syscall(kCachestatSyscall, fd, &range, &stat, 0) != 0) return errno;
  count->cached = stat.nr_cache;
  count->evicted = stat.nr_evicted;
  return 0;
}

int read_through(int fd, std::uint64_t bytes) {
  std::vector<char> chunk(1 << 20);
  for (std::uint64_t done = 0; done < bytes;) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), bytes - done));
    const ssize_t n = pread(fd, chunk.data(), want, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;  // shorter than promised: someone truncated it
    done += static_cast<std::uint64_t>(n);
  }
  return 0;
}

std::uint64_t resident_pages(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  bool block = false;
  const std::uint64_t size = size_of(fd, &block);
  std::uint64_t resident = 0, total = 0;
  count_resident(fd, size, &resident, &total);
  ::close(fd);
  return resident;
}

std::uint64_t drop_cached_pages(const std::string& path) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    bool block = false;
    size_of(fd, &block);
    if (block) {
      fsync(fd);
      ioctl(fd, BLKFLSBUF, 0);
      posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    } else {
      drop_cached_pages(fd);
    }
    ::close(fd);
    const std::uint64_t left = resident_pages(path);
    if (left == 0) return 0;
    if (attempt == 2) return left;
    usleep(50000);  // writeback may still be finishing
  }
  return 0;
}

}  // namespace diobench
