#include "ui/capture/CaptureDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "ui/capture/CaptureController.h"
#include "ui/capture/FrameSource.h"
#include "ui/capture/LivePredictor.h"
#include "ui/controllers/PredictController.h"

namespace tlab::ui {
namespace {
enum SourceKind { Camera = 1, Video, Folder };
constexpr int kKindRole = Qt::UserRole, kIdRole = Qt::UserRole + 1;
QString framesText(int n) {
  return n == 1 ? QObject::tr("1 frame") : QObject::tr("%1 frames").arg(n);
}
}  // namespace

CaptureDialog::CaptureDialog(CaptureController* capture, PredictController* predict,
                             QWidget* parent)
    : QDialog(parent), capture_(capture), predict_(predict), live_(new LivePredictor(this)) {
  setWindowTitle(tr("Capture and Live Prediction"));
  setModal(false);

  sourceBox_ = new QComboBox(this);
  start_ = new QPushButton(tr("Start"), this);
  stop_ = new QPushButton(tr("Stop"), this);
  auto* sourceRow = new QHBoxLayout;
  sourceRow->addWidget(new QLabel(tr("Source:"), this));
  sourceRow->addWidget(sourceBox_, 1);
  sourceRow->addWidget(start_);
  sourceRow->addWidget(stop_);

  preview_ = new QLabel(tr("No picture yet"), this);
  preview_->setAlignment(Qt::AlignCenter);
  preview_->setMinimumSize(480, 360);
  preview_->setStyleSheet(QStringLiteral("background: #202020; color: #d0d0d0;"));
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  auto* left = new QVBoxLayout;
  left->addWidget(preview_, 1);
  left->addWidget(status_);

  // Recording.
  auto* recordBox = new QGroupBox(tr("Record examples"), this);
  classBox_ = new QComboBox(recordBox);
  classBox_->setEditable(true);
  classBox_->setInsertPolicy(QComboBox::NoInsert);
  classBox_->setToolTip(tr("Type a new name to create a class"));
  record_ = new QPushButton(tr("\u25cf Hold to record (Space)"), recordBox);
  record_->setStyleSheet(
      QStringLiteral("QPushButton:pressed { background: #c62828; color: white; }"));
  classes_ = new QListWidget(recordBox);
  folder_ = new QLabel(recordBox);
  folder_->setWordWrap(true);
  folder_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* rl = new QFormLayout(recordBox);
  rl->addRow(tr("Class:"), classBox_);
  rl->addRow(record_);
  rl->addRow(classes_);
  rl->addRow(folder_);

  // Live prediction.
  auto* liveGroup = new QGroupBox(tr("Live prediction"), this);
  liveBox_ = new QCheckBox(tr("Predict every frame with the current model"), liveGroup);
  liveBox_->setChecked(true);
  camBox_ = new QCheckBox(tr("Show where it looks (Grad-CAM)"), liveGroup);
  camBox_->setToolTip(
      tr("The preview shows each predicted frame with the Grad-CAM map of the predicted class "
         "(about twice the time per prediction)"));
  model_ = new QLabel(liveGroup);
  model_->setWordWrap(true);
  auto* ll = new QVBoxLayout(liveGroup);
  ll->addWidget(liveBox_);
  ll->addWidget(camBox_);
  ll->addWidget(model_);
  for (int i = 0; i < 3; ++i) {
    auto* bar = new QProgressBar(liveGroup);
    bar->setRange(0, 1000);
    bar->setTextVisible(true);
    bar->setFormat(QString());
    bars_ << bar;
    ll->addWidget(bar);
  }
  stats_ = new QLabel(liveGroup);
  ll->addWidget(stats_);
  train_ = new QPushButton(tr("Train on these examples"), liveGroup);
  ll->addWidget(train_);

  auto* right = new QVBoxLayout;
  right->addWidget(recordBox, 1);
  right->addWidget(liveGroup);
  auto* body = new QHBoxLayout;
  body->addLayout(left, 3);
  body->addLayout(right, 2);
  auto* top = new QVBoxLayout(this);
  top->addLayout(sourceRow);
  top->addLayout(body, 1);

  connect(start_, &QPushButton::clicked, this, &CaptureDialog::startChosenSource);
  connect(stop_, &QPushButton::clicked, this, &CaptureDialog::stopSource);
  connect(record_, &QPushButton::pressed, this, &CaptureDialog::beginRecording);
  connect(record_, &QPushButton::released, this, &CaptureDialog::endRecording);
  connect(train_, &QPushButton::clicked, this, [this] {
    endRecording();
    emit trainRequested();
  });
  connect(capture_, &CaptureController::frameArrived, this, [this](const QImage& image) {
    if (!(camBox_->isChecked() && liveBox_->isChecked() && live_->canExplain())) showFrame(image);
    if (liveBox_->isChecked()) live_->submit(image);
  });
  connect(capture_, &CaptureController::frameRecorded, this, [this](const QString& c, int n) {
    setStatus(tr("Recording \u201c%1\u201d: %2").arg(c, framesText(n)));
  });
  connect(capture_, &CaptureController::recorded, this, [this](const QString& c, int n) {
    record_->setDown(false);  // also when the burst ended because the source did
    setStatus(tr("Recorded %1 into \u201c%2\u201d (Edit \u2192 Undo takes them back).")
                  .arg(framesText(n), c));
  });
  connect(capture_, &CaptureController::capturesChanged, this, &CaptureDialog::refreshClasses);
  connect(capture_, &CaptureController::sourceFailed, this, [this](const QString& message) {
    setStatus(message, true);
    record_->setDown(false);
  });
  connect(capture_, &CaptureController::sourceFinished, this,
          [this] { setStatus(tr("The source has no more frames.")); });
  connect(capture_, &CaptureController::recordingError, this,
          [this](const QString& message) { setStatus(message, true); });
  connect(live_, &LivePredictor::predicted, this, &CaptureDialog::showPrediction);
  connect(live_, &LivePredictor::overlay, this, [this](const QImage& image) {
    if (camBox_->isChecked()) showFrame(image);
  });
  connect(camBox_, &QCheckBox::toggled, live_, &LivePredictor::setGradCam);
  connect(predict_, &PredictController::modelChanged, this, &CaptureDialog::refreshModel);
  connect(liveBox_, &QCheckBox::toggled, this, [this](bool on) {
    if (!on) live_->cancel();
  });
  statsTimer_.setInterval(500);
  connect(&statsTimer_, &QTimer::timeout, this, &CaptureDialog::showStats);
  statsTimer_.start();

  fillSources();
  refreshClasses();
  refreshModel();
  resize(980, 560);
}

CaptureDialog::~CaptureDialog() = default;

void CaptureDialog::fillSources() {
  sourceBox_->clear();
  const auto cameras = CameraSource::cameras();
  for (const CameraInfo& c : cameras) {
    sourceBox_->addItem(tr("Camera: %1").arg(c.name));
    sourceBox_->setItemData(sourceBox_->count() - 1, Camera, kKindRole);
    sourceBox_->setItemData(sourceBox_->count() - 1, c.id, kIdRole);
  }
  if (cameras.isEmpty()) {
    sourceBox_->addItem(tr("Camera (none found)"));
    sourceBox_->setItemData(0, Camera, kKindRole);
  }
  sourceBox_->addItem(tr("Video file\u2026"));
  sourceBox_->setItemData(sourceBox_->count() - 1, Video, kKindRole);
  sourceBox_->addItem(tr("Image folder\u2026"));
  sourceBox_->setItemData(sourceBox_->count() - 1, Folder, kKindRole);
}

void CaptureDialog::startChosenSource() {
  const int kind = sourceBox_->currentData(kKindRole).toInt();
  if (kind == Video) {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Label frames from a video"), QString(),
        tr("Videos (*.mp4 *.mkv *.webm *.avi *.mov *.ogv);;All files (*)"));
    if (!path.isEmpty()) useSource(new VideoFileSource(path));
  } else if (kind == Folder) {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Replay an image folder"));
    if (!dir.isEmpty()) {
      auto* s = new ImageSequenceSource(dir, 10);
      useSource(s);
    }
  } else {
    useSource(new CameraSource(sourceBox_->currentData(kIdRole).toByteArray()));
  }
}

