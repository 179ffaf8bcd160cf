// The readers of IDX and CMUdict files take a path: each input is written to a file of this
// process's own first.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace tg::fuzz {

inline std::string input_as_file(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/tapegrad_fuzz_input_" + std::to_string(::getpid());
  FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) __builtin_trap();  // the fuzzer cannot run without its scratch file
  if (size > 0) std::fwrite(data, 1, size, file);
  std::fclose(file);
  return path;
}

}  // namespace tg::fuzz
