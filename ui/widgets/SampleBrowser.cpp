#include "ui/widgets/SampleBrowser.h"
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableView>
#include <QVBoxLayout>

#include "core/project/Project.h"
#include "ui/controllers/ProjectController.h"
#include "ui/models/SampleModel.h"
#include "ui/workers/Async.h"
#include "ui/workers/Thumbnail.h"

namespace tlab::ui {
namespace {

constexpr int kDetailSize = 320;
constexpr int kMinCellWidth = SampleModel::kThumbnailSize + 24;
constexpr int kCellHeight = SampleModel::kThumbnailSize + 44;

}  // namespace

SampleBrowser::SampleBrowser(ProjectController* project, QWidget* parent)
    : QWidget(parent),
      project_(project),
      model_(new SampleModel(this)),
      class_(new QComboBox(this)),
      split_(new QComboBox(this)),
      search_(new QLineEdit(this)),
      flagged_(new QCheckBox(tr("Flagged only"), this)),
      count_(new QLabel(this)),
      detailImage_(new QLabel(this)),
      detailText_(new QLabel(this)),
      views_(new QStackedWidget(this)),
      grid_(new QListView(this)),
      table_(new QTableView(this)) {
  setUpViews();
  buildLayout();
  connect(class_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &SampleBrowser::applyFilter);
  connect(split_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &SampleBrowser::applyFilter);
  connect(search_, &QLineEdit::textChanged, this, &SampleBrowser::applyFilter);
  connect(flagged_, &QCheckBox::toggled, this, &SampleBrowser::applyFilter);
  flagged_->setToolTip(tr("Only the samples the Data issues check flagged"));
  flagged_->hide();
  connect(project_, &ProjectController::labelEditsChanged, this, &SampleBrowser::refreshOverrides);
  connect(project_, &ProjectController::projectReplaced, this, &SampleBrowser::refreshOverrides);
}

void SampleBrowser::setUpViews() {
  search_->setPlaceholderText(tr("Search file names or texts"));
  search_->setClearButtonEnabled(true);
  split_->addItem(tr("All splits"), -1);
  for (auto s : {core::Split::Train, core::Split::Val, core::Split::Test, core::Split::None})
    split_->addItem(QString::fromLatin1(core::splitName(s)), int(s));
  grid_->setModel(model_);
  class_->setSizeAdjustPolicy(QComboBox::AdjustToContents);  // the longest class name fits
  grid_->setViewMode(QListView::IconMode);
  grid_->setIconSize(QSize(SampleModel::kThumbnailSize, SampleModel::kThumbnailSize));
  grid_->setGridSize(QSize(kMinCellWidth, kCellHeight));
  grid_->viewport()->installEventFilter(this);  // cells widen to fill each row on resize
  // With the scroll bar "as needed", QListView lays out as if it were there anyway: keeping it
  // on makes the viewport's width the width the layout uses.
  grid_->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOn);
  grid_->setUniformItemSizes(true);  // lays out 60,000 items without asking each one
  grid_->setResizeMode(QListView::Adjust);
  grid_->setMovement(QListView::Static);
  grid_->setLayoutMode(QListView::Batched);
  table_->setModel(model_);
  table_->horizontalHeader()->setSectionResizeMode(SampleModel::kName, QHeaderView::Stretch);
  table_->verticalHeader()->setDefaultSectionSize(22);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  views_->addWidget(grid_);
  views_->addWidget(table_);
  detailImage_->setMinimumSize(kDetailSize, kDetailSize);
  detailImage_->setAlignment(Qt::AlignCenter);
  detailText_->setWordWrap(true);
  detailText_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  detailText_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  for (QAbstractItemView* v :
       {static_cast<QAbstractItemView*>(grid_), static_cast<QAbstractItemView*>(table_)}) {
    v->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(v, &QWidget::customContextMenuRequested, this,
            [this, v](const QPoint& pos) { contextMenu(v, pos); });
    connect(v, &QAbstractItemView::clicked, this, &SampleBrowser::showDetail);
  }
}

void SampleBrowser::buildLayout() {
  auto* filters = new QHBoxLayout;
  filters->addWidget(class_);
  filters->addWidget(split_);
  filters->addWidget(search_, 1);
  filters->addWidget(flagged_);
  filters->addWidget(count_);
  auto* detail = new QWidget(this);
  auto* detailLayout = new QVBoxLayout(detail);
  detailLayout->addWidget(detailImage_);
  detailLayout->addWidget(detailText_, 1);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(views_);
  split->addWidget(detail);
  split->setStretchFactor(0, 3);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(filters);
  layout->addWidget(split, 1);
}

SampleBrowser::~SampleBrowser() = default;

// Found by a new user: a fixed cell width left an empty band at the right of the grid. The
// columns that fit share the whole width instead.
bool SampleBrowser::eventFilter(QObject* watched, QEvent* event) {
  if (watched == grid_->viewport() && event->type() == QEvent::Resize) {
    // QListView wraps an item whose cell would reach the last pixel column: one pixel less.
    const int width = grid_->viewport()->width() - 1;
    const int columns = std::max(1, width / kMinCellWidth);
    const QSize cell(std::max(kMinCellWidth, width / columns), kCellHeight);
    if (grid_->gridSize() != cell) grid_->setGridSize(cell);
  }
  return QWidget::eventFilter(watched, event);
}

