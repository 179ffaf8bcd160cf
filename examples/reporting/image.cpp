#include "examples/reporting/image.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "examples/reporting/font.h"
#include "framework/error.h"
#include "stb_image_write.h"  // the implementation comes from Debian's libstb, linked privately

namespace tg {

Color mix(Color a, Color b, float t) {
  t = std::clamp(t, 0.0f, 1.0f);
  auto channel = [t](uint8_t from, uint8_t to) {
    return static_cast<uint8_t>(std::lround((1.0f - t) * from + t * to));
  };
  return {channel(a.r, b.r), channel(a.g, b.g), channel(a.b, b.b)};
}

Image::Image(int width, int height, Color background) : width_(width), height_(height) {
  constexpr int largest_side = 16384;
  check(width > 0 && height > 0 && width <= largest_side && height <= largest_side,
        "Image: width and height must be in [1, ", largest_side, "], got ", width, " x ", height);
  pixels_.resize(static_cast<size_t>(width) * height * 3);
  fill(background);
}

Color Image::pixel(int x, int y) const {
  check(contains(x, y), "Image::pixel: (", x, ", ", y, ") is outside the ", width_, " x ", height_,
        " canvas");
  const uint8_t* p = &pixels_[(static_cast<size_t>(y) * width_ + x) * 3];
  return {p[0], p[1], p[2]};
}

void Image::set_pixel(int x, int y, Color color) {
  if (!contains(x, y)) return;
  uint8_t* p = &pixels_[(static_cast<size_t>(y) * width_ + x) * 3];
  p[0] = color.r;
  p[1] = color.g;
  p[2] = color.b;
}

void Image::fill(Color color) { fill_rect(0, 0, width_, height_, color); }

void Image::fill_rect(int x, int y, int w, int h, Color color) {
  // Clip once, then write rows: decision-region plots fill the whole canvas block by block.
  const int x_begin = std::max(x, 0), x_end = std::min(x + w, width_);
  const int y_begin = std::max(y, 0), y_end = std::min(y + h, height_);
  for (int row = y_begin; row < y_end; ++row) {
    for (int column = x_begin; column < x_end; ++column) set_pixel(column, row, color);
  }
}

void Image::draw_rect(int x, int y, int w, int h, Color color) {
  if (w <= 0 || h <= 0) return;
  fill_rect(x, y, w, 1, color);
  fill_rect(x, y + h - 1, w, 1, color);
  fill_rect(x, y, 1, h, color);
  fill_rect(x + w - 1, y, 1, h, color);
}

void Image::draw_line(int x0, int y0, int x1, int y1, Color color, int thickness) {
  // Bresenham: step along the longer axis; the error term tracks the distance to the true line
  // in units of 1/(2 dx dy), so only integer adds are needed.
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  const int step_x = x0 < x1 ? 1 : -1, step_y = y0 < y1 ? 1 : -1;
  const int half = (std::max(thickness, 1) - 1) / 2;
  int error = dx + dy;
  while (true) {
    if (thickness <= 1) {
      set_pixel(x0, y0, color);
    } else {
      fill_rect(x0 - half, y0 - half, thickness, thickness, color);
    }
    if (x0 == x1 && y0 == y1) break;
    const int twice = 2 * error;
    if (twice >= dy) {
      error += dy;
      x0 += step_x;
    }
    if (twice <= dx) {
      error += dx;
      y0 += step_y;
    }
  }
}

void Image::draw_circle(int cx, int cy, int radius, Color color) {
  if (radius < 0) return;
  // dx^2 + dy^2 <= (r + 1/2)^2, scaled by 4 to stay in integers. Measuring to r + 1/2 rather
  // than r keeps the rim from ending in one-pixel bumps at the four extremes: radius 0 is one
  // pixel, radius 1 a 3 x 3 block, and larger discs look round.
  const int limit = (2 * radius + 1) * (2 * radius + 1);
  for (int dy = -radius; dy <= radius; ++dy) {
    for (int dx = -radius; dx <= radius; ++dx) {
      if (4 * (dx * dx + dy * dy) <= limit) set_pixel(cx + dx, cy + dy, color);
    }
  }
}

void Image::draw_text(int x, int y, std::string_view text, Color color, int scale) {
  scale = std::max(scale, 1);
  int pen_x = x, pen_y = y;
  for (char c : text) {
    if (c == '\n') {
      pen_x = x;
      pen_y += font::line_advance * scale;
      continue;
    }
    for (int row = 0; row < font::glyph_height; ++row) {
      for (int column = 0; column < font::glyph_width; ++column) {
        if (font::dot(c, column, row)) {
          fill_rect(pen_x + column * scale, pen_y + row * scale, scale, scale, color);
        }
      }
    }
    pen_x += font::advance * scale;
  }
}

void Image::draw_text_centered(int x, int y, std::string_view text, Color color, int scale) {
  draw_text(x - font::text_width(text, scale) / 2, y - font::text_height(text, scale) / 2, text,
            color, scale);
}

void Image::save_png(const std::string& path) const {
  errno = 0;
  const int written = stbi_write_png(path.c_str(), width_, height_, /*comp=*/3, pixels_.data(),
                                     /*stride_in_bytes=*/width_ * 3);
  if (written == 0) {
    // stb reports only success or failure; errno from fopen usually says why.
    const char* reason = errno != 0 ? std::strerror(errno) : "stbi_write_png failed";
    fail("Image::save_png: cannot write '", path, "': ", reason,
         " (does the directory exist and is it writable?)");
  }
}

}  // namespace tg
