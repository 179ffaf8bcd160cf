// libFuzzer target: the CMUdict reader, skipping malformed lines and refusing them, gives
// entries or a tg::Error.
#include <cstdint>

#include "examples/datasets/cmudict.h"
#include "framework/error.h"
#include "fuzz_file_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = tg::fuzz::input_as_file(data, size);
  for (bool skip_malformed : {true, false}) {
    tg::data::CmudictOptions options;
    options.skip_malformed = skip_malformed;
    try {
      for (const tg::data::PronouncingEntry& entry : tg::data::read_cmudict(path, options))
        if (entry.word.empty() || entry.pronunciations.empty()) __builtin_trap();
    } catch (const tg::Error&) {
    }
  }
  return 0;
}
