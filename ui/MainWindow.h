#pragma once
// The application window: assembles pages and menus and wires them; no logic of its own.
#include <QMainWindow>

#include "core/runtime/Runtime.h"

namespace tlab::ui {
class DatasetController;
class DatasetPage;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(const core::RuntimeReport& runtime, QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Opens a dataset in the background (any supported format, auto-detected).
  void openDataset(const QString& path);
  DatasetController* datasetController() const { return datasetController_; }
  DatasetPage* datasetPage() const { return datasetPage_; }

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void createMenus();
  void showRuntime(const core::RuntimeReport& runtime);

  DatasetController* datasetController_;
  DatasetPage* datasetPage_;
};

}  // namespace tlab::ui
