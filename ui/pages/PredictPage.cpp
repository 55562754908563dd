#include "ui/pages/PredictPage.h"

#include <qcustomplot.h>
#include <QCheckBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QVBoxLayout>

#include <filesystem>

#include "core/util/Trust.h"
#include "ui/controllers/PredictController.h"

namespace tlab::ui {

PredictPage::PredictPage(PredictController* controller, QWidget* parent)
    : QWidget(parent),
      controller_(controller),
      model_(new QLabel(this)),
      hint_(new QLabel(this)),
      text_(new QLineEdit(this)),
      predictText_(new QPushButton(tr("Predict"), this)),
      chooseImages_(new QPushButton(tr("Choose images\u2026"), this)),
      folder_(new QPushButton(tr("Predict a folder to CSV\u2026"), this)),
      exportBundle_(new QPushButton(tr("Export model bundle\u2026"), this)),
      exportOnnx_(new QPushButton(tr("Export ONNX\u2026"), this)),
      stop_(new QPushButton(tr("Stop"), this)),
      openBundle_(new QPushButton(tr("Open model bundle\u2026"), this)),
      progress_(new QProgressBar(this)),
      bars_(new QCustomPlot(this)),
      results_(new QListWidget(this)),
      explainOn_(new QCheckBox(tr("Explain"), this)),
      explainOpacity_(new QSlider(Qt::Horizontal, this)),
      explainView_(new QLabel(this)) {
  buildLayout();
  connectController();
  connectActions();
  showModel();
}

void PredictPage::buildLayout() {
  setAcceptDrops(true);
  progress_->hide();
  stop_->hide();
  exportBundle_->setToolTip(
      tr("Write model.safetensors + model.json; every file is read back and must predict what "
         "this model predicts before the export counts as done"));
  text_->setPlaceholderText(tr("Type a text to classify and press Enter"));
  bars_->setMinimumHeight(220);
  bars_->xAxis->setRange(0, 1);
  bars_->xAxis->setLabel(tr("probability"));
  auto* top = new QHBoxLayout;
  top->addWidget(model_, 1);
  top->addWidget(openBundle_);
  top->addWidget(exportBundle_);
  top->addWidget(exportOnnx_);
  auto* input = new QHBoxLayout;
  input->addWidget(text_, 1);
  input->addWidget(predictText_);
  input->addWidget(chooseImages_);
  input->addWidget(folder_);
  explainOn_->setToolTip(
      tr("Show why: a Grad-CAM heat map over the image (occlusion for an "
         "imported network), or each word's attribution for a text"));
  explainOpacity_->setRange(0, 100);
  explainOpacity_->setValue(50);
  explainOpacity_->setMaximumWidth(140);
  explainOpacity_->setToolTip(tr("Heat-map opacity"));
  explainView_->setAlignment(Qt::AlignCenter);
  explainView_->setWordWrap(true);
  explainView_->setMinimumWidth(260);
  explainView_->setTextFormat(Qt::RichText);
  auto* explainPanel = new QWidget(this);
  auto* explainLayout = new QVBoxLayout(explainPanel);
  explainLayout->setContentsMargins(0, 0, 0, 0);
  auto* explainBar = new QHBoxLayout;
  explainBar->addWidget(explainOn_);
  explainBar->addWidget(explainOpacity_);
  explainBar->addStretch(1);
  explainLayout->addLayout(explainBar);
  explainLayout->addWidget(explainView_, 1);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(bars_);
  split->addWidget(results_);
  split->addWidget(explainPanel);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  split->setStretchFactor(2, 3);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(hint_);
  layout->addLayout(input);
  auto* busy = new QHBoxLayout;
  busy->addWidget(progress_, 1);
  busy->addWidget(stop_);
  layout->addLayout(busy);
  layout->addWidget(split, 1);
}

void PredictPage::connectController() {
  connect(controller_, &PredictController::modelChanged, this, &PredictPage::showModel);
  connect(controller_, &PredictController::explained, this, [this](const PredictExplanation& e) {
    explanation_ = std::make_shared<PredictExplanation>(e);
    showExplanation();
  });
  connect(controller_, &PredictController::predicted, this, &PredictPage::showResults);
  connect(controller_, &PredictController::progress, this,
          [this](int done, int total, const QString& eta) {
            progress_->setRange(0, std::max(1, total));
            progress_->setValue(done);
            if (total > 0)
              hint_->setText(tr("Predicting: %1 of %2 images%3")
                                 .arg(done)
                                 .arg(total)
                                 .arg(eta.isEmpty() ? QString() : QStringLiteral(", ") + eta));
          });
  connect(controller_, &PredictController::exportProgress, this,
          [this](const QString& step, int done, int total, const QString& eta) {
            progress_->setRange(0, std::max(1, total));
            progress_->setValue(done);
            hint_->setText(tr("Exporting: %1 (%2 of %3)%4")
                               .arg(step)
                               .arg(done + 1)
                               .arg(total)
                               .arg(eta.isEmpty() ? QString() : QStringLiteral(", ") + eta));
          });
  connect(controller_, &PredictController::exported, this,
          [this](const QString& dir, const QString& report, const QString& error) {
            setBusy(false);
            if (!error.isEmpty()) {
              hint_->setText(tr("Export failed."));
              QMessageBox::warning(this, tr("Export failed"), error);
              return;
            }
            hint_->setText(tr("Exported to %1, %2").arg(dir, report));
          });
  connect(controller_, &PredictController::folderDone, this,
          [this](const QString& csv, int rows, const QString& error) {
            setBusy(false);
            hint_->setText(error.isEmpty() ? tr("%1 predictions written to %2").arg(rows).arg(csv)
                                           : tr("Could not write %1: %2").arg(csv, error));
          });
}

void PredictPage::connectActions() {
  auto predict = [this] {
    if (!text_->text().trimmed().isEmpty()) controller_->predictText(text_->text());
  };
  connect(text_, &QLineEdit::returnPressed, this, predict);
  connect(predictText_, &QPushButton::clicked, this, predict);
  connect(chooseImages_, &QPushButton::clicked, this, [this] {
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Images to classify"), QString(),
        tr("Images (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff *.pgm *.ppm)"));
    if (!files.isEmpty()) controller_->predictFiles(files);
  });
  connect(folder_, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder of images"));
    if (dir.isEmpty()) return;
    const QString csv =
        QFileDialog::getSaveFileName(this, tr("Write predictions to"),
                                     dir + QStringLiteral("/predictions.csv"), tr("CSV (*.csv)"));
    if (csv.isEmpty()) return;
    progress_->setRange(0, 0);
    setBusy(true);
    controller_->predictFolderToCsv(dir, csv);
  });
  connect(openBundle_, &QPushButton::clicked, this, &PredictPage::openBundle);
  connect(exportBundle_, &QPushButton::clicked, this, [this] { exportModel(false); });
  connect(exportOnnx_, &QPushButton::clicked, this, [this] { exportModel(true); });
  connect(stop_, &QPushButton::clicked, controller_, &PredictController::cancel);
  connect(explainOn_, &QCheckBox::toggled, this, [this](bool on) {
    if (on && !lastInput_.isEmpty() && (!explanation_ || explanation_->input != lastInput_)) {
      explainView_->setText(tr("Explaining\u2026"));
      controller_->explain(lastInput_);
    }
    showExplanation();
  });
  connect(explainOpacity_, &QSlider::valueChanged, this, &PredictPage::showExplanation);
}

