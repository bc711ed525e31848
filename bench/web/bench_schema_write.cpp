// bench_schema_write: what the report viewer's schema additions (storage/schema.cpp, migrations 3
// and 5: the tallies the writer adds to per batch, session_tally and session_find, which the
// writer keeps since migration 5 and triggers kept before, the index on session_find.started)
// cost the live server's write path. It drives
// storage::RecordWriter, the server's group-commit writer, the way `acctlab serve` does under a
// window of W outstanding requests: W items submitted, their completions awaited, the next W. Each
// session is the feature document's Start, K Interim-Updates and a Stop, with 1,000 sessions
// interleaved. Two schemas in the same run, alternating: the current one (v3), and v2 (migration
// 3's objects dropped after the writer opened the file, checked against a database migrated to
// version 2 only).
//
//   build/bench/web/bench_schema_write [sessions=40000] [rounds=3] [window=256] [dir=.]
//
// Prints items/s (wall clock, fsync included: synchronous=FULL as the server runs) and the CPU
// microseconds per item of the whole process (the commit thread does almost all of it: the items
// are built before the clock starts).

#include "bench/web/document_start.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"
#include "storage/record_writer.hpp"
#include "storage/schema.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using namespace acctlab;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<storage::WriteItem> make_items(int sessions, int interims) {
  const auto& dict = radius::Dictionary::builtin();
  const auto raw = acctlab::bench::document_start();
  auto packet = radius::decode_packet(raw, dict);
  if (!packet) {
    std::fprintf(stderr, "bench_schema_write: the Start vector does not decode\n");
    std::exit(1);
  }
  const auto base = radius::make_accounting_record(*packet, dict);
  const double t0 = 1795000000;
  std::vector<storage::WriteItem> items;
  const int per_session = interims + 2;
  items.reserve(static_cast<std::size_t>(sessions * per_session));
  constexpr int interleaved = 1000;
  for (int group = 0; group < sessions; group += interleaved) {
    const int in_group = std::min(interleaved, sessions - group);
    for (int r = 0; r < per_session; ++r) {
      for (int s = group; s < group + in_group; ++s) {
        storage::WriteItem item;
        item.packet.raw = raw;
        item.packet.src_addr = "127.0.0.1";
        item.packet.src_port = 1646;
        item.packet.code = 4;
        item.packet.identifier = static_cast<std::uint8_t>(items.size() & 0xff);
        const double t = t0 + 60.0 * r + 0.001 * s;
        item.packet.receive_time = t;
        storage::RecordInput input;
        input.record = base;
        input.record.session_id = std::to_string(10000000 + s);
        input.record.status_type = r == 0 ? 1 : r == per_session - 1 ? 2 : 3;
        input.record.user_name = "user" + std::to_string(s % 5000) + "@cclient";
        for (auto& pair : input.record.cisco_avpairs) {
          if (pair.name == "isakmp-initator-ip" || pair.name == "isakmp-initiator-ip") {
            pair.value = "11.1." + std::to_string(s / 250 % 250) + "." + std::to_string(s % 250);
          }
        }
        if (r > 0) {
          input.record.session_time = static_cast<std::uint32_t>(60 * r);
          input.record.input_octets = static_cast<std::uint64_t>(100000) * r;
          input.record.output_octets = static_cast<std::uint64_t>(300000) * r;
          input.record.input_packets = static_cast<std::uint32_t>(200 * r);
          input.record.output_packets = static_cast<std::uint32_t>(600 * r);
        }
        input.nas_key = "10.1.1.1";
        input.event_time = t;
        item.nas = input.nas_key;
        item.record = std::move(input);
        item.tag = items.size() + 1;
        items.push_back(std::move(item));
      }
    }
  }
  return items;
}

std::set<std::string> object_names(storage::Database& db) {
  std::set<std::string> names;
  auto q = db.prepare("SELECT type || ' ' || name FROM sqlite_master");
  while (q.step()) {
    names.insert(q.column_text(0));
  }
  return names;
}

