#include "run_control.hpp"

#include <atomic>
#include <csignal>
#include <cstring>

namespace diobench::bench {
namespace {

volatile std::sig_atomic_t g_signal = 0;
std::atomic<int> g_failed_runs{0};

void OnSignal(int sig) {
  if (g_signal == sig) {
    // Second time: the user does not want to wait for the clean-up.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_signal = sig;
}

}  // namespace

void InstallInterruptHandlers() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  // Restart pread/pwrite: the loops poll the flag between requests anyway,
  // and a half-done request would only turn into a spurious error.
  action.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
}

int InterruptSignal() noexcept { return g_signal; }

void Fail(benchmark::State& state, const std::string& message) {
  g_failed_runs.fetch_add(1, std::memory_order_relaxed);
  state.SkipWithError(message.c_str());
}

void FailErrno(benchmark::State& state, const std::string& what, int err) {
  Fail(state, what + ": " + std::strerror(err));
}

bool FailIfInterrupted(benchmark::State& state) {
  const int sig = InterruptSignal();
  if (sig == 0) return false;
  Fail(state, std::string("interrupted by ") + strsignal(sig));
  return true;
}

int FailedRuns() noexcept { return g_failed_runs.load(std::memory_order_relaxed); }

}  // namespace diobench::bench
