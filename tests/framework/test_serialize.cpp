// The checkpoint file: bit-exact round trip, atomic save, every corruption case with its message
// (truncation at several offsets, flipped bytes, wrong magic and version, forged bodies with a
// valid checksum), a fuzz run of random mutations, and loading named tensors all-or-nothing.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "framework/serialize.h"
#include "framework/tapegrad.h"
#include "tests/mutations.h"

using namespace tg;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("tapegrad_serialize_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

Checkpoint sample_checkpoint() {
  Generator gen(3);
  Checkpoint c;
  c.add_tensor("encoder.weight", randn({4, 5}, gen));
  Tensor special =
      from_vector(std::vector<float>{0.0f, -0.0f, 1e-45f, std::numeric_limits<float>::infinity(),
                                     std::nanf("")},
                  {5});
  c.add_tensor("special", special);
  c.add_tensor("ids", from_vector(std::vector<int32_t>{1, -2, 2147483647}, {3}));
  c.add_tensor("scalar", scalar(2.5f));
  c.add_tensor("empty", zeros({0, 3}));
  c.set_int("epoch", 7);
  c.set_double("lr", 0.1 + 0.2);  // not a short decimal: needs all 17 digits
  c.set_uint("rng.seed", std::numeric_limits<uint64_t>::max());
  c.set_string("vocab", std::string("a\0b\nc", 5));
  return c;
}

using testing::read_bytes;
using testing::reseal;
using testing::write_bytes;

std::string decode_error(const std::vector<uint8_t>& bytes) {
  try {
    decode_checkpoint(bytes.data(), bytes.size(), "'test.tgc'");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

}  // namespace

TEST_CASE("save then load gives back every tensor bit for bit and every metadata value") {
  TempDir dir;
  const Checkpoint original = sample_checkpoint();
  save_checkpoint(original, dir.file("a.tgc"));
  CHECK_FALSE(fs::exists(dir.file("a.tgc.tmp")));
  const Checkpoint loaded = load_checkpoint(dir.file("a.tgc"));
  REQUIRE(loaded.tensors().size() == original.tensors().size());
  for (size_t i = 0; i < original.tensors().size(); ++i) {
    INFO(original.tensors()[i].first);
    CHECK(loaded.tensors()[i].first == original.tensors()[i].first);
    CHECK(same_bits(loaded.tensors()[i].second, original.tensors()[i].second));
  }
  CHECK(loaded.metadata() == original.metadata());
  CHECK(loaded.get_int("epoch") == 7);
  CHECK(loaded.get_double("lr") == 0.1 + 0.2);
  CHECK(loaded.get_uint("rng.seed") == std::numeric_limits<uint64_t>::max());
  CHECK(loaded.get_string("vocab") == std::string("a\0b\nc", 5));
  CHECK(loaded.source() == std::string(1, '\'').append(dir.file("a.tgc")).append(1, '\''));
  // Encoding is deterministic: the loaded checkpoint encodes to the same bytes.
  CHECK(encode_checkpoint(loaded) == read_bytes(dir.file("a.tgc")));
}

TEST_CASE("add_tensor snapshots the data: later in-place updates do not leak into the checkpoint") {
  Tensor live = zeros({2});
  Checkpoint c;
  c.add_tensor("w", live);
  live.data<float>()[0] = 5.0f;
  CHECK(c.tensor("w").to_vector<float>()[0] == 0.0f);
}

TEST_CASE("a failed save leaves the previous checkpoint intact") {
  TempDir dir;
  const std::string path = dir.file("last.tgc");
  save_checkpoint(sample_checkpoint(), path);
  const std::vector<uint8_t> before = read_bytes(path);
  fs::create_directories(path + ".tmp");  // the temporary cannot be created
  Checkpoint other;
  other.set_int("epoch", 8);
  CHECK_THROWS_WITH_AS(
      save_checkpoint(other, path),
      doctest::Contains(("save_checkpoint: cannot create '" + path + ".tmp'").c_str()), Error);
  CHECK(read_bytes(path) == before);
  fs::remove(path + ".tmp");
  save_checkpoint(other, path);  // and a good save replaces it
  CHECK(load_checkpoint(path).get_int("epoch") == 8);
  CHECK_THROWS_WITH_AS(save_checkpoint(other, dir.file("no/such/dir/x.tgc")),
                       doctest::Contains("cannot create"), Error);
}

TEST_CASE("files that are not checkpoints") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(
      load_checkpoint(dir.file("missing.tgc")),
      doctest::Contains(("load_checkpoint: cannot open '" + dir.file("missing.tgc") + "'").c_str()),
      Error);
  CHECK_THROWS_WITH_AS(load_checkpoint(dir.path.string()),
                       doctest::Contains("is not a regular file"), Error);
  write_bytes(dir.file("empty.tgc"), {});
  CHECK_THROWS_WITH_AS(load_checkpoint(dir.file("empty.tgc")), doctest::Contains("empty file"),
                       Error);
  write_bytes(dir.file("text.tgc"), {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
  CHECK_THROWS_WITH_AS(load_checkpoint(dir.file("text.tgc")),
                       doctest::Contains("not a tapegrad checkpoint (wrong magic number"), Error);
}

TEST_CASE("truncation at any offset is reported as truncation") {
  const std::vector<uint8_t> bytes = encode_checkpoint(sample_checkpoint());
  for (size_t length : {size_t{3}, size_t{8}, size_t{11}, size_t{12}, size_t{19}, size_t{23},
                        size_t{40}, bytes.size() / 2, bytes.size() - 5, bytes.size() - 1}) {
    INFO("truncated to ", length, " of ", bytes.size(), " bytes");
    const std::string error = decode_error({bytes.begin(), bytes.begin() + length});
    CHECK(error.find("'test.tgc': truncated") != std::string::npos);
  }
}

TEST_CASE("header damage: magic, version, size, checksum, trailing bytes") {
  const std::vector<uint8_t> good = encode_checkpoint(sample_checkpoint());
  std::vector<uint8_t> bytes = good;
  bytes[1] = 'X';
  CHECK(decode_error(bytes).find("not a tapegrad checkpoint (wrong magic number") !=
        std::string::npos);
  bytes = good;
  bytes[6] = '\n';  // "\r\n" -> "\n\n": what a text-mode transfer does
  CHECK(decode_error(bytes).find("wrong magic number") != std::string::npos);

  bytes = good;
  bytes[8] = 2;
  CHECK(decode_error(bytes) ==
        "'test.tgc': unknown checkpoint format version 2 at byte 8; this "
        "build reads version 1");

  bytes = good;
  bytes.push_back(0);
  CHECK(decode_error(bytes).find("1 unexpected bytes after the checksum") != std::string::npos);

  for (size_t at : {size_t{30}, good.size() / 2, good.size() - 10, good.size() - 2}) {
    INFO("flipped byte ", at);
    bytes = good;
    bytes[at] ^= 0x40;
    CHECK(decode_error(bytes).find("checksum mismatch (stored at byte " +
                                   std::to_string(good.size() - 4) + "): the file is corrupted") !=
          std::string::npos);
  }
}

TEST_CASE("forged bodies with a valid checksum are caught by the parser, with the offset") {
  Checkpoint one;
  one.add_tensor("w", from_vector(std::vector<float>{1, 2}, {2}));
  const std::vector<uint8_t> good = encode_checkpoint(one);
  // Layout: header 20, tensor count 8 (20..27), name size 4 (28..31), 'w' (32), dtype (33),
  // rank (34), dim (35..42), data 8 (43..50), metadata count 8, checksum 4.
  const auto forged = [&](size_t at, uint8_t value) {
    std::vector<uint8_t> bytes = good;
    bytes[at] = value;
    reseal(bytes);
    return decode_error(bytes);
  };
  CHECK(forged(33, 9) == "'test.tgc': corrupted at byte 33: tensor 'w' has unknown dtype code 9");
  CHECK(forged(34, 200) == "'test.tgc': corrupted at byte 34: tensor 'w' has rank 200, at most 8");
  CHECK(forged(35, 200) ==
        "'test.tgc': corrupted at byte 28: tensor 'w' of shape [200] needs 800 "
        "bytes of data, only 16 remain");
  CHECK(forged(42, 0x80).find("tensor 'w' has negative dim") != std::string::npos);
  CHECK(forged(41, 0x7f).find("larger than the file") != std::string::npos);
  CHECK(
      forged(28, 0xff).find("truncated or corrupted at byte 32: a tensor's name needs 255 bytes") !=
      std::string::npos);
  // Two tensors announced: the second's name size is read from the metadata count (0).
  CHECK(forged(20, 2) == "'test.tgc': corrupted at byte 51: a tensor has an empty name");
  CHECK(forged(28, 0).find("corrupted at byte 28: a tensor has an empty name") !=
        std::string::npos);
  // No tensors announced: the tensor's bytes are read as a huge metadata count, then keys.
  CHECK(forged(20, 0).find("'test.tgc': truncated or corrupted at byte") != std::string::npos);

  Checkpoint with_key;
  with_key.set_string("k", "v");
  std::vector<uint8_t> key_bytes = encode_checkpoint(with_key);
  key_bytes[28] = 0;  // the metadata count: the entry after it is left over
  reseal(key_bytes);
  CHECK(decode_error(key_bytes) ==
        "'test.tgc': corrupted at byte 36: 14 unexpected bytes after the metadata");

  Checkpoint twice;
  twice.add_tensor("a", zeros({1}));
  twice.add_tensor("b", zeros({1}));
  std::vector<uint8_t> bytes = encode_checkpoint(twice);
  const size_t second_name = 20 + 8 + (4 + 1 + 1 + 1 + 8 + 4) + 4;
  REQUIRE(bytes[second_name] == 'b');
  bytes[second_name] = 'a';
  reseal(bytes);
  CHECK(decode_error(bytes).find("the tensor name 'a' appears twice") != std::string::npos);
}

TEST_CASE("fuzz: random mutations of a real checkpoint never crash the loader") {
  Checkpoint c = sample_checkpoint();
  c.add_tensor("big", zeros({7, 3, 2}));
  const std::vector<uint8_t> good = encode_checkpoint(c);
  std::mt19937 rng(12345);
  const auto below = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int parsed = 0, rejected = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<uint8_t> bytes = good;
    testing::mutate(bytes, rng);
    if (bytes.size() >= 24 && below(2) == 0) reseal(bytes);  // half reach the body parser
    try {
      const Checkpoint loaded = decode_checkpoint(bytes.data(), bytes.size(), "fuzz");
      ++parsed;
      for (const auto& [name, t] : loaded.tensors()) CHECK(t.nbytes() <= bytes.size());
    } catch (const Error& e) {
      ++rejected;
      CHECK(std::string(e.what()).starts_with("fuzz: "));
    }
  }
  CHECK(parsed + rejected == 2000);
  CHECK(rejected > 1000);
}

TEST_CASE("load_named_tensors checks everything before copying anything") {
  Checkpoint c;
  c.add_tensor("model.a", from_vector(std::vector<float>{1, 2}, {2}));
  c.add_tensor("model.b", from_vector(std::vector<float>{3, 4, 5}, {3}));
  c.add_tensor("optim.x", zeros({1}));
  c.set_source("'ckpt.tgc'");
  Tensor a = zeros({2}), b = zeros({3}), wrong = zeros({2, 2}), extra = zeros({1});

  CHECK_THROWS_WITH_AS(
      load_named_tensors(c, "model.", {{"a", a}, {"b", wrong}}, true, "load_into Net"),
      doctest::Contains("load_into Net from 'ckpt.tgc': shape or dtype mismatch, "
                        "nothing was loaded:\n  'b': the checkpoint has float32 "
                        "[3], the target is float32 [2,2]"),
      Error);
  CHECK(a.to_vector<float>() == std::vector<float>{0, 0});  // a was fine, and still not loaded
  CHECK_THROWS_WITH_AS(load_named_tensors(c, "model.", {{"a", a}}, true, "load_into Net"),
                       doctest::Contains("strict load: 1 unexpected tensor(s) in the checkpoint: "
                                         "'b'; nothing was loaded"),
                       Error);
  CHECK_THROWS_WITH_AS(
      load_named_tensors(c, "model.", {{"a", a}, {"b", b}, {"c", extra}}, true, "load_into Net"),
      doctest::Contains("strict load: 1 tensor(s) missing from the checkpoint: 'c'"), Error);
  CHECK(a.to_vector<float>() == std::vector<float>{0, 0});
  CHECK_THROWS_WITH_AS(
      load_named_tensors(c, "model.", {{"a", from_vector(std::vector<int32_t>{0, 0}, {2})}}, false,
                         "load_into Net"),
      doctest::Contains("'a': the checkpoint has float32 [2], the target is int32 [2]"), Error);

  const LoadReport report = load_named_tensors(c, "model.", {{"a", a}, {"c", extra}}, false, "x");
  CHECK(report.missing == std::vector<std::string>{"c"});
  CHECK(report.unexpected == std::vector<std::string>{"b"});
  CHECK(a.to_vector<float>() == std::vector<float>{1, 2});
  load_named_tensors(c, "model.", {{"a", a}, {"b", b}}, true, "x");
  CHECK(b.to_vector<float>() == std::vector<float>{3, 4, 5});
}

TEST_CASE("Checkpoint metadata and composition") {
  Checkpoint part;
  part.add_tensor("w", zeros({1}));
  part.set_int("step", 3);
  Checkpoint whole;
  whole.merge("optim.", part);
  CHECK(whole.has_tensor("optim.w"));
  CHECK(whole.get_int("optim.step") == 3);
  const Checkpoint back = whole.extract("optim.");
  CHECK(back.has_tensor("w"));
  CHECK(back.get_int("step") == 3);
  CHECK_THROWS_WITH_AS(whole.merge("optim.", part),
                       doctest::Contains("the tensor name 'optim.w' appears twice"), Error);
  whole.set_string("name", "abc");
  CHECK_THROWS_WITH_AS(
      whole.get_int("name"),
      doctest::Contains("checkpoint: metadata 'name' should be an integer, got 'abc'"), Error);
  CHECK_THROWS_WITH_AS(whole.get_double("nope"), doctest::Contains("no metadata key 'nope'"),
                       Error);
  CHECK_THROWS_WITH_AS(whole.tensor("nope"), doctest::Contains("no tensor named 'nope'"), Error);
  whole.set_int("flag", 2);
  CHECK_THROWS_WITH_AS(whole.get_bool("flag"), doctest::Contains("should be 0 or 1, got 2"), Error);
  whole.set_double("inf", std::numeric_limits<double>::infinity());
  CHECK(std::isinf(whole.get_double("inf")));
}
