// libFuzzer target: the checkpoint decoder gives a checkpoint or a tg::Error, and no tensor
// larger than the input. Inputs whose last byte is odd get their checksum recomputed first,
// so that the fuzzer reaches the body parser (a random mutation almost never fixes a CRC).
#include <cstdint>
#include <vector>

#include "framework/error.h"
#include "framework/serialize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  if (size >= 24 && (data[size - 1] & 1)) {
    const uint32_t crc = tg::crc32_of(bytes.data(), size - 4);
    for (int i = 0; i < 4; ++i) bytes[size - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
  }
  try {
    const tg::Checkpoint checkpoint = tg::decode_checkpoint(bytes.data(), bytes.size(), "fuzz");
    for (const auto& [name, tensor] : checkpoint.tensors())
      if (tensor.nbytes() > size) __builtin_trap();
  } catch (const tg::Error&) {
  }
  return 0;
}
