#include "examples/datasets/cmudict.h"

#include "examples/datasets/paths.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <unordered_map>

#include "examples/datasets/vocabulary.h"
#include "framework/error.h"

namespace tg::data {

namespace {

bool is_word_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'' || c == '.' || c == '-' ||
         c == '_';
}

bool is_known_phoneme(const std::string& symbol) {
  return std::any_of(std::begin(kArpabetPhonemes), std::end(kArpabetPhonemes),
                     [&](const char* known) { return symbol == known; });
}

// The words of a line, split on spaces and tabs (a stringstream per line is 5x slower).
std::vector<std::string> split_on_whitespace(std::string_view text) {
  std::vector<std::string> tokens;
  size_t start = text.find_first_not_of(" \t");
  while (start != std::string_view::npos) {
    const size_t end = std::min(text.find_first_of(" \t", start), text.size());
    tokens.emplace_back(text.substr(start, end - start));
    start = text.find_first_not_of(" \t", end);
  }
  return tokens;
}

struct ParsedLine {
  std::string word;
  std::vector<std::string> phonemes;
};

// Parses the head "word" or "word(n)" into ParsedLine::word; returns the reason it is
// malformed, or "" when it is fine.
std::string parse_head(const std::string& head, ParsedLine& parsed) {
  std::string base = head;
  const size_t open = head.find('(');
  if (open != std::string::npos || head.find(')') != std::string::npos) {
    const bool digits_only =
        open != std::string::npos && open + 2 < head.size() && head.back() == ')' &&
        std::all_of(head.begin() + static_cast<std::ptrdiff_t>(open) + 1, head.end() - 1,
                    [](char c) { return c >= '0' && c <= '9'; });
    if (open == 0 || !digits_only) {
      return "bad alternate marker in '" + head + "' (expected word(number), as in read(2))";
    }
    base = head.substr(0, open);
  }
  std::transform(base.begin(), base.end(), base.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  for (const std::string& character : split_characters(base)) {
    if (character.size() != 1 || !is_word_character(character[0])) {
      return "character '" + character + "' in '" + head + "' is outside [a-z0-9'._-]";
    }
  }
  parsed.word = std::move(base);
  return "";
}

// Checks one phoneme ("AH", "AH0") and strips its stress digit unless keep_stress.
std::string parse_phoneme(std::string phoneme, const std::string& head, bool keep_stress,
                          ParsedLine& parsed) {
  std::string bare = phoneme;
  const char last = phoneme.back();
  const bool has_digit = last >= '0' && last <= '9';
  if (has_digit) bare.pop_back();
  if (!is_known_phoneme(bare)) {
    return "unknown phoneme '" + phoneme + "' in the pronunciation of '" + head + "'";
  }
  if (has_digit && (last > '2' || !is_arpabet_vowel(bare))) {
    return "bad stress mark on '" + phoneme + "' in '" + head +
           "' (only vowels take stress 0, 1 or 2)";
  }
  parsed.phonemes.push_back(keep_stress ? std::move(phoneme) : std::move(bare));
  return "";
}

// Fills parsed from a line that is neither blank nor a comment; returns why it is malformed,
// or "" when it is fine.
std::string parse_line(const std::string& line, bool keep_stress, ParsedLine& parsed) {
  // A "#" after the word starts a trailing comment (upstream: "d'artagnan D AH0 ... # french").
  const std::string_view content = std::string_view(line).substr(0, line.find('#'));
  const std::vector<std::string> tokens = split_on_whitespace(content);
  const std::string& head = tokens.front();
  if (std::string reason = parse_head(head, parsed); !reason.empty()) return reason;
  for (size_t i = 1; i < tokens.size(); ++i) {
    if (std::string reason = parse_phoneme(tokens[i], head, keep_stress, parsed); !reason.empty()) {
      return reason;
    }
  }
  if (parsed.phonemes.empty()) return "'" + head + "' has no phonemes";
  return "";
}

}  // namespace

bool is_arpabet_vowel(const std::string& phoneme) {
  static const char* const vowels[] = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER",
                                       "EY", "IH", "IY", "OW", "OY", "UH", "UW"};
  return std::any_of(std::begin(vowels), std::end(vowels),
                     [&](const char* vowel) { return phoneme == vowel; });
}

std::vector<PronouncingEntry> read_cmudict(const std::string& path, const CmudictOptions& options,
                                           std::vector<std::string>* warnings) {
  check(path_exists(path, "cmudict"), "cmudict: ", path_for_message(path),
        " not found; install Debian's package pocketsphinx-en-us "
        "(apt-get install pocketsphinx-en-us) or pass the path of a CMU pronouncing dictionary");
  std::ifstream file(path);
  check(file.good(), "cmudict: cannot open ", path, ": ", std::strerror(errno));

  std::vector<PronouncingEntry> entries;
  std::unordered_map<std::string, size_t> index_of_word;
  std::string line;
  for (int64_t line_number = 1; std::getline(file, line); ++line_number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // files written on Windows
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    if (line.compare(start, 3, ";;;") == 0 || line[start] == '#') continue;

    ParsedLine parsed;
    if (const std::string reason = parse_line(line, options.keep_stress, parsed); !reason.empty()) {
      check(options.skip_malformed, "cmudict: ", path, ":", line_number, ": ", reason);
      if (warnings) warnings->push_back("cmudict:" + std::to_string(line_number) + ": " + reason);
      continue;
    }
    auto [found, is_new] = index_of_word.try_emplace(parsed.word, entries.size());
    if (is_new) {
      if (options.limit >= 0 && static_cast<int64_t>(entries.size()) == options.limit) break;
      entries.push_back({parsed.word, {}});
    }
    auto& pronunciations = entries[found->second].pronunciations;
    if (std::find(pronunciations.begin(), pronunciations.end(), parsed.phonemes) ==
        pronunciations.end()) {
      pronunciations.push_back(std::move(parsed.phonemes));
    }
  }
  check(!file.bad(), "cmudict: reading ", path, " failed: ", std::strerror(errno));
  return entries;
}

}  // namespace tg::data
