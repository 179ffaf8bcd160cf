// The Fashion-MNIST programs' shared code, on the real data (Debian's dataset-fashion-mnist):
// a short training run must learn, a checkpoint must predict as the model did, flags must fail
// clearly.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <set>

#include "examples/datasets/idx.h"
#include "examples/fashion_common/cli.h"
#include "examples/fashion_common/fashion_common.h"
#include "framework/backend/cuda_status.h"
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
  reloaded.eval();
  const fashion::Evaluation again =
      fashion::evaluate(reloaded, data.test_images, data.test_labels, 250);
  CHECK(again.predictions == result.test.predictions);
  CHECK(again.accuracy == result.test_accuracy);
}

static std::string joined(const std::vector<std::string>& args) {
  std::string text;
  for (const std::string& arg : args) text += (text.empty() ? "" : " ") + arg;
  return text;
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
  CHECK_FALSE(fashion::parse_flags({"--flips", "off"}, defaults).random_flips);
  CHECK(fashion::parse_flags({"--shift", "2"}, defaults).max_shift == 2);
  auto refuses = [&](const std::vector<std::string>& args, const std::string& message) {
    INFO("flags: ", joined(args), ", expected message: ", message);
    CHECK_THROWS_WITH_AS(fashion::parse_flags(args, defaults), doctest::Contains(message.c_str()),
                         CLI::ParseError);
  };
  refuses({"--flips", "maybe"}, "--flips = maybe");
  refuses({"--shift", "15"}, "--shift: expected a whole number from 0 to 14, got '15'");
  refuses({"--shift", "-1"}, "--shift");
  refuses({"--batch-size", "0"},
          "--batch-size: expected a whole number from 1 to 1000000, got '0'");
  refuses({"--epochs", "three"},
          "--epochs: expected a whole number from 1 to 1000000, got 'three'");
  refuses({"--lr"}, "--lr");
  refuses({"--colour", "red"}, "--colour");
  refuses({"--device", "tpu"}, "--device: tpu not in {cpu,cuda}");
  refuses({"--predict", "3"}, "--predict requires --checkpoint");
  refuses({"--predict", "3", "--checkpoint", "m.tg", "--resume", "r.tg"},
          "--resume excludes --predict");
  refuses({"--lr", "inf"}, "--lr: expected a finite number, got inf");
  refuses({"--lr", "-0.1"}, "--lr: expected a number > 0, got -0.1");
  CHECK(fashion::usage("fashion_mlp", "d", defaults).find("--epochs") != std::string::npos);
}

TEST_CASE("fashion flags: integers do not wrap and --limit has no silent meanings") {
  // --epochs 4294967297 trained 1 epoch (it wrapped to an int), --threads -4294967295 used 1,
  // --limit 0 and -5 meant all images.
  const fashion::Options defaults;
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--epochs", "4294967297"},
                                             {"--threads", "-4294967295"},
                                             {"--limit", "0"},
                                             {"--limit", "-5"},
                                             {"--limit", "1e9"},
                                             {"--predict", "-1", "--checkpoint", "m.tg"}}) {
    INFO("flags: ", joined(args));
    CHECK_THROWS_WITH_AS(fashion::parse_flags(args, defaults),
                         doctest::Contains("expected a whole number from"), CLI::ParseError);
  }
  CHECK(fashion::parse_flags({"--limit", "1"}, defaults).limit == 1);
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
  options.random_flips = true;  // its coin flips and shifts must come back from the checkpoint too
  options.max_shift = 1;
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

TEST_CASE(
    "fashion: random shifts move each image whole by at most max_shift, background moves in") {
  manual_seed(9);
  const int64_t n = 200, h = 5, w = 6;
  // Pixel values that name their place (1 + y * w + x), so where each one went can be read back.
  std::vector<float> pixels(static_cast<size_t>(n * h * w));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = 1.0f + float(i % size_t(h * w));
  const std::vector<float> after =
      fashion::random_shifts(from_vector(pixels, {n, h, w}), 2).to_vector<float>();
  const float background = -0.2860f / 0.3530f;
  std::set<std::pair<int64_t, int64_t>> offsets_seen;
  for (int64_t i = 0; i < n; ++i) {
    // The offset is where the pixel that was at (2, 2) (value 1 + 2w + 2) is now.
    int64_t dy = 99, dx = 99;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        if (after[size_t(i * h * w + y * w + x)] == 1.0f + float(2 * w + 2)) dy = y - 2, dx = x - 2;
    REQUIRE_MESSAGE(std::abs(dy) <= 2, "image ", i, ": the centre pixel is gone");
    REQUIRE(std::abs(dx) <= 2);
    offsets_seen.insert({dy, dx});
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        const int64_t sy = y - dy, sx = x - dx;  // where this pixel came from
        const bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
        CHECK(after[size_t(i * h * w + y * w + x)] ==
              (inside ? 1.0f + float(sy * w + sx) : background));
      }
  }
  CHECK(offsets_seen.size() == 25);  // every offset of -2..2 x -2..2 came up in 200 draws
  // A shift of 0 leaves the images alone; images on a device other than the CPU are refused.
  CHECK(fashion::random_shifts(from_vector(pixels, {n, h, w}), 0).to_vector<float>() == pixels);
  CHECK_THROWS_WITH_AS(fashion::random_shifts(from_vector(pixels, {n * h, w}), 1),
                       doctest::Contains("expected CPU images [B, H, W], got [1000,6]"), Error);
}

