// transferlab-cli experiment data-efficiency: the files it writes and what is in them.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli/CliRunner.h"
#include "cli/ShapesDataset.h"
#include "core/util/FileUtil.h"

namespace {
using nlohmann::json;
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CliExperiment, DataEfficiencyWritesResultsSummaryAndPlot) {
  tlab::test::TempDir dir;
  const fs::path data = tlab::test::makeShapesDataset(dir);  // 40 train per class
  const fs::path out = dir / "curve";
  const auto [code, log] = tlab::test::runCli(
      "experiment data-efficiency --dataset " + data.string() +
          " --backbone small_cnn_fmnist --strategies linear-probe,scratch --n 1,4,100"
          " --seeds 2 --epochs 1 --min-steps 0 --batch-size 16 --json --out " +
          out.string(),
      "TLAB_CACHE_DIR=" + (dir / "cache").string() + " ");
  ASSERT_EQ(code, 0) << log;
  // results.csv: one row per (n, strategy, seed); 100 is cut to the 40 a class has.
  std::istringstream csv(slurp(out / "results.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "n,strategy,seed,accuracy,macro_f1,seconds");
  std::set<std::string> keys;
  int rows = 0;
  for (; std::getline(csv, line); ++rows) {
    std::stringstream fields(line);
    std::string n, strategy, seed, accuracy;
    std::getline(fields, n, ',');
    std::getline(fields, strategy, ',');
    std::getline(fields, seed, ',');
    std::getline(fields, accuracy, ',');
    keys.insert(n + "/" + strategy + "/" + seed);
    EXPECT_TRUE(n == "1" || n == "4" || n == "40") << line;
    EXPECT_GE(std::stod(accuracy), 0.0);
    EXPECT_LE(std::stod(accuracy), 1.0);
  }
  EXPECT_EQ(rows, 12);
  EXPECT_EQ(keys.size(), 12u);
  // One JSON event per run, then the summary; its points average the CSV's rows.
  int events = 0;
  json done;
  std::istringstream lines(log);
  for (std::string l; std::getline(lines, l);) {
    const json j = json::parse(l);
    if (j["event"] == "run") ++events;
    if (j["event"] == "done") done = j;
  }
  EXPECT_EQ(events, 12);
  ASSERT_TRUE(done.contains("points")) << log;
  EXPECT_EQ(done["n"], json({1, 4, 40}));
  EXPECT_EQ(done["points"].size(), 6u);
  const json summary = json::parse(slurp(out / "summary.json"));
  EXPECT_EQ(summary["points"], done["points"]);
  EXPECT_EQ(summary["test_samples"], 30);
  const std::string svg = slurp(out / "curve.svg");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("linear-probe"), std::string::npos);
  EXPECT_NE(svg.find("scratch"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

TEST(CliExperiment, BadSampleCountsAreRefusedByName) {
  tlab::test::TempDir dir;
  const fs::path data = tlab::test::makeShapesDataset(dir);
  const auto [code, log] =
      tlab::test::runCli("experiment data-efficiency --dataset " + data.string() +
                             " --n 1,x --out " + (dir / "o").string(),
                         "", true);
  EXPECT_NE(code, 0);
  EXPECT_NE(log.find("'x' is not a whole number"), std::string::npos) << log;
}

}  // namespace
