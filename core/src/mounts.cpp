#include "diobench/mounts.hpp"

#include <libmount.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

namespace diobench {

namespace {

std::string text_of(const char* s) { return s ? s : ""; }

MountEntry entry_of(libmnt_fs* fs) {
  MountEntry e;
  const dev_t dev = mnt_fs_get_devno(fs);
  e.major = major(dev);
  e.minor = minor(dev);
  e.root = text_of(mnt_fs_get_root(fs));
  e.mount_point = text_of(mnt_fs_get_target(fs));
  e.fs_type = text_of(mnt_fs_get_fstype(fs));
  e.source = text_of(mnt_fs_get_source(fs));
  e.options = text_of(mnt_fs_get_options(fs));
  return e;
}

}  // namespace

std::vector<MountEntry> parse_mount_table(std::string_view text) {
  std::vector<MountEntry> out;
  if (text.empty()) return out;
  std::string copy(text);  // fmemopen reads from writable memory
  const std::unique_ptr<FILE, int (*)(FILE*)> f(fmemopen(copy.data(), copy.size(), "r"), fclose);
  const std::unique_ptr<libmnt_table, void (*)(libmnt_table*)> table(mnt_new_table(),
                                                                     mnt_unref_table);
  if (!f || !table) return out;
  // Lines that do not parse are skipped (libmount's default without an
  // error callback); only a failure to read at all is an error.
  if (mnt_table_parse_stream(table.get(), f.get(), "mount table") < 0) return out;
  const std::unique_ptr<libmnt_iter, void (*)(libmnt_iter*)> it(mnt_new_iter(MNT_ITER_FORWARD),
                                                                mnt_free_iter);
  libmnt_fs* fs = nullptr;
  while (it && mnt_table_next_fs(table.get(), it.get(), &fs) == 0) out.push_back(entry_of(fs));
  return out;
}

std::vector<MountEntry> read_mount_table(const std::string& file) {
  std::ifstream in(file);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_mount_table(text.str());
}

}  // namespace diobench
