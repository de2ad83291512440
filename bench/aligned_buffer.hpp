// A page-aligned I/O buffer. O_DIRECT needs the alignment; the misaligned
// requests are built from it by offsetting into the slack, so that the only
// difference between an aligned and a misaligned request is the address.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace diobench::bench {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // Returns false (errno-style code in *err) when memory is short.
  bool Allocate(std::size_t bytes, std::size_t alignment, int* err) {
    void* p = nullptr;
    const int rc = posix_memalign(&p, alignment, bytes);
    if (rc != 0) {
      *err = rc;
      return false;
    }
    // Touch every page now: a first-touch page fault must not land in the
    // first timed request.
    std::memset(p, 0xA5, bytes);
    data_.reset(static_cast<char*>(p));
    size_ = bytes;
    return true;
  }
  void Reset() {
    data_.reset();
    size_ = 0;
  }
  char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  std::size_t size_ = 0;
};

}  // namespace diobench::bench
