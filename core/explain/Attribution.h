#pragma once
// Why a network decides: class-activation maps for images (Grad-CAM, Grad-CAM++ at a chosen
// layer; an occlusion map for any network, e.g. an imported TorchScript backbone) and
// integrated-gradients attributions for text (per WordPiece token, merged back to words).
//
// The built-in networks record each module's output through ImageClassifierImpl::record(); a
// ForwardTap there splits the forward at the target layer, and torch::autograd::grad gives the
// gradient of the class score with respect to that activation. The model is used in eval mode
// and left in the mode it was in. Not thread-safe per network (one forward at a time).
#include <torch/torch.h>

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tlab::core {
class ImageClassifierImpl;
class WordPieceTokenizer;

enum class CamMethod { GradCam, GradCamPlusPlus, Occlusion };
/// "gradcam", "gradcam++", "occlusion"; parseCamMethod throws InvalidArgument for other names.
std::string camMethodName(CamMethod method);
CamMethod parseCamMethod(const std::string& name);

struct ClassMap {
  torch::Tensor map;  ///< [H, W] float at the network's input resolution, >= 0, max 1 (or all 0)
  int64_t classIndex = -1;  ///< the class explained
  int64_t predicted = -1;   ///< the network's top-1 class
  std::vector<float> probabilities;
  std::string layer;  ///< the layer explained ("input" for occlusion)
  /// Grad-CAM only: [h, w] the map at the layer's own resolution (`map` is this, bilinearly
  /// upsampled), which peak() uses to place the maximum between cells.
  torch::Tensor cells;
  /// The map's maximum as (x, y) input pixels; nullopt when the map is all zero (no evidence
  /// anywhere). For Grad-CAM the strongest cell's position is refined between cells: a
  /// parabola through it and its two neighbours on each axis (0 beyond the image's edge) has
  /// its vertex within half a cell, towards the stronger neighbour, so evidence that straddles
  /// two cells peaks between them rather than at one cell's centre. Without cells (occlusion),
  /// the maximum pixel of `map`; for a plateau of equal maxima, its pixel nearest to the
  /// plateau's centroid.
  std::optional<std::pair<int, int>> peak() const;
};

/// Module paths whose output is a spatial map [N, C, h, w] (h, w > 1), in forward order: the
/// layers Grad-CAM can explain. Empty for text encoders and imported TorchScript networks.
std::vector<std::string> camLayers(ImageClassifierImpl& net, int inputSize, int channels);
/// The last convolutional stage (the last entry of camLayers); empty when there is none.
std::string defaultCamLayer(ImageClassifierImpl& net, int inputSize, int channels);

/// Grad-CAM (or Grad-CAM++) of `input` [N, C, H, W] (normalised images) at `layer`, one map per
/// image, for classes[i] (-1: the predicted class). Throws InvalidArgument for a layer the
/// network does not record or whose output is not spatial.
std::vector<ClassMap> gradCam(ImageClassifierImpl& net, const torch::Tensor& input,
                              const std::vector<int64_t>& classes, const std::string& layer,
                              CamMethod method = CamMethod::GradCam);

struct OcclusionOptions {
  int patch = 0;   ///< side of the grey square in input pixels (0: inputSize / 7)
  int stride = 0;  ///< step (0: patch / 2)
  int batch = 32;  ///< occluded copies per forward pass
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(int done, int total)> progress;
};
/// Occlusion sensitivity of one image [1, C, H, W]: how much the class probability drops when
/// a grey patch (the normalisation mean, i.e. 0) covers each place. Works for any network.
ClassMap occlusionMap(ImageClassifierImpl& net, const torch::Tensor& input, int64_t classIndex,
                      const OcclusionOptions& options = {});

struct WordScore {
  std::string word;
  double score = 0;  ///< sum of its pieces' attributions (positive: evidence for the class)
};
struct TextAttribution {
  std::vector<std::string> pieces;  ///< WordPiece tokens, without [CLS]/[SEP]
  std::vector<double> pieceScores;
  std::vector<WordScore> words;  ///< pieces merged back into words ("##" continuations)
  int64_t classIndex = -1, predicted = -1;
  std::vector<float> probabilities;
  bool truncated = false;
  /// Index into `words` of the highest score (-1 when there are no words).
  int topWord() const;
};
/// Integrated gradients on the embedding layer's output ("embeddings" of the BERT encoder), from
/// the same text with every word replaced by [PAD] to the text itself, `steps` midpoint steps,
/// for `classIndex` (-1: predicted).
TextAttribution integratedGradients(ImageClassifierImpl& net, const WordPieceTokenizer& tokenizer,
                                    std::string_view text, size_t maxTokens,
                                    int64_t classIndex = -1, int steps = 32);

}  // namespace tlab::core
