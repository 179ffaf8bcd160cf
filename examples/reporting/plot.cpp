#include "examples/reporting/plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <system_error>

#include "examples/reporting/colormap.h"
#include "examples/reporting/csv.h"
#include "examples/reporting/font.h"
#include "framework/error.h"

namespace tg {
namespace {

// Text sizes: titles, labels, ticks and legend are all drawn at scale 2 (10 x 14 pixel
// glyphs); the 5 x 7 font at scale 1 is too small to read comfortably on a modern screen.
constexpr int text_scale = 2;
constexpr int tick_length = 5;
constexpr int gap = 6;  // between a tick and its label, a label and the axis title, ...
constexpr Color frame_color{60, 60, 60};
constexpr Color grid_color{232, 232, 232};

struct Range {
  double lo, hi;
};

// The range an axis shows: the finite values, stretched around a single value (so a constant
// series does not divide by a zero span) and padded by 4% on each side so that the outermost
// dots do not sit on the frame.
Range axis_range(const std::vector<double>& values, bool include_zero) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (lo > hi) return {0.0, 1.0};  // nothing finite to show
  if (include_zero) lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
  if (hi - lo <= 1e-12 * std::max(std::abs(lo), std::abs(hi))) {
    const double half = lo == 0.0 ? 1.0 : 0.1 * std::abs(lo);
    // From zero, a constant 0 stays the bottom of the axis (no negative ticks under it).
    if (include_zero && lo == 0.0) return {0.0, 2 * half};
    return {lo - half, hi + half};
  }
  const double pad = 0.04 * (hi - lo);
  return {lo - pad, hi + pad};
}

// Where the legend goes: each candidate box is scored by how many points of the curves (the
// data points and 16 samples along each segment) fall inside it; the emptiest wins, ties going
// to the first in the order top-right, top-left, bottom-right, bottom-left.
struct Box {
  int x, y, w, h;
  bool contains(int px, int py) const { return px >= x && px < x + w && py >= y && py < y + h; }
};

}  // namespace

