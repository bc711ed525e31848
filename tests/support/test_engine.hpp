#pragma once
// Which engine a test suite runs on, and a fresh database of it. A suite registered twice in
// CMake (tests/web/CMakeLists.txt) runs its test cases once on SQLite files and once, with
// ACCTLAB_TEST_ENGINE=postgres, on databases of a private PostgreSQL cluster
// (tests/support/pg_cluster.hpp) that this test process starts at its first use and stops when
// it exits, also after a failed test. Without PostgreSQL 15 that run exits 77 (skipped) and says
// why.

#include "pg_cluster.hpp"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>

namespace acctlab::test {

inline bool on_postgres() {
  const char* engine = std::getenv("ACCTLAB_TEST_ENGINE");
  return engine && std::string_view(engine) == "postgres";
}

/** The process's cluster, started at first use. */
inline PgCluster& shared_cluster() {
  PgCluster::require();
  static PgCluster cluster;
  return cluster;
}

/** The PostgreSQL database fresh_database makes for name. */
inline std::string postgres_database_name(const std::string& name) {
  std::string db = "t_";
  for (const char c : name) {
    db.push_back(std::isalnum(static_cast<unsigned char>(c))
                     ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                     : '_');
  }
  return db;
}

/** A new empty database: on SQLite the file sqlite_path (removed first, with its -wal and
 * -shm); on PostgreSQL a database named after name, made anew on the cluster, as its URI. */
inline std::string fresh_database(const std::string& sqlite_path, const std::string& name) {
  if (!on_postgres()) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(sqlite_path + suffix);
    }
    return sqlite_path;
  }
  const auto db = postgres_database_name(name);
  auto& cluster = shared_cluster();
  // FORCE: the backends of a server that used it a moment ago may not have exited yet.
  cluster.psql("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  cluster.psql("CREATE DATABASE " + db);
  return cluster.uri(db);
}

/** The database's name in a URI of the cluster. */
inline std::string database_of_uri(const std::string& uri) {
  const auto start = uri.find("@/") + 2;
  return uri.substr(start, uri.find('?') - start);
}

/** A copy of the database `from` (made by fresh_database) as a new one, as fresh_database
 * names it: the SQLite files copied to sqlite_path, or a PostgreSQL database made from `from`
 * as a template (retried for up to five seconds while a backend of the last connection to it
 * has not exited yet). */
inline std::string copy_database(const std::string& from, const std::string& sqlite_path,
                                 const std::string& name) {
  if (!on_postgres()) {
    fresh_database(sqlite_path, name);
    for (const char* suffix : {"", "-wal", "-shm"}) {
      if (std::filesystem::exists(from + suffix)) {
        std::filesystem::copy_file(from + suffix, sqlite_path + suffix);
      }
    }
    return sqlite_path;
  }
  const auto db = postgres_database_name(name);
  auto& cluster = shared_cluster();
  cluster.psql("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  for (int attempt = 0;; ++attempt) {
    try {
      cluster.psql("CREATE DATABASE " + db + " TEMPLATE " + database_of_uri(from));
      return cluster.uri(db);
    } catch (const std::runtime_error&) {
      if (attempt == 50) {
        throw;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

/** Removes a database made by fresh_database or copy_database (sqlite_path: its file). */
inline void remove_database(const std::string& database, const std::string& sqlite_path) {
  if (on_postgres()) {
    shared_cluster().psql("DROP DATABASE IF EXISTS " + database_of_uri(database) + " WITH (FORCE)");
    return;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(sqlite_path + suffix);
  }
}

} // namespace acctlab::test
