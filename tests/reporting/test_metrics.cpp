#include <doctest/doctest.h>

#include <cmath>

#include "examples/reporting/metrics.h"
#include "framework/error.h"

TEST_CASE("confusion_counts counts true class by row and prediction by column") {
  // truth:     0 0 0 1 1 2 2 2 2
  // predicted: 0 0 1 1 2 2 2 0 2
  const auto counts =
      tg::confusion_counts({0, 0, 0, 1, 1, 2, 2, 2, 2}, {0, 0, 1, 1, 2, 2, 2, 0, 2}, 3);
  const std::vector<std::vector<int64_t>> expected = {{2, 1, 0}, {0, 1, 1}, {1, 0, 3}};
  CHECK(counts == expected);
  CHECK(tg::accuracy(counts) == doctest::Approx(6.0 / 9.0));
  CHECK(tg::accuracy({0, 0, 0, 1, 1, 2, 2, 2, 2}, {0, 0, 1, 1, 2, 2, 2, 0, 2}) ==
        doctest::Approx(6.0 / 9.0));
}

TEST_CASE("confusion_counts of no examples is all zeros, and accuracy of nothing is NaN") {
  const auto counts = tg::confusion_counts({}, {}, 2);
  CHECK(counts == std::vector<std::vector<int64_t>>{{0, 0}, {0, 0}});
  CHECK(std::isnan(tg::accuracy(counts)));
  CHECK(std::isnan(tg::accuracy(std::vector<int32_t>{}, std::vector<int32_t>{})));
}

TEST_CASE("confusion_counts and accuracy reject bad input with a message") {
  CHECK_THROWS_WITH_AS(tg::confusion_counts({0, 1}, {0}, 2),
                       doctest::Contains("confusion_counts: 2 true labels but 1 predictions"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::confusion_counts({0, 3}, {0, 1}, 3),
                       doctest::Contains("true label 3 at index 1 is outside [0, 3)"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::confusion_counts({0, 1}, {-1, 1}, 3),
                       doctest::Contains("predicted label -1 at index 0 is outside [0, 3)"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(tg::confusion_counts({}, {}, 0),
                       doctest::Contains("num_classes must be at least 1, got 0"), tg::Error);
  CHECK_THROWS_WITH_AS(tg::accuracy({1, 2, 3}, {1}),
                       doctest::Contains("accuracy: 3 true labels but 1 predictions"), tg::Error);
  CHECK_THROWS_WITH_AS(
      tg::accuracy(std::vector<std::vector<int64_t>>{{1, 2}, {3}}),
      doctest::Contains("must be square, row 1 has 1 columns but there are 2 rows"), tg::Error);
}
