// Regression tests for the hostile-file findings: one TEST per bug, named after it. Every
// fixture is built here, byte by byte.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/dataset/Readers.h"
#include "core/image/ImageDecoder.h"
#include "core/project/Project.h"
#include "core/train/CachedFeatures.h"
#include "core/train/Checkpoint.h"
#include "core/train/FeatureCache.h"
#include "core/train/OptimizerState.h"
#include "core/util/FileUtil.h"
#include "core/util/FolderWalker.h"
#include "core/util/Json.h"
#include "core/util/Trust.h"
#include "core/weights/StateDict.h"
#include "core/weights/ZipReader.h"
#include "core/zoo/BackboneLoader.h"

namespace tlab::core {
namespace {
using test::TempDir;
using Bytes = std::vector<uint8_t>;
using namespace std::string_literals;  // literals with NUL bytes

void append(Bytes& b, const std::string& s) { b.insert(b.end(), s.begin(), s.end()); }
void le32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}
std::string pstr(const std::string& s) {  // pickle BINUNICODE
  std::string out = "X";
  for (int i = 0; i < 4; ++i) out.push_back(char((s.size() >> (8 * i)) & 0xFF));
  return out + s;
}

// Legacy torch.save framing around `root` (no storages).
Bytes legacyPth(const std::string& root) {
  Bytes b;
  append(b, std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15));
  append(b, std::string("\x80\x02M\xe9\x03.", 6));
  append(b, std::string("\x80\x02}q\x00.", 6));
  append(b, root);
  append(b, std::string("\x80\x02]q\x00.", 6));
  return b;
}

void le16(Bytes& b, uint32_t v) {
  b.push_back(uint8_t(v));
  b.push_back(uint8_t(v >> 8));
}

// A stored (uncompressed) ZIP with the given entries: local headers at 0, central directory, end
// record.
Bytes storedZip(const std::vector<std::pair<std::string, std::string>>& entries) {
  Bytes body, central;
  for (const auto& [name, data] : entries) {
    const uint32_t offset = uint32_t(body.size());
    const uint32_t crc =
        uint32_t(crc32(0, reinterpret_cast<const Bytef*>(data.data()), uInt(data.size())));
    le32(body, 0x04034b50);
    for (uint32_t v : {20u, 0u, 0u, 0u, 0u}) le16(body, v);  // version, flags, method, time, date
    for (uint32_t v : {crc, uint32_t(data.size()), uint32_t(data.size())}) le32(body, v);
    le16(body, uint32_t(name.size()));
    le16(body, 0);
    append(body, name);
    append(body, data);
    le32(central, 0x02014b50);
    for (uint32_t v : {20u, 20u, 0u, 0u, 0u, 0u})
      le16(central, v);  // made, need, flags, method, time, date
    for (uint32_t v : {crc, uint32_t(data.size()), uint32_t(data.size())}) le32(central, v);
    for (uint32_t v : {uint32_t(name.size()), 0u, 0u, 0u, 0u}) le16(central, v);
    le32(central, 0);
    le32(central, offset);
    append(central, name);
  }
  Bytes out = body;
  out.insert(out.end(), central.begin(), central.end());
  le32(out, 0x06054b50);
  for (uint32_t v : {0u, 0u, uint32_t(entries.size()), uint32_t(entries.size())}) le16(out, v);
  le32(out, uint32_t(central.size()));
  le32(out, uint32_t(body.size()));
  le16(out, 0);
  return out;
}

std::string pickleInt(uint64_t v) {
  std::string s("\x8a\x08", 2);
  for (int i = 0; i < 8; ++i) s.push_back(char((v >> (8 * i)) & 0xFF));
  return s;
}

// {"w": _rebuild_tensor_v2(FloatStorage "0" of `numel`, 0, (size,), (stride,), False, {})}
std::string tensorPickle(uint64_t numel, uint64_t size, uint64_t stride) {
  return "\x80\x02}(" + pstr("w") + "ctorch._utils\n_rebuild_tensor_v2\n((" + pstr("storage") +
         "ctorch\nFloatStorage\n" + pstr("0") + pstr("cpu") + pickleInt(numel) + "tQK\x00("s +
         pickleInt(size) + "t(" + pickleInt(stride) + "t\x89}tRu.";
}

