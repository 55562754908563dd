// Run reports: the files a run leaves (RunOutputs), reading them back, the HTML and PDF
// renderings, and hostile run folders.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/dataset/Dataset.h"
#include "core/report/PdfWriter.h"
#include "core/report/RunReport.h"
#include "core/train/RunOutputs.h"
#include "core/train/TrainConfig.h"
#include "core/train/Trainer.h"
#include "core/util/FileUtil.h"

namespace {
using namespace tlab;
namespace fs = std::filesystem;
using nlohmann::json;

class PatternStore : public core::ImageStore {
 public:
  cv::Mat image(int64_t index) const override {
    return test::patternRgb(40 + int(index % 3) * 10, 30, uint32_t(index));
  }
};

// 3 classes x 6 samples, predefined split: 4 train, 2 test per class. The test predictions
// hold 3 mistakes with known probabilities.
struct Fixture {
  core::Dataset ds;
  core::TrainConfig cfg = core::defaultTrainConfig();
  core::TrainResult result;

  explicit Fixture(std::vector<std::string> classes = {"cat", "dog <b>&", "owl"}) {
    ds.format = "hdf5";
    ds.source = "/data/pets.h5";
    ds.classNames = classes;
    ds.store = std::make_shared<PatternStore>();
    std::vector<size_t> testSamples;
    std::vector<int32_t> testLabels;
    for (int32_t c = 0; c < 3; ++c)
      for (int k = 0; k < 6; ++k) {
        core::Sample s;
        s.index = int64_t(ds.samples.size());
        s.label = c;
        s.split = k < 4 ? core::Split::Train : core::Split::Test;
        if (s.split == core::Split::Test) {
          testSamples.push_back(ds.samples.size());
          testLabels.push_back(c);
        }
        ds.samples.push_back(s);
      }
    // Rows follow testSamples: cat 4, 5; dog 10, 11; owl 16, 17. Mistakes: sample 5 (cat) as
    // owl at 0.9, sample 10 (dog) as cat at 0.6, sample 17 (owl) as dog at 0.7.
    std::vector<float> p = {0.8f, 0.1f, 0.1f, 0.05f, 0.05f, 0.9f,  //
                            0.6f, 0.3f, 0.1f, 0.1f,  0.8f,  0.1f,  //
                            0.1f, 0.1f, 0.8f, 0.1f,  0.7f,  0.2f};
    result.test = core::computeMetrics(ds.classNames, p, testLabels, testSamples, 2);
    result.classNames = ds.classNames;
    for (int e = 1; e <= 3; ++e) {
      core::EpochMetrics m;
      m.epoch = e;
      m.epochs = 3;
      m.phase = "fine-tune";
      m.trainLoss = 1.0 / e;
      m.valLoss = 1.2 / e;
      m.trainAccuracy = 0.5 + 0.1 * e;
      m.valAccuracy = 0.4 + 0.1 * e;
      m.seconds = 2;
      result.history.push_back(m);
    }
    result.bestEpoch = 3;
    result.seconds = 6.5;
    cfg.seed = 7;
  }
};

std::string slurp(const fs::path& p) { return core::readTextFile(p, 64 << 20); }

TEST(RunOutputs, WritesEveryFileWithTheMostConfidentMistakesFirst) {
  test::TempDir dir;
  Fixture f;
  core::writeRunOutputs(dir.path(), f.cfg, f.result, f.ds);
  for (const char* name :
       {"config.json", "history.json", "history.csv", "metrics.json", "confusion_matrix.csv",
        "predictions.csv", "dataset.json", "environment.json", "mistakes.json"})
    EXPECT_TRUE(fs::exists(dir / name)) << name;
  const json m = json::parse(slurp(dir / "mistakes.json"));
  EXPECT_EQ(m["split"], "test");
  ASSERT_EQ(m["mistakes"].size(), 3u);
  EXPECT_EQ(m["mistakes"][0]["sample"], 5);
  EXPECT_EQ(m["mistakes"][0]["predicted"], "owl");
  EXPECT_EQ(m["mistakes"][1]["sample"], 17);
  EXPECT_EQ(m["mistakes"][2]["sample"], 10);
  for (const auto& e : m["mistakes"]) {
    const cv::Mat thumb =
        cv::imread((dir / "mistakes" / e["thumbnail"].get<std::string>()).string());
    ASSERT_FALSE(thumb.empty()) << e.dump();
    EXPECT_LE(std::max(thumb.cols, thumb.rows), 96);
  }
  const json d = json::parse(slurp(dir / "dataset.json"));
  EXPECT_EQ(d["counts"]["train"], json::array({4, 4, 4}));
  EXPECT_EQ(d["counts"]["test"], json::array({2, 2, 2}));
  EXPECT_EQ(d["counts"]["val"].size(), 3u);
  const json env = json::parse(slurp(dir / "environment.json"));
  EXPECT_EQ(env["seed"], 7);
  EXPECT_EQ(env["backbone"], f.cfg.backbone);
  EXPECT_FALSE(env["libtorch"].get<std::string>().empty());
  EXPECT_TRUE(env["precision_training"] == "fp32" || env["precision_training"] == "bf16")
      << env.dump();
  EXPECT_TRUE(env.contains("precision_inference")) << env.dump();
}

TEST(RunReport, ReadsARunFolderBackAsWritten) {
  test::TempDir dir;
  Fixture f;
  core::writeRunOutputs(dir.path(), f.cfg, f.result, f.ds);
  const core::ReportRun r = core::readRunFolder(dir.path());
  EXPECT_TRUE(r.notes.empty()) << r.notes.front();
  ASSERT_EQ(r.history.size(), 3u);
  EXPECT_DOUBLE_EQ(r.history[1].valAccuracy, 0.6);
  ASSERT_TRUE(r.test);
  EXPECT_NEAR(r.test->accuracy, 0.5, 1e-9);
  EXPECT_EQ(r.test->confusion[0][2], 1);
  EXPECT_EQ(r.bestEpoch, 3);
  ASSERT_EQ(r.mistakes.size(), 3u);
  EXPECT_FALSE(r.mistakes[0].thumbnailJpeg.empty());
  EXPECT_TRUE(r.dataset.known);
  EXPECT_EQ(r.dataset.classes[1], "dog <b>&");
  bool seed = false;
  for (const auto& [k, v] : r.settings) seed |= k == "seed" && v == "7";
  EXPECT_TRUE(seed);
}

TEST(RunReport, HtmlIsSelfContainedAndEscapesWhatTheDataNames) {
  test::TempDir dir;
  Fixture f;
  core::writeRunOutputs(dir / "run-1", f.cfg, f.result, f.ds);
  const auto runs = std::vector{core::readRunFolder(dir / "run-1")};
  const fs::path out = dir / "report.html";
  const auto w = core::writeRunReport(runs, out);
  EXPECT_EQ(w.format, core::ReportFormat::Html);
  EXPECT_EQ(w.images, 3);
  const std::string html = slurp(out);
  EXPECT_EQ(html.find("dog <b>&"), std::string::npos);  // never raw markup from a class name
  EXPECT_NE(html.find("dog &lt;b&gt;&amp;"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);  // nothing fetched from elsewhere
  size_t images = 0;
  for (size_t at = 0; (at = html.find("data:image/jpeg;base64,", at)) != std::string::npos; ++at)
    ++images;
  EXPECT_EQ(images, 3u);
  for (const char* part : {"Configuration", "Dataset", "Training curves", "Confusion matrix",
                           "Per-class metrics", "Most confident mistakes", "Environment", "<svg"})
    EXPECT_NE(html.find(part), std::string::npos) << part;
}

TEST(RunReport, PdfHasTheSectionsThumbnailsAndAValidStructure) {
  test::TempDir dir;
  Fixture f;
  core::writeRunOutputs(dir / "a", f.cfg, f.result, f.ds);
  Fixture g({"cat", "dog", "owl"});
  g.result.history.pop_back();
  core::writeRunOutputs(dir / "b", g.cfg, g.result, g.ds);
  auto a = core::readRunFolder(dir / "a");
  auto b = core::readRunFolder(dir / "b");
  b.name = "from scratch";
  const fs::path out = dir / "cmp.pdf";
  const auto w = core::writeRunReport({a, b}, out, "Probe against scratch");
  EXPECT_EQ(w.format, core::ReportFormat::Pdf);
  EXPECT_GE(w.pages, 3);  // the comparison, then each run on pages of its own
  EXPECT_EQ(w.images, 6);
  const auto check = core::checkPdf(slurp(out), out.string());
  EXPECT_EQ(check.pages, w.pages);
  std::string shown;
  for (const auto& s : check.strings) shown += s + "\n";
  for (const char* part :
       {"Probe against scratch", "Comparison", "Run: a", "Run: from scratch",
        "Per-class metrics (test)", "Most confident mistakes (test)", "Environment", "dog <b>&"})
    EXPECT_NE(shown.find(part), std::string::npos) << part;
  // An independent reader, where the machine has one (scripts/setup installs poppler-utils).
  if (std::system("command -v pdftotext >/dev/null 2>&1") == 0) {
    const fs::path txt = dir / "cmp.txt";
    ASSERT_EQ(
        std::system(("pdftotext -layout '" + out.string() + "' '" + txt.string() + "'").c_str()),
        0);
    const std::string text = slurp(txt);
    EXPECT_NE(text.find("Run: from scratch"), std::string::npos) << text.substr(0, 2000);
    EXPECT_NE(text.find("Per-class metrics (test)"), std::string::npos);
  }
}

TEST(PdfWriter, ShowsPunctuationAndLatin1AndRejectsATruncatedFile) {
  core::PdfDocument doc;
  doc.text(50, 50, "(a) back\\slash caf\xC3\xA9 \xE2\x86\x92 \xE4\xB8\xAD", 12);
  const std::string bytes = doc.finish("t");
  const auto check = core::checkPdf(bytes, "t.pdf");
  ASSERT_EQ(check.strings.size(), 1u);
  EXPECT_EQ(check.strings[0], "(a) back\\slash caf\xC3\xA9 -> ?");
  EXPECT_THROW(core::checkPdf(bytes.substr(0, bytes.size() / 2), "t.pdf"), core::FormatError);
  std::string moved = bytes;
  moved.insert(20, " ");  // every object one byte later than the cross-references say
  EXPECT_THROW(core::checkPdf(moved, "t.pdf"), core::FormatError);
  EXPECT_THROW(doc.addJpeg("\xFF\xD8not a jpeg"), core::InvalidArgument);
  for (const auto& line : core::pdfWrapText(
           "a_very_long_path/with/no/spaces/at/all/that/cannot/wrap/at/a/space.png and words", 9,
           80))
    EXPECT_LE(core::pdfTextWidth(line, 9), 80.0) << line;
}

void writeFile(const fs::path& p, const std::string& s) { core::writeFileAtomic(p, s); }

TEST(RunReport, HostileRunFoldersGiveErrorsNamingTheFile) {
  test::TempDir dir;
  Fixture f;
  const fs::path run = dir / "run";
  core::writeRunOutputs(run, f.cfg, f.result, f.ds);
  const auto expectError = [&](const std::string& file, const std::string& needle) {
    try {
      (void)core::readRunFolder(run);
      ADD_FAILURE() << "no error for " << file;
    } catch (const core::Error& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  const std::string metrics = slurp(run / "metrics.json");
  json bad = json::parse(metrics);
  bad["test"]["confusion_matrix"].erase(1);
  writeFile(run / "metrics.json", bad.dump());
  expectError("metrics.json", "rows for 3 classes");
  writeFile(run / "metrics.json", metrics.substr(0, metrics.size() / 2));
  expectError("metrics.json", "");
  writeFile(run / "metrics.json", metrics);

  const std::string mistakes = slurp(run / "mistakes.json");
  json escape = json::parse(mistakes);
  escape["mistakes"][0]["thumbnail"] = "../../../../etc/passwd";
  writeFile(run / "mistakes.json", escape.dump());
  expectError("mistakes.json", "not a plain file name");
  writeFile(run / "mistakes.json", mistakes);

  // A damaged thumbnail is left out with a note; the report is still written.
  const std::string first = json::parse(mistakes)["mistakes"][0]["thumbnail"];
  writeFile(run / "mistakes" / first, "\xFF\xD8\xFF");
  const auto r = core::readRunFolder(run);
  EXPECT_TRUE(r.mistakes[0].thumbnailJpeg.empty());
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("thumbnail left out"), std::string::npos) << r.notes[0];
  EXPECT_EQ(core::writeRunReport({r}, dir / "r.pdf").images, 2);

  fs::remove(run / "history.json");
  expectError("history.json", "missing");
  EXPECT_THROW(core::writeRunReport({r}, dir / "r.docx"), core::InvalidArgument);
  EXPECT_THROW((void)core::readRunFolder(dir / "nowhere"), core::IoError);
}

// An older run folder (config, history, metrics only) still gives a report, saying what it lacks.
TEST(RunReport, AnOlderRunFolderGivesAReportWithNotes) {
  test::TempDir dir;
  Fixture f;
  core::writeRunOutputs(dir.path(), f.cfg, f.result, f.ds);
  for (const char* name : {"dataset.json", "environment.json", "mistakes.json"})
    fs::remove(dir / name);
  const auto r = core::readRunFolder(dir.path());
  EXPECT_EQ(r.notes.size(), 3u);
  const auto w = core::writeRunReport({r}, dir / "old.html");
  EXPECT_NE(slurp(dir / "old.html").find("dataset.json is not in the run folder"),
            std::string::npos);
  EXPECT_EQ(w.images, 0);
}

}  // namespace
