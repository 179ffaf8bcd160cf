// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 70,000 28x28 greyscale images of clothing in 10
// classes, 60,000 for training and 10,000 for testing. Debian's package dataset-fashion-mnist
// installs the four gzipped IDX files under /usr/share/datasets/fashion-mnist.
#pragma once

#include <array>
#include <string>

#include "framework/tensor.h"

namespace tg::data {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr std::array<const char*, 10> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

struct LabelledImages {
  Tensor images;  // float32 [N, 28, 28], pixel values scaled to [0, 1]
  Tensor labels;  // int32 [N], class in [0, 10)
};

enum class Split { Train, Test };

// Loads a split (optionally only its first `limit` images). A missing file gives an error that
// names the Debian package to install.
LabelledImages load_fashion_mnist(Split split, const std::string& dir = kFashionMnistDir,
                                  int64_t limit = -1);

}  // namespace tg::data
