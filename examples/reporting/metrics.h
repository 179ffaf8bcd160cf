// Classification metrics computed from labels, for reports and confusion-matrix pictures.
//
//   auto counts = tg::confusion_counts(labels, predictions, 10);
//   tg::confusion_matrix_image(counts, class_names, "test set").save_png("out/confusion.png");
//
// counts[t][p] is how many examples of true class t were predicted as class p: rows are the
// truth, columns the prediction (the convention of scikit-learn and of most papers), so a row
// sums to the number of examples of that class and the diagonal holds the correct ones.
#pragma once

#include <cstdint>
#include <vector>

namespace tg {

// Throws tg::Error when the vectors differ in length, num_classes < 1, or a label lies outside
// [0, num_classes) (the message names the index and the label).
std::vector<std::vector<int64_t>> confusion_counts(const std::vector<int32_t>& truth,
                                                   const std::vector<int32_t>& predicted,
                                                   int num_classes);

// The fraction of examples predicted correctly, in [0, 1]; NaN when there are no examples
// (an accuracy of nothing is undefined, and NaN makes plots and CSVs show it as missing).
// Throws tg::Error when the lengths differ.
double accuracy(const std::vector<int32_t>& truth, const std::vector<int32_t>& predicted);
// The same from a confusion matrix: trace / total. Throws tg::Error unless it is square.
double accuracy(const std::vector<std::vector<int64_t>>& counts);

}  // namespace tg
