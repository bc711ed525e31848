#pragma once
// What a failed commit means, and what the writers do about a batch the database refuses.
//
// A commit can fail for two kinds of reasons. The database itself is in trouble (a full disk, a
// locked file, an I/O error, a PostgreSQL restart): nothing is wrong with the batch, and the same
// batch commits once the database heals, so the writers retry it with back-off. Or the database
// refuses the data (a constraint or trigger rejects a row, a value does not fit its column): the
// same rows fail however often they are retried, and retrying the batch forever would hold back
// every answer behind it. The writers then split the batch until each refused item stands alone
// (RefusalBisector), commit and answer everything else, and drop the refused items unanswered:
// the NAS retransmits, and nothing it was told is stored is lost. docs/design-notes.md, "A batch
// that can never commit".

#include "storage/record_writer.hpp"
#include "storage/sqlite.hpp"

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace acctlab::storage {

enum class CommitFailure {
  /** The database is in trouble; the same batch commits once it heals: retry it. */
  transient,
  /** The database refuses what the batch holds; retrying the same rows fails again. */
  refused,
};

/** By SQLite's (extended) result code: SQLITE_CONSTRAINT (every extended code: CHECK, NOT NULL,
 * UNIQUE, a trigger's RAISE), SQLITE_MISMATCH and SQLITE_TOOBIG are about the data; every other
 * code, including ones not known today, is treated as transient (the behaviour that never drops
 * anything). */
CommitFailure classify_sqlite(int code) noexcept;

/** By SQLSTATE (PostgreSQL's Appendix A): classes 21 (cardinality), 22 (data exception), 23
 * (integrity constraint), 27 (triggered data change), 44 (WITH CHECK OPTION), 54 (program limit,
 * e.g. an index row too large for its value) and P0 (PL/pgSQL RAISE, e.g. a trigger's) are about
 * the data; connection (08), resources (53), operator intervention (57), rollback (40), lock and
 * object state (55), system (58), internal (XX) and anything else are transient. */
CommitFailure classify_sqlstate(std::string_view sqlstate) noexcept;

/** A writer's Error (storage::Error with SQLite's code, or PgError with its SQLSTATE). */
CommitFailure classify(const Error& error) noexcept;

/** The first line of a database's message (PostgreSQL adds CONTEXT and DETAIL lines), for one
 * log line. */
std::string first_line(std::string_view message);

/** The event that tells the owner a refused item was dropped: the item's NAS, request and the
 * database's message. */
WriterEvent refused_event(const WriteItem& item, const Error& error);

/** The event that tells the owner the database refused to mark a session stale: the session's
 * NAS and Acct-Session-Id and the database's message. */
WriterEvent stale_refused_event(const radius::Session& session, const Error& error);

/**
 * Splits a refused batch of n items into halves, the halves of a refused half into halves again,
 * until each refused item stands alone; committed parts are done. Items keep their order: the
 * parts are committed front to back, so a session's records still reach the database in the
 * order they arrived. k refused items among n cost about 2k·log2(n/k) extra transactions.
 */
class RefusalBisector {
public:
  /** One part, the whole batch [0, n): the caller reports the refusal that brought it here with
   * refused(), which drops a batch of one item and splits a longer one. */
  explicit RefusalBisector(std::size_t n);
  bool done() const { return parts_.empty(); }
  /** The next part to commit, [first, second). */
  std::pair<std::size_t, std::size_t> next() const { return parts_.front(); }
  /** The next part committed. */
  void committed() { parts_.pop_front(); }
  /** The next part was refused: a single item is returned (to drop), a longer part is split. */
  std::optional<std::size_t> refused();

private:
  void split(std::size_t first, std::size_t last);
  std::deque<std::pair<std::size_t, std::size_t>> parts_;
};

} // namespace acctlab::storage
