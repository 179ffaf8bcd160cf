// Word splits of the pronouncing dictionary (examples/g2p_common/word_split.h).
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "examples/g2p_common/word_split.h"
#include "framework/tapegrad.h"

using namespace tg;
using namespace tg::data;

namespace {

std::vector<PronouncingEntry> fake_entries(int count) {
  std::vector<PronouncingEntry> entries;
  for (int i = 0; i < count; ++i) {
    entries.push_back({"word" + std::to_string(i), {{"W", "ER"}, {"W", "AH", std::to_string(i)}}});
  }
  return entries;
}

}  // namespace

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
