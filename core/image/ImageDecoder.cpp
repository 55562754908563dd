#include "core/image/ImageDecoder.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/Errors.h"
#include "core/util/FileUtil.h"

namespace tlab::core {
namespace {

uint32_t be16(const uint8_t* p) { return (uint32_t(p[0]) << 8) | p[1]; }
uint32_t be32(const uint8_t* p) { return (be16(p) << 16) | be16(p + 2); }
uint32_t le16(const uint8_t* p) { return (uint32_t(p[1]) << 8) | p[0]; }
uint32_t le32(const uint8_t* p) { return (le16(p + 2) << 16) | le16(p); }

// Walks JPEG markers exactly as libjpeg's next_marker() does (bytes other than 0xFF are skipped,
// fill bytes 0xFF are skipped, and FF 00 is stuffed data, not a marker), so the frame header
// found here is the one the decoder will use: libjpeg refuses a second SOF, so the first counts.
// Then requires an EOI marker after the scan. Entropy-coded data cannot hold 0xFFD9 (0xFF is
// byte-stuffed), so the first one after SOS is the real end of the image.
void probeJpeg(const uint8_t* d, size_t n, ImageHeader& h) {
  size_t pos = 2;
  bool seenSof = false;
  for (;;) {
    while (pos < n && d[pos] != 0xFF) ++pos;  // garbage before a marker: libjpeg skips it too
    while (pos + 1 < n && d[pos + 1] == 0xFF) ++pos;
    if (pos + 1 >= n) break;
    const uint8_t marker = d[pos + 1];
    if (marker == 0x00) {  // stuffed zero: not a marker
      pos += 2;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      pos += 2;
      continue;
    }
    if (pos + 4 > n) break;
    const uint32_t len = be16(d + pos + 2);
    if (len < 2 || pos + 2 + len > n) {
      h.error = "truncated JPEG: segment at byte " + std::to_string(pos) + " runs past the end";
      return;
    }
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof && !seenSof) {
      seenSof = true;
      if (len < 7) {
        h.error = "corrupt JPEG: frame header too short";
        return;
      }
      h.height = be16(d + pos + 5);
      h.width = be16(d + pos + 7);
    }
    if (marker == 0xDA) {  // start of scan
      const uint8_t eoi[2] = {0xFF, 0xD9};
      const uint8_t* end = d + n;
      if (std::search(d + pos + 2 + len, end, eoi, eoi + 2) == end) {
        h.error = "truncated JPEG: no end-of-image marker after the image data";
      } else if (!seenSof || h.width == 0 || h.height == 0) {
        h.error = "corrupt JPEG: no frame header before the image data";
      }
      return;
    }
    pos += 2 + len;
  }
  h.error = "truncated JPEG: file ends before the image data";
}

void probePng(const uint8_t* d, size_t n, ImageHeader& h) {
  if (n < 33 || std::memcmp(d + 12, "IHDR", 4) != 0) {
    h.error = "truncated PNG: no image header";
    return;
  }
  h.width = be32(d + 16);
  h.height = be32(d + 20);
  const uint8_t bitDepth = d[24], colourType = d[25];
  const int channels = colourType == 2 ? 3 : colourType == 4 ? 2 : colourType == 6 ? 4 : 1;
  h.bytesPerPixel = channels * (bitDepth == 16 ? 2 : 1);
  // The last chunk of a complete PNG is IEND (length 0, type, CRC): 12 bytes.
  const uint8_t iend[4] = {'I', 'E', 'N', 'D'};
  const size_t tail = std::min<size_t>(n, 64);
  if (std::search(d + n - tail, d + n, iend, iend + 4) == d + n) {
    h.error = "truncated PNG: no IEND chunk at the end of the file";
  }
}

void probeWebp(const uint8_t* d, size_t n, ImageHeader& h) {
  if (n < 30) {
    h.error = "truncated WebP header";
    return;
  }
  if (std::memcmp(d + 12, "VP8 ", 4) == 0) {
    h.width = le16(d + 26) & 0x3FFF;
    h.height = le16(d + 28) & 0x3FFF;
  } else if (std::memcmp(d + 12, "VP8L", 4) == 0) {
    const uint32_t bits = le32(d + 21);
    h.width = (bits & 0x3FFF) + 1;
    h.height = ((bits >> 14) & 0x3FFF) + 1;
  } else if (std::memcmp(d + 12, "VP8X", 4) == 0) {
    h.width = 1 + (d[24] | (d[25] << 8) | (d[26] << 16));
    h.height = 1 + (d[27] | (d[28] << 8) | (d[29] << 16));
  } else {
    h.error = "unknown WebP chunk";
  }
}

// Reads ImageWidth (256), ImageLength (257), BitsPerSample (258) and SamplesPerPixel (277)
// from the first IFD, with every offset checked against the buffer. libtiff keeps the first of
// duplicated tags, and so does this probe.
void probeTiff(const uint8_t* d, size_t n, ImageHeader& h) {
  const bool le = d[0] == 'I';
  auto u16 = [&](size_t o) { return le ? le16(d + o) : be16(d + o); };
  auto u32 = [&](size_t o) { return le ? le32(d + o) : be32(d + o); };
  if (n < 8) {
    h.error = "truncated TIFF header";
    return;
  }
  const size_t ifd = u32(4);
  if (ifd > n || n - ifd < 2) {
    h.error = "truncated TIFF: first directory lies past the end of the file";
    return;
  }
  const size_t entries = u16(ifd);
  bool seen[4] = {false, false, false, false};
  uint32_t bits = 1, samples = 1;
  for (size_t k = 0; k < entries; ++k) {
    const size_t e = ifd + 2 + 12 * k;
    if (e + 12 > n) {
      h.error = "truncated TIFF directory";
      return;
    }
    const uint32_t tag = u16(e), type = u16(e + 2);
    const int slot = tag == 256 ? 0 : tag == 257 ? 1 : tag == 258 ? 2 : tag == 277 ? 3 : -1;
    if (slot < 0 || seen[slot]) continue;
    seen[slot] = true;
    if (type != 3 && type != 4) {
      h.error =
          "TIFF tag " + std::to_string(tag) + " has an unexpected type " + std::to_string(type);
      return;
    }
    uint32_t value = type == 3 ? u16(e + 8) : u32(e + 8);
    const uint32_t count = u32(e + 4);
    if (slot == 2 && type == 3 &&
        count > 2) {  // per-sample values stored elsewhere: take the widest
      const size_t at = u32(e + 8);
      if (at > n || (n - at) / 2 < count) {
        h.error = "truncated TIFF: BitsPerSample lies past the end of the file";
        return;
      }
      value = 0;
      for (uint32_t i = 0; i < count; ++i) value = std::max<uint32_t>(value, u16(at + 2 * i));
    }
    if (slot == 0) h.width = value;
    if (slot == 1) h.height = value;
    if (slot == 2) bits = value;
    if (slot == 3) samples = value;
  }
  if (h.width == 0 || h.height == 0) h.error = "TIFF without image size";
  if (bits == 0 || bits > 64 || samples == 0 || samples > 16)
    h.error = "TIFF with an unsupported sample layout";
  // OpenCV returns at most 4 channels; each keeps the sample's byte width.
  h.bytesPerPixel = int(std::min<uint32_t>(std::max<uint32_t>(samples, 3), 4) * ((bits + 7) / 8));
}

// "P5 <w> <h> <max>" with '#' comments between the fields.
void probePnm(const uint8_t* d, size_t n, ImageHeader& h) {
  size_t pos = 2;
  int64_t values[2] = {0, 0};
  for (int64_t& v : values) {
    while (pos < n && (std::isspace(d[pos]) || d[pos] == '#')) {
      if (d[pos] == '#') {
        while (pos < n && d[pos] != '\n') ++pos;
      } else {
        ++pos;
      }
    }
    if (pos >= n || !std::isdigit(d[pos])) {
      h.error = "truncated or malformed PNM header";
      return;
    }
    while (pos < n && std::isdigit(d[pos]) && v < (int64_t(1) << 40)) v = v * 10 + (d[pos++] - '0');
  }
  h.width = values[0];
  h.height = values[1];
}

}  // namespace

