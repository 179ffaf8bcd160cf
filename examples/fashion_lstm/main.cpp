// fashion_lstm: an LSTM reads each Fashion-MNIST image as a sequence of 28 rows of 28 pixels and
// classifies it from its final state. See README.md.
#include "examples/fashion_common/fashion_common.h"
#include "framework/tapegrad.h"
#include "layers/layers.h"

namespace {

class FashionLSTM : public fashion::Classifier {
 public:
  FashionLSTM(int64_t hidden, int64_t layers)
      : Classifier("FashionLSTM"),
        rnn(28, hidden,
            tg::LSTMOptions{
                .num_layers = layers, .batch_first = true, .dropout = layers > 1 ? 0.1f : 0.0f}),
        head(hidden, 10) {
    register_module("rnn", rnn);
    register_module("head", head);
  }

  // images [B, 28, 28] are already [batch, time = row, features = pixels of the row].
  tg::Tensor forward(const tg::Tensor& images) const override {
    const tg::LSTMOutput out = rnn(images);
    return head(tg::select(out.h, 0, -1));  // the last layer's final hidden state
  }

  tg::LSTM rnn;
  tg::Linear head;
};

}  // namespace

int main(int argc, char** argv) {
  fashion::Program program;
  program.name = "fashion_lstm";
  program.description =
      "Reads each image row by row with a 2-layer LSTM (hidden 128) and classifies it from the\n"
      "final state; AdamW with a warmup + cosine schedule.";
  program.defaults.epochs = 10;
  program.defaults.batch_size = 128;
  program.defaults.lr = 2e-3;
  program.make_model = [](const fashion::Options&) {
    return std::make_unique<FashionLSTM>(128, 2);
  };
  return fashion::run_program(program, argc, argv);
}
