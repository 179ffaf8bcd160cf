#include "examples/datasets/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "framework/error.h"

namespace tg::data {

namespace {

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads exactly n bytes or reports how far the file got.
void read_exactly(gzFile file, void* out, size_t n, const std::string& path, const char* what) {
  const int got = gzread(file, out, static_cast<unsigned>(n));
  if (got < 0) {
    int code = 0;
    fail("idx: ", path, ": corrupt gzip data while reading the ", what, " (", gzerror(file, &code),
         ")");
  }
  check(static_cast<size_t>(got) == n, "idx: ", path, ": file is truncated: the ", what, " needs ",
        n, " bytes, only ", got, " remain");
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  GzFile file(gzopen(path.c_str(), "rb"));
  check(file != nullptr, "idx: cannot open ", path, ": ", std::strerror(errno));

  uint8_t header[4];
  read_exactly(file.get(), header, 4, path, "header");
  check(header[0] == 0 && header[1] == 0, "idx: ", path,
        ": not an IDX file (magic number should start with two zero bytes)");
  check(header[2] == 0x08, "idx: ", path, ": element type 0x", std::hex, int{header[2]},
        " is not supported (only 0x08, unsigned bytes)");
  const int ndims = header[3];
  check(ndims >= 1 && ndims <= 4, "idx: ", path, ": ", ndims, " dims; expected 1 to 4");

  IdxArray array;
  uint64_t total = 1;
  for (int d = 0; d < ndims; ++d) {
    uint8_t bytes[4];
    read_exactly(file.get(), bytes, 4, path, "dimension sizes");
    const uint32_t size = uint32_t{bytes[0]} << 24 | uint32_t{bytes[1]} << 16 |
                          uint32_t{bytes[2]} << 8 | uint32_t{bytes[3]};
    check(size > 0, "idx: ", path, ": dim ", d, " has size 0");
    array.shape.push_back(size);
    total *= size;
    check(total <= (uint64_t{1} << 34), "idx: ", path, ": sizes ", array.shape,
          " are implausibly large");
  }
  // The header's claim is checked against the data actually there: the values are read a chunk
  // at a time, so a 32-byte file claiming 3 million images costs one chunk, not 2.4 GB, and
  // memory never outgrows the data read by more than a chunk (the vector grows geometrically).
  constexpr uint64_t kChunk = uint64_t{1} << 20;
  while (array.values.size() < total) {
    const size_t have = array.values.size();
    const auto chunk = static_cast<size_t>(std::min(total - have, kChunk));
    array.values.resize(have + chunk);
    const int got = gzread(file.get(), array.values.data() + have, static_cast<unsigned>(chunk));
    if (got < 0) {
      int code = 0;
      fail("idx: ", path, ": corrupt gzip data while reading the data (",
           gzerror(file.get(), &code), ")");
    }
    check(static_cast<size_t>(got) == chunk, "idx: ", path, ": file is truncated: the header ",
          "claims ", array.shape, ", ", total, " bytes of data, but only ", have + got,
          " are there");
  }
  uint8_t extra;
  check(gzread(file.get(), &extra, 1) == 0, "idx: ", path, ": trailing bytes after ", array.shape,
        " values");
  return array;
}

void write_idx_gz(const std::string& path, const Shape& shape, const std::vector<uint8_t>& values) {
  uint64_t count = 1;  // the reader's own product, so that the readers build without the engine
  for (int64_t size : shape) count *= static_cast<uint64_t>(std::max<int64_t>(size, 0));
  check(count == values.size(), "write_idx_gz: ", values.size(), " values do not fill ", shape);
  GzFile file(gzopen(path.c_str(), "wb"));
  check(file != nullptr, "write_idx_gz: cannot create ", path, ": ", std::strerror(errno));
  std::vector<uint8_t> bytes{0, 0, 0x08, static_cast<uint8_t>(shape.size())};
  for (int64_t size : shape) {
    const auto s = static_cast<uint32_t>(size);
    bytes.insert(bytes.end(), {uint8_t(s >> 24), uint8_t(s >> 16), uint8_t(s >> 8), uint8_t(s)});
  }
  bytes.insert(bytes.end(), values.begin(), values.end());
  check(gzwrite(file.get(), bytes.data(), static_cast<unsigned>(bytes.size())) ==
            static_cast<int>(bytes.size()),
        "write_idx_gz: writing ", path, " failed");
}

}  // namespace tg::data
