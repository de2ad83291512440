#include "diobench/runner/property_override.hpp"

#include <stdexcept>

#include "diobench/zfs.hpp"

namespace diobench {

PropertyOverride::PropertyOverride(Journal& journal, std::string dataset, std::string property)
    : journal_(journal), dataset_(std::move(dataset)), property_(std::move(property)) {
  const auto value = zfs_get(dataset_, property_);
  if (!value || value->empty() || *value == "-") {
    throw std::runtime_error("cannot read " + property_ + " of dataset " + dataset_);
  }
  original_ = current_ = *value;
  journal_.zfs_property_changing(dataset_, property_, original_);
}

PropertyOverride::~PropertyOverride() {
  try {
    if (current_ == original_ || zfs_set(dataset_, property_, original_)) {
      journal_.zfs_property_restored(dataset_, property_);
    }  // else: the journal keeps it outstanding for `diobench restore`
  } catch (...) {
  }
}

void PropertyOverride::set(const std::string& value) {
  if (value == current_) return;
  if (!zfs_set(dataset_, property_, value)) {
    throw std::runtime_error("zfs set " + property_ + "=" + value + " " + dataset_ + " failed");
  }
  current_ = value;
}

}  // namespace diobench
