// One io_uring set-up for the engine and the bench drivers: the flags fio's
// own io_uring engine asks for (completion work runs when this, the only
// submitting thread, asks for events, not as interrupts). Older kernels
// reject them; fall back one flag set at a time. Header-only so that the
// core library itself does not need liburing.
#pragma once

#include <liburing.h>

#include <cerrno>

namespace diobench {

// 0, or a negative errno value from io_uring_queue_init_params.
inline int init_ring(io_uring* ring, unsigned entries) {
  int rc = -EINVAL;
  for (unsigned flags :
       {IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        unsigned{IORING_SETUP_COOP_TASKRUN}, 0u}) {
    io_uring_params params{};
    params.flags = flags;
    rc = io_uring_queue_init_params(entries, ring, &params);
    if (rc != -EINVAL) break;
  }
  return rc;
}

}  // namespace diobench
