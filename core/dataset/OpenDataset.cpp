#include <algorithm>

#include "core/Errors.h"
#include "core/dataset/Hdf5Dataset.h"
#include "core/dataset/Readers.h"
#include "core/image/ImageDecoder.h"
#include "core/util/FileUtil.h"
#include "core/util/Utf8.h"

namespace tlab::core {
namespace fs = std::filesystem;
namespace {

bool folderHasIdx(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.find("idx3") != std::string::npos && n.find("images") != std::string::npos) return true;
  }
  return false;
}

// Looks (bounded) into the class folders: mostly .txt files means a text dataset.
bool folderIsText(const fs::path& dir) {
  size_t txt = 0, images = 0, seen = 0;
  for (auto it =
           fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied);
       it != fs::recursive_directory_iterator() && seen < 2000; ++it) {
    if (!it->is_regular_file()) continue;
    ++seen;
    if (lowerExtension(it->path()) == ".txt") ++txt;
    if (hasImageExtension(it->path())) ++images;
  }
  return txt > images;
}

// A CSV whose header names a "text" column is a text dataset; otherwise an image manifest.
bool csvIsText(const fs::path& file) {
  // The header line only, bounded: the file may be huge or a link to an endless device.
  const std::string first = asciiLower(readFirstLine(file, 4096));
  for (const char* sep : {",", "\t"}) {
    if (first.rfind(std::string("text") + sep, 0) == 0 ||
        first.find(std::string(sep) + "text") != std::string::npos) {
      return true;
    }
  }
  return false;
}

fs::path withoutTrailingSlash(const fs::path& p) {
  fs::path n = p.lexically_normal();
  if (n.filename().empty() && n.has_parent_path()) n = n.parent_path();
  return n;
}

}  // namespace

const char* datasetFormatName(DatasetFormat format) { return kDatasetFormatNames.name(format); }

DatasetFormat parseDatasetFormat(const std::string& name) {
  return kDatasetFormatNames.parse(name, "dataset format");
}

DatasetFormat detectDatasetFormat(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw IoError(path.string(), "no such file or folder");
  if (fs::is_directory(path, ec)) {
    if (folderHasIdx(path)) return DatasetFormat::Idx;
    return folderIsText(path) ? DatasetFormat::Text : DatasetFormat::Folder;
  }
  if (looksLikeHdf5(path)) return DatasetFormat::Hdf5;
  const std::string ext = lowerExtension(path);
  const std::string name = path.filename().string();
  if (name.find("idx") != std::string::npos) return DatasetFormat::Idx;
  if (ext == ".jsonl" || ext == ".ndjson") return DatasetFormat::Text;
  if (ext == ".csv" || ext == ".tsv" || ext == ".tab" || ext == ".txt") {
    return csvIsText(path) ? DatasetFormat::Text : DatasetFormat::Csv;
  }
  throw FormatError(path.string(), "cannot tell the dataset format; pass --format explicitly");
}

Dataset openDataset(const fs::path& rawPath, const ReadOptions& options) {
  const fs::path path = withoutTrailingSlash(rawPath);
  const DatasetFormat format =
      options.format == DatasetFormat::Auto ? detectDatasetFormat(path) : options.format;
  switch (format) {
    case DatasetFormat::Folder:
      return readImageFolder(path, options.cancel);
    case DatasetFormat::Csv:
      return readCsvManifest(path, options.pathPolicy, options.cancel);
    case DatasetFormat::Idx:
      return readIdx(path);
    case DatasetFormat::Hdf5:
      return readHdf5Dataset(path);
    case DatasetFormat::Text:
      return readTextDataset(path, options.cancel);
    case DatasetFormat::Auto:
      break;
  }
  throw InvalidArgument("unreachable dataset format");
}

}  // namespace tlab::core
