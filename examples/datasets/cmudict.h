// The CMU Pronouncing Dictionary: about 134,000 English words with their ARPAbet pronunciations.
//
// Debian's package pocketsphinx-en-us installs it at kCmudictPath, one pronunciation a line:
//
//   hello HH AH L OW
//   hello(2) HH EH L OW
//
// "word(n)" is the n-th pronunciation of word. That copy has no stress marks; the upstream
// cmudict files write them on vowels (AH0 unstressed, AH1 primary, AH2 secondary), uppercase
// the words (cmudict-0.7b) and may end a line with "# comment". The reader takes all of these.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tg::data {

inline constexpr const char* kCmudictPath =
    "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";

// The 39 ARPAbet phonemes of CMUdict, sorted; the 15 vowels are the ones that take stress.
inline constexpr const char* kArpabetPhonemes[] = {
    "AA", "AE", "AH", "AO", "AW", "AY", "B",  "CH", "D", "DH", "EH", "ER", "EY",
    "F",  "G",  "HH", "IH", "IY", "JH", "K",  "L",  "M", "N",  "NG", "OW", "OY",
    "P",  "R",  "S",  "SH", "T",  "TH", "UH", "UW", "V", "W",  "Y",  "Z",  "ZH"};
bool is_arpabet_vowel(const std::string& phoneme);  // without a stress digit

struct PronouncingEntry {
  std::string word;  // lowercase
  // Every pronunciation of the word, in file order: word, word(2), word(3)... Alternates that
  // become identical once stress is stripped are kept once.
  std::vector<std::vector<std::string>> pronunciations;
};

struct CmudictOptions {
  // AH0/AH1/AH2 stay distinct phonemes; otherwise the digit is dropped (AH0 -> AH). With 39
  // symbols instead of 69 a small model learns faster, and stress is a separate problem.
  bool keep_stress = false;
  // A malformed line is skipped with a warning; otherwise it throws tg::Error.
  bool skip_malformed = true;
  // Stop at the line that would add word number limit + 1 (-1: read everything). Alternates
  // follow their word in CMUdict, so the words read are complete.
  int64_t limit = -1;
};

// Reads the dictionary at path. Blank lines and comments (lines starting with ";;;" or "#")
// are skipped. A malformed line (a word with no phonemes, a character outside [a-z0-9'._-] in
// the word, an unknown phoneme or misplaced stress digit, an alternate marker that is not
// "(number)") throws "cmudict: PATH:LINE: reason", or with skip_malformed is skipped and, when
// warnings is given, reported there as "cmudict:LINE: reason". Words are lowercased; entries
// keep the order in which their words first appear. A missing file names the Debian package.
std::vector<PronouncingEntry> read_cmudict(const std::string& path,
                                           const CmudictOptions& options = {},
                                           std::vector<std::string>* warnings = nullptr);

}  // namespace tg::data