template <typename F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(HostileInput, PickleNestedThreeHundredThousandDeepIsRefusedWithoutStackOverflow) {
  TempDir dir;
  std::string root("\x80\x02N");
  root += std::string(300000, '\x85');
  root += ".";
  test::writeBytes(dir / "deep.pth", legacyPth(root));
  EXPECT_NE(errorOf([&] { readPth(dir / "deep.pth"); }).find("not a dictionary"),
            std::string::npos);
}

TEST(HostileInput, PickleListContainingItselfIsWalkedWithoutRecursion) {
  TempDir dir;
  test::writeBytes(dir / "self.pth",
                   legacyPth("\x80\x02}q\x00("s + pstr("a") + "]q\x01h\x01" + "au."));
  EXPECT_NE(errorOf([&] { readPth(dir / "self.pth"); }).find("holds no tensors"),
            std::string::npos);
}

TEST(HostileInput, StrideZeroViewOfOneFloatIsRefusedBeforeExpanding) {
  TempDir dir;
  test::writeBytes(dir / "s0.pth", storedZip({{"archive/data.pkl", tensorPickle(1, 1ULL << 33, 0)},
                                              {"archive/data/0", std::string(4, '\0')}}));
  EXPECT_NE(errorOf([&] { readPth(dir / "s0.pth"); }).find("more elements than its storage"),
            std::string::npos);
}

TEST(HostileInput, StrideProductWrappingPast2To64IsOutsideTheStorage) {
  TempDir dir;
  test::writeBytes(dir / "wrap.pth",
                   storedZip({{"archive/data.pkl", tensorPickle(16, 5, 1ULL << 62)},
                              {"archive/data/0", std::string(64, '\0')}}));
  EXPECT_NE(errorOf([&] { readPth(dir / "wrap.pth"); }).find("reach past the end"),
            std::string::npos);
}

TEST(HostileInput, StoredZipCheckpointStillReads) {
  TempDir dir;
  std::string data(16, '\0');
  const float v[4] = {1, 2, 3, 4};
  std::memcpy(data.data(), v, 16);
  test::writeBytes(dir / "ok.pth", storedZip({{"archive/data.pkl", tensorPickle(4, 4, 1)},
                                              {"archive/data/0", data}}));
  const auto sd = readPth(dir / "ok.pth");
  ASSERT_EQ(sd.size(), 1u);
  EXPECT_TRUE(torch::equal(sd[0].second, torch::tensor({1.f, 2.f, 3.f, 4.f})));
}

TEST(HostileInput, ZipEntryDeclaring4GiBFromFewBytesIsRefusedWithoutZeroFilling) {
  // One deflated entry: 1000 zero bytes compressed, but declared as 0xFFFFFFF0 bytes.
  const std::string zeros(1000, '\0');
  Bytes comp(compressBound(1000) + 16);
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
  zs.avail_in = 1000;
  zs.next_out = comp.data();
  zs.avail_out = uInt(comp.size());
  deflate(&zs, Z_FINISH);
  comp.resize(zs.total_out);
  deflateEnd(&zs);
  Bytes zip = storedZip({{"x", std::string(comp.begin(), comp.end())}});
  zip[8] = 8;                                                  // local header: method deflate
  zip[30 + 1 + comp.size() + 10] = 8;                          // central header: method deflate
  for (size_t at : {size_t(22), 30 + 1 + comp.size() + 24}) {  // uncompressed size fields
    zip[at] = 0xF0;
    zip[at + 1] = zip[at + 2] = zip[at + 3] = 0xFF;
  }
  ZipReader reader("bomb.zip", zip);
  ASSERT_EQ(reader.entries().size(), 1u);
  const std::string error = errorOf([&] { reader.read(reader.entries()[0], 1ULL << 33); });
  EXPECT_NE(error.find("impossible ratio"), std::string::npos) << error;
}

