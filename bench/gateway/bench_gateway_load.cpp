// bench_gateway_load [SECONDS]: `acctlab gateway --load`'s engine against a trivial responder on
// loopback. The responder (one thread) answers every Accounting-Request with an
// Accounting-Response signed by the core's sign_response, in batches (recvmmsg/sendmmsg); it does
// not verify or store anything, so the generator is what is measured. Baseline, in the same run:
// the same generator with one request outstanding at a time (stop-and-wait, as a lone NAS).

#include "client/load_generator.hpp"
#include "radius/authenticator.hpp"

#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

constexpr const char* secret = "testing123";

class Responder {
public:
  Responder() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n);
    port_ = ntohs(a.sin_port);
    int buffer = 8 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    thread_ = std::thread([this] { loop(); });
  }
  ~Responder() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::uint64_t answered() const { return answered_; }

private:
  void loop() {
    constexpr std::size_t batch = 64;
    std::array<std::array<std::uint8_t, 4096>, batch> in{};
    std::array<std::array<std::uint8_t, 20>, batch> out{};
    std::array<sockaddr_storage, batch> from{};
    std::array<mmsghdr, batch> rx{};
    std::array<mmsghdr, batch> tx{};
    std::array<iovec, batch> rv{};
    std::array<iovec, batch> tv{};
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      for (std::size_t i = 0; i < batch; ++i) {
        rv[i] = {in[i].data(), in[i].size()};
        rx[i] = {};
        rx[i].msg_hdr.msg_iov = &rv[i];
        rx[i].msg_hdr.msg_iovlen = 1;
        rx[i].msg_hdr.msg_name = &from[i];
        rx[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      }
      int n = ::recvmmsg(fd_, rx.data(), batch, MSG_DONTWAIT, nullptr);
      std::size_t m = 0;
      for (int i = 0; i < n; ++i) {
        auto k = static_cast<std::size_t>(i);
        if (rx[k].msg_len < 20) {
          continue;
        }
        auto& answer = out[m];
        answer.fill(0);
        answer[0] = 5;
        answer[1] = in[k][1];
        answer[3] = 20;
        acctlab::radius::Authenticator request{};
        std::memcpy(request.data(), in[k].data() + 4, 16);
        acctlab::radius::sign_response(answer, request, secret);
        tv[m] = {answer.data(), answer.size()};
        tx[m] = {};
        tx[m].msg_hdr.msg_iov = &tv[m];
        tx[m].msg_hdr.msg_iovlen = 1;
        tx[m].msg_hdr.msg_name = &from[k];
        tx[m].msg_hdr.msg_namelen = rx[k].msg_hdr.msg_namelen;
        ++m;
      }
      std::size_t done = 0;
      while (done < m) {
        int sent = ::sendmmsg(fd_, tx.data() + done, static_cast<unsigned>(m - done), 0);
        if (sent <= 0) {
          break;
        }
        done += static_cast<std::size_t>(sent);
      }
      answered_ += done;
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> answered_{0};
  std::thread thread_;
};

acctlab::gateway::LoadResult measure(std::uint16_t port, std::uint32_t window, double seconds) {
  acctlab::gateway::LoadOptions options;
  options.servers = {"127.0.0.1:" + std::to_string(port)};
  options.secret = secret;
  options.peers = 20000;
  options.window = window;
  options.duration = acctlab::gateway::Millis{static_cast<long>(seconds * 1000)};
  options.timeout = acctlab::gateway::Millis{1000};
  return acctlab::gateway::run_load(options);
}

void print(const char* name, const acctlab::gateway::LoadResult& r, double baseline) {
  std::printf("%-34s %12.0f req/s  %6.1fx  sent %llu answered %llu timeouts %llu bad %llu "
              "sessions %llu/%llu\n",
              name, r.answered_per_second(), baseline > 0 ? r.answered_per_second() / baseline : 1,
              static_cast<unsigned long long>(r.sent), static_cast<unsigned long long>(r.answered),
              static_cast<unsigned long long>(r.timeouts),
              static_cast<unsigned long long>(r.bad_answers),
              static_cast<unsigned long long>(r.sessions_started),
              static_cast<unsigned long long>(r.sessions_stopped));
}

} // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  if (seconds <= 0 || seconds > 600) {
    std::fprintf(stderr, "usage: bench_gateway_load [SECONDS (0-600]]\n");
    return 1;
  }
  Responder responder;
  auto baseline = measure(responder.port(), 1, seconds / 3);
  print("window 1 (stop-and-wait, baseline)", baseline, 0);
  for (std::uint32_t window : {256u, 4096u}) {
    auto r = measure(responder.port(), window, seconds);
    char name[64];
    std::snprintf(name, sizeof name, "window %u", window);
    print(name, r, baseline.answered_per_second());
    if (!r.ok) {
      std::fprintf(stderr, "%s\n", r.error.c_str());
      return 1;
    }
  }
  return 0;
}
