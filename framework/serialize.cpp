#include "framework/serialize.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "framework/backend/backend.h"

namespace tg {

static_assert(std::endian::native == std::endian::little,
              "the checkpoint format stores tensor data as little-endian host bytes");

namespace {

constexpr uint8_t kMagic[8] = {'T', 'G', 'C', 'K', 'P', 'T', '\r', '\n'};
constexpr size_t kChecksumSize = 4;

uint8_t dtype_code(DType dtype) { return dtype == DType::Float32 ? 0 : 1; }

// ---- writing ----

class ByteWriter {
 public:
  void u8(uint8_t value) { bytes_.push_back(value); }
  void u32(uint32_t value) { little_endian(value, 4); }
  void u64(uint64_t value) { little_endian(value, 8); }
  void raw(const void* data, size_t size) {
    const auto* begin = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), begin, begin + size);
  }
  void sized_u32(const std::string& text) {
    u32(static_cast<uint32_t>(text.size()));
    raw(text.data(), text.size());
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  void little_endian(uint64_t value, int size) {
    for (int i = 0; i < size; ++i) bytes_.push_back(static_cast<uint8_t>(value >> (8 * i)));
  }
  std::vector<uint8_t> bytes_;
};

void store_u32_at(std::vector<uint8_t>& bytes, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(value >> (8 * i));
}

// ---- reading: every read is bounded by what remains ----

class ByteReader {
 public:
  ByteReader(const uint8_t* bytes, size_t size, const std::string& source)
      : bytes_(bytes), size_(size), source_(source) {}

  size_t position() const { return position_; }
  size_t remaining() const { return size_ - position_; }

  void need(size_t count, const std::string& what) const {
    check(count <= remaining(), source_, ": truncated or corrupted at byte ", position_, ": ", what,
          " needs ", count, " bytes, only ", remaining(), " remain");
  }
  uint8_t u8(const std::string& what) { return static_cast<uint8_t>(little_endian(1, what)); }
  uint32_t u32(const std::string& what) { return static_cast<uint32_t>(little_endian(4, what)); }
  uint64_t u64(const std::string& what) { return little_endian(8, what); }
  const uint8_t* take(size_t count, const std::string& what) {
    need(count, what);
    const uint8_t* at = bytes_ + position_;
    position_ += count;
    return at;
  }
  std::string text(size_t count, const std::string& what) {
    const uint8_t* at = take(count, what);
    return std::string(reinterpret_cast<const char*>(at), count);
  }
  [[noreturn]] void fail_here(size_t at, const std::string& message) const {
    fail(source_, ": corrupted at byte ", at, ": ", message);
  }

