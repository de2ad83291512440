// Loop devices through /dev/loop-control and LOOP_CONFIGURE (Linux 5.8+).
// The device is left without LO_FLAGS_AUTOCLEAR: the suite decides when it
// goes away, and a crash leaves it visible for `diobench restore`.
#include "diobench/loop_device.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <thread>
#include <utility>

#include "diobench/kernel.hpp"

namespace diobench {
namespace {

// Another process may take the device GET_FREE handed us before our
// LOOP_CONFIGURE; each retry asks for a fresh one.
constexpr int kAttachAttempts = 16;
// The kernel may hold a just-attached or just-detached device busy for a
// moment (udev's blkid opening it, a concurrent LOOP_CTL_REMOVE).
constexpr auto kSettleTimeout = std::chrono::seconds(2);
constexpr auto kPollInterval = std::chrono::milliseconds(10);

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// Closes the descriptor unless release()d into a longer-lived owner.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Reads a sysfs attribute of loop device `number` into `buffer` with the
// trailing newline removed. Fixed buffers keep this usable from the
// noexcept detach path. Returns false if the attribute does not exist, which
// for loop/* means the device is not bound.
bool read_loop_attribute(int number, const char* attribute, char* buffer, std::size_t capacity) {
  char path[128];
  std::snprintf(path, sizeof path, "/sys/block/loop%d/%s", number, attribute);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::size_t length = 0;
  while (length + 1 < capacity) {
    const ssize_t n = ::read(fd, buffer + length, capacity - 1 - length);
    if (n > 0) {
      length += static_cast<std::size_t>(n);
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fd);
  if (length > 0 && buffer[length - 1] == '\n') --length;
  buffer[length] = '\0';
  return true;
}

bool direct_io_enabled(int number) {
  char dio[8];
  return read_loop_attribute(number, "loop/dio", dio, sizeof dio) && std::strcmp(dio, "1") == 0;
}

bool valid_logical_block_size(std::uint32_t size) {
  return size >= 512 && size <= 4096 && (size & (size - 1)) == 0;
}

}  // namespace

LoopDevice::LoopDevice(const std::string& backing_file, const LoopOptions& options)
    : backing_file_(backing_file) {
  const std::string context = "loop device for " + backing_file + ": ";
  if (!valid_logical_block_size(options.logical_block_size)) {
    throw_errno(EINVAL, context + "logical block size " +
                            std::to_string(options.logical_block_size) +
                            " is not a power of two in 512..4096");
  }
  // The backing file is opened without O_DIRECT even for direct I/O: the
  // loop driver switches its own file to direct mode when it can.
  FileDescriptor backing(
      ::open(backing_file.c_str(), (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC));
  if (!backing.valid()) throw_errno(errno, context + "open " + backing_file);
  FileDescriptor control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!control.valid()) throw_errno(errno, context + "open /dev/loop-control");

  loop_config config{};
  config.fd = static_cast<std::uint32_t>(backing.get());
  config.block_size = options.logical_block_size;
  config.info.lo_flags =
      (options.direct_io ? LO_FLAGS_DIRECT_IO : 0) | (options.read_only ? LO_FLAGS_READ_ONLY : 0);
  // What LOOP_GET_STATUS64 reports; losetup falls back to it without sysfs.
  std::strncpy(reinterpret_cast<char*>(config.info.lo_file_name), backing_file.c_str(),
               LO_NAME_SIZE - 1);

  for (int attempt = 1;; ++attempt) {
    const int number = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (number < 0) throw_errno(errno, context + "LOOP_CTL_GET_FREE");
    const std::string device = "/dev/loop" + std::to_string(number);
    FileDescriptor loop(::open(device.c_str(), O_RDWR | O_CLOEXEC));
    if (loop.valid() && ::ioctl(loop.get(), LOOP_CONFIGURE, &config) == 0) {
      path_ = device;
      number_ = number;
      fd_ = loop.release();
      break;
    }
    const int err = errno;  // from open or from LOOP_CONFIGURE
    // EBUSY: someone bound the device first. ENOENT/ENXIO: the node is
    // still being created, or another process removed the device.
    const bool transient = err == EBUSY || err == ENOENT || err == ENXIO;
    if (transient && attempt < kAttachAttempts) {
      if (err != EBUSY) std::this_thread::sleep_for(kPollInterval);
      continue;
    }
    if (!loop.valid()) throw_errno(err, context + "open " + device);
    // Not seen in practice (see below), but should a kernel say it here,
    // name the likely cause.
    if (err == EINVAL && options.direct_io) {
      throw_errno(err, context + "LOOP_CONFIGURE " + device +
                           " refused direct I/O (does the backing filesystem "
                           "support O_DIRECT at block size " +
                           std::to_string(options.logical_block_size) + "?)");
    }
    throw_errno(err, context + "LOOP_CONFIGURE " + device);
  }

  // LOOP_CONFIGURE accepts LO_FLAGS_DIRECT_IO and quietly stays buffered
  // when the loop driver cannot use O_DIRECT on the file (observed on 6.18
  // with ramfs, and with a 512-byte loop block size over a file whose dio
  // offset alignment is 4096); only the separate LOOP_SET_DIRECT_IO
  // reports EINVAL. A loop_dio=on cell must never run buffered unnoticed.
  if (options.direct_io && !direct_io_enabled(number_)) {
    const int set_err = ::ioctl(fd_, LOOP_SET_DIRECT_IO, 1UL) == 0 ? 0 : errno;
    if (set_err != 0 || !direct_io_enabled(number_)) {
      const std::string reason =
          loop_dio_refusal_text(path_, backing_file, options.logical_block_size,
                                dio_align(backing_file), set_err, kernel_release());
      detach();
      throw LoopDioRefused(reason + "; detached it");
    }
  }
}

bool is_loop_dio_refusal(const std::string& message) {
  return message.find(kLoopDioRefused) != std::string::npos;
}

std::string loop_dio_refusal_text(const std::string& device, const std::string& backing_file,
                                  std::uint32_t logical_block_size, const DioAlign& align,
                                  int set_direct_io_errno, const std::string& kernel) {
  std::string cause;
  if (align.reported && align.offset == 0) {
    cause = "the file takes no O_DIRECT";
  } else if (align.reported && align.offset > logical_block_size) {
    cause =
        "the loop block size is below the file's dio offset alignment (newer loop "
        "drivers take the file's minimum dio alignment into account)";
  } else if (!align.reported) {
    cause =
        "the file reports no dio alignment: no O_DIRECT there (OpenZFS 2.3.2 and later "
        "under direct=disabled, zfs_get_direct_alignment; ramfs)";
  } else {
    cause = "the loop block size is not below the file's dio alignment: see the kernel log";
  }
  return std::string(kLoopDioRefused) + ": " + device + " over " + backing_file +
         ", loop block size " + std::to_string(logical_block_size) +
         ", the file's dio alignment (statx STATX_DIOALIGN) " + align.text() + ", kernel " +
         kernel + ", LOOP_SET_DIRECT_IO " +
         (set_direct_io_errno ? std::string(std::strerror(set_direct_io_errno))
                              : std::string("returned 0 but loop/dio stayed 0")) +
         ": " + cause;
}

LoopDevice::~LoopDevice() { detach(); }

LoopDevice::LoopDevice(LoopDevice&& other) noexcept
    : path_(std::move(other.path_)),
      backing_file_(std::move(other.backing_file_)),
      number_(std::exchange(other.number_, -1)),
      fd_(std::exchange(other.fd_, -1)) {
  other.path_.clear();
  other.backing_file_.clear();
}

LoopDevice& LoopDevice::operator=(LoopDevice&& other) noexcept {
  if (this != &other) {
    detach();
    path_ = std::move(other.path_);
    backing_file_ = std::move(other.backing_file_);
    number_ = std::exchange(other.number_, -1);
    fd_ = std::exchange(other.fd_, -1);
    other.path_.clear();
    other.backing_file_.clear();
  }
  return *this;
}

bool LoopDevice::detach() noexcept {
  if (fd_ < 0) return true;
  // What the device is bound to now, while it is certainly ours; once we let
  // go another process may bind the same number to its own file.
  char ours[4096];
  const bool bound = read_loop_attribute(number_, "loop/backing_file", ours, sizeof ours);

  const auto deadline = std::chrono::steady_clock::now() + kSettleTimeout;
  bool cleared = false;
  for (;;) {
    if (::ioctl(fd_, LOOP_CLR_FD, 0) == 0 || errno == ENXIO) {
      cleared = true;  // ENXIO: already unbound
      break;
    }
    const bool retry = errno == EBUSY || errno == EINTR || errno == EAGAIN;
    if (!retry || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  ::close(fd_);
  fd_ = -1;
  if (!cleared) return false;
  if (!bound) return true;

  // LOOP_CLR_FD only marks the device when someone else also holds it open
  // (6.18 defers even our own case to the close): the unbinding happens at
  // the last close, ours just now or later if blkid or a leftover fio still
  // has it. Wait for that, so that the caller may reuse the backing file or
  // unmount its filesystem right away.
  char now[sizeof ours];
  for (;;) {
    if (!read_loop_attribute(number_, "loop/backing_file", now, sizeof now) ||
        std::strcmp(now, ours) != 0) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

void LoopDevice::leave_attached() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::vector<BoundLoop> bound_loop_devices() {
  std::vector<BoundLoop> found;
  DIR* dir = ::opendir("/sys/block");
  if (!dir) return found;
  while (const dirent* e = ::readdir(dir)) {
    int number = -1;
    char tail = 0;
    if (std::sscanf(e->d_name, "loop%d%c", &number, &tail) != 1 || number < 0) continue;
    char backing[4096];
    if (read_loop_attribute(number, "loop/backing_file", backing, sizeof backing)) {
      found.push_back({"/dev/loop" + std::to_string(number), backing});
    }
  }
  ::closedir(dir);
  return found;
}

bool loop_bound_to(const std::string& device, const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return false;
  const int fd = ::open(device.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  loop_info64 info{};
  const bool got = ::ioctl(fd, LOOP_GET_STATUS64, &info) == 0;
  ::close(fd);
  if (!got) return false;
  // The kernel's 32-bit device encoding (new_encode_dev) of the file's device.
  const std::uint64_t dev = info.lo_device;
  const unsigned dev_major = (dev & 0xfff00) >> 8;
  const unsigned dev_minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  return info.lo_inode == st.st_ino && dev_major == major(st.st_dev) &&
         dev_minor == minor(st.st_dev);
}

}  // namespace diobench