// The record writer adds to these tallies in every transaction, and (since migration 5) writes
// the session tally and search rows itself, so they stay in the "v2" database; what filling the
// record and packet tallies costs is measured on its own (tally_cost).
const std::set<std::string> writer_tallies{"table record_tally", "table packet_tally",
                                           "table capture_tally", "table session_tally",
                                           "table session_find"};

/** Drops what migration 3 added but the writer's tallies, leaving the objects of a version-2
 * database and those three (checked). */
void downgrade_to_v2(const std::string& path, const std::string& scratch) {
  std::set<std::string> v2;
  {
    std::filesystem::remove(scratch);
    storage::Database db(scratch);
    storage::migrate(db, 2);
    v2 = object_names(db);
    v2.insert(writer_tallies.begin(), writer_tallies.end());
  }
  std::filesystem::remove(scratch);
  storage::Database db(path);
  auto names = object_names(db);
  // Triggers first (they name the tables), then the indexes and tables.
  for (const char* kind : {"trigger ", "index ", "table "}) {
    for (const auto& name : object_names(db)) {
      if (v2.count(name) || name.rfind(kind, 0) != 0) {
        continue;
      }
      const auto space = name.find(' ');
      const auto type = name.substr(0, space);
      db.exec("DROP " + type + " IF EXISTS " + name.substr(space + 1));
    }
  }
  if (object_names(db) != v2) {
    std::fprintf(stderr, "bench_schema_write: could not reduce the schema to version 2\n");
    std::exit(1);
  }
}

/** CPU microseconds per item of what the writer does for the tallies: TallyBatch counts of one
 * window of items and their upserts, in one transaction per window, as the writer runs them. */
