// spiral: a two-layer network learns three interleaved spiral arms, written against the engine
// alone (tensors, matmul, relu, cross_entropy, backward). See README.md.
//
//   spiral [--out DIR] [--seed N] [--steps N] [--lr X]
//
// Prints the loss as it falls and writes DIR/spiral.png: the plane coloured by the class the
// network predicts there, with the training points on top.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "examples/program/program.h"
#include "examples/reporting/colormap.h"
#include "examples/reporting/font.h"
#include "examples/reporting/image.h"
#include "examples/spiral/spiral.h"

namespace {

struct Flags {
  std::string out = "out/spiral";
  uint64_t seed = 0;
  spiral::TrainOptions train;
};

constexpr int points_per_class = 100;
constexpr int classes = 3;
constexpr int hidden = 100;

// Every flag, one line each: its type, range and help; CLI11 writes --help from them.
void add_flags(CLI::App& app, Flags& flags) {
  using tg::program::kFinitePositive;
  app.option_defaults()->always_capture_default();
  app.add_option("--out", flags.out, "where spiral.png goes (created if missing)");
  app.add_option("--seed", flags.seed, "seed of the data and the initial weights")
      ->check(tg::program::whole_number(0, tg::program::kMaxSeed));
  app.add_option("--steps", flags.train.steps, "full-batch training steps")
      ->check(tg::program::whole_number(1, 10000000));
  app.add_option("--lr", flags.train.lr, "learning rate of the momentum update")
      ->check(kFinitePositive);
}

std::string format_number(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

// Where the plot sits on the canvas, and the data square [-extent, extent]^2 it shows.
struct PlotFrame {
  int left = 68, top = 56, size = 480;
  float extent = 1.1f;
  int to_x(float data_x) const {
    return left + static_cast<int>((data_x + extent) / (2 * extent) * size);
  }
  int to_y(float data_y) const {
    return top + static_cast<int>((extent - data_y) / (2 * extent) * size);
  }
};

tg::Color region_color(int label) { return tg::lighten(tg::categorical_color(label), 0.65f); }

// A point: a dark rim around a slightly darkened class colour, so that dots stay apart where
// they crowd and stand out on the region of their own class.
void draw_point(tg::Image& image, int x, int y, int label) {
  image.draw_circle(x, y, 4, tg::darken(tg::categorical_color(label), 0.55f));
  image.draw_circle(x, y, 3, tg::darken(tg::categorical_color(label), 0.15f));
}

// Decision regions: the plot is divided into cells of `cell` pixels; the centres of all cells
// go through the network as one [cells^2, 2] batch, and each cell is painted a light version of
// its predicted class's colour.
void paint_regions(tg::Image& image, const PlotFrame& frame, const spiral::Mlp& model) {
  constexpr int cell = 2;
  const int cells = frame.size / cell;
  std::vector<float> centres;
  centres.reserve(static_cast<size_t>(cells) * cells * 2);
  for (int row = 0; row < cells; ++row) {
    for (int column = 0; column < cells; ++column) {
      const float u = (column + 0.5f) / cells, v = (row + 0.5f) / cells;
      centres.push_back(-frame.extent + 2 * frame.extent * u);
      centres.push_back(frame.extent - 2 * frame.extent * v);
    }
  }
  const tg::Tensor grid = tg::from_vector(centres, {cells * cells, 2});
  const std::vector<int32_t> predicted = spiral::predict(model, grid).to_vector<int32_t>();
  for (int row = 0; row < cells; ++row) {
    for (int column = 0; column < cells; ++column) {
      image.fill_rect(frame.left + column * cell, frame.top + row * cell, cell, cell,
                      region_color(predicted[row * cells + column]));
    }
  }
}

void draw_axes(tg::Image& image, const PlotFrame& frame) {
  const tg::Color ink{60, 60, 60};
  image.draw_rect(frame.left - 1, frame.top - 1, frame.size + 2, frame.size + 2, ink);
  for (float tick : {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f}) {
    const std::string label = format_number("%.1f", tick);
    const int x = frame.to_x(tick), y = frame.to_y(tick);
    const int bottom = frame.top + frame.size;
    image.draw_line(x, bottom, x, bottom + 5, ink);
    image.draw_text_centered(x, bottom + 16, label, ink, 2);
    image.draw_line(frame.left - 6, y, frame.left - 1, y, ink);
    image.draw_text(frame.left - 10 - tg::font::text_width(label, 2), y - 7, label, ink, 2);
  }
}

void draw_points(tg::Image& image, const PlotFrame& frame, const spiral::Dataset& data) {
  const std::vector<float> points = data.points.to_vector<float>();
  const std::vector<int32_t> labels = data.labels.to_vector<int32_t>();
  for (size_t n = 0; n < labels.size(); ++n) {
    draw_point(image, frame.to_x(points[2 * n]), frame.to_y(points[2 * n + 1]), labels[n]);
  }
}

void draw_legend(tg::Image& image, int centre_x, int y) {
  const int entry_width = 132;
  int x = centre_x - classes * entry_width / 2;
  for (int c = 0; c < classes; ++c) {
    image.fill_rect(x, y, 14, 14, region_color(c));
    draw_point(image, x + 7, y + 7, c);
    image.draw_text(x + 22, y, "class " + std::to_string(c), tg::Color{60, 60, 60}, 2);
    x += entry_width;
  }
}

void save_plot(const std::string& path, const spiral::Mlp& model, const spiral::Dataset& data,
               float train_accuracy) {
  tg::Image image(572, 640, tg::colors::white);
  const PlotFrame frame;
  paint_regions(image, frame, model);
  draw_points(image, frame, data);
  draw_axes(image, frame);
  const std::string title =
      "spiral: 3 classes, train accuracy " + format_number("%.1f%%", 100.0 * train_accuracy);
  image.draw_text_centered(image.width() / 2, 26, title, tg::colors::black, 2);
  draw_legend(image, frame.left + frame.size / 2, 600);
  image.save_png(path);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app("A two-layer network learns three interleaved spiral arms; writes OUT/spiral.png.",
               "spiral");
  add_flags(app, flags);
  return tg::program::run_main("spiral", app, argc, argv, [&] {
    flags.train.log_every = std::max(1, flags.train.steps / 10);
    tg::program::create_output_directory("--out", flags.out);
    const spiral::Dataset data = spiral::make_spiral(points_per_class, classes, flags.seed);
    spiral::Mlp model = spiral::make_mlp(2, hidden, classes, flags.seed + 1);
    std::printf("spiral: %d points in %d classes, MLP 2-%d-%d, %d full-batch steps, lr %g\n",
                points_per_class * classes, classes, hidden, classes, flags.train.steps,
                flags.train.lr);

    const spiral::TrainResult result =
        spiral::train(model, data, flags.train, [](const spiral::StepReport& report) {
          std::printf("step %5d  loss %.3f  accuracy %5.1f%%\n", report.step, report.loss,
                      100.0 * report.accuracy);
        });
    std::printf("final: train accuracy %.1f%%, loss %.3f, %.2f s\n", 100.0 * result.accuracy,
                result.final_loss, result.seconds);

    const std::string path = (std::filesystem::path(flags.out) / "spiral.png").string();
    save_plot(path, model, data, result.accuracy);
    std::printf("wrote %s\n", path.c_str());
    return 0;
  });
}
