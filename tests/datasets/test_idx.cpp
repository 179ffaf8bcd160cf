#include <doctest/doctest.h>

#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "examples/datasets/fashion_mnist.h"
#include "examples/datasets/idx.h"

using namespace tg;
using namespace tg::data;

namespace {

std::string temp_path(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "tapegrad_test_idx";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// Writes raw bytes gzipped, for hand-made broken files.
void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  if (!bytes.empty()) gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
}

}  // namespace

TEST_CASE("idx: a written file reads back with its shape and values") {
  const std::string path = temp_path("ok.idx.gz");
  std::vector<uint8_t> values(2 * 3 * 4);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<uint8_t>(i * 7);
  write_idx_gz(path, {2, 3, 4}, values);
  const IdxArray array = read_idx(path);
  CHECK(array.shape == Shape{2, 3, 4});
  CHECK(array.values == values);
}

TEST_CASE("idx: uncompressed files read too") {
  const std::string path = temp_path("plain.idx");
  std::ofstream(path, std::ios::binary).write("\0\0\x08\x01\0\0\0\x03\x05\x06\x07", 11);
  const IdxArray array = read_idx(path);
  CHECK(array.shape == Shape{3});
  CHECK(array.values == std::vector<uint8_t>{5, 6, 7});
}

TEST_CASE("idx: every broken file gives its own error") {
  const std::string path = temp_path("bad.idx.gz");
  CHECK_THROWS_WITH_AS(read_idx(temp_path("missing.gz")), doctest::Contains("idx: cannot open"),
                       Error);
  write_gz(path, {});
  CHECK_THROWS_WITH_AS(read_idx(path),
                       doctest::Contains("file is truncated: the header needs 4 bytes"), Error);
  write_gz(path, {1, 0, 8, 1});
  CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("not an IDX file"), Error);
  write_gz(path, {0, 0, 0x0D, 1});
  CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("element type 0xd is not supported"),
                       Error);
  write_gz(path, {0, 0, 8, 9});
  CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("9 dims; expected 1 to 4"), Error);
  write_gz(path, {0, 0, 8, 1, 0, 0});
  CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("the dimension sizes needs 4 bytes"),
                       Error);
  write_gz(path, {0, 0, 8, 1, 0, 0, 0, 0});
  CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("dim 0 has size 0"), Error);
  write_gz(path, {0, 0, 8, 1, 0, 0, 0, 5, 1, 2});
  CHECK_THROWS_WITH_AS(
      read_idx(path),
      doctest::Contains("the header claims [5], 5 bytes of data, but only 2 are there"), Error);
  write_gz(path, {0, 0, 8, 1, 0, 0, 0, 1, 1, 2});
  CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("trailing bytes"), Error);
  write_gz(path, {0, 0, 8, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains("implausibly large"), Error);
}

TEST_CASE("fashion_mnist: a missing folder names the Debian package") {
  CHECK_THROWS_WITH_AS(load_fashion_mnist(Split::Train, "/nonexistent"),
                       doctest::Contains("apt-get install dataset-fashion-mnist"), Error);
}

TEST_CASE("fashion_mnist: a small folder of our own loads, scaled to (0, 1)") {
  const auto dir = std::filesystem::temp_directory_path() / "tapegrad_test_fashion";
  std::filesystem::create_directories(dir);
  std::vector<uint8_t> pixels(3 * 28 * 28, 0);
  pixels[0] = 255;
  pixels[28 * 28] = 51;
  write_idx_gz((dir / "t10k-images-idx3-ubyte.gz").string(), {3, 28, 28}, pixels);
  write_idx_gz((dir / "t10k-labels-idx1-ubyte.gz").string(), {3}, {9, 0, 4});
  const LabelledImages data = load_fashion_mnist(Split::Test, dir.string());
  CHECK(data.images.shape() == Shape{3, 28, 28});
  CHECK(data.images.to_vector<float>()[0] == 1.0f);
  CHECK(data.images.to_vector<float>()[28 * 28] == doctest::Approx(0.2f));
  CHECK(data.labels.to_vector<int32_t>() == std::vector<int32_t>{9, 0, 4});
  CHECK(load_fashion_mnist(Split::Test, dir.string(), 2).labels.numel() == 2);
  write_idx_gz((dir / "t10k-labels-idx1-ubyte.gz").string(), {3}, {9, 10, 4});
  CHECK_THROWS_WITH_AS(load_fashion_mnist(Split::Test, dir.string()),
                       doctest::Contains("label 10 at index 1 is not a class"), Error);
  write_idx_gz((dir / "t10k-labels-idx1-ubyte.gz").string(), {2}, {9, 1});
  CHECK_THROWS_WITH_AS(load_fashion_mnist(Split::Test, dir.string()),
                       doctest::Contains("holds [2] labels for 3 images"), Error);
}
