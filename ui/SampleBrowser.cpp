#include "ui/SampleBrowser.h"
#include "ui/TorchQt.h"  // first: LibTorch before any Qt header

#include <QComboBox>
#include <QFutureWatcher>
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
#include "ui/ProjectController.h"
#include "ui/SampleModel.h"
#include "ui/Thumbnail.h"
#include "ui/Background.h"

namespace tlab::ui {
namespace {

constexpr int kDetailSize = 320;

}  // namespace

SampleBrowser::SampleBrowser(ProjectController* project, QWidget* parent)
    : QWidget(parent),
      project_(project),
      model_(new SampleModel(this)),
      class_(new QComboBox(this)),
      split_(new QComboBox(this)),
      search_(new QLineEdit(this)),
      count_(new QLabel(this)),
      detailImage_(new QLabel(this)),
      detailText_(new QLabel(this)),
      views_(new QStackedWidget(this)),
      grid_(new QListView(this)),
      table_(new QTableView(this)),
      detailGeneration_(std::make_shared<int>(0)) {
  search_->setPlaceholderText(tr("Search file names or texts"));
  search_->setClearButtonEnabled(true);
  split_->addItem(tr("All splits"), -1);
  for (auto s : {core::Split::Train, core::Split::Val, core::Split::Test, core::Split::None})
    split_->addItem(QString::fromLatin1(core::splitName(s)), int(s));
  grid_->setModel(model_);
  class_->setSizeAdjustPolicy(QComboBox::AdjustToContents);  // the longest class name fits
  grid_->setViewMode(QListView::IconMode);
  grid_->setIconSize(QSize(SampleModel::kThumbnailSize, SampleModel::kThumbnailSize));
  grid_->setGridSize(QSize(SampleModel::kThumbnailSize + 24, SampleModel::kThumbnailSize + 44));
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

  auto* filters = new QHBoxLayout;
  filters->addWidget(class_);
  filters->addWidget(split_);
  filters->addWidget(search_, 1);
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

  connect(class_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &SampleBrowser::applyFilter);
  connect(split_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &SampleBrowser::applyFilter);
  connect(search_, &QLineEdit::textChanged, this, &SampleBrowser::applyFilter);
  connect(project_, &ProjectController::labelEditsChanged, this, &SampleBrowser::refreshOverrides);
  connect(project_, &ProjectController::projectReplaced, this, &SampleBrowser::refreshOverrides);
}

SampleBrowser::~SampleBrowser() { ++*detailGeneration_; }

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
  refreshOverrides();
  applyFilter();
}

void SampleBrowser::setTrainingSplits(std::vector<core::Split> splits) {
  model_->setTrainingSplits(std::move(splits));
  // Only a split filter changes which rows show; otherwise keep the scroll position.
  if (split_->currentData().toInt() >= 0) applyFilter();
}

void SampleBrowser::applyFilter() {
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
  const int generation = ++*detailGeneration_;
  auto gen = detailGeneration_;
  auto* watcher = new QFutureWatcher<QImage>(this);
  connect(watcher, &QFutureWatcher<QImage>::finished, this, [this, watcher, generation, gen] {
    watcher->deleteLater();
    if (generation != *gen) return;
    const QImage img = watcher->result();
    if (img.isNull()) {
      detailImage_->setText(tr("(cannot be decoded)"));
    } else {
      detailImage_->setPixmap(QPixmap::fromImage(img));
    }
  });
  const qreal ratio = screenPixelRatio();
  watcher->setFuture(
      runGuarded([ds, i, ratio] { return sampleImage(*ds, i, kDetailSize, ratio); }));
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
