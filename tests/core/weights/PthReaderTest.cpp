#include <gtest/gtest.h>

#include <fstream>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/model/ImageClassifier.h"
#include "core/util/Random.h"
#include "core/weights/StateDict.h"

namespace tlab::core {
namespace {

std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(TLAB_TEST_DATA_DIR) / "weights" / name;
}

torch::Tensor get(const StateDict& sd, const std::string& key) {
  for (const auto& [k, v] : sd) {
    if (k == key) return v;
  }
  ADD_FAILURE() << "missing " << key;
  return {};
}

void expectTinyValues(const StateDict& sd) {
  ASSERT_EQ(sd.size(), 5u);
  EXPECT_EQ(sd[0].first, "conv.weight");
  EXPECT_TRUE(torch::equal(get(sd, "conv.weight"),
                           torch::arange(24, torch::kFloat).reshape({2, 3, 2, 2}) / 8));
  // Saved as a transposed (non-contiguous) view: strides must be honoured.
  EXPECT_TRUE(
      torch::equal(get(sd, "fc.weight"), torch::arange(6, torch::kFloat).reshape({2, 3}).t()));
  EXPECT_TRUE(torch::equal(get(sd, "fc.bias"), torch::tensor({0.5f, -1.5f})));
  EXPECT_EQ(get(sd, "bn.num_batches_tracked").item<int64_t>(), 7);
  EXPECT_EQ(get(sd, "bn.num_batches_tracked").dim(), 0);
  EXPECT_EQ(get(sd, "half").scalar_type(), torch::kHalf);
  EXPECT_FLOAT_EQ(get(sd, "half")[1].item<float>(), 2.5f);
}

TEST(PthReader, ZipFormat) { expectTinyValues(readPth(fixture("tiny_zip.pth"))); }
TEST(PthReader, LegacyFormat) { expectTinyValues(readPth(fixture("tiny_legacy.pth"))); }
TEST(PthReader, NestedStateDict) { expectTinyValues(readPth(fixture("tiny_nested.pth"))); }

TEST(PthReader, ArbitraryPythonObjectsAreRefusedNotExecuted) {
  for (const char* name : {"evil_zip.pth"}) {
    try {
      readPth(fixture(name));
      FAIL() << name << " was accepted";
    } catch (const FormatError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("refused"), std::string::npos) << msg;
      EXPECT_NE(msg.find("system"), std::string::npos) << msg;  // names the global
    }
  }
  // The raw pickle (protocol 2) inside a legacy-looking file: refused at the magic number check
  // or at the global, either way an error and nothing run.
  EXPECT_THROW(readPth(fixture("evil_raw.pkl")), FormatError);
}

std::string readAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(PthReader, EveryTruncationIsAnErrorNeverACrash) {
  test::TempDir dir;
  for (const char* name : {"tiny_zip.pth", "tiny_legacy.pth"}) {
    const std::string full = readAll(fixture(name));
    for (size_t cut = 0; cut < full.size(); ++cut) {
      test::writeText(dir / "cut.pth", full.substr(0, cut));
      EXPECT_THROW(readPth(dir / "cut.pth"), Error) << name << " cut at " << cut;
    }
  }
}

TEST(PthReader, CorruptedBytesAreErrorsOrValidTensors) {
  test::TempDir dir;
  for (const char* name : {"tiny_zip.pth", "tiny_legacy.pth"}) {
    const std::string full = readAll(fixture(name));
    Rng rng(11);
    for (int trial = 0; trial < 300; ++trial) {
      std::string bad = full;
      for (int k = 0; k < 3; ++k) bad[rng.below(bad.size())] = char(rng.next());
      test::writeText(dir / "bad.pth", bad);
      try {
        for (const auto& [k, v] : readPth(dir / "bad.pth")) EXPECT_GE(v.numel(), 0);
      } catch (const Error&) {
        // expected for most corruptions
      }
    }
  }
}

TEST(PthReader, NotACheckpoint) {
  test::TempDir dir;
  test::writeText(dir / "x.pth", "hello");
  EXPECT_THROW(readPth(dir / "x.pth"), FormatError);
  test::writeText(dir / "empty.pth", "");
  EXPECT_THROW(readPth(dir / "empty.pth"), FormatError);
}

TEST(LoadStateDict, ReportsMissingUnexpectedAndMismatchedByName) {
  auto net = createArchitecture("small_cnn", 10, 1);
  StateDict sd = stateDictOf(*net);
  StateDict edited;
  for (auto& [k, v] : sd) {
    if (k == "block1.1.running_mean") continue;        // missing
    if (k == "fc.weight") v = torch::zeros({4, 128});  // wrong shape
    edited.emplace_back(k, v.clone());
  }
  edited.emplace_back("extra.weight", torch::zeros({2}));  // unexpected
  const LoadReport r = loadStateDict(*net, edited);
  EXPECT_EQ(r.missing, (std::vector<std::string>{"block1.1.running_mean"}));
  EXPECT_EQ(r.unexpected, (std::vector<std::string>{"extra.weight"}));
  ASSERT_EQ(r.mismatched.size(), 1u);
  EXPECT_NE(r.mismatched[0].find("fc.weight: file [4, 128] vs model [10, 128]"), std::string::npos)
      << r.mismatched[0];
  EXPECT_FALSE(r.complete());
  // The new head is excluded on purpose: nothing reported about it.
  const LoadReport skip = loadStateDict(*net, edited, {"fc."});
  EXPECT_TRUE(skip.mismatched.empty());
  EXPECT_EQ(skip.skipped.size(), 2u);
}

TEST(LoadStateDict, CopiesValues) {
  auto a = createArchitecture("small_cnn", 10, 1);
  auto b = createArchitecture("small_cnn", 10, 1);
  const LoadReport r = loadStateDict(*b, stateDictOf(*a));
  EXPECT_TRUE(r.complete());
  EXPECT_TRUE(torch::equal(a->named_parameters()["block2.0.weight"],
                           b->named_parameters()["block2.0.weight"]));
}

}  // namespace
}  // namespace tlab::core
