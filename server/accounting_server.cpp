#include "server/accounting_server.hpp"

#include "radius/accounting_record.hpp"
#include "radius/authenticator.hpp"
#include "radius/host_port.hpp"
#include "radius/packet_codec.hpp"
#include "radius/session_matcher.hpp"
#include "radius/text_form.hpp"
#include "server/clients_file.hpp"
#include "server/duplicate_cache.hpp"
#include "server/log_limiter.hpp"
#include "server/radius_debug.hpp"
#include "server/tag_ring.hpp"
#include "server/tls_listener.hpp"
#include "server/udp_sender.hpp"
#include "storage/pg_connection.hpp"

#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstring>
#include <filesystem>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>

namespace acctlab::server {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using storage::Verdict;

constexpr std::size_t receive_batch = 64;
constexpr std::size_t receive_buffer = radius::max_packet_size;
constexpr std::uint32_t max_answers_per_duplicate = 4;

double wall_clock() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

/** A peer as the kernel reports it, kept raw so replies go out with sendmmsg. */
struct Peer {
  sockaddr_storage address{};
  socklen_t length = 0;

  IpAddress ip() const {
    IpAddress result;
    if (address.ss_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
      std::memcpy(result.bytes.data(), &in->sin_addr, 4);
      return result;
    }
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    std::memcpy(result.bytes.data(), &in6->sin6_addr, 16);
    result.v6 = true;
    // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; match them as IPv4.
    constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(result.bytes.data(), mapped, 12) == 0) {
      return IpAddress::v4(
          {result.bytes[12], result.bytes[13], result.bytes[14], result.bytes[15]});
    }
    return result;
  }
  std::uint16_t port() const {
    return address.ss_family == AF_INET
               ? ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port)
               : ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  std::string to_string() const {
    const auto ip_text = ip().to_string();
    return (ip().v6 ? "[" + ip_text + "]" : ip_text) + ":" + std::to_string(port());
  }
};

udp::endpoint parse_listen(const std::string& text) {
  const auto split = radius::split_host_port(text);
  if (!split) {
    throw std::runtime_error("bad --listen '" + text + "': " + split.error());
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(split->host, ec);
  if (ec) {
    throw std::runtime_error("bad --listen '" + text + "': '" + split->host +
                             "' is not an address");
  }
  return {address, split->port};
}

/** RFC 3579 §3.2: HMAC-MD5 over the packet with the Message-Authenticator zeroed. */
void fill_message_authenticator(std::span<std::uint8_t> wire, std::size_t offset,
                                const radius::Authenticator& request_authenticator,
                                std::string_view secret) {
  std::vector<std::uint8_t> copy(wire.begin(), wire.end());
  std::copy(request_authenticator.begin(), request_authenticator.end(), copy.begin() + 4);
  std::fill(copy.begin() + static_cast<std::ptrdiff_t>(offset),
            copy.begin() + static_cast<std::ptrdiff_t>(offset + 16), 0);
  unsigned int length = 16;
  HMAC(EVP_md5(), secret.data(), static_cast<int>(secret.size()), copy.data(), copy.size(),
       wire.data() + offset, &length);
}

radius::Authenticator authenticator_of(std::span<const std::uint8_t> datagram) {
  radius::Authenticator authenticator{};
  std::copy(datagram.begin() + 4, datagram.begin() + 20, authenticator.begin());
  return authenticator;
}

} // namespace

std::string CounterSnapshot::to_line() const {
  char buffer[1536]; // every field at its widest (20 digits) fits
  std::snprintf(
      buffer, sizeof buffer,
      "received=%llu accepted=%llu answered=%llu duplicates=%llu "
      "bad_authenticator=%llu bad_message_authenticator=%llu unknown_client=%llu "
      "malformed=%llu status_server=%llu overload_drops=%llu refused=%llu stale_refused=%llu "
      "commit_batches=%llu "
      "committed=%llu commit_ms_avg=%.2f commit_ms_max=%.2f syncs=%llu sync_ms_avg=%.2f "
      "sync_ms_max=%.2f max_batch=%llu in_flight=%llu open_sessions=%llu tls_accepted=%llu "
      "tls_refused=%llu tls_handshake_failed=%llu tls_established=%llu tls_open=%llu "
      "database=%s",
      static_cast<unsigned long long>(received), static_cast<unsigned long long>(accepted),
      static_cast<unsigned long long>(answered), static_cast<unsigned long long>(duplicates),
      static_cast<unsigned long long>(bad_authenticator),
      static_cast<unsigned long long>(bad_message_authenticator),
      static_cast<unsigned long long>(unknown_client), static_cast<unsigned long long>(malformed),
      static_cast<unsigned long long>(status_server),
      static_cast<unsigned long long>(overload_drops), static_cast<unsigned long long>(refused),
      static_cast<unsigned long long>(stale_refused),
      static_cast<unsigned long long>(commit_batches), static_cast<unsigned long long>(committed),
      commit_latency_avg_ms, commit_latency_max_ms, static_cast<unsigned long long>(syncs),
      sync_latency_avg_ms, sync_latency_max_ms, static_cast<unsigned long long>(max_batch),
      static_cast<unsigned long long>(in_flight), static_cast<unsigned long long>(open_sessions),
      static_cast<unsigned long long>(tls_accepted), static_cast<unsigned long long>(tls_refused),
      static_cast<unsigned long long>(tls_handshake_failed),
      static_cast<unsigned long long>(tls_established), static_cast<unsigned long long>(tls_open),
      database_ok ? "ok" : "FAILING");
  return buffer;
}

