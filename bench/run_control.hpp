// How a driver run ends early: an I/O or set-up error (reported through
// SkipWithError with the errno text, and remembered for the exit status), or
// an interruption (SIGINT, SIGTERM, SIGHUP) that must still let every fixture
// and the workspace clean up. Google Benchmark runs in this process, so a
// signal only sets a flag; the timed loops and the fixtures poll it.
#pragma once

#include <benchmark/benchmark.h>

#include <string>

namespace diobench::bench {

// Installs the handlers: the first signal sets the flag, a second one of
// the same kind kills the process at once (the user insisted; loop devices
// may then be left attached, see bench/README.md).
void InstallInterruptHandlers();
// 0 while not interrupted, else the signal number.
int InterruptSignal() noexcept;
inline bool Interrupted() noexcept { return InterruptSignal() != 0; }

// Marks the run failed with `message` (the benchmark then reports
// "error_occurred": true and no numbers) and counts it for the exit status.
// The caller must leave the timed loop right after (break).
void Fail(benchmark::State& state, const std::string& message);
// As Fail, message "<what>: <strerror(err)>".
void FailErrno(benchmark::State& state, const std::string& what, int err);
// Fails the run if a signal arrived; true when it did.
bool FailIfInterrupted(benchmark::State& state);

// Runs that failed so far (for main's exit status).
int FailedRuns() noexcept;

}  // namespace diobench::bench
