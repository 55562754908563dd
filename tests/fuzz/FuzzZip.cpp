// The ZIP reader on raw bytes: central directory, ZIP64 records, stored and deflated entries.
#include <vector>
#include "FuzzFile.h"

#include "core/Errors.h"
#include "core/weights/ZipReader.h"

TLAB_FUZZ_TARGET(zip) {
  const std::vector<uint8_t> bytes(data, data + size);
  try {
    tlab::core::ZipReader zip("fuzz.zip", bytes);
    for (const auto& e : zip.entries()) {
      try {
        (void)zip.read(e, 1 << 20);
      } catch (const tlab::core::Error&) {
      }
    }
  } catch (const tlab::core::Error&) {
  }
  return 0;
}
