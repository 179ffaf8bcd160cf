// Resume equivalence: N steps, save to a file, load into fresh objects, M more steps gives the
// same parameters, bit for bit, as N + M uninterrupted steps: for every optimizer, with a
// warmup schedule, gradient clipping and dropout. And restore is all or nothing.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "layers/model_checkpoint.h"
#include "optim/optim.h"
#include "optim_test_helpers.h"

using namespace tg;
using optim_test::bitwise_equal;

namespace {

struct Dense : Module {
  Tensor weight, bias;
  Dense(int64_t in, int64_t out, Generator& gen) : Module("Dense") {
    weight = register_parameter("weight", randn({in, out}, gen, 0.0f, 0.5f));
    bias = register_parameter("bias", zeros({out}));
  }
  Tensor forward(const Tensor& x) const { return matmul(x, weight) + bias; }
};

// A classifier with dropout (drawing from default_generator()) and a buffer.
struct TinyNet : Module {
  Generator init;  // declared first: the layers below draw from it
  Dense fc1, fc2;
  Tensor input_scale;
  explicit TinyNet(uint64_t seed)
      : Module("TinyNet"), init(seed), fc1(4, 8, init), fc2(8, 3, init) {
    register_module("fc1", fc1);
    register_module("fc2", fc2);
    input_scale = register_buffer("input_scale", full({4}, 0.5f));
  }
  Tensor loss(int64_t step) const {
    Generator data(1000 + static_cast<uint64_t>(step));
    const Tensor x = randn({6, 4}, data) * input_scale;
    std::vector<int32_t> labels;
    for (int i = 0; i < 6; ++i) labels.push_back(static_cast<int32_t>((step + i) % 3));
    const Tensor hidden = dropout(relu(fc1.forward(x)), 0.3f, is_training(), default_generator());
    return cross_entropy(fc2.forward(hidden), from_vector(labels, {6}));
  }
};

struct Run {
  std::unique_ptr<TinyNet> model;
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<LRSchedule> schedule;
  TrainingState state() { return {model.get(), optimizer.get(), schedule.get()}; }
  void train(int64_t from, int64_t to) {
    for (int64_t step = from; step < to; ++step) {
      optimizer->zero_grad();
      model->loss(step).backward();
      clip_grad_norm(model->named_parameters(), 0.5);
      optimizer->step();
      schedule->step();
    }
  }
};

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(TinyNet&)>;

Run make_run(uint64_t seed, const MakeOptimizer& make_optimizer) {
  Run run;
  run.model = std::make_unique<TinyNet>(seed);
  run.optimizer = make_optimizer(*run.model);
  run.schedule = std::make_unique<WarmupDecayLR>(*run.optimizer, 3, 20, Decay::Cosine);
  return run;
}

struct TempFile {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("tapegrad_resume_" + std::to_string(::getpid()) + ".tgc"))
                         .string();
  ~TempFile() { std::filesystem::remove(path); }
};

void check_resume_is_exact(const MakeOptimizer& make_optimizer, bool restore_generator = true) {
  constexpr int64_t kBefore = 7, kAfter = 6;
  manual_seed(42);
  Run straight = make_run(1, make_optimizer);
  straight.train(0, kBefore + kAfter);

  manual_seed(42);
  Run first = make_run(1, make_optimizer);
  first.train(0, kBefore);
  TempFile file;
  Checkpoint checkpoint = capture(first.state());
  checkpoint.set_int("step", kBefore);
  save_checkpoint(checkpoint, file.path);

  manual_seed(999);                           // a fresh process would have another stream position
  Run resumed = make_run(2, make_optimizer);  // and another initialisation
  const Checkpoint loaded = load_checkpoint(file.path);
  TrainingState resumed_state = resumed.state();
  if (!restore_generator) resumed_state.generators.clear();
  const LoadReport report = restore(loaded, resumed_state);
  if (!restore_generator) {  // dropout then draws other masks: the runs must part ways
    resumed.train(kBefore, kBefore + kAfter);
    CHECK_FALSE(bitwise_equal(resumed.model->fc1.weight, straight.model->fc1.weight));
    return;
  }
  CHECK(report.missing.empty());
  CHECK(report.unexpected.empty());
  CHECK(loaded.get_int("step") == kBefore);
  CHECK(resumed.optimizer->lr() == first.optimizer->lr());
  resumed.train(kBefore, kBefore + kAfter);

  const NamedTensors want = straight.model->named_parameters();
  const NamedTensors got = resumed.model->named_parameters();
  REQUIRE(want.size() == got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO(want[i].first);
    CHECK(bitwise_equal(want[i].second, got[i].second));
  }
  CHECK(default_generator().offset() == [&] {
    // the uninterrupted run's generator position, reached by the same draws
    manual_seed(42);
    Run again = make_run(1, make_optimizer);
    again.train(0, kBefore + kAfter);
    return default_generator().offset();
  }());
  // The same state, not just the same parameters: the next save is byte-identical.
  CHECK(encode_checkpoint(capture(resumed.state())) ==
        encode_checkpoint(capture(straight.state())));
}

}  // namespace

