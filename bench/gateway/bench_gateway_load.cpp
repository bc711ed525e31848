// bench_gateway_load [SECONDS]: `acctlab gateway --load`'s engine against a trivial responder on
// loopback. The responder (one thread) answers every Accounting-Request with an
// Accounting-Response signed by the core's sign_response, in batches (recvmmsg/sendmmsg); it does
// not verify or store anything, so the generator is what is measured. Baseline, in the same run:
// the same generator with one request outstanding at a time (stop-and-wait, as a lone NAS).

#include "bench/load/udp_batch.hpp"
#include "client/load_generator.hpp"
#include "radius/authenticator.hpp"
#include "tests/support/loopback_socket.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <span>
#include <sys/socket.h>
#include <thread>
#include <time.h>
#include <unistd.h>

namespace {

constexpr const char* secret = "testing123";

class Responder {
public:
  Responder() {
    const auto socket = acctlab::test::bind_loopback(SOCK_DGRAM);
    if (socket.fd < 0) {
      std::fprintf(stderr, "bench_gateway_load: cannot bind a UDP socket on loopback\n");
      std::exit(1);
    }
    fd_ = socket.fd;
    port_ = socket.port;
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
  /** CPU seconds the responder thread has used. */
  double cpu_seconds() {
    clockid_t id;
    timespec t{};
    if (pthread_getcpuclockid(thread_.native_handle(), &id) != 0 || clock_gettime(id, &t) != 0) {
      return 0;
    }
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
  }

private:
  void loop() {
    // Batches of datagrams through the load tools' recvmmsg/sendmmsg helpers (bench/load).
    acctlab::bench::Batch in;
    acctlab::bench::Batch out;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      const std::size_t n = acctlab::bench::receive_batch(fd_, in);
      for (std::size_t i = 0; i < n; ++i) {
        if (in.size[i] < 20) {
          continue;
        }
        auto& answer = out.data[out.count];
        std::fill_n(answer.begin(), 20, std::uint8_t{0});
        answer[0] = 5; // Accounting-Response
        answer[1] = in.data[i][1];
        answer[3] = 20;
        acctlab::radius::Authenticator request{};
        std::memcpy(request.data(), in.data[i].data() + 4, 16);
        acctlab::radius::sign_response(std::span(answer.data(), 20), request, secret);
        out.size[out.count] = 20;
        out.peer[out.count] = in.peer[i];
        out.peer_length[out.count] = in.peer_length[i];
        ++out.count;
      }
      const auto answers = out.count;
      acctlab::bench::send_batch(fd_, out);
      answered_ += answers;
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> answered_{0};
  std::thread thread_;
};

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct Measurement {
  acctlab::gateway::LoadResult result;
  double generator_cpu = 0; // CPU seconds of the generator thread
  double responder_cpu = 0;
};

Measurement measure(Responder& responder, std::uint32_t window, double seconds) {
  std::uint16_t port = responder.port();
  acctlab::gateway::LoadOptions options;
  options.servers = {"127.0.0.1:" + std::to_string(port)};
  options.secret = secret;
  options.peers = 20000;
  options.window = window;
  options.duration = acctlab::gateway::Millis{static_cast<long>(seconds * 1000)};
  options.timeout = acctlab::gateway::Millis{1000};
  Measurement m;
  double generator_before = thread_cpu_seconds();
  double responder_before = responder.cpu_seconds();
  m.result = acctlab::gateway::run_load(options);
  m.generator_cpu = thread_cpu_seconds() - generator_before;
  m.responder_cpu = responder.cpu_seconds() - responder_before;
  return m;
}

// Besides the wall-clock rate, the rate per CPU-second of each side: on a machine shared with
// other work the wall-clock figure measures the neighbours as much as the code; the generator's
// requests per CPU-second is what one dedicated core would offer.
void print(const char* name, const Measurement& m, double baseline) {
  const auto& r = m.result;
  double per_generator_cpu = m.generator_cpu > 0 ? r.answered / m.generator_cpu : 0;
  double per_responder_cpu = m.responder_cpu > 0 ? r.answered / m.responder_cpu : 0;
  std::printf("%-34s %10.0f req/s %6.1fx | per CPU-s: generator %9.0f responder %9.0f | sent "
              "%llu answered %llu timeouts %llu bad %llu sessions %llu/%llu\n",
              name, r.answered_per_second(), baseline > 0 ? r.answered_per_second() / baseline : 1,
              per_generator_cpu, per_responder_cpu, static_cast<unsigned long long>(r.sent),
              static_cast<unsigned long long>(r.answered),
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
  auto baseline = measure(responder, 1, seconds / 3);
  print("window 1 (stop-and-wait, baseline)", baseline, 0);
  for (std::uint32_t window : {256u, 4096u}) {
    auto m = measure(responder, window, seconds);
    char name[64];
    std::snprintf(name, sizeof name, "window %u", window);
    print(name, m, baseline.result.answered_per_second());
    if (!m.result.ok) {
      std::fprintf(stderr, "%s\n", m.result.error.c_str());
      return 1;
    }
  }
  return 0;
}
