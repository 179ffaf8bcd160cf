#include "examples/fashion_common/fashion_common.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "examples/datasets/fashion_mnist.h"
#include "examples/datasets/loader.h"
#include "examples/fashion_common/cli.h"
#include "examples/fashion_common/fashion_distributed.h"
#include "examples/program/program.h"
#include "examples/program/quantized_model.h"
#include "examples/reporting/heatmap.h"
#include "examples/reporting/metrics.h"
#include "examples/reporting/progress.h"
#include "framework/backend/backend.h"
#include "framework/serialize.h"
#include "framework/tapegrad.h"
#include "layers/model_checkpoint.h"
#include "optim/optim.h"

namespace fashion {

using namespace tg;

// ---- data ----

static constexpr int64_t kValidationImages = 5000;
static constexpr float kPixelMean = 0.2860f, kPixelStd = 0.3530f;

Data load_data(const Options& options) {
  NoGradGuard no_recording;
  const data::LabelledImages train = data::load_fashion_mnist(data::Split::Train, options.data);
  const data::LabelledImages test = data::load_fashion_mnist(data::Split::Test, options.data);
  const int64_t in_file = train.images.size(0);
  check(in_file > kValidationImages, "--data: the training file of ", options.data, " has ",
        in_file, " images; the programs hold out the last ", kValidationImages,
        " for validation and need more than that");
  const int64_t kept = in_file - kValidationImages;
  const int64_t used = options.limit > 0 ? std::min(options.limit, kept) : kept;
  // Batches are all full (the last partial one is dropped), so fewer images than a batch would
  // train on nothing.
  const int64_t global_batch = options.batch_size * tg::distributed::world_size();
  check(used >= global_batch, options.limit > 0 ? "--limit: " : "--data: ", used,
        " training images make no batch of ", global_batch, " (lower --batch-size",
        options.limit > 0 ? " or raise --limit)" : ")");
  auto normalised = [](const Tensor& x) { return data::normalize(x, kPixelMean, kPixelStd); };
  return {normalised(narrow(train.images, 0, 0, used)),
          narrow(train.labels, 0, 0, used),
          normalised(narrow(train.images, 0, kept, kValidationImages)),
          narrow(train.labels, 0, kept, kValidationImages),
          normalised(test.images),
          test.labels};
}

static std::string checkpoint_path(const Options& options) {
  return options.save.empty() ? options.out + "/model.tg" : options.save;
}

static Device device_of(const Options& options) { return *device_named(options.device); }

// ---- evaluation ----

Evaluation evaluate(const Classifier& model, const Tensor& images, const Tensor& labels,
                    int64_t batch_size) {
  // Scoring in training mode would drop units at random (dropout) and score a noisy model.
  check(!model.is_training(), "evaluate: the model is in training mode (dropout on); call ",
        "model.eval() first");
  NoGradGuard no_recording;
  const Device device = model.device();
  Evaluation result;
  double total_loss = 0;
  // Distributed, each rank scores its share of the set; the sums below join them.
  const data::Share share = share_of_set(images.size(0));
  const int64_t n = share.begin + share.size;
  for (int64_t start = share.begin; start < n; start += batch_size) {
    const int64_t count = std::min(batch_size, n - start);
    const Tensor x = narrow(images, 0, start, count).to(device);
    const Tensor y = narrow(labels, 0, start, count).to(device);
    const Tensor logits = model.forward(x);
    total_loss += cross_entropy(logits, y, {.reduction = Reduction::Sum}).item();
    const std::vector<int32_t> predicted = argmax(logits, 1).to(Device::CPU).to_vector<int32_t>();
    result.predictions.insert(result.predictions.end(), predicted.begin(), predicted.end());
  }
  result.predictions = join_shares(result.predictions, share, images.size(0));
  result.loss = sum_over_ranks(total_loss) / static_cast<double>(images.size(0));
  result.accuracy = accuracy(labels.to_vector<int32_t>(), result.predictions);
  return result;
}

// ---- training ----

// A coat is a coat either way round: mirrored images give the model twice the variety, so it
// overfits later. The coin flips come from the default generator, which checkpoints carry: a
// resumed run draws the same ones.
Tensor random_flips(const Tensor& images) {
  NoGradGuard no_recording;
  const int64_t n = images.size(0), width = images.size(2);
  std::vector<int32_t> reversed(static_cast<size_t>(width));
  for (int64_t i = 0; i < width; ++i) reversed[static_cast<size_t>(i)] = int32_t(width - 1 - i);
  const Tensor mirrored = index_select(images, 2, from_vector(reversed, {width}, images.device()));
  const Tensor flip = bernoulli({n, 1, 1}, 0.5f, default_generator(), images.device());
  return images + flip * (mirrored - images);
}

// A shirt moved two pixels is still a shirt: each image is translated by (dy, dx), both drawn
// uniformly from -max_shift..max_shift, and the pixels moved in are background (a black pixel,
// normalised). A 7x7 patch then sees the garment cut in ever new places, which is what a patch
// model, unlike a convolution, cannot learn by itself. Like the flips, the draws come from the
// default generator (resumable); they are made on the CPU, before the batch goes to the device.
Tensor random_shifts(const Tensor& images, int max_shift) {
  NoGradGuard no_recording;
  check(images.dim() == 3 && images.device() == Device::CPU,
        "random_shifts: expected CPU images [B, H, W], got ", to_string(images.shape()), " on ",
        to_string(images.device()));
  check(max_shift >= 0, "random_shifts: max_shift must be >= 0, got ", max_shift);
  const int64_t n = images.size(0), height = images.size(1), width = images.size(2);
  const std::vector<float> pixels = images.to_vector<float>();
  const std::vector<float> draws =
      uniform({n, 2}, 0.0f, 1.0f, default_generator()).to_vector<float>();
  const float background = (0.0f - kPixelMean) / kPixelStd;
  std::vector<float> moved(pixels.size(), background);
  const int64_t choices = 2 * max_shift + 1;
  for (int64_t i = 0; i < n; ++i) {
    // u in [0, 1) -> an offset in -max_shift..max_shift, each with probability 1 / choices
    const auto offset = [&](int64_t k) {
      return std::min<int64_t>(static_cast<int64_t>(draws[size_t(2 * i + k)] * float(choices)),
                               choices - 1) -
             max_shift;
    };
    const int64_t dy = offset(0), dx = offset(1);
    const float* from = pixels.data() + i * height * width;
    float* to = moved.data() + i * height * width;
    // output pixel (y, x) shows input pixel (y - dy, x - dx) when that lies inside the image
    for (int64_t y = std::max<int64_t>(0, dy); y < std::min(height, height + dy); ++y)
      for (int64_t x = std::max<int64_t>(0, dx); x < std::min(width, width + dx); ++x)
        to[y * width + x] = from[(y - dy) * width + (x - dx)];
  }
  return from_vector(moved, images.shape());
}

// The epoch history travels in the checkpoint as text, one epoch per line.
static std::string history_text(const std::vector<EpochMetrics>& history) {
  std::ostringstream out;
  out.precision(17);
  for (const EpochMetrics& m : history)
    out << m.epoch << ' ' << m.train_loss << ' ' << m.train_accuracy << ' ' << m.valid_loss << ' '
        << m.valid_accuracy << ' ' << m.seconds << '\n';
  return out.str();
}

static std::vector<EpochMetrics> parse_history(const std::string& text) {
  std::vector<EpochMetrics> history;
  std::istringstream in(text);
  EpochMetrics m;
  while (in >> m.epoch >> m.train_loss >> m.train_accuracy >> m.valid_loss >> m.valid_accuracy >>
         m.seconds)
    history.push_back(m);
  return history;
}

static void write_confusion(const std::string& out_dir, const Tensor& labels,
                            const std::vector<int32_t>& predictions) {
  const auto counts = confusion_counts(labels.to_vector<int32_t>(), predictions, 10);
  const std::vector<std::string> names(data::kFashionMnistClasses.begin(),
                                       data::kFashionMnistClasses.end());
  confusion_matrix_image(counts, names, "Fashion-MNIST test set")
      .save_png(out_dir + "/confusion.png");
}

// Where a quiet progress bar writes.
static FILE* null_output() {
  static FILE* sink = std::fopen("/dev/null", "w");
  return sink;
}

Result train(Classifier& model, const Data& data, const Options& options) {
  set_num_threads(options.threads);
  const Device device = device_of(options);
  model.to(device);
  program::create_output_directory("--out", options.out);
  const auto save_dir = std::filesystem::path(checkpoint_path(options)).parent_path();
  if (!save_dir.empty()) program::create_output_directory("--save", save_dir.string());

  AdamWOptions adam;
  adam.lr = options.lr;
  adam.weight_decay = options.weight_decay;
  AdamW optimizer(param_groups_no_decay(model.named_parameters(), options.weight_decay), adam);
  const data::DataLoader loader(data.train_images, data.train_labels,
                                {.batch_size = options.batch_size,
                                 .shuffle = true,
                                 .drop_last = true,
                                 .seed = options.seed,
                                 .rank = tg::distributed::rank(),
                                 .world_size = tg::distributed::world_size()});
  const int64_t steps_per_epoch = loader.num_batches();
  // Warm up over the first epoch (at most a fifth of the run), then cosine decay to 0.
  const int64_t total_steps = steps_per_epoch * options.epochs;
  const int64_t warmup_steps = std::max<int64_t>(1, std::min(steps_per_epoch, total_steps / 5));
  WarmupDecayLR schedule(optimizer, warmup_steps, total_steps, Decay::Cosine);
  const TrainingState state{&model, &optimizer, &schedule};

  Result result;
  int start_epoch = 0;
  if (!options.resume.empty()) {
    const Checkpoint checkpoint = load_checkpoint(options.resume);
    restore(checkpoint, state);
    start_epoch = static_cast<int>(checkpoint.get_int("epoch"));
    result.history = parse_history(checkpoint.get_string("history"));
    if (tg::distributed::is_main())
      std::printf("resumed from %s after epoch %d\n", options.resume.c_str(), start_epoch);
  }
  tg::distributed::broadcast_parameters(model);  // distributed: every rank starts from rank 0's
  tg::distributed::separate_random_streams();    // and draws its own dropout masks and flips
  tg::distributed::GradientAverager averager(model);

  const auto started = std::chrono::steady_clock::now();
  const std::vector<Tensor> parameters = model.parameters();
  // The schedule spans all options.epochs even when --stop-after ends this sitting early, so that
  // a resumed run continues the same curve.
  const int last_epoch =
      options.stop_after > 0 ? std::min(options.stop_after, options.epochs) : options.epochs;
  for (int epoch = start_epoch; epoch < last_epoch; ++epoch) {
    const auto epoch_started = std::chrono::steady_clock::now();
    model.train();
    ProgressBar bar("epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options.epochs),
                    steps_per_epoch,
                    options.quiet || !tg::distributed::is_main() ? null_output() : stdout);
    double loss_sum = 0, correct = 0, seen = 0;
    for (const data::Batch& batch : loader.epoch(epoch)) {
      const Tensor shifted =
          options.max_shift > 0 ? random_shifts(batch.inputs, options.max_shift) : batch.inputs;
      const Tensor inputs = shifted.to(device), y = batch.targets.to(device);
      const Tensor x = options.random_flips ? random_flips(inputs) : inputs;
      optimizer.zero_grad();
      const Tensor logits = model.forward(x);
      const Tensor loss = cross_entropy(logits, y);
      // Checked before backward: a diverged run stops with the weights of the last good step.
      const double step_loss = loss.item();
      program::check_loss_finite(step_loss, schedule.step_count() + 1, options.lr);
      loss.backward();
      average_gradients(averager, x.size(0));
      clip_grad_norm(parameters, 1.0);
      optimizer.step();
      schedule.step();
      const int64_t b = x.size(0);
      loss_sum += step_loss * static_cast<double>(b);
      correct += sum(eq(argmax(logits, 1), y).to(DType::Float32)).item();
      seen += static_cast<double>(b);
      // Rank 0's figures, but samples/s counts every rank's images.
      bar.step(b * tg::distributed::world_size(),
               {{"loss", loss_sum / seen}, {"acc", correct / seen}});
    }
    sum_epoch_figures(loss_sum, correct, seen);
    bar.finish({{"loss", loss_sum / seen}, {"acc", correct / seen}});
    model.eval();  // dropout off while scoring; the next epoch turns training back on
    const Evaluation valid = evaluate(model, data.valid_images, data.valid_labels, 1000);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_started).count();
    result.history.push_back(
        {epoch + 1, loss_sum / seen, correct / seen, valid.loss, valid.accuracy, seconds});
    if (!tg::distributed::is_main()) continue;  // only rank 0 prints and writes files
    std::printf("epoch %d: train loss %.4f acc %.2f%% | valid loss %.4f acc %.2f%% | %.1f s\n",
                epoch + 1, loss_sum / seen, 100 * correct / seen, valid.loss, 100 * valid.accuracy,
                seconds);
    Checkpoint checkpoint = capture(state);
    checkpoint.set_int("epoch", epoch + 1);
    checkpoint.set_string("history", history_text(result.history));
    save_checkpoint(checkpoint, checkpoint_path(options));
    save_training_curves(options.out, result.history);
  }
  // Training time of the whole run: this sitting, plus the epochs of earlier ones (--resume).
  result.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (int epoch = 0; epoch < start_epoch && epoch < static_cast<int>(result.history.size());
       ++epoch)
    result.train_seconds += result.history[static_cast<size_t>(epoch)].seconds;
  model.eval();
  result.test = evaluate(model, data.test_images, data.test_labels, 1000);
  result.test_accuracy = result.test.accuracy;
  if (tg::distributed::is_main())
    write_confusion(options.out, data.test_labels, result.test.predictions);
  return result;
}

