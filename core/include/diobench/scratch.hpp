// The scratch area: a directory diobench created and marked as its own.
// Everything the suite writes lives under it; nothing outside it is ever
// created, written or removed. The marker file makes ownership checkable
// by a later process (e.g. a restore after a crash) before it deletes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace diobench {

inline constexpr const char* kScratchMarker = ".diobench-scratch";

class ScratchArea {
 public:
  // Creates `dir` (and parents) if missing and writes the marker; an
  // existing non-empty directory without the marker is refused
  // (std::runtime_error naming the directory) so we never adopt user data.
  explicit ScratchArea(const std::string& dir);
  ~ScratchArea();  // removes the files it created (not the directory)
  ScratchArea(const ScratchArea&) = delete;
  ScratchArea& operator=(const ScratchArea&) = delete;

  const std::string& dir() const { return dir_; }
  static bool is_owned(const std::string& dir);  // marker present

  // Creates (or reuses, if this area created it earlier) `name` of exactly
  // `bytes`, fully allocated with real data written (not sparse: reads of
  // holes would not reach the device), returns its absolute path.
  std::string create_file(const std::string& name, std::uint64_t bytes);
  void remove_file(const std::string& name) noexcept;

 private:
  std::string dir_;
  std::vector<std::string> created_;
};

}  // namespace diobench
