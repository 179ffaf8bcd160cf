// Pictures of matrices and images: confusion matrices, attention maps, input digits, and grids
// of several such tiles. Everything returns a tg::Image; call save_png on it.
//
//   auto counts = tg::confusion_counts(labels, predictions, 10);
//   tg::confusion_matrix_image(counts, names, "test set").save_png("out/confusion.png");
//   tg::attention_heatmap(weights, phonemes, letters, "cross-attention").save_png("out/attn.png");
//
// Values go through the viridis colormap (colormap.h): dark purple for 0, yellow for 1, with
// lightness rising steadily so that equal steps in value look equal. Text written over a cell
// is black on light cells and white on dark ones (by the cell colour's luma), so it stays
// readable at both ends of the map. Titles and labels are drawn at font scale 2.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "examples/reporting/image.h"

namespace tg {

// counts[t][p]: examples of true class t predicted as p (see metrics.h). Rows are the true
// class (names on the left), columns the predicted class (names below, reading upwards); a
// cell's colour is its share of its row (so each class reads as its own recall profile, however
// rare the class), and the count is printed in it. The title gets " - accuracy 88.4%" appended,
// and a colour bar shows the row-fraction scale. Throws tg::Error unless counts is square,
// non-empty and non-negative with one name per class.
Image confusion_matrix_image(const std::vector<std::vector<int64_t>>& counts,
                             const std::vector<std::string>& class_names, const std::string& title);

// weights[i][j]: how much output step i (e.g. a phoneme) attends to input step j (e.g. a
// letter), values in [0, 1] (clamped; NaN, e.g. a masked position, is drawn light grey). Row
// labels go on the left, column labels along the top (upright when they fit in a cell, reading
// upwards when not); an empty label vector numbers the rows or columns from 0. cell is the side
// of a cell in pixels. A colour bar on the right has ticks 0, 0.5 and 1. Throws tg::Error for
// ragged or empty weights, a label count that does not match, or cell outside [8, 200].
Image attention_heatmap(const std::vector<std::vector<float>>& weights,
                        const std::vector<std::string>& row_labels,
                        const std::vector<std::string>& col_labels, const std::string& title,
                        int cell = 28);

// Tiles laid out left to right, top to bottom, `columns` to a row, each in a slot as large as
// the largest tile (smaller ones centred), padding pixels between slots and around the edge,
// on white. captions is empty (none) or one per tile, written under its tile (shortened with
// ".." when wider than the slot). Throws tg::Error for no tiles, columns < 1, padding < 0 or a
// caption count that does not match.
Image image_grid(const std::vector<Image>& tiles, int columns, int padding,
                 const std::vector<std::string>& captions = {});

// width x height values in [0, 1], row-major (0 black, 1 white; clamped, NaN black), each
// drawn as a scale x scale block: a 28 x 28 Fashion-MNIST image at scale 8 is 224 x 224.
Image greyscale_image(const float* values, int width, int height, int scale);

// Attention over image patches laid over the image: the image is cut into a grid_w x grid_h
// grid of patches (row-major, like weights), and each patch is blended with the viridis colour
// of its weight divided by the largest weight, out = (1 - alpha) base + alpha colour. Dividing
// by the largest weight matters because patch weights sum to 1 and are each small: the patch
// attended most is always yellow. Throws tg::Error unless weights has grid_w * grid_h entries,
// 1 <= grid_w <= width, 1 <= grid_h <= height and alpha is in [0, 1].
Image overlay_heatmap(const Image& base, const std::vector<float>& weights, int grid_w, int grid_h,
                      float alpha);

}  // namespace tg