 private:
  uint64_t little_endian(int count, const std::string& what) {
    const uint8_t* at = take(static_cast<size_t>(count), what);
    uint64_t value = 0;
    for (int i = 0; i < count; ++i) value |= uint64_t{at[i]} << (8 * i);
    return value;
  }
  const uint8_t* bytes_;
  size_t size_;
  size_t position_ = 0;
  const std::string& source_;
};

// The element count of dims, refusing any shape whose data could not fit in the bytes left (a
// corrupt dim must not turn into a huge allocation or an overflowing product).
int64_t checked_numel(const Shape& dims, size_t element_size, size_t remaining_bytes,
                      ByteReader& reader, size_t at, const std::string& name) {
  constexpr uint64_t kMaxEmptyProduct = uint64_t{1} << 40;  // keeps numel_of's products in range
  uint64_t product = 1;
  bool has_zero = false;
  for (const int64_t dim : dims) {
    if (dim < 0)
      reader.fail_here(at, "tensor '" + name + "' has negative dim " + std::to_string(dim));
    if (dim == 0) {
      has_zero = true;
      continue;
    }
    if (static_cast<uint64_t>(dim) > kMaxEmptyProduct / product)
      reader.fail_here(
          at, "tensor '" + name + "' has shape " + to_string(dims) + ", larger than the file");
    product *= static_cast<uint64_t>(dim);
  }
  if (has_zero) return 0;
  if (product > remaining_bytes / element_size)
    reader.fail_here(at, "tensor '" + name + "' of shape " + to_string(dims) + " needs " +
                             std::to_string(product * element_size) + " bytes of data, only " +
                             std::to_string(remaining_bytes) + " remain");
  return static_cast<int64_t>(product);
}

void read_tensor(ByteReader& reader, Checkpoint& out) {
  const size_t start = reader.position();
  const uint32_t name_size = reader.u32("a tensor's name size");
  const std::string name = reader.text(name_size, "a tensor's name");
  if (name.empty()) reader.fail_here(start, "a tensor has an empty name");
  if (out.has_tensor(name)) reader.fail_here(start, "the tensor name '" + name + "' appears twice");
  const size_t dtype_at = reader.position();
  const uint8_t code = reader.u8("the dtype of tensor '" + name + "'");
  if (code > 1)
    reader.fail_here(dtype_at,
                     "tensor '" + name + "' has unknown dtype code " + std::to_string(code));
  const DType dtype = code == 0 ? DType::Float32 : DType::Int32;
  const uint8_t rank = reader.u8("the rank of tensor '" + name + "'");
  if (rank > kCheckpointMaxRank)
    reader.fail_here(dtype_at + 1, "tensor '" + name + "' has rank " + std::to_string(rank) +
                                       ", at most " + std::to_string(kCheckpointMaxRank));
  Shape dims(rank);
  for (auto& dim : dims)
    dim = static_cast<int64_t>(reader.u64("the dims of tensor '" + name + "'"));
  const int64_t numel =
      checked_numel(dims, dtype_size(dtype), reader.remaining(), reader, start, name);
  const size_t data_size = static_cast<size_t>(numel) * dtype_size(dtype);
  const uint8_t* data = reader.take(data_size, "the data of tensor '" + name + "'");
  Tensor value = empty(dims, dtype, Device::CPU);
  if (data_size > 0) std::memcpy(value.raw_data(), data, data_size);
  out.adopt_tensor(name, std::move(value));
}

void read_metadata(ByteReader& reader, Checkpoint& out) {
  const size_t start = reader.position();
  const uint32_t key_size = reader.u32("a metadata key size");
  const std::string key = reader.text(key_size, "a metadata key");
  if (out.has(key)) reader.fail_here(start, "the metadata key '" + key + "' appears twice");
  const uint64_t value_size = reader.u64("the size of metadata '" + key + "'");
  reader.need(value_size, "the value of metadata '" + key + "'");
  out.set_string(key, reader.text(static_cast<size_t>(value_size), "metadata '" + key + "'"));
}

// ---- files ----

std::string os_reason() { return std::strerror(errno); }

void write_all(int fd, const std::vector<uint8_t>& bytes, const std::string& path) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t count = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (count < 0 && errno == EINTR) continue;
    check(count > 0, "save_checkpoint: cannot write '", path, "': ", os_reason());
    written += static_cast<size_t>(count);
  }
}

// Makes the rename itself durable; best effort (some file systems refuse a directory fsync).
void sync_directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string directory = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

