#pragma once
// File > Import Dataset: choose a folder or file and how to read it (format, manifest path
// policy) and how to split it (keep the source's split or not, fractions, seed), and see a
// preview before committing: the detected format, samples and classes, the per-class counts
// of each split exactly as training will split them, a strip of thumbnails or texts, skipped
// items and problems. The preview reads the listing off the GUI thread and decodes only the
// strip; full image verification happens after OK, in DatasetController, with progress.
// A listing cannot be interrupted: closing the dialog leaves a running one to finish on its
// own (it holds no reference to the dialog) rather than blocking the window.
#include <QDialog>
#include <QImage>
#include <QStringList>
#include <array>
#include <memory>
#include <optional>

#include "ui/workers/TorchQt.h"  // first: Project.h reaches LibTorch

#include "core/project/Project.h"
#include "ui/workers/Async.h"

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;
namespace tlab::ui {

/// What the preview worker found for one set of dialog choices.
struct DatasetPreview {
  std::shared_ptr<const core::Dataset> listing;  ///< as read, before splitting; null on error
  QString error;                                 ///< names the file and the problem
  /// Per class: samples in train, val, test after the chosen split.
  std::vector<std::array<int64_t, 3>> splitCounts;
  std::vector<QImage> thumbnails;  ///< image datasets: the first samples, in class order
  QStringList texts;               ///< text datasets: the first samples
  QStringList captions;            ///< the class of each thumbnail or text
};

class DatasetImportDialog : public QDialog {
  Q_OBJECT
 public:
  static constexpr int kStripSamples = 8;

  /// Starts from `current` (the project's dataset settings; an empty path asks for one).
  explicit DatasetImportDialog(const core::DatasetSettings& current, QWidget* parent = nullptr);
  ~DatasetImportDialog() override;

  /// The settings OK commits (path absolute).
  core::DatasetSettings settings() const;
  void setPath(const QString& path);

  QComboBox* formatBox() const { return format_; }
  QCheckBox* keepSplitBox() const { return keepSplit_; }
  QDoubleSpinBox* valBox() const { return val_; }
  QSpinBox* seedBox() const { return seed_; }
  QTableWidget* classTable() const { return classes_; }
  QPushButton* okButton() const;
  QString summaryText() const;
  const DatasetPreview& preview() const { return preview_; }
  bool isPreviewing() const;

 signals:
  /// A preview finished (ok: the dataset was read and can be committed).
  void previewReady(bool ok);

 private:
  void setUpControls(const core::DatasetSettings& current);
  void buildLayout();
  void connectControls();
  void schedulePreview();
  void startPreview();
  void showPreview();
  void fillClassTable();
  void fillStrip();

  QLineEdit* path_;
  QComboBox* format_;
  QCheckBox *outside_, *keepSplit_;
  QDoubleSpinBox *val_, *test_;
  QSpinBox* seed_;
  QLabel *summary_, *skipped_;
  QTableWidget* classes_;
  QWidget* strip_;
  QPushButton *browseFolder_, *browseFile_;
  QDialogButtonBox* buttons_;
  QTimer* debounce_;
  Async<DatasetPreview> previewTask_;
  DatasetPreview preview_;
  // The last listing read, reused while only the split settings change.
  std::optional<core::DatasetSettings> listingSource_;
  std::shared_ptr<const core::Dataset> listing_;
};

}  // namespace tlab::ui
