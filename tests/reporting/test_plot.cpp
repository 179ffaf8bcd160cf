#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "examples/reporting/colormap.h"
#include "examples/reporting/font.h"
#include "examples/reporting/plot.h"
#include "framework/error.h"
#include "picture_checks.h"

using namespace picture_checks;
using tg::Color;

namespace {

constexpr double missing = std::numeric_limits<double>::quiet_NaN();
constexpr Color frame_color{60, 60, 60};
const Color blue = tg::categorical_color(0), orange = tg::categorical_color(1);

void check_ticks(double lo, double hi, const std::vector<double>& expected, bool integers = false) {
  const auto ticks = tg::nice_ticks(lo, hi, integers);
  INFO("range [", lo, ", ", hi, "]");
  REQUIRE(ticks.size() == expected.size());
  for (size_t i = 0; i < ticks.size(); ++i) CHECK(ticks[i] == doctest::Approx(expected[i]));
}

// Mean row of the pixels of `color` in columns [x0, x1): where a curve sits vertically.
double mean_row(const tg::Image& image, Color color, int x0, int x1) {
  double sum = 0;
  int count = 0;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = x0; x < x1; ++x) {
      if (image.pixel(x, y) == color) sum += y, ++count;
    }
  }
  REQUIRE(count > 0);
  return sum / count;
}

}  // namespace

