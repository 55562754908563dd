// Text end to end through the CLI: a JSONL file with broken rows, training a (tiny) BERT,
// evaluation, and predict on --text and on a file of lines.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/CliRunner.h"
#include "core/TestImages.h"
#include "core/TextFixtures.h"

namespace fs = std::filesystem;
using nlohmann::json;
using tlab::test::runCli;

namespace {

fs::path writeCorpus(const tlab::test::TempDir& dir) {
  std::ostringstream out;
  for (int i = 0; i < 3 * 40; ++i) {
    const char* split = i < 90 ? "train" : (i < 105 ? "val" : "test");
    out << json{{"text", tlab::test::topicSentence(i)},
                {"label", tlab::test::topicNames()[size_t(i % 3)]},
                {"split", split}}
               .dump()
        << "\n";
  }
  out << "{\"text\": \"\", \"label\": \"science\"}\n";                // empty text
  out << "{\"text\": \"Vote again.\"}\n";                             // missing label
  out << "{\"text\": \"bad \xff\xfe bytes\", \"label\": \"law\"}\n";  // invalid UTF-8
  out << "not json at all\n";
  const fs::path p = dir / "topics.jsonl";
  tlab::test::writeText(p, out.str());
  return p;
}

TEST(CliText, InspectTrainEvaluatePredictOnText) {
  tlab::test::TinyTextCatalog catalog;
  tlab::test::TempDir dir;
  const fs::path data = writeCorpus(dir);
  const auto [icode, iout] = runCli("dataset inspect --json " + data.string());
  ASSERT_EQ(icode, 0) << iout;
  const json info = json::parse(iout);
  EXPECT_EQ(info["modality"], "text");
  EXPECT_EQ(info["num_samples"], 120);
  ASSERT_EQ(info["skipped"].size(), 4u);
  EXPECT_EQ(info["skipped"][2]["line"], 123);
  EXPECT_EQ(info["skipped"][2]["reason"], "invalid UTF-8 text");

  const fs::path out = dir / "run";
  const auto [code, log] = runCli("train --dataset " + data.string() +
                                  " --backbone tiny_bert --strategy full --epochs 6"
                                  " --batch-size 16 --lr 0.003 --backbone-lr 1 --seed 5 --out " +
                                  out.string());
  ASSERT_EQ(code, 0) << log;
  const json metrics = json::parse(std::ifstream(out / "metrics.json"));
  EXPECT_GE(metrics["test"]["accuracy"].get<double>(), 0.9);
  // bf16 (autocast, emulated where the CPU has no native bf16) trains text models too: their
  // token ids keep their layout (channels_last is for images; it once failed here on a CPU
  // with native bf16, where `auto` picks bf16).
  const auto [bcode, blog] = runCli("train --dataset " + data.string() +
                                        " --backbone tiny_bert --strategy full --epochs 1"
                                        " --batch-size 16 --precision bf16 --seed 5 --out " +
                                        (dir / "bf16").string(),
                                    "", /*withStderr=*/true);
  ASSERT_EQ(bcode, 0) << blog;
  EXPECT_EQ(blog.find("channels_last"), std::string::npos) << blog;
  EXPECT_TRUE(fs::exists(out / "model/vocab.txt"));

  const auto [ecode, eout] = runCli("evaluate --model " + (out / "model").string() + " --dataset " +
                                    data.string() + " --split test --json");
  ASSERT_EQ(ecode, 0) << eout;
  EXPECT_DOUBLE_EQ(json::parse(eout)["accuracy"].get<double>(),
                   metrics["test"]["accuracy"].get<double>());

  const auto [pcode, pout] = runCli("predict --model " + (out / "model").string() +
                                    " --json --text 'The senate vote on the law.'"
                                    " --text 'A compiler bug in the kernel.'");
  ASSERT_EQ(pcode, 0) << pout;
  const json pj = json::parse(pout);
  ASSERT_EQ(pj.size(), 2u);
  EXPECT_EQ(pj[0]["top"][0]["label"], "politics");
  EXPECT_EQ(pj[1]["top"][0]["label"], "computers");

  // Why: the word that drives "politics" is one of its topic words, not a filler word.
  const auto [wcode, wout] =
      runCli("explain --model " + (out / "model").string() +
             " --json --text 'The senate vote on the law.' --out " + (dir / "explained").string());
  ASSERT_EQ(wcode, 0) << wout;
  const json xj = json::parse(wout);
  ASSERT_EQ(xj["items"].size(), 1u);
  EXPECT_EQ(xj["items"][0]["class"], "politics");
  const std::string top = xj["items"][0]["top_word"].get<std::string>();
  EXPECT_TRUE(top == "senate" || top == "vote" || top == "law") << top;
  EXPECT_EQ(xj["items"][0]["words"].size(), 7u);  // the senate vote on the law .
  EXPECT_TRUE(fs::exists(dir / "explained/attributions.html"));

  tlab::test::writeText(dir / "lines.txt",
                        "Atom energy experiment.\n\nbroken \xc3 line\nMemory and cpu.\n");
  const auto [fcode, fout] = runCli("predict --model " + (out / "model").string() +
                                    " --json --text-file " + (dir / "lines.txt").string());
  EXPECT_EQ(fcode, 2) << "one line could not be read";
  const json fj = json::parse(fout);
  ASSERT_EQ(fj.size(), 3u);  // the blank line is skipped
  EXPECT_EQ(fj[0]["line"], 1);
  EXPECT_EQ(fj[0]["top"][0]["label"], "science");
  EXPECT_EQ(fj[1]["line"], 3);
  EXPECT_EQ(fj[1]["error"], "invalid UTF-8 text");
  EXPECT_EQ(fj[2]["top"][0]["label"], "computers");

  // An image model or image inputs on a text model are refused with a message, not a crash.
  const auto [xcode, xout] =
      runCli("predict --model " + (out / "model").string() + " " + data.string());
  EXPECT_EQ(xcode, 3);
}

}  // namespace
