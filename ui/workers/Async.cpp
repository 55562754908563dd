#include "ui/workers/Async.h"

namespace tlab::ui {
namespace {
FutureSynchronizer* currentSynchronizer = nullptr;  // GUI thread only
}

FutureSynchronizer::~FutureSynchronizer() {
  cancelAndWait();
  if (currentSynchronizer == this) currentSynchronizer = nullptr;
}

void FutureSynchronizer::add(QFuture<void> future, CancelFlag cancel) {
  if (cancel) *cancel = true;
  prune();
  futures_.append({std::move(future), std::move(cancel)});
}

int FutureSynchronizer::pending() {
  prune();
  return int(futures_.size());
}

void FutureSynchronizer::cancelAndWait() {
  for (auto& [future, cancel] : futures_)
    if (cancel) *cancel = true;
  for (auto& entry : futures_) entry.first.waitForFinished();
  futures_.clear();
}

void FutureSynchronizer::prune() {
  futures_.removeIf([](const QPair<QFuture<void>, CancelFlag>& e) { return e.first.isFinished(); });
}

FutureSynchronizer* FutureSynchronizer::current() { return currentSynchronizer; }
void FutureSynchronizer::setCurrent(FutureSynchronizer* s) { currentSynchronizer = s; }

}  // namespace tlab::ui
