#include "ui/pages/PredictPage.h"

#include <qcustomplot.h>
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
      openBundle_(new QPushButton(tr("Open model bundle\u2026"), this)),
      progress_(new QProgressBar(this)),
      bars_(new QCustomPlot(this)),
      results_(new QListWidget(this)) {
  buildLayout();
  connectController();
  connectActions();
  showModel();
}

void PredictPage::buildLayout() {
  setAcceptDrops(true);
  progress_->hide();
  text_->setPlaceholderText(tr("Type a text to classify and press Enter"));
  bars_->setMinimumHeight(220);
  bars_->xAxis->setRange(0, 1);
  bars_->xAxis->setLabel(tr("probability"));
  auto* top = new QHBoxLayout;
  top->addWidget(model_, 1);
  top->addWidget(openBundle_);
  top->addWidget(exportBundle_);
  auto* input = new QHBoxLayout;
  input->addWidget(text_, 1);
  input->addWidget(predictText_);
  input->addWidget(chooseImages_);
  input->addWidget(folder_);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(bars_);
  split->addWidget(results_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(hint_);
  layout->addLayout(input);
  layout->addWidget(progress_);
  layout->addWidget(split, 1);
}

void PredictPage::connectController() {
  connect(controller_, &PredictController::modelChanged, this, &PredictPage::showModel);
  connect(controller_, &PredictController::predicted, this, &PredictPage::showResults);
  connect(controller_, &PredictController::progress, this, [this](int done, int total) {
    progress_->setRange(0, std::max(1, total));
    progress_->setValue(done);
  });
  connect(controller_, &PredictController::folderDone, this,
          [this](const QString& csv, int rows, const QString& error) {
            progress_->hide();
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
    progress_->show();
    controller_->predictFolderToCsv(dir, csv);
  });
  connect(openBundle_, &QPushButton::clicked, this, &PredictPage::openBundle);
  connect(exportBundle_, &QPushButton::clicked, this, &PredictPage::exportBundle);
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

void PredictPage::exportBundle() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Export the bundle into"));
  QString error;
  if (dir.isEmpty()) return;
  if (controller_->exportBundle(dir, &error)) {
    hint_->setText(tr("Model bundle written to %1 (model.safetensors, model.json)").arg(dir));
  } else {
    QMessageBox::warning(this, tr("Export failed"), error);
  }
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
    results_->insertItem(0, p.error.isEmpty() ? tr("%1 \u2192 %2 (%3%)")
                                                    .arg(name, p.labels.value(0))
                                                    .arg(100 * p.probabilities.value(0), 0, 'f', 1)
                                              : tr("%1: %2").arg(name, p.error));
  }
  if (!results.isEmpty()) showBars(results.back());
}

void PredictPage::showBars(const Prediction& p) {
  bars_->clearPlottables();
  if (!p.error.isEmpty()) {
    bars_->replot();
    return;
  }
  auto* bars = new QCPBars(bars_->yAxis, bars_->xAxis);
  bars->setBrush(QColor(52, 101, 164));
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
