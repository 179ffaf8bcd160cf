// Line plots of training curves, drawn on tg::Image and saved as PNG.
//
//   tg::Series train{"train", epochs, train_loss, tg::categorical_color(0)};
//   tg::Series valid{"validation", epochs, valid_loss, tg::categorical_color(1)};
//   tg::line_plot({train, valid}, {.title = "loss", .x_label = "epoch", .y_label = "loss"})
//       .save_png("out/loss.png");
//
// Or, for the usual per-epoch curves, save_training_curves(out_dir, history) writes loss.png,
// accuracy.png and metrics.csv in one call.
//
// What the picture holds: a title, a framed plot area with light grid lines at "nice" ticks
// (steps of 1, 2 or 5 times a power of ten, 4 to 8 of them, labelled with just enough decimals),
// axis labels (the y label reads upwards), and a legend placed in the corner of the plot area
// that covers the fewest data points. Each series is a 2-pixel line with a dot per point: the
// curves of a training run have few points (epochs), and the dots show where they were measured.
// Points whose x or y is NaN or infinite are skipped and the line joins their neighbours, so a
// metric measured only every few epochs still draws as one curve.
#pragma once

#include <string>
#include <vector>

#include "examples/reporting/axis.h"
#include "examples/reporting/image.h"

namespace tg {

struct Series {
  std::string name;          // shown in the legend; an empty name keeps it out of the legend
  std::vector<double> x, y;  // same length; NaN / infinite points are skipped
  Color color;
};

struct LinePlotOptions {
  // The {} lets designated initializers ({.title = "loss"}) leave fields out without
  // -Wmissing-field-initializers warnings in user code.
  std::string title{}, x_label{}, y_label{};
  int width = 640, height = 420;  // at least 240 x 180
  bool y_from_zero = false;       // stretch the y range to include 0
  bool x_integer_ticks = false;   // no fractional x ticks (x is an epoch or step count)
  bool show_points = true;        // a dot at each point as well as the line
};

// Throws tg::Error when a series' x and y differ in length or the canvas is too small. No data
// at all (or only NaNs) gives an empty frame over [0, 1]; a single point or a constant series
// gets a range around its value.
Image line_plot(const std::vector<Series>& series, const LinePlotOptions& options);

// What one epoch of training measured. Accuracies are fractions in [0, 1] (as tg::accuracy
// returns them); NaN marks a metric that was not measured and is left out of the plots.
struct EpochMetrics {
  int epoch = 0;
  double train_loss = 0, train_accuracy = 0, valid_loss = 0, valid_accuracy = 0;
  double seconds = 0;  // wall time of the epoch
};

// Writes <out_dir>/loss.png (train and validation loss per epoch), <out_dir>/accuracy.png (the
// accuracies in %) and <out_dir>/metrics.csv (header epoch,train_loss,train_accuracy,valid_loss,
// valid_accuracy,seconds; accuracies stay fractions there). Creates out_dir if needed. Throws
// tg::Error when history is empty, an accuracy lies outside [0, 1] (a percentage passed by
// mistake), or a file cannot be written.
void save_training_curves(const std::string& out_dir, const std::vector<EpochMetrics>& history);

}  // namespace tg
