// The only file that sees c10d and Gloo (see Distributed.h). Builds against Debian's libtorch
// 1.13 (ProcessGroupGloo is a ProcessGroup) and upstream 2.x (where it is a Backend): only the
// calls common to both are used.
#include <torch/torch.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "core/dist/Buckets.h"
#include "core/dist/Distributed.h"

#ifdef TLAB_WITH_DISTRIBUTED
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace tlab::core {

using Clock = std::chrono::steady_clock;

std::vector<std::pair<size_t, size_t>> bucketRanges(const std::vector<at::Tensor>& tensors,
                                                    size_t bucketBytes) {
  auto bytesOf = [](const at::Tensor& t) { return size_t(t.numel()) * t.element_size(); };
  std::vector<std::pair<size_t, size_t>> ranges;
  size_t i = 0;
  while (i < tensors.size()) {
    size_t j = i + 1, bytes = bytesOf(tensors[i]);
    while (j < tensors.size() && tensors[j].scalar_type() == tensors[i].scalar_type() &&
           bytes + bytesOf(tensors[j]) <= bucketBytes) {
      bytes += bytesOf(tensors[j]);
      ++j;
    }
    ranges.emplace_back(i, j);
    i = j;
  }
  return ranges;
}

bool distributedBuilt() {
#ifdef TLAB_WITH_DISTRIBUTED
  return true;
#else
  return false;
#endif
}

#ifdef TLAB_WITH_DISTRIBUTED

namespace {

constexpr auto kHeartbeatPeriod = std::chrono::milliseconds(500);
constexpr auto kHeartbeatGrace = std::chrono::milliseconds(2500);

std::string heartbeatKey(int rank) { return "tlab/heartbeat/" + std::to_string(rank); }

// The address of this machine's interface that routes to `host` (no packet is sent): the
// address the other ranks can reach this one at, without assuming localhost.
std::string localAddressToward(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
    throw DistributedError("cannot resolve the master address '" + host + "'");
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in local{};
  socklen_t len = sizeof local;
  const bool ok = fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0;
  if (fd >= 0) ::close(fd);
  freeaddrinfo(res);
  if (!ok) throw DistributedError("no route from this machine to the master '" + host + "'");
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &local.sin_addr, text, sizeof text);
  return text;
}

size_t bytesOf(const at::Tensor& t) { return size_t(t.numel()) * t.element_size(); }

}  // namespace

struct Communicator::Impl {
  DistributedSpec spec;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  std::string failure;  // set after the first failed collective: the group is unusable
  double reduceSeconds = 0, reduceBytes = 0;

  std::thread heartbeat;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;

  std::string where() const {
    return spec.storeFile.empty() ? spec.masterAddr + ":" + std::to_string(spec.masterPort)
                                  : spec.storeFile;
  }

  void connect() {
    const auto timeout =
        std::chrono::milliseconds(int64_t(std::max(1.0, spec.timeoutSeconds) * 1000));
    const auto joinTimeout =
        std::chrono::milliseconds(int64_t(std::max(1.0, spec.joinSeconds) * 1000));
    std::string address = "127.0.0.1";
    try {
      if (!spec.storeFile.empty()) {
        store = c10::make_intrusive<c10d::FileStore>(spec.storeFile, spec.worldSize);
      } else {
        if (spec.masterAddr.empty() || spec.masterPort <= 0 || spec.masterPort > 65535)
          throw DistributedError("a distributed run needs the master's HOST:PORT");
        address = localAddressToward(spec.masterAddr, spec.masterPort);
        c10d::TCPStoreOptions o;
        o.port = uint16_t(spec.masterPort);
        o.isServer = spec.rank == 0;
        o.numWorkers = size_t(spec.worldSize);
        o.waitWorkers = true;
        o.timeout = joinTimeout;
        store = c10::make_intrusive<c10d::TCPStore>(spec.masterAddr, o);
      }
      store->setTimeout(joinTimeout);
      waitForEveryone(joinTimeout);  // Gloo's own connect would wait the collective timeout
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      const char* iface = std::getenv("TLAB_DIST_IFACE");
      options->devices.push_back(iface && *iface
                                     ? c10d::ProcessGroupGloo::createDeviceForInterface(iface)
                                     : c10d::ProcessGroupGloo::createDeviceForHostname(address));
      options->threads = 1;
      group =
          c10::make_intrusive<c10d::ProcessGroupGloo>(store, spec.rank, spec.worldSize, options);
      store->setTimeout(timeout);
    } catch (const DistributedError&) {
      throw;
    } catch (const std::exception& e) {
      throw DistributedError("rank " + std::to_string(spec.rank) + " of " +
                             std::to_string(spec.worldSize) + " could not meet the others at " +
                             where() + " within " + std::to_string(int(spec.joinSeconds)) +
                             " s: " + firstLine(e.what()));
    }
    heartbeat = std::thread([this] { beat(); });
  }