std::vector<LogField> CounterSnapshot::fields() const {
  // to_line() is "key=value ..." with numeric values except database=ok|FAILING.
  std::vector<LogField> fields;
  const std::string line = to_line();
  std::size_t pos = 0;
  while (pos < line.size()) {
    const auto space = line.find(' ', pos);
    const auto item =
        line.substr(pos, space == std::string::npos ? std::string::npos : space - pos);
    const auto equals = item.find('=');
    const auto key = item.substr(0, equals);
    fields.push_back({key, item.substr(equals + 1), key != "database"});
    if (space == std::string::npos) {
      break;
    }
    pos = space + 1;
  }
  return fields;
}

std::string CounterSnapshot::to_json() const {
  std::string line = to_line();
  // to_line() is "key=value ..." with numeric values except database=ok|FAILING.
  std::string json = "{";
  std::size_t pos = 0;
  while (pos < line.size()) {
    const auto space = line.find(' ', pos);
    const auto item =
        line.substr(pos, space == std::string::npos ? std::string::npos : space - pos);
    const auto equals = item.find('=');
    if (json.size() > 1) {
      json += ',';
    }
    const auto key = item.substr(0, equals);
    const auto value = item.substr(equals + 1);
    json += "\"" + key + "\":" + (key == "database" ? "\"" + value + "\"" : value);
    if (space == std::string::npos) {
      break;
    }
    pos = space + 1;
  }
  return json + "}";
}

class AccountingServer::Impl final : public TlsRequestHandler {
public:
  Impl(ServerOptions options, LogSink log)
      : options_(std::move(options)), log_(std::move(log)), signals_(io_), stats_timer_(io_),
        housekeeping_timer_(io_),
        duplicates_(options_.duplicate_window, options_.duplicate_sources),
        dict_(radius::Dictionary::builtin()) {
    if (options_.clients_file) {
      auto loaded = load_clients_file(*options_.clients_file);
      if (!loaded) {
        throw std::runtime_error(loaded.error().to_string());
      }
      clients_ = std::move(*loaded);
    } else {
      clients_ = ClientList::local_default();
    }
    if (options_.listen.empty() && options_.tls.listen.empty()) {
      throw std::runtime_error("nothing to listen on");
    }
    for (const auto& text : options_.listen) {
      const auto endpoint = parse_listen(text);
      auto listener = std::make_unique<Listener>(io_);
      boost::system::error_code ec;
      listener->socket.open(endpoint.protocol(), ec);
      if (!ec && endpoint.address().is_v6()) {
        listener->socket.set_option(asio::ip::v6_only(true), ec);
      }
      if (!ec) {
        // Large buffers absorb bursts while the commit thread works (many NASes retransmitting
        // at once after an outage).
        listener->socket.set_option(udp::socket::receive_buffer_size(8 << 20), ec);
        listener->socket.set_option(udp::socket::send_buffer_size(8 << 20), ec);
        ec = {};
        listener->socket.bind(endpoint, ec);
      }
      if (ec) {
        throw std::runtime_error("cannot listen on " + text + ": " + ec.message());
      }
      listener->socket.non_blocking(true);
      const auto local = listener->socket.local_endpoint();
      listener->local_address = local.address().to_string();
      listener->local_port = local.port();
      listener->name = (local.address().is_v6() ? "[" + local.address().to_string() + "]"
                                                : local.address().to_string()) +
                       ":" + std::to_string(local.port());
      listeners_.push_back(std::move(listener));
    }
    if (!options_.tls.listen.empty()) {
      tls_ = std::make_unique<TlsListener>(io_, options_.tls, *this);
    }
    auto writer_options = options_.writer;
    if (!writer_options.run_id && !writer_options.run_kind) {
      writer_options.run_kind = "serve";
    }
    writer_ = storage::open_writer(
        options_.database, writer_options,
        [this](std::vector<storage::Completion>&& done) {
          asio::post(io_, [this, done = std::move(done)] { on_committed(done); });
        },
        [this](const storage::WriterEvent& event) {
          asio::post(io_, [this, event] { on_writer_event(event); });
        });
    for (auto& buffer : buffers_) {
      buffer.resize(receive_buffer);
    }
  }

  ~Impl() {
    if (writer_) {
      writer_->stop();
    }
  }

  void run() {
    for (const auto& listener : listeners_) {
      log(LogLevel::info, "listening", "",
          "listening on " + listener->name + " (database " + database_name_ + ", " +
              std::to_string(clients_.clients().size()) + " clients)",
          {{"listen", listener->name},
           {"database", database_name_},
           {"clients", std::to_string(clients_.clients().size()), true}});
      do_receive(*listener);
    }
    if (tls_) {
      for (const auto& name : tls_->local_endpoints()) {
        log(LogLevel::info, "listening", "",
            "listening on " + name + " (RadSec: RADIUS over TLS, database " + database_name_ + ")",
            {{"listen", name}, {"transport", "tls"}, {"database", database_name_}});
      }
      tls_->start();
    }
    if (options_.handle_signals) {
      signals_.add(SIGINT);
      signals_.add(SIGTERM);
      signals_.add(SIGHUP);
      do_signal();
    }
    schedule_housekeeping();
    schedule_stats();
    io_.run();
    // Anything the writer completed during shutdown has been posted and run by now.
  }

  void stop() {
    asio::post(io_, [this] { shutdown("stop requested"); });
  }

  void reload_clients() {
    asio::post(io_, [this] { do_reload(); });
  }

  std::vector<std::string> local_endpoints() const {
    std::vector<std::string> names;
    for (const auto& listener : listeners_) {
      names.push_back(listener->name);
    }
    return names;
  }

  std::vector<std::uint16_t> local_ports() const {
    std::vector<std::uint16_t> ports;
    for (const auto& listener : listeners_) {
      ports.push_back(listener->local_port);
    }
    return ports;
  }

