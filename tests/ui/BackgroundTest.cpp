// runGuarded: an exception thrown by background work comes back as the task's error result, so
// reading the future in a slot can never rethrow into the event loop.
#include <gtest/gtest.h>

#include <QFuture>
#include <QStringList>
#include <QVector>
#include <new>
#include <stdexcept>

#include "ui/Background.h"

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
