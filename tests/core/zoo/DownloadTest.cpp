#include "core/zoo/Download.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <fstream>

#include "core/Errors.h"
#include "core/TestImages.h"
#include "core/zoo/LocalHttpServer.h"

namespace tlab::core {
namespace {
using test::LocalHttpServer;
using test::TempDir;

std::string payload() {
  std::string s;
  for (int i = 0; i < 300000; ++i) s.push_back(char((i * 31) % 251));
  return s;
}

std::string sha256Of(const std::string& data, const TempDir& dir) {
  test::writeText(dir / "ref.bin", data);
  return sha256File(dir / "ref.bin");
}

std::string readAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(Download, SuccessVerifiesTheChecksumAndLeavesNoPartFile) {
  TempDir dir;
  const std::string data = payload();
  LocalHttpServer server(data, LocalHttpServer::Mode::Normal);
  DownloadOptions o;
  o.expectedSha256 = sha256Of(data, dir);
  int64_t lastProgress = 0;
  o.progress = [&](int64_t done, int64_t) { lastProgress = done; };
  downloadFile(server.url(), dir / "w.bin", o);
  EXPECT_EQ(readAll(dir / "w.bin"), data);
  EXPECT_FALSE(std::filesystem::exists(dir / "w.bin.part"));
  EXPECT_EQ(lastProgress, int64_t(data.size()));
}

TEST(Download, ChecksumPrefixAsPublishedByTorchvision) {
  TempDir dir;
  const std::string data = payload();
  LocalHttpServer server(data, LocalHttpServer::Mode::Normal);
  DownloadOptions o;
  o.expectedSha256 = sha256Of(data, dir).substr(0, 8);
  downloadFile(server.url(), dir / "w.bin", o);
  EXPECT_TRUE(std::filesystem::exists(dir / "w.bin"));
}

TEST(Download, FileLargerThanItsCapIsAbortedAndDiscarded) {
  TempDir dir;
  LocalHttpServer server(payload(), LocalHttpServer::Mode::Normal);
  DownloadOptions o;
  o.maxBytes = 100000;  // the payload is 300,000 bytes
  try {
    downloadFile(server.url(), dir / "w.bin", o);
    ADD_FAILURE() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("larger than the 100000-byte limit"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "w.bin"));
  EXPECT_FALSE(std::filesystem::exists(dir / "w.bin.part"));
}

TEST(Download, RedirectLoopStopsAfterTheLimit) {
  TempDir dir;
  LocalHttpServer server(payload(), LocalHttpServer::Mode::RedirectLoop, 20);
  DownloadOptions o;
  o.maxRedirects = 3;
  try {
    downloadFile(server.url(), dir / "w.bin", o);
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("too many redirects"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "w.bin"));
}

TEST(Download, WrongChecksumDiscardsTheFile) {
  TempDir dir;
  LocalHttpServer server(payload(), LocalHttpServer::Mode::Normal);
  DownloadOptions o;
  o.expectedSha256 = std::string(64, '0');
  try {
    downloadFile(server.url(), dir / "w.bin", o);
    FAIL() << "accepted a file with the wrong checksum";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "w.bin"));
  EXPECT_FALSE(std::filesystem::exists(dir / "w.bin.part"));
}

TEST(Download, TruncatedTransferKeepsThePartAndResumesWithARange) {
  TempDir dir;
  const std::string data = payload();
  DownloadOptions o;
  o.expectedSha256 = sha256Of(data, dir);
  {
    LocalHttpServer broken(data, LocalHttpServer::Mode::Truncate, 1);
    EXPECT_THROW(downloadFile(broken.url(), dir / "w.bin", o), IoError);
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "w.bin"));
  const auto partial = std::filesystem::file_size(dir / "w.bin.part");
  EXPECT_EQ(partial, data.size() / 2);
  LocalHttpServer good(data, LocalHttpServer::Mode::Normal);
  downloadFile(good.url(), dir / "w.bin", o);
  EXPECT_EQ(readAll(dir / "w.bin"), data);
  ASSERT_FALSE(good.rangeStarts().empty());
  EXPECT_EQ(good.rangeStarts()[0], long(partial));  // resumed, not restarted
}

TEST(Download, ServerIgnoringTheRangeStillGivesTheRightFile) {
  TempDir dir;
  const std::string data = payload();
  test::writeText(dir / "w.bin.part", data.substr(0, 1000));
  LocalHttpServer server(data, LocalHttpServer::Mode::IgnoreRange);
  DownloadOptions o;
  o.expectedSha256 = sha256Of(data, dir);
  downloadFile(server.url(), dir / "w.bin", o);
  EXPECT_EQ(readAll(dir / "w.bin"), data);
}

TEST(Download, ServerGoneAndHttpErrorsAreReported) {
  TempDir dir;
  int port;
  {
    LocalHttpServer gone("x", LocalHttpServer::Mode::Normal);
    port = gone.port();
  }  // closed: connections are refused now
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/weights.bin";
  try {
    downloadFile(url, dir / "w.bin", {});
    FAIL() << "downloaded from a closed port";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(url), std::string::npos) << e.what();
  }
  LocalHttpServer missing("", LocalHttpServer::Mode::NotFound);
  EXPECT_THROW(downloadFile(missing.url(), dir / "w2.bin", {}), IoError);
  EXPECT_FALSE(std::filesystem::exists(dir / "w2.bin"));
}

TEST(Download, CancelStopsTheTransfer) {
  TempDir dir;
  LocalHttpServer server(payload(), LocalHttpServer::Mode::Normal);
  std::atomic<bool> cancel{true};
  DownloadOptions o;
  o.cancel = &cancel;
  try {
    downloadFile(server.url(), dir / "w.bin", o);
    FAIL() << "cancel ignored";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("cancelled"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "w.bin"));
}

TEST(Download, ChecksumHelpers) {
  EXPECT_TRUE(sha256Matches("abcdef", "ABC"));
  EXPECT_FALSE(sha256Matches("abcdef", "abd"));
  EXPECT_TRUE(sha256Matches("abcdef", ""));
  TempDir dir;
  test::writeText(dir / "abc", "abc");
  EXPECT_EQ(sha256File(dir / "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace tlab::core
