// fashion_mlp: a multilayer perceptron classifies Fashion-MNIST. See README.md.
//
//   784 pixels -> Linear 512 -> GELU -> Dropout -> Linear 256 -> GELU -> Dropout -> Linear 10
#include "examples/fashion_common/fashion_common.h"
#include "framework/tapegrad.h"
#include "layers/layers.h"

namespace {

class FashionMLP : public fashion::Classifier {
 public:
  explicit FashionMLP(float dropout_p)
      : Classifier("FashionMLP"),
        hidden1(784, 512),
        hidden2(512, 256),
        output(256, 10),
        dropout(dropout_p) {
    register_module("hidden1", hidden1);
    register_module("hidden2", hidden2);
    register_module("output", output);
    register_module("dropout", dropout);
  }

  tg::Tensor forward(const tg::Tensor& images) const override {
    const tg::Tensor x = images.reshape({images.size(0), 28 * 28});
    return output(dropout(tg::gelu(hidden2(dropout(tg::gelu(hidden1(x)))))));
  }

  tg::Linear hidden1, hidden2, output;
  tg::Dropout dropout;
};

}  // namespace

int main(int argc, char** argv) {
  fashion::Program program;
  program.name = "fashion_mlp";
  program.description =
      "Trains a 784-512-256-10 MLP (GELU, dropout 0.2) on Fashion-MNIST with AdamW and a\n"
      "warmup + cosine schedule, then reports the test accuracy.";
  program.defaults.epochs = 12;
  program.defaults.batch_size = 128;
  program.defaults.lr = 1e-3;
  program.make_model = [](const fashion::Options&) { return std::make_unique<FashionMLP>(0.2f); };
  return fashion::run_program(program, argc, argv);
}
