// The scratch area: a directory diobench created and marked as its own.
// Everything the suite writes lives under it; nothing outside it is ever
// created, written or removed. The marker file makes ownership checkable
// by a later process (e.g. a restore after a crash) before it deletes.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace diobench {

inline constexpr const char* kScratchMarker = ".diobench-scratch";

// A directory the suite will not use, with the reason (bad input: the
// command line exits 2).
class ScratchRefused : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Why the file or directory open as `fd` (opened without following a
// link) is not safe for diobench to trust: owned by another user than the
// one running it, or writable by group or others. nullopt when it is.
std::optional<std::string> unsafe_reason(int fd);

class ScratchArea {
 public:
  // Creates `dir` (parents as needed, the area itself mode 0700) if missing
  // and writes the marker. Refused with ScratchRefused naming it: a
  // symbolic link, a directory owned by another user or writable by group
  // or others (anyone else could plant links in it), or a non-empty one
  // without the marker (never adopt user data). Every file inside is then
  // opened relative to the area's descriptor, never following a link.
  explicit ScratchArea(const std::string& dir);
  ~ScratchArea();  // removes the files it created (not the directory)
  ScratchArea(const ScratchArea&) = delete;
  ScratchArea& operator=(const ScratchArea&) = delete;

  const std::string& dir() const { return dir_; }
  static bool is_owned(const std::string& dir);  // marker present

  // Creates (or reuses, if this area created it earlier) `name` of exactly
  // `bytes`, fully allocated with real data written (not sparse: reads of
  // holes would not reach the device), returns its absolute path.
  // Refused with ScratchRefused (needed bytes, available bytes, the path)
  // when the file system cannot hold it: checked before anything is written.
  std::string create_file(const std::string& name, std::uint64_t bytes);
  // The same check alone, e.g. before a run starts.
  void check_room(const std::string& name, std::uint64_t bytes) const;
  void remove_file(const std::string& name) noexcept;
  // Leaves `name` to another process: the destructor no longer removes it
  // (a fleet host's file outlives the command that made it; its journal
  // entry removes it at the end).
  void release(const std::string& name);

 private:
  // The area's directory, opened anew for each operation (a descriptor
  // kept open would keep a ZFS pool busy: `zpool export` between
  // repetitions), checked to be the same directory as at the start.
  class DirHandle;
  DirHandle open_dir() const;
  void check_room(int dir_fd, const std::string& name, std::uint64_t bytes) const;

  std::string dir_;
  std::uint64_t dev_ = 0, ino_ = 0;  // the directory it was constructed on
  std::vector<std::string> created_;
};

}  // namespace diobench
