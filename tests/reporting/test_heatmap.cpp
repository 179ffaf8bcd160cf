#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "examples/reporting/colormap.h"
#include "examples/reporting/font.h"
#include "examples/reporting/heatmap.h"
#include "framework/error.h"
#include "picture_checks.h"

using namespace picture_checks;
using tg::Color;

namespace {

const Color high = tg::viridis(1.0f), low = tg::viridis(0.0f);
constexpr Color red{255, 0, 0}, green{0, 255, 0}, blue{0, 0, 255};

tg::Image solid(int w, int h, Color color) { return tg::Image(w, h, color); }

}  // namespace

TEST_CASE("confusion_matrix_image: a perfect diagonal is high, the rest low, text readable") {
  TempDir dir("heatmap_confusion");
  const std::vector<std::vector<int64_t>> counts = {{50, 0, 0}, {0, 7, 0}, {0, 0, 1234}};
  const tg::Image image = round_trip(
      tg::confusion_matrix_image(counts, {"cat", "dog", "bird"}, "perfect"), dir.path / "c.png");
  // The diagonal cells are the only wide runs of the top colour (the colour bar is 16 wide), so
  // their bounding box is the whole matrix; each cell is a side/3 square less a 1-pixel seam.
  const Box matrix = box_of_runs(image, high, 30);
  REQUIRE(matrix.found());
  const int cell = (matrix.x1 - matrix.x0 + 2) / 3;
  CHECK(cell >= 48);
  CHECK(matrix.y1 - matrix.y0 == matrix.x1 - matrix.x0);
  for (int t = 0; t < 3; ++t) {
    for (int p = 0; p < 3; ++p) {
      const int x = matrix.x0 + p * cell, y = matrix.y0 + t * cell;
      CHECK(image.pixel(x + 2, y + 2) == (t == p ? high : low));
      CHECK(image.pixel(x + cell - 3, y + cell - 3) == (t == p ? high : low));
      // The count: black on the light diagonal, white on the dark cells, none of the other.
      const int black = count_color(image, tg::colors::black, x, y, x + cell - 1, y + cell - 1);
      const int white = count_color(image, tg::colors::white, x, y, x + cell - 1, y + cell - 1);
      CHECK((t == p ? black : white) > 10);
      CHECK((t == p ? white : black) == 0);
    }
  }
  // Class names to the left of the matrix and below it.
  CHECK(count_color(image, tg::colors::black, 0, matrix.y0, matrix.x0, matrix.y1) > 50);
  CHECK(count_color(image, tg::colors::black, matrix.x0, matrix.y1 + 2, matrix.x1, image.height()) >
        100);
}

TEST_CASE("confusion_matrix_image colours by the row's fraction, not the raw count") {
  // Row 0 has 1000 examples, row 1 only 4: the rare class's 3 correct answers (75%) must look
  // much hotter than the 100 mistakes of row 0 (10%).
  const tg::Image image =
      tg::confusion_matrix_image({{900, 100}, {1, 3}}, {"common", "rare"}, "imbalanced");
  const Box first = box_of_runs(image, tg::viridis(0.9f), 30);  // cell (0, 0)
  REQUIRE(first.found());
  const int cell = first.x1 - first.x0 + 2;
  CHECK(image.pixel(first.x0 + cell + 2, first.y0 + 2) == tg::viridis(0.1f));
  CHECK(image.pixel(first.x0 + cell + 2, first.y0 + cell + 2) == tg::viridis(0.75f));
  CHECK(image.pixel(first.x0 + 2, first.y0 + cell + 2) == tg::viridis(0.25f));
}

