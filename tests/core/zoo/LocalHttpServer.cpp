#include "core/zoo/LocalHttpServer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace tlab::test {

LocalHttpServer::LocalHttpServer(std::string payload, Mode mode, int maxRequests)
    : payload_(std::move(payload)), mode_(mode), maxRequests_(maxRequests) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listenFd_, 4) != 0) {
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread(&LocalHttpServer::serve, this);
}

LocalHttpServer::~LocalHttpServer() {
  stop_ = true;
  thread_.join();
  ::close(listenFd_);
}

std::string LocalHttpServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<long> LocalHttpServer::rangeStarts() const { return ranges_; }

void LocalHttpServer::serve() {
  while (!stop_ && served_ < maxRequests_) {
    pollfd p{listenFd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int fd = ::accept(listenFd_, nullptr, nullptr);
    if (fd < 0) continue;
    ++served_;
    std::string request;
    char buf[2048];
    while (request.find("\r\n\r\n") == std::string::npos) {
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 2000) <= 0) break;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, size_t(n));
    }
    long start = -1;
    if (const auto r = request.find("Range: bytes="); r != std::string::npos)
      start = std::stol(request.substr(r + 13));
    ranges_.push_back(start);
    std::string head, body;
    if (mode_ == Mode::RedirectLoop) {  // always sends the client back to itself
      head = "HTTP/1.1 302 Found\r\nLocation: " + url() +
             "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    } else if (mode_ == Mode::NotFound) {
      head = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    } else if (start > 0 && mode_ != Mode::IgnoreRange && size_t(start) <= payload_.size()) {
      body = payload_.substr(size_t(start));
      head = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + std::to_string(start) + "-" +
             std::to_string(payload_.size() - 1) + "/" + std::to_string(payload_.size()) +
             "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    } else {
      body = payload_;
      head = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\nConnection: close\r\n\r\n";
    }
    if (mode_ == Mode::Truncate) body.resize(body.size() / 2);  // promise everything, send half
    const std::string out = head + body;
    size_t sent = 0;
    while (sent < out.size()) {
      const ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += size_t(n);
    }
    ::close(fd);
  }
}

}  // namespace tlab::test
