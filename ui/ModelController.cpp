#include "ui/ModelController.h"

#include <QFutureWatcher>
#include <filesystem>

#include "core/model/FreezeSpec.h"
#include "core/train/TrainPlan.h"
#include "core/zoo/BackboneCatalog.h"
#include "ui/LayerTreeModel.h"
#include "ui/ProjectController.h"
#include "ui/Background.h"

namespace tlab::ui {
namespace {

// Worker thread: architecture of a catalog backbone, traced at its input size.
BuiltNetwork buildNetwork(const QString& id) {
  BuiltNetwork b;
  b.backbone = id;
  try {
    const auto catalog = core::BackboneCatalog::loadDefault();
    const core::BackboneEntry* e = catalog.find(id.toStdString());
    if (!e) {
      b.error = std::filesystem::is_regular_file(id.toStdString())
                    ? QObject::tr(
                          "%1 is a TorchScript file: its layers are shown once a run "
                          "has loaded it")
                          .arg(id)
                    : QObject::tr("Unknown backbone '%1'").arg(id);
      return b;
    }
    const int64_t classes = e->classNames.empty() ? 10 : int64_t(e->classNames.size());
    b.net = core::createArchitecture(e->architecture, classes, e->channels);
    b.tree = core::buildLayerTree(*b.net, e->inputSize, e->channels);
  } catch (const std::exception& ex) {
    b.error = QString::fromStdString(ex.what());
  }
  return b;
}

}  // namespace

ModelController::ModelController(ProjectController* project, QObject* parent)
    : QObject(parent),
      project_(project),
      model_(new LayerTreeModel(this)),
      watcher_(new QFutureWatcher<BuiltNetwork>(this)) {
  connect(watcher_, &QFutureWatcher<BuiltNetwork>::finished, this, &ModelController::onBuilt);
  connect(project_, &ProjectController::configChanged, this, [this] {
    rebuildIfNeeded();
    annotate();
  });
  connect(project_, &ProjectController::projectReplaced, this, [this] {
    rebuildIfNeeded();
    annotate();
  });
  connect(model_, &LayerTreeModel::freezeToggled, this, [this](const QString& path, bool frozen) {
    core::TrainConfig c = project_->project().config;
    c.freezeRules.push_back({path.toStdString(), frozen});
    project_->setConfig(c, (frozen ? tr("freeze %1") : tr("unfreeze %1")).arg(path));
  });
  connect(model_, &LayerTreeModel::lrMultiplierEdited, this, [this](const QString& path, double m) {
    core::TrainConfig c = project_->project().config;
    c.lrRules.push_back({path.toStdString(), m});
    project_->setConfig(c, tr("learning rate of %1 \u00d7 %2").arg(path).arg(m));
  });
  rebuildIfNeeded();
}

ModelController::~ModelController() { watcher_->waitForFinished(); }

bool ModelController::isBuilding() const { return watcher_->isRunning(); }

void ModelController::rebuildIfNeeded() {
  const QString id = QString::fromStdString(project_->project().config.backbone);
  if (id == built_ || id == building_) return;
  building_ = id;
  if (!watcher_->isRunning()) watcher_->setFuture(runGuarded([id] { return buildNetwork(id); }));
}

void ModelController::onBuilt() {
  BuiltNetwork b = watcher_->result();
  const QString wanted = QString::fromStdString(project_->project().config.backbone);
  if (b.backbone != wanted) {  // the user picked another backbone meanwhile
    building_ = wanted;
    watcher_->setFuture(runGuarded([wanted] { return buildNetwork(wanted); }));
    return;
  }
  building_.clear();
  built_ = b.backbone;
  if (!b.error.isEmpty()) {
    net_ = nullptr;
    model_->setTree({});
    emit failed(b.error);
    return;
  }
  net_ = b.net;
  tree_ = std::move(b.tree);
  model_->setTree(tree_);
  annotate();
  emit built(built_);
}

void ModelController::annotate() {
  if (!net_ || built_ != QString::fromStdString(project_->project().config.backbone)) return;
  const core::TrainConfig& c = project_->project().config;
  const auto phases = core::trainPhases(c);
  if (phases.empty()) return;
  // The main (last) phase at its start: what "fine-tune" trains.
  const core::FreezeSpec spec =
      core::phaseFreezeSpec(c, *net_, phases.back(), phases.back().firstEpoch);
  core::LayerNode tree = tree_;
  core::annotateLayerTree(tree, *net_, spec);
  model_->update(std::move(tree));
  emit totalsChanged(model_->root().trainableParams, model_->root().params);
}

std::vector<std::pair<QString, int>> ModelController::unfreezeTimeline() const {
  std::vector<std::pair<QString, int>> out;
  if (!net_) return out;
  const auto stages = net_->stages();
  const auto when = core::unfreezeEpochs(project_->project().config, *net_);
  for (size_t i = 0; i < stages.size(); ++i)
    out.emplace_back(QString::fromStdString(stages[i].name), when[i]);
  return out;
}

void ModelController::freezeBackbone() {
  core::TrainConfig c = project_->project().config;
  c.strategy = core::Strategy::LinearProbe;
  c.freezeRules.clear();
  c.gradualUnfreezeEvery = 0;
  project_->setConfig(c, tr("freeze backbone"));
}

void ModelController::unfreezeLastStages(int n) {
  core::TrainConfig c = project_->project().config;
  c.strategy = core::Strategy::FinetuneLast;
  c.finetuneStages = n;
  c.freezeRules.clear();
  project_->setConfig(c, tr("unfreeze last %1 stages").arg(n));
}

}  // namespace tlab::ui
