#pragma once
// Help -> Examples: scenarios a teacher opens in one click, each with a short explanation of what
// it shows. One where pre-training helps (ImageNet features on a few Fashion-MNIST images), one
// where it does not (a clothing CNN's frozen features on handwritten digits: negative transfer).
// Opening one writes the user's own copy of its project (their runs stay theirs, the bundled data
// are only read) and shows the explanation beside the workbench, with a button that opens the
// data-efficiency curve set up for the comparison.
#include <QDialog>
#include <QString>
#include <QStringList>
#include <string>
#include <vector>

class QPushButton;
class QTextBrowser;

namespace tlab::ui {

struct Example {
  QString id;           ///< file-name safe; names the user's copy
  QString title;        ///< the menu entry
  QString explanation;  ///< rich text shown when it opens
  QString datasetPath;  ///< absolute; may be missing (see exampleProblem)
  QString projectName;
  /// The set-up the first run starts from: the strategy's defaults with these.
  std::string backbone, strategy;  ///< catalog id, core::kStrategyNames name
  int epochs = 10, imageSize = 0;
  QStringList curveStrategies;  ///< what the curve button compares (strategy names)
  QString weightsHint;          ///< how to get the backbone's weights when they are not here
  QString dataHint;             ///< how to make the dataset when it is not here
};

/// The examples this build knows, in menu order.
std::vector<Example> builtInExamples();
/// The folder of the demo data scripts/prepare-demo-data writes (build/demo beside the source
/// tree's resources, or the installed share folder's demo/); empty when there is none.
QString demoFolder();
/// Why the example cannot open here (its dataset or its backbone's weights missing, naming the
/// file and what makes it); empty when it can.
QString exampleProblem(const Example& example);
/// The user's copy of the example's project in `folder`: written from the template the first
/// time, kept (with its runs) after that. Returns its path; throws core::Error naming the file.
QString exampleProject(const Example& example, const QString& folder);

/// The explanation, non-modal beside the main window.
class ExampleDialog : public QDialog {
  Q_OBJECT
 public:
  explicit ExampleDialog(const Example& example, QWidget* parent = nullptr);

  const Example& example() const { return example_; }
  QTextBrowser* text() const { return text_; }
  /// Opens Train -> Data-Efficiency Curve with this example's strategies (MainWindow wires it).
  QPushButton* curveButton() const { return curve_; }

 private:
  Example example_;
  QTextBrowser* text_;
  QPushButton* curve_;
};

}  // namespace tlab::ui
