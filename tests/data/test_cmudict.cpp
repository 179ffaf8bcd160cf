#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "framework/data/cmudict.h"
#include "framework/data/word_split.h"
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

std::vector<PronouncingEntry> fake_entries(int count) {
  std::vector<PronouncingEntry> entries;
  for (int i = 0; i < count; ++i) {
    entries.push_back({"word" + std::to_string(i), {{"W", "ER"}, {"W", "AH", std::to_string(i)}}});
  }
  return entries;
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

TEST_CASE("split: deterministic, disjoint, complete, close to the asked fractions") {
  const auto entries = fake_entries(10000);
  const SplitResult a = split_by_word(entries, 0.1, 0.05, 7);
  const SplitResult b = split_by_word(entries, 0.1, 0.05, 7);
  CHECK(a.train.size() + a.dev.size() + a.test.size() == 10000);
  // Binomial counts: mean n p, sd sqrt(n p (1 - p)) = 30 for dev, 22 for test; 5 sd margins.
  CHECK(std::abs(static_cast<double>(a.dev.size()) - 1000) < 150);
  CHECK(std::abs(static_cast<double>(a.test.size()) - 500) < 110);

  std::set<std::string> train, dev, test;
  for (const auto& e : a.train) train.insert(e.word);
  for (const auto& e : a.dev) dev.insert(e.word);
  for (const auto& e : a.test) test.insert(e.word);
  CHECK(train.size() + dev.size() + test.size() == 10000);  // no word in two splits
  for (const auto& e : b.dev) CHECK(dev.count(e.word) == 1);
  CHECK(b.test.size() == a.test.size());

  // Alternates travel with their word, and entries keep their input order.
  REQUIRE(!a.test.empty());
  const auto& first = a.test.front();
  const int i = std::stoi(first.word.substr(4));
  CHECK(first.pronunciations == entries[static_cast<size_t>(i)].pronunciations);

  const SplitResult other_seed = split_by_word(entries, 0.1, 0.05, 8);
  std::set<std::string> other_test;
  for (const auto& e : other_seed.test) other_test.insert(e.word);
  CHECK(other_test != test);
}

TEST_CASE("split: a word's split does not depend on the other words") {
  const auto all = fake_entries(2000);
  const std::vector<PronouncingEntry> half(all.begin() + 1000, all.end());
  const SplitResult whole = split_by_word(all, 0.2, 0.2, 3);
  const SplitResult part = split_by_word(half, 0.2, 0.2, 3);
  std::vector<PronouncingEntry> expected_test;
  for (const auto& e : whole.test)
    if (std::stoi(e.word.substr(4)) >= 1000) expected_test.push_back(e);
  REQUIRE(part.test.size() == expected_test.size());
  for (size_t k = 0; k < expected_test.size(); ++k)
    CHECK(part.test[k].word == expected_test[k].word);
  for (const auto& e : part.dev) CHECK(split_of_word(e.word, 0.2, 0.2, 3) == WordSplit::Dev);
  CHECK(fnv1a_64("") == 0xcbf29ce484222325ull);  // the FNV-1a test vectors
  CHECK(fnv1a_64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(std::string(to_string(WordSplit::Dev)) == "dev");
}

TEST_CASE("split: extreme fractions and bad fractions") {
  const auto entries = fake_entries(100);
  CHECK(split_by_word(entries, 0, 0, 1).train.size() == 100);
  CHECK(split_by_word(entries, 0, 1, 1).test.size() == 100);
  CHECK_THROWS_WITH_AS(split_by_word(entries, 0.6, 0.5, 1),
                       doctest::Contains("split_by_word: dev_fraction 0.6 and test_fraction 0.5"),
                       Error);
  CHECK_THROWS_WITH_AS(split_of_word("a", -0.1, 0, 1), doctest::Contains("split_of_word: "), Error);
}