  // Each rank counts itself in at the store; all wait (up to `limit`) until all are there.
  void waitForEveryone(std::chrono::milliseconds limit) {
    const std::string key = "tlab/arrived";
    store->add(key, 1);
    const auto deadline = Clock::now() + limit;
    for (;;) {
      const int64_t arrived = store->add(key, 0);
      if (arrived >= spec.worldSize) return;
      if (Clock::now() > deadline)
        throw DistributedError("rank " + std::to_string(spec.rank) + " of " +
                               std::to_string(spec.worldSize) + " could not meet the others at " +
                               where() + " within " + std::to_string(int(spec.joinSeconds)) +
                               " s: " + std::to_string(arrived) + " of " +
                               std::to_string(spec.worldSize) + " ranks arrived");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void beat() {
    int64_t n = 0;
    std::unique_lock<std::mutex> lock(mutex);
    while (!stopping) {
      lock.unlock();
      try {
        const std::string v = std::to_string(++n);
        store->set(heartbeatKey(spec.rank), std::vector<uint8_t>(v.begin(), v.end()));
      } catch (const std::exception&) {
        // The store is gone (its host died): the next collective reports it.
      }
      lock.lock();
      wake.wait_for(lock, kHeartbeatPeriod, [this] { return stopping; });
    }
  }

  static std::string firstLine(const std::string& s) {
    std::string line = s.substr(0, s.find('\n'));
    return line.size() > 300 ? line.substr(0, 300) + "..." : line;
  }

  // Which ranks stopped beating: two readings a grace period apart.
  std::string lostRanks() {
    auto read = [&] {
      std::vector<std::string> v(size_t(spec.worldSize));
      for (int r = 0; r < spec.worldSize; ++r) {
        if (r == spec.rank || !store->check({heartbeatKey(r)})) continue;
        const auto bytes = store->get(heartbeatKey(r));
        v[size_t(r)].assign(bytes.begin(), bytes.end());
      }
      return v;
    };
    std::vector<std::string> before, after;
    try {
      store->setTimeout(std::chrono::seconds(5));
      before = read();
      std::this_thread::sleep_for(kHeartbeatGrace);
      after = read();
    } catch (const std::exception&) {
      if (spec.storeFile.empty() && spec.rank != 0)
        return "rank 0 of " + std::to_string(spec.worldSize) +
               " was lost (its rendezvous store at " + where() + " stopped answering)";
      return "";
    }
    std::string lost;
    for (int r = 0; r < spec.worldSize; ++r) {
      if (r == spec.rank || after[size_t(r)] != before[size_t(r)]) continue;
      lost += (lost.empty() ? "" : ", ") + std::to_string(r);
    }
    if (lost.empty()) return "";
    const bool one = lost.find(',') == std::string::npos;
    return std::string(one ? "rank " : "ranks ") + lost + " of " + std::to_string(spec.worldSize) +
           (one ? " was" : " were") + " lost (no heartbeat for " +
           std::to_string(
               std::chrono::duration_cast<std::chrono::seconds>(kHeartbeatGrace).count()) +
           " s)";
  }

  template <typename F>
  void run(const char* what, F f) {
    if (!failure.empty()) throw DistributedError(failure);
    try {
      f();
    } catch (const std::exception& e) {
      const std::string lost = lostRanks();
      failure = "rank " + std::to_string(spec.rank) + ": " + what + " failed: " +
                (lost.empty() ? std::string("no other rank lost its heartbeat (a rank may be "
                                            "stuck; collective timeout " +
                                            std::to_string(int(spec.timeoutSeconds)) + " s)")
                              : lost) +
                "; " + firstLine(e.what());
      throw DistributedError(failure);
    }
  }

  // Tensors of one dtype, up to `bucketBytes`, as flat CPU buffers: `op` runs on each buffer,
  // then the values go back into the tensors. The tensors are grouped by dtype first (in order
  // of each dtype's first appearance, the same on every rank): interleaved types, such as
  // BatchNorm's float statistics and int64 batch counters, make one bucket per type rather than
  // one collective per tensor.
  template <typename Op>
  void inBuckets(const std::vector<at::Tensor>& given, size_t bucketBytes, Op op) {
    std::vector<at::Tensor> tensors;
    tensors.reserve(given.size());
    std::vector<bool> taken(given.size(), false);
    for (size_t a = 0; a < given.size(); ++a) {
      if (taken[a]) continue;
      for (size_t b = a; b < given.size(); ++b) {
        if (taken[b] || given[b].scalar_type() != given[a].scalar_type()) continue;
        tensors.push_back(given[b]);
        taken[b] = true;
      }
    }
    for (const auto& [i, j] : bucketRanges(tensors, bucketBytes)) {
      const at::Tensor& first = tensors[i];
      if (j == i + 1 && first.is_contiguous() && first.device().is_cpu()) {
        at::Tensor flat = first.view({-1});  // already one buffer: in place, no copies
        op(flat);
        continue;
      }
      std::vector<at::Tensor> parts;
      for (size_t k = i; k < j; ++k) parts.push_back(tensors[k].reshape({-1}).to(torch::kCPU));
      at::Tensor flat = torch::cat(parts);
      op(flat);
      int64_t offset = 0;
      for (size_t k = i; k < j; ++k) {
        const auto& t = tensors[k];
        t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
        offset += t.numel();
      }
    }
  }

  // The mean of a flat fp32 buffer with 16 bits on the wire: a ring reduce-scatter and a ring
  // all-gather (the algorithm of Gloo's own all-reduce), written on Gloo's send and receive
  // because Gloo cannot sum bf16 and sums fp16 in scalar code (GLOO_USE_AVX is off in Debian's
  // build): Gloo only moves the bits here (bf16 travels as fp16-typed bytes), and the sums run in
  // fp32. Each step sends one shard to the next rank while it receives one from the previous,
  // so both directions of every link are busy: 2(W-1)/W x the buffer's bytes per rank, in 16
  // bits. The buffers are kept between steps (fresh 25 MB buffers cost their page faults every
  // time). Returns the bytes of the rank's 16-bit buffer.
  struct WireBuffers {
    at::Tensor wire, incoming, sum, share;
  };
  std::map<std::pair<int64_t, int>, WireBuffers> wireBuffers;

  double wireMean(at::Tensor& flat, GradientWire wire) {
    const int64_t w = spec.worldSize, r = spec.rank, n = flat.numel(), shard = (n + w - 1) / w;
    WireBuffers& b = wireBuffers[{w * shard, int(wire)}];
    if (!b.wire.defined()) {
      const auto type = wire == GradientWire::Bf16 ? torch::kBFloat16 : torch::kHalf;
      b.wire = torch::zeros({w * shard}, flat.options().dtype(type));  // padding stays zero
      b.incoming = torch::empty({shard}, b.wire.options());
      b.sum = torch::zeros({w * shard}, flat.options().dtype(torch::kFloat));
      b.share = torch::empty({shard}, flat.options().dtype(torch::kFloat));
    }
    // Each share divided by W first, as DDP's hook: a partial sum cannot overflow fp16's range
    // where the gradients themselves fit.
    at::Tensor head = b.sum.narrow(0, 0, n);
    at::mul_out(head, flat.view({-1}), torch::scalar_tensor(1.0 / double(w), torch::kDouble));
    auto slice = [&](const at::Tensor& t, int64_t k) {
      return t.narrow(0, ((k % w) + w) % w * shard, shard);
    };
    const int next = int((r + 1) % w), prev = int((r + w - 1) % w);
    // One step: send `out` to the next rank while `in` arrives from the previous one, in pieces
    // of 512 KB all posted at once. One message per step ran at half the link's rate in each
    // direction (measured on a 1 Gb/s link: 357 ms for what takes 179 ms at line rate); pieces
    // keep both directions streaming (216-228 ms).
    const int64_t len = std::max<int64_t>((512 << 10) / 2, (shard + 4095) / 4096);  // tags
    const auto timeout =
        std::chrono::milliseconds(int64_t(spec.timeoutSeconds * 1000));  // a hung rank
    auto exchange = [&](const at::Tensor& out, const at::Tensor& in, int tag) {
      run("all-reduce", [&] {
        std::vector<decltype(group->barrier())> works;
        for (int64_t p = 0; p * len < shard; ++p) {
          const int64_t m = std::min(len, shard - p * len);
          std::vector<at::Tensor> o{out.narrow(0, p * len, m).view(torch::kHalf)};
          std::vector<at::Tensor> i{in.narrow(0, p * len, m).view(torch::kHalf)};
          works.push_back(group->send(o, next, tag * 4096 + int(p)));
          works.push_back(group->recv(i, prev, tag * 4096 + int(p)));
        }
        for (auto& wk : works) wk->wait(timeout);
      });
    };
    // Reduce-scatter: after W-1 steps rank r holds the whole sum of shard r + 1.
    slice(b.wire, r).copy_(slice(b.sum, r));
    for (int64_t s = 0; s < w - 1; ++s) {
      exchange(slice(b.wire, r - s), b.incoming, int(s));
      const int64_t k = r - s - 1;
      b.share.copy_(b.incoming);  // (16-bit to fp32 copies are vectorised; mixed adds are not)
      slice(b.sum, k).add_(b.share);
      slice(b.wire, k).copy_(slice(b.sum, k));
    }
    // All-gather: the means go round the ring into every rank's 16-bit buffer.
    for (int64_t s = 0; s < w - 1; ++s)
      exchange(slice(b.wire, r + 1 - s), slice(b.wire, r - s), int(w + s));
    flat.view({-1}).copy_(b.wire.narrow(0, 0, n));
    return double(n) * 2;
  }

  void reduce(const std::vector<at::Tensor>& tensors, size_t bucketBytes, bool mean,
              GradientWire wire = GradientWire::Fp32) {
    const auto t0 = Clock::now();
    inBuckets(tensors, bucketBytes, [&](at::Tensor& flat) {
      if (mean && wire != GradientWire::Fp32 && flat.scalar_type() == torch::kFloat) {
        reduceBytes += wireMean(flat, wire);
        return;
      }
      std::vector<at::Tensor> arg{flat};
      run("all-reduce", [&] { group->allreduce(arg)->wait(); });
      if (mean) flat.div_(spec.worldSize);
      reduceBytes += double(bytesOf(flat));
    });
    reduceSeconds += std::chrono::duration<double>(Clock::now() - t0).count();
  }
};

Communicator::Communicator(const DistributedSpec& spec) : impl_(std::make_unique<Impl>()) {
  if (spec.worldSize < 1 || spec.rank < 0 || spec.rank >= spec.worldSize)
    throw InvalidArgument("rank " + std::to_string(spec.rank) + " is outside a world of " +
                          std::to_string(spec.worldSize));
  impl_->spec = spec;
  impl_->connect();
}

Communicator::~Communicator() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->heartbeat.joinable()) impl_->heartbeat.join();
  impl_->group.reset();
  impl_->store.reset();
}

