// A file's Direct I/O alignment, as the kernel reports it to statx(2)
// with STATX_DIOALIGN (Linux 6.1 on). The loop driver of newer kernels
// ("loop: take the file system minimum dio alignment into account",
// early 2025) refuses direct I/O when its logical block size is below the
// file's offset alignment; OpenZFS answers STATX_DIOALIGN from 2.3.2 on
// (PR 16972) with the file's block size, and with no alignment at all
// (no O_DIRECT) under direct=disabled.
#pragma once

#include <cstdint>
#include <string>

namespace diobench {

struct DioAlign {
  bool reported = false;     // the filesystem answered STATX_DIOALIGN
  std::uint32_t memory = 0;  // stx_dio_mem_align: buffer alignment
  std::uint32_t offset = 0;  // stx_dio_offset_align: offset and length
  // "offset 4096, memory 512", "none (no O_DIRECT)" or "not reported".
  std::string text() const;
};

// statx(STATX_DIOALIGN) of `file` (no symlink followed); not reported
// when the call fails or the filesystem does not answer.
DioAlign dio_align(const std::string& file);

}  // namespace diobench
