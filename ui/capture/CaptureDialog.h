#pragma once
// Capture -> train -> predict, the Teachable Machine loop on the desktop: pick a camera, a video
// file or an image folder, see the preview, hold the record button (or Space) to record frames
// into a class (created on the fly), train, and watch the live prediction of the current model
// follow the picture (top-3 bars, predictions per second, latency, dropped frames). Non-modal;
// closing it turns the source off.
#include <QDialog>
#include <QImage>
#include <QPointer>
#include <QTimer>
#include <QVector>

class QCheckBox;
class QComboBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;

namespace tlab::ui {

class CaptureController;
class FrameSource;
class LivePredictor;
class PredictController;
struct Prediction;

class CaptureDialog : public QDialog {
  Q_OBJECT
 public:
  CaptureDialog(CaptureController* capture, PredictController* predict, QWidget* parent = nullptr);
  ~CaptureDialog() override;

  /// Uses `source` (taking ownership) and starts it; what Start does with the chosen entry.
  void useSource(FrameSource* source);
  /// Starts the source chosen in the combo box (asks for a file or folder where needed).
  void startChosenSource();
  void stopSource();
  /// Hold to record: the button's press and release, or Space.
  bool beginRecording();
  void endRecording();

  CaptureController* controller() const { return capture_; }
  LivePredictor* predictor() const { return live_; }
  QComboBox* sourceBox() const { return sourceBox_; }
  QComboBox* classBox() const { return classBox_; }
  QPushButton* recordButton() const { return record_; }
  QCheckBox* liveBox() const { return liveBox_; }
  QCheckBox* gradCamBox() const { return camBox_; }
  QLabel* statusLabel() const { return status_; }
  QLabel* previewLabel() const { return preview_; }
  QListWidget* classList() const { return classes_; }
  /// The top prediction's class as shown ("" while none).
  QString shownTopClass() const { return shownTop_; }
  QLabel* statsLabel() const { return stats_; }

 signals:
  void trainRequested();

 protected:
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;
  void hideEvent(QHideEvent* event) override;

 private:
  void fillSources();
  void refreshClasses();
  void refreshModel();
  void showFrame(const QImage& image);
  void showPrediction(const Prediction& p);
  void showStats();
  void setStatus(const QString& text, bool error = false);

  CaptureController* capture_;
  PredictController* predict_;
  LivePredictor* live_;
  QComboBox* sourceBox_;
  QPushButton *start_, *stop_, *record_, *train_;
  QLabel *preview_, *status_, *folder_, *model_, *stats_;
  QComboBox* classBox_;
  QListWidget* classes_;
  QCheckBox *liveBox_, *camBox_;
  QVector<QProgressBar*> bars_;
  QString shownTop_;
  QTimer statsTimer_;
  qint64 lastPreviewMs_ = 0;
};

}  // namespace tlab::ui
