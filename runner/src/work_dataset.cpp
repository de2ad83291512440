#include "diobench/runner/work_dataset.hpp"

#include <cstdio>
#include <random>
#include <stdexcept>

#include "diobench/zfs.hpp"

namespace diobench {

namespace {

// The token is the name's last part: one name, one token, on resume too.
std::string token_of(const std::string& name) { return name.substr(name.rfind('/') + 1); }

}  // namespace

std::string new_work_dataset_name(const std::string& parent) {
  std::random_device random;
  const unsigned long long value = (static_cast<unsigned long long>(random()) << 32) | random();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", value);
  return parent + "/diobench-" + hex;
}

bool is_work_dataset_name(const std::string& name, const std::string& parent) {
  const std::string prefix = parent + "/diobench-";
  if (parent.empty() || name.size() != prefix.size() + 16 ||
      name.compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  return name.find_first_not_of("0123456789abcdef", prefix.size()) == std::string::npos;
}

std::string zfs_scratch_dir(const std::string& mountpoint) { return mountpoint + "/diobench"; }

WorkDataset::WorkDataset(Journal& journal, std::string name)
    : journal_(journal), name_(std::move(name)), token_(token_of(name_)) {
  if (const auto tag = zfs_get(name_, kRunTokenProperty)) {
    if (*tag != token_) {
      throw std::invalid_argument("dataset " + name_ + " exists and was not made by this run (" +
                                  kRunTokenProperty + " is '" + *tag + "'): left alone");
    }
  } else {
    journal_.zfs_dataset_creating(name_, token_);
    if (!zfs_create(name_, {{kRunTokenProperty, token_}})) {
      throw std::runtime_error("cannot create dataset " + name_ +
                               " to work in (zfs create failed)");
    }
  }
  const auto mountpoint = zfs_mountpoint(name_);
  if (!mountpoint) {
    throw std::runtime_error("dataset " + name_ + " is not mounted after zfs create");
  }
  mountpoint_ = *mountpoint;
}

WorkDataset::~WorkDataset() {
  try {
    if (!kept_ && zfs_destroy(name_)) journal_.zfs_dataset_destroyed(name_);
    // else: the journal keeps it outstanding for `diobench restore`
  } catch (...) {
  }
}

}  // namespace diobench
