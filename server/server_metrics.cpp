#include "server/server_metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace acctlab::server {

void NasCounters::request(std::string_view nas) {
  std::lock_guard lock(mutex_);
  ++row(nas).requests;
}

void NasCounters::drop(std::string_view nas, std::string_view cause) {
  std::lock_guard lock(mutex_);
  auto& drops = row(nas).drops;
  const auto it = drops.find(std::string(cause));
  if (it != drops.end()) {
    ++it->second;
  } else {
    drops.emplace(std::string(cause), 1);
  }
}

NasCounters::Row& NasCounters::row(std::string_view nas) {
  std::string key(nas);
  if (auto it = rows_.find(key); it != rows_.end()) {
    return it->second;
  }
  if (rows_.size() >= max_labels_) {
    key = other_label;
    if (auto it = rows_.find(key); it != rows_.end()) {
      return it->second;
    }
  }
  auto& added = rows_[key];
  added.nas = key;
  return added;
}

std::vector<NasCounters::Row> NasCounters::snapshot() const {
  std::vector<Row> rows;
  {
    std::lock_guard lock(mutex_);
    rows.reserve(rows_.size());
    for (const auto& [name, row] : rows_) {
      rows.push_back(row);
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.nas < b.nas; });
  return rows;
}

std::string prometheus_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}

class Exposition {
public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, std::string_view value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, std::uint64_t value) {
    sample(name, labels, std::to_string(value));
  }
  void counter(std::string_view name, std::string_view help, std::uint64_t value) {
    family(name, "counter", help);
    sample(name, {}, value);
  }
  void gauge(std::string_view name, std::string_view help, double value) {
    family(name, "gauge", help);
    sample(name, {}, number(value));
  }
  void histogram(const std::string& name, std::string_view help,
                 const storage::LatencyHistogram& h) {
    family(name, "histogram", help);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
      cumulative += h.counts[i];
      sample(name + "_bucket", "le=\"" + number(h.bounds[i]) + "\"", cumulative);
    }
    cumulative += h.counts.back();
    sample(name + "_bucket", "le=\"+Inf\"", cumulative);
    sample(name + "_sum", {}, number(h.sum_seconds));
    sample(name + "_count", {}, h.count);
  }
  std::string take() { return std::move(out_); }

private:
  std::string out_;
};

} // namespace

std::string format_prometheus(const MetricsSnapshot& m, std::string_view version,
                              std::string_view commit) {
  Exposition e;
  const auto& c = m.counters;
  e.family("acctlab_build_info", "gauge", "The running acctlab's release and git commit.");
  e.sample("acctlab_build_info",
           "version=\"" + prometheus_label_value(version) + "\",commit=\"" +
               prometheus_label_value(commit) + "\"",
           "1");
  // The stats line's counters, one family each, named as the line names them.
  e.counter("acctlab_received_total", "Datagrams received on the accounting listeners.",
            c.received);
  e.counter("acctlab_accepted_total", "Valid Accounting-Requests queued for commit.", c.accepted);
  e.counter("acctlab_answered_total", "Accounting-Responses sent after their commit.", c.answered);
  e.counter("acctlab_duplicates_total",
            "Retransmissions (RFC 5080 section 2.2.2) answered from the cache, stored once.",
            c.duplicates);
  e.counter("acctlab_bad_authenticator_total",
            "Requests dropped: the Request Authenticator does not verify (wrong secret).",
            c.bad_authenticator);
  e.counter("acctlab_bad_message_authenticator_total",
            "Requests dropped: Message-Authenticator wrong, or absent where required.",
            c.bad_message_authenticator);
  e.counter("acctlab_unknown_client_total", "Datagrams dropped: the source matches no client.",
            c.unknown_client);
  e.counter("acctlab_malformed_total", "Datagrams dropped: framing or attributes malformed.",
            c.malformed);
  e.counter("acctlab_status_server_total", "Status-Server requests answered (RFC 5997).",
            c.status_server);
  e.counter("acctlab_overload_drops_total",
            "Requests dropped unanswered because too many awaited their commit.", c.overload_drops);
  e.counter("acctlab_refused_total",
            "Requests dropped unanswered because the database refused their rows (a constraint, "
            "a trigger, a value that does not fit); the NAS retransmits.",
            c.refused);
  e.counter("acctlab_stale_refused_total",
            "Sessions the database refused to mark stale (a constraint, a trigger); each is told "
            "once and stays open in the database.",
            c.stale_refused);
  e.counter("acctlab_send_errors_total", "Answers the kernel refused to send.", c.send_errors);
  e.counter("acctlab_commit_batches_total", "Database transactions committed.", c.commit_batches);
  e.counter("acctlab_committed_total", "Items (packets with their records) committed.",
            c.committed);
  e.counter("acctlab_commit_failures_total", "Failed commit attempts (retried).",
            c.commit_failures);
  e.counter("acctlab_syncs_total", "fdatasyncs that made commits durable before their answers.",
            c.syncs);
  e.gauge("acctlab_max_batch", "The largest transaction so far, in items.",
          static_cast<double>(c.max_batch));
  e.gauge("acctlab_in_flight", "Requests awaiting their commit.", static_cast<double>(c.in_flight));
  e.gauge("acctlab_open_sessions", "Sessions open in the session matcher.",
          static_cast<double>(c.open_sessions));
  e.gauge("acctlab_commit_latency_max_seconds", "The longest commit so far.",
          c.commit_latency_max_ms / 1000);
  e.gauge("acctlab_sync_latency_max_seconds", "The longest fdatasync so far.",
          c.sync_latency_max_ms / 1000);
  e.histogram("acctlab_commit_latency_seconds", "Time of each successful database commit.",
              m.commit_latency);
  e.histogram("acctlab_sync_latency_seconds",
              "Time of each fdatasync of the write-ahead log (synchronous=full).", m.sync_latency);
  // The database's state.
  e.gauge("acctlab_database_up",
          "1 while commits succeed; 0 while the database cannot be written (no NAS is answered).",
          c.database_ok ? 1 : 0);
  e.gauge("acctlab_database_queued", "Items waiting for the commit thread.",
          static_cast<double>(m.queued));
  e.counter("acctlab_database_checkpoints_total", "WAL checkpoints completed.", m.checkpoints);
  if (m.database_bytes >= 0) {
    e.gauge("acctlab_database_size_bytes", "Size of the database file.",
            static_cast<double>(m.database_bytes));
  }
  if (m.wal_bytes >= 0) {
    e.gauge("acctlab_database_wal_size_bytes", "Size of the write-ahead log file.",
            static_cast<double>(m.wal_bytes));
  }
  // Per NAS: the clients file's shortnames, "unknown" and "other" (NasCounters bounds them).
  e.family("acctlab_nas_requests_total", "counter",
           "Datagrams received per NAS (unknown: sources that match no client).");
  for (const auto& row : m.nas) {
    e.sample("acctlab_nas_requests_total", "nas=\"" + prometheus_label_value(row.nas) + "\"",
             row.requests);
  }
  e.family("acctlab_nas_drops_total", "counter",
           "Datagrams dropped unanswered per NAS and cause (the stored verdict, or overload).");
  for (const auto& row : m.nas) {
    for (const auto& [cause, count] : row.drops) {
      e.sample("acctlab_nas_drops_total",
               "nas=\"" + prometheus_label_value(row.nas) + "\",cause=\"" +
                   prometheus_label_value(cause) + "\"",
               count);
    }
  }
  return e.take();
}

} // namespace acctlab::server
