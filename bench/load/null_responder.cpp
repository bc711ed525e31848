// The no-work responder: verifies each Accounting-Request's authenticator and answers it at once,
// storing nothing. It is the ceiling of this machine for the server benchmark: a server that
// stores every record can only approach it. It answers with sendmmsg; --segment sends through
// the server's UdpSender instead (one UDP-segmented send per run of answers to a peer). Nine
// alternating pairs at W=256 (2026-11-27 08:25-08:30 UTC): sendmmsg 214-269k answers/s (mean
// ~246k), segmented 228-257k (mean ~239k) — no gain for its small batches, where the server
// answers a whole commit at once — so the ceiling keeps sendmmsg by default.
//
//   acctlab_null_responder --listen 127.0.0.1:PORT [--secret S] [--duration SECONDS] [--segment]

#include "bench/load/udp_batch.hpp"
#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"
#include "server/udp_sender.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace acctlab;

namespace {
volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) {
  stop_requested = 1;
}
} // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:18130";
  std::string secret = "testing123";
  double duration = 3600;
  bool segment = false;
  for (int i = 1; i < argc; i += 2) {
    const std::string option = argv[i];
    if (option == "--segment") {
      segment = true;
      --i; // takes no value
    } else if (i + 1 >= argc) {
      std::fprintf(stderr, "null_responder: %s needs a value\n", option.c_str());
      return 2;
    } else if (option == "--listen") {
      listen = argv[i + 1];
    } else if (option == "--secret") {
      secret = argv[i + 1];
    } else if (option == "--duration") {
      duration = std::atof(argv[i + 1]);
    } else {
      std::fprintf(stderr, "null_responder: unknown option %s\n", option.c_str());
      return 2;
    }
  }
  auto endpoint = bench::parse_endpoint(listen);
  if (!endpoint) {
    std::fprintf(stderr, "null_responder: bad --listen %s\n", listen.c_str());
    return 2;
  }
  const int fd = socket(endpoint->address.ss_family, SOCK_DGRAM, 0);
  const int buffer = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  if (bind(fd, reinterpret_cast<sockaddr*>(&endpoint->address), endpoint->length) != 0) {
    std::perror("null_responder: bind");
    return 1;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::printf("null_responder: listening on %s\n", listen.c_str());
  std::fflush(stdout);

  bench::Batch in;
  bench::Batch out;
  server::UdpSender sender;
  std::vector<server::Datagram> datagrams;
  std::uint64_t answered = 0;
  std::uint64_t dropped = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(duration);
  while (!stop_requested && std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) {
      continue;
    }
    const std::size_t n = bench::receive_batch(fd, in);
    for (std::size_t i = 0; i < n; ++i) {
      const std::span<const std::uint8_t> request(in.data[i].data(), in.size[i]);
      if (radius::check_framing(request) || request[0] != 4 ||
          !radius::verify_request_authenticator(request, secret)) {
        ++dropped;
        continue;
      }
      auto& response = out.data[out.count];
      response[0] = 5;
      response[1] = request[1];
      response[2] = 0;
      response[3] = 20;
      radius::Authenticator request_auth{};
      std::memcpy(request_auth.data(), request.data() + 4, 16);
      radius::sign_response(std::span(response.data(), 20), request_auth, secret);
      out.size[out.count] = 20;
      out.peer[out.count] = in.peer[i];
      out.peer_length[out.count] = in.peer_length[i];
      ++out.count;
      ++answered;
    }
    if (segment) {
      datagrams.clear();
      for (std::size_t i = 0; i < out.count; ++i) {
        datagrams.push_back({&out.peer[i], out.peer_length[i], out.data[i].data(), out.size[i]});
      }
      dropped += sender.send(fd, datagrams);
      out.count = 0;
    } else {
      bench::send_batch(fd, out);
    }
  }
  std::printf("null_responder: answered %llu, dropped %llu\n",
              static_cast<unsigned long long>(answered), static_cast<unsigned long long>(dropped));
  close(fd);
  return 0;
}