Image line_plot(const std::vector<Series>& series, const LinePlotOptions& options) {
  check(options.width >= 240 && options.height >= 180, "line_plot '", options.title,
        "': the canvas must be at least 240 x 180, got ", options.width, " x ", options.height);
  std::vector<double> all_x, all_y;
  for (const Series& s : series) {
    check(s.x.size() == s.y.size(), "line_plot '", options.title, "': series '", s.name, "' has ",
          s.x.size(), " x values but ", s.y.size(), " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
        all_x.push_back(s.x[i]);
        all_y.push_back(s.y[i]);
      }
    }
  }
  const Range x_range = axis_range(all_x, false), y_range = axis_range(all_y, options.y_from_zero);
  const std::vector<double> x_ticks = nice_ticks(x_range.lo, x_range.hi, options.x_integer_ticks);
  const std::vector<double> y_ticks = nice_ticks(y_range.lo, y_range.hi);
  auto step_of = [](const std::vector<double>& t) { return t.size() > 1 ? t[1] - t[0] : 1.0; };
  std::vector<std::string> y_tick_labels;
  int y_tick_width = 0;
  for (double t : y_ticks) {
    y_tick_labels.push_back(format_tick(t, step_of(y_ticks)));
    y_tick_width = std::max(y_tick_width, font::text_width(y_tick_labels.back(), text_scale));
  }

  // Layout, outside in: title band on top; on the left the upward y label, then the tick
  // labels; below, the tick labels and the x label. The right margin leaves room for half of
  // the last x tick label, which is centred on its tick.
  const int line_height = font::glyph_height * text_scale;
  const int top = options.title.empty() ? 2 * gap : 2 * gap + line_height + 2 * gap;
  const int left = 2 * gap + (options.y_label.empty() ? 0 : line_height + 2 * gap) + y_tick_width +
                   gap + tick_length;
  const int bottom_margin = tick_length + gap + line_height +
                            (options.x_label.empty() ? 0 : 2 * gap + line_height) + 2 * gap;
  const int right_margin = 3 * gap + font::text_width("0000", text_scale) / 2;
  const int plot_w = options.width - left - right_margin,
            plot_h = options.height - top - bottom_margin;
  check(plot_w >= 60 && plot_h >= 60, "line_plot '", options.title, "': ", options.width, " x ",
        options.height, " leaves no room for the plot area after the labels");
  const int bottom = top + plot_h - 1, right = left + plot_w - 1;
  auto to_px = [&](double x) {
    return left + static_cast<int>(
                      std::lround((x - x_range.lo) / (x_range.hi - x_range.lo) * (plot_w - 1)));
  };
  auto to_py = [&](double y) {
    return bottom - static_cast<int>(
                        std::lround((y - y_range.lo) / (y_range.hi - y_range.lo) * (plot_h - 1)));
  };

  Image image(options.width, options.height);
  if (!options.title.empty()) {
    image.draw_text_centered(left + plot_w / 2, 2 * gap + line_height / 2, options.title,
                             colors::black, text_scale);
  }
  for (size_t i = 0; i < y_ticks.size(); ++i) {
    const int py = to_py(y_ticks[i]);
    image.fill_rect(left + 1, py, plot_w - 2, 1, grid_color);
    image.fill_rect(left - tick_length, py, tick_length, 1, frame_color);
    image.draw_text(left - tick_length - gap - font::text_width(y_tick_labels[i], text_scale),
                    py - line_height / 2, y_tick_labels[i], colors::black, text_scale);
  }
  for (double t : x_ticks) {
    const int px = to_px(t);
    image.fill_rect(px, top + 1, 1, plot_h - 2, grid_color);
    image.fill_rect(px, bottom + 1, 1, tick_length, frame_color);
    image.draw_text_centered(px, bottom + tick_length + gap + line_height / 2,
                             format_tick(t, step_of(x_ticks)), colors::black, text_scale);
  }
  image.draw_rect(left, top, plot_w, plot_h, frame_color);
  if (!options.x_label.empty()) {
    image.draw_text_centered(left + plot_w / 2, options.height - 2 * gap - line_height / 2,
                             options.x_label, colors::black, text_scale);
  }
  if (!options.y_label.empty()) {
    draw_text_upward_centered(image, 2 * gap + line_height / 2, top + plot_h / 2, options.y_label,
                              colors::black, text_scale);
  }

  // The curves, in pixel coordinates, finite points only.
  std::vector<std::vector<std::array<int, 2>>> curves;
  for (const Series& s : series) {
    auto& points = curves.emplace_back();
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
        points.push_back({to_px(s.x[i]), to_py(s.y[i])});
    }
  }
  for (size_t c = 0; c < curves.size(); ++c) {
    const auto& points = curves[c];
    for (size_t i = 1; i < points.size(); ++i) {
      image.draw_line(points[i - 1][0], points[i - 1][1], points[i][0], points[i][1],
                      series[c].color, 2);
    }
    if (options.show_points || points.size() == 1) {
      for (const auto& p : points) image.draw_circle(p[0], p[1], 3, series[c].color);
    }
  }

  // The legend: one row per named series that has a point to draw (a series never measured,
  // all NaN, would name a curve that is not there), a short line with a dot, then the name.
  constexpr int sample_length = 24;
  auto in_legend = [&](size_t c) { return !series[c].name.empty() && !curves[c].empty(); };
  int legend_w = 0, legend_rows = 0;
  for (size_t c = 0; c < series.size(); ++c) {
    if (!in_legend(c)) continue;
    const Series& s = series[c];
    legend_w = std::max(legend_w, sample_length + gap + font::text_width(s.name, text_scale));
    ++legend_rows;
  }
  if (legend_rows == 0) return image;
  const int row_height = line_height + gap;
  legend_w += 2 * gap;
  const int legend_h = legend_rows * row_height + gap;
  const int inset = gap;
  const std::array<Box, 4> candidates = {{
      {right - inset - legend_w, top + inset, legend_w, legend_h},
      {left + inset, top + inset, legend_w, legend_h},
      {right - inset - legend_w, bottom - inset - legend_h, legend_w, legend_h},
      {left + inset, bottom - inset - legend_h, legend_w, legend_h},
  }};
  Box legend = candidates[0];
  int fewest = std::numeric_limits<int>::max();
  for (const Box& box : candidates) {
    int covered = 0;
    for (const auto& points : curves) {
      for (size_t i = 0; i < points.size(); ++i) {
        const auto& from = points[i > 0 ? i - 1 : 0];
        for (int k = 0; k <= 16; ++k) {
          covered += box.contains(from[0] + (points[i][0] - from[0]) * k / 16,
                                  from[1] + (points[i][1] - from[1]) * k / 16);
        }
      }
    }
    if (covered < fewest) fewest = covered, legend = box;
  }
  image.fill_rect(legend.x, legend.y, legend.w, legend.h, colors::white);
  image.draw_rect(legend.x, legend.y, legend.w, legend.h, colors::light_gray);
  int row_y = legend.y + gap + line_height / 2;
  for (size_t c = 0; c < series.size(); ++c) {
    if (!in_legend(c)) continue;
    const Series& s = series[c];
    const int x = legend.x + gap;
    image.draw_line(x, row_y, x + sample_length - 1, row_y, s.color, 2);
    image.draw_circle(x + sample_length / 2, row_y, 3, s.color);
    image.draw_text(x + sample_length + gap, row_y - line_height / 2, s.name, colors::black,
                    text_scale);
    row_y += row_height;
  }
  return image;
}

