#pragma once
// The acctlab database schema and its migrations. Each migration is a step from version N-1 to N,
// applied in one transaction; schema_version holds the version reached.

#include "storage/sqlite.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace acctlab::storage {

/** The version this build writes. */
int current_schema_version();

/** The version stored in db (0 for an empty database). */
int schema_version(Database& db);

/**
 * Brings db up to current_schema_version() (or `to`, for tests of upgrades). Throws Error when the
 * database is newer than this build understands or a migration fails (the database is then left
 * at the version before that migration).
 */
void migrate(Database& db, int to = current_schema_version());

/** Packet verdicts as stored in packets.verdict. */
enum class Verdict : unsigned char {
  ok,
  bad_authenticator,
  malformed,
  unknown_client,
  bad_message_authenticator,
  duplicate,
};
std::string_view to_string(Verdict verdict) noexcept;

/**
 * The counts one write transaction adds to the tallies of migration 3 (record_tally,
 * packet_tally, capture_tally: what the report viewer reads instead of walking every row),
 * written with one upsert per distinct key. RecordWriter keeps them; whoever inserts packets or
 * records another way calls recount_tallies() afterwards.
 */
class TallyBatch {
public:
  TallyBatch();
  ~TallyBatch();
  TallyBatch(const TallyBatch&) = delete;
  TallyBatch& operator=(const TallyBatch&) = delete;

  /** src_addr: the address the packet came from (packets.src_addr), for the per-source
   * tallies (migration 8). */
  void add_packet(std::optional<std::int64_t> run_id, Verdict verdict,
                  const std::optional<std::string>& file, std::optional<std::int64_t> frame,
                  const std::string& src_addr);
  void add_record(double event_time, std::optional<std::uint32_t> status_type,
                  const std::string& src_addr);
  /** Adds the counts to the tables, inside the caller's transaction; throws Error. */
  void write(Database& db);
  void clear();

  struct Records {
    std::int64_t records = 0;
    double last_event = 0;
  };
  struct Capture {
    std::int64_t packets = 0;
    std::int64_t ok = 0;
    std::optional<std::int64_t> first_frame;
    std::optional<std::int64_t> last_frame;
  };

private:
  struct Statements;
  std::map<std::pair<std::int64_t, std::int64_t>, Records> records_; // (hour, status type)
  std::map<std::pair<std::int64_t, Verdict>, std::int64_t> packets_; // (run, verdict)
  std::map<std::pair<std::int64_t, std::string>, Capture> captures_; // (run, file)
  // The same per source address (migration 8): (source, hour, status type), (source, status
  // type), (source, run, verdict), (source, run, file).
  std::map<std::tuple<std::string, std::int64_t, std::int64_t>, Records> source_records_;
  std::map<std::pair<std::string, std::int64_t>, Records> source_totals_;
  std::map<std::tuple<std::string, std::int64_t, Verdict>, std::int64_t> source_packets_;
  std::map<std::tuple<std::string, std::int64_t, std::string>, Capture> source_captures_;
  std::unique_ptr<Statements> statements_;
  Database* db_ = nullptr;
};

/** Recomputes the tallies and the session search rows from the packets, records and sessions
 * stored, in one transaction. */
void recount_tallies(Database& db);

} // namespace acctlab::storage
