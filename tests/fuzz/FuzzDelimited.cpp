// CSV/TSV/JSONL text: the RFC 4180 parser directly, then the manifest and text-dataset readers
// on the same bytes as a file (the first byte picks .csv, .tsv or .jsonl).
#include <string_view>

#include "FuzzFile.h"
#include "core/Errors.h"
#include "core/dataset/Readers.h"
#include "core/util/Csv.h"

TLAB_FUZZ_TARGET(delimited) {
  if (size < 1) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)tlab::core::parseDelimited(text, tlab::core::detectDelimiter(text, ""));
  static const char* kNames[] = {"m.csv", "m.tsv", "t.jsonl"};
  const auto path = tlab::fuzz::writeInput(kNames[data[0] % 3], data + 1, size - 1);
  try {
    if (data[0] % 3 == 2) {
      (void)tlab::core::readTextDataset(path);
    } else {
      (void)tlab::core::openDataset(path);
    }
  } catch (const tlab::core::Error&) {
  }
  return 0;
}
