// What every fuzz target shares: the input as text, and the rule that a
// parser may refuse it only with the exception its header documents.
// Anything else escaping (a nlohmann::json error, std::out_of_range, ...)
// reaches std::terminate, which libFuzzer reports as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace diobench::fuzz {

inline std::string text(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

}  // namespace diobench::fuzz
