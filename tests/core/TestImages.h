#pragma once
// Tiny generated fixtures shared by the tests: images, broken files and temp folders.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace tlab::test {

/// A fresh, empty folder under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  std::filesystem::path path_;
};

/// A w x h RGB test pattern (left half red, right half blue, plus a seeded gradient).
cv::Mat patternRgb(int w, int h, uint32_t seed = 0);

/// Encodes `rgb` by extension (.jpg/.png/.bmp) and writes it, creating parent folders.
void writeImage(const std::filesystem::path& path, const cv::Mat& rgb);
std::vector<uint8_t> encode(const std::string& ext, const cv::Mat& rgb);
void writeBytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);
void writeText(const std::filesystem::path& path, const std::string& text);

/// A JPEG with an EXIF APP1 segment carrying the given orientation tag (1..8).
std::vector<uint8_t> jpegWithExifOrientation(const cv::Mat& rgb, int orientation);
/// A valid PNG signature + IHDR that declares `w` x `h` but holds no real image data.
std::vector<uint8_t> pngHeaderOnly(uint32_t w, uint32_t h);

}  // namespace tlab::test