void save_training_curves(const std::string& out_dir, const std::vector<EpochMetrics>& history) {
  check(!history.empty(), "save_training_curves '", out_dir, "': the history is empty");
  std::vector<double> epochs, train_loss, valid_loss, train_accuracy, valid_accuracy;
  std::vector<std::vector<double>> rows;
  for (const EpochMetrics& m : history) {
    for (double a : {m.train_accuracy, m.valid_accuracy}) {
      check(std::isnan(a) || (a >= 0.0 && a <= 1.0), "save_training_curves '", out_dir, "': epoch ",
            m.epoch, " has accuracy ", a,
            "; accuracies must be fractions in [0, 1] (NaN when not measured), not percentages");
    }
    epochs.push_back(m.epoch);
    train_loss.push_back(m.train_loss);
    valid_loss.push_back(m.valid_loss);
    train_accuracy.push_back(100.0 * m.train_accuracy);
    valid_accuracy.push_back(100.0 * m.valid_accuracy);
    rows.push_back({static_cast<double>(m.epoch), m.train_loss, m.train_accuracy, m.valid_loss,
                    m.valid_accuracy, m.seconds});
  }
  std::error_code error;
  std::filesystem::create_directories(out_dir, error);
  check(!error, "save_training_curves: cannot create directory '", out_dir, "': ", error.message());
  const std::filesystem::path dir(out_dir);
  LinePlotOptions options{.title = "loss", .x_label = "epoch", .y_label = "loss"};
  options.x_integer_ticks = true;
  line_plot({{"train", epochs, train_loss, categorical_color(0)},
             {"validation", epochs, valid_loss, categorical_color(1)}},
            options)
      .save_png((dir / "loss.png").string());
  options.title = "accuracy";
  options.y_label = "accuracy (%)";
  options.y_from_zero = true;  // a percentage: no negative ticks around a flat 0
  line_plot({{"train", epochs, train_accuracy, categorical_color(0)},
             {"validation", epochs, valid_accuracy, categorical_color(1)}},
            options)
      .save_png((dir / "accuracy.png").string());
  write_csv((dir / "metrics.csv").string(),
            {"epoch", "train_loss", "train_accuracy", "valid_loss", "valid_accuracy", "seconds"},
            rows);
}

}  // namespace tg
