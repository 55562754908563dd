#include "core/text/WordPieceTokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/util/FileUtil.h"
#include "core/zoo/BackboneCatalog.h"
#include "tests/core/TestImages.h"

namespace tlab::core {
namespace {

std::shared_ptr<const WordPieceTokenizer> tinyTokenizer(const test::TempDir& dir) {
  test::writeText(dir / "vocab.txt",
                  "[PAD]\n[UNK]\n[CLS]\n[SEP]\nun\n##aff\n##able\nhello\n!\n,\nworld\ncafe\n");
  return WordPieceTokenizer::load(dir / "vocab.txt");
}

TEST(WordPieceTokenizer, GreedyLongestMatchWithContinuations) {
  test::TempDir dir;
  const auto t = tinyTokenizer(dir);
  EXPECT_EQ(t->vocabSize(), 12u);
  EXPECT_EQ(t->tokenize("unaffable"), (std::vector<std::string>{"un", "##aff", "##able"}));
  // Lower-cased, punctuation split off, accents stripped, unknown words become [UNK].
  EXPECT_EQ(t->tokenize("Hello, WORLD! Café unknown"),
            (std::vector<std::string>{"hello", ",", "world", "!", "cafe", "[UNK]"}));
  // A word that starts well but cannot be finished is [UNK] as a whole, not a partial match.
  EXPECT_EQ(t->tokenize("unaffx"), (std::vector<std::string>{"[UNK]"}));
  EXPECT_EQ(t->pieceIds("hello world"), (std::vector<int64_t>{7, 10}));
}

TEST(WordPieceTokenizer, TruncatesAndPadsWithAttentionMask) {
  test::TempDir dir;
  const auto t = tinyTokenizer(dir);
  const TokenizedText e = t->encode("hello world hello world", 4);
  EXPECT_EQ(e.ids, (std::vector<int64_t>{2, 7, 10, 3}));  // [CLS] hello world [SEP]
  EXPECT_EQ(e.pieces, 4u);
  EXPECT_TRUE(e.truncated);
  EXPECT_FALSE(t->encode("hello", 4).truncated);
  EXPECT_THROW(t->encode("hello", 1), InvalidArgument);

  const TokenBatch longest = t->encodeBatch({"hello", "hello world !", ""}, 8, Padding::Longest);
  EXPECT_EQ(longest.count, 3);
  EXPECT_EQ(longest.length, 5);
  EXPECT_EQ(longest.ids, (std::vector<int64_t>{2, 7, 3, 0, 0, 2, 7, 10, 8, 3, 2, 3, 0, 0, 0}));
  EXPECT_EQ(longest.mask, (std::vector<int64_t>{1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(longest.truncated, 0u);
  const TokenBatch fixed = t->encodeBatch({"hello world !"}, 4, Padding::MaxLength);
  EXPECT_EQ(fixed.length, 4);
  EXPECT_EQ(fixed.ids, (std::vector<int64_t>{2, 7, 10, 3}));
  EXPECT_EQ(fixed.truncated, 1u);
}

TEST(WordPieceTokenizer, SurvivesInvalidUtf8AndControlCharacters) {
  test::TempDir dir;
  const auto t = tinyTokenizer(dir);
  EXPECT_EQ(t->tokenize(std::string("hello\xff\xfe world\x07\x01")),
            (std::vector<std::string>{"hello", "world"}));
  EXPECT_EQ(t->tokenize(std::string("\xc3")), std::vector<std::string>{});
  EXPECT_TRUE(t->tokenize("").empty());
  EXPECT_EQ(t->encode("", 8).ids, (std::vector<int64_t>{2, 3}));
}

TEST(WordPieceTokenizer, RejectsFilesThatAreNotVocabularies) {
  test::TempDir dir;
  test::writeText(dir / "vocab.txt", "[PAD]\n[CLS]\n[SEP]\nhello\n");
  try {
    WordPieceTokenizer::load(dir / "vocab.txt");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("vocab.txt"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("[UNK]"), std::string::npos);
  }
  EXPECT_THROW(WordPieceTokenizer::load(dir / "missing.txt"), IoError);
}

// Token ids from Hugging Face's BertTokenizer on the all-MiniLM-L6-v2 vocabulary, for accents,
// CJK, Hangul, Cyrillic, Greek final sigma, Devanagari marks, emoji, control characters, Unicode
// spaces, over-long words and truncation (tests/data/text/make_text_fixtures.py).
TEST(WordPieceTokenizer, MatchesTheReferenceImplementation) {
  const auto catalog = BackboneCatalog::loadDefault();
  const auto tokenizer = catalog.get("minilm_l6").preprocess().tokenizer;
  ASSERT_TRUE(tokenizer);
  EXPECT_EQ(tokenizer->vocabSize(), 30522u);
  const auto ref = nlohmann::json::parse(readTextFile(
      std::filesystem::path(TLAB_TEST_DATA_DIR) / "text" / "tokenizer_reference.json", 1 << 24));
  const size_t maxLength = ref.at("max_length").get<size_t>();
  ASSERT_GE(ref.at("cases").size(), 30u);
  for (const auto& c : ref.at("cases")) {
    const std::string text = c.at("text").get<std::string>();
    EXPECT_EQ(tokenizer->tokenize(text), c.at("tokens").get<std::vector<std::string>>()) << text;
    const TokenBatch b = tokenizer->encodeBatch({text}, maxLength, Padding::MaxLength);
    EXPECT_EQ(b.ids, c.at("input_ids").get<std::vector<int64_t>>()) << text;
    EXPECT_EQ(b.mask, c.at("attention_mask").get<std::vector<int64_t>>()) << text;
  }
}

}  // namespace
}  // namespace tlab::core
