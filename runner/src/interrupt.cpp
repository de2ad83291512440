#include "diobench/runner/interrupt.hpp"

#include <csignal>

namespace diobench {

namespace {
volatile std::sig_atomic_t g_signal = 0;
volatile pid_t g_child = 0;
volatile std::sig_atomic_t g_first_stops = 0;
struct sigaction g_old_int, g_old_term;

void on_signal(int sig) {
  // The first signal lets the running repetition finish (fio runs in a
  // process group of its own, so a terminal's Ctrl-C does not reach it);
  // a second one stops fio now.
  if ((g_signal != 0 || g_first_stops) && g_child > 0) kill(g_child, SIGTERM);
  g_signal = sig;
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
void InterruptGuard::set_child(pid_t pid, bool first_stops) {
  g_first_stops = first_stops;
  g_child = pid;
}

}  // namespace diobench
