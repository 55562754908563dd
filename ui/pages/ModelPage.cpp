#include "ui/pages/ModelPage.h"
#include "ui/workers/TorchQt.h"  // first: LibTorch before any Qt header

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTimer>
#include <QTreeView>
#include <QVBoxLayout>

#include "core/util/Trust.h"
#include "core/zoo/BackboneLoader.h"
#include "ui/controllers/ModelController.h"
#include "ui/controllers/ProjectController.h"
#include "ui/models/LayerTreeModel.h"
#include "ui/workers/Async.h"

namespace tlab::ui {

namespace {

QString cardText(const core::BackboneEntry& e, bool cached) {
  const QLocale l;
  const QString input = e.isText() ? QObject::tr("%1 tokens").arg(e.inputSize)
                                   : QObject::tr("%1 px").arg(e.inputSize);
  QString source = QObject::tr("random init");
  if (e.weights) {
    source = e.weights->bundled        ? QObject::tr("bundled")
             : cached                  ? QObject::tr("cached")
             : !e.weights->url.empty() ? QObject::tr("download")
                                       : QObject::tr("run scripts/fetch-weights");
  }
  return QObject::tr("%1\n%2 parameters \u00b7 %3 \u00b7 %4 \u00b7 weights: %5")
      .arg(QString::fromStdString(e.name), l.toString(qlonglong(e.parameters)),
           QString::fromStdString(e.modality), input, source);
}

}  // namespace

ModelPage::ModelPage(ProjectController* project, ModelController* model, QWidget* parent)
    : QWidget(parent),
      project_(project),
      model_(model),
      backbones_(new QListWidget(this)),
      download_(new QPushButton(tr("Download weights"), this)),
      import_(new QPushButton(tr("Import TorchScript\u2026"), this)),
      downloadProgress_(new QProgressBar(this)),
      tree_(new QTreeView(this)),
      totals_(new QLabel(this)),
      timeline_(new QLabel(this)),
      message_(new QLabel(this)),
      lastStages_(new QSpinBox(this)),
      gradual_(new QSpinBox(this)),
      headHidden_(new QSpinBox(this)),
      bnPolicy_(new QComboBox(this)),
      headKind_(new QComboBox(this)),
      dropout_(new QDoubleSpinBox(this)) {
  setUpControls();
  buildLayout();
  fillCatalog();
  connectControls();
  showConfig();
}

void ModelPage::setUpControls() {
  backbones_->setWordWrap(true);
  backbones_->setMinimumWidth(260);
  backbones_->setSpacing(2);
  downloadProgress_->hide();
  tree_->setModel(model_->model());
  tree_->setAlternatingRowColors(true);
  tree_->header()->setSectionResizeMode(LayerTreeModel::kName, QHeaderView::ResizeToContents);
  tree_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
  tree_->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(tree_, &QTreeView::customContextMenuRequested, this, [this](const QPoint& pos) {
    const core::LayerNode* node = model_->model()->node(tree_->indexAt(pos));
    if (!node || node->path.empty()) return;
    const QString path = QString::fromStdString(node->path);
    QMenu menu(this);
    menu.addAction(tr("Explain predictions at %1 (Grad-CAM)").arg(path), this,
                   [this, path] { emit explainLayerRequested(path); });
    menu.exec(tree_->viewport()->mapToGlobal(pos));
  });
  message_->setWordWrap(true);
  timeline_->setWordWrap(true);
  lastStages_->setRange(0, 64);
  lastStages_->setValue(2);
  gradual_->setRange(0, 100);
  gradual_->setSpecialValueText(tr("off"));
  gradual_->setToolTip(tr("Unfreeze one more backbone stage (from the top) every N epochs"));
  bnPolicy_->addItem(tr("Frozen layers keep their statistics"),
                     int(core::BatchNormPolicy::FollowFreeze));
  bnPolicy_->addItem(tr("Statistics always update"), int(core::BatchNormPolicy::AlwaysTrain));
  bnPolicy_->addItem(tr("Statistics never update"), int(core::BatchNormPolicy::AlwaysFrozen));
  bnPolicy_->setToolTip(
      tr("BatchNorm running statistics during training. Freezing them helps "
         "with small batches and small datasets."));
  headKind_->addItem(tr("Linear"), int(core::HeadSpec::Kind::Linear));
  headKind_->addItem(tr("MLP (one hidden layer)"), int(core::HeadSpec::Kind::Mlp));
  headHidden_->setRange(8, 8192);
  dropout_->setRange(0, 0.9);
  dropout_->setSingleStep(0.05);
}

void ModelPage::buildLayout() {
  auto* freezeAll = new QPushButton(tr("Freeze backbone"), this);
  auto* unfreeze = new QPushButton(tr("Unfreeze last"), this);
  auto* actions = new QHBoxLayout;
  actions->addWidget(freezeAll);
  actions->addWidget(unfreeze);
  actions->addWidget(lastStages_);
  actions->addWidget(new QLabel(tr("stages"), this));
  actions->addStretch();
  auto* options = new QGroupBox(tr("Training set-up"), this);
  auto* form = new QFormLayout(options);
  form->addRow(tr("BatchNorm"), bnPolicy_);
  form->addRow(tr("Gradual unfreezing every"), gradual_);
  form->addRow(tr("Timeline"), timeline_);
  form->addRow(tr("Head"), headKind_);
  form->addRow(tr("Head hidden units"), headHidden_);
  form->addRow(tr("Head dropout"), dropout_);

  auto* left = new QWidget(this);
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->addWidget(new QLabel(tr("<b>Backbones</b>"), this));
  leftLayout->addWidget(backbones_, 1);
  leftLayout->addWidget(download_);
  leftLayout->addWidget(downloadProgress_);
  leftLayout->addWidget(import_);
  auto* right = new QWidget(this);
  auto* rightLayout = new QVBoxLayout(right);
  rightLayout->setContentsMargins(0, 0, 0, 0);
  rightLayout->addWidget(totals_);
  rightLayout->addWidget(message_);
  rightLayout->addLayout(actions);
  rightLayout->addWidget(tree_, 1);
  rightLayout->addWidget(options);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->setObjectName(QStringLiteral("modelSplitter"));
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(1, 3);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(split);
  connect(freezeAll, &QPushButton::clicked, model_, &ModelController::freezeBackbone);
  connect(unfreeze, &QPushButton::clicked, this,
          [this] { model_->unfreezeLastStages(lastStages_->value()); });
}

void ModelPage::connectControls() {
  connect(backbones_, &QListWidget::currentRowChanged, this, [this](int row) {
    if (updating_ || row < 0) return;
    core::TrainConfig c = project_->project().config;
    c.backbone = backbones_->item(row)->data(Qt::UserRole).toString().toStdString();
    c.freezeRules.clear();
    c.lrRules.clear();
    project_->setConfig(c, tr("choose backbone %1").arg(QString::fromStdString(c.backbone)));
  });
  connect(import_, &QPushButton::clicked, this, &ModelPage::importTorchScript);
  connect(download_, &QPushButton::clicked, this, [this] {
    if (model_->isDownloading()) {
      model_->cancelDownload();
    } else if (backbones_->currentItem()) {
      model_->downloadWeights(backbones_->currentItem()->data(Qt::UserRole).toString());
      downloadProgress_->setRange(0, 0);
      downloadProgress_->show();
      download_->setText(tr("Cancel download"));
    }
  });
  connect(model_, &ModelController::downloadProgress, this, [this](qint64 done, qint64 total) {
    if (total <= 0) return;
    downloadProgress_->setRange(0, 1000);
    downloadProgress_->setValue(int(1000 * done / total));
  });
  connect(model_, &ModelController::downloadFinished, this, [this](const QString& error) {
    message_->setText(error.isEmpty() ? tr("Weights downloaded.") : error);
    downloadProgress_->hide();
    download_->setText(tr("Download weights"));
    fillCatalog();
    showConfig();
  });
  connectEdits();
  connect(model_, &ModelController::totalsChanged, this, [this](qint64 trainable, qint64 total) {
    const QLocale l;
    totals_->setText(
        tr("<b>%1</b> trainable \u00b7 %2 frozen \u00b7 %3 parameters (%4% trained)")
            .arg(l.toString(trainable), l.toString(total - trainable), l.toString(total))
            .arg(total ? 100.0 * double(trainable) / double(total) : 0, 0, 'f', 1));
    showTimeline();
  });
  connect(model_, &ModelController::built, this, [this] {
    message_->clear();
    tree_->expandToDepth(0);
  });
  connect(model_, &ModelController::failed, message_, &QLabel::setText);
  connect(project_, &ProjectController::configChanged, this, &ModelPage::showConfig);
  connect(project_, &ProjectController::projectReplaced, this, &ModelPage::showConfig);
}

void ModelPage::importTorchScript() {
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Import a TorchScript backbone (runs code: trusted files only)"), QString(),
      tr("TorchScript (*.pt *.pth *.ts)"));
  if (path.isEmpty()) return;
  const auto answer = QMessageBox::question(
      this, tr("Trust this TorchScript file?"),
      tr("Loading %1 can run arbitrary code on this computer. Import it only if you trust "
         "where it came from.")
          .arg(path),
      QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
  if (answer != QMessageBox::Yes) return;
  core::trustFile(path.toStdString());
  core::TrainConfig c = project_->project().config;
  c.backbone = path.toStdString();
  project_->setConfig(c, tr("import TorchScript backbone"));
}

// Each option edits the project's config (undoable).
void ModelPage::connectEdits() {
  auto edit = [this](const QString& what, auto apply) {
    return [this, what, apply] {
      if (updating_) return;
      core::TrainConfig c = project_->project().config;
      apply(c);
      project_->setConfig(c, what);
    };
  };
  connect(bnPolicy_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          edit(tr("change BatchNorm policy"), [this](core::TrainConfig& c) {
            c.batchNorm = core::BatchNormPolicy(bnPolicy_->currentData().toInt());
          }));
  connect(gradual_, qOverload<int>(&QSpinBox::valueChanged), this,
          edit(tr("change gradual unfreezing"),
               [this](core::TrainConfig& c) { c.gradualUnfreezeEvery = gradual_->value(); }));
  connect(headKind_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          edit(tr("change head"), [this](core::TrainConfig& c) {
            c.head = core::HeadSpec::Kind(headKind_->currentData().toInt());
          }));
  connect(headHidden_, qOverload<int>(&QSpinBox::valueChanged), this,
          edit(tr("change head size"),
               [this](core::TrainConfig& c) { c.headHidden = headHidden_->value(); }));
  connect(dropout_, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
          edit(tr("change head dropout"),
               [this](core::TrainConfig& c) { c.dropout = dropout_->value(); }));
}

QString ModelPage::totalsText() const { return totals_->text(); }

void ModelPage::fillCatalog() {
  backbones_->clear();
  try {
    const auto catalog = core::BackboneCatalog::loadDefault();
    for (const auto& e : catalog.entries()) {
      auto* item =
          new QListWidgetItem(cardText(e, core::weightsAvailableOffline(catalog, e)), backbones_);
      item->setData(Qt::UserRole, QString::fromStdString(e.id));
      item->setToolTip(QString::fromStdString(e.description + "\n\nLicence: " + e.licence));
    }
  } catch (const std::exception& ex) {
    message_->setText(tr("Could not read the backbone catalog: %1").arg(ex.what()));
  }
}

void ModelPage::showConfig() {
  updating_ = true;
  const core::TrainConfig& c = project_->project().config;
  for (int i = 0; i < backbones_->count(); ++i) {
    if (backbones_->item(i)->data(Qt::UserRole).toString().toStdString() == c.backbone)
      backbones_->setCurrentRow(i);
  }
  bnPolicy_->setCurrentIndex(bnPolicy_->findData(int(c.batchNorm)));
  gradual_->setValue(c.gradualUnfreezeEvery);
  headKind_->setCurrentIndex(headKind_->findData(int(c.head)));
  headHidden_->setValue(int(c.headHidden));
  headHidden_->setEnabled(c.head == core::HeadSpec::Kind::Mlp);
  dropout_->setValue(c.dropout);
  updating_ = false;
  showTimeline();
}

void ModelPage::showTimeline() {
  QStringList parts;
  for (const auto& [stage, epoch] : model_->unfreezeTimeline())
    parts << (epoch ? tr("%1 from epoch %2").arg(stage).arg(epoch) : tr("%1 frozen").arg(stage));
  timeline_->setText(parts.join(QStringLiteral(" \u00b7 ")));
}

}  // namespace tlab::ui
