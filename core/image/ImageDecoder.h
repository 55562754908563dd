#pragma once
// Safe image decoding for untrusted files. The header is parsed first so that a file declaring
// an absurd size (a decompression bomb) is refused before any pixel buffer is allocated, and
// structural truncation (JPEG without EOI, PNG without IEND) is caught even where the codec
// would silently return a half-grey picture. Output is always 8-bit RGB with EXIF orientation
// applied, so thumbnails, previews and training see the same pixels. Thread-safe.
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/image/DecodedImage.h"

namespace tlab::core {

enum class ImageFormat { Unknown, Jpeg, Png, Bmp, Gif, Webp, Tiff, Pnm };
const char* imageFormatName(ImageFormat format);

struct ImageHeader {
  ImageFormat format = ImageFormat::Unknown;
  int64_t width = 0;  ///< as declared by the header (not yet trusted)
  int64_t height = 0;
  int bytesPerPixel = 4;  ///< the most the decoder may allocate per pixel for this file
  std::string error;      ///< set when the header itself is malformed or truncated
};

/// Budget of one decode, checked against the header before the codec allocates anything: the
/// probe parses exactly what the codec will use (libjpeg's marker rules, libtiff's first tag,
/// the BMP header variant). Peak memory is about pixels x (bytesPerPixel + 3) plus the file.
/// A JPEG over the budget is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's scaled IDCT, so the
/// full size is never allocated) when that fits; other formats over it are refused.
struct ImageLimits {
  uint64_t maxPixels = 1ULL << 24;  ///< 16.7 megapixels decoded
  uint64_t maxDecodedBytes = 64ULL << 20;
  uint64_t maxFileBytes = 256ULL << 20;
};

/// Identifies the format by content (extensions lie) and reads the declared size.
ImageHeader probeImage(const uint8_t* data, size_t size);

enum class DecodeScale { Full, Eighth };  ///< Eighth: fast verification (JPEG DCT scaling)

DecodedImage decodeImageBytes(const uint8_t* data, size_t size,
                              DecodeScale scale = DecodeScale::Full,
                              const ImageLimits& limits = {});
/// Reads and decodes a file; errors never throw and are phrased for the user.
DecodedImage decodeImageFile(const std::filesystem::path& path,
                             DecodeScale scale = DecodeScale::Full, const ImageLimits& limits = {});

/// Extensions treated as image files when scanning folders.
bool hasImageExtension(const std::filesystem::path& path);

}  // namespace tlab::core
