// Google Benchmark JSON of the bench drivers (reports/src/bench_results.cpp),
// through what `diobench bench-table --sizes --families` makes of it:
// refused only with ReportError.
#include "diobench/reports/bench_results.hpp"
#include "diobench/reports/document.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const diobench::BenchResults b =
        diobench::parse_bench_results(diobench::fuzz::text(data, size), "fuzz/bench.json");
    (void)diobench::to_markdown(diobench::request_cost_document(b, 4096, true));
    (void)diobench::to_markdown(diobench::driver_family_document(b, 2));
  } catch (const diobench::ReportError&) {
  }
  return 0;
}
