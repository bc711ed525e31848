#pragma once
// Which engine a test suite runs on, and a fresh database of it. A suite registered twice in
// CMake (tests/web/CMakeLists.txt) runs its test cases once on SQLite files and once, with
// ACCTLAB_TEST_ENGINE=postgres, on databases of a private PostgreSQL cluster
// (tests/support/pg_cluster.hpp) that this test process starts at its first use and stops when
// it exits, also after a failed test. Without PostgreSQL 15 that run exits 77 (skipped) and says
// why.

#include "pg_cluster.hpp"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

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

/** A new empty database: on SQLite the file sqlite_path (removed first, with its -wal and
 * -shm); on PostgreSQL a database named after name, made anew on the cluster, as its URI. */
inline std::string fresh_database(const std::string& sqlite_path, const std::string& name) {
  if (!on_postgres()) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      std::filesystem::remove(sqlite_path + suffix);
    }
    return sqlite_path;
  }
  std::string db = "t_";
  for (const char c : name) {
    db.push_back(std::isalnum(static_cast<unsigned char>(c))
                     ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                     : '_');
  }
  auto& cluster = shared_cluster();
  // FORCE: the backends of a server that used it a moment ago may not have exited yet.
  cluster.psql("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  cluster.psql("CREATE DATABASE " + db);
  return cluster.uri(db);
}

} // namespace acctlab::test