TEST(HostileInput, SafetensorsOverlapIsFoundBeforeAnyTensorIsAllocated) {
  TempDir dir;
  nlohmann::json h;
  for (int i = 0; i < 8; ++i)
    h["t" + std::to_string(i)] = {{"dtype", "F32"}, {"shape", {1024}}, {"data_offsets", {0, 4096}}};
  std::string header = h.dump();
  Bytes file(8);
  for (int i = 0; i < 8; ++i) file[i] = uint8_t((header.size() >> (8 * i)) & 0xFF);
  append(file, header);
  file.resize(file.size() + 4096);
  test::writeBytes(dir / "o.safetensors", file);
  EXPECT_NE(errorOf([&] { readSafetensors(dir / "o.safetensors"); }).find("overlaps"),
            std::string::npos);
}

TEST(HostileInput, SafetensorsDtypeNestedAMillionDeepIsRefusedBeforeParsing) {
  TempDir dir;
  const std::string header = "{\"w\":{\"dtype\":" + std::string(1000000, '[') +
                             std::string(1000000, ']') + ",\"shape\":[1],\"data_offsets\":[0,4]}}";
  Bytes file(8);
  for (int i = 0; i < 8; ++i) file[i] = uint8_t((header.size() >> (8 * i)) & 0xFF);
  append(file, header + std::string(4, '\0'));
  test::writeBytes(dir / "d.safetensors", file);
  const std::string e = errorOf([&] { readSafetensors(dir / "d.safetensors"); });
  EXPECT_NE(e.find("nests deeper than 64"), std::string::npos);
  EXPECT_LT(e.size(), 300u);  // the message does not dump the value
}

TEST(HostileInput, JsonDepthLimitIsExact) {
  const auto nested = [](int depth) {
    return std::string(depth - 1, '[') + "{}" + std::string(depth - 1, ']');
  };
  EXPECT_EQ(jsonNestingDepth("{\"a\":\"[[[[\"}", 10), 1);  // brackets inside strings do not count
  EXPECT_EQ(jsonNestingDepth(nested(64), 100), 64);
  EXPECT_NO_THROW(parseJsonDocument("{\"a\":" + nested(63) + "}", "f.json", "doc"));
  EXPECT_THROW(parseJsonDocument("{\"a\":" + nested(64) + "}", "f.json", "doc"), FormatError);
}

// Found by fuzz_documents: a "format" that is not a string threw nlohmann's type_error, an
// exception that named no file.
TEST(HostileInput, ProjectWhoseFormatIsNotAStringIsAFormatErrorNamingTheFile) {
  TempDir dir;
  test::writeText(dir / "p.tlproj", R"({"format":{"path": 4.1},"format_version":"1"})");
  const std::string e = errorOf([&] { loadProject(dir / "p.tlproj"); });
  EXPECT_NE(e.find("p.tlproj"), std::string::npos) << e;
  EXPECT_NE(e.find("not a TransferLab project"), std::string::npos) << e;
}

TEST(HostileInput, CheckpointFreezeRuleWithoutPatternIsAFormatErrorNotUndefinedBehaviour) {
  TempDir dir;
  nlohmann::json state{{"epoch", 1},
                       {"step", 1},
                       {"best_epoch", 1},
                       {"best_metric", 0.0},
                       {"epochs_without_improvement", 0},
                       {"history", nlohmann::json::array()},
                       {"extra_freeze_rules", {{{"frozen", true}}}},
                       {"lr_override", 0.0},
                       {"config", nlohmann::json::object()}};
  test::writeText(dir / "state.json", state.dump());
  EXPECT_NE(errorOf([&] { readCheckpointState(dir.path()); }).find("needs a string \"pattern\""),
            std::string::npos);
}

TEST(HostileInput, IdxDimensionsWhoseProductWrapsAreRefused) {
  TempDir dir;
  Bytes images{0, 0, 8, 3};
  for (uint32_t d : {0x80000000u, 0x80000000u, 4u})
    for (int i = 3; i >= 0; --i) images.push_back(uint8_t(d >> (8 * i)));
  test::writeBytes(dir / "train-images-idx3-ubyte", images);
  test::writeBytes(dir / "train-labels-idx1-ubyte", Bytes{0, 0, 8, 1, 0, 0, 0, 0});
  EXPECT_NE(errorOf([&] { readIdx(dir.path()); }).find("absurdly large"), std::string::npos);
}

