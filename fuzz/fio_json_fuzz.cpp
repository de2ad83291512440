// fio's JSON output (core/src/fio_result.cpp): refused only with
// FioResultError.
#include "diobench/fio_result.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const diobench::FioResult r =
        diobench::parse_fio_json(diobench::fuzz::text(data, size), "fuzz");
    (void)r.first_error();
    for (const auto& job : r.jobs) (void)job.read.percentile_ns(99.0);
  } catch (const diobench::FioResultError&) {
  }
  return 0;
}
