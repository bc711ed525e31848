#pragma once
// What the conformance checks read from and store in a database, in their own terms: the stored
// packets of a run (or of the whole database) in arrival order, findings written back linked to
// the packet, record and session rows that prove them, and the judge's staging store.
//
// The judge of a stored run (conformance/run_judge.cpp) works in parts so that memory does not
// grow with the run: it places every packet in a part, judges one part at a time, and stages what
// it found (findings, Starts, sessions) on disk, in temporary tables SQLite deletes when the
// connection closes; then it reads them back in check_trace's order. JudgeStage is that staging
// store; the judging stays in conformance/.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace acctlab::storage {

class Database;

/** A packets row as a trace reads it. */
struct StoredPacket {
  std::int64_t id = 0;
  double receive_time = 0;
  std::string src_addr;
  std::int64_t src_port = 0;
  std::optional<std::string> dst_addr;
  std::int64_t dst_port = 0;
  std::optional<int> code;
  std::string verdict;
  std::optional<std::string> file;
  std::optional<std::int64_t> frame;
  std::vector<std::uint8_t> raw;
};

using PacketVisit = std::function<void(StoredPacket&&)>;

/** A finding as the findings table keeps it. Its record and session are the first record stored
 * from packet_id and that record's session. */
struct FindingRow {
  std::string rule_id;
  std::string severity;
  std::string scope;
  std::string message;
  std::optional<std::int64_t> packet_id;
  std::optional<std::string> file;
  std::optional<std::int64_t> frame;
};

/** Visits the stored packets (of one run, or all) in arrival order; throws Error. */
void read_stored_packets(const std::string& path, std::optional<std::int64_t> run_id,
                         const PacketVisit& visit);

/** The first start and last finish of the server runs (runs.kind 'serve') of a database, or of
 * one run: the moments a server trace spans beyond its packets. None when no server run has
 * packets there. */
std::optional<std::pair<double, double>> serve_window(const std::string& path,
                                                      std::optional<std::int64_t> run_id);

/** A conformance run (runs.kind 'conform', verdict "fail" or "pass", the JSON report as a BLOB of
 * its UTF-8 bytes) and its findings in order, in one transaction. Returns the run id. */
std::int64_t store_conform_run(const std::string& path, bool failed, const std::string& report,
                               const std::vector<FindingRow>& findings);

/** The findings under an existing run (a capture import's 'pcap' run), in one transaction.
 * Returns how many were stored. */
std::size_t store_findings_in_run(const std::string& path, std::int64_t run_id,
                                  const std::vector<FindingRow>& findings);

class JudgeStage {
public:
  /** A finding as staged: its sort key (sev, first, rule, key, seq: check_trace's order) and
   * what the reports and the findings table need. The ev_* columns only for check --db. */
  struct Finding {
    int sev = 0;
    std::int64_t first = 0;
    std::int64_t rule = 0;
    std::int64_t key = 0;
    std::int64_t seq = 0;
    std::string rule_id;
    std::string severity;
    std::string scope;
    std::string message;
    std::optional<std::int64_t> packet_id;
    std::optional<std::int64_t> record_id;
    std::optional<std::int64_t> session_row;
    std::optional<std::string> file;
    std::optional<std::int64_t> frame;
    std::optional<int> scope_code;
    std::optional<std::string> ev_nas;
    std::optional<std::string> ev_session;
    std::optional<std::string> ev_packets;
    std::optional<std::string> ev_ids;
    std::optional<std::string> ev_identifiers;
    std::optional<std::string> ev_file;
    std::optional<std::string> ev_frames;
    int party = 0;
  };
  /** A staged finding read back in order; idx counts from 1. */
  struct Ordered {
    std::int64_t idx = 0;
    std::string rule_id;
    int sev = 0;
    int scope_code = 0;
    std::string message;
    std::string ev_nas;
    std::string ev_session;
    std::string ev_packets;
    std::string ev_ids;
    std::string ev_identifiers;
    std::string ev_file;
    std::string ev_frames;
    int party = 0;
  };
  struct Example {
    std::string rule_id;
    std::string severity;
    std::string message;
    std::string file;
    std::optional<std::int64_t> frame;
  };
  /** A Start of a part, as SES-REKEY-NEW-SESSION needs it across parts. */
  struct Start {
    std::int64_t start = 0;
    std::int64_t stop = 0;
    std::string nas;
    std::string session_id;
    std::string peer;
    std::string framed;
    std::optional<std::int64_t> packet_id;
    std::optional<std::int64_t> identifier;
    std::optional<std::int64_t> frame;
    std::string file;
    std::string ev_nas;
    std::string ev_session;
    std::optional<std::string> subject_file;
    std::optional<std::int64_t> subject_frame;
  };
  struct Session {
    std::int64_t first = 0;
    std::string nas;
    std::string session;
    std::int64_t records = 0;
    bool stopped = false;
  };
  struct Count {
    std::string rule_id;
    int party = 0;
    int sev = 0;
    std::size_t count = 0;
  };

