#include "core/zoo/Download.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <cstdio>
#include <fstream>
#include <mutex>

#include "core/Errors.h"
#include "core/util/FileUtil.h"

namespace tlab::core {
namespace fs = std::filesystem;
namespace {

struct Transfer {
  FILE* out = nullptr;
  int64_t resumeFrom = 0;
  uint64_t written = 0;
  bool tooLarge = false;
  const DownloadOptions* options = nullptr;
};

size_t onData(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const uint64_t bytes = uint64_t(size) * count;
  t->written += bytes;
  if (uint64_t(t->resumeFrom) + t->written > t->options->maxBytes) {
    t->tooLarge = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  return std::fwrite(data, size, count, t->out) * size;
}

int onProgress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->options->cancel && t->options->cancel->load()) return 1;  // aborts the transfer
  if (t->options->progress) {
    t->options->progress(t->resumeFrom + int64_t(now),
                         total > 0 ? t->resumeFrom + int64_t(total) : -1);
  }
  return 0;
}

void initCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

namespace {
std::string toHex(const unsigned char* digest, unsigned len) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}
}  // namespace

std::string sha256Hex(const std::string& bytes) {
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  return toHex(digest, len);
}

std::string sha256File(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string(), "cannot open for checksum");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    EVP_DigestUpdate(ctx, buf.data(), size_t(in.gcount()));
  }
  unsigned char digest[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  return toHex(digest, len);
}

bool sha256Matches(const std::string& actual, const std::string& expected) {
  if (expected.empty() || expected.size() > actual.size()) return expected.empty();
  for (size_t i = 0; i < expected.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(expected[i])) != actual[i]) return false;
  }
  return true;
}

namespace {

// Every option of one transfer: limits, protocols, callbacks, timeouts, resuming.
void configureTransfer(CURL* curl, const std::string& url, const DownloadOptions& options,
                       Transfer& t, char* error) {
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, options.maxRedirects);
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options.maxBytes));
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, onProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options.connectTimeoutSeconds);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options.lowSpeedTimeoutSeconds);
  if (t.resumeFrom > 0) curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE, curl_off_t(t.resumeFrom));
}

// Throws for a transfer that failed, was cancelled or ran over its limit.
void checkTransfer(CURLcode rc, const Transfer& t, const std::string& url, const fs::path& part,
                   const DownloadOptions& options, const char* error) {
  std::error_code ec;
  if (t.tooLarge || rc == CURLE_FILESIZE_EXCEEDED) {
    fs::remove(part, ec);
    throw FormatError(url, "download is larger than the " + std::to_string(options.maxBytes) +
                               "-byte limit for this file (discarded)");
  }
  if (rc == CURLE_TOO_MANY_REDIRECTS)
    throw IoError(url,
                  "too many redirects (more than " + std::to_string(options.maxRedirects) + ")");
  if (rc == CURLE_ABORTED_BY_CALLBACK)
    throw IoError(url, "download cancelled (partial data kept for resuming)");
  if (rc != CURLE_OK) {
    throw IoError(url, std::string("download failed: ") +
                           (error[0] ? error : curl_easy_strerror(rc)) +
                           " (partial data kept for resuming)");
  }
}

}  // namespace

void downloadFile(const std::string& url, const fs::path& target, const DownloadOptions& options) {
  initCurlOnce();
  const fs::path part = target.string() + ".part";
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  Transfer t;
  t.options = &options;
  t.resumeFrom = fs::exists(part, ec) ? int64_t(fs::file_size(part, ec)) : 0;
  t.out = std::fopen(part.c_str(), t.resumeFrom > 0 ? "ab" : "wb");
  if (!t.out) throw IoError(part.string(), "cannot write the download");

  CURL* curl = curl_easy_init();
  char error[CURL_ERROR_SIZE] = {};
  configureTransfer(curl, url, options, t, error);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  std::fclose(t.out);

  if (rc == CURLE_RANGE_ERROR || (t.resumeFrom > 0 && status == 416)) {
    fs::remove(part, ec);  // the server cannot resume: start over once
    return downloadFile(url, target, options);
  }
  if (t.resumeFrom > 0 && status == 200) {
    // The server ignored the Range request and sent everything: the .part holds old bytes
    // followed by the whole file, so discard it and fetch again cleanly.
    fs::remove(part, ec);
    return downloadFile(url, target, options);
  }
  checkTransfer(rc, t, url, part, options, error);
  const std::string actual = sha256File(part);
  if (!sha256Matches(actual, options.expectedSha256)) {
    fs::remove(part, ec);
    throw FormatError(url, "checksum mismatch: expected SHA-256 " + options.expectedSha256 +
                               ", got " + actual + " (download discarded)");
  }
  commitTempFile(part, target);
}

}  // namespace tlab::core
