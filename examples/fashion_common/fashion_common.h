// What the three Fashion-MNIST programs share: flags, data, the training loop, evaluation, the
// pictures, checkpoints and --predict. Each program only defines its model (a Classifier) and
// its default flags, then calls run_program().
//
// Data: the 60,000 training images minus the last 5,000, which are held out for validation
// (the curves); the 10,000 test images give the final accuracy. Pixels are normalised with the
// training set's mean and standard deviation (0.2860, 0.3530).
//
// Training: AdamW (no weight decay on biases and norms), linear warmup over the first epoch (at
// most a fifth of the steps) then cosine decay to 0, gradient clipping at norm 1. A checkpoint is
// written after every epoch; --resume continues from one and reproduces the uninterrupted run
// (--stop-after splits a long run into sittings).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "examples/reporting/plot.h"
#include "framework/tensor.h"
#include "layers/module.h"

namespace fashion {

struct Options {
  int epochs = 10;
  int stop_after = 0;  // stop after this epoch, as if interrupted (0: run all epochs)
  int64_t batch_size = 128;
  double lr = 1e-3;
  double weight_decay = 0.01;
  bool random_flips = false;  // mirror each training image left-right with probability 1/2
  int max_shift = 0;          // move each training image by up to this many pixels each way
  uint64_t seed = 0;
  int threads = 2;
  std::string device = "cpu";
  std::string out;  // default out/<program>
  std::string data = "/usr/share/datasets/fashion-mnist";
  int64_t limit = -1;      // train on the first N images only (quick runs, tests)
  std::string save;        // where the checkpoint goes after every epoch (default OUT/model.tg)
  std::string resume;      // checkpoint to continue from
  std::string checkpoint;  // --predict: the model to load
  std::vector<int64_t> predict;   // test image indices to classify
  bool quiet = false;             // no progress bar (tests)
  bool distributed = false;       // one process of an MPI job (fashion_distributed.h)
  bool evaluate = false;          // score the test set with the model of --checkpoint
  std::string quantize;           // with --evaluate/--predict: write the model in int8 here
  bool int8_activations = false;  // with --quantize: int8 x int8 products
};
// The flags that set these: examples/fashion_common/cli.h.

// A model that maps images [B, 28, 28] (normalised) to class scores [B, 10].
class Classifier : public tg::Module {
 public:
  using tg::Module::Module;
  virtual tg::Tensor forward(const tg::Tensor& images) const = 0;
};

struct Data {
  tg::Tensor train_images, train_labels, valid_images, valid_labels, test_images, test_labels;
};
Data load_data(const Options& options);

struct Evaluation {
  double loss = 0, accuracy = 0;
  std::vector<int32_t> predictions;
};
// Loss and accuracy over a whole set, without recording. The model must be in eval mode
// (model.eval(): no dropout); in training mode this throws.
Evaluation evaluate(const Classifier& model, const tg::Tensor& images, const tg::Tensor& labels,
                    int64_t batch_size);

// Each image of [B, H, W] mirrored left to right with probability 1/2 (--flips on).
tg::Tensor random_flips(const tg::Tensor& images);
// Each image of CPU [B, H, W] moved by up to max_shift pixels down/up and right/left, each offset
// uniform; background fills in (--shift N).
tg::Tensor random_shifts(const tg::Tensor& images, int max_shift);

struct Result {
  double test_accuracy = 0;
  double train_seconds = 0;
  std::vector<tg::EpochMetrics> history;
  Evaluation test;
};
// Trains model on data as options say, writing checkpoints and pictures into options.out.
Result train(Classifier& model, const Data& data, const Options& options);

struct Program {
  std::string name, description;
  Options defaults;
  std::function<std::unique_ptr<Classifier>(const Options&)> make_model;
  // Extra pictures after training (the attention maps), given the trained model and the data.
  std::function<void(const Classifier&, const Data&, const Options&)> after_training;
};
// The whole command line: --help, --predict, or train, test and draw. Returns the exit code.
int run_program(const Program& program, int argc, char** argv);

}  // namespace fashion
