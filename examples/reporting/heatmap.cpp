#include "examples/reporting/heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "examples/reporting/axis.h"
#include "examples/reporting/colormap.h"
#include "examples/reporting/font.h"
#include "examples/reporting/metrics.h"
#include "framework/error.h"

namespace tg {
namespace {

constexpr int text_scale = 2;
constexpr int margin = 12;
constexpr int gap = 8;
constexpr int colorbar_width = 16;
constexpr Color missing_color{200, 200, 200};  // NaN weights: masked, not zero

// Black or white, whichever reads on the background: luma Y = 0.299 R + 0.587 G + 0.114 B
// (Rec. 601 weights; green looks brightest) against the middle of the range. Viridis above
// about t = 0.55 is light enough for black text.
Color text_color_on(Color background) {
  const double luma = 0.299 * background.r + 0.587 * background.g + 0.114 * background.b;
  return luma > 128.0 ? colors::black : colors::white;
}

int widest(const std::vector<std::string>& labels, int scale) {
  int width = 0;
  for (const auto& label : labels) width = std::max(width, font::text_width(label, scale));
  return width;
}

std::vector<std::string> numbered_if_empty(const std::vector<std::string>& labels, size_t count) {
  if (!labels.empty()) return labels;
  std::vector<std::string> numbers;
  for (size_t i = 0; i < count; ++i) numbers.push_back(std::to_string(i));
  return numbers;
}

// Width the colour bar needs: bar, tick, a gap wide enough that tick and label do not read as a
// minus sign ("-0.5"), the widest label "0.5", and the bar's upward title if it has one.
constexpr int colorbar_tick = 4, colorbar_label_gap = 8;
int colorbar_extent(const std::string& label) {
  const int title = label.empty() ? 0 : gap + font::glyph_height * text_scale;
  return colorbar_width + 1 + colorbar_tick + colorbar_label_gap +
         font::text_width("0.5", text_scale) + title;
}

// A vertical viridis bar, 1 at the top and 0 at the bottom, ticks at 0, 0.5 and 1, and the
// label (if any) reading upwards to the right of the tick labels.
void draw_colorbar(Image& image, int x, int y, int height, const std::string& label) {
  for (int row = 0; row < height; ++row) {
    const float t = 1.0f - static_cast<float>(row) / static_cast<float>(std::max(height - 1, 1));
    image.fill_rect(x, y + row, colorbar_width, 1, viridis(t));
  }
  image.draw_rect(x - 1, y - 1, colorbar_width + 2, height + 2, colors::gray);
  for (double t : {0.0, 0.5, 1.0}) {
    const int py = y + static_cast<int>(std::lround((1.0 - t) * (height - 1)));
    image.fill_rect(x + colorbar_width + 1, py, colorbar_tick, 1, colors::gray);
    const std::string tick = format_tick(t, t == 0.5 ? 0.5 : 1.0);
    image.draw_text(x + colorbar_width + 1 + colorbar_tick + colorbar_label_gap,
                    py - font::text_height(tick, text_scale) / 2, tick, colors::black, text_scale);
  }
  if (label.empty()) return;
  const int line = font::glyph_height * text_scale;
  draw_text_upward_centered(image, x + colorbar_extent(label) - line / 2, y + height / 2, label,
                            colors::black, text_scale);
}

// The title centred over [left, left + span), moved inwards where it would leave the canvas.
void draw_title(Image& image, const std::string& title, int left, int span) {
  const int width = font::text_width(title, text_scale);
  const int x = std::clamp(left + (span - width) / 2, margin, image.width() - margin - width);
  image.draw_text(std::max(x, 0), margin, title, colors::black, text_scale);
}

}  // namespace

Image confusion_matrix_image(const std::vector<std::vector<int64_t>>& counts,
                             const std::vector<std::string>& class_names,
                             const std::string& title) {
  const int n = static_cast<int>(counts.size());
  check(n >= 1, "confusion_matrix_image '", title, "': no classes");
  check(class_names.size() == counts.size(), "confusion_matrix_image '", title,
        "': ", class_names.size(), " class names for ", n, " classes");
  int64_t largest = 0;
  for (int row = 0; row < n; ++row) {
    check(static_cast<int>(counts[row].size()) == n, "confusion_matrix_image '", title,
          "': counts must be square, row ", row, " has ", counts[row].size(), " entries, not ", n);
    for (int64_t c : counts[row]) {
      check(c >= 0, "confusion_matrix_image '", title, "': negative count ", c, " in row ", row);
      largest = std::max(largest, c);
    }
  }
  const double correct_fraction = accuracy(counts);
  char accuracy_text[64];
  std::snprintf(accuracy_text, sizeof accuracy_text, " - accuracy %.1f%%",
                100.0 * correct_fraction);
  const std::string full_title =
      title + (std::isnan(correct_fraction) ? " - no examples" : accuracy_text);

  // Cells wide enough for the largest count at scale 2 with a little air on each side.
  const int cell = std::max(48, font::text_width(std::to_string(largest), text_scale) + 12);
  const int line = font::glyph_height * text_scale;
  const int row_names_w = widest(class_names, text_scale);
  const int matrix_x = margin + line + gap + row_names_w + gap;
  const int matrix_y = margin + line + 2 * gap;
  const int matrix_side = n * cell;
  const int column_names_h = row_names_w;  // same names, read upwards
  const std::string bar_label = "fraction of the true class";
  const int width = std::max(matrix_x + matrix_side + 2 * gap + colorbar_extent(bar_label) + margin,
                             font::text_width(full_title, text_scale) + 2 * margin);
  const int height = matrix_y + matrix_side + gap + column_names_h + 2 * gap + line + margin;
  Image image(width, height);
  draw_title(image, full_title, matrix_x, matrix_side);

  for (int t = 0; t < n; ++t) {
    int64_t row_total = 0;
    for (int64_t c : counts[t]) row_total += c;
    for (int p = 0; p < n; ++p) {
      // Row-normalised: the share of class t's examples predicted as p (0 for an empty row).
      const double fraction =
          row_total > 0 ? static_cast<double>(counts[t][p]) / static_cast<double>(row_total) : 0.0;
      const Color fill = viridis(static_cast<float>(fraction));
      const int x = matrix_x + p * cell, y = matrix_y + t * cell;
      image.fill_rect(x, y, cell - 1, cell - 1, fill);  // a 1-pixel white seam between cells
      image.draw_text_centered(x + cell / 2, y + cell / 2, std::to_string(counts[t][p]),
                               text_color_on(fill), text_scale);
    }
    const int name_y = matrix_y + t * cell + cell / 2 - line / 2;
    image.draw_text(matrix_x - gap - font::text_width(class_names[t], text_scale), name_y,
                    class_names[t], colors::black, text_scale);
    // Column names hang below the matrix reading upwards, their last letter next to the cells.
    draw_text_upward(image, matrix_x + t * cell + cell / 2 - line / 2, matrix_y + matrix_side + gap,
                     class_names[t], colors::black, text_scale);
  }
  draw_text_upward_centered(image, margin + line / 2, matrix_y + matrix_side / 2, "true class",
                            colors::black, text_scale);
  image.draw_text_centered(matrix_x + matrix_side / 2, height - margin - line / 2,
                           "predicted class", colors::black, text_scale);
  draw_colorbar(image, matrix_x + matrix_side + 2 * gap, matrix_y, matrix_side, bar_label);
  return image;
}

Image attention_heatmap(const std::vector<std::vector<float>>& weights,
                        const std::vector<std::string>& row_labels,
                        const std::vector<std::string>& col_labels, const std::string& title,
                        int cell) {
  check(!weights.empty() && !weights[0].empty(), "attention_heatmap '", title,
        "': weights are empty");
  const size_t rows = weights.size(), cols = weights[0].size();
  for (size_t i = 0; i < rows; ++i) {
    check(weights[i].size() == cols, "attention_heatmap '", title, "': row ", i, " has ",
          weights[i].size(), " weights but row 0 has ", cols);
  }
  check(row_labels.empty() || row_labels.size() == rows, "attention_heatmap '", title,
        "': ", row_labels.size(), " row labels for ", rows, " rows");
  check(col_labels.empty() || col_labels.size() == cols, "attention_heatmap '", title,
        "': ", col_labels.size(), " column labels for ", cols, " columns");
  check(cell >= 8 && cell <= 200, "attention_heatmap '", title,
        "': cell must be in [8, 200] pixels, got ", cell);
  const auto row_names = numbered_if_empty(row_labels, rows);
  const auto col_names = numbered_if_empty(col_labels, cols);

  // Scale 2 text when a line of it fits a cell's height, else scale 1. Column labels stand
  // upright when every one fits a cell's width (single letters do), otherwise they read upwards.
  const int scale = font::text_height("X", 2) + 2 <= cell ? 2 : 1;
  const bool upright = widest(col_names, scale) + 2 <= cell;
  const int line = font::glyph_height * scale;
  const int title_line = font::glyph_height * text_scale;
  const int column_names_h = upright ? line : widest(col_names, scale);
  const int matrix_x = margin + widest(row_names, scale) + gap;
  const int matrix_y = margin + (title.empty() ? 0 : title_line + 2 * gap) + column_names_h + gap;
  const int matrix_w = static_cast<int>(cols) * cell, matrix_h = static_cast<int>(rows) * cell;
  const int bar_h = std::max(matrix_h, 64);  // room for three tick labels
  const int width = std::max(matrix_x + matrix_w + 2 * gap + colorbar_extent("") + margin,
                             font::text_width(title, text_scale) + 2 * margin);
  const int height = matrix_y + std::max(matrix_h, bar_h) + margin;
  Image image(width, height);
  if (!title.empty()) draw_title(image, title, matrix_x, matrix_w);

  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < cols; ++j) {
      const float w = weights[i][j];
      const Color fill = std::isnan(w) ? missing_color : viridis(std::clamp(w, 0.0f, 1.0f));
      image.fill_rect(matrix_x + static_cast<int>(j) * cell, matrix_y + static_cast<int>(i) * cell,
                      cell, cell, fill);
    }
    const int y = matrix_y + static_cast<int>(i) * cell + cell / 2 - line / 2;
    image.draw_text(matrix_x - gap - font::text_width(row_names[i], scale), y, row_names[i],
                    colors::black, scale);
  }
  for (size_t j = 0; j < cols; ++j) {
    const int centre_x = matrix_x + static_cast<int>(j) * cell + cell / 2;
    if (upright) {
      image.draw_text_centered(centre_x, matrix_y - gap - line / 2, col_names[j], colors::black,
                               scale);
    } else {  // bottom-aligned, so the label ends next to its column
      const int length = font::text_width(col_names[j], scale);
      draw_text_upward(image, centre_x - line / 2, matrix_y - gap - length, col_names[j],
                       colors::black, scale);
    }
  }
  draw_colorbar(image, matrix_x + matrix_w + 2 * gap, matrix_y, bar_h, "");
  return image;
}