const char* imageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::Jpeg:
      return "JPEG";
    case ImageFormat::Png:
      return "PNG";
    case ImageFormat::Bmp:
      return "BMP";
    case ImageFormat::Gif:
      return "GIF";
    case ImageFormat::Webp:
      return "WebP";
    case ImageFormat::Tiff:
      return "TIFF";
    case ImageFormat::Pnm:
      return "PNM";
    case ImageFormat::Unknown:
      break;
  }
  return "unknown";
}

ImageHeader probeImage(const uint8_t* d, size_t n) {
  ImageHeader h;
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) {
    h.format = ImageFormat::Jpeg;
    probeJpeg(d, n, h);
  } else if (n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) {
    h.format = ImageFormat::Png;
    probePng(d, n, h);
  } else if (n >= 2 && d[0] == 'B' && d[1] == 'M') {
    h.format = ImageFormat::Bmp;
    h.bytesPerPixel = 4;
    if (n < 26) {
      h.error = "truncated BMP header";
    } else if (le32(d + 14) == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit sizes
      h.width = le16(d + 18);
      h.height = le16(d + 20);
    } else {
      const int64_t w = static_cast<int32_t>(le32(d + 18)), hh = static_cast<int32_t>(le32(d + 22));
      h.width = w;
      h.height = hh < 0 ? -hh : hh;
    }
  } else if (n >= 6 && (std::memcmp(d, "GIF87a", 6) == 0 || std::memcmp(d, "GIF89a", 6) == 0)) {
    h.format = ImageFormat::Gif;
  } else if (n >= 12 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0) {
    h.format = ImageFormat::Webp;
    h.bytesPerPixel = 4;
    probeWebp(d, n, h);
  } else if (n >= 4 && (std::memcmp(d, "II*\0", 4) == 0 || std::memcmp(d, "MM\0*", 4) == 0)) {
    h.format = ImageFormat::Tiff;
    probeTiff(d, n, h);
  } else if (n >= 2 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6') {
    h.format = ImageFormat::Pnm;
    h.bytesPerPixel = 6;
    probePnm(d, n, h);
  }
  if (h.width < 0 || h.height < 0) h.error = "negative image size in header";
  if (h.format == ImageFormat::Jpeg) h.bytesPerPixel = 4;  // CMYK is decoded through 4 channels
  return h;
}

