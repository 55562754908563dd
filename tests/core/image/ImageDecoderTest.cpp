#include "core/image/ImageDecoder.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/TestImages.h"
#include "core/util/Random.h"

namespace tlab::core {
namespace {
using test::encode;
using test::patternRgb;

DecodedImage decode(const std::vector<uint8_t>& bytes, ImageLimits limits = {}) {
  return decodeImageBytes(bytes.data(), bytes.size(), DecodeScale::Full, limits);
}

TEST(ImageDecoder, PngDecodesToRgbInTheRightChannelOrder) {
  const auto img = decode(encode(".png", patternRgb(20, 10)));
  ASSERT_TRUE(img.ok()) << img.error;
  EXPECT_EQ(img.pixels.cols, 20);
  EXPECT_EQ(img.pixels.rows, 10);
  EXPECT_EQ(img.pixels.channels(), 3);
  EXPECT_EQ(img.pixels.at<cv::Vec3b>(0, 0), patternRgb(20, 10).at<cv::Vec3b>(0, 0));
  EXPECT_EQ(img.pixels.at<cv::Vec3b>(0, 0)[0], 220);  // red first: RGB, not BGR
}

TEST(ImageDecoder, JpegAndBmpDecode) {
  for (const char* ext : {".jpg", ".bmp"}) {
    const auto img = decode(encode(ext, patternRgb(32, 16)));
    ASSERT_TRUE(img.ok()) << ext << ": " << img.error;
    EXPECT_EQ(img.pixels.size(), cv::Size(32, 16)) << ext;
    EXPECT_GT(img.pixels.at<cv::Vec3b>(8, 2)[0], 180) << ext;   // left half red
    EXPECT_GT(img.pixels.at<cv::Vec3b>(8, 30)[2], 180) << ext;  // right half blue
  }
}

TEST(ImageDecoder, GreyscaleBecomesThreeEqualChannels) {
  cv::Mat grey(8, 8, CV_8UC1, cv::Scalar(77));
  const auto img = decode(encode(".png", grey));
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img.pixels.channels(), 3);
  EXPECT_EQ(img.pixels.at<cv::Vec3b>(3, 3), cv::Vec3b(77, 77, 77));
}

TEST(ImageDecoder, AlphaIsCompositedOverWhite) {
  cv::Mat rgba(4, 4, CV_8UC4, cv::Scalar(0, 0, 0, 0));   // fully transparent black
  rgba.at<cv::Vec4b>(0, 0) = cv::Vec4b(255, 0, 0, 255);  // one opaque red pixel
  const auto img = decode(encode(".png", rgba));
  ASSERT_TRUE(img.ok()) << img.error;
  EXPECT_EQ(img.pixels.at<cv::Vec3b>(2, 2), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(img.pixels.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 0, 0));
}

TEST(ImageDecoder, SixteenBitPngIsScaledToEightBit) {
  cv::Mat deep(4, 4, CV_16UC3, cv::Scalar(65535, 32896, 0));  // BGR order for imencode
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(cv::imencode(".png", deep, bytes));
  const auto img = decode(bytes);
  ASSERT_TRUE(img.ok()) << img.error;
  EXPECT_EQ(img.pixels.depth(), CV_8U);
  EXPECT_EQ(img.pixels.at<cv::Vec3b>(1, 1), cv::Vec3b(0, 128, 255));
}

TEST(ImageDecoder, CmykJpegDecodesToRgb) {
  const auto img = decodeImageFile(std::string(TLAB_TEST_DATA_DIR) + "/cmyk.jpg");
  ASSERT_TRUE(img.ok()) << img.error;
  EXPECT_EQ(img.pixels.size(), cv::Size(16, 12));
  EXPECT_EQ(img.pixels.channels(), 3);
  // gradient:red-blue runs top (red) to bottom (blue).
  EXPECT_GT(img.pixels.at<cv::Vec3b>(0, 8)[0], img.pixels.at<cv::Vec3b>(0, 8)[2]);
  EXPECT_LT(img.pixels.at<cv::Vec3b>(11, 8)[0], img.pixels.at<cv::Vec3b>(11, 8)[2]);
}

TEST(ImageDecoder, ExifOrientationIsApplied) {
  const cv::Mat src = patternRgb(40, 20);                    // landscape
  const auto bytes = test::jpegWithExifOrientation(src, 6);  // rotate 90 degrees clockwise
  const auto img = decode(bytes);
  ASSERT_TRUE(img.ok()) << img.error;
  EXPECT_EQ(img.pixels.size(), cv::Size(20, 40));  // now portrait
  // The red left half ends up on top after a clockwise rotation.
  EXPECT_GT(img.pixels.at<cv::Vec3b>(2, 10)[0], 180);
  EXPECT_GT(img.pixels.at<cv::Vec3b>(37, 10)[2], 180);
  // Orientation 1 leaves it as is.
  EXPECT_EQ(decode(test::jpegWithExifOrientation(src, 1)).pixels.size(), cv::Size(40, 20));
}

TEST(ImageDecoder, WrongExtensionDecodesByContent) {
  test::TempDir dir;
  test::writeBytes(dir / "actually_png.jpg", encode(".png", patternRgb(6, 6)));
  const auto img = decodeImageFile(dir / "actually_png.jpg");
  EXPECT_TRUE(img.ok()) << img.error;
}

struct BadCase {
  const char* name;
  std::vector<uint8_t> bytes;
  const char* reasonContains;
};

TEST(ImageDecoder, BadInputIsRejectedWithAReason) {
  const auto jpeg = encode(".jpg", patternRgb(64, 64));
  const auto png = encode(".png", patternRgb(64, 64));
  std::vector<uint8_t> random(500);
  for (size_t i = 0; i < random.size(); ++i) random[i] = uint8_t((i * 2654435761u) >> 13);
  const std::string text = "hello, I am not an image";
  std::vector<BadCase> cases = {
      {"empty", {}, "empty file"},
      {"truncated jpeg", {jpeg.begin(), jpeg.begin() + jpeg.size() / 2}, "truncated JPEG"},
      {"jpeg header only", {jpeg.begin(), jpeg.begin() + 20}, "truncated JPEG"},
      {"truncated png", {png.begin(), png.begin() + png.size() / 2}, "truncated PNG"},
      {"random bytes", random, "not an image"},
      {"text", {text.begin(), text.end()}, "not an image"},
      {"gif", {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0}, "unsupported image format"},
      {"bomb", test::pngHeaderOnly(60000, 60000), "exceeds the decoding budget"},
  };
  for (const auto& c : cases) {
    const auto img = decode(c.bytes);
    EXPECT_FALSE(img.ok()) << c.name;
    EXPECT_NE(img.error.find(c.reasonContains), std::string::npos)
        << c.name << " gave: " << img.error;
  }
}

TEST(ImageDecoder, PixelCapIsConfigurable) {
  const auto png = encode(".png", patternRgb(100, 100));
  ImageLimits small;
  small.maxPixels = 5000;
  EXPECT_FALSE(decode(png, small).ok());
  EXPECT_TRUE(decode(png).ok());
}

TEST(ImageDecoder, EveryPrefixOfAJpegIsRejected) {
  // Whatever the cut point, the decoder must answer (no crash, no hang) and never call a
  // prefix of the file a complete image.
  const auto jpeg = encode(".jpg", patternRgb(48, 32));
  for (size_t cut = 0; cut + 2 < jpeg.size(); cut += 7) {
    std::vector<uint8_t> part(jpeg.begin(), jpeg.begin() + cut);
    EXPECT_FALSE(decode(part).ok()) << "cut at " << cut;
  }
}

TEST(ImageDecoder, TiffAndPnmDecodeAndTheirSizesAreCapped) {
  for (const char* ext : {".tiff", ".ppm"}) {
    const auto bytes = encode(ext, patternRgb(12, 7));
    const auto h = probeImage(bytes.data(), bytes.size());
    EXPECT_EQ(h.width, 12) << ext;
    EXPECT_EQ(h.height, 7) << ext;
    EXPECT_TRUE(decode(bytes).ok()) << ext;
  }
  const std::string pnm = "P5\n# a comment\n200000 200000\n255\n";
  const auto img = decode({pnm.begin(), pnm.end()});
  EXPECT_NE(img.error.find("exceeds the decoding budget"), std::string::npos) << img.error;
  // Little-endian TIFF whose only directory declares 100000 x 100000 (LONG values).
  std::vector<uint8_t> tiff = {'I', 'I', 42, 0, 8,    0,    0,    0,    2, 0, 0, 1, 4,
                               0,   1,   0,  0, 0,    0xA0, 0x86, 0x01, 0, 1, 1, 4, 0,
                               1,   0,   0,  0, 0xA0, 0x86, 0x01, 0,    0, 0, 0, 0};
  const auto t = decode(tiff);
  EXPECT_NE(t.error.find("100000x100000"), std::string::npos) << t.error;
  // A directory offset pointing past the end is a clear error, not a read out of bounds.
  std::vector<uint8_t> lying = {'I', 'I', 42, 0, 0xFF, 0xFF, 0, 0};
  EXPECT_NE(decode(lying).error.find("TIFF"), std::string::npos);
}

TEST(ImageDecoder, CorruptedBytesNeverCrash) {
  // Flip bytes all over valid files: every result is either a proper image of the right size
  // or an error message; nothing crashes, hangs or returns an empty "success".
  for (const char* ext : {".jpg", ".png", ".bmp", ".tiff"}) {
    const auto good = encode(ext, patternRgb(40, 30));
    Rng rng(99);
    for (int trial = 0; trial < 60; ++trial) {
      auto bad = good;
      for (int k = 0; k < 4; ++k) bad[rng.next() % bad.size()] ^= uint8_t(1 + rng.next() % 255);
      const auto img = decode(bad);
      if (img.ok()) {
        EXPECT_EQ(img.pixels.channels(), 3);
        EXPECT_EQ(img.pixels.depth(), CV_8U);
      } else {
        EXPECT_FALSE(img.error.empty());
      }
    }
  }
}

TEST(ImageDecoder, MissingFileIsReported) {
  const auto img = decodeImageFile("/nonexistent/definitely/missing.png");
  EXPECT_FALSE(img.ok());
  EXPECT_NE(img.error.find("cannot open"), std::string::npos) << img.error;
}

TEST(ImageDecoder, ProbeReadsDeclaredSizes) {
  const auto jpeg = encode(".jpg", patternRgb(33, 17));
  const auto h = probeImage(jpeg.data(), jpeg.size());
  EXPECT_EQ(h.format, ImageFormat::Jpeg);
  EXPECT_EQ(h.width, 33);
  EXPECT_EQ(h.height, 17);
  const auto bmp = encode(".bmp", patternRgb(9, 5));
  const auto hb = probeImage(bmp.data(), bmp.size());
  EXPECT_EQ(hb.format, ImageFormat::Bmp);
  EXPECT_EQ(hb.width, 9);
  EXPECT_EQ(hb.height, 5);
}

}  // namespace
}  // namespace tlab::core