void SampleBrowser::setDataset(std::shared_ptr<const core::Dataset> dataset) {
  const bool text = dataset && dataset->modality == core::Modality::Text;
  views_->setCurrentWidget(text ? static_cast<QWidget*>(table_) : grid_);
  detailImage_->setVisible(!text);
  {
    QSignalBlocker block(class_);
    class_->clear();
    class_->addItem(tr("All classes"), -1);
    if (dataset) {
      for (size_t c = 0; c < dataset->numClasses(); ++c)
        class_->addItem(QString::fromStdString(dataset->classNames[c]), int(c));
    }
  }
  model_->setDataset(std::move(dataset));
  setFlaggedKeys({});  // findings were about the previous dataset
  refreshOverrides();
  applyFilter();
}

void SampleBrowser::setTrainingSplits(std::vector<core::Split> splits) {
  model_->setTrainingSplits(std::move(splits));
  // Only a split filter changes which rows show; otherwise keep the scroll position.
  if (split_->currentData().toInt() >= 0) applyFilter();
}

void SampleBrowser::setFlaggedKeys(const std::set<std::string>& keys) {
  flaggedKeys_ = keys;
  flaggedSamples_.clear();
  if (const auto ds = model_->dataset()) {
    for (size_t i = 0; i < ds->size() && !keys.empty(); ++i)
      if (keys.count(core::sampleKey(*ds, i))) flaggedSamples_.insert(i);
  }
  flagged_->setText(tr("Flagged only (%1)").arg(flaggedSamples_.size()));
  flagged_->setVisible(!keys.empty());
  if (keys.empty()) flagged_->setChecked(false);
  applyFilter();
}

void SampleBrowser::applyFilter() {
  model_->setOnly(flagged_->isChecked() ? std::optional(flaggedSamples_) : std::nullopt);
  const int s = split_->currentData().toInt();
  model_->setFilter(class_->currentData().toInt(),
                    s < 0 ? std::nullopt : std::optional<core::Split>(core::Split(s)),
                    search_->text());
  const auto ds = model_->dataset();
  count_->setText(tr("%1 of %2").arg(model_->rowCount()).arg(ds ? qlonglong(ds->size()) : 0));
}

void SampleBrowser::refreshOverrides() {
  const auto ds = model_->dataset();
  if (!ds) return;
  QHash<size_t, QString> overrides;
  const auto& edits = project_->project().labelEdits;
  if (!edits.empty()) {
    std::unordered_map<std::string, std::string> byKey;
    for (const auto& e : edits) byKey[e.sampleKey] = e.label;
    for (size_t i = 0; i < ds->size(); ++i) {
      const auto it = byKey.find(core::sampleKey(*ds, i));
      if (it != byKey.end()) overrides.insert(i, QString::fromStdString(it->second));
    }
  }
  model_->setLabelOverrides(overrides);
}

QString SampleBrowser::detailText() const { return detailText_->text(); }

void SampleBrowser::showDetail(const QModelIndex& index) {
  const auto ds = model_->dataset();
  if (!ds || !index.isValid()) return;
  const size_t i = index.data(SampleModel::kSampleRole).toULongLong();
  const core::Sample& s = ds->samples[i];
  detailText_->setText(
      tr("<b>%1</b><br>class: %2<br>split: %3<br>%4")
          .arg(s.path.empty() ? tr("sample %1").arg(i)
                              : QString::fromStdString(s.path).toHtmlEscaped(),
               model_->index(index.row(), SampleModel::kLabel).data().toString().toHtmlEscaped(),
               QString::fromLatin1(core::splitName(model_->splitOf(i))),
               QString::fromStdString(s.text.substr(0, 4000)).toHtmlEscaped()));
  if (ds->modality != core::Modality::Image) return;
  const qreal ratio = screenPixelRatio();
  detailTask_.start([ds, i, ratio] { return sampleImage(*ds, i, kDetailSize, ratio); },
                    [this](const QImage& img) {
                      if (img.isNull()) {
                        detailImage_->setText(tr("(cannot be decoded)"));
                      } else {
                        detailImage_->setPixmap(QPixmap::fromImage(img));
                      }
                    });
}

void SampleBrowser::contextMenu(QAbstractItemView* view, const QPoint& pos) {
  const QModelIndex index = view->indexAt(pos);
  const auto ds = model_->dataset();
  if (!index.isValid() || !ds) return;
  const std::string key = core::sampleKey(*ds, index.data(SampleModel::kSampleRole).toULongLong());
  QMenu menu(this);
  QMenu* relabel = menu.addMenu(tr("Relabel as"));
  for (const auto& name : ds->classNames) {
    relabel->addAction(QString::fromStdString(name), this,
                       [this, key, name] { project_->setLabel(key, name); });
  }
  menu.addAction(tr("Exclude from training and evaluation"), this,
                 [this, key] { project_->setLabel(key, ""); });
  menu.exec(view->viewport()->mapToGlobal(pos));
}

}  // namespace tlab::ui
