#pragma once
// The one pattern for background work started from the GUI.
//
// - Async<R> owns one task at a time: start(work, onDone) runs `work` on Qt's global pool and
//   calls onDone(result) on the GUI thread; starting again, cancel() or the destructor cancels
//   the task (its result is dropped) without blocking: the still-running future goes to the
//   application's FutureSynchronizer (held by MainWindow), which cancels and waits for every
//   such future once, at shutdown. Without a synchronizer (unit tests) the destructor waits.
// - `work` may take `const std::atomic<bool>& cancelled`; core functions take it as their
//   `cancel` pointer and stop early.
// - runGuarded: an exception thrown by the work (a file that turns out bad, an allocation
//   failure) comes back as the task's *error result*. With plain QtConcurrent::run it would be
//   stored in the QFuture and rethrown by result() inside a slot, where Qt cannot handle it and
//   the application ends.
//
// The error result: a QString result is the message itself; a struct with `QString error` gets
// it set; a struct with `QStringList errors` gets it appended; a QVector of such structs gets
// one element carrying it; anything else comes back default-constructed (and the message goes
// to the log).
#include <QDebug>
#include <QFuture>
#include <QFutureWatcher>
#include <QList>
#include <QObject>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QtConcurrent/QtConcurrentRun>
#include <atomic>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

namespace tlab::ui {
namespace detail {

template <typename R, typename = void>
struct HasError : std::false_type {};
template <typename R>
struct HasError<R, std::void_t<decltype(std::declval<R&>().error = QString())>> : std::true_type {};

template <typename R, typename = void>
struct HasErrors : std::false_type {};
template <typename R>
struct HasErrors<R, std::void_t<decltype(std::declval<R&>().errors << QString())>>
    : std::true_type {};

template <typename R>
struct IsVectorOfErrorItems : std::false_type {};
template <typename T>
struct IsVectorOfErrorItems<QVector<T>> : HasError<T> {};

template <typename R>
R failedResult(const QString& message) {
  if constexpr (std::is_same_v<R, QString>) {
    return message;
  } else if constexpr (HasError<R>::value) {
    R r{};
    r.error = message;
    return r;
  } else if constexpr (HasErrors<R>::value) {
    R r{};
    r.errors << message;
    return r;
  } else if constexpr (IsVectorOfErrorItems<R>::value) {
    typename R::value_type item{};
    item.error = message;
    return R{item};
  } else {
    return R{};
  }
}

}  // namespace detail

/// QtConcurrent::run(work) on the global pool, with every exception turned into the error
/// result described above. `work` takes no arguments (capture what it needs by value).
template <typename Work>
auto runGuarded(Work work) {
  using R = std::invoke_result_t<Work&>;
  return QtConcurrent::run([work = std::move(work)]() mutable -> R {
    QString message;
    try {
      return work();
    } catch (const std::exception& e) {
      message = QString::fromUtf8(e.what());
    } catch (...) {
      message = QStringLiteral("unexpected error (not a std::exception)");
    }
    qWarning().noquote() << "background task failed:" << message;
    return detail::failedResult<R>(message);
  });
}

using CancelFlag = std::shared_ptr<std::atomic<bool>>;

/// Owns the futures of cancelled tasks that were still running, and at shutdown (its destructor,
/// or cancelAndWait) cancels and waits for all of them. MainWindow holds the application's one
/// instance and makes it current().
class FutureSynchronizer {
 public:
  FutureSynchronizer() = default;
  ~FutureSynchronizer();
  FutureSynchronizer(const FutureSynchronizer&) = delete;
  FutureSynchronizer& operator=(const FutureSynchronizer&) = delete;

  /// Keeps `future` until it finishes or shutdown; `cancel` is set now.
  void add(QFuture<void> future, CancelFlag cancel);
  /// Futures not finished yet.
  int pending();
  void cancelAndWait();

  static FutureSynchronizer* current();
  /// Makes `s` the current synchronizer (nullptr: none).
  static void setCurrent(FutureSynchronizer* s);

 private:
  void prune();
  QList<QPair<QFuture<void>, CancelFlag>> futures_;
};

template <typename R>
class Async {
 public:
  /// `context`: the QObject whose thread runs onDone; it must outlive this (make Async a member).
  explicit Async(QObject* context) : context_(context) {}
  ~Async() { cancel(); }
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;

  /// Runs `work` (callable as work() or work(const std::atomic<bool>& cancelled)) through
  /// runGuarded; onDone(R) runs on the GUI thread when it finishes, unless it was cancelled
  /// first. A task still running is cancelled.
  template <typename Work, typename Done>
  void start(Work work, Done onDone) {
    cancel();
    auto flag = std::make_shared<std::atomic<bool>>(false);
    cancel_ = flag;
    watcher_ = new QFutureWatcher<R>();
    QObject::connect(watcher_, &QFutureWatcherBase::finished, context_,
                     [this, onDone = std::move(onDone)]() mutable {
                       QFutureWatcher<R>* w = std::exchange(watcher_, nullptr);
                       cancel_.reset();
                       w->deleteLater();
                       onDone(w->result());
                     });
    if constexpr (std::is_invocable_v<Work&, const std::atomic<bool>&>) {
      watcher_->setFuture(
          runGuarded([work = std::move(work), flag]() mutable { return work(*flag); }));
    } else {
      watcher_->setFuture(runGuarded(std::move(work)));
    }
  }

  /// Cancels the running task, if any: its result is dropped and onDone is not called. Never
  /// blocks while a synchronizer is current.
  void cancel() {
    if (!watcher_) return;
    QFutureWatcher<R>* w = std::exchange(watcher_, nullptr);
    w->disconnect();
    *cancel_ = true;
    const QFuture<void> future(w->future());
    if (!future.isFinished()) {
      if (auto* sync = FutureSynchronizer::current())
        sync->add(future, cancel_);
      else
        w->waitForFinished();
    }
    cancel_.reset();
    delete w;
  }

  /// True from start() until onDone has run (or the task was cancelled).
  bool isRunning() const { return watcher_ != nullptr; }

 private:
  QObject* context_;
  QFutureWatcher<R>* watcher_ = nullptr;
  CancelFlag cancel_;
};

}  // namespace tlab::ui