void CaptureDialog::useSource(FrameSource* source) {
  live_->cancel();
  const int kind = qobject_cast<VideoFileSource*>(source)       ? Video
                   : qobject_cast<ImageSequenceSource*>(source) ? Folder
                                                                : Camera;
  if (sourceBox_->currentData(kKindRole).toInt() != kind)
    sourceBox_->setCurrentIndex(sourceBox_->findData(kind, kKindRole));
  capture_->setSource(source);
  setStatus(tr("Starting %1\u2026").arg(source->description()));
  connect(source, &FrameSource::activeChanged, this, [this, source](bool on) {
    if (on)
      setStatus(
          tr("%1 \u2014 hold the record button or Space to record.").arg(source->description()));
  });
  source->start();
}

void CaptureDialog::stopSource() {
  endRecording();
  if (capture_->source()) capture_->source()->stop();
  live_->cancel();
  setStatus(tr("Stopped."));
}

bool CaptureDialog::beginRecording() {
  QString error;
  if (!capture_->startRecording(classBox_->currentText(), &error)) {
    setStatus(error, true);
    return false;
  }
  record_->setDown(true);
  return true;
}

void CaptureDialog::endRecording() {
  record_->setDown(false);
  if (capture_->isRecording()) capture_->stopRecording();
}

