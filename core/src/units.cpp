#include "diobench/units.hpp"

#include <charconv>

namespace diobench {

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t n = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  const std::string_view suffix(ptr, static_cast<std::size_t>(end - ptr));
  int shift = -1;
  if (suffix.empty())
    shift = 0;
  else if (suffix == "k" || suffix == "K")
    shift = 10;
  else if (suffix == "m" || suffix == "M")
    shift = 20;
  else if (suffix == "g" || suffix == "G")
    shift = 30;
  else if (suffix == "t" || suffix == "T")
    shift = 40;
  if (shift < 0) return std::nullopt;
  if (shift && n > (UINT64_MAX >> shift)) return std::nullopt;
  return n << shift;
}

std::string format_size(std::uint64_t bytes) {
  static const char suffixes[] = {'t', 'g', 'm', 'k'};
  for (int i = 0; i < 4; ++i) {
    const int shift = 40 - 10 * i;
    const std::uint64_t unit = std::uint64_t{1} << shift;
    if (bytes >= unit && bytes % unit == 0) {
      return std::to_string(bytes >> shift) + suffixes[i];
    }
  }
  return std::to_string(bytes);
}

}  // namespace diobench
