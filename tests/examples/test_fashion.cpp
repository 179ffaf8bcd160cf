// The Fashion-MNIST programs' shared code, on the real data (Debian's dataset-fashion-mnist):
// a short training run must learn, a checkpoint must predict as the model did, flags must fail
// clearly.
#include <doctest/doctest.h>

#include <filesystem>

#include "examples/fashion_common/fashion_common.h"
#include "framework/serialize.h"
#include "framework/tapegrad.h"
#include "layers/layers.h"
#include "optim/checkpoint.h"

using namespace tg;

namespace {

class SmallMLP : public fashion::Classifier {
 public:
  SmallMLP() : Classifier("SmallMLP"), hidden(784, 128), output(128, 10) {
    register_module("hidden", hidden);
    register_module("output", output);
  }
  Tensor forward(const Tensor& images) const override {
    return output(relu(hidden(images.reshape({images.size(0), 784}))));
  }
  Linear hidden, output;
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
  const fashion::Options o =
      fashion::parse_flags({"--epochs", "3", "--lr", "0.01", "--device", "cpu", "--limit", "50"},
                           defaults);
  CHECK(o.epochs == 3);
  CHECK(o.lr == doctest::Approx(0.01));
  CHECK(o.limit == 50);
  const fashion::Options p =
      fashion::parse_flags({"--checkpoint", "m.tg", "--predict", "1", "7", "--threads", "1"},
                           defaults);
  CHECK(p.predict == std::vector<int64_t>{1, 7});
  CHECK(p.threads == 1);
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