// ---- the command line ----

// The model of --checkpoint, float or int8, in eval mode on --device; with --quantize, quantized
// and written there first.
static std::unique_ptr<Classifier> load_for_inference(const Program& program,
                                                      const Options& options) {
  set_num_threads(options.threads);
  manual_seed(options.seed);
  std::unique_ptr<Classifier> model = program.make_model(options);
  program::load_model(load_checkpoint(options.checkpoint), *model);
  if (!options.quantize.empty())
    program::save_quantized(*model, options.int8_activations, Checkpoint(), options.quantize);
  model->to(device_of(options));
  model->eval();
  return model;
}

static int evaluate_checkpoint(const Program& program, const Options& options) {
  const std::unique_ptr<Classifier> model = load_for_inference(program, options);
  const Data data = load_data(options);
  const auto started = std::chrono::steady_clock::now();
  const std::clock_t cpu_started = std::clock();  // a busy machine's fairer clock, at 1 thread
  const Evaluation test = evaluate(*model, data.test_images, data.test_labels, 1000);
  std::printf("test accuracy %.2f%%, loss %.4f (%s), scored in %.2f s (CPU %.2f s)\n",
              100 * test.accuracy, test.loss, options.checkpoint.c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
              static_cast<double>(std::clock() - cpu_started) / CLOCKS_PER_SEC);
  return 0;
}

