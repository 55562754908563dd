#pragma once
// The BERT WordPiece tokenizer (uncased variant: lower-casing and accent stripping), matching
// Hugging Face's BertTokenizer: text cleaning (control characters dropped, every Unicode space
// becomes a separator), CJK ideographs split one per token, punctuation split off, then greedy
// longest-match WordPiece with "##" continuations; a word without a match, or longer than 100
// characters, becomes [UNK]. Literal special tokens in the text ("[SEP]") are tokenized as text.
//
// Immutable after load(); every method is const and thread-safe.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tlab::core {

/// One text as model input: [CLS] pieces [SEP], cut to the maximum length.
struct TokenizedText {
  std::vector<int64_t> ids;
  size_t pieces = 0;       ///< WordPiece tokens before truncation (specials not counted)
  bool truncated = false;  ///< pieces had to be dropped to fit
};

/// A padded batch: ids and attention mask, both row-major [count, length].
struct TokenBatch {
  int64_t count = 0, length = 0;
  std::vector<int64_t> ids, mask;
  size_t truncated = 0;  ///< texts that were cut
};

enum class Padding { Longest, MaxLength };

class WordPieceTokenizer {
 public:
  struct Options {
    bool lowerCase = true;  ///< also strips accents, as BERT uncased does
    size_t maxCharsPerWord = 100;
  };

  /// Reads a vocab.txt (one token per line, id = line number). Throws IoError/FormatError naming
  /// the file when it is unreadable or lacks [PAD], [UNK], [CLS] or [SEP].
  static std::shared_ptr<const WordPieceTokenizer> load(const std::filesystem::path& vocabFile,
                                                        Options options);
  static std::shared_ptr<const WordPieceTokenizer> load(const std::filesystem::path& vocabFile) {
    return load(vocabFile, Options{});
  }

  /// WordPiece tokens of `utf8` (invalid UTF-8 bytes count as U+FFFD and are dropped).
  std::vector<std::string> tokenize(std::string_view utf8) const;
  /// Ids of tokenize(utf8), without special tokens.
  std::vector<int64_t> pieceIds(std::string_view utf8) const;
  /// [CLS] + pieces + [SEP], at most maxLength (>= 2) ids; no padding.
  TokenizedText encode(std::string_view utf8, size_t maxLength) const;
  /// Encodes and pads ([PAD], mask 0) to the longest text or to maxLength.
  TokenBatch encodeBatch(const std::vector<std::string_view>& texts, size_t maxLength,
                         Padding padding) const;

  size_t vocabSize() const { return tokens_.size(); }
  const std::string& token(int64_t id) const { return tokens_.at(size_t(id)); }
  int64_t padId() const { return pad_; }
  int64_t unkId() const { return unk_; }
  int64_t clsId() const { return cls_; }
  int64_t sepId() const { return sep_; }
  const Options& options() const { return options_; }
  const std::filesystem::path& vocabFile() const { return vocabFile_; }

 private:
  void wordPiece(const std::string& word, std::vector<std::string>& out) const;

  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
  int64_t pad_ = 0, unk_ = 0, cls_ = 0, sep_ = 0;
  Options options_;
  std::filesystem::path vocabFile_;
};

}  // namespace tlab::core
