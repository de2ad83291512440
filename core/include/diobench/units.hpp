// Sizes as people and fio write them: 4096, 4k, 128K, 1m, 2G (1024-based).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace diobench {

// nullopt for anything else (empty, negative, unknown suffix, overflow).
std::optional<std::uint64_t> parse_size(std::string_view text);
// The shortest exact spelling: 131072 -> "128k", 1536 -> "1536".
std::string format_size(std::uint64_t bytes);

}  // namespace diobench
