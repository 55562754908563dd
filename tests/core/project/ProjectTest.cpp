#include "core/project/Project.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/util/FileUtil.h"

namespace tlab::core {
namespace {
namespace fs = std::filesystem;

Project sampleProject(const fs::path& dir) {
  Project p;
  p.name = "Fashion few-shot";
  p.dataset.path = (dir / "data" / "fewshot.h5").string();
  p.dataset.valFraction = 0.2;
  p.dataset.splitSeed = 7;
  p.dataset.format = "hdf5";
  p.labelEdits = {{"#12", "Shirt"}, {"/elsewhere/cat.jpg", ""}};
  p.config.backbone = "efficientnet_lite0";
  p.config.strategy = Strategy::LpFt;
  p.config.lr = 0.01;
  p.config.lrRules = {{"blocks.6", 0.5}};
  p.config.augmentation.rotationDegrees = 15;
  p.config.augmentation.hflipProbability = 0;
  p.config.augmentation.minScale = 0.4;
  RunRecord r;
  r.id = "run-2";
  r.name = "linear probe";
  r.folder = (dir / "runs" / "run-2").string();
  r.config = p.config;
  r.status = core::RunStatus::Finished;
  r.history.push_back({1, 2, "linear-probe", 0.9, 0.7, 0.8, 0.75, 3.5, 0.01, true});
  r.history.push_back({2, 2, "linear-probe", 0.6, 0.8, 0.7, 0.78, 3.4, 0.001, true});
  r.valAccuracy = 0.78;
  r.testAccuracy = 0.771;
  r.seconds = 7.2;
  p.runs.push_back(r);
  RunRecord failed;
  failed.id = "run-3";
  failed.status = core::RunStatus::Failed;
  failed.error = "weights missing";
  failed.folder = "/tmp/outside/run-3";
  p.runs.push_back(failed);
  return p;
}

TEST(Project, SaveLoadRoundTripWithRelativePaths) {
  test::TempDir dir;
  const Project p = sampleProject(dir.path());
  saveProject(dir / "demo.tlproj", p);
  const auto raw = nlohmann::json::parse(readTextFile(dir / "demo.tlproj", 1 << 20));
  EXPECT_EQ(raw["format_version"], 1);
  EXPECT_EQ(raw["dataset"]["path"], "data/fewshot.h5");  // below the project: relative
  EXPECT_EQ(raw["runs"][0]["folder"], "runs/run-2");
  EXPECT_EQ(raw["runs"][1]["folder"], "/tmp/outside/run-3");  // elsewhere: absolute

  const Project q = loadProject(dir / "demo.tlproj");
  EXPECT_EQ(q.name, p.name);
  EXPECT_EQ(q.dataset.path, p.dataset.path);
  EXPECT_DOUBLE_EQ(q.dataset.valFraction, 0.2);
  EXPECT_EQ(q.dataset.splitSeed, 7u);
  EXPECT_EQ(q.dataset.format, "hdf5");
  EXPECT_EQ(readOptions(q.dataset).format, DatasetFormat::Hdf5);
  EXPECT_EQ(readOptions(q.dataset).pathPolicy, PathPolicy::StayInsideRoot);
  const SplitSpec spec = splitSpec(q.dataset);
  EXPECT_DOUBLE_EQ(spec.valFraction, 0.2);
  EXPECT_EQ(spec.seed, 7u);
  EXPECT_EQ(spec.policy, SplitPolicy::KeepPredefined);
  DatasetSettings other = q.dataset;
  other.valFraction = 0.3;  // a split setting: still the same files read the same way
  EXPECT_TRUE(sameSource(q.dataset, other));
  other.allowPathsOutside = true;
  EXPECT_FALSE(sameSource(q.dataset, other));
  EXPECT_TRUE(q.config.augmentation.enabled);
  EXPECT_DOUBLE_EQ(q.config.augmentation.rotationDegrees, 15);
  EXPECT_DOUBLE_EQ(q.config.augmentation.hflipProbability, 0);
  EXPECT_DOUBLE_EQ(q.config.augmentation.minScale, 0.4);
  EXPECT_DOUBLE_EQ(q.config.augmentation.maxRatio, 4.0 / 3.0);
  ASSERT_EQ(q.labelEdits.size(), 2u);
  EXPECT_EQ(q.labelEdits[0].label, "Shirt");
  EXPECT_EQ(q.labelEdits[1].label, "");
  EXPECT_EQ(q.config.strategy, Strategy::LpFt);
  ASSERT_EQ(q.config.lrRules.size(), 1u);
  EXPECT_DOUBLE_EQ(q.config.lrRules[0].multiplier, 0.5);
  ASSERT_EQ(q.runs.size(), 2u);
  EXPECT_EQ(q.runs[0].folder, p.runs[0].folder);
  ASSERT_EQ(q.runs[0].history.size(), 2u);
  EXPECT_DOUBLE_EQ(q.runs[0].history[1].valAccuracy, 0.78);
  EXPECT_EQ(q.runs[0].history[1].phase, "linear-probe");
  EXPECT_DOUBLE_EQ(*q.runs[0].testAccuracy, 0.771);
  EXPECT_EQ(q.runs[1].error, "weights missing");
  EXPECT_FALSE(q.runs[1].testAccuracy.has_value());
  EXPECT_EQ(q.nextRunId(), "run-4");
  const Project fresh;
  EXPECT_EQ(fresh.nextRunId(), "run-1");
  EXPECT_TRUE(q.keptLabels.empty());
  Project reviewed = p;  // samples kept as labelled in Data issues
  reviewed.keptLabels = {"train/Shirt/3.png", "train/Coat/9.png"};
  saveProject(dir / "reviewed.tlproj", reviewed);
  EXPECT_EQ(loadProject(dir / "reviewed.tlproj").keptLabels, reviewed.keptLabels);

  // The folder moves as a whole: relative paths follow it.
  fs::rename(dir.path() / "demo.tlproj", dir.path() / "moved.tlproj");
  fs::create_directories(dir / "copy");
  fs::copy_file(dir / "moved.tlproj", dir / "copy" / "demo.tlproj");
  EXPECT_EQ(loadProject(dir / "copy" / "demo.tlproj").dataset.path,
            (dir / "copy" / "data" / "fewshot.h5").string());
}

TEST(Project, BadFilesGiveClearErrorsAndSavingNeverHalfWrites) {
  test::TempDir dir;
  EXPECT_THROW(loadProject(dir / "missing.tlproj"), IoError);
  test::writeText(dir / "damaged.tlproj", "{\"format\": \"transferlab-project\", \"form");
  try {
    loadProject(dir / "damaged.tlproj");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("damaged.tlproj"), std::string::npos);
  }
  test::writeText(dir / "other.tlproj", "{\"backbones\": []}");
  EXPECT_THROW(loadProject(dir / "other.tlproj"), FormatError);
  auto j = toJson(sampleProject(dir.path()), dir.path());
  j["format_version"] = 99;
  test::writeText(dir / "future.tlproj", j.dump());
  try {
    loadProject(dir / "future.tlproj");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
  j["format_version"] = 1;
  j["config"]["epochs"] = "ten";
  test::writeText(dir / "badfield.tlproj", j.dump());
  try {
    loadProject(dir / "badfield.tlproj");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("badfield.tlproj"), std::string::npos) << e.what();
  }
  // Out-of-range settings name the key.
  j["config"]["epochs"] = 3;
  j["dataset"]["format"] = "parquet";
  test::writeText(dir / "badformat.tlproj", j.dump());
  try {
    loadProject(dir / "badformat.tlproj");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset.format"), std::string::npos) << e.what();
  }
  j["dataset"]["format"] = "auto";
  j["config"]["aug_min_scale"] = 0.9;
  j["config"]["aug_max_scale"] = 0.5;
  test::writeText(dir / "badaug.tlproj", j.dump());
  try {
    loadProject(dir / "badaug.tlproj");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("aug_min_scale"), std::string::npos) << e.what();
  }
  for (const auto& bad : {nlohmann::json("a.png"), nlohmann::json::array({1})}) {
    j["config"]["aug_max_scale"] = 1.0;
    j["kept_labels"] = bad;
    test::writeText(dir / "badkept.tlproj", j.dump());
    try {
      loadProject(dir / "badkept.tlproj");
      FAIL() << bad.dump();
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("kept_labels"), std::string::npos) << e.what();
    }
  }
  // Files written before these settings existed: auto format, an on/off augmentation switch,
  // no review marks.
  j.erase("kept_labels");
  j["config"]["aug_min_scale"] = 0.4;
  j["config"].erase("aug_max_scale");
  j["config"]["augment"] = false;
  j["dataset"].erase("format");
  test::writeText(dir / "older.tlproj", j.dump());
  const Project older = loadProject(dir / "older.tlproj");
  EXPECT_EQ(older.dataset.format, "auto");
  EXPECT_FALSE(older.config.augmentation.enabled);
  EXPECT_DOUBLE_EQ(older.config.augmentation.minScale, 0.4);  // the rest as saved
  EXPECT_DOUBLE_EQ(older.config.augmentation.maxScale, 1.0);  // absent: the default
  EXPECT_TRUE(older.keptLabels.empty());

  // A failed save (no such folder) throws and leaves the existing project untouched.
  saveProject(dir / "keep.tlproj", sampleProject(dir.path()));
  const std::string before = readTextFile(dir / "keep.tlproj", 1 << 20);
  const Project empty = sampleProject(dir.path());
  EXPECT_THROW(saveProject(dir / "no" / "such" / "dir" / "x.tlproj", empty), Error);
  EXPECT_EQ(readTextFile(dir / "keep.tlproj", 1 << 20), before);
}

