// Seeded, counter-based random numbers: the same stream on every device.
//
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) turns a
// 64-bit key (the seed) and a 128-bit counter into four random 32-bit words with ten rounds of
// multiply-xor. A random tensor is filled in blocks of four elements: block j (elements 4j to
// 4j + 3) takes the four words of counter offset + j. Any block can be computed on its own, so a
// CPU loop and one CUDA thread per block give identical numbers.
//
// A Generator is just (seed, offset). Each random tensor advances the offset by its numel (more
// counters than its numel / 4 blocks use), so consecutive draws do not overlap, and saving
// (seed, offset) in a checkpoint resumes the stream.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define TG_HOST_DEVICE __host__ __device__
#else
#define TG_HOST_DEVICE
#endif

namespace tg {

struct PhiloxWords {
  uint32_t w[4];
};

TG_HOST_DEVICE inline PhiloxWords philox4x32(uint64_t seed, uint64_t counter) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t{0xD2511F53u} * c0;  // the paper's multipliers
    const uint64_t p1 = uint64_t{0xCD9E8D57u} * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;  // Weyl sequence key schedule (golden ratio, sqrt(3) - 1)
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in [0, 1) from the top 24 bits: every value is exactly representable in float.
TG_HOST_DEVICE inline float uniform_from_bits(uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

// One block of a draw as four uniforms in [0, 1).
TG_HOST_DEVICE inline void uniform4_from_words(const PhiloxWords& words, float out[4]) {
  for (int j = 0; j < 4; ++j) out[j] = uniform_from_bits(words.w[j]);
}

// One block of a draw as four standard normals, by Box-Muller: two uniforms u1 in (0, 1] and u2
// give two independent normals, sqrt(-2 ln u1) cos(2 pi u2) and sqrt(-2 ln u1) sin(2 pi u2).
TG_HOST_DEVICE inline void normal4_from_words(const PhiloxWords& words, float out[4]) {
  for (int pair = 0; pair < 2; ++pair) {
    const float u1 = 1.0f - uniform_from_bits(words.w[2 * pair]);
    const float u2 = uniform_from_bits(words.w[2 * pair + 1]);
    const float radius = sqrtf(-2.0f * logf(u1));
    const float angle = 6.2831853071795864f * u2;
    out[2 * pair] = radius * cosf(angle);
    out[2 * pair + 1] = radius * sinf(angle);
  }
}

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }
  // Reserves n counters and returns the first.
  uint64_t advance(uint64_t n) {
    const uint64_t first = offset_;
    offset_ += n;
    return first;
  }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The generator layers use when none is given (Dropout, init). Seed it with manual_seed.
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace tg
