#pragma once
// Records frames from a FrameSource into a project-owned folder of class subfolders (an image
// folder dataset: ROOT/CLASS/*.jpg). Hold to record: startRecording(class) ... stopRecording();
// every such burst is one undoable step on the project's undo stack (undo moves its files aside,
// redo puts them back; an undone burst that is pushed off the stack is deleted). Classes are
// created on the fly. When the source fails mid-burst (camera unplugged) the frames already
// written are kept and the burst still becomes an undoable step. GUI thread only.
#include <QElapsedTimer>
#include <QImage>
#include <QMap>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QUndoStack>

namespace tlab::ui {

class FrameSource;

class CaptureController : public QObject {
  Q_OBJECT
 public:
  explicit CaptureController(QObject* parent = nullptr);
  ~CaptureController() override;

  /// The folder the classes are written into (created on the first frame).
  void setRoot(const QString& folder);
  QString root() const { return root_; }
  /// Where undo steps go; null: bursts are not undoable.
  void setUndoStack(QUndoStack* stack) { undo_ = stack; }
  /// At most this many frames per second are written while recording (a 30 fps camera held for
  /// two seconds gives 20 frames, not 60 near-duplicates).
  void setMaxRecordFps(double fps) { maxRecordFps_ = fps; }

  /// Takes ownership; the previous source is stopped and deleted. Does not start it.
  void setSource(FrameSource* source);
  FrameSource* source() const { return source_; }
  /// The last frame the source delivered (null before the first).
  QImage lastFrame() const { return last_; }

  /// A class name usable as a folder name, or empty with `error` set (names with path
  /// separators, leading dots or control characters are refused, not rewritten).
  static QString checkClassName(const QString& name, QString* error);
  bool startRecording(const QString& className, QString* error);
  /// Ends the burst; returns how many frames it wrote.
  int stopRecording();
  bool isRecording() const { return recording_; }
  QString recordingClass() const { return class_; }
  /// Frames per class currently on disk under root().
  QMap<QString, int> classCounts() const;

 signals:
  void frameArrived(const QImage& image);
  void frameRecorded(const QString& className, int framesInBurst);
  /// A burst ended with `count` frames (also when the source failed mid-burst).
  void recorded(const QString& className, int count);
  /// Files under root() changed: a burst, an undo or a redo.
  void capturesChanged();
  void sourceFailed(const QString& message);
  void sourceFinished();
  void recordingError(const QString& message);

 private:
  void onFrame(const QImage& image);
  QString root_;
  QPointer<QUndoStack> undo_;
  FrameSource* source_ = nullptr;
  QImage last_;
  bool recording_ = false;
  QString class_;
  QStringList burst_;
  QElapsedTimer sinceWrite_;
  double maxRecordFps_ = 10;
  int serial_ = 0;
};

}  // namespace tlab::ui
