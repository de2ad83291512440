// Durable writes: temporary file, write, fsync, rename, fsync the directory,
// all relative to the directory's descriptor and never through a link.
#include "diobench/durable_file.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <system_error>

namespace diobench {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// A descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, returning close's errno (0 when fine): a late write
  // error of some file systems shows only here.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// `path` split into its directory (opened, the last component not
// followed) and its file name.
struct Place {
  std::string dir, name;
};

Place place_of(const std::string& path) {
  const fs::path p(path);
  Place place{p.parent_path().string(), p.filename().string()};
  if (place.dir.empty()) place.dir = ".";
  if (place.name.empty() || place.name == "." || place.name == "..") {
    throw std::system_error(EISDIR, std::generic_category(), "not a file name: " + path);
  }
  return place;
}

int open_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw_errno(errno, "open directory " + dir);
  return fd;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// ".NAME.XXXXXXXXXXXXXXXX.tmp", created exclusively: the random part makes
// the name unpredictable, O_EXCL | O_NOFOLLOW make a planted one harmless.
int create_temporary(int dir_fd, const Place& place, mode_t mode, std::string& temp_name) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::uint64_t random = 0;
    if (::getrandom(&random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) {
      throw_errno(errno, "getrandom for a temporary name beside " + place.dir + "/" + place.name);
    }
    char suffix[24];
    std::snprintf(suffix, sizeof suffix, ".%016llx.tmp", static_cast<unsigned long long>(random));
    temp_name = "." + place.name + suffix;
    const int fd = ::openat(dir_fd, temp_name.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd >= 0) return fd;
    if (errno != EEXIST)
      throw_errno(errno, "create a temporary file beside " + place.dir + "/" + place.name);
  }
  throw_errno(EEXIST, "create a temporary file beside " + place.dir + "/" + place.name);
}

}  // namespace

void write_file_durably(const std::string& path, std::string_view content, mode_t mode) {
  const Place place = place_of(path);
  const Fd dir(open_directory(place.dir));
  std::string temp;
  Fd file(create_temporary(dir.get(), place, mode, temp));
  int err = 0;
  if (!write_all(file.get(), content)) err = errno;
  if (err == 0 && ::fsync(file.get()) != 0) err = errno;
  const int close_err = file.close();
  if (err == 0) err = close_err;
  if (err == 0 && ::renameat(dir.get(), temp.c_str(), dir.get(), place.name.c_str()) != 0)
    err = errno;
  if (err != 0) {
    ::unlinkat(dir.get(), temp.c_str(), 0);
    throw_errno(err, "write " + path);
  }
  if (::fsync(dir.get()) != 0) throw_errno(errno, "fsync directory " + place.dir);
}

void publish_file_durably(const std::string& from, const std::string& to) {
  const Place source = place_of(from);
  const Place target = place_of(to);
  const Fd dir(open_directory(source.dir));
  if (fs::path(source.dir).lexically_normal() != fs::path(target.dir).lexically_normal()) {
    throw std::system_error(EXDEV, std::generic_category(),
                            "publish " + from + " as " + to + ": not the same directory");
  }
  {
    const Fd file(
        ::openat(dir.get(), source.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (file.get() < 0) throw_errno(errno, "open " + from);
    struct stat st {};
    if (::fstat(file.get(), &st) != 0) throw_errno(errno, "stat " + from);
    if (!S_ISREG(st.st_mode)) throw_errno(EINVAL, from + " is not a regular file");
    if (::fsync(file.get()) != 0) throw_errno(errno, "fsync " + from);
  }
  if (::renameat(dir.get(), source.name.c_str(), dir.get(), target.name.c_str()) != 0) {
    throw_errno(errno, "rename " + from + " to " + to);
  }
  if (::fsync(dir.get()) != 0) throw_errno(errno, "fsync directory " + source.dir);
}

void append_durably(const std::string& path, std::string_view text, mode_t mode) {
  const Place place = place_of(path);
  const Fd dir(open_directory(place.dir));
  bool created = true;
  int fd =
      ::openat(dir.get(), place.name.c_str(),
               O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::openat(dir.get(), place.name.c_str(),
                  O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  }
  if (fd < 0) {
    throw_errno(errno, "open " + path + (errno == ELOOP ? " (a symbolic link; not followed)" : ""));
  }
  Fd file(fd);
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) throw_errno(errno, "stat " + path);
  if (!S_ISREG(st.st_mode)) throw_errno(EINVAL, path + " is not a regular file");
  int err = 0;
  if (!write_all(file.get(), text)) err = errno;
  if (err == 0 && ::fsync(file.get()) != 0) err = errno;
  const int close_err = file.close();
  if (err == 0) err = close_err;
  if (err != 0) throw_errno(err, "append to " + path);
  if (created && ::fsync(dir.get()) != 0) throw_errno(errno, "fsync directory " + place.dir);
}

void sync_directory(const std::string& dir) {
  const Fd d(open_directory(dir));
  if (::fsync(d.get()) != 0) throw_errno(errno, "fsync directory " + dir);
}

}  // namespace diobench
