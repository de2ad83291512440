// The scratch area: ownership by marker file, data files written for real.
#include "diobench/scratch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>
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
void write_marker(int dir_fd, const std::string& dir) {
  const std::string path = dir + "/" + kScratchMarker;
  const int fd =
      ::openat(dir_fd, kScratchMarker, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return;
    throw_errno(errno, "scratch area: create marker " + path);
  }
  const std::string line = std::string(kMarkerHeading) + ", created " + utc_now_iso8601() +
                           " by pid " + std::to_string(::getpid()) + "\n";
  const ssize_t written = ::write(fd, line.data(), line.size());
  const int write_errno = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size())) {
    ::unlinkat(dir_fd, kScratchMarker, 0);
    throw_errno(written < 0 ? write_errno : EIO, "scratch area: write marker " + path);
  }
}

// The marker's first line starts with the heading (read without following
// a link).
bool marker_present(int dir_fd) {
  const int fd = ::openat(dir_fd, kScratchMarker, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  char head[64] = {};
  const ssize_t n = ::read(fd, head, sizeof head - 1);
  ::close(fd);
  return n >= static_cast<ssize_t>(kMarkerHeading.size()) &&
         std::string_view(head, kMarkerHeading.size()) == kMarkerHeading;
}

}  // namespace

std::optional<std::string> unsafe_reason(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::string("cannot stat it: ") + std::strerror(errno);
  if (st.st_uid != ::geteuid()) {
    return "it is owned by uid " + std::to_string(st.st_uid) + ", not by uid " +
           std::to_string(::geteuid()) + " who runs diobench";
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return std::string("it is writable by group or others (mode ") + mode + ")";
  }
  return std::nullopt;
}

namespace {

void validate_name(const std::string& name) {
  if (name.empty() || name == "." || name == kScratchMarker ||
      name.find('/') != std::string::npos || name.find("..") != std::string::npos ||
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
void write_data_file(int dir_fd, const std::string& name, const std::string& path,
                     std::uint64_t bytes, std::uint64_t seed) {
  const int fd =
      ::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw_errno(errno, "scratch area: create " + path +
                           (errno == ELOOP ? " (a symbolic link is there; not followed)" : ""));
  }
  std::vector<std::uint64_t> chunk(kChunkBytes / sizeof(std::uint64_t));
  PatternGenerator pattern(seed);
  int err = 0;
  for (std::uint64_t left = bytes; left > 0 && err == 0;) {
    const std::size_t length = static_cast<std::size_t>(std::min<std::uint64_t>(left, kChunkBytes));
    pattern.fill(chunk.data(), chunk.size());
    if (!write_all(fd, reinterpret_cast<const char*>(chunk.data()), length)) {
      err = errno;
    }
    left -= length;
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlinkat(dir_fd, name.c_str(), 0);
    throw_errno(err, "scratch area: write " + std::to_string(bytes) + " bytes to " + path);
  }
}

}  // namespace

// A descriptor of the area's directory for the length of one operation.
class ScratchArea::DirHandle {
 public:
  explicit DirHandle(int fd) : fd_(fd) {}
  ~DirHandle() {
    if (fd_ >= 0) ::close(fd_);
  }
  DirHandle(const DirHandle&) = delete;
  DirHandle& operator=(const DirHandle&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

namespace {

// The area's directory, not through a link; ScratchRefused when it is not
// a directory of its own or not safe to use.
int open_area_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP || err == ENOTDIR) {
      throw ScratchRefused(
          "scratch area: " + dir +
          " is not a directory of its own (a symbolic link or a file); refusing it");
    }
    throw_errno(err, "scratch area: open " + dir);
  }
  if (const auto why = unsafe_reason(fd)) {
    ::close(fd);
    throw ScratchRefused("scratch area: refusing " + dir + ": " + *why);
  }
  return fd;
}

}  // namespace

ScratchArea::DirHandle ScratchArea::open_dir() const {
  const int fd = open_area_dir(dir_);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_dev != dev_ || st.st_ino != ino_) {
    ::close(fd);
    throw ScratchRefused("scratch area: " + dir_ + " was replaced while in use; refusing it");
  }
  return DirHandle(fd);
}

