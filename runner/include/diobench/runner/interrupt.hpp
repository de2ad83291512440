// SIGINT/SIGTERM: long work stops at the next safe point, then cleans up.
// The first signal is only recorded (the current repetition finishes); a
// second one also stops the fio child. Destructors do the cleanup.
#pragma once

#include <sys/types.h>

namespace diobench {

class InterruptGuard {
 public:
  InterruptGuard();   // installs the handlers
  ~InterruptGuard();  // restores the previous ones
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  static bool requested();  // a signal arrived
  static int signal();      // which one (0 if none)
  // The child a second signal stops (0: none); with `first_stops`, already
  // the first one (a long child that cleans up after itself on SIGTERM).
  static void set_child(pid_t pid, bool first_stops = false);
};

}  // namespace diobench
