#pragma once
// The accounting server (RFC 2866): UDP listeners on IPv4 and IPv6, the receive -> verify ->
// decode -> commit -> respond pipeline, duplicate detection (RFC 5080 §2.2.2) and Status-Server
// (RFC 5997). Two threads: the caller's runs the network side, the RecordWriter's commits.
// Asio stays inside the .cpp.

#include "server/log_entry.hpp"
#include "server/server_counters.hpp"
#include "server/server_metrics.hpp"
#include "server/tls_listener.hpp"
#include "storage/record_writer.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::server {

struct ServerOptions {
  /** "127.0.0.1:1813", "[::1]:1813"; port 0 picks a free port. */
  std::vector<std::string> listen{"127.0.0.1:1813"};
  std::string database = "acctlab.db";
  /** Without a clients file, 127.0.0.1 and ::1 are accepted with the secret testing123. */
  std::optional<std::string> clients_file;
  bool debug_radius = false;
  /** How often the stats line is logged; zero turns it off. */
  std::chrono::milliseconds stats_interval{std::chrono::seconds(60)};
  /** How often the counters are written to this server's run row (runs.report), so the report
   * viewer shows them while the server runs; zero writes them only at stop. */
  std::chrono::milliseconds report_interval{std::chrono::seconds(5)};
  /** RFC 5080 §2.2.2 duplicate window, seconds, and the most NAS source ports remembered (256
   * Identifier slots each, so memory does not grow with the request rate). */
  double duplicate_window = 30;
  std::size_t duplicate_sources = 4096;
  /** Requests awaiting their commit beyond this are dropped unanswered (the NAS retries). */
  std::size_t max_in_flight = 1u << 17;
  /** Handle SIGINT/SIGTERM (stop) and SIGHUP (reload the clients file). */
  bool handle_signals = true;
  storage::WriterOptions writer;
  /** RadSec listeners (tls.listen) beside the UDP ones; none when tls.listen is empty. */
  TlsOptions tls;
  /** Called with the clients after a reload took a new clients file (the report viewer's NAS
   * groups follow it), on the server's network thread. */
  std::function<void(const ClientList&)> on_clients_reloaded;
};

class AccountingServer {
public:
  /** Loads the clients file, opens the database and binds every listener; throws on failure. */
  AccountingServer(ServerOptions options, LogSink log);
  ~AccountingServer();
  AccountingServer(const AccountingServer&) = delete;
  AccountingServer& operator=(const AccountingServer&) = delete;

  /** "ADDR:PORT" of each listener as bound (the real port when 0 was asked for). */
  std::vector<std::string> local_endpoints() const;
  std::vector<std::uint16_t> local_ports() const;
  /** The same for the TLS (RadSec) listeners. */
  std::vector<std::string> local_tls_endpoints() const;
  std::vector<std::uint16_t> local_tls_ports() const;

  /**
   * Serves until stop(), SIGTERM or SIGINT; then stops receiving, commits and answers what is
   * in flight, and returns.
   */
  void run();
  /** Thread-safe: asks run() to finish as above. */
  void stop();
  /** Thread-safe: reloads the clients file (as SIGHUP does); a bad file keeps the old list. */
  void reload_clients();

  CounterSnapshot counters() const;
  /** Thread-safe: the counters with latency histograms, per-NAS counts and database state. */
  MetricsSnapshot metrics() const;

private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace acctlab::server
