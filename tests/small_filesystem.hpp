// A small ext4 file system for tests that need one to run out of space:
// an image in a fresh directory /var/tmp/diobench-smallfs-XXXXXX (mkdtemp),
// on a loop device (buffered, no direct I/O), mounted at DIR/mnt. The
// destructor unmounts it, detaches the device and removes the directory,
// whatever the test's outcome. Needs root.
#pragma once

#include <spawn.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "diobench/loop_device.hpp"

extern char** environ;

namespace diobench {

class SmallFileSystem {
 public:
  // `sector`: the loop device's logical block size (4096: a 4k-sector
  // device, whose files ext4 then gives a 4096-byte dio alignment).
  explicit SmallFileSystem(std::uint64_t mib = 64, std::uint32_t sector = 512) {
    char tmpl[] = "/var/tmp/diobench-smallfs-XXXXXX";
    if (!::mkdtemp(tmpl))
      throw std::runtime_error("mkdtemp /var/tmp/diobench-smallfs-XXXXXX failed");
    dir_ = tmpl;
    try {
      const std::string image = dir_ + "/fs.img";
      std::filesystem::resize_file(make_file(image), mib << 20);
      if (sector > 1024) {  // ext4 blocks may not be smaller than the device's sectors
        run({"mkfs.ext4", "-q", "-F", "-b", std::to_string(sector), image});
      } else {
        run({"mkfs.ext4", "-q", "-F", image});
      }
      loop_.emplace(image, LoopOptions{false, sector, false});
      mount_point_ = dir_ + "/mnt";
      std::filesystem::create_directory(mount_point_);
      if (::mount(loop_->path().c_str(), mount_point_.c_str(), "ext4", 0, nullptr) != 0) {
        throw std::runtime_error("mount " + loop_->path() + " on " + mount_point_ + " failed");
      }
      mounted_ = true;
    } catch (...) {
      tear_down();
      throw;
    }
  }
  ~SmallFileSystem() { tear_down(); }
  SmallFileSystem(const SmallFileSystem&) = delete;
  SmallFileSystem& operator=(const SmallFileSystem&) = delete;

  const std::string& mount_point() const { return mount_point_; }
  const std::string& device() const { return loop_->path(); }

 private:
  static const std::string& make_file(const std::string& path) {
    if (FILE* f = std::fopen(path.c_str(), "wx")) {
      std::fclose(f);
      return path;
    }
    throw std::runtime_error("cannot create " + path);
  }
  static void run(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    int status = 0;
    if (::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0 ||
        ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      throw std::runtime_error(args[0] + " failed");
    }
  }
  void tear_down() noexcept {
    if (mounted_) {
      // A process of the test may still be closing a file on it: retry,
      // then detach it lazily rather than leave it mounted.
      for (int i = 0; i < 50 && ::umount2(mount_point_.c_str(), 0) != 0; ++i) ::usleep(100000);
      ::umount2(mount_point_.c_str(), MNT_DETACH);
      mounted_ = false;
    }
    loop_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_, mount_point_;
  std::optional<LoopDevice> loop_;
  bool mounted_ = false;
};

}  // namespace diobench
