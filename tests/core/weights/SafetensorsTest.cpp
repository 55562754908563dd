#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/util/Random.h"
#include "core/weights/StateDict.h"

namespace tlab::core {
namespace {
using test::TempDir;

StateDict sample() {
  return {{"a.weight", torch::arange(6, torch::kFloat).reshape({2, 3})},
          {"a.bias", torch::tensor({-1.0f, 2.0f})},
          {"count", torch::tensor(int64_t(5))}};
}

TEST(Safetensors, RoundTripKeepsNamesShapesValuesAndOrder) {
  TempDir dir;
  writeSafetensors(dir / "w.safetensors", sample(), {{"note", "hello"}});
  const StateDict back = readSafetensors(dir / "w.safetensors");
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0].first, "a.weight");
  EXPECT_TRUE(torch::equal(back[0].second, sample()[0].second));
  EXPECT_TRUE(torch::equal(back[1].second, sample()[1].second));
  EXPECT_EQ(back[2].second.scalar_type(), torch::kLong);
  EXPECT_EQ(back[2].second.item<int64_t>(), 5);
  EXPECT_EQ(readWeights(dir / "w.safetensors").size(), 3u);  // detected by content
}

// Builds a file from a JSON header and a data blob, exactly as given (no validation).
void writeRaw(const std::filesystem::path& p, const std::string& header, const std::string& data,
              uint64_t declaredLen = UINT64_MAX) {
  const uint64_t len = declaredLen == UINT64_MAX ? header.size() : declaredLen;
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = char((len >> (8 * i)) & 0xFF);
  test::writeText(p, bytes + header + data);
}

void expectError(const std::filesystem::path& p, const std::string& mention) {
  try {
    readSafetensors(p);
    FAIL() << "expected an error mentioning " << mention;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(p.filename().string()), std::string::npos) << e.what();
  }
}

TEST(Safetensors, MalformedFilesAreClearErrors) {
  TempDir dir;
  const std::string data(16, '\x01');
  auto t = [](const char* dtype, const char* shape, int b, int e) {
    return std::string("\"") + "t\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
           ",\"data_offsets\":[" + std::to_string(b) + "," + std::to_string(e) + "]}";
  };
  writeRaw(dir / "huge.st", "{}", "", uint64_t(1) << 40);
  expectError(dir / "huge.st", "limit");
  writeRaw(dir / "past.st", "{}", "", 5000);
  expectError(dir / "past.st", "truncated");
  writeRaw(dir / "json.st", "{not json", data);
  expectError(dir / "json.st", "JSON");
  writeRaw(dir / "dtype.st", "{" + t("F128", "[4]", 0, 16) + "}", data);
  expectError(dir / "dtype.st", "not supported");
  writeRaw(dir / "outside.st", "{" + t("F32", "[8]", 0, 32) + "}", data);
  expectError(dir / "outside.st", "outside");
  writeRaw(dir / "shape.st", "{" + t("F32", "[3]", 0, 16) + "}", data);
  expectError(dir / "shape.st", "shape x dtype");
  writeRaw(dir / "overlap.st",
           "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
           "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
           std::string(12, '\0'));
  expectError(dir / "overlap.st", "overlaps");
  writeRaw(dir / "hole.st",
           "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
           "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
           std::string(12, '\0'));
  expectError(dir / "hole.st", "hole");
  writeRaw(dir / "lying.st", "{" + t("F32", "[1000000000000]", 0, 16) + "}", data);
  expectError(dir / "lying.st", "larger than the file");
  test::writeText(dir / "tiny.st", "abc");
  expectError(dir / "tiny.st", "8-byte");
}

TEST(Safetensors, EveryTruncationIsRejected) {
  TempDir dir;
  writeSafetensors(dir / "w.safetensors", sample());
  std::ifstream in(dir / "w.safetensors", std::ios::binary);
  const std::string full((std::istreambuf_iterator<char>(in)), {});
  for (size_t cut = 0; cut < full.size(); ++cut) {
    test::writeText(dir / "cut.safetensors", full.substr(0, cut));
    EXPECT_THROW(readSafetensors(dir / "cut.safetensors"), Error) << "cut at " << cut;
  }
}

TEST(Safetensors, RandomBytesAreRejected) {
  TempDir dir;
  Rng rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<uint8_t> bytes(1 + rng.below(300));
    for (auto& b : bytes) b = uint8_t(rng.next());
    test::writeBytes(dir / "r.st", bytes);
    EXPECT_THROW(readSafetensors(dir / "r.st"), Error);
  }
}

}  // namespace
}  // namespace tlab::core
