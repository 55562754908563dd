#include "ui/capture/FrameSource.h"

#include <QCamera>
#include <QCameraDevice>
#include <QDir>
#include <QFileInfo>
#include <QMediaCaptureSession>
#include <QMediaDevices>
#include <QMediaPlayer>
#include <QUrl>
#include <QVideoFrame>
#include <QVideoSink>
#include <algorithm>

#include "core/image/ImageDecoder.h"
#include "ui/workers/Thumbnail.h"

namespace tlab::ui {

void FrameSource::preferFfmpegBackend() {
  if (qEnvironmentVariableIsEmpty("QT_MEDIA_BACKEND")) qputenv("QT_MEDIA_BACKEND", "ffmpeg");
}

void FrameSource::setActive(bool active) {
  if (active_ == active) return;
  active_ = active;
  emit activeChanged(active);
}

void FrameSource::deliver(const QImage& image) {
  if (!active_ || image.isNull()) return;
  ++delivered_;
  emit frame(image);
}

void FrameSource::fail(const QString& message) {
  stop();
  setActive(false);
  emit failed(message);
}

// ---- image sequence -------------------------------------------------------------------------

namespace {

// Natural order: frame2 before frame10 (runs of digits compare by value). QCollator's numeric
// mode needs ICU, which not every Qt build has.
bool naturalLess(const QString& a, const QString& b) {
  int i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (a[i].isDigit() && b[j].isDigit()) {
      int ei = i, ej = j;
      while (ei < a.size() && a[ei].isDigit()) ++ei;
      while (ej < b.size() && b[ej].isDigit()) ++ej;
      QStringView da = QStringView(a).mid(i, ei - i), db = QStringView(b).mid(j, ej - j);
      while (da.size() > 1 && da[0] == QLatin1Char('0')) da = da.mid(1);
      while (db.size() > 1 && db[0] == QLatin1Char('0')) db = db.mid(1);
      if (da.size() != db.size()) return da.size() < db.size();
      if (const int c = da.compare(db); c != 0) return c < 0;
      i = ei;
      j = ej;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

QStringList imagesIn(const QString& folder) {
  QStringList files;
  const QFileInfoList entries = QDir(folder).entryInfoList(QDir::Files, QDir::NoSort);
  for (const QFileInfo& f : entries)
    if (core::hasImageExtension(f.fileName().toStdString())) files << f.absoluteFilePath();
  std::sort(files.begin(), files.end(), naturalLess);
  return files;
}

int intervalMs(double fps) { return std::clamp(int(1000.0 / std::max(fps, 0.1)), 1, 10000); }

}  // namespace

ImageSequenceSource::ImageSequenceSource(const QString& folder, double fps, QObject* parent)
    : FrameSource(parent), folder_(folder) {
  timer_.setInterval(intervalMs(fps));
  connect(&timer_, &QTimer::timeout, this, &ImageSequenceSource::next);
}

ImageSequenceSource::ImageSequenceSource(const QStringList& files, double fps, QObject* parent)
    : FrameSource(parent), files_(files) {
  timer_.setInterval(intervalMs(fps));
  connect(&timer_, &QTimer::timeout, this, &ImageSequenceSource::next);
}

QString ImageSequenceSource::description() const {
  if (!folder_.isEmpty()) return tr("Images: %1").arg(QDir::toNativeSeparators(folder_));
  return tr("Images: %1 files").arg(files_.size());
}

void ImageSequenceSource::start() {
  if (isActive()) return;
  if (!folder_.isEmpty()) {
    if (!QFileInfo(folder_).isDir()) {
      fail(tr("The image folder %1 does not exist.").arg(QDir::toNativeSeparators(folder_)));
      return;
    }
    files_ = imagesIn(folder_);
  }
  if (files_.isEmpty()) {
    fail(tr("There are no images in %1.").arg(QDir::toNativeSeparators(folder_)));
    return;
  }
  index_ = 0;
  setActive(true);
  timer_.start();  // the first frame after one interval, as from a camera: never inside start()
}

void ImageSequenceSource::stop() {
  timer_.stop();
  setActive(false);
}

void ImageSequenceSource::next() {
  if (!isActive()) return;
  if (index_ >= files_.size()) {
    if (!loop_) {
      stop();
      emit finished();
      return;
    }
    index_ = 0;
  }
  const QString file = files_[index_++];
  if (!QFileInfo::exists(file)) {
    fail(tr("The image source was lost: %1 is gone.").arg(QDir::toNativeSeparators(file)));
    return;
  }
  const core::DecodedImage img = core::decodeImageFile(file.toStdString());
  if (!img.ok()) {
    fail(tr("Could not read the frame %1: %2")
             .arg(QDir::toNativeSeparators(file), QString::fromStdString(img.error)));
    return;
  }
  deliver(toQImage(img.pixels).convertToFormat(QImage::Format_RGB888));  // frames are RGB888
}

// ---- camera ---------------------------------------------------------------------------------

namespace {

QString cameraError(const QString& detail, const QString& name) {
  return QObject::tr(
             "The camera %1 cannot be used: %2. It may be in use by another application; close "
             "it, or choose another source.")
      .arg(name, detail.isEmpty() ? QObject::tr("unknown error") : detail);
}

QImage imageOf(const QVideoFrame& frame) {
  QImage image = frame.toImage();
  if (image.isNull()) return image;
  return image.format() == QImage::Format_RGB888 ? image
                                                 : image.convertToFormat(QImage::Format_RGB888);
}

}  // namespace

CameraSource::CameraSource(const QByteArray& deviceId, QObject* parent)
    : FrameSource(parent), deviceId_(deviceId) {
  firstFrameWatch_.setSingleShot(true);
  firstFrameWatch_.setInterval(8000);
  connect(&firstFrameWatch_, &QTimer::timeout, this, [this] {
    if (isActive() && framesDelivered() == 0)
      fail(tr("The camera %1 started but sent no picture within 8 s. It may be in use by "
              "another application.")
               .arg(name_));
  });
}

CameraSource::~CameraSource() { teardown(); }

QVector<CameraInfo> CameraSource::cameras() {
  QVector<CameraInfo> out;
  for (const QCameraDevice& d : QMediaDevices::videoInputs())
    out.push_back({d.id(), d.description()});
  return out;
}

QString CameraSource::description() const {
  return tr("Camera: %1").arg(name_.isEmpty() ? tr("default") : name_);
}

void CameraSource::start() {
  if (isActive()) return;
  const QList<QCameraDevice> devices = QMediaDevices::videoInputs();
  QCameraDevice device;
  if (deviceId_.isEmpty()) {
    device = QMediaDevices::defaultVideoInput();
  } else {
    for (const QCameraDevice& d : devices)
      if (d.id() == deviceId_) device = d;
  }
  if (device.isNull()) {
    fail(devices.isEmpty() ? tr("No camera was found. Connect one, or label frames from a video "
                                "file or an image folder instead.")
                           : tr("The chosen camera is no longer connected."));
    return;
  }
  deviceId_ = device.id();
  name_ = device.description();
  camera_ = new QCamera(device, this);
  session_ = new QMediaCaptureSession(this);
  sink_ = new QVideoSink(this);
  session_->setCamera(camera_);
  session_->setVideoSink(sink_);
  connect(sink_, &QVideoSink::videoFrameChanged, this, &CameraSource::onFrame);
  connect(camera_, &QCamera::errorOccurred, this,
          [this](QCamera::Error, const QString& s) { fail(cameraError(s, name_)); });
  auto* devicesWatch = new QMediaDevices(camera_);
  connect(devicesWatch, &QMediaDevices::videoInputsChanged, this, &CameraSource::onDevicesChanged);
  setActive(true);
  camera_->start();
  firstFrameWatch_.start();
}

void CameraSource::onFrame(const QVideoFrame& frame) { deliver(imageOf(frame)); }

void CameraSource::onDevicesChanged() {
  if (!isActive()) return;
  for (const QCameraDevice& d : QMediaDevices::videoInputs())
    if (d.id() == deviceId_) return;
  fail(tr("The camera %1 was disconnected. Frames recorded so far are kept.").arg(name_));
}

void CameraSource::stop() {
  firstFrameWatch_.stop();
  teardown();
  setActive(false);
}

void CameraSource::teardown() {
  if (sink_) sink_->disconnect(this);
  if (camera_) {
    camera_->disconnect(this);
    camera_->stop();
  }
  // deleteLater: stop() may run inside one of these objects' own signals.
  for (QObject* o : {static_cast<QObject*>(sink_), static_cast<QObject*>(session_),
                     static_cast<QObject*>(camera_)})
    if (o) o->deleteLater();
  sink_ = nullptr;
  session_ = nullptr;
  camera_ = nullptr;
}

// ---- video file -----------------------------------------------------------------------------

VideoFileSource::VideoFileSource(const QString& path, QObject* parent)
    : FrameSource(parent), path_(path) {}

VideoFileSource::~VideoFileSource() { teardown(); }

QString VideoFileSource::description() const {
  return tr("Video: %1").arg(QFileInfo(path_).fileName());
}

void VideoFileSource::start() {
  if (isActive()) return;
  const QFileInfo info(path_);
  if (!info.isFile() || !info.isReadable()) {
    fail(tr("The video %1 cannot be read: no such file, or no permission.")
             .arg(QDir::toNativeSeparators(path_)));
    return;
  }
  player_ = new QMediaPlayer(this);
  sink_ = new QVideoSink(this);
  player_->setVideoSink(sink_);
  connect(sink_, &QVideoSink::videoFrameChanged, this,
          [this](const QVideoFrame& f) { deliver(imageOf(f)); });
  connect(player_, &QMediaPlayer::errorOccurred, this,
          [this](QMediaPlayer::Error, const QString& s) {
            fail(tr("The video %1 cannot be played: %2")
                     .arg(QDir::toNativeSeparators(path_), s.isEmpty() ? tr("unknown error") : s));
          });
  connect(player_, &QMediaPlayer::mediaStatusChanged, this,
          [this](QMediaPlayer::MediaStatus status) {
            if (status == QMediaPlayer::InvalidMedia) {
              fail(tr("The video %1 is not a video this system can decode.")
                       .arg(QDir::toNativeSeparators(path_)));
            } else if (status == QMediaPlayer::EndOfMedia && isActive()) {
              stop();
              emit finished();
            }
          });
  setActive(true);
  player_->setSource(QUrl::fromLocalFile(info.absoluteFilePath()));
  player_->play();
}

void VideoFileSource::stop() {
  teardown();
  setActive(false);
}

void VideoFileSource::teardown() {
  if (sink_) sink_->disconnect(this);
  if (player_) {
    player_->disconnect(this);
    player_->stop();
  }
  for (QObject* o : {static_cast<QObject*>(sink_), static_cast<QObject*>(player_)})
    if (o) o->deleteLater();
  sink_ = nullptr;
  player_ = nullptr;
}

}  // namespace tlab::ui
