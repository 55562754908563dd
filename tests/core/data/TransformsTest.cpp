#include "core/data/Transforms.h"

#include <opencv2/core.hpp>

#include <gtest/gtest.h>

#include "core/TestImages.h"

namespace tlab::core {
namespace {

TEST(Transforms, NormalisationMatchesHandComputedValues) {
  Preprocess p;
  p.inputSize = 2;
  p.mean = {0.5f, 0.25f, 0.0f};
  p.std = {0.5f, 0.25f, 1.0f};
  cv::Mat img(2, 2, CV_8UC3, cv::Scalar(255, 0, 51));
  std::vector<float> out(12);
  normalizeToChw(img, p, out.data());
  // R: (1 - 0.5) / 0.5 = 1; G: (0 - 0.25) / 0.25 = -1; B: 0.2 / 1 = 0.2. CHW layout.
  for (int i = 0; i < 4; ++i) {
    EXPECT_FLOAT_EQ(out[i], 1.0f);
    EXPECT_FLOAT_EQ(out[4 + i], -1.0f);
    EXPECT_NEAR(out[8 + i], 0.2f, 1e-6);
  }
}

TEST(Transforms, EvalViewResizesShorterSideThenCentreCrops) {
  Preprocess p;
  p.inputSize = 8;
  p.cropFraction = 0.5;  // shorter side to 16, then the central 8x8
  cv::Mat img = test::patternRgb(40, 20);
  Rng rng(0);
  const cv::Mat out = prepareImage(img, p, {}, rng);
  EXPECT_EQ(out.size(), cv::Size(8, 8));
  // 40x20 -> 32x16; the crop spans x 12..20 of 32, i.e. the middle: left cols red, right blue.
  EXPECT_GT(out.at<cv::Vec3b>(4, 0)[0], 150);
  EXPECT_GT(out.at<cv::Vec3b>(4, 7)[2], 150);
}

TEST(Transforms, ChannelConversion) {
  Preprocess grey;
  grey.inputSize = 4;
  grey.channels = 1;
  grey.cropFraction = 1.0;
  Rng rng(0);
  EXPECT_EQ(prepareImage(test::patternRgb(4, 4), grey, {}, rng).channels(), 1);
  Preprocess rgb;
  rgb.inputSize = 4;
  rgb.cropFraction = 1.0;
  const cv::Mat g(4, 4, CV_8UC1, cv::Scalar(9));
  const cv::Mat out = prepareImage(g, rgb, {}, rng);
  EXPECT_EQ(out.at<cv::Vec3b>(1, 1), cv::Vec3b(9, 9, 9));
}

TEST(Transforms, AugmentationIsSeededAndActuallyVaries) {
  Preprocess p;
  p.inputSize = 16;
  Augmentation a;
  a.enabled = true;
  a.rotationDegrees = 15;
  a.brightness = a.contrast = a.saturation = 0.4;
  const cv::Mat img = test::patternRgb(64, 48, 5);
  Rng r1(123), r2(123), r3(124);
  const cv::Mat x = prepareImage(img, p, a, r1);
  const cv::Mat y = prepareImage(img, p, a, r2);
  const cv::Mat z = prepareImage(img, p, a, r3);
  EXPECT_EQ(x.size(), cv::Size(16, 16));
  EXPECT_EQ(cv::norm(x, y, cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(x, z, cv::NORM_L1), 0.0);
}

TEST(Transforms, FlipProbabilityOneMirrors) {
  Preprocess p;
  p.inputSize = 10;
  Augmentation a;
  a.enabled = true;
  a.minScale = a.maxScale = 1.0;
  a.minRatio = a.maxRatio = 1.0;
  a.hflipProbability = 1.0;
  Rng rng(1);
  const cv::Mat out = prepareImage(test::patternRgb(10, 10), p, a, rng);
  EXPECT_GT(out.at<cv::Vec3b>(5, 0)[2], 150);  // blue now on the left
  EXPECT_GT(out.at<cv::Vec3b>(5, 9)[0], 150);
}

TEST(Transforms, RejectsBadInput) {
  Preprocess p;
  Rng rng(0);
  EXPECT_THROW(prepareImage(cv::Mat(), p, {}, rng), std::exception);
  EXPECT_THROW(prepareImage(cv::Mat(4, 4, CV_32FC3), p, {}, rng), std::exception);
}

}  // namespace
}  // namespace tlab::core
