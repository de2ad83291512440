// `diobench host ...`: what a fleet run (fleet.hpp) asks each host to do
// over ssh, done on that host with the same rules as a local run: the
// scratch area's marker and checks, the undo journal written before each
// change, the cache dropped and checked. Errors are thrown with the
// reason; the command line prints it on stderr, which ssh carries back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "diobench/runner/fleet.hpp"

namespace diobench {

// Before each repetition: the engine must exist here (fio loads an
// external engine on the server's side); the scratch area and the run's
// own directory in it; the scratch file of `size` bytes (made the first
// time, journaled first); its cached pages dropped and checked; the
// engine's sidecar of the last repetition gone. Throws with the reason.
void host_prepare(const HostPaths& paths, std::uint64_t size, const std::string& engine);

// After each repetition: the engine's sidecar (its text, "" when there is
// none), removed.
std::string host_take_counters(const HostPaths& paths);

// At the end: everything the host's journal holds undone (the scratch
// file removed), the run's directory removed once empty. Returns what
// could not be undone.
std::vector<std::string> host_finish(const HostPaths& paths);

}  // namespace diobench
