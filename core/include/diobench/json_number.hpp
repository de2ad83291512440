// Whole numbers read from JSON that diobench did not write in this process
// (fio's output, the engine's sidecar, a run directory's files).
//
// nlohmann's get<unsigned>() converts any number with a static_cast: a
// negative one wraps around, a fraction is cut, and a float out of range is
// undefined behaviour. These accept a JSON integer within T's range only and
// otherwise throw nlohmann::json::type_error, which every parser already
// turns into its own error naming the file.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>

namespace diobench {

template <class T>
T json_whole(const nlohmann::json& v) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  using limits = std::numeric_limits<T>;
  if (v.is_number_unsigned()) {
    const std::uint64_t n = v.get<std::uint64_t>();
    if (n <= static_cast<std::uint64_t>(limits::max())) return static_cast<T>(n);
  } else if (v.is_number_integer()) {
    const std::int64_t n = v.get<std::int64_t>();
    if (n >= 0 ? static_cast<std::uint64_t>(n) <= static_cast<std::uint64_t>(limits::max())
               : limits::is_signed && n >= static_cast<std::int64_t>(limits::min())) {
      return static_cast<T>(n);
    }
  }
  throw nlohmann::json::type_error::create(302,
                                           "expected a whole number from " +
                                               std::to_string(limits::min()) + " to " +
                                               std::to_string(limits::max()) + ", got " + v.dump(),
                                           &v);
}

// The number at `key` (nlohmann::json::out_of_range when it is missing).
template <class T>
T json_whole(const nlohmann::json& object, const char* key) {
  return json_whole<T>(object.at(key));
}

// The number at `key`, or `fallback` when the object has no such key.
template <class T>
T json_whole_or(const nlohmann::json& object, const char* key, T fallback) {
  if (!object.is_object()) return json_whole<T>(object, key);  // throws type_error
  const auto it = object.find(key);
  return it == object.end() ? fallback : json_whole<T>(*it);
}

}  // namespace diobench