TEST_CASE(
    "fashion: a training file smaller than the validation hold-out names --data, not --limit") {
  // A 100-image training file said "--limit: -4900 training images make no batch" when no
  // --limit was given.
  const std::string dir = temp_dir("tiny_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  data::write_idx_gz(dir + "/train-images-idx3-ubyte.gz", {100, 28, 28},
                     std::vector<uint8_t>(100 * 28 * 28, 7));
  data::write_idx_gz(dir + "/train-labels-idx1-ubyte.gz", {100}, std::vector<uint8_t>(100, 3));
  data::write_idx_gz(dir + "/t10k-images-idx3-ubyte.gz", {2, 28, 28},
                     std::vector<uint8_t>(2 * 28 * 28, 7));
  data::write_idx_gz(dir + "/t10k-labels-idx1-ubyte.gz", {2}, {1, 2});
  fashion::Options options;
  options.data = dir;
  const std::string expected = "--data: the training file of " + dir +
                               " has 100 images; the programs hold out the last 5000";
  CHECK_THROWS_WITH_AS(fashion::load_data(options), doctest::Contains(expected.c_str()), Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "fashion: --predict with --device cuda where no GPU is usable fails, not runs on the CPU") {
  if (cuda_available()) {  // then the flag is honoured: covered by the CUDA suites
    CHECK(zeros({1}, DType::Float32, Device::CUDA).device() == Device::CUDA);
    return;
  }
  fashion::Program program;
  program.name = "fashion_test";
  bool model_made = false;
  program.make_model = [&](const fashion::Options&) -> std::unique_ptr<fashion::Classifier> {
    model_made = true;
    return std::make_unique<SmallMLP>();
  };
  std::vector<std::string> args{"fashion_test", "--checkpoint", "none.tg", "--predict", "0",
                                "--device",     "cuda"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  CHECK(fashion::run_program(program, static_cast<int>(argv.size()), argv.data()) == 1);
  CHECK_FALSE(model_made);  // it stopped at the device, before reading anything
}

TEST_CASE("fashion: a loss that turns NaN stops training and names the step") {
  if (!have_data()) {
    MESSAGE("skipped: install Debian's dataset-fashion-mnist to run this test");
    return;
  }
  fashion::Options options;
  options.limit = 256;
  options.batch_size = 64;
  options.epochs = 1;
  options.lr = 1e30;  // diverges at once
  options.quiet = true;
  options.out = temp_dir("nan_" + std::to_string(::getpid()));
  const fashion::Data data = fashion::load_data(options);
  manual_seed(1);
  SmallMLP model;
  CHECK_THROWS_WITH_AS(fashion::train(model, data, options),
                       doctest::Contains("; training stopped (learning rate 1e+30: lower --lr"),
                       Error);
  std::filesystem::remove_all(options.out);
}

TEST_CASE("fashion: evaluate scores a model in eval mode and refuses one in training mode") {
  // With dropout on, the score is of a randomly thinned model: lower, and different each time.
  manual_seed(1);
  SmallMLP model(0.5f);  // a module starts in training mode
  Generator gen(2);
  const Tensor images = randn({6, 28, 28}, gen);
  const Tensor labels = from_vector(std::vector<int32_t>{0, 1, 2, 3, 4, 5}, {6});
  CHECK_THROWS_WITH_AS(fashion::evaluate(model, images, labels, 4),
                       doctest::Contains("training mode (dropout on); call model.eval() first"),
                       Error);
  model.eval();
  const fashion::Evaluation first = fashion::evaluate(model, images, labels, 4);
  const fashion::Evaluation second = fashion::evaluate(model, images, labels, 4);
  CHECK(first.predictions.size() == 6);
  CHECK(first.predictions == second.predictions);  // no dropout: the same model both times
  CHECK(first.loss == second.loss);
}