int Communicator::rank() const { return impl_->spec.rank; }
int Communicator::worldSize() const { return impl_->spec.worldSize; }

void Communicator::broadcast(const std::vector<at::Tensor>& tensors, int root) {
  impl_->inBuckets(tensors, kBucketBytes, [&](at::Tensor& flat) {
    std::vector<at::Tensor> arg{flat};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    impl_->run("broadcast", [&] { impl_->group->broadcast(arg, o)->wait(); });
  });
}

void Communicator::allReduceMean(const std::vector<at::Tensor>& tensors, size_t bucketBytes,
                                 GradientWire wire) {
  impl_->reduce(tensors, bucketBytes, true, wire);
}

void Communicator::allReduceSum(const std::vector<at::Tensor>& tensors, size_t bucketBytes) {
  impl_->reduce(tensors, bucketBytes, false);
}

at::Tensor Communicator::allGatherRows(const at::Tensor& rows) {
  const int w = impl_->spec.worldSize;
  // The row counts first, then every rank's rows padded to the longest.
  std::vector<at::Tensor> count{torch::tensor({rows.size(0)}, torch::kLong)};
  std::vector<std::vector<at::Tensor>> counts(1);
  for (int r = 0; r < w; ++r) counts[0].push_back(torch::zeros({1}, torch::kLong));
  impl_->run("all-gather", [&] { impl_->group->allgather(counts, count)->wait(); });
  int64_t longest = 0;
  for (const auto& c : counts[0]) longest = std::max(longest, c.item<int64_t>());
  auto shape = rows.sizes().vec();
  shape[0] = longest;
  std::vector<at::Tensor> mine{torch::zeros(shape, rows.options().device(torch::kCPU))};
  if (rows.size(0) > 0) mine[0].narrow(0, 0, rows.size(0)).copy_(rows);
  std::vector<std::vector<at::Tensor>> all(1);
  for (int r = 0; r < w; ++r) all[0].push_back(torch::empty_like(mine[0]));
  impl_->run("all-gather", [&] { impl_->group->allgather(all, mine)->wait(); });
  std::vector<at::Tensor> parts;
  for (int r = 0; r < w; ++r)
    parts.push_back(all[0][size_t(r)].narrow(0, 0, counts[0][size_t(r)].item<int64_t>()));
  return torch::cat(parts);
}

void Communicator::barrier() {
  impl_->run("barrier", [&] { impl_->group->barrier()->wait(); });
}

double Communicator::allReduceSeconds() const { return impl_->reduceSeconds; }
double Communicator::allReduceBytes() const { return impl_->reduceBytes; }

#else  // !TLAB_WITH_DISTRIBUTED

struct Communicator::Impl {};

Communicator::Communicator(const DistributedSpec&) {
  throw DistributedError(
      "distributed training is not in this build (it was built without libgloo-dev; "
      "TLAB_WITH_DISTRIBUTED=OFF)");
}
Communicator::~Communicator() = default;
int Communicator::rank() const { return 0; }
int Communicator::worldSize() const { return 1; }
void Communicator::broadcast(const std::vector<at::Tensor>&, int) {}
void Communicator::allReduceMean(const std::vector<at::Tensor>&, size_t, GradientWire) {}
void Communicator::allReduceSum(const std::vector<at::Tensor>&, size_t) {}
at::Tensor Communicator::allGatherRows(const at::Tensor& rows) { return rows; }
void Communicator::barrier() {}
double Communicator::allReduceSeconds() const { return 0; }
double Communicator::allReduceBytes() const { return 0; }

#endif

}  // namespace tlab::core
