// libFuzzer target: a vocabulary read back from text (as checkpoints carry them) is a valid
// vocabulary or a tg::Error, and encodes its own symbols back to their ids.
#include <cstdint>
#include <string>

#include "examples/datasets/vocabulary.h"
#include "framework/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const tg::data::Vocabulary vocabulary =
        tg::data::Vocabulary::from_text(std::string(reinterpret_cast<const char*>(data), size));
    if (tg::data::Vocabulary::from_text(vocabulary.to_text()) != vocabulary) __builtin_trap();
  } catch (const tg::Error&) {
  }
  return 0;
}
