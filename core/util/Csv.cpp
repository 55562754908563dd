#include "core/util/Csv.h"

#include <algorithm>

#include "core/util/Utf8.h"

namespace tlab::core {

namespace {

// RFC 4180 with a configurable delimiter, one character at a time.
class DelimitedParser {
 public:
  DelimitedParser(std::string_view text, char delimiter) : text_(text), delimiter_(delimiter) {
    record_.line = 1;
  }

  CsvParseResult parse() && {
    for (i_ = 0; i_ < text_.size(); ++i_) {
      if (inQuotes_) {
        quoted(text_[i_]);
      } else {
        unquoted(text_[i_]);
      }
    }
    if (inQuotes_) {
      result_.problems.push_back(
          {quoteStartLine_, "quoted field opened here is never closed; rest of file ignored"});
      return std::move(result_);
    }
    if (!field_.empty() || !record_.fields.empty() || recordHasContent_) endRecord();
    return std::move(result_);
  }

 private:
  // Inside quotes: "" is a quote, a lone " closes the field, newlines are data.
  void quoted(char c) {
    if (c == '"') {
      if (i_ + 1 < text_.size() && text_[i_ + 1] == '"') {
        field_.push_back('"');
        ++i_;
      } else {
        inQuotes_ = false;
      }
    } else {
      if (c == '\n') ++line_;
      field_.push_back(c);
    }
  }

  void unquoted(char c) {
    if (c == '"' && field_.empty() && !fieldWasQuoted_) {
      inQuotes_ = true;
      fieldWasQuoted_ = true;
      recordHasContent_ = true;
      quoteStartLine_ = line_;
    } else if (c == delimiter_) {
      recordHasContent_ = true;
      endField();
    } else if (c == '\r' && i_ + 1 < text_.size() && text_[i_ + 1] == '\n') {
      // CRLF: the '\n' ends the record
    } else if (c == '\n') {
      endRecord();
      ++line_;
      record_.line = line_;
    } else {
      recordHasContent_ = true;
      field_.push_back(c);
    }
  }

  void endField() {
    record_.fields.push_back(std::move(field_));
    field_.clear();
    fieldWasQuoted_ = false;
  }

  // A record of one empty field on a line of its own is a blank line, not a record.
  void endRecord() {
    endField();
    const bool blank =
        record_.fields.size() == 1 && record_.fields[0].empty() && !recordHasContent_;
    if (!blank) result_.records.push_back(std::move(record_));
    record_ = CsvRecord{};
    recordHasContent_ = false;
  }

  std::string_view text_;
  char delimiter_;
  size_t i_ = 0, line_ = 1, quoteStartLine_ = 0;
  CsvParseResult result_;
  CsvRecord record_;
  std::string field_;
  bool inQuotes_ = false, fieldWasQuoted_ = false, recordHasContent_ = false;
};

}  // namespace

CsvParseResult parseDelimited(std::string_view input, char delimiter) {
  return DelimitedParser(stripBom(input), delimiter).parse();
}

char detectDelimiter(std::string_view text, const std::string& extension) {
  if (extension == ".tsv" || extension == ".tab") return '\t';
  if (extension == ".csv") return ',';
  const auto firstLine = text.substr(0, text.find('\n'));
  const auto tabs = std::count(firstLine.begin(), firstLine.end(), '\t');
  const auto commas = std::count(firstLine.begin(), firstLine.end(), ',');
  return tabs > commas ? '\t' : ',';
}

}  // namespace tlab::core
