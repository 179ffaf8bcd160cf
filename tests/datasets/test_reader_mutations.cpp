// Seeded mutation tests for every reader of outside data: IDX files (raw and gzipped), CMUdict,
// vocabularies and the checkpoint sections the programs read back (vocabularies, config values).
// Each damaged input must give a valid result or a tg::Error, never a crash (the sanitizer build
// runs these too), and never a single allocation larger than the input justifies: global
// operator new is replaced below to record the largest request.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <random>
#include <string>

#include "examples/datasets/cmudict.h"
#include "examples/datasets/idx.h"
#include "examples/datasets/vocabulary.h"
#include "framework/serialize.h"
#include "framework/tapegrad.h"
#include "tests/mutations.h"

namespace {
std::atomic<size_t> largest_allocation{0};
}  // namespace

// Every operator new of this test program, recording the largest request.
void* operator new(size_t size) {
  size_t seen = largest_allocation.load(std::memory_order_relaxed);
  while (size > seen && !largest_allocation.compare_exchange_weak(seen, size)) {
  }
  if (void* pointer = std::malloc(size == 0 ? 1 : size)) return pointer;
  throw std::bad_alloc();
}
void operator delete(void* pointer) noexcept { std::free(pointer); }
void operator delete(void* pointer, size_t) noexcept { std::free(pointer); }

using namespace tg;
using namespace tg::data;

namespace {

constexpr int kTrials = 400;

std::string temp_file(const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tapegrad_mutations_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

using testing::read_bytes;
using testing::write_bytes;

struct Outcome {
  int parsed = 0, rejected = 0;
};

// Runs read on kTrials mutations of good; each must parse or throw tg::Error, and allocate at
// most `budget(size of the damaged input)` bytes in one piece.
// reseal_checkpoint: recompute a checkpoint's checksum after the damage.
template <class Read, class Budget>
Outcome run_mutations(const std::vector<uint8_t>& good, uint32_t seed, Read read, Budget budget,
                      bool reseal_checkpoint = false) {
  std::mt19937 rng(seed);
  Outcome outcome;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::vector<uint8_t> bytes = good;
    testing::mutate(bytes, rng);
    if (reseal_checkpoint && bytes.size() >= 24) testing::reseal(bytes);
    largest_allocation = 0;
    try {
      read(bytes);
      ++outcome.parsed;
    } catch (const Error&) {
      ++outcome.rejected;
    }
    INFO("trial ", trial, ": ", bytes.size(), " bytes of input");
    CHECK(largest_allocation.load() <= budget(bytes.size()));
  }
  CHECK(outcome.parsed + outcome.rejected == kTrials);
  return outcome;
}

// IDX values are read a chunk (1 MiB) at a time: the largest piece is the data read so far,
// rounded up by the vector's growth, plus a chunk.
constexpr size_t kIdxChunk = size_t{1} << 20;

}  // namespace

TEST_CASE("mutations: the IDX reader rejects damaged files cleanly, raw and gzipped") {
  std::vector<uint8_t> pixels(6 * 5 * 4);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7);
  const std::string gz = temp_file("good.idx.gz");
  write_idx_gz(gz, {6, 5, 4}, pixels);
  // The raw file: gunzip of the gzipped one (read_idx reads both, zlib passes raw bytes through).
  std::vector<uint8_t> raw{0, 0, 0x08, 3, 0, 0, 0, 6, 0, 0, 0, 5, 0, 0, 0, 4};
  raw.insert(raw.end(), pixels.begin(), pixels.end());
  const std::string path = temp_file("damaged.idx");
  auto read = [&](const std::vector<uint8_t>& bytes) {
    write_bytes(path, bytes);
    const IdxArray array = read_idx(path);
    CHECK(array.values.size() <= bytes.size() * 1100);  // gzip expands at most ~1032:1
  };
  const Outcome raw_outcome =
      run_mutations(raw, 1, read, [](size_t input) { return 2 * input + kIdxChunk + 4096; });
  CHECK(raw_outcome.rejected > kTrials / 2);
  const Outcome gz_outcome = run_mutations(
      read_bytes(gz), 2, read, [](size_t input) { return 2 * 1100 * input + kIdxChunk + 4096; });
  CHECK(gz_outcome.rejected > kTrials / 2);
}