void CaptureDialog::keyPressEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && !classBox_->lineEdit()->hasFocus()) {
    if (!event->isAutoRepeat() && !capture_->isRecording()) beginRecording();
    event->accept();
    return;
  }
  QDialog::keyPressEvent(event);
}

void CaptureDialog::keyReleaseEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && !classBox_->lineEdit()->hasFocus()) {
    if (!event->isAutoRepeat()) endRecording();
    event->accept();
    return;
  }
  QDialog::keyReleaseEvent(event);
}

void CaptureDialog::hideEvent(QHideEvent* event) {
  // Closing the window turns the camera off; minimising it (a spontaneous hide) does not.
  if (!event->spontaneous()) stopSource();
  QDialog::hideEvent(event);
}

void CaptureDialog::refreshClasses() {
  const QMap<QString, int> counts = capture_->classCounts();
  classes_->clear();
  const QString typed = classBox_->currentText();
  classBox_->clear();
  for (auto it = counts.begin(); it != counts.end(); ++it) {
    classes_->addItem(tr("%1 \u2014 %2").arg(it.key(), framesText(it.value())));
    classBox_->addItem(it.key());
  }
  classBox_->setCurrentText(typed);
  folder_->setText(tr("Saved in %1").arg(QDir::toNativeSeparators(capture_->root())));
}

void CaptureDialog::refreshModel() {
  live_->setModelFrom(*predict_);
  for (QProgressBar* bar : bars_) {
    bar->setValue(0);
    bar->setFormat(QString());
  }
  shownTop_.clear();
  model_->setText(live_->hasModel() ? tr("Model: %1").arg(live_->modelName())
                                    : live_->modelProblem());
  camBox_->setEnabled(live_->canExplain());
}

void CaptureDialog::showFrame(const QImage& image) {
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  if (now - lastPreviewMs_ < 30) return;  // at most ~30 preview updates per second
  lastPreviewMs_ = now;
  preview_->setPixmap(QPixmap::fromImage(
      image.scaled(preview_->size(), Qt::KeepAspectRatio, Qt::SmoothTransformation)));
}

void CaptureDialog::showPrediction(const Prediction& p) {
  if (!p.error.isEmpty()) {
    model_->setText(tr("Cannot predict: %1").arg(p.error));
    return;
  }
  for (int i = 0; i < bars_.size(); ++i) {
    const bool has = i < p.labels.size();
    bars_[i]->setValue(has ? int(p.probabilities[i] * 1000) : 0);
    bars_[i]->setFormat(
        has ? QStringLiteral("%1  %2%").arg(p.labels[i]).arg(p.probabilities[i] * 100, 0, 'f', 1)
            : QString());
  }
  shownTop_ = p.labels.value(0);
  if (p.unlike)
    bars_[0]->setFormat(bars_[0]->format() + tr("  (unlike the training data)"));
  else if (p.unsure)
    bars_[0]->setFormat(bars_[0]->format() + tr("  (unsure)"));
}

void CaptureDialog::showStats() {
  const LivePredictor::Stats s = live_->stats();
  if (s.predicted == 0) {
    stats_->clear();
    return;
  }
  stats_->setText(tr("%1 predictions/s \u00b7 latency %2 ms (p99 %3 ms) \u00b7 %4 frames dropped")
                      .arg(s.perSecond, 0, 'f', 1)
                      .arg(s.p50Ms, 0, 'f', 0)
                      .arg(s.p99Ms, 0, 'f', 0)
                      .arg(s.dropped));
}

void CaptureDialog::setStatus(const QString& text, bool error) {
  status_->setText(text);
  status_->setStyleSheet(error ? QStringLiteral("color: #a40000;") : QString());
}

}  // namespace tlab::ui
