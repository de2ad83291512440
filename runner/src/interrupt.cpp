#include "diobench/runner/interrupt.hpp"

#include <csignal>

namespace diobench {

namespace {
volatile std::sig_atomic_t g_signal = 0;
volatile pid_t g_child = 0;
struct sigaction g_old_int, g_old_term;

void on_signal(int sig) {
  g_signal = sig;
  // SIGINT from a terminal reaches the whole process group, fio included;
  // SIGTERM sent to us alone must be passed on.
  if (sig == SIGTERM && g_child > 0) kill(g_child, SIGTERM);
}
}  // namespace

InterruptGuard::InterruptGuard() {
  g_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

bool InterruptGuard::requested() { return g_signal != 0; }
int InterruptGuard::signal() { return g_signal; }
void InterruptGuard::set_child(pid_t pid) { g_child = pid; }

}  // namespace diobench
