// The Fashion-MNIST programs' int8 flags on the real data: --evaluate --quantize writes an int8
// checkpoint that scores within a point of the float model, --evaluate and --predict load it, and
// the flags that make no sense alone say so.
#include <doctest/doctest.h>

#include <filesystem>

#include "examples/fashion_common/cli.h"
#include "examples/fashion_common/fashion_common.h"
#include "framework/serialize.h"
#include "framework/tapegrad.h"
#include "layers/layers.h"
#include "layers/model_checkpoint.h"
#include "layers/quantize.h"

using namespace tg;

namespace {

class TwoLayers : public fashion::Classifier {
 public:
  TwoLayers() : Classifier("TwoLayers"), hidden(784, 64), output(64, 10) {
    register_module("hidden", hidden);
    register_module("output", output);
  }
  Tensor forward(const Tensor& images) const override {
    return output(relu(hidden(images.reshape({images.size(0), 784}))));
  }
  Linear hidden, output;
};

int run(const fashion::Program& program, std::vector<std::string> args) {
  args.insert(args.begin(), program.name);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return fashion::run_program(program, static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("fashion: an int8 checkpoint written by --quantize scores as the float model does") {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    MESSAGE("skipped: install Debian's dataset-fashion-mnist to run this test");
    return;
  }
  const auto dir = std::filesystem::temp_directory_path() / "tapegrad_fashion_quantize";
  std::filesystem::remove_all(dir);
  fashion::Program program;
  program.name = "fashion_quantize_test";
  program.make_model = [](const fashion::Options&) { return std::make_unique<TwoLayers>(); };
  const std::string out = dir.string(), float_path = out + "/model.tg",
                    int8_path = out + "/int8.tg";
  REQUIRE(run(program, {"--out", out, "--limit", "5000", "--epochs", "3", "--quiet", "--threads",
                        "1"}) == 0);
  REQUIRE(run(program, {"--checkpoint", float_path, "--evaluate", "--quantize", int8_path,
                        "--int8-activations", "--threads", "1"}) == 0);
  const Checkpoint int8_checkpoint = load_checkpoint(int8_path);
  CHECK(quantization_of(int8_checkpoint) == Int8Activations::Dynamic);
  CHECK(run(program, {"--checkpoint", int8_path, "--evaluate", "--threads", "1"}) == 0);
  CHECK(run(program, {"--checkpoint", int8_path, "--predict", "0", "1", "--out", out}) == 0);

  // The accuracies themselves: float against int8 on the 10,000 test images.
  fashion::Options options;
  options.limit = 5000;
  const fashion::Data data = fashion::load_data(options);
  TwoLayers float_model, int8_model;
  load_into(load_checkpoint(float_path), float_model);
  quantize_like(int8_checkpoint, int8_model);
  load_into(int8_checkpoint, int8_model);
  float_model.eval();
  int8_model.eval();
  const double float_accuracy =
      fashion::evaluate(float_model, data.test_images, data.test_labels, 1000).accuracy;
  const double int8_accuracy =
      fashion::evaluate(int8_model, data.test_images, data.test_labels, 1000).accuracy;
  MESSAGE("test accuracy: float ", float_accuracy, ", int8 ", int8_accuracy);
  CHECK(float_accuracy > 0.75);
  CHECK(std::abs(int8_accuracy - float_accuracy) < 0.01);
  std::filesystem::remove_all(dir);
}

TEST_CASE("fashion: --int8-activations needs --quantize, and --quantize needs --checkpoint") {
  const fashion::Options defaults;
  CHECK_THROWS_WITH_AS(fashion::parse_flags({"--int8-activations"}, defaults),
                       doctest::Contains("--int8-activations requires --quantize"),
                       CLI::ParseError);
  CHECK_THROWS_WITH_AS(fashion::parse_flags({"--quantize", "x.tg"}, defaults),
                       doctest::Contains("--quantize requires --checkpoint"), CLI::ParseError);
  const fashion::Options o = fashion::parse_flags(
      {"--checkpoint", "m.tg", "--evaluate", "--quantize", "q.tg", "--int8-activations"}, defaults);
  CHECK(o.evaluate);
  CHECK(o.quantize == "q.tg");
  CHECK(o.int8_activations);
}