Image image_grid(const std::vector<Image>& tiles, int columns, int padding,
                 const std::vector<std::string>& captions) {
  check(!tiles.empty(), "image_grid: no tiles");
  check(columns >= 1, "image_grid: columns must be at least 1, got ", columns);
  check(padding >= 0, "image_grid: padding must be non-negative, got ", padding);
  check(captions.empty() || captions.size() == tiles.size(), "image_grid: ", captions.size(),
        " captions for ", tiles.size(), " tiles");
  int slot_w = 0, slot_h = 0;
  for (const Image& tile : tiles) {
    slot_w = std::max(slot_w, tile.width());
    slot_h = std::max(slot_h, tile.height());
  }
  // One caption size for the whole grid: scale 2 when every caption fits its slot.
  const int scale = widest(captions, 2) <= slot_w ? 2 : 1;
  const int caption_h = captions.empty() ? 0 : gap / 2 + font::glyph_height * scale;
  const int count = static_cast<int>(tiles.size());
  const int across = std::min(columns, count), down = (count + across - 1) / across;
  Image grid(padding + across * (slot_w + padding),
             padding + down * (slot_h + caption_h + padding));
  for (int k = 0; k < count; ++k) {
    const int slot_x = padding + (k % across) * (slot_w + padding);
    const int slot_y = padding + (k / across) * (slot_h + caption_h + padding);
    const Image& tile = tiles[k];
    const int x0 = slot_x + (slot_w - tile.width()) / 2;
    for (int y = 0; y < tile.height(); ++y) {
      for (int x = 0; x < tile.width(); ++x) grid.set_pixel(x0 + x, slot_y + y, tile.pixel(x, y));
    }
    if (captions.empty()) continue;
    std::string caption = captions[k];
    while (caption.size() > 2 && font::text_width(caption, scale) > slot_w) {
      caption = caption.substr(0, caption.size() - (caption.ends_with("..") ? 3 : 2)) + "..";
    }
    grid.draw_text_centered(slot_x + slot_w / 2,
                            slot_y + slot_h + gap / 2 + font::glyph_height * scale / 2, caption,
                            colors::black, scale);
  }
  return grid;
}

