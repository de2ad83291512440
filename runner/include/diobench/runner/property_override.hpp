// A ZFS dataset property held at the values a run needs, and set back to
// what it was when the run ends. The original value is journaled before
// the first change, so `diobench restore` can set it back after a kill.
#pragma once

#include <string>

#include "diobench/runner/journal.hpp"

namespace diobench {

class PropertyOverride {
 public:
  // Reads the current value (std::runtime_error if it cannot) and
  // journals it as the value to restore.
  PropertyOverride(Journal& journal, std::string dataset, std::string property);
  ~PropertyOverride();  // restores the original value (or inheritance); never throws
  PropertyOverride(const PropertyOverride&) = delete;
  PropertyOverride& operator=(const PropertyOverride&) = delete;

  // Sets the property (a no-op when it already has that value); throws
  // std::runtime_error naming dataset, property and value on failure.
  void set(const std::string& value);
  const std::string& original() const { return original_; }

 private:
  Journal& journal_;
  std::string dataset_, property_, original_, current_;
  bool original_local_ = true;  // else restored with `zfs inherit`
  bool changed_ = false;
};

}  // namespace diobench
