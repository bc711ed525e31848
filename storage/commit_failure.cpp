#include "storage/commit_failure.hpp"

#include "storage/pg_connection.hpp"

#include <sqlite3.h>

namespace acctlab::storage {

CommitFailure classify_sqlite(int code) noexcept {
  // sqlite.org/rescode.html: the low 8 bits of an extended result code are its primary code.
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT: // CHECK, NOT NULL, UNIQUE, FOREIGN KEY, a trigger's RAISE(ABORT), ...
    case SQLITE_MISMATCH:   // a value of the wrong type (a STRICT table, a non-integer rowid)
    case SQLITE_TOOBIG:     // a string or blob over SQLITE_MAX_LENGTH
      return CommitFailure::refused;
    default:
      // SQLITE_FULL, SQLITE_IOERR_*, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY_*,
      // SQLITE_CANTOPEN, SQLITE_NOMEM, SQLITE_PROTOCOL — and SQLITE_ERROR (a schema an operator
      // changed), which is about no one row: the database may heal, a retry loses nothing.
      return CommitFailure::transient;
  }
}

CommitFailure classify_sqlstate(std::string_view sqlstate) noexcept {
  // PostgreSQL, Appendix A: the first two characters are the class.
  const auto category = sqlstate.substr(0, 2);
  for (const std::string_view refused : {"21", "22", "23", "27", "44", "54", "P0"}) {
    if (category == refused) {
      return CommitFailure::refused;
    }
  }
  return CommitFailure::transient;
}

CommitFailure classify(const Error& error) noexcept {
  if (const auto* pg = dynamic_cast<const PgError*>(&error)) {
    if (pg->connection_lost()) {
      return CommitFailure::transient;
    }
    return classify_sqlstate(pg->sqlstate());
  }
  return classify_sqlite(error.code());
}

std::string first_line(std::string_view message) {
  const auto end = message.find('\n');
  return std::string(message.substr(0, end));
}

WriterEvent refused_event(const WriteItem& item, const Error& error) {
  WriterEvent event{WriterEvent::Kind::item_refused, first_line(error.what()), error.code()};
  if (const auto* pg = dynamic_cast<const PgError*>(&error)) {
    event.sqlstate = pg->sqlstate();
  }
  event.tag = item.tag;
  event.nas = item.nas;
  const auto& p = item.packet;
  event.source = (p.src_addr.find(':') != std::string::npos ? "[" + p.src_addr + "]" : p.src_addr) +
                 ":" + std::to_string(p.src_port);
  event.code = p.code;
  event.identifier = p.identifier;
  event.file = p.file;
  event.frame = p.frame;
  if (item.record) {
    event.acct_session_id = item.record->record.session_id;
    event.status_type = item.record->record.status_type;
  }
  return event;
}

WriterEvent stale_refused_event(const radius::Session& session, const Error& error) {
  WriterEvent event{WriterEvent::Kind::stale_refused, first_line(error.what()), error.code()};
  if (const auto* pg = dynamic_cast<const PgError*>(&error)) {
    event.sqlstate = pg->sqlstate();
  }
  event.nas = session.key.nas;
  event.acct_session_id = session.key.session_id;
  return event;
}

RefusalBisector::RefusalBisector(std::size_t n) {
  if (n > 0) {
    parts_.emplace_back(0, n);
  }
}

void RefusalBisector::split(std::size_t first, std::size_t last) {
  const std::size_t middle = first + (last - first) / 2;
  parts_.emplace_front(middle, last);
  parts_.emplace_front(first, middle);
}

std::optional<std::size_t> RefusalBisector::refused() {
  const auto [first, last] = parts_.front();
  parts_.pop_front();
  if (last - first == 1) {
    return first;
  }
  split(first, last);
  return std::nullopt;
}

} // namespace acctlab::storage
