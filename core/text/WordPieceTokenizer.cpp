#include "core/text/WordPieceTokenizer.h"

#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>

#include "core/Errors.h"
#include "core/util/FileUtil.h"

namespace tlab::core {
namespace {

constexpr uint64_t kMaxVocabBytes = 64ULL << 20;

bool inMask(UChar32 c, uint32_t mask) { return (U_GET_GC_MASK(c) & mask) != 0; }

// The character classes of BERT's BasicTokenizer (ASCII symbols count as punctuation there).
bool isBertWhitespace(UChar32 c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || inMask(c, U_GC_ZS_MASK);
}
bool isBertControl(UChar32 c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return inMask(c, U_GC_C_MASK);
}
bool isBertPunctuation(UChar32 c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
      (c >= 123 && c <= 126))
    return true;
  return inMask(c, U_GC_P_MASK);
}
bool isCjkIdeograph(UChar32 c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}
// Python's str.split() also separates at these (they survive cleaning: not controls, not Zs).
bool isSeparator(UChar32 c) { return c == ' ' || c == 0x2028 || c == 0x2029; }

template <typename F>
void forEachCodePoint(const icu::UnicodeString& s, F f) {
  for (int32_t i = 0; i < s.length();) {
    const UChar32 c = s.char32At(i);
    f(c);
    i += U16_LENGTH(c);
  }
}

// Drops controls and U+FFFD (also what invalid UTF-8 became), maps spaces to ' ' and puts
// spaces around CJK ideographs; then NFC, as the reference tokenizer does.
icu::UnicodeString cleanText(std::string_view utf8) {
  const icu::UnicodeString in =
      icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), int32_t(utf8.size())));
  icu::UnicodeString out;
  forEachCodePoint(in, [&](UChar32 c) {
    if (c == 0 || c == 0xFFFD || isBertControl(c)) return;
    if (isBertWhitespace(c)) {
      out.append(UChar32(' '));
    } else if (isCjkIdeograph(c)) {
      out.append(UChar32(' ')).append(c).append(UChar32(' '));
    } else {
      out.append(c);
    }
  });
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) throw Error("ICU: NFC normaliser unavailable");
  icu::UnicodeString normalized = nfc->normalize(out, status);
  if (U_FAILURE(status)) throw Error("ICU: NFC normalisation failed");
  return normalized;
}

// Lower-cases one code point at a time, as the reference does (so no context-dependent
// mappings: a word-final capital sigma becomes σ, not ς), then drops combining marks.
icu::UnicodeString lowerAndStripAccents(const icu::UnicodeString& word) {
  icu::UnicodeString lower;
  forEachCodePoint(word, [&](UChar32 c) {
    icu::UnicodeString one(c);
    lower.append(one.toLower(icu::Locale::getRoot()));
  });
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  if (U_FAILURE(status)) throw Error("ICU: NFD normaliser unavailable");
  const icu::UnicodeString decomposed = nfd->normalize(lower, status);
  if (U_FAILURE(status)) throw Error("ICU: NFD normalisation failed");
  icu::UnicodeString out;
  forEachCodePoint(decomposed, [&](UChar32 c) {
    if (u_charType(c) != U_NON_SPACING_MARK) out.append(c);
  });
  return out;
}

std::string toUtf8(const icu::UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  return out;
}

// Whitespace split, optional lower-casing/accent stripping, then punctuation split off.
std::vector<std::string> basicTokens(std::string_view utf8, bool lowerCase) {
  const icu::UnicodeString text = cleanText(utf8);
  std::vector<std::string> out;
  icu::UnicodeString word;
  auto flushWord = [&] {
    if (word.isEmpty()) return;
    const icu::UnicodeString w = lowerCase ? lowerAndStripAccents(word) : word;
    word.remove();
    icu::UnicodeString piece;
    forEachCodePoint(w, [&](UChar32 c) {
      if (isBertPunctuation(c)) {
        if (!piece.isEmpty()) out.push_back(toUtf8(piece));
        piece.remove();
        out.push_back(toUtf8(icu::UnicodeString(c)));
      } else {
        piece.append(c);
      }
    });
    if (!piece.isEmpty()) out.push_back(toUtf8(piece));
  };
  forEachCodePoint(text, [&](UChar32 c) {
    if (isSeparator(c)) {
      flushWord();
    } else {
      word.append(c);
    }
  });
  flushWord();
  return out;
}

}  // namespace

