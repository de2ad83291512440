// Cold-cache repetitions: write back and evict a target's cached pages,
// then check with mincore(2) that they are really gone. Used by the runner
// (by path, between repetitions) and by the bench drivers (by descriptor,
// in their fixtures).
#pragma once

#include <cstdint>
#include <string>

namespace diobench {

// Pages of `path` (a regular file or a block device) resident in the page
// cache now, counted with mincore on a read-only mapping.
std::uint64_t resident_pages(const std::string& path);

// fdatasync + POSIX_FADV_DONTNEED (and BLKFLSBUF for a block device), a
// few times if needed; returns the pages still resident (0 on success).
std::uint64_t drop_cached_pages(const std::string& path);

// Descriptor-level building blocks; each returns 0 or an errno value.

// fdatasync, then POSIX_FADV_DONTNEED over the whole file. Pages mapped by
// another process stay; count_resident tells.
int drop_cached_pages(int fd);

// Pages of the first `bytes` of `fd` resident now (mmap + mincore; the
// mapping itself faults nothing in); *total gets the pages in the range.
int count_resident(int fd, std::uint64_t bytes, std::uint64_t* resident, std::uint64_t* total);

// The first `bytes` of `fd` as the page cache holds them now: pages cached,
// and pages the kernel evicted since they came in (reclaim leaves a
// shadow entry per evicted page; POSIX_FADV_DONTNEED and truncation leave
// none, so after a drop both counts start at 0). Some machines evict a
// few cold pages a minute with memory to spare: cached alone then
// undercounts the pages a run brought in, cached + evicted does not.
struct CacheCount {
  std::uint64_t cached = 0;
  std::uint64_t evicted = 0;
  std::uint64_t entered() const { return cached + evicted; }
};

// cachestat(2) over the range (Linux 6.5); ENOSYS on older kernels.
int count_cache(int fd, std::uint64_t bytes, CacheCount* count);

// Reads the first `bytes` of `fd` through the page cache so that every page
// becomes resident; EIO if the file is shorter than that.
int read_through(int fd, std::uint64_t bytes);

}  // namespace diobench
