#pragma once
// Tiny text fixtures: a three-topic corpus generated from word lists with a fixed seed, and a
// resource folder whose catalog holds a 2-layer, 32-wide BERT ("tiny_bert") over a matching
// vocabulary, so text training runs in seconds.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/TestImages.h"
#include "core/dataset/Dataset.h"

namespace tlab::test {

/// Points TLAB_RESOURCE_DIR at a temp folder holding the tiny catalog; restores it on exit.
class TinyTextCatalog {
 public:
  explicit TinyTextCatalog(int maxTokens = 16);
  ~TinyTextCatalog();
  const std::filesystem::path& directory() const { return dir_.path(); }

 private:
  TempDir dir_;
};

/// Sentence `i` of the corpus: topic words of class i % 3 mixed with neutral filler words.
std::string topicSentence(int i);
const std::vector<std::string>& topicNames();

/// In-memory text dataset: perClassTrain x 3 training samples, 8 x 3 validation, 8 x 3 test.
std::shared_ptr<core::Dataset> topicTexts(int perClassTrain = 20);

}  // namespace tlab::test
