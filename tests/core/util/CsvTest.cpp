#include "core/util/Csv.h"

#include <gtest/gtest.h>

namespace tlab::core {
namespace {

TEST(Csv, QuotesDelimitersNewlinesAndLineNumbers) {
  const auto r =
      parseDelimited("a,b\n\"x, y\",\"he said \"\"hi\"\"\"\n\"multi\nline\",z\r\n\nlast,1", ',');
  ASSERT_TRUE(r.problems.empty());
  ASSERT_EQ(r.records.size(), 4u);
  EXPECT_EQ(r.records[1].fields, (std::vector<std::string>{"x, y", "he said \"hi\""}));
  EXPECT_EQ(r.records[1].line, 2u);
  EXPECT_EQ(r.records[2].fields, (std::vector<std::string>{"multi\nline", "z"}));
  EXPECT_EQ(r.records[2].line, 3u);
  EXPECT_EQ(r.records[3].line, 6u);  // blank line 5 skipped, numbering continues
  EXPECT_EQ(r.records[3].fields, (std::vector<std::string>{"last", "1"}));
}

TEST(Csv, TabsAndEmptyFields) {
  const auto r = parseDelimited("\xEF\xBB\xBFp\tq\t\n", '\t');
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].fields, (std::vector<std::string>{"p", "q", ""}));
}

TEST(Csv, UnterminatedQuoteNamesItsLine) {
  const auto r = parseDelimited("ok,1\nfine,2\n\"broken,3\nmore\n", ',');
  EXPECT_EQ(r.records.size(), 2u);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].line, 3u);
}

TEST(Csv, DetectsDelimiter) {
  EXPECT_EQ(detectDelimiter("a\tb,c\td", ".txt"), '\t');
  EXPECT_EQ(detectDelimiter("a,b", ""), ',');
  EXPECT_EQ(detectDelimiter("a,b", ".tsv"), '\t');
}

}  // namespace
}  // namespace tlab::core
