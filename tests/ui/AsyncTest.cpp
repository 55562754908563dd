// Async, FutureSynchronizer and runGuarded: the one pattern for background work in ui/.
#include <gtest/gtest.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFuture>
#include <QObject>
#include <QStringList>
#include <QTest>
#include <QThread>
#include <QVector>
#include <atomic>
#include <new>
#include <stdexcept>
#include <thread>

#include "ui/workers/Async.h"

using tlab::ui::Async;
using tlab::ui::FutureSynchronizer;
using tlab::ui::runGuarded;

namespace {
struct WithError {
  int value = 0;
  QString error;
};
struct WithErrors {
  QStringList errors;
};
struct Plain {
  int value = 7;
};
}  // namespace

TEST(Background, ResultOfWorkThatSucceedsIsPassedThrough) {
  auto f = runGuarded([] { return WithError{42, {}}; });
  EXPECT_EQ(f.result().value, 42);
  EXPECT_TRUE(f.result().error.isEmpty());
}

TEST(Background, ExceptionBecomesTheErrorField) {
  auto f = runGuarded([]() -> WithError { throw std::runtime_error("data/b.png: truncated"); });
  EXPECT_EQ(f.result().error, QStringLiteral("data/b.png: truncated"));
}

TEST(Background, AllocationFailureBecomesAnErrorMessageToo) {
  auto f = runGuarded([]() -> QString { throw std::bad_alloc(); });
  EXPECT_FALSE(f.result().isEmpty());  // a QString result is the message itself
}

TEST(Background, ErrorListsAndVectorsCarryTheMessage) {
  auto list = runGuarded([]() -> WithErrors { throw std::runtime_error("x"); });
  EXPECT_EQ(list.result().errors, QStringList{QStringLiteral("x")});
  auto vec = runGuarded([]() -> QVector<WithError> { throw std::runtime_error("y"); });
  ASSERT_EQ(vec.result().size(), 1);
  EXPECT_EQ(vec.result()[0].error, QStringLiteral("y"));
}

TEST(Background, NonStandardExceptionsAreCaughtAndOtherResultsAreDefault) {
  auto f = runGuarded([]() -> Plain { throw 3; });
  EXPECT_EQ(f.result().value, 7);
}

namespace {
// Work that runs until it is cancelled (or 10 s pass), counting how it ended.
int untilCancelled(const std::atomic<bool>& cancelled, std::atomic<int>* stopped) {
  QElapsedTimer clock;
  clock.start();
  while (!cancelled && clock.elapsed() < 10000) std::this_thread::yield();
  if (cancelled) ++*stopped;
  return -1;
}
}  // namespace

TEST(Async, DeliversTheResultOnTheContextThread) {
  QObject context;
  Async<int> task(&context);
  int got = 0;
  Qt::HANDLE thread = nullptr;
  task.start([] { return 41 + 1; },
             [&](int v) {
               got = v;
               thread = QThread::currentThreadId();
             });
  EXPECT_TRUE(task.isRunning());
  ASSERT_TRUE(QTest::qWaitFor([&] { return got != 0; }, 5000));
  EXPECT_EQ(got, 42);
  EXPECT_EQ(thread, QThread::currentThreadId());
  EXPECT_FALSE(task.isRunning());
}

TEST(Async, StartingAgainCancelsTheRunningTaskAndDropsItsResult) {
  QObject context;
  FutureSynchronizer sync;
  FutureSynchronizer::setCurrent(&sync);
  std::atomic<int> stopped{0};
  QList<int> results;
  {
    Async<int> task(&context);
    task.start([&](const std::atomic<bool>& c) { return untilCancelled(c, &stopped); },
               [&](int v) { results << v; });
    task.start([] { return 7; }, [&](int v) { results << v; });
    ASSERT_TRUE(QTest::qWaitFor([&] { return !results.isEmpty(); }, 5000));
  }
  EXPECT_EQ(results, QList<int>{7});
  ASSERT_TRUE(QTest::qWaitFor([&] { return sync.pending() == 0; }, 5000));
  EXPECT_EQ(stopped.load(), 1) << "the first task saw its cancel flag";
  FutureSynchronizer::setCurrent(nullptr);
}

TEST(Async, DestroyingHandsARunningTaskToTheSynchronizerWithoutBlocking) {
  QObject context;
  std::atomic<int> stopped{0};
  bool delivered = false;
  {
    FutureSynchronizer sync;
    FutureSynchronizer::setCurrent(&sync);
    {
      Async<int> task(&context);
      task.start([&](const std::atomic<bool>& c) { return untilCancelled(c, &stopped); },
                 [&](int) { delivered = true; });
      QElapsedTimer clock;
      clock.start();
      // ~Async runs here: cancel, hand over, return.
      task.cancel();
      EXPECT_LT(clock.elapsed(), 200);
    }
    EXPECT_LE(sync.pending(), 1);
    FutureSynchronizer::setCurrent(nullptr);
  }  // ~FutureSynchronizer waits for the task
  EXPECT_EQ(stopped.load(), 1);
  QCoreApplication::processEvents();
  EXPECT_FALSE(delivered);
}

TEST(Async, WithoutASynchronizerDestroyingWaitsForTheTask) {
  QObject context;
  std::atomic<int> stopped{0};
  {
    Async<int> task(&context);
    task.start([&](const std::atomic<bool>& c) { return untilCancelled(c, &stopped); }, [](int) {});
  }
  EXPECT_EQ(stopped.load(), 1) << "the task had ended when ~Async returned";
}

TEST(Async, AnExceptionInTheWorkArrivesAsTheErrorResult) {
  QObject context;
  Async<WithError> task(&context);
  QString error;
  task.start([]() -> WithError { throw std::runtime_error("b.png: truncated"); },
             [&](const WithError& r) { error = r.error; });
  ASSERT_TRUE(QTest::qWaitFor([&] { return !error.isEmpty(); }, 5000));
  EXPECT_EQ(error, QStringLiteral("b.png: truncated"));
}
