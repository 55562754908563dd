#include "core/TextFixtures.h"

#include <cstdlib>

#include "core/util/Random.h"

namespace tlab::test {
namespace {

const std::vector<std::vector<std::string>> kTopicWords = {
    {"compiler", "kernel", "cpu", "memory", "software", "bug"},
    {"atom", "energy", "physics", "cell", "experiment", "theory"},
    {"senate", "vote", "election", "law", "minister", "party"}};
const std::vector<std::string> kFiller = {"the",  "a",   "is",  "of",    "and",
                                          "very", "new", "old", "today", "again"};

}  // namespace

TinyTextCatalog::TinyTextCatalog(int maxTokens) {
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n.\n,\n";
  for (const auto& topic : kTopicWords)
    for (const auto& w : topic) vocab += w + "\n";
  for (const auto& w : kFiller) vocab += w + "\n";
  writeText(dir_ / "tiny-vocab.txt", vocab);
  writeText(dir_ / "backbones.json",
            R"({"version": 1, "backbones": [{"id": "tiny_bert", "name": "Tiny BERT",
                "architecture": "bert_l2_h32_a4", "modality": "text",
                "input_size": )" +
                std::to_string(maxTokens) +
                R"(, "vocab": "tiny-vocab.txt", "parameters": 0, "licence": "test"}]})");
  setenv("TLAB_RESOURCE_DIR", dir_.path().c_str(), 1);
}

TinyTextCatalog::~TinyTextCatalog() { unsetenv("TLAB_RESOURCE_DIR"); }

const std::vector<std::string>& topicNames() {
  static const std::vector<std::string> names{"computers", "science", "politics"};
  return names;
}

std::string topicSentence(int i) {
  core::Rng rng(uint64_t(i) * 2654435761u + 1);
  const auto& topic = kTopicWords[size_t(i % 3)];
  std::string s;
  const int words = 5 + int(rng.below(4));
  for (int w = 0; w < words; ++w) {
    const bool topical = w == 1 || rng.below(2) == 0;  // at least one topic word
    const std::string& word =
        topical ? topic[rng.below(topic.size())] : kFiller[rng.below(kFiller.size())];
    s += (w ? " " : "") +
         (w == 0 ? std::string(1, char(std::toupper(word[0]))) + word.substr(1) : word);
  }
  return s + ".";
}

std::shared_ptr<core::Dataset> topicTexts(int perClassTrain) {
  auto ds = std::make_shared<core::Dataset>();
  ds->source = "topics";
  ds->format = "memory";
  ds->modality = core::Modality::Text;
  ds->classNames = topicNames();
  const int n = 3 * (perClassTrain + 16);
  for (int i = 0; i < n; ++i) {
    core::Sample s;
    s.text = topicSentence(i);
    s.label = i % 3;
    s.split = i < 3 * perClassTrain
                  ? core::Split::Train
                  : (i < 3 * (perClassTrain + 8) ? core::Split::Val : core::Split::Test);
    ds->samples.push_back(std::move(s));
  }
  return ds;
}

}  // namespace tlab::test
