#include "common.hpp"

#include <system_error>

namespace diobench::cli {

std::string self_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

// The engine sits beside the binary in the build tree (engines/); the
// path compiled in is the fallback when the binary was copied elsewhere.
std::string engine_path() {
  for (const fs::path& candidate : {fs::path(self_dir()) / "engines" / "diobench-engine.so",
                                    fs::path(DIOBENCH_ENGINE_BUILD_PATH)}) {
    if (fs::exists(candidate)) return fs::canonical(candidate).string();
  }
  throw std::runtime_error(
      "the fio engine (diobench-engine.so) was not found beside this binary; "
      "rebuild with scripts/build");
}

po::variables_map parse(const std::string& command, const po::options_description& desc,
                        const std::vector<std::string>& args, const char* positional, int count) {
  po::positional_options_description pos;
  if (positional) pos.add(positional, count);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (see: diobench " + command + " --help)");
  }
  return vm;
}

}  // namespace diobench::cli
