#include <doctest/doctest.h>

#include "examples/datasets/vocabulary.h"
#include "framework/tapegrad.h"

using namespace tg;
using namespace tg::data;

using Symbols = std::vector<std::string>;

TEST_CASE("vocabulary: specials first, then the symbols sorted and deduplicated") {
  const Vocabulary v(Symbols{"t", "c", "a", "t"});
  CHECK(v.size() == 7);
  CHECK(v.symbols() == Symbols{"<pad>", "<bos>", "<eos>", "<unk>", "a", "c", "t"});
  CHECK(kPadId == 0);
  CHECK(kBosId == 1);
  CHECK(kEosId == 2);
  CHECK(kUnkId == 3);
  CHECK(v.id("a") == 4);
  CHECK(v.id("t") == 6);
  CHECK(v.id("z") == kUnkId);
  CHECK(v.id("<pad>") == kUnkId);  // a special is not a symbol one can look up as text
  CHECK(v.symbol(5) == "c");
  CHECK(v.symbol(kEosId) == "<eos>");
  CHECK(v.contains("c"));
  CHECK_FALSE(v.contains("z"));
  CHECK_FALSE(v.contains("<unk>"));
  // The order symbols came in does not change the ids.
  CHECK(Vocabulary(Symbols{"a", "t", "c"}) == v);
  CHECK(Vocabulary().size() == kNumSpecialIds);
}

TEST_CASE("vocabulary: encode and decode") {
  const Vocabulary v(Symbols{"AE", "K", "T"});
  const std::vector<int32_t> ids = v.encode({"K", "AE", "T", "ZH"});
  CHECK(ids == std::vector<int32_t>{5, 4, 6, kUnkId});
  CHECK(v.decode(ids) == Symbols{"K", "AE", "T", "<unk>"});
  const std::vector<int32_t> generated{kBosId, 5, 4, 6, kEosId, 4, kPadId};
  CHECK(v.decode(generated) == Symbols{"K", "AE", "T"});
  CHECK(v.decode(generated, /*stop_at_eos=*/false) == Symbols{"K", "AE", "T", "AE"});
  CHECK(v.decode(generated, false, /*skip_specials=*/false) ==
        Symbols{"<bos>", "K", "AE", "T", "<eos>", "AE", "<pad>"});
  CHECK(v.decode(generated, true, false) == Symbols{"<bos>", "K", "AE", "T"});
  CHECK_THROWS_WITH_AS(v.decode({4, 7}), doctest::Contains("Vocabulary: id 7 is outside [0, 7)"),
                       Error);
  CHECK_THROWS_WITH_AS(v.symbol(-1), doctest::Contains("id -1 is outside"), Error);
}

TEST_CASE("vocabulary: lines and text round trip, keeping the stored ids") {
  const Vocabulary v(Symbols{"a", "b", "c\xc3\xa9", "'"});
  CHECK(Vocabulary::from_lines(v.to_lines()) == v);
  CHECK(Vocabulary::from_text(v.to_text()) == v);
  CHECK(Vocabulary::from_text(v.to_text() + "\n") == v);
  CHECK(v.to_text().substr(0, 21) == "<pad>\n<bos>\n<eos>\n<un");

  // Lines in another order are taken as they are: ids are what a trained model learnt.
  const Vocabulary stored = Vocabulary::from_lines({"<pad>", "<bos>", "<eos>", "<unk>", "z", "a"});
  CHECK(stored.id("z") == 4);
  CHECK(stored.id("a") == 5);
  CHECK(stored.symbol(4) == "z");
}

TEST_CASE("vocabulary: bad symbols and bad stored text are errors") {
  CHECK_THROWS_WITH_AS(Vocabulary(Symbols{"a", ""}),
                       doctest::Contains("Vocabulary: a symbol is empty"), Error);
  CHECK_THROWS_WITH_AS(Vocabulary(Symbols{"a\nb"}), doctest::Contains("holds a newline"), Error);
  CHECK_THROWS_WITH_AS(Vocabulary(Symbols{"<eos>"}),
                       doctest::Contains("'<eos>' is a special symbol"), Error);
  CHECK_THROWS_WITH_AS(Vocabulary::from_lines({"<pad>", "<bos>"}),
                       doctest::Contains("from_lines: 2 lines"), Error);
  CHECK_THROWS_WITH_AS(Vocabulary::from_lines({"<pad>", "<eos>", "<bos>", "<unk>"}),
                       doctest::Contains("line 2 is '<eos>', expected '<bos>'"), Error);
  CHECK_THROWS_WITH_AS(Vocabulary::from_lines({"<pad>", "<bos>", "<eos>", "<unk>", "a", "b", "a"}),
                       doctest::Contains("line 7 repeats 'a'"), Error);
  CHECK_THROWS_WITH_AS(Vocabulary::from_lines({"<pad>", "<bos>", "<eos>", "<unk>", "<pad>"}),
                       doctest::Contains("line 5 repeats '<pad>'"), Error);
  CHECK_THROWS_WITH_AS(Vocabulary::from_text("<pad>\n<bos>\n<eos>\n<unk>\n\na"),
                       doctest::Contains("line 5 is empty"), Error);
}

TEST_CASE("vocabulary: split_characters splits UTF-8 by code point") {
  CHECK(split_characters("cat") == Symbols{"c", "a", "t"});
  CHECK(split_characters("caf\xc3\xa9") == Symbols{"c", "a", "f", "\xc3\xa9"});
  CHECK(split_characters("\xe2\x82\xac"
                         "1") == Symbols{"\xe2\x82\xac", "1"});                // euro sign
  CHECK(split_characters("\xf0\x9f\x98\x80") == Symbols{"\xf0\x9f\x98\x80"});  // 4 bytes
  CHECK(split_characters("a\xc3") == Symbols{"a", "\xc3"});                    // cut short
  CHECK(split_characters("\x80x") == Symbols{"\x80", "x"});                    // stray byte
  CHECK(split_characters("").empty());

  // What a program does with contains(): name the character the model cannot read.
  const Vocabulary letters(split_characters("abcdefghijklmnopqrstuvwxyz"));
  std::string message;
  for (const std::string& c : split_characters("caf\xc3\xa9"))
    if (!letters.contains(c)) message = "unknown character '" + c + "' in 'caf\xc3\xa9'";
  CHECK(message == "unknown character '\xc3\xa9' in 'caf\xc3\xa9'");
}
