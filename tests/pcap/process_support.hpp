#pragma once
// Helpers for tests that run `acctlab` itself: a child process with its output in a log file
// (`acctlab serve` prints the port it bound), and a clients file for the loopback NAS.

#include <chrono>
#include <csignal>
#include <cstdint>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace acctlab::capture::test {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

/** `acctlab ARGS...` as a child; killed when the object goes. */
class AcctlabProcess {
public:
  AcctlabProcess(std::vector<std::string> args, std::filesystem::path log) : log_(std::move(log)) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      static std::string binary = std::string(ACCTLAB_BINARY_DIR) + "/acctlab";
      std::vector<char*> argv{binary.data()};
      for (auto& arg : args) {
        argv.push_back(arg.data());
      }
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~AcctlabProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  AcctlabProcess(const AcctlabProcess&) = delete;
  AcctlabProcess& operator=(const AcctlabProcess&) = delete;

  /** Waits (bounded) for "listening on ADDR:PORT" in the log; the port, or 0. */
  std::uint16_t wait_for_port(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto text = log();
      const auto at = text.find("listening on ");
      const auto end = at == std::string::npos ? at : text.find(' ', at + 13);
      if (end != std::string::npos) {
        const auto endpoint = text.substr(at + 13, end - at - 13);
        return static_cast<std::uint16_t>(std::stoul(endpoint.substr(endpoint.rfind(':') + 1)));
      }
      if (poll_exit()) {
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }
  /** Waits (bounded) until the log holds text; false on timeout or exit. */
  bool wait_for_log(const std::string& text,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (log().find(text) != std::string::npos) {
        return true;
      }
      if (poll_exit()) {
        return log().find(text) != std::string::npos;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  void signal(int number) { ::kill(pid_, number); }
  /** Waits (bounded) for the exit; the exit code, or -1 on timeout or a signal. */
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!poll_exit()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  std::string log() const { return read_text(log_); }

private:
  bool poll_exit() {
    if (!exited_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) {
      exited_ = true;
    }
    return exited_;
  }
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

/** clients.conf for the loopback NAS with this secret. */
inline std::string loopback_clients(const std::string& secret) {
  return "client loopback {\n  ipaddr = 127.0.0.1\n  secret = " + secret +
         "\n  shortname = lab-gw\n}\n";
}

} // namespace acctlab::capture::test