double tally_cost(const std::vector<storage::WriteItem>& items, std::size_t window,
                  const std::string& dir) {
  const auto path = dir + "/bench_schema_write_tally.db";
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
  double cpu = 0;
  {
    storage::Database db(path);
    storage::migrate(db);
    storage::TallyBatch tallies;
    for (std::size_t i = 0; i < items.size(); i += window) {
      storage::Transaction transaction(db);
      const auto begin = std::clock();
      for (std::size_t j = i; j < std::min(items.size(), i + window); ++j) {
        const auto& item = items[j];
        tallies.add_packet(std::int64_t{1}, item.packet.verdict, item.packet.file,
                           item.packet.frame, item.packet.src_addr);
        tallies.add_record(item.record->event_time, item.record->record.status_type,
                           item.packet.src_addr);
      }
      tallies.write(db);
      cpu += static_cast<double>(std::clock() - begin) / CLOCKS_PER_SEC;
      transaction.commit();
    }
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
  return 1e6 * cpu / static_cast<double>(items.size());
}

struct Result {
  double items_per_second = 0;
  double cpu_us_per_item = 0;
};

/** Drops the named objects (trigger, index or table names), for measuring what each costs. */
void drop_objects(const std::string& path, const std::vector<std::string>& drop) {
  storage::Database db(path);
  if (!drop.empty() && drop[0].rfind("sql:", 0) == 0) {
    for (const auto& sql : drop) {
      db.exec(sql.substr(4));
    }
    return;
  }
  for (const auto& name : object_names(db)) {
    const auto space = name.find(' ');
    const auto type = name.substr(0, space);
    const auto bare = name.substr(space + 1);
    if (std::find(drop.begin(), drop.end(), bare) != drop.end()) {
      db.exec("DROP " + type + " IF EXISTS " + bare);
    }
  }
}

Result run(const std::vector<storage::WriteItem>& prototype, bool v2, std::size_t window,
           const std::string& dir, const std::vector<std::string>& drop = {}) {
  const auto path = dir + "/bench_schema_write.db";
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
  auto items = prototype; // the writer consumes them
  std::mutex mutex;
  std::condition_variable done;
  std::size_t completed = 0;
  storage::RecordWriter writer(path, {}, [&](std::vector<storage::Completion>&& completions) {
    std::lock_guard lock(mutex);
    completed += completions.size();
    done.notify_all();
  });
  if (v2) {
    downgrade_to_v2(path, dir + "/bench_schema_write_v2.db");
  }
  if (!drop.empty()) {
    drop_objects(path, drop);
  }
  const auto begin = Clock::now();
  const auto cpu_begin = std::clock();
  std::vector<storage::WriteItem> batch;
  for (std::size_t i = 0; i < items.size(); i += window) {
    const auto end = std::min(items.size(), i + window);
    batch.clear();
    for (std::size_t j = i; j < end; ++j) {
      batch.push_back(std::move(items[j]));
    }
    writer.submit(batch);
    std::unique_lock lock(mutex);
    if (!done.wait_for(lock, std::chrono::seconds(60), [&] { return completed >= end; })) {
      std::fprintf(stderr, "bench_schema_write: the writer stalled at %zu items\n", completed);
      std::exit(1);
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  const double cpu = static_cast<double>(std::clock() - cpu_begin) / CLOCKS_PER_SEC;
  writer.stop();
  const auto n = static_cast<double>(items.size());
  return {n / seconds, 1e6 * cpu / n};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  const int sessions = argc > 1 ? std::atoi(argv[1]) : 40000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  const auto window = static_cast<std::size_t>(argc > 3 ? std::atoi(argv[3]) : 256);
  const std::string dir = argc > 4 ? argv[4] : ".";
  // Further arguments: comma-separated object names; each list is one more variant, v3 without
  // those objects.
  std::vector<std::vector<std::string>> extra;
  for (int i = 5; i < argc; ++i) {
    std::vector<std::string> names;
    std::string list = argv[i];
    for (std::size_t pos = 0; pos <= list.size();) {
      const auto comma =
          std::min(list.find(list.rfind("sql:", 0) == 0 ? '\n' : ',', pos), list.size());
      names.push_back(list.substr(pos, comma - pos));
      pos = comma + 1;
    }
    extra.push_back(std::move(names));
  }
  constexpr int interims = 3;
  const auto items = make_items(sessions, interims);
  const std::size_t variants = 2 + extra.size();
  std::vector<std::vector<double>> rate(variants);
  std::vector<std::vector<double>> cpu(variants);
  auto label = [&](std::size_t variant) {
    if (variant < 2) {
      return std::string(variant == 1 ? "v2 (+ the tables the writer fills)" : "v3 (migration 3)");
    }
    std::string out = "v3 without";
    for (const auto& name : extra[variant - 2]) {
      out += " " + name;
    }
    return out;
  };
  for (int round = 0; round < rounds; ++round) {
    for (std::size_t variant = 0; variant < variants; ++variant) {
      const auto r = run(items, variant == 1, window, dir,
                         variant >= 2 ? extra[variant - 2] : std::vector<std::string>{});
      rate[variant].push_back(r.items_per_second);
      cpu[variant].push_back(r.cpu_us_per_item);
      std::fprintf(stderr, "round %d %s: %.0f items/s, %.2f CPU us/item\n", round + 1,
                   label(variant).c_str(), r.items_per_second, r.cpu_us_per_item);
    }
  }
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(dir + "/bench_schema_write.db" + suffix);
  }
  std::printf("%zu items (%d sessions: Start, %d Interim-Update, Stop), window %zu, median of "
              "%d\n",
              items.size(), sessions, interims, window, rounds);
  std::printf("| schema | items/s | CPU us/item | vs v2 |\n|---|---:|---:|---:|\n");
  const double base_rate = median(rate[1]);
  const double base_cpu = median(cpu[1]);
  for (std::size_t variant : std::vector<std::size_t>{1, 0}) {
    std::printf("| %s | %.0f | %.2f | %.2f (CPU %.2f) |\n", label(variant).c_str(),
                median(rate[variant]), median(cpu[variant]), median(rate[variant]) / base_rate,
                median(cpu[variant]) / base_cpu);
  }
  std::printf("Tallies kept by the writer (in both rows above): %.2f CPU us/item\n",
              tally_cost(items, window, dir));
  for (std::size_t variant = 2; variant < variants; ++variant) {
    std::printf("| %s | %.0f | %.2f | %.2f (CPU %.2f) |\n", label(variant).c_str(),
                median(rate[variant]), median(cpu[variant]), median(rate[variant]) / base_rate,
                median(cpu[variant]) / base_cpu);
  }
  return 0;
}
