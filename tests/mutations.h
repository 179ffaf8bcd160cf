// Seeded mutations for the tests of readers of outside data (checkpoints, IDX, CMUdict,
// vocabularies): a valid input, damaged the ways files get damaged, must give a clear tg::Error
// or a valid result, never a crash, and never an allocation the input does not justify.
#pragma once

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "framework/serialize.h"

namespace tg::testing {

// Applies 1 to 4 random damages to bytes: a flipped bit, a random byte, a truncation, an
// inserted byte, or four 0xff bytes (a plausible huge length or count).
inline void mutate(std::vector<uint8_t>& bytes, std::mt19937& rng) {
  const auto below = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const int mutations = 1 + static_cast<int>(below(4));
  for (int m = 0; m < mutations && !bytes.empty(); ++m) {
    switch (below(5)) {
      case 0:
        bytes[below(bytes.size())] ^= static_cast<uint8_t>(1u << below(8));
        break;
      case 1:
        bytes[below(bytes.size())] = static_cast<uint8_t>(below(256));
        break;
      case 2:
        bytes.resize(below(bytes.size()) + 1);
        break;
      case 3:
        bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(below(bytes.size())),
                     static_cast<uint8_t>(below(256)));
        break;
      default: {
        const size_t at = below(bytes.size());
        for (size_t i = at; i < std::min(bytes.size(), at + 4); ++i) bytes[i] = 0xff;
      }
    }
  }
}

// Recomputes a checkpoint's trailing checksum, so that the body parser itself sees the damage.
inline void reseal(std::vector<uint8_t>& bytes) {
  const uint32_t crc = crc32_of(bytes.data(), bytes.size() - 4);
  for (int i = 0; i < 4; ++i) bytes[bytes.size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

}  // namespace tg::testing
