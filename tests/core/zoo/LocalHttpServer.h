#pragma once
// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port) for download tests. Serves one payload
// at any path, honours "Range: bytes=N-", and can misbehave on purpose: cut the body short
// (truncated transfer) or answer 404. Bounded: it serves at most `maxRequests` connections and
// stops in its destructor.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace tlab::test {

class LocalHttpServer {
 public:
  enum class Mode { Normal, Truncate, NotFound, IgnoreRange, RedirectLoop };
  LocalHttpServer(std::string payload, Mode mode, int maxRequests = 8);
  ~LocalHttpServer();
  int port() const { return port_; }
  std::string url(const std::string& path = "/weights.bin") const;
  /// Range start of each request received (-1 when none).
  std::vector<long> rangeStarts() const;

 private:
  void serve();
  std::string payload_;
  Mode mode_;
  int maxRequests_;
  int listenFd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::atomic<int> served_{0};
  std::vector<long> ranges_;
  std::thread thread_;
};

}  // namespace tlab::test