void PredictPage::showExplanation() {
  if (!explainOn_->isChecked()) {
    explainView_->clear();
    return;
  }
  if (!explanation_ || explanation_->input != lastInput_) return;  // still computing
  const PredictExplanation& e = *explanation_;
  const auto& names = controller_->info().classNames;
  const auto name = [&](int c) {
    return c >= 0 && c < int(names.size())
               ? QString::fromStdString(names[size_t(c)]).toHtmlEscaped()
               : QString::number(c);
  };
  if (!e.error.isEmpty()) {
    explainView_->setText(tr("Cannot explain: %1").arg(e.error.toHtmlEscaped()));
  } else if (controller_->isText()) {
    explainView_->setText(highlightWordsHtml(e.words) +
                          tr("<br><small>green: evidence for <b>%1</b>, red: against it</small>")
                              .arg(name(e.words.classIndex)));
  } else {
    explainView_->setPixmap(
        QPixmap::fromImage(overlayImage(e.image, e.map, explainOpacity_->value() / 100.0)));
    explainView_->setToolTip(tr("Evidence for %1 (p = %2)")
                                 .arg(name(e.map.classIndex))
                                 .arg(e.map.probability, 0, 'f', 3));
  }
}

void PredictPage::openBundle() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Model bundle folder"));
  if (dir.isEmpty()) return;
  const std::filesystem::path script = std::filesystem::path(dir.toStdString()) / "backbone.pt";
  if (std::filesystem::exists(script) && !core::isTrustedFile(script)) {
    const auto answer = QMessageBox::question(
        this, tr("Trust this bundle's TorchScript backbone?"),
        tr("%1 holds a TorchScript backbone (backbone.pt). Loading it can run arbitrary code "
           "on this computer. Open it only if you trust where the bundle came from.")
            .arg(dir),
        QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
    if (answer != QMessageBox::Yes) return;
    core::trustFile(script);
  }
  QString error;
  if (!controller_->openBundle(dir, &error))
    QMessageBox::warning(this, tr("Could not open the bundle"), error);
}

