// libFuzzer target: the IDX reader (raw or gzipped) gives an array or a tg::Error. The values it
// returns must be what the file held (gzip expands at most about 1032:1).
#include <cstdint>

#include "examples/datasets/idx.h"
#include "framework/error.h"
#include "fuzz_file_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const tg::data::IdxArray array = tg::data::read_idx(tg::fuzz::input_as_file(data, size));
    if (array.values.size() > size * 1100) __builtin_trap();
  } catch (const tg::Error&) {
  }
  return 0;
}