  std::vector<std::string> local_tls_endpoints() const {
    return tls_ ? tls_->local_endpoints() : std::vector<std::string>{};
  }
  std::vector<std::uint16_t> local_tls_ports() const {
    return tls_ ? tls_->local_ports() : std::vector<std::uint16_t>{};
  }

  CounterSnapshot counters() const {
    CounterSnapshot s;
    s.received = received_.load(std::memory_order_relaxed);
    s.accepted = accepted_.load(std::memory_order_relaxed);
    s.answered = answered_.load(std::memory_order_relaxed);
    s.duplicates = duplicates_count_.load(std::memory_order_relaxed);
    s.bad_authenticator = bad_authenticator_.load(std::memory_order_relaxed);
    s.bad_message_authenticator = bad_message_authenticator_.load(std::memory_order_relaxed);
    s.unknown_client = unknown_client_.load(std::memory_order_relaxed);
    s.malformed = malformed_.load(std::memory_order_relaxed);
    s.status_server = status_server_.load(std::memory_order_relaxed);
    s.overload_drops = overload_drops_.load(std::memory_order_relaxed);
    s.refused = refused_.load(std::memory_order_relaxed);
    s.send_errors = send_errors_.load(std::memory_order_relaxed);
    s.in_flight = in_flight_.load(std::memory_order_relaxed);
    s.tls_accepted = tls_accepted_.load(std::memory_order_relaxed);
    s.tls_refused = tls_refused_.load(std::memory_order_relaxed);
    s.tls_handshake_failed = tls_handshake_failed_.load(std::memory_order_relaxed);
    s.tls_established = tls_established_.load(std::memory_order_relaxed);
    s.tls_open = tls_open_.load(std::memory_order_relaxed);
    const auto stats = writer_->stats();
    s.commit_batches = stats.batches;
    s.committed = stats.items;
    s.commit_failures = stats.failures;
    s.stale_refused = stats.stale_refused;
    s.commit_latency_avg_ms =
        stats.batches ? stats.total_commit_seconds * 1000 / static_cast<double>(stats.batches) : 0;
    s.commit_latency_max_ms = stats.max_commit_seconds * 1000;
    s.syncs = stats.syncs;
    s.sync_latency_avg_ms =
        stats.syncs ? stats.total_sync_seconds * 1000 / static_cast<double>(stats.syncs) : 0;
    s.sync_latency_max_ms = stats.max_sync_seconds * 1000;
    s.max_batch = stats.max_batch;
    s.open_sessions = stats.open_sessions;
    s.database_ok = stats.healthy;
    return s;
  }
  MetricsSnapshot metrics() const {
    MetricsSnapshot m;
    m.counters = counters();
    const auto stats = writer_->stats();
    m.commit_latency = stats.commit_latency;
    m.sync_latency = stats.sync_latency;
    m.checkpoints = stats.checkpoints;
    m.queued = stats.queued;
    std::error_code ec;
    if (const auto size = std::filesystem::file_size(options_.database, ec); !ec) {
      m.database_bytes = static_cast<std::int64_t>(size);
    }
    if (const auto size = std::filesystem::file_size(options_.database + "-wal", ec); !ec) {
      m.wal_bytes = static_cast<std::int64_t>(size);
    }
    m.nas = nas_counters_.snapshot();
    return m;
  }

private:
  struct Listener {
    explicit Listener(asio::io_context& io) : socket(io) {}
    udp::socket socket;
    std::string name;
    std::string local_address; // as stored in packets.dst_addr
    std::uint16_t local_port = 0;
  };

  /** Where a packet came in and how its answer goes out: a UDP listener, or a TLS connection. */
  struct Door {
    std::size_t listener = 0;        // UDP: index into listeners_
    std::shared_ptr<TlsReply> reply; // TLS: the connection
    std::string_view local_address;  // as stored in packets.dst_addr
    std::uint16_t local_port = 0;
  };

  struct Pending {
    RequestKey key;
    Peer peer;
    Door door;
    std::string secret;
    // The request's Proxy-State attributes, whole and in order: the answer carries them back to
    // the proxy that added them (RFC 2865 §5.33). Empty, and unallocated, for a direct NAS.
    std::vector<std::uint8_t> proxy_states;
  };

  // An answer is an Accounting-Response of 20 octets, or 38 with a Message-Authenticator
  // (Status-Server), held inline with no allocation; only one that echoes a proxy's Proxy-State
  // attributes can be longer, and goes to the heap.
  static constexpr std::size_t inline_answer = 64;
  struct Outgoing {
    std::size_t listener = 0;
    Peer peer;
    std::array<std::uint8_t, inline_answer> bytes{};
    std::vector<std::uint8_t> longer;
    std::size_t size = 0;
    const std::uint8_t* data() const { return longer.empty() ? bytes.data() : longer.data(); }
  };

  void queue_answer(const Door& door, const Peer& peer, std::span<const std::uint8_t> bytes) {
    if (door.reply) {
      door.reply->send(bytes);
      return;
    }
    auto& out = outgoing_.emplace_back();
    out.listener = door.listener;
    out.peer = peer;
    if (bytes.size() <= inline_answer) {
      std::copy(bytes.begin(), bytes.end(), out.bytes.begin());
    } else {
      out.longer.assign(bytes.begin(), bytes.end());
    }
    out.size = bytes.size();
  }

  void log(LogLevel level, std::string_view nas, const std::string& line) {
    log(level, "message", nas, line, {});
  }
  void log(LogLevel level, std::string_view event, std::string_view nas, const std::string& line,
           std::vector<LogField> fields) {
    if (log_) {
      log_(LogEntry{level, event, nas, line, fields});
    }
  }

