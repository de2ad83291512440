#include "diobench/page_cache.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

std::uint64_t resident_pages(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  bool block = false;
  const std::uint64_t size = size_of(fd, &block);
  std::uint64_t resident = 0;
  if (size > 0) {
    void* map = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
      const long page = sysconf(_SC_PAGESIZE);
      std::vector<unsigned char> vec((size + page - 1) / page);
      if (mincore(map, size, vec.data()) == 0) {
        for (unsigned char v : vec) resident += v & 1;
      }
      munmap(map, size);
    }
  }
  ::close(fd);
  return resident;
}

std::uint64_t drop_cached_pages(const std::string& path) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    bool block = false;
    size_of(fd, &block);
    fdatasync(fd);
    if (block) ioctl(fd, BLKFLSBUF, 0);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
    const std::uint64_t left = resident_pages(path);
    if (left == 0) return 0;
    if (attempt == 2) return left;
    usleep(50000);  // writeback may still be finishing
  }
  return 0;
}

}  // namespace diobench
