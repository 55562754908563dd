#include "ui/controllers/PredictController.h"

#include <torch/torch.h>

#include <QDirIterator>
#include <QMetaType>
#include <QTimer>
#include <mutex>
#include <opencv2/imgproc.hpp>
#include <utility>

#include "core/Errors.h"
#include "core/dataset/Dataset.h"
#include "core/explain/Attribution.h"
#include "core/export/VerifiedExport.h"
#include "core/image/ImageDecoder.h"
#include "core/train/ModelInput.h"
#include "core/util/FileUtil.h"
#include "core/util/VerifiedWrite.h"
#include "ui/workers/Async.h"

namespace tlab::ui {
namespace {

std::mutex& inferenceMutex() {  // one forward pass at a time per process for a shared model
  static std::mutex m;
  return m;
}

torch::Tensor inputOf(const core::Preprocess& pre, const QString& input, bool text) {
  if (text) return core::textInput(input.toStdString(), pre);
  const auto img = core::decodeImageFile(input.toStdString());
  if (!img.ok()) throw core::FormatError(input.toStdString(), img.error);
  return core::imageInput(img.pixels, pre);
}

/// The top-k prediction for the input `makeInput()` builds (errors, including its own, come back
/// in Prediction::error).
template <typename MakeInput>
Prediction predictInput(core::ImageClassifierImpl& net, const core::ModelBundleInfo& info,
                        const QString& input, MakeInput makeInput, int topK) {
  Prediction p;
  p.input = input;
  try {
    const torch::Tensor x = makeInput();
    torch::NoGradGuard g;
    std::lock_guard<std::mutex> lock(inferenceMutex());
    const auto features = net.features(x.to(core::deviceOf(net)));
    const auto logits = net.classify(features).to(torch::kCPU, torch::kFloat);
    const auto probs = torch::softmax(logits / info.temperature, 1)[0];
    if (!info.ood.empty()) {
      const auto f = features.to(torch::kCPU, torch::kFloat).contiguous();
      p.unlike =
          core::nearestMeanDistance(info.ood, f.data_ptr<float>(), f.size(1)) > info.ood.threshold;
    }
    const auto [values, indices] = probs.topk(std::min<int64_t>(topK, probs.size(0)));
    for (int64_t i = 0; i < values.size(0); ++i) {
      const auto c = size_t(indices[i].item<int64_t>());
      p.labels << (c < info.classNames.size() ? QString::fromStdString(info.classNames[c])
                                              : QString::number(c));
      p.probabilities << values[i].item<double>();
    }
    p.unsure = p.unlike || (!p.probabilities.isEmpty() && p.probabilities[0] < info.unsureBelow);
  } catch (const std::exception& e) {
    p.error = QString::fromStdString(e.what());
  }
  return p;
}

Prediction predictOne(core::ImageClassifierImpl& net, const core::ModelBundleInfo& info,
                      const QString& input, bool text, int topK) {
  return predictInput(
      net, info, input, [&] { return inputOf(info.preprocess, input, text); }, topK);
}

}  // namespace

Prediction predictFrame(const core::ImageClassifier& net, const core::ModelBundleInfo& info,
                        const torch::Tensor& input, int topK) {
  return predictInput(
      *net, info, QString(),
      [&] {
        if (info.preprocess.tokenizer)
          throw core::InvalidArgument("a text model cannot predict camera frames");
        return input;
      },
      topK);
}

PredictController::PredictController(QObject* parent)
    : QObject(parent),
      cancel_(std::make_shared<std::atomic<bool>>(false)),
      progress_(std::make_shared<ProgressTracker>()),
      task_(this),
      exportProgress_(std::make_shared<ProgressTracker>(/*clockPerStage=*/false)),
      exportTask_(this) {
  qRegisterMetaType<Prediction>();
  auto* poll = new QTimer(this);
  poll->setInterval(100);
  connect(poll, &QTimer::timeout, this, [this] {
    if (task_.isRunning()) {
      const auto r = progress_->read();
      emit progress(int(r.done), int(r.total), r.eta());
    }
    if (exportTask_.isRunning()) {
      const auto r = exportProgress_->read();
      if (r.total > 0) emit exportProgress(r.stage, int(r.done), int(r.total), r.eta());
    }
  });
  poll->start();
}

PredictController::~PredictController() = default;

void PredictController::finished(const QVector<Prediction>& r) {
  if (pendingCsv_.isEmpty()) {
    emit predicted(r);
    return;
  }
  const QString csv = std::exchange(pendingCsv_, QString());
  const bool writeFailed = r.size() == 1 && r[0].input.isEmpty() && !r[0].error.isEmpty();
  emit folderDone(csv, writeFailed ? 0 : int(r.size()), writeFailed ? r[0].error : QString());
}

void PredictController::setModel(core::ImageClassifier net, const core::ModelBundleInfo& info,
                                 const QString& name,
                                 std::shared_ptr<const core::Dataset> dataset) {
  task_.cancel();  // predictions of the previous model are dropped
  exportTask_.cancel();
  pendingCsv_.clear();
  dataset_ = std::move(dataset);
  explainTask_.cancel();
  net_ = std::move(net);
  if (net_) net_->eval();
  explainNet_ = net_ ? copyNetwork(net_, info) : nullptr;
  info_ = info;
  name_ = name;
  emit modelChanged();
}

bool PredictController::openBundle(const QString& dir, QString* error) {
  try {
    core::LoadedModel m = core::loadModelBundle(dir.toStdString());
    setModel(m.net, m.info, dir);
    return true;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
}

void PredictController::explain(const QString& input, int targetClass) {
  if (!explainNet_) return;
  const auto net = explainNet_;
  const auto info = info_;
  explainTask_.start(
      [net, info, input, targetClass](const std::atomic<bool>& cancelled) {
        PredictExplanation out;
        out.input = input;
        const auto& pre = info.preprocess;
        if (pre.tokenizer) {
          const auto a = core::integratedGradients(*net, *pre.tokenizer, input.toStdString(),
                                                   size_t(pre.inputSize), targetClass, 32);
          for (const auto& w : a.words) {
            out.words.words << QString::fromStdString(w.word);
            out.words.scores << w.score;
          }
          out.words.classIndex = int(a.classIndex);
          out.words.predicted = int(a.predicted);
          out.words.probability = a.probabilities.at(size_t(a.classIndex));
          return out;
        }
        const auto img = core::decodeImageFile(input.toStdString());
        if (!img.ok()) {
          out.error = QString::fromStdString(img.error);
          return out;
        }
        const auto x = core::imageInput(img.pixels, pre);
        const auto layers = core::camLayers(*net, pre.inputSize, pre.channels);
        core::OcclusionOptions occlusion;
        occlusion.cancel = &cancelled;
        const auto map = layers.empty() ? core::occlusionMap(*net, x, targetClass, occlusion)
                                        : core::gradCam(*net, x, {targetClass}, layers.back())[0];
        out.map = sampleMapOf(map, img.pixels, pre);
        cv::Mat rgb = img.pixels;
        if (rgb.channels() == 1) cv::cvtColor(rgb, rgb, cv::COLOR_GRAY2RGB);
        const QImage full(rgb.data, rgb.cols, rgb.rows, int(rgb.step), QImage::Format_RGB888);
        out.image = full.width() > 480 || full.height() > 480
                        ? full.scaled(480, 480, Qt::KeepAspectRatio, Qt::SmoothTransformation)
                        : full.copy();
        if (out.image.width() < 256 && out.image.height() < 256)  // e.g. 28 x 28: enlarge
          out.image = out.image.scaled(256, 256, Qt::KeepAspectRatio, Qt::FastTransformation);
        return out;
      },
      [this](const PredictExplanation& e) { emit explained(e); });
}

bool PredictController::isBusy() const { return task_.isRunning() || exportTask_.isRunning(); }

void PredictController::cancel() { *cancel_ = true; }

void PredictController::predictFiles(const QStringList& files, int topK) {
  if (!net_ || isBusy()) return;
  *cancel_ = false;
  auto net = net_;
  auto info = info_;
  auto cancel = cancel_;
  task_.start(
      [net, info, files, topK, cancel](const std::atomic<bool>& dropped) {
        QVector<Prediction> out;
        for (const QString& f : files) {
          if (*cancel || dropped) break;
          out.push_back(predictOne(*net, info, f, false, topK));
        }
        return out;
      },
      [this](const QVector<Prediction>& r) { finished(r); });
}

void PredictController::predictText(const QString& text, int topK) {
  if (!net_ || isBusy()) return;
  auto net = net_;
  auto info = info_;
  task_.start([net, info, text,
               topK] { return QVector<Prediction>{predictOne(*net, info, text, true, topK)}; },
              [this](const QVector<Prediction>& r) { finished(r); });
}

void PredictController::predictFolderToCsv(const QString& folder, const QString& csvPath) {
  if (!net_ || isBusy() || isText()) return;
  *cancel_ = false;
  progress_->reset();
  pendingCsv_ = csvPath;
  auto net = net_;
  auto info = info_;
  auto cancel = cancel_;
  auto progress = progress_;
  auto work = [=](const std::atomic<bool>& dropped) {
    QStringList files;
    for (QDirIterator it(folder, QDir::Files, QDirIterator::Subdirectories); it.hasNext();) {
      const QString f = it.next();
      if (core::hasImageExtension(f.toStdString())) files << f;
    }
    files.sort();
    const std::string stage = QObject::tr("Predicting").toStdString();
    progress->report(stage, 0, size_t(files.size()));
    std::string csv = "path,label,probability,unsure,error\n";
    auto quote = [](QString s) {  // RFC 4180
      s.replace(QLatin1Char('"'), QStringLiteral("\"\""));
      return "\"" + s.toStdString() + "\"";
    };
    QVector<Prediction> rows;
    for (const QString& f : files) {
      if (*cancel || dropped) break;
      Prediction p = predictOne(*net, info, f, false, 1);
      csv += quote(f) + "," + (p.labels.isEmpty() ? "" : quote(p.labels[0])) + "," +
             (p.probabilities.isEmpty() ? "" : std::to_string(p.probabilities[0])) + "," +
             (p.error.isEmpty() ? (p.unsure ? "1" : "0") : "") + "," + quote(p.error) + "\n";
      rows.push_back(std::move(p));
      progress->report(stage, size_t(rows.size()), size_t(files.size()));
    }
    try {
      core::writeFileVerified(csvPath.toStdString(), csv);
    } catch (const std::exception& e) {
      Prediction failure;
      failure.error = QString::fromStdString(e.what());
      return QVector<Prediction>{failure};
    }
    return rows;
  };
  task_.start(std::move(work), [this](const QVector<Prediction>& r) { finished(r); });
}

bool PredictController::canExportOnnx() const {
  return net_ && core::onnxExportable(info_.architecture);
}

void PredictController::exportModel(const QString& dir, bool onnx) {
  if (!net_ || isBusy()) return;
  *cancel_ = false;
  exportProgress_->reset();
  auto net = net_;
  auto info = info_;
  auto dataset = dataset_;
  auto cancel = cancel_;
  auto status = exportProgress_;  // the poll timer shows it on the GUI thread
  exportTask_.start(
      [net, info, dataset, cancel, status, dir, onnx](const std::atomic<bool>& dropped) {
        const auto inputs = core::verificationInputs(dataset.get(), info);
        core::ExportOptions options;
        options.onnx = onnx;
        // The user's Stop and a dropped task (new model, window closed) both abandon it.
        std::atomic<bool> stop{false};
        std::lock_guard<std::mutex> lock(inferenceMutex());
        const auto r = core::exportVerifiedBundle(
            dir.toStdString(), *net, info, inputs, options,
            [&](const std::string& step, int done, int total) {
              stop = cancel->load() || dropped.load();
              status->report(step, size_t(std::max(0, done)), size_t(std::max(0, total)));
            },
            &stop);
        ExportOutcome out;
        out.report = QString::fromStdString(core::describe(r));
        return out;
      },
      [this, dir](const ExportOutcome& r) {
        const QString error = r.error == QLatin1String("cancelled")
                                  ? tr("Export stopped; nothing was written.")
                                  : r.error;
        emit exported(dir, r.report, error);
      });
}

}  // namespace tlab::ui