  /** Opens path (read-only unless writable); throws Error. A postgresql:// URI is judged from a
   * copy of its runs and the judged run's packets in a scratch SQLite file (deleted when the
   * stage is; taken at the first question about the source), where
   * the staging tables live as they do beside a SQLite source; what store_findings and store_run
   * store goes to PostgreSQL. */
  JudgeStage(const std::string& path, bool writable);
  ~JudgeStage();
  JudgeStage(const JudgeStage&) = delete;
  JudgeStage& operator=(const JudgeStage&) = delete;

  void begin();
  void commit();
  /** Rolls back an open transaction, if any; never throws. */
  void rollback() noexcept;

  // The source: the packets of one run or of all.
  std::size_t packet_count(std::optional<std::int64_t> run_id);
  /** Whether any stored packet is an answer (a capture import stores them; a server does not). */
  bool has_answers(std::optional<std::int64_t> run_id);
  std::optional<std::pair<double, double>> serve_window(std::optional<std::int64_t> run_id);

  // Pass 1: every packet in arrival order to its part.
  void create_places();
  void read_packets(std::optional<std::int64_t> run_id, const PacketVisit& visit);
  void place(std::size_t index, std::optional<std::int64_t> packet_id, std::size_t part);
  void index_places();
  /** Pass 2: one part's packets in arrival order, with their index in the whole trace. */
  void read_part(std::size_t part, const std::function<void(std::size_t, StoredPacket&&)>& visit);

  // Findings.
  void create_findings();
  /** The first record stored from packet_id and its session row. */
  std::optional<std::pair<std::int64_t, std::optional<std::int64_t>>>
  record_of_packet(std::int64_t packet_id);
  void add_finding(const Finding& finding);
  /** Moves the staged findings into the findings table under run_id, in order, in a
   * transaction of their own; returns how many. */
  std::size_t store_findings(std::int64_t run_id);
  std::vector<Example> first_findings(std::size_t limit);

  // Starts.
  void create_starts();
  void add_start(const Start& start);
  void read_starts(const std::function<void(Start&&)>& visit);

  // Sessions (check --db's reports).
  void create_sessions();
  void add_session(const Session& session);
  void read_sessions(const std::function<void(Session&&)>& visit);
  std::size_t session_count();

  // The staged findings in order, numbered (check --db's reports and store).
  void order_findings();
  /** In order, all or one rule's; stops when visit returns false. */
  void read_ordered(const std::string* rule_id, const std::function<bool(Ordered&&)>& visit);
  std::size_t count_of(const std::string& rule_id);
  /** The findings whose evidence names this NAS and session, in order (indices only unless
   * with_findings: the other fields are then empty). */
  void read_of_session(const std::string& nas, const std::string& session, bool with_findings,
                       const std::function<void(Ordered&&)>& visit);
  std::vector<Count> count_by_rule();
  std::vector<Count> count_by_party();
  /** A conformance run holding the report read from the file at report_path a piece at a time
   * (memory does not grow with it) and the ordered findings, in one transaction. */
  std::int64_t store_run(const std::string& report_path, bool failed);

private:
  struct Statements;
  /** On PostgreSQL, copies the source's runs and the packets of run_id (all when none) into
   * the scratch file, once; a later question about another run is refused. */
  void snapshot_postgres(std::optional<std::int64_t> run_id);
  std::string postgres_; // the source's URI, when PostgreSQL
  bool snapshot_taken_ = false;
  std::optional<std::int64_t> snapshot_run_;
  std::string scratch_path_; // the snapshot's file, when PostgreSQL
  std::unique_ptr<Database> db_;
  std::unique_ptr<Statements> statements_;
  bool in_transaction_ = false;
};

} // namespace acctlab::storage
