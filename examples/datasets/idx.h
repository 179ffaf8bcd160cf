// The IDX format of MNIST and Fashion-MNIST, plain or gzipped.
//
// An IDX file is: two zero bytes, a type byte (0x08 = unsigned bytes, the only type these
// datasets use), a byte with the number of dims, each dim as a big-endian uint32, then the
// values row-major. The reader checks every part of that against the file and reports the
// first thing that is wrong, with the path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "framework/tensor.h"

namespace tg::data {

struct IdxArray {
  Shape shape;
  std::vector<uint8_t> values;
};

// Reads path (gzip-compressed or not: zlib reads both).
IdxArray read_idx(const std::string& path);

// Writes values with shape as a gzipped IDX file (for tests and small datasets of one's own).
void write_idx_gz(const std::string& path, const Shape& shape, const std::vector<uint8_t>& values);

}  // namespace tg::data