TEST(Project, LabelEditsRelabelExcludeAndReportStaleEdits) {
  Dataset ds;
  ds.modality = Modality::Image;
  ds.classNames = {"cat", "dog"};
  for (int i = 0; i < 4; ++i) {
    Sample s;
    s.path = "/data/" + std::to_string(i) + ".jpg";
    s.label = i % 2;
    ds.samples.push_back(s);
  }
  const auto unmatched = applyLabelEdits(
      ds,
      {{"/data/0.jpg", "dog"}, {"/data/1.jpg", ""}, {"/data/2.jpg", "fox"}, {"/gone.jpg", "cat"}});
  ASSERT_EQ(ds.size(), 3u);  // 1.jpg excluded
  EXPECT_EQ(ds.samples[0].label, 1);
  EXPECT_EQ(ds.classNames, (std::vector<std::string>{"cat", "dog", "fox"}));
  EXPECT_EQ(ds.samples[1].path, "/data/2.jpg");
  EXPECT_EQ(ds.samples[1].label, 2);
  EXPECT_EQ(ds.samples[2].label, 1);
  ASSERT_EQ(unmatched.size(), 1u);
  EXPECT_EQ(unmatched[0].sampleKey, "/gone.jpg");

  Dataset text;
  text.modality = Modality::Text;
  text.classNames = {"a", "b"};
  text.samples.push_back({"", -1, "hello", 0, Split::None});
  EXPECT_EQ(sampleKey(text, 0).rfind("text:", 0), 0u);
  applyLabelEdits(text, {{sampleKey(text, 0), "b"}});
  EXPECT_EQ(text.samples[0].label, 1);
}

}  // namespace
}  // namespace tlab::core

