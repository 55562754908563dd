#pragma once
// Background work started from the GUI goes through runGuarded: an exception thrown by the work
// (a file that turns out bad, an allocation failure) comes back as the task's *error result*.
// With plain QtConcurrent::run it would be stored in the QFuture and rethrown by result() inside
// a slot, where Qt cannot handle it and the application ends.
//
// The error result: a QString result is the message itself; a struct with `QString error` gets
// it set; a struct with `QStringList errors` gets it appended; a QVector of such structs gets
// one element carrying it; anything else comes back default-constructed (and the message goes
// to the log).
#include <QDebug>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QtConcurrent/QtConcurrentRun>
#include <exception>
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

}  // namespace tlab::ui