TEST(HostileInput, JpegHiddenFrameBehindStuffedZeroIsSeenByTheProbe) {
  // FF 00 is not a marker for libjpeg: the frame header after it is the one it decodes.
  auto sof = [](uint16_t w, uint16_t h) {
    return std::string("\xff\xc0\x00\x11\x08", 5) + char(h >> 8) + char(h & 0xFF) + char(w >> 8) +
           char(w & 0xFF) + std::string("\x03\x01\x11\x00\x02\x11\x00\x03\x11\x00", 10);
  };
  const std::string sos("\xff\xda\x00\x0c\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00", 14);
  const std::string hidden = sof(32768, 32768) + sos + std::string(64, '\0');
  const std::string visible = sof(8, 8) + sos + std::string(16, '\0');
  std::string jpeg = std::string("\xff\xd8\xff\x00", 4);
  jpeg += char((hidden.size() + 2) >> 8);
  jpeg += char((hidden.size() + 2) & 0xFF);
  jpeg += hidden + visible + "\xff\xd9";
  const auto* d = reinterpret_cast<const uint8_t*>(jpeg.data());
  const ImageHeader h = probeImage(d, jpeg.size());
  EXPECT_EQ(h.width, 32768);
  EXPECT_EQ(h.height, 32768);
  // Over the budget, a JPEG is decoded at 1/8 scale at most: never the declared 3 GB.
  const DecodedImage img = decodeImageBytes(d, jpeg.size());
  if (img.ok()) {
    EXPECT_LE(img.pixels.total(), size_t(4096 * 4096));
  }
}

TEST(HostileInput, TiffDuplicateSizeTagsKeepTheFirstAsLibtiffDoes) {
  Bytes t{'I', 'I', '*', 0, 8, 0, 0, 0, 4, 0};
  auto entry = [&](uint16_t tag, uint32_t value) {
    t.push_back(uint8_t(tag));
    t.push_back(uint8_t(tag >> 8));
    t.push_back(4);
    t.push_back(0);
    le32(t, 1);
    le32(t, value);
  };
  entry(256, 30000);
  entry(257, 30000);
  entry(256, 8);
  entry(257, 8);
  le32(t, 0);
  const ImageHeader h = probeImage(t.data(), t.size());
  EXPECT_EQ(h.width, 30000);
  EXPECT_EQ(h.height, 30000);
}

TEST(HostileInput, RgbaCompositesOverWhiteInEightBits) {
  cv::Mat bgra(1, 2, CV_8UC4);
  bgra.at<cv::Vec4b>(0, 0) = {10, 100, 200, 128};  // B, G, R, A
  bgra.at<cv::Vec4b>(0, 1) = {0, 0, 0, 0};
  std::vector<uint8_t> png;
  cv::imencode(".png", bgra, png);
  const DecodedImage img = decodeImageBytes(png.data(), png.size());
  ASSERT_TRUE(img.ok()) << img.error;
  const auto px = img.pixels.at<cv::Vec3b>(0, 0);  // RGB: (c * a + 255 * (255 - a) + 127) / 255
  EXPECT_EQ(px[0], (200 * 128 + 255 * 127 + 127) / 255);
  EXPECT_EQ(px[1], (100 * 128 + 255 * 127 + 127) / 255);
  EXPECT_EQ(px[2], (10 * 128 + 255 * 127 + 127) / 255);
  EXPECT_EQ(img.pixels.at<cv::Vec3b>(0, 1), cv::Vec3b(255, 255, 255));
}

TEST(HostileInput, LargeJpegIsDecodedAtTheReductionThatFitsTheBudget) {
  const auto jpg = test::encode(".jpg", test::patternRgb(3000, 2000));  // 6 MP: 24 MB at 4 B/px
  ImageLimits limits;
  limits.maxPixels = 2'000'000;
  const DecodedImage img = decodeImageBytes(jpg.data(), jpg.size(), DecodeScale::Full, limits);
  ASSERT_TRUE(img.ok()) << img.error;
  EXPECT_EQ(img.pixels.cols, 1500);  // 1/2 scale: 1.5 MP
  EXPECT_EQ(img.pixels.rows, 1000);
  const auto png = test::encode(".png", test::patternRgb(3000, 2000));
  EXPECT_NE(decodeImageBytes(png.data(), png.size(), DecodeScale::Full, limits)
                .error.find("decoding budget"),
            std::string::npos);
}