ScratchArea::ScratchArea(const std::string& dir) {
  fs::path absolute = fs::absolute(dir).lexically_normal();
  if (!absolute.has_filename() && absolute.has_relative_path()) {
    absolute = absolute.parent_path();  // "/a/b/" -> "/a/b"
  }
  dir_ = absolute.string();

  if (!absolute.parent_path().empty()) {
    fs::create_directories(absolute.parent_path());  // throws, path named
  }
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    throw_errno(errno, "scratch area: create " + dir_);
  }
  const DirHandle d(open_area_dir(dir_));
  struct stat st {};
  if (::fstat(d.fd(), &st) != 0) throw_errno(errno, "scratch area: stat " + dir_);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  if (marker_present(d.fd())) return;
  if (!fs::is_empty(absolute)) {
    throw ScratchRefused("scratch area: " + dir_ + " is not empty and has no " + kScratchMarker +
                         " marker; refusing to use someone else's data");
  }
  write_marker(d.fd(), dir_);
}

ScratchArea::~ScratchArea() {
  if (created_.empty()) return;
  try {
    const DirHandle d = open_dir();
    for (const std::string& name : created_) ::unlinkat(d.fd(), name.c_str(), 0);
  } catch (const std::exception&) {
    // The directory is gone or no longer ours: nothing of ours to remove.
  }
}

void ScratchArea::release(const std::string& name) {
  created_.erase(std::remove(created_.begin(), created_.end(), name), created_.end());
}

bool ScratchArea::is_owned(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  const bool owned = !unsafe_reason(fd) && marker_present(fd);
  ::close(fd);
  return owned;
}

std::string ScratchArea::create_file(const std::string& name, std::uint64_t bytes) {
  validate_name(name);
  std::string path = dir_ + "/" + name;
  const bool ours = std::find(created_.begin(), created_.end(), name) != created_.end();
  const DirHandle d = open_dir();
  struct stat st {};
  if (ours && ::fstatat(d.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) == bytes) {
    return path;
  }
  check_room(d.fd(), name, bytes);
  // A leftover of an earlier run in our own area is ours to replace.
  write_data_file(d.fd(), name, path, bytes, std::hash<std::string>{}(name));
  if (!ours) created_.push_back(name);
  return path;
}

void ScratchArea::check_room(const std::string& name, std::uint64_t bytes) const {
  validate_name(name);
  const DirHandle d = open_dir();
  check_room(d.fd(), name, bytes);
}

void ScratchArea::check_room(int dir_fd, const std::string& name, std::uint64_t bytes) const {
  struct statvfs fs_stat {};
  if (::fstatvfs(dir_fd, &fs_stat) != 0) throw_errno(errno, "scratch area: statvfs " + dir_);
  // What an unprivileged writer may still use, plus the blocks of a file
  // of that name the new one replaces.
  std::uint64_t available = static_cast<std::uint64_t>(fs_stat.f_bavail) * fs_stat.f_frsize;
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
    available += static_cast<std::uint64_t>(st.st_blocks) * 512;
  }
  if (bytes <= available) return;
  auto mib = [](std::uint64_t b) { return std::to_string(b >> 20) + " MiB"; };
  throw ScratchRefused("scratch area: not enough free space for " + dir_ + "/" + name +
                       ": needed " + std::to_string(bytes) + " bytes (" + mib(bytes) +
                       "), available " + std::to_string(available) + " bytes (" + mib(available) +
                       ") on the file system of " + dir_ +
                       "; free some space, or choose another --dir or a smaller size");
}

void ScratchArea::remove_file(const std::string& name) noexcept {
  const auto it = std::find(created_.begin(), created_.end(), name);
  if (it == created_.end()) return;  // never delete what we did not create
  try {
    const DirHandle d = open_dir();
    ::unlinkat(d.fd(), name.c_str(), 0);
  } catch (const std::exception&) {
    // Not ours any more: leave it.
  }
  created_.erase(it);
}

}  // namespace diobench