static int predict(const Program& program, const Options& options) {
  const std::unique_ptr<Classifier> model = load_for_inference(program, options);
  program::create_output_directory("--out", options.out);  // before the work, not after
  const data::LabelledImages test = data::load_fashion_mnist(data::Split::Test, options.data);
  const int64_t n = test.images.size(0);
  std::vector<Image> tiles;
  std::vector<std::string> captions;
  NoGradGuard no_recording;
  for (int64_t index : options.predict) {
    check(index >= 0 && index < n, "--predict: test image ", index, " does not exist (0 to ", n - 1,
          ")");
    const Tensor image = narrow(test.images, 0, index, 1);
    const Tensor input = data::normalize(image, kPixelMean, kPixelStd).to(model->device());
    const auto p = softmax(model->forward(input), 1).to(Device::CPU).to_vector<float>();
    const auto best = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
    const int truth = test.labels.to_vector<int32_t>()[static_cast<size_t>(index)];
    std::printf("test image %lld: predicted %s (%.1f%%), true class %s%s\n",
                static_cast<long long>(index), data::kFashionMnistClasses[best], 100 * p[best],
                data::kFashionMnistClasses[truth], best == truth ? "" : "  <- wrong");
    tiles.push_back(greyscale_image(image.data<float>(), 28, 28, 6));
    // The true class, and what the model said when it was wrong (as in attention.png).
    captions.push_back(
        std::string(data::kFashionMnistClasses[truth]) +
        (best == truth ? "" : " (said " + std::string(data::kFashionMnistClasses[best]) + ")"));
  }
  image_grid(tiles, std::min<int>(8, static_cast<int>(tiles.size())), 8, captions)
      .save_png(options.out + "/predictions.png");
  std::printf("wrote %s/predictions.png\n", options.out.c_str());
  return 0;
}

