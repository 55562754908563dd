#pragma once
// The one dataset abstraction every reader returns: a list of labelled samples, the class names,
// an optional predefined split, and what was skipped while reading (with file, line and reason).
// Pixels are decoded lazily through loadImage(); a Dataset is immutable once built, and
// loadImage() is safe to call from several threads at once.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "core/image/DecodedImage.h"

namespace tlab::core {

/// Caps every reader enforces before it allocates per-sample or per-class memory (a Sample costs
/// ~100 bytes, so 10 million samples is about 1 GB of lists): a file cannot declare its way past
/// them. Datasets beyond them are refused with a message naming the cap.
constexpr size_t kMaxSamples = 10'000'000;
constexpr size_t kMaxClasses = 100'000;

enum class Split : uint8_t { None = 0, Train = 1, Val = 2, Test = 3 };
enum class Modality { Image, Text };

const char* splitName(Split split);
/// Accepts train/training, val/valid/validation/dev, test/testing (case-insensitive).
std::optional<Split> parseSplit(std::string_view text);

struct Sample {
  std::string path;    ///< image or text file; empty for samples stored inside a container
  int64_t index = -1;  ///< position in the container (IDX/HDF5), -1 for file samples
  std::string text;    ///< text datasets read from CSV/TSV/JSONL
  int32_t label = -1;
  Split split = Split::None;
};

/// An item left out while reading or decoding; `line` is 1-based, 0 when not line-oriented.
struct SkippedItem {
  std::string path;
  size_t line = 0;
  std::string reason;
};

/// Random access to images kept inside a container file (IDX, HDF5). Thread-safe.
class ImageStore {
 public:
  virtual ~ImageStore() = default;
  /// 8-bit image with 1 (gray) or 3 (RGB) channels; throws FormatError on a read failure.
  virtual cv::Mat image(int64_t index) const = 0;
};

class Dataset {
 public:
  std::string format;  ///< "folder", "csv", "idx", "hdf5", "text"
  Modality modality = Modality::Image;
  std::filesystem::path source;  ///< what the user opened
  std::vector<std::string> classNames;
  std::vector<Sample> samples;
  std::vector<SkippedItem> skipped;
  std::shared_ptr<const ImageStore> store;  ///< set for container formats only

  size_t size() const { return samples.size(); }
  size_t numClasses() const { return classNames.size(); }
  /// Samples per class, optionally restricted to one split.
  std::vector<int64_t> classCounts(std::optional<Split> split = std::nullopt) const;
  int64_t splitCount(Split split) const;
  bool hasPredefinedSplit() const;
  /// Indices of the samples in `split`.
  std::vector<size_t> indicesOf(Split split) const;

  /// Problems that make the dataset unusable for training (no samples, fewer than two classes,
  /// classes without samples). Empty when the dataset is usable.
  std::vector<std::string> structuralErrors() const;
  /// Throws InvalidArgument listing structuralErrors(), if any.
  void validate() const;

  /// Decodes sample `i` (image datasets only). Never throws for bad image data.
  DecodedImage loadImage(size_t i) const;
};

/// Sorted, de-duplicated class list; numeric order when every name is an integer, so the
/// name-to-index mapping does not depend on file order.
std::vector<std::string> sortedClassNames(std::vector<std::string> names);

}  // namespace tlab::core
