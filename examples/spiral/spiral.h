// The spiral example's data, model and training loop, kept apart from main.cpp so that the
// learning test (tests/examples/test_spiral.cpp) trains exactly what the program trains.
//
// Everything here uses the engine directly, with no layers/ and no optim/: the parameters are
// plain tensors that require grad, the forward is tg::matmul and tg::relu, the loss is
// tg::cross_entropy, loss.backward() fills every .grad(), and the update is tensor arithmetic
// under NoGradGuard. That is the whole of training; the layers and optimizers only package it.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "framework/tapegrad.h"

namespace spiral {

// Points in the plane, labels in [0, classes).
struct Dataset {
  tg::Tensor points;  // [N, 2] float32
  tg::Tensor labels;  // [N] int32
  int classes = 0;
};

// The CS231n spiral: for class c and t evenly spaced in [0, 1],
//   r = t,  theta = 4c + 4t + noise * N(0, 1),  point = r (sin theta, cos theta).
// Each class is one arm winding outward from the origin; the arms interleave, so no straight
// line separates them and a linear classifier stays near 50%. Same seed, same points.
Dataset make_spiral(int points_per_class, int classes, uint64_t seed, float noise = 0.2f);

// logits = relu(x W1 + b1) W2 + b2
struct Mlp {
  tg::Tensor w1, b1, w2, b2;  // [in, hidden], [hidden], [hidden, out], [out]
  tg::Tensor forward(const tg::Tensor& x) const;
  std::vector<tg::Tensor*> parameters() { return {&w1, &b1, &w2, &b2}; }
};

// He initialisation, W ~ N(0, 2 / fan_in): it keeps the variance of the activations steady
// through a ReLU, which zeroes half of them. Biases start at zero.
Mlp make_mlp(int inputs, int hidden, int outputs, uint64_t seed);

struct TrainOptions {
  int steps = 1000;
  float lr = 0.5f;
  float momentum = 0.9f;       // 0 gives plain gradient descent
  float weight_decay = 1e-4f;  // L2 on the weights (not biases): smoother regions
  int log_every = 100;         // 0: never call on_log
};

struct StepReport {
  int step;        // 1-based: the number of updates done
  float loss;      // cross-entropy before this step's update
  float accuracy;  // fraction correct, same forward
};

struct TrainResult {
  float final_loss = 0;
  float accuracy = 0;  // on the training set after the last update
  double seconds = 0;  // wall time of the training loop
};

// Full-batch gradient descent with momentum on every point of data. on_log is called at step 1
// and every log_every steps.
TrainResult train(Mlp& model, const Dataset& data, const TrainOptions& options,
                  const std::function<void(const StepReport&)>& on_log = {});

// argmax of the logits, computed without recording: [N] int32.
tg::Tensor predict(const Mlp& model, const tg::Tensor& points);
float accuracy(const Mlp& model, const Dataset& data);

}  // namespace spiral
