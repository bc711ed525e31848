// storage/wal_syncer.hpp on a real file: every release runs once; a failure is reported once and
// nothing is released after it.
#include "storage/wal_syncer.hpp"
#include "storage_test_util.hpp"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

using namespace acctlab;
using namespace std::chrono_literals;

TEST_CASE("with two workers every release runs once and in order, also those queued at stop",
          "[storage][syncer]") {
  test::TempDir dir;
  const auto path = dir.file("acct.db-wal");
  std::ofstream log(path, std::ios::binary);
  std::vector<std::string> failures;
  storage::WalSyncer syncer(
      path, [&](const std::string& message) { failures.push_back(message); }, 2);
  constexpr int count = 400;
  std::vector<std::atomic<int>> released(count);
  std::mutex order_mutex;
  std::vector<int> order;
  for (int i = 0; i < count; ++i) {
    // What a commit does: frames written to the log, then the batch handed over.
    log << std::string(100, static_cast<char>('a' + i % 26));
    log.flush();
    syncer.submit([&, i] {
      released[i].fetch_add(1);
      std::lock_guard lock(order_mutex);
      order.push_back(i);
    });
    if (i % 50 == 0) {
      std::this_thread::sleep_for(1ms); // let syncs overlap submissions
    }
  }
  syncer.stop(); // what is still queued is synced and released first
  for (int i = 0; i < count; ++i) {
    INFO("release " << i);
    CHECK(released[i].load() == 1);
  }
  // In submission order, whichever worker synced them: completions keep commit order.
  CHECK(std::is_sorted(order.begin(), order.end()));
  CHECK(order.size() == static_cast<std::size_t>(count));
  CHECK(failures.empty());
  CHECK(syncer.syncs() >= 1);
  CHECK(syncer.syncs() <= static_cast<std::uint64_t>(count));
  CHECK_FALSE(syncer.failed());
}

TEST_CASE("a failed sync is told once and nothing is released after it", "[storage][syncer]") {
  test::TempDir dir;
  const auto path = dir.file("acct.db-wal");
  { std::ofstream(path) << "frames"; }
  std::mutex mutex;
  std::vector<std::string> failures;
  storage::WalSyncer syncer(
      path,
      [&](const std::string& message) {
        std::lock_guard lock(mutex);
        failures.push_back(message);
      },
      2);
  std::atomic<int> released{0};
  syncer.submit([&] { released.fetch_add(1); });
  for (int i = 0; i < 100 && released.load() == 0; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE(released.load() == 1);
  // The log vanishes (as if replaced behind SQLite's back): syncing it can promise nothing.
  std::filesystem::remove(path);
  for (int i = 0; i < 20; ++i) {
    syncer.submit([&] { released.fetch_add(1); });
    std::this_thread::sleep_for(1ms);
  }
  syncer.stop();
  CHECK(released.load() == 1);
  CHECK(syncer.failed());
  std::lock_guard lock(mutex);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].find("acct.db-wal") != std::string::npos);
}
