#pragma once
// The Predict page: drop images (or type a text) and see top-k bars; predict a whole folder to
// CSV with progress; export the model as a verified bundle, optionally with model.onnx. The model
// is the last run's or an opened bundle.
#include <QWidget>
#include <memory>

class QCheckBox;
class QCustomPlot;
class QSlider;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;

namespace tlab::ui {
class PredictController;
struct Prediction;
struct PredictExplanation;

class PredictPage : public QWidget {
  Q_OBJECT
 public:
  explicit PredictPage(PredictController* controller, QWidget* parent = nullptr);
  QCustomPlot* barsPlot() const { return bars_; }
  QListWidget* resultList() const { return results_; }
  QCheckBox* explainToggle() const { return explainOn_; }
  QLabel* explainView() const { return explainView_; }
  /// Exports to `dir` without asking (what the Export buttons do after their dialog).
  void exportTo(const QString& dir, bool onnx);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void buildLayout();
  void connectController();
  void connectActions();
  void openBundle();
  void exportModel(bool onnx);
  void setBusy(bool busy);
  void showModel();
  void showResults(const QVector<Prediction>& results);
  void showBars(const Prediction& p);
  void showExplanation();

  PredictController* controller_;
  QLabel *model_, *hint_;
  QLineEdit* text_;
  QPushButton *predictText_, *chooseImages_, *folder_, *exportBundle_, *exportOnnx_, *stop_,
      *openBundle_;
  QProgressBar* progress_;
  QCustomPlot* bars_;
  QListWidget* results_;
  QCheckBox* explainOn_;
  QSlider* explainOpacity_;
  QLabel* explainView_;
  QString lastInput_;  ///< the input the bars show
  std::shared_ptr<PredictExplanation> explanation_;
};

}  // namespace tlab::ui