  void do_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
      if (ec) {
        return;
      }
      if (signal == SIGHUP) {
        do_reload();
        do_signal();
        return;
      }
      shutdown(signal == SIGTERM ? "SIGTERM" : "SIGINT");
    });
  }

  void do_reload() {
    if (!options_.clients_file) {
      log(LogLevel::info, "reload", "", "reload: no clients file; keeping the built-in clients",
          {});
      return;
    }
    auto loaded = load_clients_file(*options_.clients_file);
    if (!loaded) {
      log(LogLevel::error, "reload_failed", "",
          "reload failed, keeping the previous clients: " + loaded.error().to_string(),
          {{"file", loaded.error().file},
           {"line", std::to_string(loaded.error().line), true},
           {"error", loaded.error().message}});
      return;
    }
    clients_ = std::move(*loaded);
    if (options_.on_clients_reloaded) {
      options_.on_clients_reloaded(clients_);
    }
    log(LogLevel::info, "reload", "",
        "reloaded " + *options_.clients_file + ": " + std::to_string(clients_.clients().size()) +
            " clients",
        {{"file", *options_.clients_file},
         {"clients", std::to_string(clients_.clients().size()), true}});
  }

  void shutdown(const std::string& why) {
    if (!receiving_) {
      return;
    }
    receiving_ = false;
    for (auto& listener : listeners_) {
      boost::system::error_code ec;
      listener->socket.cancel(ec);
    }
    if (tls_) {
      tls_->stop(); // no more reads; each connection closes once its answers are out
    }
    log(LogLevel::info, "stopping", "",
        why + ": stopped receiving; committing and answering " +
            std::to_string(pending_.size() + batch_.size()) + " requests in flight",
        {{"reason", why}, {"in_flight", std::to_string(pending_.size() + batch_.size()), true}});
    flush_batch();
    writer_->set_run_report(counters().to_json());
    // The commit thread drains its queue and posts the completions to io_; they run (and the
    // answers go out) before io_.run() returns.
    writer_->stop();
    signals_.cancel();
    stats_timer_.cancel();
    housekeeping_timer_.cancel();
    asio::post(io_, [this] {
      const auto snapshot = counters();
      log(LogLevel::info, "stopped", "", "stopped; " + snapshot.to_line(), snapshot.fields());
    });
  }

  void schedule_housekeeping() {
    const auto tick =
        options_.report_interval.count() > 0
            ? std::min<std::chrono::milliseconds>(options_.report_interval, std::chrono::seconds(1))
            : std::chrono::milliseconds(std::chrono::seconds(1));
    housekeeping_timer_.expires_after(tick);
    housekeeping_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || !receiving_) {
        return;
      }
      duplicates_.expire(wall_clock());
      const auto now = std::chrono::steady_clock::now();
      if (options_.report_interval.count() > 0 && now >= next_report_) {
        writer_->set_run_report(counters().to_json()); // committed with the next batch
        next_report_ = now + options_.report_interval;
      }
      schedule_housekeeping();
    });
  }

  void schedule_stats() {
    if (options_.stats_interval.count() <= 0) {
      return;
    }
    stats_timer_.expires_after(options_.stats_interval);
    stats_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || !receiving_) {
        return;
      }
      const auto snapshot = counters();
      log(LogLevel::info, "stats", "", "stats " + snapshot.to_line(), snapshot.fields());
      schedule_stats();
    });
  }

  void on_writer_event(const storage::WriterEvent& event) {
    if (event.kind == storage::WriterEvent::Kind::item_refused) {
      on_refused(event);
    } else if (event.kind == storage::WriterEvent::Kind::stale_refused) {
      // Told once per session by the writer, which does not try the mark again.
      log(LogLevel::warning, "stale_refused", event.nas,
          "the database refused to mark session " + event.acct_session_id + " of NAS " + event.nas +
              " stale: " + event.message + " -- it stays open in the database",
          {{"acct_session_id", event.acct_session_id},
           {"error", event.message},
           {"database", database_name_}});
    } else if (event.kind == storage::WriterEvent::Kind::commit_failed) {
      log(LogLevel::error, "database_failed", "",
          "DATABASE UNWRITABLE (" + database_name_ + "): " + event.message +
              " -- not answering any NAS until it can be written; retrying",
          {{"database", database_name_},
           {"error", event.message},
           {"sqlite_code", std::to_string(event.sqlite_code), true}});
    } else {
      log(LogLevel::info, "database_recovered", "",
          "database " + database_name_ + " writable again; answering",
          {{"database", database_name_}});
    }
  }

  /** The writer dropped an item because the database refused its rows (storage/
   * commit_failure.hpp): a request is not answered, and its retransmission is a new request
   * again (it meets the same refusal until the database takes it). */
  void on_refused(const storage::WriterEvent& event) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    std::string nas = event.nas;
    const bool request = event.tag != 0;
    if (const Pending* pending = request ? pending_.find(event.tag) : nullptr) {
      // The per-NAS counters are kept under the clients file's name, as every other drop.
      const Client* client = clients_.match(pending->key.source,
                                            pending->door.reply ? Transport::tls : Transport::udp);
      nas = client ? client->shortname : std::string(NasCounters::unknown_label);
      // Retransmissions that waited for it get no answer either; the next one is decoded and
      // submitted anew instead of waiting for an answer that will never come.
      duplicates_.erase(pending->key);
      if (pending->door.reply) {
        pending->door.reply->release();
      }
      pending_.erase(event.tag);
      in_flight_.store(pending_.size(), std::memory_order_relaxed);
      nas_counters_.drop(nas, "database-refused");
    }
    std::string what = event.code ? radius::code_name(static_cast<radius::Code>(*event.code))
                                  : std::string("packet");
    if (event.identifier) {
      what += " id=" + std::to_string(*event.identifier);
    }
    if (!event.acct_session_id.empty()) {
      what += " Acct-Session-Id=" + event.acct_session_id;
    }
    if (event.status_type) {
      what += " Acct-Status-Type=" + std::string(radius::status_type_name(*event.status_type));
    }
    std::vector<LogField> fields{{"peer", event.source}};
    if (event.code) {
      fields.push_back({"code", std::to_string(*event.code), true});
    }
    if (event.identifier) {
      fields.push_back({"identifier", std::to_string(*event.identifier), true});
    }
    fields.push_back({"acct_session_id", event.acct_session_id});
    if (event.status_type) {
      fields.push_back({"status_type", std::string(radius::status_type_name(*event.status_type))});
    }
    fields.push_back({"error", event.message});
    if (!event.sqlstate.empty()) {
      fields.push_back({"sqlstate", event.sqlstate});
    } else {
      fields.push_back({"sqlite_code", std::to_string(event.sqlite_code), true});
    }
    log(LogLevel::error, "database_refused", nas,
        (request ? "dropped request from " : "dropped evidence row of a packet from ") +
            event.source + ": the database refused " + what + ": " + event.message +
            (request ? " -- not answered; the NAS will retransmit" : ""),
        std::move(fields));
  }

  void do_receive(Listener& listener) {
    listener.socket.async_wait(udp::socket::wait_read,
                               [this, &listener](boost::system::error_code ec) {
                                 if (ec || !receiving_) {
                                   return;
                                 }
                                 on_readable(listener);
                                 do_receive(listener);
                               });
  }

  void on_readable(Listener& listener) {
    const std::size_t index = listener_index(listener);
    const int fd = listener.socket.native_handle();
    // Drain what the kernel holds, a bounded number of rounds so sending is not starved.
    for (int round = 0; round < 8; ++round) {
      std::array<mmsghdr, receive_batch> messages{};
      std::array<iovec, receive_batch> vectors{};
      for (std::size_t i = 0; i < receive_batch; ++i) {
        vectors[i] = {buffers_[i].data(), buffers_[i].size()};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &peers_[i].address;
        messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      }
      const int received = recvmmsg(fd, messages.data(), static_cast<unsigned>(receive_batch),
                                    MSG_DONTWAIT, nullptr);
      if (received <= 0) {
        break;
      }
      const double now = wall_clock();
      for (int i = 0; i < received; ++i) {
        peers_[i].length = messages[i].msg_hdr.msg_namelen;
        on_datagram(std::span<const std::uint8_t>(buffers_[i].data(), messages[i].msg_len),
                    peers_[i], door_of(index), now);
      }
      if (static_cast<std::size_t>(received) < receive_batch) {
        break;
      }
    }
    flush_batch();
    flush_sends();
  }

  Door door_of(std::size_t listener) const {
    return Door{listener, nullptr, listeners_[listener]->local_address,
                listeners_[listener]->local_port};
  }

  std::size_t listener_index(const Listener& listener) const {
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
      if (listeners_[i].get() == &listener) {
        return i;
      }
    }
    return 0;
  }

  void reject(Verdict verdict, std::string reason, const std::string& nas, const Peer& peer,
              std::span<const std::uint8_t> datagram, const Door& door, double now) {
    switch (verdict) {
      case Verdict::unknown_client:
        unknown_client_.fetch_add(1, std::memory_order_relaxed);
        break;
      case Verdict::malformed:
        malformed_.fetch_add(1, std::memory_order_relaxed);
        break;
      case Verdict::bad_authenticator:
        bad_authenticator_.fetch_add(1, std::memory_order_relaxed);
        break;
      case Verdict::bad_message_authenticator:
        bad_message_authenticator_.fetch_add(1, std::memory_order_relaxed);
        break;
      case Verdict::ok:
      case Verdict::duplicate:
        break;
    }
    const std::string cause(storage::to_string(verdict));
    nas_counters_.drop(verdict == Verdict::unknown_client ? NasCounters::unknown_label
                                                          : std::string_view(nas),
                       cause);
    if (const auto suppressed = limiter_.allow(nas, cause, now)) {
      std::string line = "dropped packet from " + peer.to_string() + ": " + cause + ": " + reason;
      if (*suppressed > 0) {
        line += " (" + std::to_string(*suppressed) + " more like it suppressed)";
      }
      log(LogLevel::warning, "packet_dropped", nas, line,
          {{"peer", peer.to_string()},
           {"cause", cause},
           {"reason", reason},
           {"suppressed", std::to_string(*suppressed), true}});
    }
    // The raw packet is kept as evidence with its verdict, never as a record.
    storage::WriteItem item;
    fill_packet(item.packet, datagram, peer, door, now);
    item.packet.verdict = verdict;
    item.packet.reason = std::move(reason);
    item.nas = nas;
    batch_.push_back(std::move(item));
  }

  void fill_packet(storage::PacketRow& row, std::span<const std::uint8_t> datagram,
                   const Peer& peer, const Door& door, double now) {
    row.raw.assign(datagram.begin(), datagram.end());
    row.src_addr = peer.ip().to_string();
    row.src_port = peer.port();
    row.dst_addr = door.local_address;
    row.dst_port = door.local_port;
    if (!datagram.empty()) {
      row.code = datagram[0];
    }
    if (datagram.size() > 1) {
      row.identifier = datagram[1];
    }
    row.receive_time = now;
  }

  void on_datagram(std::span<const std::uint8_t> datagram, const Peer& peer, const Door& door,
                   double now) {
    received_.fetch_add(1, std::memory_order_relaxed);
    const IpAddress source = peer.ip();
    const Client* client = clients_.match(source);
    nas_counters_.request(client ? std::string_view(client->shortname)
                                 : NasCounters::unknown_label);
    if (!client) {
      const auto text = source.to_string();
      reject(Verdict::unknown_client, "no client matches " + text, text, peer, datagram, door, now);
      return;
    }
    on_packet(datagram, peer, door, *client, now);
  }

  /** The pipeline after the client is known, for either door. Returns false when the packet
   * was discarded (a TLS connection is then closed, RFC 6613 §2.6.4). */
  bool on_packet(std::span<const std::uint8_t> datagram, const Peer& peer, const Door& door,
                 const Client& client_entry, double now) {
    const Client* client = &client_entry;
    const IpAddress source = peer.ip();
    const std::string& nas = client->shortname;
    if (const auto failure = radius::check_framing(datagram)) {
      reject(Verdict::malformed, failure->message(), nas, peer, datagram, door, now);
      return false;
    }
    const auto code = static_cast<radius::Code>(datagram[0]);
    if (code == radius::Code::status_server) {
      return on_status_server(datagram, peer, door, *client, now);
    }
    if (code != radius::Code::accounting_request) {
      reject(Verdict::malformed, radius::code_name(code) + " is not accepted on an accounting port",
             nas, peer, datagram, door, now);
      return false;
    }
    // RFC 2866 §3: a request whose authenticator does not verify is silently discarded, so a
    // NAS with the wrong secret gets no answer.
    if (!radius::verify_request_authenticator(datagram, client->secret)) {
      reject(Verdict::bad_authenticator,
             "the Request Authenticator does not verify with this client's secret", nas, peer,
             datagram, door, now);
      return false;
    }
    const auto check = radius::check_message_authenticator(datagram, client->secret, nullptr);
    if (check == radius::MessageAuthenticatorCheck::invalid ||
        check == radius::MessageAuthenticatorCheck::malformed) {
      reject(Verdict::bad_message_authenticator,
             "Message-Authenticator is " + std::string(radius::to_string(check)), nas, peer,
             datagram, door, now);
      return false;
    }
    if (check == radius::MessageAuthenticatorCheck::absent &&
        client->require_message_authenticator) {
      reject(Verdict::bad_message_authenticator,
             "Message-Authenticator is required for this client and absent", nas, peer, datagram,
             door, now);
      return false;
    }

    RequestKey key{source, peer.port(), datagram[1], authenticator_of(datagram)};
    if (auto* entry = duplicates_.find(key)) {
      // RFC 5080 §2.2.2: a retransmission is answered with the original's response and stored
      // only as evidence, never as a second record.
      duplicates_count_.fetch_add(1, std::memory_order_relaxed);
      std::string reason;
      if (entry->answered) {
        queue_answer(door, peer, entry->response);
        reason = "retransmission of an answered request; cached response resent";
      } else {
        if (!door.reply) {
          entry->waiting = std::min(entry->waiting + 1, max_answers_per_duplicate);
        }
        reason = "retransmission while the original is being committed";
      }
      storage::WriteItem item;
      fill_packet(item.packet, datagram, peer, door, now);
      item.packet.verdict = Verdict::duplicate;
      item.packet.reason = std::move(reason);
      item.nas = nas;
      batch_.push_back(std::move(item));
      if (door.reply && !entry->answered) {
        // Over TLS the original's connection gets the answer; this copy is owed none.
        door.reply->release();
      }
      return true;
    }
    if (!door.reply && pending_.size() >= options_.max_in_flight) {
      // Too much awaits its commit (the database is slow or failing): dropping unanswered makes
      // the NAS retransmit later instead of growing memory here.
      overload_drops_.fetch_add(1, std::memory_order_relaxed);
      nas_counters_.drop(nas, "overload");
      if (const auto suppressed = limiter_.allow(nas, "overload", now)) {
        log(LogLevel::warning, "overload_drop", nas,
            "dropped request from " + peer.to_string() + ": " + std::to_string(pending_.size()) +
                " requests await their commit" +
                (*suppressed ? " (" + std::to_string(*suppressed) + " more suppressed)" : ""),
            {{"peer", peer.to_string()},
             {"in_flight", std::to_string(pending_.size()), true},
             {"suppressed", std::to_string(*suppressed), true}});
      }
      return true;
    }
    auto decoded = radius::decode_packet(datagram, dict_);
    if (!decoded) {
      reject(Verdict::malformed, decoded.error().message(), nas, peer, datagram, door, now);
      return false;
    }
    if (options_.debug_radius) {
      debug_packet(*decoded, true, peer, datagram.size(), nas);
    }
    storage::RecordInput input;
    input.record = radius::make_accounting_record(*decoded, dict_);
    input.nas_key = radius::session_nas_key(input.record, source.to_string());
    // RFC 2869 §5.3 Event-Timestamp when present; else RFC 2866 §5.2: receive time minus
    // Acct-Delay-Time.
    input.event_time = input.record.event_timestamp
                           ? static_cast<double>(*input.record.event_timestamp)
                           : now - static_cast<double>(input.record.delay_time.value_or(0));

    duplicates_.insert(key, now);
    Pending pending{key, peer, door, client->secret, {}};
    radius::append_proxy_states(datagram, pending.proxy_states);
    const std::uint64_t tag = pending_.push(std::move(pending));
    in_flight_.store(pending_.size(), std::memory_order_relaxed);
    accepted_.fetch_add(1, std::memory_order_relaxed);

    storage::WriteItem item;
    fill_packet(item.packet, datagram, peer, door, now);
    item.packet.verdict = Verdict::ok;
    item.record = std::move(input);
    item.nas = item.record->nas_key;
    item.tag = tag;
    batch_.push_back(std::move(item));
    return true;
  }

  bool on_status_server(std::span<const std::uint8_t> datagram, const Peer& peer, const Door& door,
                        const Client& client, double now) {
    // RFC 5997 §3: Status-Server must carry a valid Message-Authenticator; otherwise discard.
    const auto check = radius::check_message_authenticator(datagram, client.secret, nullptr);
    if (check != radius::MessageAuthenticatorCheck::valid) {
      reject(Verdict::bad_message_authenticator,
             "Status-Server without a valid Message-Authenticator (" +
                 std::string(radius::to_string(check)) + ")",
             client.shortname, peer, datagram, door, now);
      return false;
    }
    status_server_.fetch_add(1, std::memory_order_relaxed);
    // RFC 5997 §3: on an accounting port the answer is an Accounting-Response; it carries a
    // Message-Authenticator as RFC 5997 §6 recommends.
    const auto request_authenticator = authenticator_of(datagram);
    std::vector<std::uint8_t> response(20 + 18, 0);
    response[0] = static_cast<std::uint8_t>(radius::Code::accounting_response);
    response[1] = datagram[1];
    response[3] = static_cast<std::uint8_t>(response.size());
    response[20] = radius::message_authenticator_type;
    response[21] = 18;
    fill_message_authenticator(response, 22, request_authenticator, client.secret);
    radius::sign_response(response, request_authenticator, client.secret);
    queue_answer(door, peer, response);
    return true;
  }

  // The Accounting-Response for a committed request, in answer_ (reused: no allocation per
  // answer once it has grown): the header, the request's Proxy-State attributes, signed.
  std::span<const std::uint8_t> make_response(const Pending& pending) {
    answer_.assign(radius::header_size, 0);
    answer_.insert(answer_.end(), pending.proxy_states.begin(), pending.proxy_states.end());
    answer_[0] = static_cast<std::uint8_t>(radius::Code::accounting_response);
    answer_[1] = pending.key.identifier;
    answer_[2] = static_cast<std::uint8_t>(answer_.size() >> 8);
    answer_[3] = static_cast<std::uint8_t>(answer_.size() & 0xff);
    radius::sign_response(answer_, pending.key.authenticator, pending.secret);
    return answer_;
  }

  void on_committed(const std::vector<storage::Completion>& done) {
    for (const auto& completion : done) {
      const Pending* found = pending_.find(completion.tag);
      if (!found) {
        continue;
      }
      const Pending& pending = *found;
      const auto response = make_response(pending);
      if (options_.debug_radius) {
        auto decoded = radius::decode_packet(response, dict_);
        if (decoded) {
          debug_packet(*decoded, false, pending.peer, response.size(), "");
        }
      }
      // One answer for the original and one for each retransmission that waited for it.
      std::uint32_t copies = 1;
      if (auto* entry = duplicates_.answer(pending.key, response)) {
        copies += entry->waiting;
        entry->waiting = 0;
      }
      for (std::uint32_t i = 0; i < copies; ++i) {
        queue_answer(pending.door, pending.peer, response);
      }
      answered_.fetch_add(1, std::memory_order_relaxed);
      pending_.erase(completion.tag);
    }
    in_flight_.store(pending_.size(), std::memory_order_relaxed);
    flush_sends();
    flush_batch(); // duplicates seen meanwhile are stored as evidence
    if (tls_) {
      tls_->resume(); // connections paused while commits lagged read again
    }
  }

  // --- the TLS door (TlsRequestHandler) ---

  static Peer peer_of(const IpAddress& address, std::uint16_t port) {
    Peer peer;
    if (address.v6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&peer.address);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons(port);
      std::memcpy(&in6->sin6_addr, address.bytes.data(), 16);
      peer.length = sizeof(sockaddr_in6);
    } else {
      auto* in = reinterpret_cast<sockaddr_in*>(&peer.address);
      in->sin_family = AF_INET;
      in->sin_port = htons(port);
      std::memcpy(&in->sin_addr, address.bytes.data(), 4);
      peer.length = sizeof(sockaddr_in);
    }
    return peer;
  }

  bool on_tls_packet(std::span<const std::uint8_t> packet, const TlsOrigin& origin,
                     const std::shared_ptr<TlsReply>& reply) override {
    received_.fetch_add(1, std::memory_order_relaxed);
    const Door door{0, reply, origin.local_address, origin.local_port};
    const bool kept =
        on_packet(packet, peer_of(origin.address, origin.port), door, origin.client, wall_clock());
    if (!kept) {
      flush_batch(); // the evidence, before the connection goes
    }
    return kept;
  }

  void on_tls_read_done() override {
    // One submission per round of reads, as UDP submits one per recvmmsg round: the reads of the
    // other connections the same readiness woke are queued before this post, so their requests
    // join the same batch instead of each waking the writer for a batch of its own.
    if (!tls_flush_posted_) {
      tls_flush_posted_ = true;
      asio::post(io_, [this] {
        tls_flush_posted_ = false;
        flush_batch();
      });
    }
  }

  void on_tls_malformed(std::span<const std::uint8_t> octets, const TlsOrigin& origin,
                        std::string reason) override {
    received_.fetch_add(1, std::memory_order_relaxed);
    const Door door{0, nullptr, origin.local_address, origin.local_port};
    reject(Verdict::malformed, "over TLS: " + reason, origin.client.shortname,
           peer_of(origin.address, origin.port), octets, door, wall_clock());
    flush_batch();
  }

  bool accepting() const override { return receiving_ && pending_.size() < options_.max_in_flight; }

  const Client* tls_client(const IpAddress& source) const override {
    return clients_.match(source, Transport::tls);
  }

  void on_tls_event(TlsEvent event, std::string_view nas, const std::string& line) override {
    switch (event) {
      case TlsEvent::accepted:
        tls_accepted_.fetch_add(1, std::memory_order_relaxed);
        return; // established or refused says more
      case TlsEvent::refused:
        tls_refused_.fetch_add(1, std::memory_order_relaxed);
        if (nas.empty()) {
          unknown_client_.fetch_add(1, std::memory_order_relaxed);
        }
        break;
      case TlsEvent::handshake_failed:
        tls_handshake_failed_.fetch_add(1, std::memory_order_relaxed);
        break;
      case TlsEvent::established:
        tls_established_.fetch_add(1, std::memory_order_relaxed);
        tls_open_.fetch_add(1, std::memory_order_relaxed);
        log(LogLevel::info, "tls_established", nas, line, {});
        return;
      case TlsEvent::closed_idle:
      case TlsEvent::closed_error:
      case TlsEvent::closed_peer:
        break;
    }
    if (event == TlsEvent::closed_idle || event == TlsEvent::closed_error ||
        event == TlsEvent::closed_peer) {
      tls_open_.fetch_sub(1, std::memory_order_relaxed); // only established ones close so
    }
    const auto level = event == TlsEvent::closed_peer || event == TlsEvent::closed_idle
                           ? LogLevel::info
                           : LogLevel::warning;
    const std::string key = nas.empty() ? std::string("tls") : std::string(nas);
    if (const auto suppressed = limiter_.allow(key, std::string(to_string(event)), wall_clock())) {
      log(level, "tls_" + std::string(to_string(event)), nas,
          *suppressed ? line + " (" + std::to_string(*suppressed) + " more like it suppressed)"
                      : line,
          {{"suppressed", std::to_string(*suppressed), true}});
    }
  }

  void debug_packet(const radius::Packet& packet, bool received, const Peer& peer,
                    std::size_t length, std::string_view nas) {
    const std::string stamp = ios_timestamp(wall_clock());
    for (const auto& line : debug_lines(packet, dict_, received, peer.to_string(), length)) {
      log(LogLevel::debug, "radius_debug", nas, stamp + line, {});
    }
  }

  void flush_batch() {
    if (!batch_.empty()) {
      writer_->submit(batch_); // may hand back the writer's emptied queue, without capacity
      batch_.clear();
      batch_.reserve(batch_reserve); // one receive round's items, without moving them to grow
    }
  }

  void flush_sends() {
    std::size_t start = 0;
    while (start < outgoing_.size()) {
      // One UdpSender call per run of answers for the same listener.
      const std::size_t listener = outgoing_[start].listener;
      std::size_t end = start;
      while (end < outgoing_.size() && outgoing_[end].listener == listener) {
        ++end;
      }
      datagrams_.clear();
      for (std::size_t i = start; i < end; ++i) {
        const auto& out = outgoing_[i];
        datagrams_.push_back({&out.peer.address, out.peer.length, out.data(), out.size});
      }
      const int fd = listeners_[listener]->socket.native_handle();
      if (const auto failed = sender_.send(fd, datagrams_)) {
        send_errors_.fetch_add(failed, std::memory_order_relaxed);
      }
      start = end;
    }
    outgoing_.clear();
  }

  ServerOptions options_;
  // The database as logs and metrics show it: a postgresql:// URI's password as ***.
  std::string database_name_ = storage::database_display_name(options_.database);
  LogSink log_;
  asio::io_context io_{1};
  asio::signal_set signals_;
  asio::steady_timer stats_timer_;
  asio::steady_timer housekeeping_timer_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  ClientList clients_;
  DuplicateCache duplicates_;
  LogLimiter limiter_;
  const radius::Dictionary& dict_;
  std::unique_ptr<storage::AccountingWriter> writer_;
  TagRing<Pending> pending_; // requests awaiting their commit, by writer tag
  static constexpr std::size_t batch_reserve = 64;
  std::vector<storage::WriteItem> batch_;
  std::vector<Outgoing> outgoing_;
  std::vector<std::uint8_t> answer_; // make_response's buffer
  std::vector<Datagram> datagrams_;  // flush_sends scratch
  UdpSender sender_;
  std::chrono::steady_clock::time_point next_report_{}; // when the run row's counters are due
  std::array<std::vector<std::uint8_t>, receive_batch> buffers_;
  std::array<Peer, receive_batch> peers_;
  bool receiving_ = true;
  bool tls_flush_posted_ = false;

  NasCounters nas_counters_;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> answered_{0};
  std::atomic<std::uint64_t> duplicates_count_{0};
  std::atomic<std::uint64_t> bad_authenticator_{0};
  std::atomic<std::uint64_t> bad_message_authenticator_{0};
  std::atomic<std::uint64_t> unknown_client_{0};
  std::atomic<std::uint64_t> malformed_{0};
  std::atomic<std::uint64_t> status_server_{0};
  std::atomic<std::uint64_t> overload_drops_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> send_errors_{0};
  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> tls_accepted_{0};
  std::atomic<std::uint64_t> tls_refused_{0};
  std::atomic<std::uint64_t> tls_handshake_failed_{0};
  std::atomic<std::uint64_t> tls_established_{0};
  std::atomic<std::uint64_t> tls_open_{0};
  // Declared last: destroyed first, while io_ and the writer still exist.
  std::unique_ptr<TlsListener> tls_;
};

AccountingServer::AccountingServer(ServerOptions options, LogSink log)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(log))) {}
AccountingServer::~AccountingServer() = default;
std::vector<std::string> AccountingServer::local_endpoints() const {
  return impl_->local_endpoints();
}
std::vector<std::uint16_t> AccountingServer::local_ports() const {
  return impl_->local_ports();
}
std::vector<std::string> AccountingServer::local_tls_endpoints() const {
  return impl_->local_tls_endpoints();
}
std::vector<std::uint16_t> AccountingServer::local_tls_ports() const {
  return impl_->local_tls_ports();
}
void AccountingServer::run() {
  impl_->run();
}
void AccountingServer::stop() {
  impl_->stop();
}
void AccountingServer::reload_clients() {
  impl_->reload_clients();
}
MetricsSnapshot AccountingServer::metrics() const {
  return impl_->metrics();
}
CounterSnapshot AccountingServer::counters() const {
  return impl_->counters();
}

} // namespace acctlab::server
