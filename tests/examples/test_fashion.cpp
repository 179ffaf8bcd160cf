// The Fashion-MNIST programs' shared code, on the real data (Debian's dataset-fashion-mnist):
// a short training run must learn, a checkpoint must predict as the model did, flags must fail
// clearly.
#include <doctest/doctest.h>

#include <filesystem>

#include "examples/fashion_common/fashion_common.h"
#include "framework/serialize.h"
#include "framework/tapegrad.h"
#include "layers/layers.h"
#include "optim/training_checkpoint.h"

using namespace tg;

namespace {

class SmallMLP : public fashion::Classifier {
 public:
  explicit SmallMLP(float dropout_p = 0.0f)
      : Classifier("SmallMLP"), hidden(784, 128), output(128, 10), dropout(dropout_p) {
    register_module("hidden", hidden);
    register_module("output", output);
    register_module("dropout", dropout);
  }
  Tensor forward(const Tensor& images) const override {
    return output(dropout(relu(hidden(images.reshape({images.size(0), 784})))));
  }
  Linear hidden, output;
  Dropout dropout;
};

bool have_data() {
  return std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
}

std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("tapegrad_fashion_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

}  // namespace

TEST_CASE("fashion: an MLP trained briefly on 5,000 real images beats 80% on 1,000 test images") {
  if (!have_data()) {
    MESSAGE("skipped: install Debian's dataset-fashion-mnist to run this test");
    return;
  }
  fashion::Options options;
  options.epochs = 3;
  options.limit = 5000;
  options.threads = 2;
  options.quiet = true;
  options.out = temp_dir("learn");
  fashion::Data data = fashion::load_data(options);
  data.test_images = narrow(data.test_images, 0, 0, 1000);
  data.test_labels = narrow(data.test_labels, 0, 0, 1000);
  manual_seed(0);
  SmallMLP model;
  const fashion::Result result = fashion::train(model, data, options);
  CHECK(result.test_accuracy > 0.80);
  REQUIRE(result.history.size() == 3);
  CHECK(result.history[2].train_loss < result.history[0].train_loss);
  for (const char* file : {"loss.png", "accuracy.png", "metrics.csv", "confusion.png", "model.tg"})
    CHECK(std::filesystem::exists(options.out + "/" + file));

  // The saved model, loaded into a fresh one, predicts exactly as the trained one did.
  SmallMLP reloaded;
  load_into(load_checkpoint(options.out + "/model.tg"), reloaded);
  const fashion::Evaluation again =
      fashion::evaluate(reloaded, data.test_images, data.test_labels, 250);
  CHECK(again.predictions == result.test.predictions);
  CHECK(again.accuracy == result.test_accuracy);
}

TEST_CASE("fashion: flags parse, and bad ones say what is wrong") {
  const fashion::Options defaults;
  const fashion::Options o = fashion::parse_flags(
      {"--epochs", "3", "--lr", "0.01", "--device", "cpu", "--limit", "50"}, defaults);
  CHECK(o.epochs == 3);
  CHECK(o.lr == doctest::Approx(0.01));
  CHECK(o.limit == 50);
  const fashion::Options p = fashion::parse_flags(
      {"--checkpoint", "m.tg", "--predict", "1", "7", "--threads", "1"}, defaults);
  CHECK(p.predict == std::vector<int64_t>{1, 7});
  CHECK(p.threads == 1);
  const fashion::Options r = fashion::parse_flags(
      {"--save", "run/a.tg", "--stop-after", "2", "--resume", "run/b.tg"}, defaults);
  CHECK(r.save == "run/a.tg");
  CHECK(r.stop_after == 2);
  CHECK(r.resume == "run/b.tg");
  CHECK(fashion::parse_flags({"--flips", "on"}, defaults).random_flips);
  CHECK_THROWS_WITH_AS(fashion::parse_flags({"--flips", "yes"}, defaults),
                       doctest::Contains("--flips: expected on or off, got 'yes'"), Error);
  CHECK_THROWS_WITH_AS(fashion::parse_flags({"--batch-size", "0"}, defaults),
                       doctest::Contains("--batch-size: must be at least 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(fashion::parse_flags({"--epochs", "three"}, defaults),
                       doctest::Contains("--epochs: expected a whole number, got 'three'"), Error);
  CHECK_THROWS_WITH_AS(fashion::parse_flags({"--lr"}, defaults),
                       doctest::Contains("--lr: needs a value"), Error);
  CHECK_THROWS_WITH_AS(fashion::parse_flags({"--colour", "red"}, defaults),
                       doctest::Contains("unknown flag '--colour'"), Error);
  CHECK_THROWS_WITH_AS(fashion::parse_flags({"--device", "tpu"}, defaults),
                       doctest::Contains("--device: expected cpu or cuda, got 'tpu'"), Error);
  CHECK_THROWS_WITH_AS(fashion::parse_flags({"--predict", "3"}, defaults),
                       doctest::Contains("--predict: needs --checkpoint PATH"), Error);
  CHECK(fashion::usage("fashion_mlp", "d", defaults).find("--epochs N") != std::string::npos);
}

TEST_CASE("fashion: a run stopped after epoch 1 and resumed ends as the uninterrupted run") {
  if (!have_data()) {
    MESSAGE("skipped: install Debian's dataset-fashion-mnist to run this test");
    return;
  }
  fashion::Options options;
  options.epochs = 2;
  options.limit = 1000;
  options.batch_size = 100;
  options.random_flips = true;  // its coin flips must come back from the checkpoint too
  options.threads = 2;
  options.quiet = true;
  options.out = temp_dir("whole");
  fashion::Data data = fashion::load_data(options);
  data.test_images = narrow(data.test_images, 0, 0, 500);
  data.test_labels = narrow(data.test_labels, 0, 0, 500);

  // Dropout makes the run depend on the random generator, which the checkpoint must carry too.
  manual_seed(3);
  SmallMLP whole_model(0.3f);
  const fashion::Result whole = fashion::train(whole_model, data, options);

  fashion::Options first = options;
  first.out = temp_dir("interrupted");
  first.save = first.out + "/saved/first.tg";  // --save puts the checkpoint elsewhere
  first.stop_after = 1;
  manual_seed(3);
  SmallMLP interrupted(0.3f);
  REQUIRE(fashion::train(interrupted, data, first).history.size() == 1);
  REQUIRE(std::filesystem::exists(first.save));

  fashion::Options second = options;
  second.out = first.out;
  second.resume = first.save;
  manual_seed(99);  // different initial weights and generator: the checkpoint must replace both
  SmallMLP resumed_model(0.3f);
  const fashion::Result resumed = fashion::train(resumed_model, data, second);

  REQUIRE(resumed.history.size() == 2);
  for (size_t e = 0; e < 2; ++e) {
    CHECK(resumed.history[e].epoch == whole.history[e].epoch);
    CHECK(resumed.history[e].train_loss == whole.history[e].train_loss);
    CHECK(resumed.history[e].valid_accuracy == whole.history[e].valid_accuracy);
  }
  CHECK(resumed.test.predictions == whole.test.predictions);
  const auto a = whole_model.named_parameters(), b = resumed_model.named_parameters();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i)
    CHECK_MESSAGE(a[i].second.to_vector<float>() == b[i].second.to_vector<float>(), a[i].first);
}

TEST_CASE("fashion: too few training images for one batch is a clear error") {
  if (!have_data()) {
    MESSAGE("skipped: install Debian's dataset-fashion-mnist to run this test");
    return;
  }
  fashion::Options options;
  options.limit = 100;
  options.batch_size = 128;
  CHECK_THROWS_WITH_AS(fashion::load_data(options),
                       doctest::Contains("--limit: 100 training images make no batch of 128"),
                       Error);
}

TEST_CASE("fashion: random flips mirror about half the images and leave the rest as they were") {
  manual_seed(5);
  const int64_t n = 64;
  const Tensor images = uniform({n, 3, 4}, 0.0f, 1.0f, default_generator());
  const std::vector<float> before = images.to_vector<float>();
  const std::vector<float> after = fashion::random_flips(images).to_vector<float>();
  int mirrored = 0, kept = 0;
  for (int64_t i = 0; i < n; ++i) {
    bool same = true, mirror = true;
    for (int64_t r = 0; r < 3; ++r)
      for (int64_t c = 0; c < 4; ++c) {
        const float out = after[static_cast<size_t>(i * 12 + r * 4 + c)];
        same = same && out == before[static_cast<size_t>(i * 12 + r * 4 + c)];
        mirror = mirror && out == before[static_cast<size_t>(i * 12 + r * 4 + (3 - c))];
      }
    CHECK_MESSAGE(same != mirror, "image ", i, " is neither itself nor its mirror");
    mirrored += mirror;
    kept += same;
  }
  CHECK(mirrored > 16);
  CHECK(kept > 16);
}
