// transferlab-cli report: a trained run and a comparison of two, as HTML and as PDF.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/CliRunner.h"
#include "cli/ShapesDataset.h"
#include "core/util/FileUtil.h"

namespace {
using nlohmann::json;
namespace fs = std::filesystem;

TEST(CliReport, ReportsARunAndAComparisonAsHtmlAndPdf) {
  tlab::test::TempDir dir;
  const fs::path data = tlab::test::makeShapesDataset(dir);
  const std::string env = "TLAB_CACHE_DIR=" + (dir / "cache").string() + " ";
  for (const char* strategy : {"linear-probe", "scratch"}) {
    const auto [code, log] = tlab::test::runCli(
        "train --dataset " + data.string() + " --backbone small_cnn_fmnist --strategy " + strategy +
            " --epochs 2 --batch-size 16 --seed 3 --out " + (dir / strategy).string(),
        env);
    ASSERT_EQ(code, 0) << log;
  }
  const fs::path probe = dir / "linear-probe", scratch = dir / "scratch";
  for (const char* f : {"dataset.json", "environment.json", "mistakes.json"})
    EXPECT_TRUE(fs::exists(probe / f)) << f;

  const auto [hcode, hout] = tlab::test::runCli("report --run " + probe.string() + " --out " +
                                                (dir / "probe.html").string() + " --json");
  ASSERT_EQ(hcode, 0) << hout;
  const json h = json::parse(hout);
  EXPECT_EQ(h["format"], "html");
  const std::string html = tlab::core::readTextFile(dir / "probe.html", 16 << 20);
  EXPECT_EQ(h["bytes"].get<size_t>(), html.size());
  for (const char* part : {"Summary: linear-probe", "square", "horizontal", "small_cnn_fmnist",
                           "Confusion matrix (test, 30 samples)"})
    EXPECT_NE(html.find(part), std::string::npos) << part;

  const auto [pcode, pout] =
      tlab::test::runCli("report --run " + probe.string() + " --run " + scratch.string() +
                             " --name 'pre-trained probe' --name 'from scratch' --out " +
                             (dir / "cmp.pdf").string() + " --json",
                         "");
  ASSERT_EQ(pcode, 0) << pout;
  const json p = json::parse(pout);
  EXPECT_EQ(p["format"], "pdf");
  EXPECT_EQ(p["runs"], 2);
  EXPECT_GE(p["pages"].get<int>(), 3);
  if (std::system("command -v pdftotext >/dev/null 2>&1") == 0) {
    ASSERT_EQ(std::system(("pdftotext '" + (dir / "cmp.pdf").string() + "' '" +
                           (dir / "cmp.txt").string() + "'")
                              .c_str()),
              0);
    const std::string text = tlab::core::readTextFile(dir / "cmp.txt", 16 << 20);
    for (const char* part :
         {"Comparison", "Run: pre-trained probe", "Run: from scratch", "Per-class metrics (test)"})
      EXPECT_NE(text.find(part), std::string::npos) << part;
  }

  // Wrong uses: an extension that is neither, a folder that is not a run, names that do not
  // match the runs. Each fails with a message and writes nothing.
  const auto [xcode, xout] = tlab::test::runCli(
      "report --run " + probe.string() + " --out " + (dir / "r.docx").string(), "", true);
  EXPECT_NE(xcode, 0);
  EXPECT_NE(xout.find(".html or .pdf"), std::string::npos) << xout;
  const auto [ncode, nout] = tlab::test::runCli(
      "report --run " + dir.path().string() + " --out " + (dir / "r.html").string(), "", true);
  EXPECT_NE(ncode, 0);
  EXPECT_NE(nout.find("config.json"), std::string::npos) << nout;
  EXPECT_FALSE(fs::exists(dir / "r.html"));
  const auto [mcode, mout] = tlab::test::runCli(
      "report --run " + probe.string() + " --name a --name b --out " + (dir / "r.html").string(),
      "", true);
  EXPECT_NE(mcode, 0);
  EXPECT_NE(mout.find("--name"), std::string::npos) << mout;
}

}  // namespace
