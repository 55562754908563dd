#pragma once
// Where live frames come from: one interface, three sources.
//
// - CameraSource: a camera through Qt Multimedia (QCamera + QMediaCaptureSession + QVideoSink).
// - VideoFileSource: a video file (QMediaPlayer + QVideoSink), to label frames from a recording.
// - ImageSequenceSource: the images of a folder, in name order, at a fixed rate (the tests' and
//   the benchmark's source; also a way to replay a burst of stills).
//
// Every source emits frame() on the GUI thread, and failed() once with a message for the user
// when it cannot start or stops working (no camera, a busy camera, a camera unplugged, a file that
// is gone or unreadable); after failed() the source is stopped and never emits again until the
// next start(). finished() says that a file or sequence ran out (cameras never finish). No call
// blocks: a source that never delivers a frame is a source that is silent, not a hang.
#include <QByteArray>
#include <QImage>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QVector>

class QCamera;
class QMediaCaptureSession;
class QMediaPlayer;
class QVideoFrame;
class QVideoSink;

namespace tlab::ui {

class FrameSource : public QObject {
  Q_OBJECT
 public:
  explicit FrameSource(QObject* parent = nullptr) : QObject(parent) {}
  /// For the user: "Camera: Integrated Webcam", "Video: lab.mp4", "Images: frames/".
  virtual QString description() const = 0;
  virtual void start() = 0;
  virtual void stop() = 0;
  bool isActive() const { return active_; }
  qint64 framesDelivered() const { return delivered_; }
  /// Call before the QApplication exists: makes Qt Multimedia use its FFmpeg backend unless the
  /// user chose one (QT_MEDIA_BACKEND). Qt 6.4's GStreamer backend depends on separately packaged
  /// GStreamer plugins and crashes inside gst_element_link_many when they are missing; the FFmpeg
  /// backend links libav* directly and has V4L2 cameras.
  static void preferFfmpegBackend();

 signals:
  void frame(const QImage& image);
  void failed(const QString& message);
  void finished();
  void activeChanged(bool active);

 protected:
  void setActive(bool active);
  void deliver(const QImage& image);
  /// Stops the source and reports `message` once.
  void fail(const QString& message);

 private:
  bool active_ = false;
  qint64 delivered_ = 0;
};

/// The images of a folder (or a list of files), one per 1/fps seconds, decoded with the safe
/// decoder. A file that disappears mid-stream is the sequence's "camera unplugged": failed()
/// names it. A file that cannot be decoded is skipped with failed() too (a stream that delivers
/// garbage is not one to record from).
class ImageSequenceSource : public FrameSource {
  Q_OBJECT
 public:
  ImageSequenceSource(const QString& folder, double fps, QObject* parent = nullptr);
  ImageSequenceSource(const QStringList& files, double fps, QObject* parent = nullptr);
  QString description() const override;
  void start() override;
  void stop() override;
  void setLoop(bool loop) { loop_ = loop; }
  int frameCount() const { return int(files_.size()); }

 private:
  void next();
  QString folder_;
  QStringList files_;
  int index_ = 0;
  bool loop_ = false;
  QTimer timer_;
};

struct CameraInfo {
  QByteArray id;
  QString name;
};

class CameraSource : public FrameSource {
  Q_OBJECT
 public:
  /// `deviceId` empty: the system's default camera.
  explicit CameraSource(const QByteArray& deviceId = {}, QObject* parent = nullptr);
  ~CameraSource() override;
  static QVector<CameraInfo> cameras();
  QString description() const override;
  void start() override;
  void stop() override;

 private:
  void onFrame(const QVideoFrame& frame);
  void onDevicesChanged();
  void teardown();
  QByteArray deviceId_;
  QString name_;
  QCamera* camera_ = nullptr;
  QMediaCaptureSession* session_ = nullptr;
  QVideoSink* sink_ = nullptr;
  QTimer firstFrameWatch_;  ///< a camera that starts but never sends a frame (held elsewhere)
};

class VideoFileSource : public FrameSource {
  Q_OBJECT
 public:
  explicit VideoFileSource(const QString& path, QObject* parent = nullptr);
  ~VideoFileSource() override;
  QString description() const override;
  void start() override;
  void stop() override;

 private:
  void teardown();
  QString path_;
  QMediaPlayer* player_ = nullptr;
  QVideoSink* sink_ = nullptr;
};

}  // namespace tlab::ui