TEST_CASE("mutations: an IDX header that claims more data than the file holds fails at once") {
  // 3 million (and 20 million) 28x28 images claimed by a 16-byte header: the reader used to
  // allocate the claim (2.4 GB, then bad_alloc) before finding the file empty.
  for (uint32_t images : {3000000u, 20000000u}) {
    const std::vector<uint8_t> header{0,
                                      0,
                                      0x08,
                                      3,
                                      static_cast<uint8_t>(images >> 24),
                                      static_cast<uint8_t>(images >> 16),
                                      static_cast<uint8_t>(images >> 8),
                                      static_cast<uint8_t>(images),
                                      0,
                                      0,
                                      0,
                                      28,
                                      0,
                                      0,
                                      0,
                                      28};
    const std::string path = temp_file("claims.idx");
    write_bytes(path, header);
    largest_allocation = 0;
    const std::string expected =
        "file is truncated: the header claims [" + std::to_string(images) + ",28,28]";
    CHECK_THROWS_WITH_AS(read_idx(path), doctest::Contains(expected.c_str()), Error);
    CHECK(largest_allocation.load() <= kIdxChunk + 4096);
  }
}

TEST_CASE("mutations: the CMUdict reader rejects or skips damaged lines, never crashes") {
  const std::string text =
      ";;; comment\nhello HH AH0 L OW1\nhello(2) HH EH0 L OW1\nread R IY1 D\ncat K AE1 T\n"
      "dog D AO1 G\nthree-d TH R IY1 D IY1\ncaf\xc3\xa9 K AE0 F EY1\n";
  const std::vector<uint8_t> good(text.begin(), text.end());
  const std::string path = temp_file("damaged.dict");
  for (bool skip_malformed : {true, false}) {
    CmudictOptions options;
    options.skip_malformed = skip_malformed;
    const Outcome outcome = run_mutations(
        good, skip_malformed ? 3 : 4,
        [&](const std::vector<uint8_t>& bytes) {
          write_bytes(path, bytes);
          for (const PronouncingEntry& entry : read_cmudict(path, options))
            CHECK_FALSE(entry.word.empty());
        },
        [](size_t input) { return 64 * input + 65536; });
    CHECK(outcome.parsed > 0);
    if (!skip_malformed) CHECK(outcome.rejected > 0);
  }
}

TEST_CASE("mutations: vocabularies and config values read back from damaged checkpoints") {
  // What the G2P programs read from a checkpoint's metadata: two vocabularies as text and
  // numbers. The container's checksum is resealed after damage, so the body parser and the
  // section readers see the damaged text.
  Checkpoint checkpoint;
  checkpoint.set_string("letters", Vocabulary({"a", "b", "c", "\xc3\xa9"}).to_text());
  checkpoint.set_string("phonemes", Vocabulary({"AH", "B", "K"}).to_text());
  checkpoint.set_int("config.embed_dim", 64);
  checkpoint.set_double("config.dropout", 0.1);
  const std::vector<uint8_t> good = encode_checkpoint(checkpoint);
  const Outcome outcome = run_mutations(
      good, 5,
      [](const std::vector<uint8_t>& bytes) {
        const Checkpoint loaded = decode_checkpoint(bytes.data(), bytes.size(), "fuzz");
        const Vocabulary letters = Vocabulary::from_text(loaded.get_string("letters"));
        CHECK(letters.size() >= Vocabulary().size());
        (void)Vocabulary::from_text(loaded.get_string("phonemes"));
        (void)loaded.get_int("config.embed_dim");
        (void)loaded.get_double("config.dropout");
      },
      [](size_t input) { return 64 * input + 65536; }, /*reseal_checkpoint=*/true);
  CHECK(outcome.rejected > 0);
  // The vocabulary text alone, damaged without a container around it.
  const std::string text = Vocabulary({"a", "b", "c"}).to_text();
  run_mutations(
      std::vector<uint8_t>(text.begin(), text.end()), 6,
      [](const std::vector<uint8_t>& bytes) {
        (void)Vocabulary::from_text(std::string(bytes.begin(), bytes.end()));
      },
      [](size_t input) { return 64 * input + 65536; });
}
