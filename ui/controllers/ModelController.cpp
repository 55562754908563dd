#include "ui/controllers/ModelController.h"

#include <filesystem>

#include "core/model/FreezeSpec.h"
#include "core/train/TrainPlan.h"
#include "core/zoo/BackboneCatalog.h"
#include "core/zoo/BackboneLoader.h"
#include "ui/controllers/ProjectController.h"
#include "ui/models/LayerTreeModel.h"
#include "ui/workers/Async.h"

namespace tlab::ui {
namespace {

// Worker thread: architecture of a catalog backbone with the head training will attach for
// `numClasses` classes (0: the dataset is not known yet, keep the backbone's own head), traced
// at its input size.
BuiltNetwork buildNetwork(const NetworkKey& key) {
  BuiltNetwork b;
  b.key = key;
  const QString id = key.backbone;
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
    const int64_t own = e->classNames.empty() ? 10 : int64_t(e->classNames.size());
    b.net = core::createArchitecture(e->architecture, own, e->channels);
    if (key.numClasses > 0) b.net->replaceHead(key.head);
    b.tree = core::buildLayerTree(*b.net, e->inputSize, e->channels);
  } catch (const std::exception& ex) {
    b.error = QString::fromStdString(ex.what());
  }
  return b;
}

}  // namespace

struct ModelController::DownloadJob {
  std::atomic<qint64> done{0}, total{-1};
};

ModelController::ModelController(ProjectController* project, QObject* parent)
    : QObject(parent), project_(project), model_(new LayerTreeModel(this)), build_(this) {
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
  downloadPoll_.setInterval(100);
  connect(&downloadPoll_, &QTimer::timeout, this, [this] {
    if (downloadJob_) emit downloadProgress(downloadJob_->done.load(), downloadJob_->total.load());
  });
  rebuildIfNeeded();
}

ModelController::~ModelController() = default;

bool ModelController::isBuilding() const { return build_.isRunning(); }

void ModelController::setNumClasses(int numClasses) {
  if (numClasses == numClasses_) return;
  numClasses_ = numClasses;
  rebuildIfNeeded();
  annotate();
}

NetworkKey ModelController::wantedKey() const {
  const core::TrainConfig& c = project_->project().config;
  NetworkKey k;
  k.backbone = QString::fromStdString(c.backbone);
  k.numClasses = numClasses_;
  if (numClasses_ > 0) k.head = core::headSpec(c, numClasses_);
  return k;
}

void ModelController::rebuildIfNeeded() {
  const NetworkKey k = wantedKey();
  if ((builtKey_ && *builtKey_ == k) || (building_ && *building_ == k)) return;
  building_ = k;
  // A build of another set-up still running is cancelled (its network is dropped).
  build_.start([k] { return buildNetwork(k); }, [this](BuiltNetwork b) { onBuilt(std::move(b)); });
}

void ModelController::onBuilt(BuiltNetwork b) {
  building_.reset();
  builtKey_ = b.key;
  built_ = b.key.backbone;
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
  if (!net_ || !builtKey_ || !(*builtKey_ == wantedKey())) return;
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

bool ModelController::isDownloading() const { return download_.isRunning(); }

void ModelController::downloadWeights(const QString& backbone) {
  if (download_.isRunning()) return;
  auto job = std::make_shared<DownloadJob>();
  downloadJob_ = job;
  const std::string id = backbone.toStdString();
  download_.start(
      [id, job](const std::atomic<bool>& cancelled) -> QString {
        const auto catalog = core::BackboneCatalog::loadDefault();
        core::DownloadOptions o;
        o.cancel = &cancelled;
        o.progress = [job](int64_t done, int64_t total) {
          job->done = done;
          job->total = total;
        };
        core::resolveWeights(catalog, catalog.get(id), true, o);
        return {};
      },
      [this](const QString& error) {
        downloadPoll_.stop();
        downloadJob_.reset();
        emit downloadFinished(error);
      });
  downloadPoll_.start();
}

void ModelController::cancelDownload() {
  if (!download_.isRunning()) return;
  download_.cancel();  // the transfer stops at its next chunk; the partial file is kept to resume
  downloadPoll_.stop();
  downloadJob_.reset();
  emit downloadFinished(tr("Download cancelled."));
}

}  // namespace tlab::ui
