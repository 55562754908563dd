#pragma once
// The samples of a dataset as a Qt table model (name, class, split), filtered by class, split
// and a search text, with thumbnails for image datasets decoded lazily off the GUI thread: a view
// asks only for the rows it shows, each miss queues one decode (at most 2 at a time, newest
// request first, stale ones dropped when the view scrolled on), and results stay in a
// 4,000-entry cache. So a 60,000-image dataset scrolls without decoding 60,000 images.
// GUI thread only (decoding runs in two Async tasks; a new dataset cancels them).
#include <QAbstractTableModel>
#include <QCache>
#include <QImage>
#include <QSet>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "core/dataset/Dataset.h"
#include "ui/workers/Async.h"
#include "ui/workers/Thumbnail.h"

namespace tlab::ui {

class SampleModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { kName, kLabel, kSplit, kColumns };
  static constexpr int kThumbnailSize = kThumbnailSide;
  static constexpr int kSampleRole = Qt::UserRole + 1;  ///< dataset sample index

  explicit SampleModel(QObject* parent = nullptr);
  ~SampleModel() override;

  void setDataset(std::shared_ptr<const core::Dataset> dataset);
  /// -1: all classes; split nullopt: all splits; search: case-insensitive substring of the
  /// file name, path or text.
  void setFilter(int classIndex, std::optional<core::Split> split, const QString& search);
  /// Further restricts the next setFilter() to these samples (nullopt: no restriction).
  void setOnly(std::optional<std::unordered_set<size_t>> samples) { only_ = std::move(samples); }
  /// The split each sample has in training (see core::sourceSplits), shown and filtered on
  /// instead of the source's own; ignored unless it has one entry per sample. Rows stay as
  /// they are: re-apply a split filter afterwards. setDataset() clears it.
  void setTrainingSplits(std::vector<core::Split> splits);
  core::Split splitOf(size_t sample) const;
  /// Shown instead of the original class (label edits of the project); "" marks excluded.
  void setLabelOverrides(const QHash<size_t, QString>& overrides);
  size_t sampleAt(int row) const { return rows_.at(size_t(row)); }
  std::shared_ptr<const core::Dataset> dataset() const { return dataset_; }
  int decodesStarted() const { return decodesStarted_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

 signals:
  void thumbnailReady(size_t sample);

 private:
  void request(size_t sample) const;
  void pump() const;
  void deliver(size_t sample, const QImage& image);

  std::shared_ptr<const core::Dataset> dataset_;
  std::vector<size_t> rows_;
  std::unordered_map<size_t, int> rowOf_;
  QHash<size_t, QString> overrides_;
  std::vector<core::Split> trainingSplits_;  // empty: the source's own splits
  std::optional<std::unordered_set<size_t>> only_;
  // Bounded by memory, in KiB: 4,000 thumbnails of 96x96 RGB, or 1,000 at HiDPI 2x.
  mutable QCache<size_t, QImage> cache_{4000 * 27};
  mutable std::deque<size_t> wanted_;  // newest at the front
  mutable QSet<size_t> queued_;
  mutable int decodesStarted_ = 0;
  mutable std::vector<std::unique_ptr<Async<QImage>>> decoders_;  // last: cancelled first
};

}  // namespace tlab::ui
