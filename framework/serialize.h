// The checkpoint file: one file holding a Checkpoint's named tensors and metadata.
//
// Format, version 1. Every integer is little-endian; sizes count bytes.
//
//   offset      size   field
//   0           8      magic: 'T' 'G' 'C' 'K' 'P' 'T' '\r' '\n'
//   8           4      u32 format version (1)
//   12          8      u64 body size B: the bytes between this header and the checksum
//   20          B      body:
//                        u64 tensor count, then for each tensor:
//                          u32 name size, name bytes (UTF-8, non-empty, unique)
//                          u8  dtype: 0 = float32, 1 = int32
//                          u8  rank (at most 8)
//                          rank x i64 dims (each >= 0)
//                          numel * 4 bytes of data, row-major
//                        u64 metadata count, then for each entry (sorted by key):
//                          u32 key size, key bytes (unique)
//                          u64 value size, value bytes
//   20 + B      4      u32 CRC-32 (zlib's polynomial) of every byte before it
//
// Why each part: the magic rejects files that are not checkpoints, and its "\r\n" detects a file
// mangled by a text-mode transfer (the trick PNG uses). The version lets a later format change
// be refused with a clear message instead of misread. The body size tells a truncated file from a
// corrupted one. The checksum catches flipped bits before any byte is trusted.
//
// Reading checks in that order (magic, version, size, checksum), then parses the body with every
// length bounded by the bytes that remain, so a corrupt length can neither crash the reader nor
// make it allocate more than the file holds. Each failure is a tg::Error naming the file, what
// is wrong and the byte offset where it was found.
//
// Writing goes to "<path>.tmp", is flushed to disk (fsync) and then renamed over <path>: rename
// is atomic, so a crash during a save leaves the previous checkpoint intact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "framework/checkpoint.h"

namespace tg {

inline constexpr uint32_t kCheckpointVersion = 1;
inline constexpr size_t kCheckpointHeaderSize = 20;  // magic + version + body size
inline constexpr int kCheckpointMaxRank = 8;

// The file's bytes, checksum included.
std::vector<uint8_t> encode_checkpoint(const Checkpoint& checkpoint);
// Parses bytes made by encode_checkpoint; source names them in errors (a path, "memory").
Checkpoint decode_checkpoint(const uint8_t* bytes, size_t size, const std::string& source);

// Atomic save: path.tmp, fsync, rename. Throws tg::Error (with the OS reason) when it cannot.
void save_checkpoint(const Checkpoint& checkpoint, const std::string& path);
// Reads and fully checks the file; the Checkpoint's source() is path.
Checkpoint load_checkpoint(const std::string& path);

// zlib's CRC-32 of bytes, for tools and tests that edit a checkpoint and must re-seal it.
uint32_t crc32_of(const uint8_t* bytes, size_t size);

}  // namespace tg
