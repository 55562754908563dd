#pragma once
// Dataset readers. Each returns a Dataset; per-item problems (unreadable file, bad CSV row) are
// recorded in Dataset::skipped with file, line and reason, while problems with the source as a
// whole (missing folder, corrupt container) throw IoError/FormatError naming the file.
// Readers list and validate structure only; image pixels are decoded lazily.
#include <atomic>
#include <filesystem>
#include <string>

#include "core/dataset/Dataset.h"
#include "core/util/EnumNames.h"

namespace tlab::core {

enum class DatasetFormat { Auto, Folder, Csv, Idx, Hdf5, Text };
inline constexpr auto kDatasetFormatNames = makeNameTable(
    std::pair{DatasetFormat::Auto, "auto"}, std::pair{DatasetFormat::Folder, "folder"},
    std::pair{DatasetFormat::Csv, "csv"}, std::pair{DatasetFormat::Idx, "idx"},
    std::pair{DatasetFormat::Hdf5, "hdf5"}, std::pair{DatasetFormat::Text, "text"});
const char* datasetFormatName(DatasetFormat format);
/// "auto", "folder", "csv", "idx", "hdf5", "text"; throws InvalidArgument otherwise.
DatasetFormat parseDatasetFormat(const std::string& name);

enum class PathPolicy { StayInsideRoot, AllowOutsideRoot };

struct ReadOptions {
  DatasetFormat format = DatasetFormat::Auto;
  PathPolicy pathPolicy = PathPolicy::StayInsideRoot;  ///< for CSV manifests
  /// Listing folders and manifests stops with Cancelled at the next file or row once set.
  const std::atomic<bool>* cancel = nullptr;
};

/// Opens any supported dataset; with Auto the format is detected from the path's content.
Dataset openDataset(const std::filesystem::path& path, const ReadOptions& options = {});
/// The format Auto would pick; throws FormatError when nothing matches.
DatasetFormat detectDatasetFormat(const std::filesystem::path& path);

/// One subfolder per class, optionally below train/ val/ test/ folders.
Dataset readImageFolder(const std::filesystem::path& root,
                        const std::atomic<bool>* cancel = nullptr);
/// `path,label[,split]` manifest (CSV or TSV, optional header); paths relative to the manifest.
Dataset readCsvManifest(const std::filesystem::path& manifest, PathPolicy policy,
                        const std::atomic<bool>* cancel = nullptr);
/// A folder of IDX files (train/t10k pairs, plain or .gz) or a single images file.
Dataset readIdx(const std::filesystem::path& path);
/// `text,label[,split]` in CSV/TSV/JSONL, or a folder of .txt files per class.
Dataset readTextDataset(const std::filesystem::path& path,
                        const std::atomic<bool>* cancel = nullptr);

}  // namespace tlab::core