TEST_CASE("confusion_matrix_image rejects bad counts and names") {
  CHECK_THROWS_WITH_AS(tg::confusion_matrix_image({{1, 2}, {3}}, {"a", "b"}, "t"),
                       doctest::Contains("'t': counts must be square, row 1 has 1 entries, not 2"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::confusion_matrix_image({{1, 2}, {3, 4}}, {"a"}, "t"),
                       doctest::Contains("'t': 1 class names for 2 classes"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::confusion_matrix_image({{1, -2}, {3, 4}}, {"a", "b"}, "t"),
                       doctest::Contains("negative count -2 in row 0"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::confusion_matrix_image({}, {}, "t"), doctest::Contains("no classes"),
                       tg::Error);
}

TEST_CASE("attention_heatmap maps weights through viridis with labels on both axes") {
  TempDir dir("heatmap_attention");
  const float not_a_number = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::vector<float>> weights = {{1.0f, 0.0f, 0.5f}, {0.25f, 2.0f, not_a_number}};
  const int cell = 30;
  const tg::Image image =
      round_trip(tg::attention_heatmap(weights, {"T", "EY"}, {"t", "a", "p"}, "attention", cell),
                 dir.path / "a.png");
  // Weight 1 at (0, 0) and 2 (clamped to 1) at (1, 1): the top colour's wide runs span them.
  const Box box = box_of_runs(image, high, cell - 2);
  REQUIRE(box.found());
  CHECK(box.x1 - box.x0 + 1 == 2 * cell);
  CHECK(box.y1 - box.y0 + 1 == 2 * cell);
  const int x = box.x0, y = box.y0;
  CHECK(image.pixel(x + cell + cell / 2, y + cell / 2) == low);
  CHECK(image.pixel(x + 2 * cell + cell / 2, y + cell / 2) == tg::viridis(0.5f));
  CHECK(image.pixel(x + cell / 2, y + cell + cell / 2) == tg::viridis(0.25f));
  CHECK(image.pixel(x + 2 * cell + cell / 2, y + cell + cell / 2) == Color{200, 200, 200});
  CHECK(high != low);
  // Letters above the matrix, phonemes to its left.
  CHECK(count_color(image, tg::colors::black, x, 0, x + 3 * cell, y) > 20);
  CHECK(count_color(image, tg::colors::black, 0, y, x, y + 2 * cell) > 20);
  // A colour bar to the right runs from the top colour down to the bottom one.
  const Box bar = box_of_runs(image, high, 10);
  CHECK(bar.x1 > x + 3 * cell);
}

TEST_CASE("attention_heatmap turns long column labels upwards and numbers missing labels") {
  const std::vector<std::vector<float>> weights = {{0.2f, 0.8f}};
  const tg::Image short_labels = tg::attention_heatmap(weights, {}, {"a", "b"}, "", 28);
  const tg::Image long_labels = tg::attention_heatmap(weights, {}, {"alphabet", "b"}, "", 28);
  // "alphabet" is 94 pixels wide at scale 2: standing upright it would cover three cells.
  CHECK(long_labels.height() - short_labels.height() ==
        tg::font::text_width("alphabet", 2) - tg::font::glyph_height * 2);
  CHECK(long_labels.width() == short_labels.width());
}

TEST_CASE("attention_heatmap rejects ragged weights and label counts") {
  CHECK_THROWS_WITH_AS(tg::attention_heatmap({{1, 0}, {1}}, {}, {}, "x"),
                       doctest::Contains("'x': row 1 has 1 weights but row 0 has 2"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::attention_heatmap({{1, 0}}, {"a", "b"}, {}, "x"),
                       doctest::Contains("'x': 2 row labels for 1 rows"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::attention_heatmap({{1, 0}}, {}, {"a"}, "x"),
                       doctest::Contains("'x': 1 column labels for 2 columns"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::attention_heatmap({}, {}, {}, "x"),
                       doctest::Contains("weights are empty"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::attention_heatmap({{1}}, {}, {}, "x", 4),
                       doctest::Contains("cell must be in [8, 200] pixels, got 4"), tg::Error);
}

TEST_CASE("image_grid lays tiles out in rows, centred in equal slots") {
  TempDir dir("heatmap_grid");
  const std::vector<tg::Image> tiles = {solid(10, 10, red), solid(20, 10, green),
                                        solid(10, 10, blue)};
  const tg::Image grid = round_trip(tg::image_grid(tiles, 2, 4), dir.path / "g.png");
  // Slots are 20 x 10; width 4 + 2 (20 + 4), height 4 + 2 (10 + 4).
  CHECK(grid.width() == 52);
  CHECK(grid.height() == 32);
  CHECK(grid.pixel(9, 4) == red);  // a 10-wide tile centred in its 20-wide slot starts at 4 + 5
  CHECK(grid.pixel(8, 4) == tg::colors::white);
  CHECK(grid.pixel(18, 13) == red);
  CHECK(grid.pixel(28, 4) == green);
  CHECK(grid.pixel(47, 13) == green);
  CHECK(grid.pixel(9, 18) == blue);
  CHECK(count_color(grid, red) == 100);
  CHECK(count_color(grid, blue) == 100);
  CHECK(grid.pixel(30, 20) == tg::colors::white);  // the empty fourth slot

  const tg::Image captioned = tg::image_grid(tiles, 3, 2, {"a", "b", "a much longer caption"});
  CHECK(captioned.height() > 10 + 2 * 2);
  CHECK(count_color(captioned, tg::colors::black, 0, 12, captioned.width(), captioned.height()) >
        0);
  CHECK(count_color(captioned, tg::colors::black, 0, 0, captioned.width(), 12) == 0);

  CHECK_THROWS_WITH_AS(tg::image_grid({}, 2, 4), doctest::Contains("image_grid: no tiles"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::image_grid(tiles, 0, 4), doctest::Contains("columns must be at least 1"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::image_grid(tiles, 2, 4, {"one"}),
                       doctest::Contains("1 captions for 3 tiles"), tg::Error);
}

TEST_CASE("greyscale_image maps [0, 1] to black..white in scale x scale blocks") {
  const float not_a_number = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> values = {0.0f, 0.5f, 1.0f, not_a_number, -1.0f, 2.0f};
  const tg::Image image = tg::greyscale_image(values.data(), 3, 2, 2);
  CHECK(image.width() == 6);
  CHECK(image.height() == 4);
  const uint8_t expected[6] = {0, 128, 255, 0, 0, 255};
  for (int i = 0; i < 6; ++i) {
    const uint8_t g = expected[i];
    const int x = (i % 3) * 2, y = (i / 3) * 2;
    CHECK(image.pixel(x, y) == Color{g, g, g});
    CHECK(image.pixel(x + 1, y + 1) == Color{g, g, g});
  }
  CHECK_THROWS_WITH_AS(tg::greyscale_image(values.data(), 3, 0, 2),
                       doctest::Contains("greyscale_image: width, height and scale"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::greyscale_image(nullptr, 3, 2, 2), doctest::Contains("values is null"),
                       tg::Error);
}

TEST_CASE("overlay_heatmap blends each patch with the colour of its weight over the largest") {
  const tg::Image base(5, 4, tg::colors::white);
  // 2 x 2 patches of a 5 x 4 image: columns [0, 2) and [2, 5), rows [0, 2) and [2, 4).
  const std::vector<float> weights = {0.0f, 0.1f, 0.0f, 0.2f};
  const tg::Image full = tg::overlay_heatmap(base, weights, 2, 2, 1.0f);
  CHECK(full.pixel(0, 0) == low);
  CHECK(full.pixel(1, 3) == low);
  CHECK(full.pixel(2, 0) == tg::viridis(0.5f));
  CHECK(full.pixel(4, 3) == high);
  CHECK(full.pixel(2, 2) == high);
  const tg::Image half = tg::overlay_heatmap(base, weights, 2, 2, 0.5f);
  CHECK(half.pixel(4, 3) == tg::mix(tg::colors::white, high, 0.5f));
  CHECK(tg::overlay_heatmap(base, weights, 2, 2, 0.0f).bytes() == base.bytes());
  CHECK_THROWS_WITH_AS(tg::overlay_heatmap(base, {1, 2, 3}, 2, 2, 0.5f),
                       doctest::Contains("a 2 x 2 grid needs 4 weights, got 3"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::overlay_heatmap(base, weights, 2, 2, 1.5f),
                       doctest::Contains("alpha must be in [0, 1], got 1.5"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::overlay_heatmap(base, std::vector<float>(36), 6, 6, 0.5f),
                       doctest::Contains("a 6 x 6 grid does not fit a 5 x 4 image"), tg::Error);
}
