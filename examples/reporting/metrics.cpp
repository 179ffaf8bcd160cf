#include "examples/reporting/metrics.h"

#include <limits>

#include "framework/error.h"

namespace tg {

std::vector<std::vector<int64_t>> confusion_counts(const std::vector<int32_t>& truth,
                                                   const std::vector<int32_t>& predicted,
                                                   int num_classes) {
  check(num_classes >= 1, "confusion_counts: num_classes must be at least 1, got ", num_classes);
  check(truth.size() == predicted.size(), "confusion_counts: ", truth.size(), " true labels but ",
        predicted.size(), " predictions");
  std::vector<std::vector<int64_t>> counts(num_classes, std::vector<int64_t>(num_classes, 0));
  for (size_t i = 0; i < truth.size(); ++i) {
    check(truth[i] >= 0 && truth[i] < num_classes, "confusion_counts: true label ", truth[i],
          " at index ", i, " is outside [0, ", num_classes, ")");
    check(predicted[i] >= 0 && predicted[i] < num_classes, "confusion_counts: predicted label ",
          predicted[i], " at index ", i, " is outside [0, ", num_classes, ")");
    ++counts[truth[i]][predicted[i]];
  }
  return counts;
}

double accuracy(const std::vector<int32_t>& truth, const std::vector<int32_t>& predicted) {
  check(truth.size() == predicted.size(), "accuracy: ", truth.size(), " true labels but ",
        predicted.size(), " predictions");
  if (truth.empty()) return std::numeric_limits<double>::quiet_NaN();
  size_t correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) correct += truth[i] == predicted[i];
  return static_cast<double>(correct) / static_cast<double>(truth.size());
}

double accuracy(const std::vector<std::vector<int64_t>>& counts) {
  int64_t correct = 0, total = 0;
  for (size_t row = 0; row < counts.size(); ++row) {
    check(counts[row].size() == counts.size(),
          "accuracy: the confusion matrix must be square, row ", row, " has ", counts[row].size(),
          " columns but there are ", counts.size(), " rows");
    for (size_t column = 0; column < counts.size(); ++column) total += counts[row][column];
    correct += counts[row][row];
  }
  if (total == 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(correct) / static_cast<double>(total);
}

}  // namespace tg
