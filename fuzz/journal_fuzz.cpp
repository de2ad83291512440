// The undo journal (runner/src/journal.cpp) as `restore` reads it: every
// entry Journal::parse keeps can be read the way restore_journal reads it
// without an exception.
#include <string>
#include <vector>

#include "diobench/runner/journal.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const nlohmann::json& e : diobench::Journal::parse(diobench::fuzz::text(data, size))) {
    for (const char* key :
         {"op", "of", "path", "backing", "dataset", "property", "old", "pool", "token"}) {
      (void)e.value(key, "");
    }
    (void)e.value("inherit", false);
    (void)e.value("devices", std::vector<std::string>{});
  }
  return 0;
}