namespace tlab::core {
namespace {

TEST(Project, ProjectDatasetAppliesEditsAndTheSeededSplit) {
  Dataset ds;
  ds.classNames = {"a", "b"};
  for (int i = 0; i < 40; ++i) {
    Sample s;
    s.index = i;
    s.label = i % 2;
    ds.samples.push_back(s);
  }
  Project p;
  p.dataset.valFraction = 0.25;
  p.dataset.testFraction = 0.25;
  p.dataset.splitSeed = 3;
  p.labelEdits = {{"#0", ""}, {"#99", "a"}};
  std::vector<LabelEdit> stale;
  const Dataset a = projectDataset(ds, p, &stale);
  const Dataset b = projectDataset(ds, p, nullptr);
  EXPECT_EQ(a.size(), 39u);
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(a.splitCount(Split::Val), b.splitCount(Split::Val));
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a.samples[i].split, b.samples[i].split);
  EXPECT_NEAR(double(a.splitCount(Split::Test)), 39 * 0.25, 2.0);
  EXPECT_EQ(ds.size(), 40u) << "the source is not modified";

  // Mapped back onto the source: sample #0 is excluded (None); every other source sample has
  // the split its copy in the training dataset has (a.samples[k] is source sample k + 1).
  const std::vector<Split> splits = sourceSplits(ds, a);
  ASSERT_EQ(splits.size(), 40u);
  EXPECT_EQ(splits[0], Split::None);
  for (size_t k = 0; k < a.size(); ++k) EXPECT_EQ(splits[k + 1], a.samples[k].split) << k;
}

}  // namespace
}  // namespace tlab::core
