// Profile INI (runner/src/profile.cpp): refused only with ProfileError.
// The text is read as a profile beside profiles/job.fio, so that the
// checks after the job template's are reached too.
#include "diobench/runner/profile.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const diobench::Profile p = diobench::parse_profile(diobench::fuzz::text(data, size),
                                                        DIOBENCH_FUZZ_PROFILE, "emulated");
    for (const diobench::Cell& c : p.cells) (void)c.name();
  } catch (const diobench::ProfileError&) {
  }
  return 0;
}