// The decoding proper, once the header passed the budget; decodeImageBytes catches for it.
void decodeChecked(const uint8_t* data, size_t size, int reduction, const ImageLimits& limits,
                   const ImageHeader& h, DecodedImage& out);

DecodedImage decodeImageBytes(const uint8_t* data, size_t size, DecodeScale scale,
                              const ImageLimits& limits) {
  DecodedImage out;
  if (size == 0) {
    out.error = "empty file (0 bytes)";
    return out;
  }
  const ImageHeader h = probeImage(data, size);
  if (h.format == ImageFormat::Unknown) {
    out.error = "not an image: content matches no supported image format";
    return out;
  }
  if (h.format == ImageFormat::Gif) {
    out.error = "unsupported image format (GIF); convert it to PNG or JPEG";
    return out;
  }
  if (!h.error.empty()) {
    out.error = h.error;
    return out;
  }
  // The smallest JPEG reduction (1, 2, 4, 8) that fits the budget; other formats need 1.
  const uint64_t pixels = static_cast<uint64_t>(h.width) * static_cast<uint64_t>(h.height);
  int reduction = scale == DecodeScale::Eighth && h.format == ImageFormat::Jpeg ? 8 : 1;
  auto fits = [&](int r) {
    const uint64_t p = pixels / uint64_t(r * r);
    return p <= limits.maxPixels && p * uint64_t(h.bytesPerPixel) <= limits.maxDecodedBytes;
  };
  while (!fits(reduction) && h.format == ImageFormat::Jpeg && reduction < 8) reduction *= 2;
  if (!fits(reduction)) {
    out.error = "declared size " + std::to_string(h.width) + "x" + std::to_string(h.height) +
                " exceeds the decoding budget of " + std::to_string(limits.maxPixels) +
                " pixels / " + std::to_string(limits.maxDecodedBytes >> 20) +
                " MiB (possible decompression bomb)";
    return out;
  }
  try {
    decodeChecked(data, size, reduction, limits, h, out);
  } catch (const cv::Exception& e) {
    out.pixels.release();
    out.error = std::string("decoder error: ") + e.err;
  } catch (const std::exception& e) {
    out.pixels.release();
    out.error = std::string("decoder error: ") + e.what();
  }
  return out;
}

