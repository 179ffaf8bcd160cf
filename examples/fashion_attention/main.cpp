// fashion_attention: a small vision Transformer classifies Fashion-MNIST. See README.md.
//
// The 28x28 image is cut into 16 patches of 7x7 pixels; each patch becomes a token by a linear
// map of its 49 pixels, a learned class token is put in front, a learned position embedding is
// added, and a pre-norm Transformer encoder mixes the 17 tokens. The class token's final state
// is classified. After training it draws, for a few test images, where the class token looks:
// its attention over the 16 patches in the last layer, one panel per head.
#include <filesystem>

#include "examples/datasets/fashion_mnist.h"
#include "examples/fashion_common/fashion_common.h"
#include "examples/reporting/heatmap.h"
#include "framework/tapegrad.h"
#include "layers/layers.h"

namespace {

using namespace tg;

constexpr int64_t kImage = 28;
constexpr int64_t kPatch = 7, kGrid = kImage / kPatch, kTokens = kGrid * kGrid;  // 16 of 7x7

class FashionViT : public fashion::Classifier {
 public:
  FashionViT(int64_t d_model, int64_t heads, int64_t layers, int64_t ff_hidden, float dropout)
      : Classifier("FashionViT"),
        patch_embedding(kPatch * kPatch, d_model),
        positions(kTokens + 1, d_model),
        encoder(layers, d_model, heads, ff_hidden,
                {.dropout = dropout, .norm_first = true, .activation = Activation::Gelu}),
        head(d_model, 10) {
    class_token = register_parameter("class_token", zeros({1, 1, d_model}));
    register_module("patch_embedding", patch_embedding);
    register_module("positions", positions);
    register_module("encoder", encoder);
    register_module("head", head);
  }

  // [B, 28, 28] -> [B, 16, 49]: patch (i, j) holds rows 7i..7i+6, columns 7j..7j+6.
  static Tensor patches(const Tensor& images) {
    const int64_t b = images.size(0);
    return images.reshape({b, kGrid, kPatch, kGrid, kPatch})
        .permute({0, 1, 3, 2, 4})
        .reshape({b, kTokens, kPatch * kPatch});
  }

  // The tokens entering the encoder: [B, 17, d], class token first.
  Tensor tokens(const Tensor& images) const {
    const Tensor x = patch_embedding(patches(images));
    const Tensor cls = expand(class_token, {images.size(0), 1, class_token.size(-1)});
    return positions(concat({cls, x}, 1));
  }

  Tensor forward(const Tensor& images) const override {
    return head(select(encoder(tokens(images)), 1, 0));
  }

  // The last layer's attention of the class token over the patches: [B, heads, 16].
  Tensor class_token_attention(const Tensor& images) const {
    TransformerEncoderLayer& last = encoder.layer(encoder.num_layers() - 1);
    last.keep_self_attention = true;
    encoder(tokens(images));
    last.keep_self_attention = false;
    const Tensor weights = last.last_self_attention;  // [B, H, 17, 17]
    return narrow(select(weights, 2, 0), 2, 1, kTokens);
  }

  Linear patch_embedding;
  LearnedPositionalEmbedding positions;
  TransformerEncoder encoder;
  Linear head;
  Tensor class_token;
};

// For the first few test images: the image, then one panel per head with the class token's
// attention over the patches laid over it.
void draw_attention(const fashion::Classifier& classifier, const fashion::Data& data,
                    const fashion::Options& options) {
  const auto& model = dynamic_cast<const FashionViT&>(classifier);
  NoGradGuard no_recording;
  const int64_t count = 6;
  const Tensor images = narrow(data.test_images, 0, 0, count);
  const Tensor attention =
      model.class_token_attention(images.to(model.head.weight.device())).to(Device::CPU);
  const int64_t heads = attention.size(1);
  const std::vector<float> weights = attention.to_vector<float>();
  const std::vector<int32_t> labels = narrow(data.test_labels, 0, 0, count).to_vector<int32_t>();
  const std::vector<int32_t> predicted =
      argmax(model.forward(images.to(model.head.weight.device())), 1)
          .to(Device::CPU)
          .to_vector<int32_t>();

  std::vector<Image> tiles;
  std::vector<std::string> captions;
  for (int64_t i = 0; i < count; ++i) {
    // Undo the normalisation for display: pixels back in [0, 1].
    std::vector<float> pixels = select(images, 0, i).to_vector<float>();
    for (float& p : pixels) p = p * 0.3530f + 0.2860f;
    const Image picture = greyscale_image(pixels.data(), 28, 28, 6);
    tiles.push_back(picture);
    captions.push_back(
        std::string(data::kFashionMnistClasses[labels[i]]) +
        (predicted[i] == labels[i]
             ? ""
             : " (said " + std::string(data::kFashionMnistClasses[predicted[i]]) + ")"));
    for (int64_t h = 0; h < heads; ++h) {
      const auto first = weights.begin() + (i * heads + h) * kTokens;
      tiles.push_back(
          overlay_heatmap(picture, std::vector<float>(first, first + kTokens), kGrid, kGrid, 0.6f));
      captions.push_back("head " + std::to_string(h + 1));
    }
  }
  const std::string path = options.out + "/attention.png";
  image_grid(tiles, static_cast<int>(heads + 1), 10, captions).save_png(path);
  std::printf("wrote %s (class token attention, last layer, per head)\n", path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  fashion::Program program;
  program.name = "fashion_attention";
  program.description =
      "Cuts each image into 16 patches of 7x7, embeds them, adds a class token and learned\n"
      "positions, and classifies with a 2-layer pre-norm Transformer encoder (d_model 64,\n"
      "4 heads, feed-forward 256), training on randomly mirrored and shifted images. Also draws\n"
      "the class token's attention over the patches (attention.png).";
  program.defaults.epochs = 40;
  program.defaults.batch_size = 128;
  program.defaults.lr = 2e-3;
  program.defaults.weight_decay = 0.05;
  // Mirrored images rather than dropout against overfitting: with dropout 0.1 the encoder still
  // underfit after 15 epochs (4 layers: 88.2%), without it and without flips it overfit (88.9%).
  // See the README's table.
  program.defaults.random_flips = true;
  // And shifted by up to one pixel each way: the garment then falls across the 7x7 patches in
  // ever new places. Two pixels was too much for 20 epochs (87.8%, train 88.2%: underfit); one
  // pixel over 40 epochs leaves train and validation accuracy within a point of each other.
  program.defaults.max_shift = 1;
  program.make_model = [](const fashion::Options&) {
    return std::make_unique<FashionViT>(/*d_model=*/64, /*heads=*/4, /*layers=*/2,
                                        /*ff_hidden=*/256, /*dropout=*/0.0f);
  };
  program.after_training = draw_attention;
  return fashion::run_program(program, argc, argv);
}
