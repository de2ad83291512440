// The order in which a driver visits the blocks of its target.
//
// Random reads use a shuffled permutation rather than independent draws:
// within one pass no block is read twice, so a cold page-cache run stays
// cold until the pass wraps (and the fixture drops the cache again then).
// Targets too large for a permutation (a whole block device) get uniform
// draws instead; only O_DIRECT readers use those, so repeats do not matter.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

namespace diobench::bench {

class BlockOrder {
 public:
  enum class Kind { Sequential, Shuffled };

  BlockOrder() = default;
  BlockOrder(std::uint64_t target_bytes, std::uint64_t block_bytes, Kind kind, std::uint64_t seed)
      : block_bytes_(block_bytes), blocks_(target_bytes / block_bytes), kind_(kind), random_(seed) {
    if (kind_ == Kind::Shuffled && blocks_ <= kMaxPermutation) {
      permutation_.resize(blocks_);
      std::iota(permutation_.begin(), permutation_.end(), 0u);
      std::shuffle(permutation_.begin(), permutation_.end(), random_);
    }
  }

  std::uint64_t blocks() const { return blocks_; }

  // The byte offset of the next block. *wrapped is set when this call
  // started a new pass (every block of the previous pass has been visited).
  std::uint64_t Next(bool* wrapped) {
    *wrapped = false;
    if (next_ == blocks_) {
      next_ = 0;
      *wrapped = true;
    }
    const std::uint64_t i = next_++;
    std::uint64_t block = i;
    if (kind_ == Kind::Shuffled) {
      block = permutation_.empty()
                  ? std::uniform_int_distribution<std::uint64_t>(0, blocks_ - 1)(random_)
                  : permutation_[i];
    }
    return block * block_bytes_;
  }

 private:
  // 64 Mi blocks (256 MiB of indices) is the most worth keeping: a 256 GiB
  // target at 4k.
  static constexpr std::uint64_t kMaxPermutation = std::uint64_t{1} << 26;

  std::uint64_t block_bytes_ = 1;
  std::uint64_t blocks_ = 0;
  std::uint64_t next_ = 0;
  Kind kind_ = Kind::Sequential;
  std::mt19937_64 random_;
  std::vector<std::uint32_t> permutation_;
};

}  // namespace diobench::bench