TEST_CASE("nice_ticks picks 1-2-5 steps with 4 to 8 ticks inside the range") {
  check_ticks(0, 0.87, {0, 0.2, 0.4, 0.6, 0.8});
  check_ticks(0, 100, {0, 20, 40, 60, 80, 100});
  check_ticks(-3.2, 7.9, {-2, 0, 2, 4, 6});
  check_ticks(0.96, 10.04, {2, 4, 6, 8, 10}, true);
  check_ticks(0.9, 3.1, {1, 2, 3}, true);  // integer steps only: fewer than 4 is allowed
  check_ticks(0.9, 1.1, {1}, true);
  check_ticks(0.0012, 0.0019, {0.0012, 0.0014, 0.0016, 0.0018});
  // Values are k * step computed without drift: 3 * 0.2 prints as 0.6, not 0.6000000000000001.
  CHECK(tg::nice_ticks(0, 0.87)[3] == 0.6);
  // Property over many ranges: count in [4, 8], equal 1-2-5 steps, all inside the range.
  for (double lo : {-1234.5, -1.0, 0.0, 0.37, 12.0}) {
    for (double span : {1e-4, 0.013, 0.87, 1.0, 3.3, 10.0, 47.0, 999.0, 2.5e6}) {
      const auto ticks = tg::nice_ticks(lo, lo + span);
      INFO("range [", lo, ", ", lo + span, "]");
      REQUIRE(ticks.size() >= 4);
      CHECK(ticks.size() <= 8);
      const double step = ticks[1] - ticks[0];
      const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
      CHECK((std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 ||
             std::abs(mantissa - 5) < 1e-6));
      CHECK(ticks.front() >= lo - 1e-9 * span);
      CHECK(ticks.back() <= lo + span + 1e-9 * span);
    }
  }
  CHECK_THROWS_WITH_AS(tg::nice_ticks(1, 1), doctest::Contains("nice_ticks: need a finite range"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::nice_ticks(0, missing), doctest::Contains("lo < hi"), tg::Error);
}

TEST_CASE("format_tick uses the decimals the step needs and never prints -0") {
  CHECK(tg::format_tick(0.4, 0.2) == "0.4");
  CHECK(tg::format_tick(0.25, 0.05) == "0.25");
  CHECK(tg::format_tick(10, 2) == "10");
  CHECK(tg::format_tick(-1e-17, 0.2) == "0.0");
  CHECK(tg::format_tick(-40, 20) == "-40");
}

TEST_CASE("draw_text_upward turns the glyphs a quarter turn counter-clockwise") {
  tg::Image image(20, 20);
  tg::draw_text_upward(image, 3, 4, "L", tg::colors::black, 1);
  // Dot (column c, row r) of the upright glyph lands at (3 + r, 4 + (4 - c)): the glyph's top
  // faces left and its first column is at the bottom.
  int dots = 0;
  for (int r = 0; r < tg::font::glyph_height; ++r) {
    for (int c = 0; c < tg::font::glyph_width; ++c) {
      CHECK((image.pixel(3 + r, 4 + 4 - c) == tg::colors::black) == tg::font::dot('L', c, r));
      dots += tg::font::dot('L', c, r);
    }
  }
  CHECK(count_color(image, tg::colors::black) == dots);
}

TEST_CASE("line_plot draws the series inside the frame, rising to the right") {
  TempDir dir("plot_rising");
  tg::Series rising{"rising", {1, 2, 3, 4, 5}, {0.1, 0.3, 0.5, 0.7, 0.9}, blue};
  tg::Series flat{"flat", {1, 5}, {0.5, 0.5}, orange};
  const tg::LinePlotOptions options{.title = "rising", .x_label = "epoch", .y_label = "value"};
  const tg::Image image = round_trip(tg::line_plot({rising, flat}, options), dir.path / "p.png");
  CHECK(image.width() == 640);
  CHECK(image.height() == 420);
  const Box frame = box_of_runs(image, frame_color, 100);
  REQUIRE(frame.found());
  CHECK(frame.x1 - frame.x0 > 400);  // the plot area takes most of the canvas
  CHECK(frame.y1 - frame.y0 > 250);
  const int inside = count_color(image, blue, frame.x0, frame.y0, frame.x1, frame.y1);
  CHECK(inside > 100);
  CHECK(count_color(image, blue) == inside);  // nothing of the series outside the frame
  const int middle = (frame.x0 + frame.x1) / 2;
  CHECK(mean_row(image, blue, frame.x0, middle) > mean_row(image, blue, middle, frame.x1) + 50);
  // The rising line crosses the top-right and bottom-left corners, so the legend (a white box
  // with a light grey border) goes top-left.
  const Box legend = box_of_runs(image, tg::colors::light_gray, 40);
  REQUIRE(legend.found());
  CHECK(legend.x1 < middle);
  CHECK(legend.y1 < (frame.y0 + frame.y1) / 2);
  CHECK(count_color(image, orange, legend.x0, legend.y0, legend.x1, legend.y1) > 0);
}

TEST_CASE("line_plot handles a single point, a constant series, NaN points and no data") {
  TempDir dir("plot_degenerate");
  tg::Series single{"single", {3}, {0.25}, blue};
  tg::Series constant{"constant", {1, 2, 3}, {7, 7, 7}, orange};
  tg::Series gappy{"", {1, 2, 3, missing}, {missing, 2, missing, 4}, tg::categorical_color(2)};
  tg::Image one = round_trip(tg::line_plot({single}, {}), dir.path / "one.png");
  CHECK(count_color(one, blue) >= 37);  // a dot of radius 3 is 37 pixels, plus the legend
  tg::Image flat = round_trip(tg::line_plot({constant}, {.y_from_zero = true}), dir.path / "c.png");
  CHECK(count_color(flat, orange) > 100);
  // Only (2, 2) is finite: one dot, no line, and no legend entry for an unnamed series.
  tg::Image gaps = round_trip(tg::line_plot({gappy}, {}), dir.path / "g.png");
  CHECK(count_color(gaps, tg::categorical_color(2)) == 37);
  // A named series never measured (all NaN, as G2P's train accuracy) draws nothing and has no
  // legend entry: beside a measured one, only that one's colour is in the picture.
  tg::Series unmeasured{"train", {1, 2, 3}, {missing, missing, missing}, blue};
  tg::Image beside = round_trip(tg::line_plot({unmeasured, constant}, {}), dir.path / "u.png");
  CHECK(count_color(beside, blue) == 0);
  CHECK(count_color(beside, orange) > 100);
  // A constant 0 drawn from zero lies on the frame's bottom edge, not mid-axis above negative
  // ticks (an accuracy of 0% in the first epochs of a G2P run).
  tg::Series zeros{"zero", {1, 2}, {0, 0}, orange};
  tg::Image at_zero = round_trip(tg::line_plot({zeros}, {.y_from_zero = true}), dir.path / "z.png");
  // (the bottom edge of the frame, at row 382 of 420, is under the line: look below 85%)
  const int bottom_band = at_zero.height() * 85 / 100;
  CHECK(count_color(at_zero, orange, 0, bottom_band, at_zero.width(), at_zero.height()) >
        2 * 400);  // two rows of a line some 500 pixels long
  tg::Image empty =
      round_trip(tg::line_plot({}, {.width = 300, .height = 200}), dir.path / "e.png");
  CHECK(empty.width() == 300);
  CHECK(box_of_runs(empty, frame_color, 100).found());
}

TEST_CASE("line_plot rejects mismatched series and tiny canvases") {
  tg::Series bad{"train", {1, 2, 3}, {1, 2}, blue};
  CHECK_THROWS_WITH_AS(tg::line_plot({bad}, {.title = "loss"}),
                       doctest::Contains("line_plot 'loss': series 'train' has 3 x values but 2 y"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::line_plot({}, {.title = "t", .width = 100, .height = 420}),
                       doctest::Contains("at least 240 x 180, got 100 x 420"), tg::Error);
}

TEST_CASE("save_training_curves writes loss.png, accuracy.png and metrics.csv") {
  TempDir dir("plot_curves");
  const auto out = dir.path / "run";  // created by the call
  std::vector<tg::EpochMetrics> history = {{1, 0.5, 0.75, missing, missing, 1.5},
                                           {2, 0.25, 0.875, 0.375, 0.8125, 2}};
  tg::save_training_curves(out.string(), history);
  for (const char* name : {"loss.png", "accuracy.png"}) {
    const tg::Image image = load_png(out / name);
    CHECK(image.width() == 640);
    CHECK(image.height() == 420);
    CHECK(count_color(image, blue) > 50);    // train
    CHECK(count_color(image, orange) > 37);  // validation: one point, plus its legend entry
  }
  std::ifstream csv(out / "metrics.csv");
  std::ostringstream text;
  text << csv.rdbuf();
  CHECK(text.str() ==
        "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,seconds\n"
        "1,0.5,0.75,,,1.5\n"
        "2,0.25,0.875,0.375,0.8125,2\n");
  history[1].valid_accuracy = 81.25;
  CHECK_THROWS_WITH_AS(
      tg::save_training_curves(out.string(), history),
      doctest::Contains("epoch 2 has accuracy 81.25; accuracies must be fractions"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::save_training_curves(out.string(), {}),
                       doctest::Contains("the history is empty"), tg::Error);
}
