#include "ui/capture/CaptureController.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QImageWriter>
#include <QSaveFile>
#include <QUndoCommand>
#include <QUndoStack>

#include "core/image/ImageDecoder.h"
#include "ui/capture/FrameSource.h"

namespace tlab::ui {
namespace {

// One recorded burst. The files exist when the command is pushed, so the first redo() does
// nothing; undo() moves them into a hidden sibling of the capture folder (never inside it, where
// the folder reader would take the trash for a class) and redo() moves them back.
class CaptureCommand : public QUndoCommand {
 public:
  CaptureCommand(QPointer<CaptureController> owner, QString root, QString className,
                 QStringList files)
      : owner_(std::move(owner)),
        root_(std::move(root)),
        files_(std::move(files)),
        trash_(trashFolder(root_)) {
    setText(QObject::tr("record %1 %2 into \u201c%3\u201d")
                .arg(files_.size())
                .arg(files_.size() == 1 ? QObject::tr("frame") : QObject::tr("frames"))
                .arg(className));
  }
  ~CaptureCommand() override {
    if (undone_) QDir(trash_).removeRecursively();  // undone and dropped from the stack: gone
  }
  void redo() override {
    if (!first_) move(trash_, root_);
    first_ = false;
    undone_ = false;
    notify();
  }
  void undo() override {
    move(root_, trash_);
    undone_ = true;
    notify();
  }

 private:
  static QString trashFolder(const QString& root) {
    const QFileInfo r(root);
    static int serial = 0;
    return r.dir().filePath(QStringLiteral(".%1-undo/%2-%3")
                                .arg(r.fileName())
                                .arg(QDateTime::currentMSecsSinceEpoch())
                                .arg(++serial));
  }
  // Moves every file of the burst from below `from` to the same relative place below `to`.
  void move(const QString& from, const QString& to) {
    for (const QString& f : files_) {
      const QString src = QDir(from).filePath(f), dst = QDir(to).filePath(f);
      QDir().mkpath(QFileInfo(dst).absolutePath());
      QFile::rename(src, dst);
    }
    QDir(from).rmdir(QFileInfo(QDir(from).filePath(files_.value(0))).dir().dirName());
  }
  void notify() {
    if (owner_) emit owner_->capturesChanged();
  }
  QPointer<CaptureController> owner_;
  QString root_;
  QStringList files_;  ///< relative to the root: CLASS/FILE.jpg
  QString trash_;
  bool first_ = true, undone_ = false;
};

}  // namespace

CaptureController::CaptureController(QObject* parent) : QObject(parent) {}

CaptureController::~CaptureController() {
  if (recording_) stopRecording();
  delete source_;
}

void CaptureController::setRoot(const QString& folder) {
  if (recording_) stopRecording();
  root_ = folder;
}

void CaptureController::setSource(FrameSource* source) {
  if (recording_) stopRecording();
  if (source_) {
    source_->disconnect(this);
    source_->stop();
    source_->deleteLater();
  }
  source_ = source;
  last_ = QImage();
  if (!source_) return;
  source_->setParent(this);
  connect(source_, &FrameSource::frame, this, &CaptureController::onFrame);
  connect(source_, &FrameSource::failed, this, [this](const QString& message) {
    if (recording_) stopRecording();  // what was written stays, as one undoable step
    emit sourceFailed(message);
  });
  connect(source_, &FrameSource::finished, this, [this] {
    if (recording_) stopRecording();
    emit sourceFinished();
  });
}

QString CaptureController::checkClassName(const QString& name, QString* error) {
  const QString n = name.trimmed();
  QString why;
  if (n.isEmpty())
    why = tr("Type a class name.");
  else if (n.startsWith(QLatin1Char('.')))
    why = tr("A class name cannot start with a dot.");
  else if (n.size() > 100)
    why = tr("A class name can have at most 100 characters.");
  else
    for (const QChar c : n)
      if (c.category() == QChar::Other_Control || QStringLiteral("/\\:*?\"<>|").contains(c)) {
        why =
            tr("A class name cannot contain %1.")
                .arg(c.category() == QChar::Other_Control ? tr("control characters") : QString(c));
        break;
      }
  if (!why.isEmpty()) {
    if (error) *error = why;
    return {};
  }
  return n;
}

bool CaptureController::startRecording(const QString& className, QString* error) {
  if (recording_) stopRecording();
  const QString name = checkClassName(className, error);
  if (name.isEmpty()) return false;
  if (root_.isEmpty()) {
    if (error) *error = tr("There is no folder to record into.");
    return false;
  }
  if (!source_ || !source_->isActive()) {
    if (error) *error = tr("Start a camera, video or image source first.");
    return false;
  }
  if (!QDir().mkpath(QDir(root_).filePath(name))) {
    if (error)
      *error = tr("Cannot create the folder %1.")
                   .arg(QDir::toNativeSeparators(QDir(root_).filePath(name)));
    return false;
  }
  recording_ = true;
  class_ = name;
  burst_.clear();
  sinceWrite_.invalidate();
  return true;
}

int CaptureController::stopRecording() {
  if (!recording_) return 0;
  recording_ = false;
  const QStringList files = std::exchange(burst_, {});
  if (files.isEmpty()) {
    QDir(root_).rmdir(class_);  // a class created for a burst that wrote nothing
    return 0;
  }
  if (undo_) undo_->push(new CaptureCommand(this, root_, class_, files));
  emit recorded(class_, int(files.size()));
  if (!undo_) emit capturesChanged();  // the command's redo() says it otherwise
  return int(files.size());
}

void CaptureController::onFrame(const QImage& image) {
  last_ = image;
  emit frameArrived(image);
  if (!recording_) return;
  if (sinceWrite_.isValid() && maxRecordFps_ > 0 &&
      double(sinceWrite_.elapsed()) < 1000.0 / maxRecordFps_)
    return;
  const QString name =
      QStringLiteral("%1/%2-%3-%4.jpg")
          .arg(class_, class_,
               QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss-zzz")))
          .arg(++serial_, 4, 10, QLatin1Char('0'));
  QSaveFile out(QDir(root_).filePath(name));
  QImageWriter writer(&out, "jpeg");
  writer.setQuality(92);
  if (!out.open(QIODevice::WriteOnly) || !writer.write(image) || !out.commit()) {
    const QString why =
        writer.error() != QImageWriter::UnknownError ? writer.errorString() : out.errorString();
    stopRecording();
    emit recordingError(tr("Could not save a frame to %1: %2. Recording stopped; the frames "
                           "saved before are kept.")
                            .arg(QDir::toNativeSeparators(QDir(root_).filePath(name)), why));
    return;
  }
  sinceWrite_.start();
  burst_ << name;
  emit frameRecorded(class_, int(burst_.size()));
}

QMap<QString, int> CaptureController::classCounts() const {
  QMap<QString, int> counts;
  if (root_.isEmpty()) return counts;
  for (const QFileInfo& d : QDir(root_).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
    int n = 0;
    for (const QFileInfo& f : QDir(d.absoluteFilePath()).entryInfoList(QDir::Files))
      n += core::hasImageExtension(f.fileName().toStdString()) ? 1 : 0;
    counts.insert(d.fileName(), n);
  }
  return counts;
}

}  // namespace tlab::ui