namespace {

// Over white, in 8 bits (no float intermediates): out = (c * a + 255 * (255 - a)) / 255.
cv::Mat compositeOverWhite(const cv::Mat& bgra) {
  cv::Mat rgb(bgra.rows, bgra.cols, CV_8UC3);
  for (int y = 0; y < bgra.rows; ++y) {
    const uint8_t* in = bgra.ptr<uint8_t>(y);
    uint8_t* o = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < bgra.cols; ++x, in += 4, o += 3) {
      const unsigned a = in[3];
      for (int c = 0; c < 3; ++c) o[c] = uint8_t((in[2 - c] * a + 255u * (255u - a) + 127u) / 255u);
    }
  }
  return rgb;
}

}  // namespace

void decodeChecked(const uint8_t* data, size_t size, int reduction, const ImageLimits& limits,
                   const ImageHeader& h, DecodedImage& out) {
  // JPEG: IMREAD_COLOR converts grey/CMYK and applies EXIF orientation. Other formats keep
  // alpha and 16-bit depth (IMREAD_UNCHANGED) so they are converted deliberately below.
  int flags = cv::IMREAD_UNCHANGED;
  if (h.format == ImageFormat::Jpeg) {
    flags = reduction == 8   ? cv::IMREAD_REDUCED_COLOR_8
            : reduction == 4 ? cv::IMREAD_REDUCED_COLOR_4
            : reduction == 2 ? cv::IMREAD_REDUCED_COLOR_2
                             : cv::IMREAD_COLOR;
  }
  const cv::Mat buf(1, static_cast<int>(size), CV_8UC1, const_cast<uint8_t*>(data));
  cv::Mat raw = cv::imdecode(buf, flags);
  if (raw.empty()) {
    out.error = std::string("corrupt ") + imageFormatName(h.format) + ": the decoder rejected it";
    return;
  }
  if (static_cast<uint64_t>(raw.total()) > limits.maxPixels) {
    out.error = "decoded size exceeds the pixel limit";
    return;
  }
  cv::Mat img8;
  if (raw.depth() == CV_8U) {
    img8 = raw;
  } else if (raw.depth() == CV_16U) {
    raw.convertTo(img8, CV_8U, 1.0 / 257.0);
  } else if (raw.depth() == CV_32F || raw.depth() == CV_64F) {
    raw.convertTo(img8, CV_8U, 255.0);
  } else {
    raw.convertTo(img8, CV_8U);
  }
  switch (img8.channels()) {
    case 1:
      cv::cvtColor(img8, out.pixels, cv::COLOR_GRAY2RGB);
      break;
    case 3:
      cv::cvtColor(img8, out.pixels, cv::COLOR_BGR2RGB);
      break;
    case 4:
      // Composite over white: transparent regions hold arbitrary colours otherwise.
      out.pixels = compositeOverWhite(img8);
      break;
    default:
      out.error = "unsupported channel count " + std::to_string(img8.channels());
      break;
  }
}

DecodedImage decodeImageFile(const std::filesystem::path& path, DecodeScale scale,
                             const ImageLimits& limits) {
  try {
    const auto bytes = readFileBytes(path, limits.maxFileBytes);
    return decodeImageBytes(bytes.data(), bytes.size(), scale, limits);
  } catch (const std::exception& e) {
    DecodedImage out;
    out.error = e.what();
    const std::string prefix = path.string() + ": ";
    if (out.error.rfind(prefix, 0) == 0) out.error.erase(0, prefix.size());
    return out;
  }
}

bool hasImageExtension(const std::filesystem::path& path) {
  static const char* kExts[] = {".jpg",  ".jpeg", ".jpe", ".png", ".bmp", ".webp", ".tif",
                                ".tiff", ".pgm",  ".ppm", ".pnm", ".pbm", ".gif"};
  const std::string ext = lowerExtension(path);
  for (const char* e : kExts) {
    if (ext == e) return true;
  }
  return false;
}

}  // namespace tlab::core
