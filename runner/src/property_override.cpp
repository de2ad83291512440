#include "diobench/runner/property_override.hpp"

#include <stdexcept>

#include "diobench/zfs.hpp"

namespace diobench {

PropertyOverride::PropertyOverride(Journal& journal, std::string dataset, std::string property)
    : journal_(journal), dataset_(std::move(dataset)), property_(std::move(property)) {
  const auto value = zfs_get_with_source(dataset_, property_);
  if (!value || value->value.empty() || value->value == "-") {
    throw std::runtime_error("cannot read " + property_ + " of dataset " + dataset_);
  }
  original_ = current_ = value->value;
  original_local_ = value->local;
  journal_.zfs_property_changing(dataset_, property_, original_, !original_local_);
}

PropertyOverride::~PropertyOverride() {
  try {
    const bool back = !changed_ || (original_local_ ? zfs_set(dataset_, property_, original_)
                                                    : zfs_inherit(dataset_, property_));
    if (back) {
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
  changed_ = true;
}

}  // namespace diobench
