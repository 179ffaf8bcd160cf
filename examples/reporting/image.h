// Image: an RGB canvas for the pictures that examples write (decision regions, heatmaps, plots).
//
// Pixels are 8-bit RGB, row-major, (0, 0) at the top-left, x to the right and y down, the way
// PNG stores them. Every drawing call clips to the canvas: a shape that runs off the edge is
// cut, never an error, so plotting code need not guard each point. Only a bad canvas size and
// a failed save throw. save_png writes through stb_image_write.
//
//   tg::Image image(480, 480);
//   image.fill_rect(40, 40, 400, 400, tg::Color{240, 240, 240});
//   image.draw_circle(100, 120, 3, tg::categorical_color(0));
//   image.draw_text(40, 10, "spiral: 3 classes", tg::colors::black, 2);
//   image.save_png("out/spiral.png");
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tg {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Color&, const Color&) = default;
};

namespace colors {
inline constexpr Color white{255, 255, 255};
inline constexpr Color black{0, 0, 0};
inline constexpr Color gray{128, 128, 128};
inline constexpr Color light_gray{220, 220, 220};
}  // namespace colors

// (1 - t) a + t b per channel, t clamped to [0, 1].
Color mix(Color a, Color b, float t);

class Image {
 public:
  // Throws tg::Error unless 0 < width, height <= 16384.
  Image(int width, int height, Color background = colors::white);

  int width() const { return width_; }
  int height() const { return height_; }
  bool contains(int x, int y) const { return x >= 0 && y >= 0 && x < width_ && y < height_; }
  // Throws tg::Error naming the point when (x, y) is off the canvas.
  Color pixel(int x, int y) const;
  // Row-major RGB bytes, width * height * 3.
  const std::vector<uint8_t>& bytes() const { return pixels_; }

  void set_pixel(int x, int y, Color color);  // ignored off the canvas
  void fill(Color color);
  // The w x h block whose top-left corner is (x, y).
  void fill_rect(int x, int y, int w, int h, Color color);
  // The 1-pixel outline of the same block.
  void draw_rect(int x, int y, int w, int h, Color color);
  // Bresenham's line, both ends included; thickness > 1 stamps a square of that side per point
  // (so the ends get square caps reaching (thickness - 1) / 2 past them).
  void draw_line(int x0, int y0, int x1, int y1, Color color, int thickness = 1);
  // A filled disc: every pixel whose centre lies within radius + 0.5 of (cx, cy).
  void draw_circle(int cx, int cy, int radius, Color color);
  // Text in the built-in 5x7 font (examples/reporting/font.h), top-left corner at (x, y), each font
  // dot a scale x scale square, '\n' starting a new line. Size: font::text_width/text_height.
  void draw_text(int x, int y, std::string_view text, Color color, int scale = 1);
  // The same, with (x, y) the centre of the text's box.
  void draw_text_centered(int x, int y, std::string_view text, Color color, int scale = 1);

  // Writes a PNG; throws tg::Error naming the path when it cannot (e.g. a missing directory).
  void save_png(const std::string& path) const;

 private:
  int width_, height_;
  std::vector<uint8_t> pixels_;
};

}  // namespace tg
