#include "pcap/capture_import.hpp"

#include "pcap/analysis_report.hpp"
#include "radius/accounting_record.hpp"
#include "radius/authenticator.hpp"
#include "radius/session_matcher.hpp"
#include "storage/pg_connection.hpp"
#include "storage/record_writer.hpp"
#include "storage/run_store.hpp"
#include "storage/session_store.hpp"

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace acctlab::capture {
namespace {

using storage::Verdict;

constexpr std::size_t stored_list_limit = 200;

double wall_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

bool is_response_code(std::uint8_t code) {
  switch (code) {
    case 2:
    case 3:
    case 5:
    case 11:
    case 41:
    case 42:
    case 44:
    case 45:
      return true;
    default:
      return false;
  }
}

/** RFC 5080 §2.2.2's key: source address and port, Identifier, Request Authenticator. */
struct RequestKey {
  Endpoint source;
  std::uint8_t identifier = 0;
  radius::Authenticator authenticator{};
  bool operator==(const RequestKey&) const = default;
};
struct RequestKeyHash {
  std::size_t operator()(const RequestKey& key) const noexcept {
    std::size_t h =
        hash_value(key.source.address) ^ (std::size_t{key.source.port} << 8) ^ key.identifier;
    std::uint64_t a = 0;
    std::memcpy(&a, key.authenticator.data(), sizeof a);
    return h ^ (a * 0x9E3779B97F4A7C15ull);
  }
};

struct Original {
  std::int64_t time_ns = 0;
  std::uint32_t file_index = 0;
  std::uint64_t frame = 0;
};

std::string where(const std::vector<std::string>& names, std::uint32_t file_index,
                  std::uint64_t frame) {
  const std::string file =
      file_index < names.size() ? names[file_index] : "file " + std::to_string(file_index);
  return file + " frame " + std::to_string(frame);
}

} // namespace

struct CaptureImporter::State {
  ImportOptions options;
  const radius::Dictionary* dict = nullptr;
  std::int64_t run_id = 0;
  std::unique_ptr<storage::AccountingWriter> writer;
  std::vector<storage::WriteItem> pending; // submitted in slices, not one by one
  double started = 0;

  // The writer's clock: the capture time of the newest committed item. Items are submitted in
  // capture order and committed in order, so no queued record is older than this; staleness
  // judged at it never expires a session that a queued record would have kept alive.
  std::atomic<std::int64_t> committed_ns{0};
  std::mutex mutex;
  std::condition_variable committed;
  std::uint64_t submitted = 0;
  std::uint64_t completed = 0;
  // Items the database refused (storage/commit_failure.hpp): done, though never completed.
  std::uint64_t refused = 0;
  std::vector<RefusedPacket> refused_packets; // the first stored_list_limit
  std::vector<RefusedStaleMark> stale_refused;
  std::string database_error; // the writer's last commit failure, while it lasts

  std::unordered_map<RequestKey, Original, RequestKeyHash> originals;
  std::deque<std::pair<RequestKey, std::int64_t>> original_order;

  std::chrono::steady_clock::time_point last_flush = std::chrono::steady_clock::now();

  void flush() {
    last_flush = std::chrono::steady_clock::now();
    if (pending.empty()) {
      return;
    }
    {
      std::lock_guard lock(mutex);
      submitted += pending.size();
    }
    writer->submit(pending);
    wait_below(options.max_queued);
  }

  void wait_below(std::uint64_t limit) {
    std::unique_lock lock(mutex);
    // Bounded: a database that stays unwritable for a minute ends the import with an error.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (submitted - completed - refused > limit) {
      if (committed.wait_until(lock, deadline) == std::cv_status::timeout &&
          submitted - completed - refused > limit) {
        throw std::runtime_error(
            storage::database_display_name(options.database) + ": the database accepts no writes" +
            (database_error.empty() ? std::string() : " (" + database_error + ")"));
      }
    }
  }

  /** The writer's events, on its thread: a refused item is named and counted, and no longer
   * awaited; a failing database is remembered for the message if it stays so. */
  void on_event(const storage::WriterEvent& event) {
    {
      std::lock_guard lock(mutex);
      switch (event.kind) {
        case storage::WriterEvent::Kind::item_refused:
          ++refused;
          if (refused_packets.size() < stored_list_limit) {
            refused_packets.push_back({.file = event.file.value_or(std::string()),
                                       .frame = static_cast<std::uint64_t>(event.frame.value_or(0)),
                                       .nas = event.nas,
                                       .source = event.source,
                                       .acct_session_id = event.acct_session_id,
                                       .status_type = event.status_type,
                                       .message = event.message,
                                       .sqlstate = event.sqlstate});
          }
          break;
        case storage::WriterEvent::Kind::commit_failed:
          database_error = event.message;
          break;
        case storage::WriterEvent::Kind::recovered:
          database_error.clear();
          break;
        case storage::WriterEvent::Kind::stale_refused:
          stale_refused.push_back({event.nas, event.acct_session_id, event.message});
          break;
      }
    }
    committed.notify_all();
  }

  void forget_originals(std::int64_t now_ns) {
    const auto window_ns = static_cast<std::int64_t>(options.duplicate_window * 1e9);
    while (!original_order.empty() && now_ns - original_order.front().second > window_ns) {
      const auto it = originals.find(original_order.front().first);
      if (it != originals.end() && it->second.time_ns == original_order.front().second) {
        originals.erase(it);
      }
      original_order.pop_front();
    }
  }
};