TEST_CASE("resume is bit-identical: SGD with Nesterov momentum and weight decay") {
  check_resume_is_exact([](TinyNet& m) {
    return std::make_unique<SGD>(
        m.named_parameters(),
        SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-3, .nesterov = true});
  });
}

TEST_CASE("resume is bit-identical: Adam with AMSGrad") {
  check_resume_is_exact([](TinyNet& m) {
    return std::make_unique<Adam>(m.parameters(), AdamOptions{.lr = 0.01, .amsgrad = true});
  });
}

TEST_CASE("resume is bit-identical: AdamW with no-decay groups") {
  check_resume_is_exact([](TinyNet& m) {
    AdamWOptions options;
    options.lr = 0.01;
    return std::make_unique<AdamW>(param_groups_no_decay(m.named_parameters(), 0.1), options);
  });
}

TEST_CASE("resume is bit-identical: centered RMSprop with momentum") {
  check_resume_is_exact([](TinyNet& m) {
    return std::make_unique<RMSprop>(m.parameters(),
                                     RMSpropOptions{.lr = 0.01, .momentum = 0.5, .centered = true});
  });
}

TEST_CASE("without the generator state the resumed run differs: dropout is really exercised") {
  check_resume_is_exact(
      [](TinyNet& m) { return std::make_unique<SGD>(m.parameters(), SGDOptions{.lr = 0.1}); },
      /*restore_generator=*/false);
}

TEST_CASE("restore is all or nothing") {
  const MakeOptimizer adam = [](TinyNet& m) {
    return std::make_unique<Adam>(m.named_parameters(), AdamOptions{.lr = 0.01});
  };
  manual_seed(1);
  Run source = make_run(1, adam);
  source.train(0, 3);
  const Checkpoint good = capture(source.state());

  Run target = make_run(5, adam);
  const Tensor weight_before = target.model->fc1.weight.clone();
  const double lr_before = target.optimizer->lr();
  const auto unchanged = [&] {
    CHECK(bitwise_equal(target.model->fc1.weight, weight_before));
    CHECK(target.optimizer->lr() == lr_before);
    CHECK(target.optimizer->step_count() == 0);
    CHECK(target.schedule->step_count() == 0);
  };

  SUBCASE("a model shape mismatch, after the optimizer state checked out") {
    Checkpoint bad;
    for (const auto& [name, t] : good.tensors())
      bad.add_tensor(name, name == "model.fc2.weight" ? zeros({8, 4}) : t);
    for (const auto& [key, value] : good.metadata()) bad.set_string(key, value);
    CHECK_THROWS_WITH_AS(restore(bad, target.state()),
                         doctest::Contains("'fc2.weight': the checkpoint has float32 [8,4], the "
                                           "target is float32 [8,3]"),
                         Error);
    unchanged();
  }
  SUBCASE("optimizer state of another type") {
    Run sgd = make_run(1, [](TinyNet& m) { return std::make_unique<SGD>(m.parameters()); });
    CHECK_THROWS_WITH_AS(restore(capture(sgd.state()), target.state()),
                         doctest::Contains("the state is for SGD, this optimizer is Adam"), Error);
    unchanged();
  }
  SUBCASE("strict restore of a model-only checkpoint") {
    CHECK_THROWS_WITH_AS(restore(model_checkpoint(*source.model), target.state()),
                         doctest::Contains("restore from checkpoint: the checkpoint has no "
                                           "optimizer state"),
                         Error);
    unchanged();
  }
  SUBCASE("non-strict restore of a model-only checkpoint loads the model") {
    restore(model_checkpoint(*source.model), target.state(), /*strict=*/false);
    CHECK(bitwise_equal(target.model->fc1.weight, source.model->fc1.weight));
    CHECK(target.optimizer->step_count() == 0);
  }
}

TEST_CASE("load_into: strict and non-strict, with every parameter and buffer") {
  TinyNet source(1), target(2);
  source.input_scale.data<float>()[0] = 9.0f;
  Checkpoint c = model_checkpoint(source);
  CHECK(c.has_tensor("model.fc1.weight"));
  CHECK(c.has_tensor("model.input_scale"));
  load_into(c, target);
  CHECK(bitwise_equal(target.fc2.weight, source.fc2.weight));
  CHECK(target.input_scale.to_vector<float>()[0] == 9.0f);

  Checkpoint partial;
  partial.add_tensor("model.fc1.weight", zeros({4, 8}));
  partial.add_tensor("model.head.weight", zeros({2}));
  CHECK_THROWS_WITH_AS(load_into(partial, target),
                       doctest::Contains("load_into TinyNet from checkpoint: strict load: 4 "
                                         "tensor(s) missing from the checkpoint: 'fc1.bias', "
                                         "'fc2.weight', 'fc2.bias', 'input_scale'"),
                       Error);
  CHECK(bitwise_equal(target.fc1.weight, source.fc1.weight));
  const LoadReport report = load_into(partial, target, /*strict=*/false);
  CHECK(report.missing.size() == 4);
  CHECK(report.unexpected == std::vector<std::string>{"head.weight"});
  CHECK(target.fc1.weight.to_vector<float>() == std::vector<float>(32, 0.0f));
}
