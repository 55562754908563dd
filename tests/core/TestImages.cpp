#include "core/TestImages.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace tlab::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("tlab-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

cv::Mat patternRgb(int w, int h, uint32_t seed) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const uint8_t g = uint8_t((x * 7 + y * 3 + seed * 31) % 256);
      m.at<cv::Vec3b>(y, x) = x < w / 2 ? cv::Vec3b(220, g, 20) : cv::Vec3b(20, g, 220);
    }
  }
  return m;
}

std::vector<uint8_t> encode(const std::string& ext, const cv::Mat& rgb) {
  cv::Mat bgr;
  if (rgb.channels() == 3) {
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  } else if (rgb.channels() == 4) {
    cv::cvtColor(rgb, bgr, cv::COLOR_RGBA2BGRA);
  } else {
    bgr = rgb;
  }
  std::vector<uint8_t> out;
  if (!cv::imencode(ext, bgr, out)) throw std::runtime_error("imencode failed for " + ext);
  return out;
}

void writeBytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void writeText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

void writeImage(const fs::path& path, const cv::Mat& rgb) {
  writeBytes(path, encode(path.extension().string(), rgb));
}

std::vector<uint8_t> jpegWithExifOrientation(const cv::Mat& rgb, int orientation) {
  const auto jpeg = encode(".jpg", rgb);
  // APP1 "Exif\0\0" + little-endian TIFF header + one IFD entry: tag 0x0112 (Orientation),
  // type SHORT, count 1, value.
  std::vector<uint8_t> tiff = {'I',  'I',  0x2A, 0, 8, 0, 0, 0,  // header, IFD at offset 8
                               1,    0,                          // one entry
                               0x12, 0x01, 3,    0, 1, 0, 0, 0, uint8_t(orientation),
                               0,    0,    0,    0, 0, 0, 0};  // next IFD: none
  std::vector<uint8_t> payload = {'E', 'x', 'i', 'f', 0, 0};
  payload.insert(payload.end(), tiff.begin(), tiff.end());
  const size_t len = payload.size() + 2;
  std::vector<uint8_t> out = {0xFF, 0xD8, 0xFF, 0xE1, uint8_t(len >> 8), uint8_t(len & 0xFF)};
  out.insert(out.end(), payload.begin(), payload.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());  // rest after the original SOI
  return out;
}

std::vector<uint8_t> pngHeaderOnly(uint32_t w, uint32_t h) {
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n',
                              0,    0,   0,   13,  'I',  'H',  'D',  'R'};
  for (uint32_t v : {w, h}) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(v >> s));
  }
  const uint8_t rest[] = {8, 2, 0, 0, 0, 0, 0, 0, 0};  // depth 8, RGB, CRC (not checked)
  out.insert(out.end(), std::begin(rest), std::end(rest));
  const uint8_t iend[] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
  out.insert(out.end(), std::begin(iend), std::end(iend));
  return out;
}

}  // namespace tlab::test