CaptureImporter::CaptureImporter(ImportOptions options) : state_(std::make_unique<State>()) {
  auto& s = *state_;
  s.options = std::move(options);
  s.dict = s.options.dictionary ? s.options.dictionary : &radius::Dictionary::builtin();
  s.started = wall_seconds();
  try {
    { s.run_id = storage::open_run(s.options.database, "pcap", s.started); }
    storage::WriterOptions writer;
    writer.run_id = s.run_id;
    // The run's sessions are its own: on SQLite the writer's matcher starts empty; on a
    // PostgreSQL database that live servers share, they are matched in the run's scope, so the
    // import neither joins nor ends a live session of the same NAS and Acct-Session-Id.
    writer.restore_sessions = false;
    writer.session_scope = s.run_id;
    writer.matcher.default_interim_interval = s.options.default_interim_interval;
    writer.matcher.stale_factor = s.options.stale_factor;
    // A capture can be imported again: NORMAL is durable enough in WAL mode and much faster.
    writer.open.synchronous = storage::Synchronous::normal;
    // In memory on SQLite; a statement on PostgreSQL, asked less often there.
    writer.expire_every =
        std::chrono::milliseconds(storage::is_postgres_uri(s.options.database) ? 250 : 20);
    writer.clock = [&s] {
      return static_cast<double>(s.committed_ns.load(std::memory_order_acquire)) / 1e9;
    };
    // One transaction at a time on PostgreSQL too: batches then commit in capture order, which
    // the clock above assumes (with two in flight a later batch could commit first and move the
    // clock past a record still being written).
    writer.pg_connections = 1;
    s.writer = storage::open_writer(
        s.options.database, std::move(writer),
        [&s](std::vector<storage::Completion>&& done) {
          // Tags are capture timestamps (ns, at least 1): see committed_ns.
          std::int64_t newest = 0;
          for (const auto& completion : done) {
            newest = std::max(newest, static_cast<std::int64_t>(completion.tag));
          }
          if (newest > s.committed_ns.load(std::memory_order_relaxed)) {
            s.committed_ns.store(newest, std::memory_order_release);
          }
          {
            std::lock_guard lock(s.mutex);
            s.completed += done.size();
          }
          s.committed.notify_all();
        },
        [&s](const storage::WriterEvent& event) { s.on_event(event); });
  } catch (const storage::Error& error) {
    throw std::runtime_error(storage::database_display_name(s.options.database) + ": " +
                             error.what());
  }
}

CaptureImporter::~CaptureImporter() = default;

void CaptureImporter::flush_idle() {
  auto& s = *state_;
  const auto now = std::chrono::steady_clock::now();
  if (!s.pending.empty() && now - s.last_flush > std::chrono::milliseconds(200)) {
    s.flush();
  }
}

std::int64_t CaptureImporter::run_id() const {
  return state_->run_id;
}