TEST(HostileInput, DecodeBudgetRefusesLargeRgbaBeforeDecoding) {
  const auto png = test::pngHeaderOnly(10000, 10000);  // 100 MP
  const DecodedImage img = decodeImageBytes(png.data(), png.size());
  EXPECT_NE(img.error.find("exceeds the decoding budget"), std::string::npos) << img.error;
}

TEST(HostileInput, FifoIsRefusedWithoutBlocking) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir / "b.png").c_str(), 0644), 0);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_NE(errorOf([&] { readFileBytes(dir / "b.png", 1 << 20); }).find("FIFO"),
            std::string::npos);
  EXPECT_FALSE(decodeImageFile(dir / "b.png").ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST(HostileInput, CsvLinkToDevZeroIsRefused) {
  TempDir dir;
  std::filesystem::create_symlink("/dev/zero", dir / "m.csv");
  EXPECT_NE(errorOf([&] { openDataset(dir / "m.csv"); }).find("character device"),
            std::string::npos);
}

TEST(HostileInput, SymlinkLoopAndLinksOutsideTheDatasetAreSkipped) {
  TempDir dir;
  for (const char* c : {"cats", "dogs"})
    test::writeImage(dir / "ds" / c / "a.png", test::patternRgb(8, 8));
  std::filesystem::create_directory_symlink("..", dir / "ds" / "dogs" / "loop");
  std::filesystem::create_directory_symlink("/", dir / "ds" / "dogs" / "root");
  ASSERT_EQ(::mkfifo((dir / "ds" / "cats" / "b.png").c_str(), 0644), 0);
  const Dataset ds = readImageFolder(dir / "ds");
  EXPECT_EQ(ds.samples.size(), 2u);
  std::string reasons;
  for (const auto& s : ds.skipped) reasons += s.reason + "\n";
  EXPECT_NE(reasons.find("symlink loop"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("outside the dataset folder"), std::string::npos) << reasons;
  EXPECT_NE(reasons.find("FIFO"), std::string::npos) << reasons;
}

TEST(HostileInput, FeatureCacheWithOutOfRangeSampleIndicesIsAMiss) {
  TempDir dir;
  FeatureCache cache(dir.path());
  CachedFeatures f;
  f.features = torch::ones({2, 4});
  f.samples = {0, 999999};
  cache.store("k", f);
  std::string note;
  EXPECT_FALSE(cache.load("k", {0, 1}, &note).has_value());
  EXPECT_NE(note.find("not one of the requested samples"), std::string::npos) << note;
  f.samples = {0, 1};
  cache.store("k", f);
  const auto hit = cache.load("k", {0, 1}, &note);
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(torch::equal(hit->features, f.features));
  EXPECT_FALSE(cache.load("k", {0}, &note).has_value());  // more rows than requested
}

TEST(HostileInput, TorchScriptIsNotLoadedUntilTheUserTrustsTheFile) {
  TempDir dir;
  test::writeText(dir / "m.pt", "not torchscript");
  EXPECT_THROW(loadTorchScript(dir / "m.pt"), UntrustedFileError);
  trustFile(dir / "m.pt");
  EXPECT_THROW(loadTorchScript(dir / "m.pt"),
               FormatError);  // past the gate, then refused as invalid
  test::writeText(dir / "m.pt", "changed after it was trusted");
  EXPECT_THROW(loadTorchScript(dir / "m.pt"), UntrustedFileError);
}

TEST(HostileInput, OptimizerStateRoundTripsWithoutPickles) {
  TempDir dir;
  torch::manual_seed(1);
  auto w = torch::randn({3, 2}, torch::requires_grad());
  auto b = torch::randn({3}, torch::requires_grad());
  torch::optim::AdamW opt({w, b}, torch::optim::AdamWOptions(0.1));
  for (int i = 0; i < 3; ++i) {
    opt.zero_grad();
    (w.sum() * 2 + b.pow(2).sum()).backward();
    opt.step();
  }
  saveOptimizerState(opt, dir / "opt.safetensors");
  auto w2 = w.detach().clone().requires_grad_(), b2 = b.detach().clone().requires_grad_();
  torch::optim::AdamW restored({w2, b2}, torch::optim::AdamWOptions(0.1));
  loadOptimizerState(restored, dir / "opt.safetensors", torch::kCPU);
  // One more identical step on both gives identical parameters.
  for (auto* o : {static_cast<torch::optim::Optimizer*>(&opt),
                  static_cast<torch::optim::Optimizer*>(&restored)}) {
    o->zero_grad();
    auto& p = o->param_groups()[0].params();
    (p[0].sum() * 2 + p[1].pow(2).sum()).backward();
    o->step();
  }
  EXPECT_TRUE(torch::equal(w, w2));
  EXPECT_TRUE(torch::equal(b, b2));
  // State for parameters of another shape is refused by name.
  auto other = torch::zeros({5}, torch::requires_grad());
  torch::optim::AdamW wrong({other, b2}, torch::optim::AdamWOptions(0.1));
  EXPECT_NE(errorOf([&] {
              loadOptimizerState(wrong, dir / "opt.safetensors", torch::kCPU);
            }).find("does not have its parameter's shape"),
            std::string::npos);
}

TEST(HostileInput, AtomicWritesLeaveNoTempFilesAndReplaceTheTarget) {
  TempDir dir;
  writeFileAtomic(dir / "a.json", "one");
  writeFileAtomic(dir / "a.json", "two");
  EXPECT_EQ(readTextFile(dir / "a.json", 100), "two");
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
  const auto t1 = createTempBeside(dir / "b.h5"), t2 = createTempBeside(dir / "b.h5");
  EXPECT_NE(t1, t2);
  commitTempFile(t1, dir / "b.h5");
  EXPECT_TRUE(std::filesystem::exists(dir / "b.h5"));
  EXPECT_FALSE(std::filesystem::exists(t1));
}

// Found by scripts/fuzz (documents): nlohmann's get<uint64_t>() static_casts a float, which is
// undefined behaviour for 5.5e23; every integer read from a document is range-checked instead.
TEST(HostileInput, IntegerFieldsOutOfRangeAreFormatErrorsNamingTheFieldAndFile) {
  using nlohmann::json;
  EXPECT_EQ(jsonIntegerAs<int>(json(7), "f.json", "epochs"), 7);
  EXPECT_EQ(jsonIntegerAs<int>(json(7.0), "f.json", "epochs"), 7);
  EXPECT_EQ(jsonIntegerAs<uint64_t>(json(18446744073709551615ull), "f.json", "seed"),
            18446744073709551615ull);
  EXPECT_EQ(jsonIntegerAs<int64_t>(json(-5), "f.json", "n"), -5);
  for (const json& bad : {json(5.55556e23), json(1e10), json(2.5), json(-1), json("3"),
                          json(nullptr), json(9223372036854775808.0)}) {
    try {
      (void)jsonIntegerAs<int>(bad, "f.json", "epochs");
      if (bad.is_number_integer() && bad.get<int64_t>() == -1) continue;  // -1 is a valid int
      ADD_FAILURE() << "accepted " << bad.dump();
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("f.json"), std::string::npos);
      EXPECT_NE(std::string(e.what()).find("'epochs'"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW((void)jsonIntegerAs<uint32_t>(json(-1), "f.json", "n"), FormatError);
  EXPECT_THROW((void)jsonIntegerAs<uint64_t>(json(1.9e19), "f.json", "n"), FormatError);
  EXPECT_THROW((void)jsonIntegerAs<int64_t>(json(9223372036854775808.0), "f.json", "n"),
               FormatError);

  TempDir dir;
  const auto path = dir / "p.tlproj";
  test::writeText(path, R"({"format": "transferlab-project", "format_version": 1, "name": "p",
    "dataset": {"path": "data", "format": "auto", "split_seed": 555555555176430404444441},
    "config": {}, "runs": []})");
  try {
    (void)loadProject(path);
    ADD_FAILURE() << "loaded a project whose split_seed is 5.5e23";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("split_seed"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("p.tlproj"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tlab::core
