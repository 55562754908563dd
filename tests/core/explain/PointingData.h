#pragma once
// Generated data for the pointing tests: the class is decided only by one thing placed at a
// random position (a small bright shape on a cluttered dim background; one keyword among
// filler words), so a correct explanation must point at it. Seeded, so every run is the same.
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "core/util/Random.h"

namespace tlab::test {

struct ShapeImage {
  cv::Mat rgb;    ///< 8-bit RGB, size x size
  cv::Rect box;   ///< where the shape is
  int label = 0;  ///< 0 filled square, 1 plus, 2 hollow square
};
inline const std::vector<std::string>& shapeNames() {
  static const std::vector<std::string> names{"square", "plus", "ring"};
  return names;
}

/// `margin`: the shape keeps at least this many pixels from the border (a centre crop of the
/// evaluation view must not cut it).
inline ShapeImage makeShapeImage(core::Rng& rng, int size = 48, int shape = 10, int margin = 1) {
  ShapeImage s;
  s.rgb = cv::Mat(size, size, CV_8UC3);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      for (int c = 0; c < 3; ++c) s.rgb.at<cv::Vec3b>(y, x)[c] = uchar(20 + rng.below(50));
    }
  }
  // Clutter: dim lines and rectangles in random colours, never as bright as the shape.
  for (int k = 0; k < 7; ++k) {
    const cv::Scalar colour(double(40 + rng.below(80)), double(40 + rng.below(80)),
                            double(40 + rng.below(80)));
    const cv::Point a(int(rng.below(uint64_t(size))), int(rng.below(uint64_t(size))));
    const cv::Point b(int(rng.below(uint64_t(size))), int(rng.below(uint64_t(size))));
    if (k % 2) {
      cv::line(s.rgb, a, b, colour, 1 + int(rng.below(2)));
    } else {
      cv::rectangle(s.rgb, a, b, colour, rng.below(2) ? -1 : 1);
    }
  }
  s.label = int(rng.below(3));
  const int x0 = margin + int(rng.below(uint64_t(size - shape - 2 * margin + 1)));
  const int y0 = margin + int(rng.below(uint64_t(size - shape - 2 * margin + 1)));
  s.box = cv::Rect(x0, y0, shape, shape);
  const cv::Scalar bright(240 + double(rng.below(16)), 240 + double(rng.below(16)),
                          240 + double(rng.below(16)));
  const int mid = shape / 2, half = std::max(1, shape / 7);
  switch (s.label) {
    case 0:
      cv::rectangle(s.rgb, s.box, bright, -1);
      break;
    case 1:
      cv::rectangle(s.rgb, cv::Rect(x0, y0 + mid - half, shape, 2 * half + 1), bright, -1);
      cv::rectangle(s.rgb, cv::Rect(x0 + mid - half, y0, 2 * half + 1, shape), bright, -1);
      break;
    default:
      cv::rectangle(s.rgb, s.box, bright, 2);
      break;
  }
  return s;
}

struct KeywordText {
  std::string text;
  std::string keyword;
  int label = 0;
};
inline const std::vector<std::string>& keywordFiller() {
  static const std::vector<std::string> words{
      "the",  "a",    "of", "and",   "to",   "in",   "is", "it", "that", "was", "for",  "on",
      "with", "as",   "at", "by",    "this", "from", "or", "an", "but",  "not", "what", "all",
      "were", "when", "we", "there", "can",  "more", "if", "no", "out",  "so",  "said", "up"};
  return words;
}
inline const std::vector<std::vector<std::string>>& keywordsByClass() {
  static const std::vector<std::vector<std::string>> k{
      {"excellent", "wonderful"}, {"terrible", "awful"}, {"average", "mediocre"}};
  return k;
}
/// The vocabulary file's content for these texts (specials, filler, keywords).
inline std::string keywordVocab() {
  std::string v = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n";
  for (const auto& w : keywordFiller()) v += w + "\n";
  for (const auto& c : keywordsByClass())
    for (const auto& w : c) v += w + "\n";
  return v;
}
/// Labels 0-2: one keyword of that class among filler words. With `withNone`, a quarter of the
/// texts are filler only, label 3 ("none"): without them a model may learn the last class as
/// "no keyword of the others", and that class's own keyword would not matter to it.
inline KeywordText makeKeywordText(core::Rng& rng, bool withNone = false) {
  KeywordText t;
  t.label = withNone && rng.below(4) == 0 ? 3 : int(rng.below(3));
  const int words = 6 + int(rng.below(5));
  if (t.label == 3) {
    for (int i = 0; i < words; ++i)
      t.text += (i ? " " : "") + keywordFiller()[rng.below(keywordFiller().size())];
    return t;
  }
  const auto& kw = keywordsByClass()[size_t(t.label)];
  t.keyword = kw[rng.below(kw.size())];
  const int at = int(rng.below(uint64_t(words)));
  for (int i = 0; i < words; ++i) {
    const std::string& w = i == at ? t.keyword : keywordFiller()[rng.below(keywordFiller().size())];
    t.text += (i ? " " : "") + w;
  }
  return t;
}

}  // namespace tlab::test