void CaptureImporter::on_datagram(const UdpDatagram& datagram,
                                  const radius::DecodeResult<radius::Packet>& decoded) {
  auto& s = *state_;
  const auto& names = s.options.file_names;
  storage::WriteItem item;
  auto& row = item.packet;
  row.raw.assign(datagram.payload.begin(), datagram.payload.end());
  row.src_addr = datagram.source.address.to_string();
  row.src_port = datagram.source.port;
  row.dst_addr = datagram.destination.address.to_string();
  row.dst_port = datagram.destination.port;
  if (!datagram.payload.empty()) {
    row.code = datagram.payload[0];
  }
  if (datagram.payload.size() > 1) {
    row.identifier = datagram.payload[1];
  }
  row.file = datagram.file_index < names.size() ? names[datagram.file_index]
                                                : std::to_string(datagram.file_index);
  row.frame = static_cast<std::int64_t>(datagram.frame);
  row.receive_time = static_cast<double>(datagram.timestamp_ns) / 1e9;
  // The writer's completion tag carries the capture time (never 0: 0 asks for no completion).
  item.tag = static_cast<std::uint64_t>(std::max<std::int64_t>(datagram.timestamp_ns, 1));

  const server::Client* client =
      s.options.secrets ? s.options.secrets->find(datagram.source.address) : nullptr;
  const std::string source_name = row.src_addr;
  const bool from_server = decoded ? is_response_code(static_cast<std::uint8_t>(decoded->code()))
                                   : (row.code && is_response_code(*row.code));
  // The nas table counts what NASes sent; a captured answer was sent by a server.
  item.nas = from_server ? std::string() : client ? client->shortname : source_name;

  const auto reject = [&](Verdict verdict, std::string reason) {
    row.verdict = verdict;
    row.reason = std::move(reason);
  };

  if (!decoded) {
    reject(Verdict::malformed, decoded.error().message());
  } else if (decoded->code() != radius::Code::accounting_request) {
    // Answers, Access-Requests, Status-Server: kept as evidence and for the exchange rules; the
    // records table is for accounting.
    row.verdict = Verdict::ok;
  } else if (s.options.secrets && !client) {
    reject(Verdict::unknown_client, "no client in the secrets file matches " + source_name);
  } else if (client && !radius::verify_request_authenticator(datagram.payload, client->secret)) {
    // RFC 2866 §3: the server would discard it silently.
    reject(Verdict::bad_authenticator,
           "the Request Authenticator does not verify with " + client->shortname + "'s secret");
  } else if (const auto check = client ? radius::check_message_authenticator(
                                             datagram.payload, client->secret, nullptr)
                                       : radius::MessageAuthenticatorCheck::absent;
             check == radius::MessageAuthenticatorCheck::invalid ||
             check == radius::MessageAuthenticatorCheck::malformed) {
    reject(Verdict::bad_message_authenticator,
           "Message-Authenticator is " + std::string(radius::to_string(check)));
  } else if (client && check == radius::MessageAuthenticatorCheck::absent &&
             client->require_message_authenticator) {
    reject(Verdict::bad_message_authenticator,
           "Message-Authenticator is required for this client and absent");
  } else {
    const std::int64_t now_ns = datagram.timestamp_ns;
    s.forget_originals(now_ns);
    RequestKey key{datagram.source, decoded->identifier(), decoded->authenticator()};
    const auto [it, inserted] =
        s.originals.try_emplace(key, Original{now_ns, datagram.file_index, datagram.frame});
    if (!inserted) {
      // RFC 5080 §2.2.2: the same request again within the window is a retransmission; the
      // server stores it as evidence, never as a second record.
      reject(Verdict::duplicate,
             "retransmission of " + where(names, it->second.file_index, it->second.frame));
    } else {
      s.original_order.emplace_back(key, now_ns);
      storage::RecordInput input;
      input.record = radius::make_accounting_record(*decoded, *s.dict);
      input.nas_key = radius::session_nas_key(input.record, source_name);
      // As the server: RFC 2869 §5.3 Event-Timestamp when present, else RFC 2866 §5.2 receive
      // time minus Acct-Delay-Time. The receive time is the capture's.
      input.event_time =
          input.record.event_timestamp
              ? static_cast<double>(*input.record.event_timestamp)
              : row.receive_time - static_cast<double>(input.record.delay_time.value_or(0));
      row.verdict = Verdict::ok;
      if (!client) {
        row.reason = "authenticator not verified (no secrets given)";
      }
      item.nas = input.nas_key;
      item.record = std::move(input);
    }
  }
  s.pending.push_back(std::move(item));
  if (s.pending.size() >= 512) {
    s.flush();
  }
}

ImportSummary CaptureImporter::finish(double end_time) {
  auto& s = *state_;
  s.flush();
  s.wait_below(0);
  s.writer->stop();
  const auto stats = s.writer->stats();
  s.writer.reset();
  if (!stats.healthy) {
    throw std::runtime_error(storage::database_display_name(s.options.database) +
                             ": the database failed during the import");
  }

  ImportSummary summary;
  summary.database = s.options.database;
  summary.run_id = s.run_id;
  {
    std::lock_guard lock(s.mutex);
    summary.refused = s.refused;
    summary.refused_packets = s.refused_packets;
    summary.stale_refused = s.stale_refused;
  }
  try {
    // Sessions still open when the capture ends are judged at its last packet with the same
    // matcher rule the writer applies while importing.
    std::vector<storage::RefusedMark> marks;
    storage::expire_run_sessions(s.options.database, s.run_id,
                                 {.default_interim_interval = s.options.default_interim_interval,
                                  .stale_factor = s.options.stale_factor},
                                 end_time, &marks);
    for (auto& mark : marks) {
      // Once per session: the writer may have been refused the same mark while importing.
      const bool told = std::any_of(
          summary.stale_refused.begin(), summary.stale_refused.end(), [&](const auto& m) {
            return m.nas == mark.nas_key && m.acct_session_id == mark.acct_session_id;
          });
      if (!told) {
        summary.stale_refused.push_back(
            {std::move(mark.nas_key), std::move(mark.acct_session_id), std::move(mark.message)});
      }
    }
    const auto counts = storage::count_run(s.options.database, s.run_id);
    summary.packets_by_verdict = counts.packets_by_verdict;
    summary.packets = counts.packets;
    summary.records = counts.records;
    for (const auto& group : counts.sessions) {
      const auto n = group.count;
      const auto& state = group.state;
      for (auto* of : {&summary.sessions, &summary.sessions_by_nas[group.nas_key]}) {
        of->opened += n;
        (state == "closed" ? of->closed : state == "stale" ? of->stale : of->open) += n;
      }
    }
  } catch (const storage::Error& error) {
    throw std::runtime_error(storage::database_display_name(s.options.database) + ": " +
                             error.what());
  }
  return summary;
}