std::shared_ptr<const WordPieceTokenizer> WordPieceTokenizer::load(
    const std::filesystem::path& vocabFile, Options options) {
  const std::string content = readTextFile(vocabFile, kMaxVocabBytes);
  auto t = std::make_shared<WordPieceTokenizer>();
  t->options_ = options;
  t->vocabFile_ = vocabFile;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string token = content.substr(start, end - start);
    if (!token.empty() && token.back() == '\r') token.pop_back();
    t->ids_[token] = int64_t(t->tokens_.size());
    t->tokens_.push_back(std::move(token));
    start = end + 1;
  }
  auto special = [&](const char* name) {
    const auto it = t->ids_.find(name);
    if (it == t->ids_.end())
      throw FormatError(vocabFile.string(),
                        std::string("not a WordPiece vocabulary: no ") + name + " token");
    return it->second;
  };
  t->pad_ = special("[PAD]");
  t->unk_ = special("[UNK]");
  t->cls_ = special("[CLS]");
  t->sep_ = special("[SEP]");
  return t;
}

void WordPieceTokenizer::wordPiece(const std::string& word, std::vector<std::string>& out) const {
  // Byte offsets of the code point boundaries (the word is valid UTF-8: it came from ICU).
  std::vector<size_t> bounds;
  for (size_t i = 0; i < word.size(); ++i) {
    if ((uint8_t(word[i]) & 0xC0) != 0x80) bounds.push_back(i);
  }
  bounds.push_back(word.size());
  const size_t chars = bounds.size() - 1;
  if (chars > options_.maxCharsPerWord) {
    out.push_back(tokens_[size_t(unk_)]);
    return;
  }
  std::vector<std::string> pieces;
  size_t start = 0;
  while (start < chars) {
    size_t end = chars;
    std::string match;
    for (; end > start; --end) {
      std::string candidate = word.substr(bounds[start], bounds[end] - bounds[start]);
      if (start > 0) candidate = "##" + candidate;
      if (ids_.count(candidate)) {
        match = std::move(candidate);
        break;
      }
    }
    if (match.empty()) {
      out.push_back(tokens_[size_t(unk_)]);
      return;
    }
    pieces.push_back(std::move(match));
    start = end;
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view utf8) const {
  std::vector<std::string> out;
  for (const auto& word : basicTokens(utf8, options_.lowerCase)) wordPiece(word, out);
  return out;
}

std::vector<int64_t> WordPieceTokenizer::pieceIds(std::string_view utf8) const {
  std::vector<int64_t> ids;
  for (const auto& t : tokenize(utf8)) ids.push_back(ids_.at(t));
  return ids;
}

TokenizedText WordPieceTokenizer::encode(std::string_view utf8, size_t maxLength) const {
  if (maxLength < 2) throw InvalidArgument("tokenizer: maximum length must be at least 2");
  const std::vector<int64_t> pieces = pieceIds(utf8);
  TokenizedText t;
  t.pieces = pieces.size();
  const size_t keep = std::min(pieces.size(), maxLength - 2);
  t.truncated = keep < pieces.size();
  t.ids.reserve(keep + 2);
  t.ids.push_back(cls_);
  t.ids.insert(t.ids.end(), pieces.begin(), pieces.begin() + ptrdiff_t(keep));
  t.ids.push_back(sep_);
  return t;
}

TokenBatch WordPieceTokenizer::encodeBatch(const std::vector<std::string_view>& texts,
                                           size_t maxLength, Padding padding) const {
  std::vector<TokenizedText> encoded;
  encoded.reserve(texts.size());
  TokenBatch b;
  b.count = int64_t(texts.size());
  b.length = padding == Padding::MaxLength ? int64_t(maxLength) : 0;
  for (const auto& t : texts) {
    encoded.push_back(encode(t, maxLength));
    b.length = std::max(b.length, int64_t(encoded.back().ids.size()));
    if (encoded.back().truncated) ++b.truncated;
  }
  b.ids.assign(size_t(b.count * b.length), pad_);
  b.mask.assign(size_t(b.count * b.length), 0);
  for (size_t i = 0; i < encoded.size(); ++i) {
    const auto& ids = encoded[i].ids;
    std::copy(ids.begin(), ids.end(), b.ids.begin() + ptrdiff_t(i * size_t(b.length)));
    std::fill_n(b.mask.begin() + ptrdiff_t(i * size_t(b.length)), ids.size(), 1);
  }
  return b;
}

}  // namespace tlab::core
