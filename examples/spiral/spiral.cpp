#include "examples/spiral/spiral.h"

#include <chrono>
#include <cmath>

#include "examples/program/program.h"

namespace spiral {

Dataset make_spiral(int points_per_class, int classes, uint64_t seed, float noise) {
  tg::check(points_per_class >= 2 && classes >= 1, "make_spiral: need at least 2 points per ",
            "class and 1 class, got ", points_per_class, " and ", classes);
  const int total = points_per_class * classes;
  tg::Generator gen(seed);
  const std::vector<float> jitter = tg::randn({total}, gen, 0.0f, noise).to_vector<float>();

  std::vector<float> points(static_cast<size_t>(total) * 2);
  std::vector<int32_t> labels(total);
  for (int c = 0; c < classes; ++c) {
    for (int i = 0; i < points_per_class; ++i) {
      const int n = c * points_per_class + i;
      const float t = static_cast<float>(i) / static_cast<float>(points_per_class - 1);
      const float theta = 4.0f * static_cast<float>(c) + 4.0f * t + jitter[n];
      points[2 * n] = t * std::sin(theta);
      points[2 * n + 1] = t * std::cos(theta);
      labels[n] = c;
    }
  }
  return {tg::from_vector(points, {total, 2}), tg::from_vector(labels, {total}), classes};
}

tg::Tensor Mlp::forward(const tg::Tensor& x) const {
  const tg::Tensor hidden = tg::relu(tg::matmul(x, w1) + b1);  // [N, hidden]
  return tg::matmul(hidden, w2) + b2;                          // [N, classes]
}

Mlp make_mlp(int inputs, int hidden, int outputs, uint64_t seed) {
  tg::Generator gen(seed);
  Mlp model;
  model.w1 = tg::randn({inputs, hidden}, gen, 0.0f, std::sqrt(2.0f / inputs));
  model.b1 = tg::zeros({hidden});
  model.w2 = tg::randn({hidden, outputs}, gen, 0.0f, std::sqrt(2.0f / hidden));
  model.b2 = tg::zeros({outputs});
  for (tg::Tensor* p : model.parameters()) p->set_requires_grad();
  return model;
}

namespace {

float fraction_correct(const tg::Tensor& logits, const tg::Tensor& labels) {
  const tg::Tensor correct = tg::eq(tg::argmax(logits, 1), labels);  // int32 0/1
  return correct.to(tg::DType::Float32).mean().item();
}

}  // namespace

TrainResult train(Mlp& model, const Dataset& data, const TrainOptions& options,
                  const std::function<void(const StepReport&)>& on_log) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<tg::Tensor*> parameters = model.parameters();
  std::vector<tg::Tensor> velocity(parameters.size());
  TrainResult result;

  for (int step = 1; step <= options.steps; ++step) {
    // Forward and backward: the tape records matmul, add, relu, matmul, add, cross_entropy,
    // and backward() leaves d(loss)/d(parameter) in each parameter's .grad().
    const tg::Tensor logits = model.forward(data.points);
    const tg::Tensor loss = tg::cross_entropy(logits, data.labels);
    loss.backward();
    result.final_loss = loss.item();
    tg::program::check_loss_finite(result.final_loss, step, options.lr);  // diverged: stop here

    if (on_log && options.log_every > 0 && (step % options.log_every == 0 || step == 1)) {
      tg::NoGradGuard no_grad;
      on_log({step, result.final_loss, fraction_correct(logits.detach(), data.labels)});
    }

    // Momentum (Polyak's heavy ball), with L2 weight decay added to the weights' gradients:
    //   g = dL/dp + decay * p   (weights only),   v = momentum * v + g,   p = p - lr * v
    // Nothing here may be recorded, hence the guard. Each update makes a new leaf tensor
    // that requires grad; the old one, and the gradient it carried, are simply dropped.
    tg::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters.size(); ++i) {
      tg::Tensor& p = *parameters[i];
      tg::Tensor g = p.grad();
      if (!g.defined()) continue;
      if (p.dim() == 2 && options.weight_decay > 0) g = g + options.weight_decay * p;
      velocity[i] = velocity[i].defined() ? options.momentum * velocity[i] + g : g;
      tg::Tensor updated = p - options.lr * velocity[i];
      updated.set_requires_grad();
      p = updated;
    }
  }

  result.accuracy = accuracy(model, data);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

tg::Tensor predict(const Mlp& model, const tg::Tensor& points) {
  tg::NoGradGuard no_grad;
  return tg::argmax(model.forward(points), 1);
}

float accuracy(const Mlp& model, const Dataset& data) {
  tg::NoGradGuard no_grad;
  return fraction_correct(model.forward(data.points), data.labels);
}

}  // namespace spiral