void CaptureImporter::close_run(const std::string& verdict, const std::string& report_json) {
  auto& s = *state_;
  try {
    storage::close_run(s.options.database, s.run_id, wall_seconds(), verdict, report_json);
  } catch (const storage::Error& error) {
    throw std::runtime_error(storage::database_display_name(s.options.database) + ": " +
                             error.what());
  }
}

AnalysisResult import_captures(const std::vector<std::string>& files, AnalysisOptions analysis,
                               ImportOptions options, const RunJudge& judge) {
  if (options.file_names.empty()) {
    options.file_names = files;
  }
  StreamOptions stream_options;
  stream_options.extra_ports = analysis.extra_ports;
  stream_options.reassembly = analysis.reassembly;
  stream_options.tls_keys = analysis.tls_keys;
  return import_stream(
      [&](StreamOptions extra) {
        extra.extra_ports = stream_options.extra_ports;
        extra.reassembly = stream_options.reassembly;
        extra.tls_keys = stream_options.tls_keys;
        return std::make_unique<DatagramStream>(files, std::move(extra));
      },
      std::move(analysis), std::move(options), judge);
}

AnalysisResult import_stream(const StreamFactory& make_stream, AnalysisOptions analysis,
                             ImportOptions options, const RunJudge& judge) {
  const auto started = std::chrono::steady_clock::now();
  if (!options.dictionary) {
    options.dictionary = analysis.dictionary;
  }
  if (!options.secrets) {
    options.secrets = analysis.secrets;
  }
  CaptureImporter importer(std::move(options));
  analysis.on_datagram = [&importer](const UdpDatagram& datagram,
                                     const radius::DecodeResult<radius::Packet>& decoded) {
    importer.on_datagram(datagram, decoded);
  };
  StreamOptions stream_options;
  // A live capture may see nothing for a while: what arrived is committed meanwhile.
  stream_options.keep_going = [&importer] {
    importer.flush_idle();
    return true;
  };
  auto stream = make_stream(std::move(stream_options));
  auto result = analyze_stream(*stream, analysis);
  auto summary = importer.finish(result.last_time);
  bool any_read = false;
  for (const auto& file : result.files) {
    any_read = any_read || file.link_type >= 0;
  }
  if (!any_read) {
    // Nothing to judge: a verdict of pass would claim a capture conformed.
    summary.run_verdict = "unreadable";
  } else if (judge) {
    summary.conformance = judge(summary.database, summary.run_id);
    summary.run_verdict = summary.conformance->verdict;
  } else {
    summary.run_verdict = "imported";
  }
  // A damaged capture never passes, stored or reported: what was read is judged, but the run
  // says incomplete (or that it held no accounting), as the report's verdict does.
  if (any_read) {
    if (const auto capture = capture_verdict(result); capture != CaptureVerdict::complete) {
      summary.run_verdict = std::string(to_string(capture));
    }
  }
  // A packet the database refused is not in the run the rules judged: no clean verdict either.
  if (summary.refused > 0) {
    summary.run_verdict = std::string(to_string(CaptureVerdict::incomplete));
  }
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.import = std::move(summary);
  // The stored report keeps every count but only the first events and issues: the full lists
  // are in the packets rows (verdict, reason, file, frame) and in `pcap analyze --report json`.
  auto report = to_json(result);
  for (const char* section : {"events", "capture_issues"}) {
    auto& list = report.as_object()[section].as_object()["list"].as_array();
    if (list.size() > stored_list_limit) {
      report.as_object()[section].as_object()["list_truncated_from"] = list.size();
      list.resize(stored_list_limit);
    }
  }
  importer.close_run(result.import->run_verdict, boost::json::serialize(report));
  return result;
}

} // namespace acctlab::capture
