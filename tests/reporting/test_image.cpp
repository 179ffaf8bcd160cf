#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "examples/reporting/colormap.h"
#include "examples/reporting/font.h"
#include "examples/reporting/image.h"
#include "framework/error.h"
#include "stb_image.h"  // Debian's libstb provides the implementation

namespace fs = std::filesystem;
using tg::Color;
using tg::Image;

namespace {

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

struct LoadedPng {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> rgb;
  Color at(int x, int y) const {
    const uint8_t* p = &rgb[(static_cast<size_t>(y) * width + x) * 3];
    return {p[0], p[1], p[2]};
  }
};

LoadedPng load_png(const fs::path& path) {
  LoadedPng png;
  unsigned char* data = stbi_load(path.c_str(), &png.width, &png.height, &png.channels, 3);
  REQUIRE_MESSAGE(data != nullptr, "stbi_load failed: ", stbi_failure_reason());
  png.rgb.assign(data, data + static_cast<size_t>(png.width) * png.height * 3);
  stbi_image_free(data);
  return png;
}

int count_pixels_of(const Image& image, Color color, int x0, int y0, int x1, int y1) {
  int count = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) count += image.pixel(x, y) == color;
  }
  return count;
}

constexpr Color red{255, 0, 0}, green{0, 200, 0}, blue{0, 0, 255};

}  // namespace

TEST_CASE("a PNG round-trips: size and pixel colours survive the file") {
  TempDir dir("png_round_trip");
  Image image(40, 30, Color{10, 20, 30});
  image.set_pixel(0, 0, red);
  image.set_pixel(39, 29, blue);
  image.fill_rect(10, 5, 4, 3, green);
  const fs::path file = dir.path / "canvas.png";
  image.save_png(file.string());

  const LoadedPng png = load_png(file);
  CHECK(png.width == 40);
  CHECK(png.height == 30);
  CHECK(png.channels == 3);
  CHECK(png.at(0, 0) == red);
  CHECK(png.at(39, 29) == blue);
  CHECK(png.at(20, 20) == Color{10, 20, 30});
  CHECK(png.at(10, 5) == green);
  CHECK(png.at(13, 7) == green);              // last pixel of the 4 x 3 block
  CHECK(png.at(14, 7) == Color{10, 20, 30});  // one past it
  CHECK(png.at(13, 8) == Color{10, 20, 30});
}

TEST_CASE("save_png names the path when the directory does not exist") {
  Image image(4, 4);
  const std::string path =
      (fs::temp_directory_path() / "tapegrad_no_such_dir" / "deeper" / "x.png").string();
  CHECK_THROWS_WITH_AS(image.save_png(path), doctest::Contains(path.c_str()), tg::Error);
  CHECK_THROWS_WITH_AS(image.save_png(path), doctest::Contains("Image::save_png: cannot write"),
                       tg::Error);
}

TEST_CASE("a bad canvas size or an off-canvas read throws with the numbers") {
  CHECK_THROWS_WITH_AS(Image(0, 10), doctest::Contains("got 0 x 10"), tg::Error);
  CHECK_THROWS_WITH_AS(Image(10, -3), doctest::Contains("got 10 x -3"), tg::Error);
  Image image(8, 6);
  CHECK_THROWS_WITH_AS(image.pixel(8, 0), doctest::Contains("(8, 0) is outside the 8 x 6"),
                       tg::Error);
}

TEST_CASE("drawing clips at the edges instead of failing") {
  Image image(10, 10);
  image.fill_rect(-5, -5, 8, 8, red);  // covers [0, 3) x [0, 3)
  CHECK(count_pixels_of(image, red, 0, 0, 10, 10) == 9);
  image.draw_circle(100, 100, 5, red);   // entirely off the canvas
  image.draw_line(-20, 5, 30, 5, blue);  // crosses the whole canvas
  CHECK(count_pixels_of(image, blue, 0, 0, 10, 10) == 10);
  image.set_pixel(-1, 3, green);
  CHECK(count_pixels_of(image, green, 0, 0, 10, 10) == 0);
}

TEST_CASE("draw_line covers both ends and is one pixel per step") {
  Image image(20, 20);
  image.draw_line(2, 3, 12, 8, red);  // |dx| = 10 > |dy| = 5: one pixel per column
  CHECK(image.pixel(2, 3) == red);
  CHECK(image.pixel(12, 8) == red);
  CHECK(count_pixels_of(image, red, 0, 0, 20, 20) == 11);
  image.draw_line(5, 15, 5, 10, blue);  // vertical, drawn upwards
  CHECK(count_pixels_of(image, blue, 0, 0, 20, 20) == 6);
  Image thick(20, 20);
  thick.draw_line(5, 10, 14, 10, red, 3);  // 10 long, 3 wide, square caps of 1 at both ends
  CHECK(count_pixels_of(thick, red, 0, 0, 20, 20) == 12 * 3);
  CHECK(thick.pixel(4, 9) == red);
  CHECK(thick.pixel(15, 11) == red);
  CHECK(thick.pixel(16, 10) == tg::colors::white);
  CHECK(thick.pixel(10, 12) == tg::colors::white);
}

