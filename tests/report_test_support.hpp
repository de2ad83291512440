// What the report tests share: reading a file, running a command, and
// looking inside a PNG.
#pragma once

#include <png.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "test_files.hpp"

namespace diobench::test {

struct Exit {
  int status = -1;
  std::string output;  // stdout and stderr together
};

inline Exit shell(const std::string& cmd) {
  Exit e;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen((cmd + " 2>&1").c_str(), "r"), pclose);
  char buf[4096];
  while (fgets(buf, sizeof buf, p.get())) e.output += buf;
  const int status = pclose(p.release());
  e.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return e;
}

// Distinct colours in a PNG (libpng decodes it; a broken file throws).
inline std::size_t png_colours(const std::filesystem::path& file, int* width, int* height) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, file.c_str())) {
    throw std::runtime_error(file.string() + ": not a decodable PNG: " + image.message);
  }
  image.format = PNG_FORMAT_RGB;
  std::string pixels(PNG_IMAGE_SIZE(image), '\0');
  if (!png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr)) {
    throw std::runtime_error(file.string() + ": " + image.message);
  }
  *width = static_cast<int>(image.width);
  *height = static_cast<int>(image.height);
  std::set<unsigned> colours;
  for (std::size_t i = 0; i + 2 < pixels.size(); i += 3) {
    colours.insert((unsigned char)pixels[i] << 16 | (unsigned char)pixels[i + 1] << 8 |
                   (unsigned char)pixels[i + 2]);
  }
  return colours.size();
}

inline std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) ++n;
  return n;
}

}  // namespace diobench::test
