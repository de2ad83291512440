// The scratch area: ownership by marker file, data files written for real.
#include "diobench/scratch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <vector>

namespace diobench {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMarkerHeading = "diobench scratch area";
constexpr std::size_t kChunkBytes = 1 << 20;

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

// Writes the marker unless one appeared meanwhile (O_EXCL): a concurrent
// diobench that got there first owns the same area, which is fine.
void write_marker(const std::string& dir) {
  const std::string path = dir + "/" + kScratchMarker;
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return;
    throw_errno(errno, "scratch area: create marker " + path);
  }
  const std::string line = std::string(kMarkerHeading) + ", created " +
                           utc_now_iso8601() + " by pid " +
                           std::to_string(::getpid()) + "\n";
  const ssize_t written = ::write(fd, line.data(), line.size());
  const int write_errno = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size())) {
    ::unlink(path.c_str());
    throw_errno(written < 0 ? write_errno : EIO,
                "scratch area: write marker " + path);
  }
}

void validate_name(const std::string& name) {
  if (name.empty() || name == "." || name == kScratchMarker ||
      name.find('/') != std::string::npos ||
      name.find("..") != std::string::npos ||
      name.find('\0') != std::string::npos) {
    throw std::invalid_argument("scratch area: invalid file name '" + name +
                                "' (must be a plain name, not the marker)");
  }
}

// xorshift64*: incompressible enough that ZFS compression or zero-block
// detection cannot turn the file into holes, and cheap (a 1 GiB file costs
// the disk, not the generator).
class PatternGenerator {
 public:
  explicit PatternGenerator(std::uint64_t seed) : state_(seed | 1) {}
  void fill(std::uint64_t* words, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      state_ ^= state_ >> 12;
      state_ ^= state_ << 25;
      state_ ^= state_ >> 27;
      words[i] = state_ * 0x2545F4914F6CDD1DULL;
    }
  }

 private:
  std::uint64_t state_;
};

bool write_all(int fd, const char* data, std::size_t length) {
  while (length > 0) {
    const ssize_t n = ::write(fd, data, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    length -= static_cast<std::size_t>(n);
  }
  return true;
}

// Writes `bytes` of pattern to `path`, replacing what was there, and makes
// it durable so that a later cache drop leaves real blocks behind.
void write_data_file(const std::string& path, std::uint64_t bytes,
                     std::uint64_t seed) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno(errno, "scratch area: create " + path);
  std::vector<std::uint64_t> chunk(kChunkBytes / sizeof(std::uint64_t));
  PatternGenerator pattern(seed);
  int err = 0;
  for (std::uint64_t left = bytes; left > 0 && err == 0;) {
    const std::size_t length =
        static_cast<std::size_t>(std::min<std::uint64_t>(left, kChunkBytes));
    pattern.fill(chunk.data(), chunk.size());
    if (!write_all(fd, reinterpret_cast<const char*>(chunk.data()), length)) {
      err = errno;
    }
    left -= length;
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(path.c_str());
    throw_errno(err, "scratch area: write " + std::to_string(bytes) +
                         " bytes to " + path);
  }
}

}  // namespace

ScratchArea::ScratchArea(const std::string& dir) {
  fs::path absolute = fs::absolute(dir).lexically_normal();
  if (!absolute.has_filename() && absolute.has_relative_path()) {
    absolute = absolute.parent_path();  // "/a/b/" -> "/a/b"
  }
  dir_ = absolute.string();

  fs::create_directories(absolute);  // throws filesystem_error, path named
  if (!fs::is_directory(absolute)) {
    throw std::runtime_error("scratch area: " + dir_ + " is not a directory");
  }
  if (is_owned(dir_)) return;
  if (!fs::is_empty(absolute)) {
    throw std::runtime_error("scratch area: " + dir_ +
                             " is not empty and has no " + kScratchMarker +
                             " marker; refusing to use someone else's data");
  }
  write_marker(dir_);
}

ScratchArea::~ScratchArea() {
  for (const std::string& name : created_) {
    ::unlink((dir_ + "/" + name).c_str());
  }
}

bool ScratchArea::is_owned(const std::string& dir) {
  std::ifstream marker(dir + "/" + kScratchMarker);
  std::string line;
  return marker && std::getline(marker, line) &&
         line.compare(0, kMarkerHeading.size(), kMarkerHeading) == 0;
}

std::string ScratchArea::create_file(const std::string& name,
                                     std::uint64_t bytes) {
  validate_name(name);
  std::string path = dir_ + "/" + name;
  const bool ours =
      std::find(created_.begin(), created_.end(), name) != created_.end();
  struct stat st {};
  if (ours && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<std::uint64_t>(st.st_size) == bytes) {
    return path;
  }
  // A leftover of an earlier run in our own area is ours to replace.
  write_data_file(path, bytes, std::hash<std::string>{}(name));
  if (!ours) created_.push_back(name);
  return path;
}

void ScratchArea::remove_file(const std::string& name) noexcept {
  const auto it = std::find(created_.begin(), created_.end(), name);
  if (it == created_.end()) return;  // never delete what we did not create
  ::unlink((dir_ + "/" + name).c_str());
  created_.erase(it);
}

}  // namespace diobench