TEST_CASE("draw_circle fills a round disc") {
  Image image(21, 21);
  image.draw_circle(10, 10, 0, red);
  CHECK(count_pixels_of(image, red, 0, 0, 21, 21) == 1);
  image.draw_circle(10, 10, 1, blue);  // corners at distance sqrt(2) < 1.5: a 3 x 3 block
  CHECK(count_pixels_of(image, blue, 0, 0, 21, 21) == 9);
  image.draw_circle(10, 10, 5, green);
  CHECK(image.pixel(10, 10) == green);
  CHECK(image.pixel(15, 10) == green);  // on the rim
  CHECK(image.pixel(10, 5) == green);
  CHECK(image.pixel(15, 15) == tg::colors::white);  // the square's corner is outside
  CHECK(image.pixel(16, 10) == tg::colors::white);
  // Area close to pi (r + 1/2)^2 = 95.0
  const int area = count_pixels_of(image, green, 0, 0, 21, 21);
  CHECK(area >= 85);
  CHECK(area <= 100);
}

TEST_CASE("draw_text puts glyph dots in the text's box and nowhere else") {
  const std::string text = "Loss 0.25";
  const int scale = 2;
  const int width = tg::font::text_width(text, scale), height = tg::font::text_height(text, scale);
  CHECK(width == (9 * 6 - 1) * 2);
  CHECK(height == 14);
  Image image(200, 40);
  image.draw_text(10, 12, text, tg::colors::black, scale);
  const int inside = count_pixels_of(image, tg::colors::black, 10, 12, 10 + width, 12 + height);
  const int everywhere = count_pixels_of(image, tg::colors::black, 0, 0, 200, 40);
  CHECK(inside > 100);
  CHECK(inside == everywhere);
  // 'L' at scale 2: its left column is solid, its top-right is empty.
  CHECK(image.pixel(10, 12) == tg::colors::black);
  CHECK(image.pixel(11, 25) == tg::colors::black);
  CHECK(image.pixel(18, 12) == tg::colors::white);
  // The space between "Loss" and "0.25" stays empty.
  CHECK(count_pixels_of(image, tg::colors::black, 10 + 4 * 12, 12, 10 + 5 * 12, 12 + height) == 0);
}

TEST_CASE("the font draws every printable character and boxes the rest") {
  for (int code = 33; code <= 126; ++code) {
    const tg::font::Glyph& g = tg::font::glyph(static_cast<char>(code));
    int dots = 0;
    for (uint8_t row : g) dots += row != 0;
    CHECK_MESSAGE(dots > 0, "glyph for '", static_cast<char>(code), "' is blank");
    for (uint8_t row : g) CHECK(row < 32);  // five columns only
  }
  CHECK(tg::font::glyph(' ') == tg::font::Glyph{});
  CHECK(tg::font::glyph('\t')[0] == 0x1F);  // the hollow box
  CHECK(tg::font::dot('I', 2, 3));
  CHECK_FALSE(tg::font::dot('I', 0, 3));
  CHECK(tg::font::text_width("ab\nlonger", 1) == 6 * 6 - 1);
  CHECK(tg::font::text_height("ab\nlonger", 1) == 9 + 7);
  CHECK(tg::font::text_width("", 3) == 0);
}

TEST_CASE("draw_text_centered centres the text's box on the point") {
  Image image(100, 50);
  image.draw_text_centered(50, 25, "HI", tg::colors::black, 3);
  const int width = tg::font::text_width("HI", 3), height = tg::font::text_height("HI", 3);
  const int x0 = 50 - width / 2, y0 = 25 - height / 2;
  CHECK(count_pixels_of(image, tg::colors::black, x0, y0, x0 + width, y0 + height) ==
        count_pixels_of(image, tg::colors::black, 0, 0, 100, 50));
  CHECK(image.pixel(x0, y0) == tg::colors::black);  // H's top-left dot
}

TEST_CASE("colormaps: viridis endpoints and midpoint, ten distinct class colours") {
  CHECK(tg::viridis(0.0f) == Color{68, 1, 84});
  CHECK(tg::viridis(1.0f) == Color{253, 231, 37});
  CHECK(tg::viridis(0.5f) == Color{38, 130, 142});
  CHECK(tg::viridis(-3.0f) == Color{68, 1, 84});
  CHECK(tg::viridis(7.0f) == Color{253, 231, 37});
  // Halfway between the samples at 0 and 1/8.
  CHECK(tg::viridis(0.0625f) == Color{70, 21, 102});
  // Lightness (a rough luma) rises along the map.
  auto luma = [](Color c) { return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b; };
  for (int i = 0; i < 20; ++i) {
    CHECK(luma(tg::viridis(i / 20.0f)) < luma(tg::viridis((i + 1) / 20.0f)));
  }
  for (int i = 0; i < 10; ++i) {
    for (int j = i + 1; j < 10; ++j) {
      CHECK_FALSE(tg::categorical_color(i) == tg::categorical_color(j));
    }
  }
  CHECK(tg::categorical_color(10) == tg::categorical_color(0));
  CHECK(tg::categorical_color(-1) == tg::categorical_color(9));
  CHECK(tg::lighten(Color{0, 100, 200}, 0.5f) == Color{128, 178, 228});
  CHECK(tg::darken(Color{0, 100, 200}, 0.25f) == Color{0, 75, 150});
}
