#include "core/util/Csv.h"

#include <algorithm>

#include "core/util/Utf8.h"

namespace tlab::core {

CsvParseResult parseDelimited(std::string_view input, char delimiter) {
  const std::string_view text = stripBom(input);
  CsvParseResult result;
  CsvRecord record;
  std::string field;
  size_t line = 1;
  record.line = 1;
  bool inQuotes = false;
  bool fieldWasQuoted = false;
  bool recordHasContent = false;
  size_t quoteStartLine = 0;

  auto endField = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    fieldWasQuoted = false;
  };
  auto endRecord = [&] {
    endField();
    const bool blank = record.fields.size() == 1 && record.fields[0].empty() && !recordHasContent;
    if (!blank) result.records.push_back(std::move(record));
    record = CsvRecord{};
    recordHasContent = false;
  };

  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inQuotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          inQuotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && field.empty() && !fieldWasQuoted) {
      inQuotes = true;
      fieldWasQuoted = true;
      recordHasContent = true;
      quoteStartLine = line;
    } else if (c == delimiter) {
      recordHasContent = true;
      endField();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;  // CRLF: the '\n' ends the record
    } else if (c == '\n') {
      endRecord();
      ++line;
      record.line = line;
    } else {
      recordHasContent = true;
      field.push_back(c);
    }
  }
  if (inQuotes) {
    result.problems.push_back(
        {quoteStartLine, "quoted field opened here is never closed; rest of file ignored"});
    return result;
  }
  if (!field.empty() || !record.fields.empty() || recordHasContent) endRecord();
  return result;
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