uint32_t crc32_of(const uint8_t* bytes, size_t size) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  while (size > 0) {  // zlib takes 32-bit lengths
    const uInt chunk = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
    crc = ::crc32(crc, bytes, chunk);
    bytes += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

std::vector<uint8_t> encode_checkpoint(const Checkpoint& checkpoint) {
  ByteWriter out;
  out.raw(kMagic, sizeof kMagic);
  out.u32(kCheckpointVersion);
  out.u64(0);  // body size, filled in below
  out.u64(checkpoint.tensors().size());
  for (const auto& [name, value] : checkpoint.tensors()) {
    check(value.dim() <= kCheckpointMaxRank, "save_checkpoint: tensor '", name, "' has rank ",
          value.dim(), ", the format allows at most ", kCheckpointMaxRank);
    check(name.size() <= std::numeric_limits<uint32_t>::max(), "save_checkpoint: name too long");
    out.sized_u32(name);
    out.u8(dtype_code(value.dtype()));
    out.u8(static_cast<uint8_t>(value.dim()));
    for (const int64_t dim : value.shape()) out.u64(static_cast<uint64_t>(dim));
    const size_t at = out.bytes().size();
    out.bytes().resize(at + value.nbytes());
    if (value.nbytes() > 0) backend_of(value).copy_to_host(value, out.bytes().data() + at);
  }
  out.u64(checkpoint.metadata().size());
  for (const auto& [key, value] : checkpoint.metadata()) {
    out.sized_u32(key);
    out.u64(value.size());
    out.raw(value.data(), value.size());
  }
  std::vector<uint8_t>& bytes = out.bytes();
  const uint64_t body_size = bytes.size() - kCheckpointHeaderSize;
  for (int i = 0; i < 8; ++i) bytes[12 + i] = static_cast<uint8_t>(body_size >> (8 * i));
  const uint32_t crc = crc32_of(bytes.data(), bytes.size());
  bytes.resize(bytes.size() + kChecksumSize);
  store_u32_at(bytes, bytes.size() - kChecksumSize, crc);
  return std::move(bytes);
}

Checkpoint decode_checkpoint(const uint8_t* bytes, size_t size, const std::string& source) {
  // The header, in the order that gives the most useful message first.
  check(size > 0, source, ": empty file, not a checkpoint");
  check(std::memcmp(bytes, kMagic, std::min(size, sizeof kMagic)) == 0, source,
        ": not a tapegrad checkpoint (wrong magic number in the first 8 bytes)");
  ByteReader header(bytes, size, source);
  header.take(std::min(size, sizeof kMagic), "the magic number");
  if (size >= sizeof kMagic + 4) {
    const uint32_t version = header.u32("the format version");
    check(version == kCheckpointVersion, source, ": unknown checkpoint format version ", version,
          " at byte 8; this build reads version ", kCheckpointVersion);
  }
  check(size >= kCheckpointHeaderSize + kChecksumSize, source, ": truncated: the file has ", size,
        " bytes, a checkpoint has at least ", kCheckpointHeaderSize + kChecksumSize);
  const uint64_t body_size = header.u64("the body size");
  const uint64_t available = size - kCheckpointHeaderSize;
  check(available >= kChecksumSize && body_size <= available - kChecksumSize, source,
        ": truncated: the header (byte 12) announces ", body_size, " bytes of body and a ",
        kChecksumSize, "-byte checksum, the file has ", available, " bytes after the header");
  check(body_size == available - kChecksumSize, source, ": ", available - kChecksumSize - body_size,
        " unexpected bytes after the checksum (the file ends at byte ", size, ", expected ",
        kCheckpointHeaderSize + body_size + kChecksumSize, ")");
  const size_t checked_size = kCheckpointHeaderSize + static_cast<size_t>(body_size);
  uint32_t stored_crc = 0;
  for (int i = 0; i < 4; ++i) stored_crc |= uint32_t{bytes[checked_size + i]} << (8 * i);
  const uint32_t actual_crc = crc32_of(bytes, checked_size);
  check(stored_crc == actual_crc, source, ": checksum mismatch (stored at byte ", checked_size,
        "): the file is corrupted");

  // The body. The checksum passed, so an error here means a writer bug or a forged file.
  ByteReader reader(bytes, checked_size, source);
  reader.take(kCheckpointHeaderSize, "the header");
  Checkpoint out;
  out.set_source(source);
  const uint64_t tensor_count = reader.u64("the tensor count");
  for (uint64_t i = 0; i < tensor_count; ++i) read_tensor(reader, out);
  const uint64_t metadata_count = reader.u64("the metadata count");
  for (uint64_t i = 0; i < metadata_count; ++i) read_metadata(reader, out);
  if (reader.remaining() != 0)
    reader.fail_here(reader.position(),
                     std::to_string(reader.remaining()) + " unexpected bytes after the metadata");
  return out;
}

void save_checkpoint(const Checkpoint& checkpoint, const std::string& path) {
  const std::vector<uint8_t> bytes = encode_checkpoint(checkpoint);
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  check(fd >= 0, "save_checkpoint: cannot create '", temporary, "': ", os_reason());
  try {
    write_all(fd, bytes, temporary);
    check(::fsync(fd) == 0, "save_checkpoint: cannot flush '", temporary, "': ", os_reason());
  } catch (...) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  const bool closed = ::close(fd) == 0;
  if (!closed || std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = os_reason();
    ::unlink(temporary.c_str());
    fail("save_checkpoint: cannot ", closed ? "rename '" : "close '", temporary, "' to '", path,
         "': ", reason, "; the previous checkpoint, if any, is unchanged");
  }
  sync_directory_of(path);
}

Checkpoint load_checkpoint(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  check(fd >= 0, "load_checkpoint: cannot open '", path, "': ", os_reason());
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    fail("load_checkpoint: '", path, "' is not a regular file");
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(info.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t count = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) break;
    done += static_cast<size_t>(count);
  }
  ::close(fd);
  bytes.resize(done);  // a file that shrank while read shows up as truncated
  return decode_checkpoint(bytes.data(), bytes.size(), "'" + path + "'");
}

}  // namespace tg