void PredictPage::exportModel(bool onnx) {
  const QString dir = QFileDialog::getSaveFileName(
      this, onnx ? tr("Export the bundle with model.onnx as") : tr("Export the bundle as"),
      QStringLiteral("model"), tr("Model bundle folder (*)"), nullptr, QFileDialog::ShowDirsOnly);
  if (dir.isEmpty()) return;
  exportTo(dir, onnx);
}

void PredictPage::exportTo(const QString& dir, bool onnx) {
  if (controller_->isBusy()) {  // the controller would ignore it: do not look busy forever
    hint_->setText(tr("Still predicting: export when it has finished (or press Stop)."));
    return;
  }
  progress_->setRange(0, 0);
  setBusy(true);
  hint_->setText(tr("Exporting to %1\u2026").arg(dir));
  controller_->exportModel(dir, onnx);
}

void PredictPage::setBusy(bool busy) {
  progress_->setVisible(busy);
  stop_->setVisible(busy);
  exportBundle_->setEnabled(!busy && controller_->hasModel());
  exportOnnx_->setEnabled(!busy && controller_->canExportOnnx());
}

void PredictPage::showModel() {
  const bool has = controller_->hasModel(), text = controller_->isText();
  model_->setText(has ? tr("<b>Model:</b> %1").arg(controller_->modelName().toHtmlEscaped())
                      : tr("<b>No model yet:</b> train one, or open a model bundle."));
  hint_->setText(!has   ? QString()
                 : text ? tr("Type a text below.")
                        : tr("Drop image files here, or choose them."));
  text_->setEnabled(has && text);
  predictText_->setEnabled(has && text);
  chooseImages_->setEnabled(has && !text);
  folder_->setEnabled(has && !text);
  exportBundle_->setEnabled(has);
  exportOnnx_->setEnabled(controller_->canExportOnnx());
  exportOnnx_->setToolTip(
      has && !controller_->canExportOnnx()
          ? tr("An imported TorchScript backbone cannot be written as ONNX: its graph is a "
               "compiled program, not one of TransferLab's networks. The bundle's model.pt "
               "(TorchScript) is its portable form.")
          : tr("Write the bundle with model.onnx (opset 17, dynamic batch size, preprocessing "
               "and class names in its metadata), verified by re-reading it"));
}

void PredictPage::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls() && controller_->hasModel() && !controller_->isText())
    event->acceptProposedAction();
}

void PredictPage::dropEvent(QDropEvent* event) {
  QStringList files;
  for (const QUrl& u : event->mimeData()->urls())
    if (u.isLocalFile()) files << u.toLocalFile();
  if (!files.isEmpty()) controller_->predictFiles(files);
  event->acceptProposedAction();
}

void PredictPage::showResults(const QVector<Prediction>& results) {
  for (const Prediction& p : results) {
    const QString name =
        p.input.size() > 80 ? p.input.left(77) + QStringLiteral("\u2026") : p.input;
    QString line = p.error.isEmpty() ? tr("%1 \u2192 %2 (%3%)")
                                           .arg(name, p.labels.value(0))
                                           .arg(100 * p.probabilities.value(0), 0, 'f', 1)
                                     : tr("%1: %2").arg(name, p.error);
    if (p.unlike)
      line += tr("  \u2014 unsure: unlike the training data");
    else if (p.unsure)
      line +=
          tr("  \u2014 unsure (below %1%)").arg(100 * controller_->info().unsureBelow, 0, 'f', 0);
    results_->insertItem(0, line);
  }
  if (results.isEmpty()) return;
  showBars(results.back());
  lastInput_ = results.back().error.isEmpty() ? results.back().input : QString();
  if (explainOn_->isChecked() && !lastInput_.isEmpty()) {
    explainView_->setText(tr("Explaining\u2026"));
    controller_->explain(lastInput_);
  } else {
    explainView_->clear();
  }
}

void PredictPage::showBars(const Prediction& p) {
  bars_->clearPlottables();
  if (!p.error.isEmpty()) {
    bars_->replot();
    return;
  }
  auto* bars = new QCPBars(bars_->yAxis, bars_->xAxis);
  bars->setBrush(p.unsure ? QColor(206, 92, 0) : QColor(52, 101, 164));  // orange: unsure
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  QVector<double> keys, values;
  for (int i = 0; i < p.labels.size(); ++i) {
    const double key = p.labels.size() - i;  // highest at the top
    keys << key;
    values << p.probabilities[i];
    ticker->addTick(key, p.labels[i]);
  }
  bars->setData(keys, values);
  bars_->yAxis->setTicker(ticker);
  bars_->yAxis->setRange(0.3, p.labels.size() + 0.7);
  bars_->xAxis->setRange(0, 1);
  bars_->replot();
}

}  // namespace tlab::ui
