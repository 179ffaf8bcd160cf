// Vocabulary: symbols (letters, phonemes, words) <-> integer ids for embeddings and softmaxes.
//
// Ids 0..3 are the special tokens every sequence model needs:
//   <pad> 0  fills a batch row past its length (0, so zeros() is an all-padding batch)
//   <bos> 1  the decoder's first input
//   <eos> 2  the decoder's last target: predicting it is how a model says "done"
//   <unk> 3  stands for a symbol the vocabulary does not hold
// The real symbols follow, sorted, so the same symbols give the same ids whatever order they
// were seen in. to_lines()/to_text() write one symbol a line in id order: that text is the whole
// vocabulary and goes into a checkpoint's metadata, so a trained model reads its own ids back.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace tg::data {

inline constexpr int32_t kPadId = 0;
inline constexpr int32_t kBosId = 1;
inline constexpr int32_t kEosId = 2;
inline constexpr int32_t kUnkId = 3;
inline constexpr int32_t kNumSpecialIds = 4;
inline constexpr std::array<const char*, 4> kSpecialSymbols = {"<pad>", "<bos>", "<eos>", "<unk>"};

class Vocabulary {
 public:
  Vocabulary();  // the special tokens only
  // symbols in any order, repeats allowed; each must be non-empty, hold no newline and not be
  // one of the special symbols.
  explicit Vocabulary(std::vector<std::string> symbols);

  int64_t size() const { return static_cast<int64_t>(symbols_.size()); }  // specials included
  // True for a real symbol of the vocabulary (never for a special): lets a program tell the
  // user "unknown character 'é' in 'café'" before it silently becomes <unk>.
  bool contains(const std::string& symbol) const;
  int32_t id(const std::string& symbol) const;  // kUnkId when not contained
  const std::string& symbol(int32_t id) const;  // tg::Error when id is outside [0, size)

  std::vector<int32_t> encode(const std::vector<std::string>& symbols) const;
  // Ids back to symbols. stop_at_eos ends at the first <eos>; skip_specials drops <pad>, <bos>
  // and <eos>. <unk> is always written as "<unk>": it stands for a real symbol, and hiding it
  // would make a wrong output look shorter than it was.
  std::vector<std::string> decode(const std::vector<int32_t>& ids, bool stop_at_eos = true,
                                  bool skip_specials = true) const;

  // Every symbol, specials first, in id order: line i is the symbol of id i.
  const std::vector<std::string>& symbols() const { return symbols_; }
  std::vector<std::string> to_lines() const { return symbols_; }
  // Checks that the lines start with the specials and repeat nothing.
  static Vocabulary from_lines(const std::vector<std::string>& lines);
  std::string to_text() const;  // the lines joined by '\n'
  static Vocabulary from_text(const std::string& text);

  bool operator==(const Vocabulary& other) const { return symbols_ == other.symbols_; }

 private:
  std::vector<std::string> symbols_;
  std::unordered_map<std::string, int32_t> ids_;
};

// The characters of a UTF-8 string, one string per code point: "café" -> c, a, f, é. A stray
// byte that does not start a valid sequence is its own character, so nothing is lost.
std::vector<std::string> split_characters(const std::string& text);

}  // namespace tg::data
