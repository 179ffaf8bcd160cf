#include "examples/datasets/vocabulary.h"

#include <algorithm>

#include "framework/error.h"

namespace tg::data {

namespace {

bool is_special(const std::string& symbol) {
  return std::find(kSpecialSymbols.begin(), kSpecialSymbols.end(), symbol) != kSpecialSymbols.end();
}

// The length of the UTF-8 sequence that starts at text[i], or 1 for a byte that starts none.
size_t utf8_sequence_length(const std::string& text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const size_t length = lead < 0x80           ? 1
                        : (lead >> 5) == 0x6  ? 2
                        : (lead >> 4) == 0xE  ? 3
                        : (lead >> 3) == 0x1E ? 4
                                              : 1;
  if (i + length > text.size()) return 1;
  for (size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return 1;  // not 10xxxxxx
  }
  return length;
}

}  // namespace

Vocabulary::Vocabulary() : Vocabulary(std::vector<std::string>{}) {}

Vocabulary::Vocabulary(std::vector<std::string> symbols) {
  for (const std::string& symbol : symbols) {
    check(!symbol.empty(), "Vocabulary: a symbol is empty");
    check(symbol.find('\n') == std::string::npos, "Vocabulary: symbol '", symbol,
          "' holds a newline (the vocabulary is stored one symbol a line)");
    check(!is_special(symbol), "Vocabulary: '", symbol,
          "' is a special symbol; it cannot also be a real one");
  }
  std::sort(symbols.begin(), symbols.end());
  symbols.erase(std::unique(symbols.begin(), symbols.end()), symbols.end());
  symbols_.assign(kSpecialSymbols.begin(), kSpecialSymbols.end());
  symbols_.insert(symbols_.end(), symbols.begin(), symbols.end());
  for (size_t i = 0; i < symbols_.size(); ++i) ids_.emplace(symbols_[i], static_cast<int32_t>(i));
}

bool Vocabulary::contains(const std::string& symbol) const {
  const auto found = ids_.find(symbol);
  return found != ids_.end() && found->second >= kNumSpecialIds;
}

int32_t Vocabulary::id(const std::string& symbol) const {
  return contains(symbol) ? ids_.at(symbol) : kUnkId;
}

const std::string& Vocabulary::symbol(int32_t id) const {
  check(id >= 0 && id < size(), "Vocabulary: id ", id, " is outside [0, ", size(), ")");
  return symbols_[static_cast<size_t>(id)];
}

std::vector<int32_t> Vocabulary::encode(const std::vector<std::string>& symbols) const {
  std::vector<int32_t> ids;
  ids.reserve(symbols.size());
  for (const std::string& s : symbols) ids.push_back(id(s));
  return ids;
}

std::vector<std::string> Vocabulary::decode(const std::vector<int32_t>& ids, bool stop_at_eos,
                                            bool skip_specials) const {
  std::vector<std::string> out;
  for (const int32_t i : ids) {
    if (stop_at_eos && i == kEosId) break;
    if (skip_specials && (i == kPadId || i == kBosId || i == kEosId)) continue;
    out.push_back(symbol(i));
  }
  return out;
}

Vocabulary Vocabulary::from_lines(const std::vector<std::string>& lines) {
  check(lines.size() >= kSpecialSymbols.size(), "Vocabulary::from_lines: ", lines.size(),
        " lines; a vocabulary starts with the ", kSpecialSymbols.size(), " special symbols");
  for (size_t i = 0; i < kSpecialSymbols.size(); ++i) {
    check(lines[i] == kSpecialSymbols[i], "Vocabulary::from_lines: line ", i + 1, " is '", lines[i],
          "', expected '", kSpecialSymbols[i], "'");
  }
  Vocabulary vocabulary;
  // Kept in the stored order, not re-sorted: the ids are what a trained model learnt.
  for (size_t i = kSpecialSymbols.size(); i < lines.size(); ++i) {
    const std::string& symbol = lines[i];
    check(!symbol.empty() && symbol.find('\n') == std::string::npos,
          "Vocabulary::from_lines: line ", i + 1, " is empty");
    const bool is_new = vocabulary.ids_.emplace(symbol, static_cast<int32_t>(i)).second;
    check(is_new, "Vocabulary::from_lines: line ", i + 1, " repeats '", symbol, "'");
    vocabulary.symbols_.push_back(symbol);
  }
  return vocabulary;
}

std::string Vocabulary::to_text() const {
  std::string text;
  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (i > 0) text += '\n';
    text += symbols_[i];
  }
  return text;
}

Vocabulary Vocabulary::from_text(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (lines.size() > 1 && lines.back().empty()) lines.pop_back();  // a final newline
  return from_lines(lines);
}

std::vector<std::string> split_characters(const std::string& text) {
  std::vector<std::string> characters;
  for (size_t i = 0; i < text.size();) {
    const size_t length = utf8_sequence_length(text, i);
    characters.push_back(text.substr(i, length));
    i += length;
  }
  return characters;
}

}  // namespace tg::data