static int train_or_predict(const Program& program, const Options& options) {
  (void)zeros({1}, DType::Float32, device_of(options));  // --device cuda without a GPU: say so
  if (!options.predict.empty()) return predict(program, options);
  if (options.evaluate) return evaluate_checkpoint(program, options);
  check(options.quantize.empty(), program.name,
        ": --quantize needs --evaluate or --predict (it quantizes the model of --checkpoint)");
  if (options.distributed) start_distributed(program.name);
  // Before the data and the training; rank 0 writes every file.
  if (tg::distributed::is_main()) program::create_output_directory("--out", options.out);
  manual_seed(options.seed);
  std::unique_ptr<Classifier> model = program.make_model(options);
  if (tg::distributed::is_main())
    std::printf("%s: %lld parameters, %d epochs, batch %lld, lr %g, %d threads\n",
                program.name.c_str(), static_cast<long long>(model->parameter_count()),
                options.epochs, static_cast<long long>(options.batch_size), options.lr,
                options.threads);
  const Data data = load_data(options);
  const Result result = train(*model, data, options);
  if (!tg::distributed::is_main()) return 0;
  if (program.after_training) program.after_training(*model, data, options);
  std::printf("test accuracy %.2f%% after %zu epochs, training time %.1f s (%.1f min)\n",
              100 * result.test_accuracy, result.history.size(), result.train_seconds,
              result.train_seconds / 60);
  std::printf("wrote %s/{loss.png, accuracy.png, metrics.csv, confusion.png} and %s\n",
              options.out.c_str(), checkpoint_path(options).c_str());
  if (static_cast<int>(result.history.size()) < options.epochs)
    std::printf("stopped after epoch %zu of %d: continue with --resume %s\n", result.history.size(),
                options.epochs, checkpoint_path(options).c_str());
  return 0;
}

int run_program(const Program& program, int argc, char** argv) {
  Options options = program.defaults;
  if (options.out.empty()) options.out = "out/" + program.name;
  CLI::App app(program.description, program.name);
  add_flags(app, options);
  return program::run_main(program.name, app, argc, argv, [&] {
    try {
      return train_or_predict(program, options);
    } catch (const std::exception& error) {
      // In an MPI job one rank's error ends every rank, with its message.
      if (tg::distributed::world_size() > 1)
        tg::distributed::abort_job(program.name + ": " + error.what(), program::kFailed);
      throw;
    }
  });
}

}  // namespace fashion
