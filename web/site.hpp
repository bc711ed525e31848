#pragma once
// The report site without the network: a request target in, a response out. The HTTP server
// (web/http_server.hpp) is the only code that knows Beast; everything here is plain C++ and
// testable on its own. Thread-safe: each request borrows a read-only connection from a pool.

#include "server/clients_file.hpp"
#include "storage/read_db.hpp"
#include "storage/report_filters.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acctlab::web {

// The viewer reads through storage/'s read model, under the names it has always used.
using storage::DbError;
using storage::ReadOnlyDatabase;

struct Response {
  unsigned status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/** What the site needs of a request; the HTTP server fills it. */
struct Request {
  std::string_view method = "GET";
  std::string_view target = "/";
  std::string_view cookie;        // the Cookie header
  std::string_view authorization; // the Authorization header (Basic, for programs)
  std::string_view body;          // POST /login only
  std::string_view peer;          // the client's address, for the login throttle
  bool secure = false;            // arrived over TLS
};

class Authenticator;
struct Account;

/** The headers every response carries (CSP, nosniff, ...). */
const std::vector<std::pair<std::string, std::string>>& security_headers();

class Site {
public:
  /** Opens db_path read-only and checks it holds an acctlab schema; throws DbError. */
  explicit Site(std::string db_path);
  ~Site();
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;

  /** Answers GET/HEAD for target ("/sessions?user=joe"). Never throws. */
  Response handle(std::string_view method, std::string_view target);
  /** The same, with the login gate when accounts are set; POST /login signs in. Never throws. */
  Response handle(const Request& request);

  /**
   * With accounts, every page, API route, CSV, /metrics and /events asks for a signed session
   * cookie (web/auth.hpp); /login and /static/ do not. Set before the HTTP server starts.
   */
  void set_authenticator(Authenticator* authenticator) { auth_ = authenticator; }
  /** Whether a request with this Cookie header may read (always, without accounts). */
  bool authorized(std::string_view cookie) const;
  /**
   * The clients file whose `group = NAME` entries say which NASes an operator sees
   * (web/nas_scope.hpp); set at start and again on reload. Thread-safe. Without one an
   * operator sees nothing.
   */
  void set_clients(server::ClientList clients);

  /**
   * The live counters as JSON text when the database changed since `version` (PRAGMA
   * data_version on a watcher connection), with the new version; nullopt when unchanged.
   */
  std::optional<std::pair<std::int64_t, std::string>> live_update(std::int64_t version);
  /** The same for the account of a Cookie header: an operator's counters cover its NASes only,
   * and change only when those do. nullopt also when the session is no longer valid. */
  std::optional<std::pair<std::int64_t, std::string>> live_update(std::int64_t version,
                                                                  std::string_view cookie);
  /**
   * An operator's live counters are recounted at most this often, however often the database
   * changes (`acctlab web --operator-live-interval`; 10 s by default): its packets and records
   * come from the per-source tallies, but its findings are counted from their rows. Set before
   * the HTTP server starts.
   */
  void set_scoped_live_interval(std::chrono::milliseconds interval) {
    scoped_live_interval_ = interval;
  }
  /** How often /events counted the live counters since start: for every NAS (admins, no
   * accounts), and for an operator's NASes (all operators together). On /metrics too. */
  struct LiveRecounts {
    std::int64_t all = 0;
    std::int64_t scoped = 0;
  };
  LiveRecounts live_recounts() const {
    return {live_recounts_all_.load(), live_recounts_scoped_.load()};
  }

  const std::string& db_path() const { return db_path_; }

  /**
   * /metrics (Prometheus text format) starts with what source returns: `acctlab serve --web`
   * gives its server's metrics. Without one, /metrics has the database's tallies and file sizes.
   * Set before the HTTP server starts.
   */
  void set_metrics_source(std::function<std::string()> source) {
    metrics_source_ = std::move(source);
  }

private:
  class Lease;
  std::unique_ptr<ReadOnlyDatabase> acquire();
  void release(std::unique_ptr<ReadOnlyDatabase> db);
  Response route(ReadOnlyDatabase& db, std::string_view path, std::string_view query,
                 const storage::NasScope& scope);
  /** handle(method, target) for account (nullptr: no accounts, everything). */
  Response serve(std::string_view method, std::string_view target, const Account* account);
  storage::NasScope scope_of(const Account& account, ReadOnlyDatabase& db);

  std::string metrics(ReadOnlyDatabase& db);

  std::string db_path_;
  std::function<std::string()> metrics_source_;
  Authenticator* auth_ = nullptr;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<ReadOnlyDatabase>> pool_;

  std::mutex live_mutex_;
  std::unique_ptr<ReadOnlyDatabase> watcher_;
  std::int64_t live_version_ = -1;
  std::string live_json_;
  std::chrono::milliseconds scoped_live_interval_{std::chrono::seconds(10)};
  std::atomic<std::int64_t> live_recounts_all_{0};
  std::atomic<std::int64_t> live_recounts_scoped_{0};
  struct ScopedLive {
    std::chrono::steady_clock::time_point counted{};
    std::int64_t data_version = -1;
    std::int64_t serial = 0;
    std::string json;
  };
  std::mutex scoped_live_mutex_;
  std::map<std::string, ScopedLive, std::less<>> scoped_live_; // by account name

  mutable std::mutex clients_mutex_;
  std::shared_ptr<const server::ClientList> clients_;
};

} // namespace acctlab::web
