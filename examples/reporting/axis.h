// Building blocks for axes and labels, shared by the line plots (plot.h) and the heatmaps
// (heatmap.h), and useful for custom pictures: "nice" tick positions, tick labels with just
// enough decimals, and text turned upright for y-axis labels and column names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "examples/reporting/image.h"

namespace tg {

// Tick positions for an axis over [lo, hi]: the multiples of the largest step of the form
// {1, 2, 5} x 10^k that puts at least 4 ticks inside the range (which also keeps it at most 8,
// since the steps grow by at most 2.5x). [0, 0.87] gives 0, 0.2, 0.4, 0.6, 0.8. With
// integers_only the step is at least 1. Throws tg::Error unless lo < hi, both finite.
std::vector<double> nice_ticks(double lo, double hi, bool integers_only = false);
// A tick value with as many decimals as the step between ticks needs: 0.4 for step 0.2,
// 0.25 for step 0.05, 10 for step 2; never "-0".
std::string format_tick(double value, double step);

// Text in the built-in font turned 90 degrees counter-clockwise, read from bottom to top like a
// y-axis label. (x, y) is the top-left corner of its box, which is font::text_height(text, scale)
// wide and font::text_width(text, scale) tall. Newlines are not supported (drawn as boxes).
void draw_text_upward(Image& image, int x, int y, std::string_view text, Color color, int scale);
// The same with (x, y) the centre of the box.
void draw_text_upward_centered(Image& image, int x, int y, std::string_view text, Color color,
                               int scale);

}  // namespace tg
