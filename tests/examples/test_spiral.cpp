// Learning test for examples/spiral: the same data, model and training loop as the program.
#include <doctest/doctest.h>

#include <cmath>

#include "examples/spiral/spiral.h"

TEST_CASE("spiral data: shapes, labels, radii and reproducibility") {
  const spiral::Dataset data = spiral::make_spiral(50, 3, /*seed=*/7);
  CHECK(data.points.shape() == tg::Shape{150, 2});
  CHECK(data.labels.shape() == tg::Shape{150});
  CHECK(data.labels.dtype() == tg::DType::Int32);
  const std::vector<float> p = data.points.to_vector<float>();
  const std::vector<int32_t> labels = data.labels.to_vector<int32_t>();
  for (int n = 0; n < 150; ++n) {
    CHECK(labels[n] == n / 50);
    // r = t = i / 49 exactly; the noise only turns the angle.
    const float radius = std::hypot(p[2 * n], p[2 * n + 1]);
    CHECK(radius == doctest::Approx((n % 50) / 49.0).epsilon(1e-5));
  }
  CHECK(spiral::make_spiral(50, 3, 7).points.to_vector<float>() == p);
  CHECK(spiral::make_spiral(50, 3, 8).points.to_vector<float>() != p);
  CHECK_THROWS_WITH_AS(spiral::make_spiral(1, 3, 0),
                       doctest::Contains("make_spiral: need at least 2 points per class"),
                       tg::Error);
}

TEST_CASE("spiral without noise: each arm's outer point sits at angle 4c + 4") {
  const spiral::Dataset data = spiral::make_spiral(10, 3, 0, /*noise=*/0.0f);
  const std::vector<float> p = data.points.to_vector<float>();
  CHECK(p[2 * 9] == doctest::Approx(std::sin(4.0)));  // class 0, t = 1: theta = 4
  CHECK(p[2 * 9 + 1] == doctest::Approx(std::cos(4.0)));
  CHECK(p[2 * 19] == doctest::Approx(std::sin(8.0)));  // class 1, t = 1: theta = 8
  CHECK(p[2 * 19 + 1] == doctest::Approx(std::cos(8.0)));
}

TEST_CASE("the MLP learns the spiral: >= 97% training accuracy, loss falling") {
  const spiral::Dataset data = spiral::make_spiral(100, 3, /*seed=*/0);
  spiral::Mlp model = spiral::make_mlp(2, 100, 3, /*seed=*/1);
  CHECK(spiral::accuracy(model, data) < 0.7f);  // an untrained net cannot separate the arms

  spiral::TrainOptions options;
  options.steps = 300;
  options.log_every = 50;
  std::vector<spiral::StepReport> reports;
  const spiral::TrainResult result = spiral::train(
      model, data, options, [&](const spiral::StepReport& r) { reports.push_back(r); });
  CHECK(result.accuracy >= 0.97f);
  CHECK(result.final_loss < 0.2f);
  REQUIRE(reports.size() == 7);  // step 1, then every 50
  CHECK(reports.front().step == 1);
  CHECK(reports.back().step == 300);
  CHECK(reports.back().loss < 0.25f * reports.front().loss);
  CHECK(spiral::accuracy(model, data) == doctest::Approx(result.accuracy));

  // predict agrees with the accuracy reported
  const std::vector<int32_t> predicted = spiral::predict(model, data.points).to_vector<int32_t>();
  const std::vector<int32_t> labels = data.labels.to_vector<int32_t>();
  int correct = 0;
  for (size_t n = 0; n < labels.size(); ++n) correct += predicted[n] == labels[n];
  CHECK(correct / 300.0f == doctest::Approx(result.accuracy));
  // Nothing is left on the tape: every forward was consumed by its backward.
  CHECK(tg::tape().size() == 0);
}
