#include "ui/models/SampleModel.h"

#include "ui/workers/Thumbnail.h"

#include <QFileInfo>

namespace tlab::ui {
namespace {

constexpr int kMaxInFlight = 2;
constexpr size_t kMaxWanted = 256;  // older requests are dropped: the view has moved on

}  // namespace

SampleModel::SampleModel(QObject* parent) : QAbstractTableModel(parent) {
  for (int i = 0; i < kMaxInFlight; ++i) decoders_.push_back(std::make_unique<Async<QImage>>(this));
}

SampleModel::~SampleModel() = default;  // the decoders cancel what they run

void SampleModel::setDataset(std::shared_ptr<const core::Dataset> dataset) {
  beginResetModel();
  for (auto& d : decoders_) d->cancel();  // thumbnails of the old dataset are dropped
  dataset_ = std::move(dataset);
  cache_.clear();
  wanted_.clear();
  queued_.clear();
  overrides_.clear();
  trainingSplits_.clear();
  rows_.clear();
  rowOf_.clear();
  if (dataset_) {
    rows_.resize(dataset_->size());
    for (size_t i = 0; i < rows_.size(); ++i) {
      rows_[i] = i;
      rowOf_[i] = int(i);
    }
  }
  endResetModel();
}

void SampleModel::setTrainingSplits(std::vector<core::Split> splits) {
  if (!dataset_ || splits.size() != dataset_->size()) return;  // computed for another dataset
  trainingSplits_ = std::move(splits);
  if (!rows_.empty()) emit dataChanged(index(0, kSplit), index(int(rows_.size()) - 1, kSplit));
}

core::Split SampleModel::splitOf(size_t sample) const {
  return trainingSplits_.empty() ? dataset_->samples[sample].split : trainingSplits_[sample];
}

void SampleModel::setFilter(int classIndex, std::optional<core::Split> split,
                            const QString& search) {
  if (!dataset_) return;
  beginResetModel();
  rows_.clear();
  rowOf_.clear();
  const std::string needle = search.trimmed().toLower().toStdString();
  for (size_t i = 0; i < dataset_->size(); ++i) {
    const core::Sample& s = dataset_->samples[i];
    if (classIndex >= 0 && s.label != classIndex) continue;
    if (only_ && !only_->count(i)) continue;
    if (split && splitOf(i) != *split) continue;
    if (!needle.empty()) {
      std::string hay = s.path.empty() ? s.text : s.path;
      std::transform(hay.begin(), hay.end(), hay.begin(),
                     [](unsigned char c) { return char(std::tolower(c)); });
      if (hay.find(needle) == std::string::npos) continue;
    }
    rowOf_[i] = int(rows_.size());
    rows_.push_back(i);
  }
  wanted_.clear();
  endResetModel();
}

void SampleModel::setLabelOverrides(const QHash<size_t, QString>& overrides) {
  overrides_ = overrides;
  if (!rows_.empty()) emit dataChanged(index(0, kLabel), index(rowCount() - 1, kLabel));
}

int SampleModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(rows_.size());
}

int SampleModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumns;
}

QVariant SampleModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || !dataset_ || index.row() >= int(rows_.size())) return {};
  const size_t i = rows_[size_t(index.row())];
  const core::Sample& s = dataset_->samples[i];
  if (role == kSampleRole) return qulonglong(i);
  const QString label = s.label >= 0 && size_t(s.label) < dataset_->numClasses()
                            ? QString::fromStdString(dataset_->classNames[size_t(s.label)])
                            : QString();
  const auto edited = overrides_.find(i);
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case kName:
          if (!s.text.empty() && dataset_->modality == core::Modality::Text)
            return QString::fromStdString(s.text.substr(0, 300)).simplified();
          // Images: the caption under the thumbnail names the class too.
          return (s.path.empty() ? tr("#%1").arg(s.index)
                                 : QFileInfo(QString::fromStdString(s.path)).fileName()) +
                 QLatin1Char('\n') +
                 data(index.siblingAtColumn(kLabel), Qt::DisplayRole).toString();
        case kLabel:
          if (edited != overrides_.end())
            return edited->isEmpty() ? tr("%1 (excluded)").arg(label)
                                     : tr("%1 (was %2)").arg(*edited, label);
          return label;
        case kSplit:
          return QString::fromLatin1(core::splitName(splitOf(i)));
      }
      return {};
    case Qt::ToolTipRole:
      return s.path.empty() ? QString::fromStdString(s.text.substr(0, 2000))
                            : QString::fromStdString(s.path);
    case Qt::SizeHintRole:
      // Fixed, so the grid (uniform item sizes) never takes its item size from a sample whose
      // thumbnail is not decoded yet: that squeezed every item to a caption's size.
      if (index.column() != kName || dataset_->modality != core::Modality::Image) return {};
      return QSize(kThumbnailSize + 20, kThumbnailSize + 40);
    case Qt::DecorationRole:
      if (index.column() != kName || dataset_->modality != core::Modality::Image) return {};
      if (const QImage* img = cache_.object(i)) return *img;
      request(i);
      return {};
    default:
      return {};
  }
}

QVariant SampleModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* names[] = {"Sample", "Class", "Split"};
  return tr(names[section]);
}

void SampleModel::request(size_t sample) const {
  if (queued_.contains(sample)) return;
  queued_.insert(sample);
  wanted_.push_front(sample);
  while (wanted_.size() > kMaxWanted) {
    queued_.remove(wanted_.back());
    wanted_.pop_back();
  }
  pump();
}

void SampleModel::pump() const {
  auto* self = const_cast<SampleModel*>(this);  // data() is const; decoding changes the cache
  for (auto& decoder : decoders_) {
    if (decoder->isRunning() || wanted_.empty()) continue;
    const size_t sample = wanted_.front();
    wanted_.pop_front();
    ++decodesStarted_;
    const qreal ratio = screenPixelRatio();
    decoder->start(
        [dataset = dataset_, sample, ratio] {
          return sampleImage(*dataset, sample, SampleModel::kThumbnailSize, ratio);
        },
        [self, sample](const QImage& image) { self->deliver(sample, image); });
  }
}

void SampleModel::deliver(size_t sample, const QImage& image) {
  queued_.remove(sample);
  auto* entry = new QImage(image.isNull() ? QImage(1, 1, QImage::Format_RGB888) : image);
  cache_.insert(sample, entry, std::max<qsizetype>(1, entry->sizeInBytes() / 1024));
  if (const auto it = rowOf_.find(sample); it != rowOf_.end()) {
    const QModelIndex i = index(it->second, kName);
    emit dataChanged(i, i, {Qt::DecorationRole});
  }
  emit thumbnailReady(sample);
  pump();
}

}  // namespace tlab::ui
