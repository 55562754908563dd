#pragma once
// RFC 4180 delimited-text parser: quoted fields may hold the delimiter, doubled quotes and line
// breaks. Reports the 1-based line on which each record starts so warnings can point at it.
#include <string>
#include <string_view>
#include <vector>

namespace tlab::core {

struct CsvRecord {
  size_t line = 0;  ///< 1-based line where the record starts
  std::vector<std::string> fields;
};

struct CsvProblem {
  size_t line = 0;
  std::string reason;
};

struct CsvParseResult {
  std::vector<CsvRecord> records;  ///< blank lines are dropped
  std::vector<CsvProblem> problems;
};

/// Parses `text` (BOM stripped). An unterminated quoted field is reported and drops the rest.
CsvParseResult parseDelimited(std::string_view text, char delimiter);

/// Chooses ',' or '\t' for a manifest: by extension (.tsv/.tab), else by the first line's content.
char detectDelimiter(std::string_view text, const std::string& extension);

}  // namespace tlab::core
