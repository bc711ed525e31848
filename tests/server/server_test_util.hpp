#pragma once
// Helpers for server tests: a plain UDP client on loopback, request building with the radius
// core, an in-process server on a thread, and the acctlab binary as a child process.

#include "radius/authenticator.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet.hpp"
#include "radius/packet_codec.hpp"
#include "server/accounting_server.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace acctlab::test {

using Bytes = std::vector<std::uint8_t>;

class UdpClient {
public:
  /** A socket bound to source (port 0), sending to server:port. */
  UdpClient(const std::string& server, std::uint16_t port, const std::string& source = "") {
    v6_ = server.find(':') != std::string::npos;
    fd_ = ::socket(v6_ ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    if (fd_ < 0) {
      throw std::runtime_error("socket");
    }
    if (!source.empty()) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      inet_pton(AF_INET, source.c_str(), &local.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        throw std::runtime_error("bind " + source);
      }
    }
    if (v6_) {
      sockaddr_in6 to{};
      to.sin6_family = AF_INET6;
      to.sin6_port = htons(port);
      inet_pton(AF_INET6, server.c_str(), &to.sin6_addr);
      ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to);
    } else {
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(port);
      inet_pton(AF_INET, server.c_str(), &to.sin_addr);
      ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to);
    }
  }
  ~UdpClient() { ::close(fd_); }
  UdpClient(const UdpClient&) = delete;
  UdpClient& operator=(const UdpClient&) = delete;

  void send(const Bytes& bytes) { (void)::send(fd_, bytes.data(), bytes.size(), 0); }

  /** The next datagram within timeout, or nullopt. */
  std::optional<Bytes> receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
      return std::nullopt;
    }
    Bytes buffer(4096);
    const auto n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      return std::nullopt;
    }
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
  }
  int fd() const { return fd_; }

private:
  int fd_ = -1;
  bool v6_ = false;
};

inline const radius::Dictionary& dict() {
  return radius::Dictionary::builtin();
}

inline std::uint8_t attr(const char* name) {
  const auto* def = dict().find(name);
  if (!def) {
    throw std::runtime_error(std::string("no attribute ") + name);
  }
  return static_cast<std::uint8_t>(def->number);
}

struct RequestSpec {
  std::uint32_t status = 1; // Start
  std::string session_id = "00000001";
  std::uint8_t identifier = 1;
  std::string secret = "testing123";
  std::string user = "joe@cclient";
  std::optional<std::uint32_t> input_octets;
  std::optional<std::uint32_t> output_octets;
  std::optional<std::uint32_t> session_time;
  std::optional<std::uint32_t> delay;
  std::optional<std::uint32_t> event_timestamp;
  bool message_authenticator = false;
  std::vector<Bytes> proxy_states; // Proxy-State values a proxy in front added, in order
};

/** A signed Accounting-Request like the feature document's, with NAS-IP-Address 192.0.2.1. */
inline Bytes make_request(const RequestSpec& spec) {
  radius::Packet packet(radius::Code::accounting_request, spec.identifier);
  packet.add(attr("Acct-Session-Id"), spec.session_id);
  const auto* avpair = dict().find("Cisco-AVPair");
  packet.add_vendor(avpair->vendor, avpair->number,
                    std::string_view("isakmp-initiator-ip=11.1.2.2"));
  packet.add(attr("User-Name"), spec.user);
  packet.add_integer(attr("Acct-Status-Type"), spec.status);
  const std::uint8_t nas_ip[4] = {192, 0, 2, 1};
  packet.add(attr("NAS-IP-Address"), std::span<const std::uint8_t>(nas_ip));
  if (spec.input_octets) {
    packet.add_integer(attr("Acct-Input-Octets"), *spec.input_octets);
  }
  if (spec.output_octets) {
    packet.add_integer(attr("Acct-Output-Octets"), *spec.output_octets);
  }
  if (spec.session_time) {
    packet.add_integer(attr("Acct-Session-Time"), *spec.session_time);
  }
  if (spec.event_timestamp) {
    packet.add_integer(attr("Event-Timestamp"), *spec.event_timestamp);
  }
  packet.add_integer(attr("Acct-Delay-Time"), spec.delay.value_or(0));
  for (const auto& state : spec.proxy_states) {
    packet.add(radius::proxy_state_type, std::span<const std::uint8_t>(state));
  }
  if (spec.message_authenticator) {
    const std::uint8_t zeros[16] = {};
    packet.add(radius::message_authenticator_type, std::span<const std::uint8_t>(zeros));
  }
  auto wire = radius::encode_packet(packet, dict());
  radius::sign_request(wire, spec.secret);
  return wire;
}

inline radius::Authenticator request_authenticator(const Bytes& request) {
  radius::Authenticator authenticator{};
  std::copy(request.begin() + 4, request.begin() + 20, authenticator.begin());
  return authenticator;
}

/** True when response is an Accounting-Response to request, signed with secret. */
inline bool is_valid_response(const Bytes& response, const Bytes& request,
                              const std::string& secret) {
  return response.size() >= 20 && response[0] == 5 && response[1] == request[1] &&
         radius::verify_response_authenticator(response, request_authenticator(request), secret);
}

/** An in-process server on its own thread; stops and joins on destruction. */
class ServerThread {
public:
  explicit ServerThread(server::ServerOptions options, bool stats = false) {
    options.handle_signals = false;
    if (!stats) {
      options.stats_interval = std::chrono::milliseconds(0);
    }
    server_ = std::make_unique<server::AccountingServer>(
        std::move(options),
        [this](server::LogLevel level, std::string_view, std::string_view line) {
          std::lock_guard lock(mutex_);
          log_ += std::string(server::to_string(level)) + ": " + std::string(line) + "\n";
        });
    thread_ = std::thread([this] { server_->run(); });
  }
  ~ServerThread() { stop(); }
  void stop() {
    if (thread_.joinable()) {
      server_->stop();
      thread_.join();
    }
  }
  server::AccountingServer& server() { return *server_; }
  std::uint16_t port(std::size_t index = 0) const { return server_->local_ports().at(index); }
  std::string log() {
    std::lock_guard lock(mutex_);
    return log_;
  }

private:
  std::mutex mutex_;
  std::string log_;
  std::unique_ptr<server::AccountingServer> server_;
  std::thread thread_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/** The acctlab binary as a child process, its stderr and stdout in files. */
class ServerProcess {
public:
  ServerProcess(std::vector<std::string> args, const std::string& log_path) : log_path_(log_path) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      static std::string binary = std::string(ACCTLAB_BINARY_DIR) + "/acctlab";
      argv.push_back(binary.data());
      for (auto& arg : args) {
        argv.push_back(arg.data());
      }
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~ServerProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  /** Waits (bounded) for "listening on ADDR:PORT" in the log; returns the port or 0. */
  std::uint16_t wait_for_port(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto text = read_file(log_path_);
      const auto at = text.find("listening on ");
      const auto end = at == std::string::npos ? at : text.find(' ', at + 13);
      if (end != std::string::npos) {
        const auto endpoint = text.substr(at + 13, end - at - 13);
        return static_cast<std::uint16_t>(std::stoul(endpoint.substr(endpoint.rfind(':') + 1)));
      }
      if (exited_ || ::waitpid(pid_, &status_, WNOHANG) == pid_) {
        exited_ = true;
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }
  void signal(int number) { ::kill(pid_, number); }
  /** Waits for the exit (bounded); returns the exit status, or -1 on timeout. */
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exited_) {
      if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
        exited_ = true;
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
  }
  std::string log() const { return read_file(log_path_); }

private:
  std::string log_path_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

} // namespace acctlab::test
