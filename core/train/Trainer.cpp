#include "core/train/Trainer.h"
#include "core/train/TrainPlan.h"

#include <c10/util/Exception.h>

#include "core/Errors.h"
#include "core/train/TrainingSession.h"

namespace tlab::core {

ModelBundleInfo bundleInfo(const TrainResult& r, const TrainConfig& c) {
  ModelBundleInfo info;
  info.architecture = r.architecture;
  info.backbone = c.backbone;
  info.head = headSpec(c, int64_t(r.classNames.size()));
  info.classNames = r.classNames;
  info.preprocess = r.preprocess;
  info.temperature = r.calibration.temperature;
  info.ood = r.calibration.ood;
  return info;
}

const char* runStateName(RunState s) { return kRunStateNames.name(s); }

Trainer::Trainer(TrainConfig config, std::shared_ptr<const Dataset> dataset,
                 std::filesystem::path runDir, TrainerObserver* observer)
    : config_(std::move(config)),
      dataset_(std::move(dataset)),
      runDir_(std::move(runDir)),
      observer_(observer) {}

Trainer::~Trainer() {
  cancel();
  join();
}

void Trainer::start(bool resume) {
  if (thread_.joinable()) throw InvalidArgument("Trainer::start: already started");
  running_ = true;
  thread_ = std::thread([this, resume] {
    std::string error;
    try {
      SessionOutput out =
          runTrainingSession(config_, dataset_, runDir_, resume, control_, observer_, distributed_);
      result_ = std::move(out.result);
      model_ = out.model;
    } catch (const c10::Error& e) {
      error = std::string("libtorch: ") + e.what_without_backtrace();
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown error";
    }
    if (!error.empty()) {
      result_.state = RunState::Failed;
      result_.error = error;
    }
    running_ = false;
    if (observer_) {
      observer_->onStatus(
          {result_.state, result_.state == RunState::Failed ? error : std::string()});
    }
  });
}

void Trainer::pause() { control_.pause = true; }

void Trainer::resume() {
  {
    std::lock_guard<std::mutex> lock(control_.mutex);
    control_.pause = false;
  }
  control_.wake.notify_all();
}

void Trainer::cancel() {
  {
    std::lock_guard<std::mutex> lock(control_.mutex);
    control_.cancel = true;
  }
  control_.wake.notify_all();
}

void Trainer::join() {
  if (thread_.joinable()) thread_.join();
}

void Trainer::setLearningRate(double lr) {
  std::lock_guard<std::mutex> lock(control_.mutex);
  control_.commands.push_back({TrainerControl::Command::Kind::SetLearningRate, lr, "", false});
}

void Trainer::setFrozen(const std::string& path, bool frozen) {
  std::lock_guard<std::mutex> lock(control_.mutex);
  control_.commands.push_back({TrainerControl::Command::Kind::SetFrozen, 0, path, frozen});
}

}  // namespace tlab::core
