// The hostile-file corpus (tests/hostile/make_corpus.py) through the GUI's open paths,
// offscreen: Open Project, Import Dataset, Open Model Bundle and Predict on an image. Each file
// is refused with a message naming it, or read; nothing crashes or hangs.
#include <gtest/gtest.h>

#include <QEventLoop>
#include <QSignalSpy>
#include <QStringList>
#include <QTimer>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/ScopedEnv.h"
#include "core/TestImages.h"
#include "core/image/ImageDecoder.h"
#include "ui/controllers/DatasetController.h"
#include "ui/controllers/PredictController.h"
#include "ui/controllers/ProjectController.h"

namespace tlab::ui {
namespace {

struct Case {
  std::string name, args, expect;
};

std::vector<Case> makeCorpus(const std::filesystem::path& dir) {
  const std::string cmd = "python3 " + std::string(TLAB_SOURCE_DIR) +
                          "/tests/hostile/make_corpus.py " + dir.string() + " >/dev/null";
  if (std::system(cmd.c_str()) != 0) return {};
  std::vector<Case> cases;
  std::ifstream in(dir / "cases.tsv");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    Case c;
    std::getline(fields, c.name, '\t');
    std::getline(fields, c.args, '\t');
    std::getline(fields, c.expect, '\t');
    cases.push_back(c);
  }
  return cases;
}

TEST(HostileFiles, EveryGuiOpenPathRefusesOrReadsTheCorpus) {
  test::TempDir dir;
  const auto cases = makeCorpus(dir.path());
  if (cases.empty()) GTEST_SKIP() << "python3 is needed to generate the corpus";
  // Restored at the end: a cache folder that is deleted with `dir` would hide the real
  // weight cache from every later test.
  test::ScopedEnv cache("TLAB_CACHE_DIR", (dir / ".cache").string());
  size_t checked = 0;
  for (const auto& c : cases) {
    const QString path = QString::fromStdString((dir / c.name).string());
    const bool refuse = c.expect == "refuse";
    SCOPED_TRACE(c.name);
    if (c.args.find("--as project") != std::string::npos) {
      ProjectController project;
      QString error;
      EXPECT_EQ(project.open(path, &error), !refuse) << error.toStdString();
      if (refuse) {
        EXPECT_TRUE(error.contains(QString::fromStdString(c.name))) << error.toStdString();
      }
    } else if (c.args.find("--as bundle") != std::string::npos) {
      PredictController predict;
      QString error;
      EXPECT_EQ(predict.openBundle(path, &error), !refuse) << error.toStdString();
      if (refuse) {
        EXPECT_TRUE(error.contains(QString::fromStdString(c.name))) << error.toStdString();
      }
    } else if (c.args.rfind("dataset inspect", 0) == 0) {
      DatasetController datasets;
      QSignalSpy loaded(&datasets, &DatasetController::loaded);
      QSignalSpy failed(&datasets, &DatasetController::failed);
      QEventLoop loop;  // whichever comes first, within 20 s
      QObject::connect(&datasets, &DatasetController::loaded, &loop, &QEventLoop::quit);
      QObject::connect(&datasets, &DatasetController::failed, &loop, &QEventLoop::quit);
      QTimer::singleShot(20000, &loop, &QEventLoop::quit);
      datasets.open(path);
      if (loaded.count() + failed.count() == 0) loop.exec();
      ASSERT_EQ(loaded.count() + failed.count(), 1) << "no answer within 20 s";
      EXPECT_EQ(failed.count(), refuse ? 1 : 0);
      if (refuse && failed.count()) {
        EXPECT_TRUE(failed.at(0).at(0).toString().contains(QString::fromStdString(c.name)));
      }
    } else if (c.args.find("--as image") != std::string::npos) {
      const auto img = core::decodeImageFile((dir / c.name));
      EXPECT_EQ(img.ok(), !refuse) << img.error;
    } else {
      continue;  // weights files: the GUI opens them only through the catalog
    }
    ++checked;
  }
  EXPECT_GE(checked, 14u);  // projects, bundles, datasets and images of the corpus
}

TEST(HostileFiles, AProjectCannotSwitchOnPathsOutsideItsDatasetWithoutConsent) {
  test::TempDir dir;
  test::writeText(dir / "p.tlproj",
                  R"({"format":"transferlab-project","format_version":1,"name":"p",
    "dataset":{"path":"m.csv","allow_paths_outside":true},"config":{},"runs":[]})");
  const QString path = QString::fromStdString((dir / "p.tlproj").string());
  ProjectController declined;  // no one to ask: declined
  ASSERT_TRUE(declined.open(path, nullptr));
  EXPECT_FALSE(declined.project().dataset.allowPathsOutside);
  ProjectController asked;
  std::string question;
  asked.setConsentAsker([&](const core::ConsentRequest& r) {
    question = r.question;
    return true;
  });
  ASSERT_TRUE(asked.open(path, nullptr));
  EXPECT_TRUE(asked.project().dataset.allowPathsOutside);
  EXPECT_NE(question.find("m.csv"), std::string::npos) << question;
}

}  // namespace
}  // namespace tlab::ui
