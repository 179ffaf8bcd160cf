#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "examples/datasets/cmudict.h"
#include "framework/tapegrad.h"

using namespace tg;
using namespace tg::data;

namespace {

using Pronunciation = std::vector<std::string>;

// Writes text to a fresh file in a folder of this test's own and returns its path.
std::string write_fixture(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "tapegrad_test_cmudict";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Line numbers matter: the warnings name them.
const char* const kFixture =
    ";;; a comment in the style of cmudict-0.7b\n"  // 1
    "# a comment in the style of cmudict.dict\n"    // 2
    "hello HH AH0 L OW1\n"                          // 3
    "hello(2) HH EH0 L OW1\n"                       // 4
    "READ R IY1 D\n"                                // 5
    "read(2) R EH1 D\n"                             // 6
    "\n"                                            // 7
    "empty\n"                                       // 8: no phonemes
    "caf\xc3\xa9 K AE0 F EY1\n"                     // 9: é
    "word(x) W ER1 D\n"                             // 10
    "bad Q AH1\n"                                   // 11: no phoneme Q
    "project P R AA1 JH EH0 K T\n"                  // 12
    "project(2) P R AA1 JH EH2 K T\n"               // 13: equal to line 12 without stress
    "cat K AE1 T # a trailing comment\n"            // 14
    "dog\tD AO1 G\r\n"                              // 15: tab, Windows line end
    "stress T1 AH1\n"                               // 16: consonants take no stress
    "three-d TH R IY1 D IY1\n";                     // 17

const PronouncingEntry* find_word(const std::vector<PronouncingEntry>& entries,
                                  const std::string& word) {
  const auto found = std::find_if(entries.begin(), entries.end(),
                                  [&](const PronouncingEntry& e) { return e.word == word; });
  return found == entries.end() ? nullptr : &*found;
}

}  // namespace

TEST_CASE("cmudict: comments skipped, alternates grouped in file order, stress stripped") {
  std::vector<std::string> warnings;
  const auto entries = read_cmudict(write_fixture("basic.dict", kFixture), {}, &warnings);
  std::vector<std::string> words;
  for (const auto& e : entries) words.push_back(e.word);
  CHECK(words == std::vector<std::string>{"hello", "read", "project", "cat", "dog", "three-d"});

  CHECK(entries[0].pronunciations ==
        std::vector<Pronunciation>{{"HH", "AH", "L", "OW"}, {"HH", "EH", "L", "OW"}});
  CHECK(entries[1].pronunciations ==
        std::vector<Pronunciation>{{"R", "IY", "D"}, {"R", "EH", "D"}});
  // Lines 12 and 13 differ only in stress: one pronunciation once stress is gone.
  CHECK(entries[2].pronunciations ==
        std::vector<Pronunciation>{{"P", "R", "AA", "JH", "EH", "K", "T"}});
  CHECK(entries[3].pronunciations == std::vector<Pronunciation>{{"K", "AE", "T"}});
  CHECK(entries[4].pronunciations == std::vector<Pronunciation>{{"D", "AO", "G"}});

  CHECK(warnings ==
        std::vector<std::string>{
            "cmudict:8: 'empty' has no phonemes",
            "cmudict:9: character '\xc3\xa9' in 'caf\xc3\xa9' is outside [a-z0-9'._-]",
            "cmudict:10: bad alternate marker in 'word(x)' (expected word(number), as in read(2))",
            "cmudict:11: unknown phoneme 'Q' in the pronunciation of 'bad'",
            "cmudict:16: bad stress mark on 'T1' in 'stress' (only vowels take stress 0, 1 or 2)",
        });
}

TEST_CASE("cmudict: keep_stress keeps the digits and the alternates that differ by them") {
  const auto entries = read_cmudict(write_fixture("stress.dict", kFixture), {.keep_stress = true});
  const PronouncingEntry* hello = find_word(entries, "hello");
  REQUIRE(hello != nullptr);
  CHECK(hello->pronunciations ==
        std::vector<Pronunciation>{{"HH", "AH0", "L", "OW1"}, {"HH", "EH0", "L", "OW1"}});
  const PronouncingEntry* project = find_word(entries, "project");
  REQUIRE(project != nullptr);
  CHECK(project->pronunciations.size() == 2);
  CHECK(project->pronunciations[1][4] == "EH2");
}

TEST_CASE("cmudict: a file without stress marks reads the same either way") {
  const std::string path = write_fixture("plain.dict", "a AH\na(2) EY\nabout AH B AW T\n");
  for (const bool keep : {false, true}) {
    const auto entries = read_cmudict(path, {.keep_stress = keep});
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].pronunciations == std::vector<Pronunciation>{{"AH"}, {"EY"}});
    CHECK(entries[1].pronunciations == std::vector<Pronunciation>{{"AH", "B", "AW", "T"}});
  }
}

TEST_CASE("cmudict: a malformed line is an error naming path and line unless skipped") {
  const std::string path = write_fixture("strict.dict", kFixture);
  CHECK_THROWS_WITH_AS(read_cmudict(path, {.skip_malformed = false}),
                       doctest::Contains("strict.dict:8: 'empty' has no phonemes"), Error);
  const std::string bad_index = write_fixture("index.dict", "ok OW K EY\nok() OW\n");
  CHECK_THROWS_WITH_AS(read_cmudict(bad_index, {.skip_malformed = false}),
                       doctest::Contains("index.dict:2: bad alternate marker in 'ok()'"), Error);
  // Skipping without a warnings vector is allowed and reads the good lines.
  CHECK(read_cmudict(bad_index).size() == 1);
}

TEST_CASE("cmudict: limit stops at the first word past it, alternates included") {
  const auto entries = read_cmudict(write_fixture("limit.dict", kFixture), {.limit = 2});
  REQUIRE(entries.size() == 2);
  CHECK(entries[1].word == "read");
  CHECK(entries[1].pronunciations.size() == 2);
}

TEST_CASE("cmudict: a missing file names the Debian package") {
  CHECK_THROWS_WITH_AS(read_cmudict("/nonexistent/cmudict.dict"),
                       doctest::Contains("install Debian's package pocketsphinx-en-us"), Error);
}

TEST_CASE("cmudict: the real dictionary, when installed") {
  if (!std::filesystem::exists(kCmudictPath)) {
    MESSAGE("skipped: ", kCmudictPath, " is absent (apt-get install pocketsphinx-en-us)");
    return;
  }
  std::vector<std::string> warnings;
  const auto entries = read_cmudict(kCmudictPath, {}, &warnings);
  CHECK(entries.size() > 100000);
  CHECK_MESSAGE(warnings.empty(), (warnings.empty() ? "" : warnings.front()));
  const PronouncingEntry* hello = find_word(entries, "hello");
  REQUIRE(hello != nullptr);
  const auto& p = hello->pronunciations;
  CHECK(std::find(p.begin(), p.end(), Pronunciation{"HH", "AH", "L", "OW"}) != p.end());
  CHECK(std::find(p.begin(), p.end(), Pronunciation{"HH", "EH", "L", "OW"}) != p.end());
  std::set<std::string> phonemes;
  for (const auto& e : entries)
    for (const auto& pron : e.pronunciations) phonemes.insert(pron.begin(), pron.end());
  CHECK(phonemes.size() == 39);
}
