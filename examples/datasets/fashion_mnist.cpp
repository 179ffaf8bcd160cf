#include "examples/datasets/fashion_mnist.h"

#include "examples/datasets/paths.h"

#include <filesystem>

#include "examples/datasets/idx.h"
#include "framework/error.h"

namespace tg::data {

LabelledImages load_fashion_mnist(Split split, const std::string& dir, int64_t limit) {
  const std::string prefix = split == Split::Train ? "train" : "t10k";
  const std::string images_path = dir + "/" + prefix + "-images-idx3-ubyte.gz";
  const std::string labels_path = dir + "/" + prefix + "-labels-idx1-ubyte.gz";
  for (const std::string& path : {images_path, labels_path}) {
    check(path_exists(path, "fashion_mnist"), "fashion_mnist: ", path_for_message(path),
          " not found; install Debian's package dataset-fashion-mnist "
          "(apt-get install dataset-fashion-mnist) or pass the folder that holds the files");
  }
  const IdxArray images = read_idx(images_path);
  const IdxArray labels = read_idx(labels_path);
  check(images.shape.size() == 3 && images.shape[1] == 28 && images.shape[2] == 28,
        "fashion_mnist: ", images_path, " holds ", images.shape, ", expected [N,28,28] images");
  check(labels.shape.size() == 1 && labels.shape[0] == images.shape[0],
        "fashion_mnist: ", labels_path, " holds ", labels.shape, " labels for ", images.shape[0],
        " images");
  const int64_t n = limit < 0 ? images.shape[0] : std::min<int64_t>(limit, images.shape[0]);

  LabelledImages out{empty({n, 28, 28}), empty({n}, DType::Int32)};
  float* pixels = out.images.data<float>();
  for (int64_t i = 0; i < n * 28 * 28; ++i) pixels[i] = images.values[i] / 255.0f;
  int32_t* classes = out.labels.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    check(labels.values[i] < 10, "fashion_mnist: ", labels_path, ": label ", int{labels.values[i]},
          " at index ", i, " is not a class in [0, 10)");
    classes[i] = labels.values[i];
  }
  return out;
}

}  // namespace tg::data
