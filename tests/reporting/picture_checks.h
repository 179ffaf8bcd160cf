// Helpers for the io tests that write pictures: a scratch directory, reading a PNG back with
// stb_image, and finding where a colour was drawn.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "examples/reporting/image.h"
#include "stb_image.h"  // Debian's libstb provides the implementation

namespace picture_checks {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed when the test ends.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("tapegrad_test_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// Reads a PNG back through stb_image, as RGB.
inline tg::Image load_png(const fs::path& path) {
  int width = 0, height = 0, channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &width, &height, &channels, 3);
  REQUIRE_MESSAGE(data != nullptr, "stbi_load failed on ", path.string(), ": ",
                  stbi_failure_reason());
  tg::Image loaded(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const unsigned char* p = data + (static_cast<size_t>(y) * width + x) * 3;
      loaded.set_pixel(x, y, tg::Color{p[0], p[1], p[2]});
    }
  }
  stbi_image_free(data);
  return loaded;
}

// Saves the image as PNG and reads it back, so that every check after this one looks at what a
// viewer would show.
inline tg::Image round_trip(const tg::Image& image, const fs::path& path) {
  image.save_png(path.string());
  tg::Image loaded = load_png(path);
  CHECK(loaded.width() == image.width());
  CHECK(loaded.height() == image.height());
  CHECK(loaded.bytes() == image.bytes());
  return loaded;
}

inline int count_color(const tg::Image& image, tg::Color color, int x0, int y0, int x1, int y1) {
  int count = 0;
  for (int y = std::max(y0, 0); y < std::min(y1, image.height()); ++y) {
    for (int x = std::max(x0, 0); x < std::min(x1, image.width()); ++x) {
      count += image.pixel(x, y) == color;
    }
  }
  return count;
}

inline int count_color(const tg::Image& image, tg::Color color) {
  return count_color(image, color, 0, 0, image.width(), image.height());
}

// The bounding box of the pixels of `color` that lie in horizontal runs of at least min_run
// pixels: the cells of a heatmap, without the thin colour bar or text of the same colour.
struct Box {
  int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;  // inclusive corners
  bool found() const { return x1 >= 0; }
};

inline Box box_of_runs(const tg::Image& image, tg::Color color, int min_run) {
  Box box;
  for (int y = 0; y < image.height(); ++y) {
    int run = 0;
    for (int x = 0; x <= image.width(); ++x) {
      if (x < image.width() && image.pixel(x, y) == color) {
        ++run;
        continue;
      }
      if (run >= min_run) {
        box.x0 = std::min(box.x0, x - run);
        box.x1 = std::max(box.x1, x - 1);
        box.y0 = std::min(box.y0, y);
        box.y1 = std::max(box.y1, y);
      }
      run = 0;
    }
  }
  return box;
}

}  // namespace picture_checks
