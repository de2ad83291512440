// Cold-cache repetitions: write back and evict a target's cached pages,
// then check with mincore(2) that they are really gone.
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

}  // namespace diobench
