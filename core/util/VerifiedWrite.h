#pragma once
// Writing a user-facing export (a predictions CSV, a split manifest): atomically, then read back
// and compared byte for byte, so "exported" means the bytes are on disk as intended (a short
// write on a full or flaky disk is an error naming the file, not a silently truncated export).
#include <filesystem>
#include <string>

#include "core/Errors.h"
#include "core/util/FileUtil.h"

namespace tlab::core {

inline void writeFileVerified(const std::filesystem::path& path, const std::string& bytes) {
  writeFileAtomic(path, bytes);
  const std::string back = readTextFile(path, bytes.size() + 1);
  if (back != bytes)
    throw IoError(path.string(), "read back " + std::to_string(back.size()) +
                                     " bytes that differ from the " + std::to_string(bytes.size()) +
                                     " written");
}

}  // namespace tlab::core
