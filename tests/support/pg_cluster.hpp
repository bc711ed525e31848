#pragma once
// A throwaway PostgreSQL cluster for one test: initdb into a fresh temporary directory as an
// unprivileged user (nobody), a postmaster listening only on a Unix socket in that directory
// (no TCP port), stopped and removed when the test ends, also when it fails. Never the system's
// service. Tests that need it exit 77 (skipped) when PostgreSQL 15's binaries are missing.

#include "run_command.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace acctlab::test {

class PgCluster {
public:
  static constexpr const char* bin = "/usr/lib/postgresql/15/bin";
  static constexpr int skip_code = 77; // SKIP_RETURN_CODE in tests/storage/CMakeLists.txt

  static bool available() {
    return std::filesystem::exists(std::string(bin) + "/initdb") &&
           std::filesystem::exists(std::string(bin) + "/pg_ctl") &&
           std::filesystem::exists("/usr/sbin/runuser");
  }
  /** Exits the test process with the skip code when PostgreSQL is not installed. */
  static void require() {
    if (!available()) {
      std::fprintf(stderr, "skipped: PostgreSQL 15 binaries not found in %s\n", bin);
      std::exit(skip_code);
    }
  }

  PgCluster() {
    char pattern[] = "/tmp/acctlab-pg-XXXXXX"; // short: a socket path has 107 bytes
    if (!::mkdtemp(pattern)) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = pattern;
    run("chown nobody " + dir_);
    run(as_nobody("initdb -D " + dir_ + "/data -A trust -U acctlab --no-sync -E UTF8") + " >" +
        dir_ + "/initdb.log 2>&1");
    start();
  }
  ~PgCluster() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  /** The postmaster on a socket in the cluster's directory only (listen_addresses empty). */
  void start() {
    run(as_nobody("pg_ctl -D " + dir_ + "/data -l " + dir_ + "/postgres.log -w -t 30 -o \"-k " +
                  dir_ + " -c listen_addresses='' -c max_connections=40\" start") +
        " >/dev/null");
    running_ = true;
  }
  /** Immediate: the postmaster and its backends stop at once, as on a crash (no checkpoint). */
  void stop() {
    if (running_) {
      run_command(as_nobody("pg_ctl -D " + dir_ + "/data -m immediate -w -t 30 stop") +
                  " >/dev/null 2>&1");
      running_ = false;
    }
  }
  std::string uri(const std::string& database = "postgres") const {
    return "postgresql://acctlab@/" + database + "?host=" + dir_;
  }
  /** psql's unaligned, tuples-only output of one query. */
  std::string psql(const std::string& sql) const {
    const auto result =
        run_command(std::string(bin) + "/psql -X -A -t -q -h " + dir_ +
                    " -U acctlab -d postgres -v ON_ERROR_STOP=1 -c \"" + sql + "\" 2>&1");
    if (result.status != 0) {
      throw std::runtime_error("psql: " + result.output);
    }
    auto out = result.output;
    while (!out.empty() && out.back() == '\n') {
      out.pop_back();
    }
    return out;
  }
  const std::string& dir() const { return dir_; }

private:
  static std::string as_nobody(const std::string& command) {
    return "cd / && /usr/sbin/runuser -u nobody -- " + std::string(bin) + "/" + command;
  }
  void run(const std::string& command) const {
    const auto result = run_command(command);
    if (result.status != 0) {
      throw std::runtime_error("failed (" + std::to_string(result.status) + "): " + command);
    }
  }
  std::string dir_;
  bool running_ = false;
};

} // namespace acctlab::test
