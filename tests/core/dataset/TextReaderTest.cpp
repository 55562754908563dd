#include <gtest/gtest.h>

#include "core/TestImages.h"
#include "core/dataset/Readers.h"

namespace tlab::core {
namespace {
using test::TempDir;

TEST(TextReader, CsvWithHeaderEmbeddedNewlinesAndQuotes) {
  TempDir dir;
  test::writeText(dir / "t.csv",
                  "label,text,split\n"
                  "sport,\"A goal, in the \"\"last\"\" minute\nof the match\",train\n"
                  "tech,New CPU released,test\n"
                  "tech,\"   \",train\n"           // line 5: empty text
                  ",orphan text,train\n"           // line 6: missing label
                  "tech,caf\xe9 latin1,train\n");  // line 7: invalid UTF-8
  const Dataset ds = readTextDataset(dir / "t.csv");
  EXPECT_EQ(ds.modality, Modality::Text);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds.samples[0].text, "A goal, in the \"last\" minute\nof the match");
  EXPECT_EQ(ds.samples[0].split, Split::Train);
  EXPECT_EQ(ds.classNames, (std::vector<std::string>{"sport", "tech"}));
  ASSERT_EQ(ds.skipped.size(), 3u);
  EXPECT_EQ(ds.skipped[0].line, 5u);
  EXPECT_EQ(ds.skipped[0].reason, "empty text");
  EXPECT_EQ(ds.skipped[1].line, 6u);
  EXPECT_EQ(ds.skipped[1].reason, "missing label");
  EXPECT_EQ(ds.skipped[2].line, 7u);
  EXPECT_EQ(ds.skipped[2].reason, "invalid UTF-8 text");
}

TEST(TextReader, TsvWithoutHeader) {
  TempDir dir;
  test::writeText(dir / "t.tsv", "hello world\tgreeting\nbye now\tfarewell\tval\n");
  const Dataset ds = readTextDataset(dir / "t.tsv");
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds.samples[1].split, Split::Val);
}

TEST(TextReader, JsonlWithBadLines) {
  TempDir dir;
  test::writeText(dir / "t.jsonl",
                  "{\"text\": \"first\", \"label\": \"a\", \"split\": \"train\"}\n"
                  "{\"text\": \"second\", \"label\": 3}\n"
                  "not json at all\n"
                  "\n"
                  "{\"label\": \"a\"}\n"
                  "[1, 2]\n"
                  "{\"text\": \"third\", \"label\": \"b\", \"split\": \"holdout\"}\n");
  const Dataset ds = readTextDataset(dir / "t.jsonl");
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds.classNames, (std::vector<std::string>{"3", "a"}));
  ASSERT_EQ(ds.skipped.size(), 4u);
  EXPECT_EQ(ds.skipped[0].line, 3u);
  EXPECT_EQ(ds.skipped[1].line, 5u);
  EXPECT_EQ(ds.skipped[2].line, 6u);
  EXPECT_EQ(ds.skipped[3].line, 7u);
}

TEST(TextReader, FolderOfTxtFilesPerClassWithSplits) {
  TempDir dir;
  test::writeText(dir / "train/pos/1.txt", "\xEF\xBB\xBFgreat film");
  test::writeText(dir / "train/neg/1.txt", "dull");
  test::writeText(dir / "test/neg/2.txt", "boring");
  test::writeText(dir / "test/neg/3.txt", "bad \xff bytes");
  test::writeText(dir / "test/neg/4.txt", "");
  const Dataset ds = readTextDataset(dir.path());
  ASSERT_EQ(ds.size(), 3u);
  EXPECT_EQ(ds.classNames, (std::vector<std::string>{"neg", "pos"}));
  EXPECT_EQ(ds.splitCount(Split::Test), 1);
  EXPECT_EQ(ds.skipped.size(), 2u);
  bool sawBom = false;
  for (const auto& s : ds.samples) sawBom |= s.text == "great film";
  EXPECT_TRUE(sawBom);
}

}  // namespace
}  // namespace tlab::core