Image greyscale_image(const float* values, int width, int height, int scale) {
  check(values != nullptr, "greyscale_image: values is null");
  check(width >= 1 && height >= 1 && scale >= 1,
        "greyscale_image: width, height and scale must be ", "at least 1, got ", width, " x ",
        height, " at scale ", scale);
  Image image(width * scale, height * scale);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float v = values[static_cast<size_t>(y) * width + x];
      const auto grey = static_cast<uint8_t>(
          std::lround(255.0f * (std::isnan(v) ? 0.0f : std::clamp(v, 0.0f, 1.0f))));
      image.fill_rect(x * scale, y * scale, scale, scale, Color{grey, grey, grey});
    }
  }
  return image;
}

Image overlay_heatmap(const Image& base, const std::vector<float>& weights, int grid_w, int grid_h,
                      float alpha) {
  check(grid_w >= 1 && grid_h >= 1 && grid_w <= base.width() && grid_h <= base.height(),
        "overlay_heatmap: a ", grid_w, " x ", grid_h, " grid does not fit a ", base.width(), " x ",
        base.height(), " image");
  check(weights.size() == static_cast<size_t>(grid_w) * grid_h, "overlay_heatmap: a ", grid_w,
        " x ", grid_h, " grid needs ", grid_w * grid_h, " weights, got ", weights.size());
  check(alpha >= 0.0f && alpha <= 1.0f, "overlay_heatmap: alpha must be in [0, 1], got ", alpha);
  float largest = 0.0f;
  for (float w : weights) {
    if (std::isfinite(w)) largest = std::max(largest, w);
  }
  Image out = base;
  for (int gy = 0; gy < grid_h; ++gy) {
    for (int gx = 0; gx < grid_w; ++gx) {
      const float w = weights[static_cast<size_t>(gy) * grid_w + gx];
      const Color tint = viridis(largest > 0.0f && std::isfinite(w) ? w / largest : 0.0f);
      // Patch edges at floor(k * size / grid): the patches tile the image exactly even when
      // the grid does not divide its size.
      const int x0 = gx * base.width() / grid_w, x1 = (gx + 1) * base.width() / grid_w;
      const int y0 = gy * base.height() / grid_h, y1 = (gy + 1) * base.height() / grid_h;
      for (int y = y0; y < y1; ++y) {
        for (int x = x0; x < x1; ++x) out.set_pixel(x, y, mix(base.pixel(x, y), tint, alpha));
      }
    }
  }
  return out;
}

}  // namespace tg
