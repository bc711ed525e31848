#include "lab/strongswan_lab.hpp"

#include "conformance/pcap_trace.hpp"
#include "conformance/profile.hpp"
#include "lab/process.hpp"
#include "lab/swan_config.hpp"
#include "radius/accounting_record.hpp"
#include "radius/packet_codec.hpp"
#include "storage/sqlite.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <netinet/in.h>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace acctlab::lab {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using Kind = LabStep::Kind;

constexpr const char* charon_path = "/usr/lib/ipsec/charon";
constexpr const char* eap_radius_plugin = "/usr/lib/ipsec/plugins/libstrongswan-eap-radius.so";
// Addresses: RFC 5737 documentation prefixes, inside this run's namespaces only.
constexpr const char* gateway_address = "192.0.2.1";
constexpr const char* peer_address = "192.0.2.2";
constexpr const char* virtual_ip = "198.51.100.10";
constexpr const char* protected_address = "203.0.113.1";
constexpr std::uint16_t echo_port = 7;
// Each datagram is an IPv4 packet of size + 28 octets (20 IP, 8 UDP): what the CHILD_SA counts.
constexpr unsigned ip_udp_overhead = 28;

LabStep step(Kind kind, unsigned count = 0, unsigned size = 0, double seconds = 0) {
  return {kind, count, size, seconds};
}

std::vector<LabScenario> make_scenarios() {
  return {
      {"connect",
       "connect, one Interim-Update, the road warrior disconnects: one session, Stop "
       "User-Request, no traffic counted",
       {step(Kind::connect), step(Kind::wait_interim, 1), step(Kind::disconnect)},
       {.sessions = 1, .causes = {1}}},
      {"traffic",
       "datagrams of known size through the tunnel: the Interim-Update and the Stop count them "
       "exactly (IP octets and packets, both ways)",
       {step(Kind::connect), step(Kind::traffic, 5, 100), step(Kind::wait_interim, 1),
        step(Kind::traffic, 4, 1000), step(Kind::disconnect)},
       {.sessions = 1, .causes = {1}}},
      {"child-rekey",
       "the road warrior rekeys its CHILD_SA: the session goes on, and its counters include the "
       "rekeyed CHILD_SA's",
       {step(Kind::connect), step(Kind::traffic, 3, 200), step(Kind::rekey_child_peer),
        step(Kind::traffic, 3, 300), step(Kind::wait_interim, 1), step(Kind::disconnect)},
       {.sessions = 1, .causes = {1}}},
      {"child-rekey-gateway",
       "the gateway rekeys the CHILD_SA before any Interim-Update: the counters should include "
       "the rekeyed CHILD_SA's traffic both ways",
       {step(Kind::connect), step(Kind::traffic, 3, 200), step(Kind::rekey_child),
        step(Kind::traffic, 3, 300), step(Kind::wait_interim, 1), step(Kind::disconnect)},
       {.sessions = 1, .causes = {1}},
       "Stop counters",
       "strongSwan 5.9.8 (kernel-libipsec) loses the rekeyed CHILD_SA's outbound traffic since "
       "the last Interim-Update when the gateway initiates the rekey (Acct-Output-Octets and "
       "-Packets fall short; the road warrior's rekey, or an update before it, counts it)"},
      {"ike-rekey",
       "an IKE rekey makes a new IKE_SA (NAS-Port changes) but keeps the accounting session "
       "and its counters",
       {step(Kind::connect), step(Kind::traffic, 3, 200), step(Kind::rekey_ike),
        step(Kind::traffic, 3, 300), step(Kind::wait_interim, 1), step(Kind::disconnect)},
       {.sessions = 1, .causes = {1}}},
      {"reauth",
       "reauthentication makes a new IKE_SA and so a new session: Stop (User-Request) of the "
       "first, Start of the second, each counting its own traffic",
       {step(Kind::connect), step(Kind::traffic, 3, 200), step(Kind::reauth),
        step(Kind::traffic, 3, 400), step(Kind::wait_interim, 1), step(Kind::disconnect)},
       {.sessions = 2, .causes = {1, 1}}},
      {"dpd",
       "the road warrior vanishes without a word: the gateway's dead peer detection gives up "
       "and the Stop says Lost-Service",
       {step(Kind::connect), step(Kind::traffic, 3, 200), step(Kind::peer_gone)},
       {.sessions = 1, .causes = {3}}},
      {"server-down",
       "the preferred server is silent for a while and comes back: charon retransmits the "
       "same datagram, the server answers the copies and stores the update once",
       {step(Kind::connect), step(Kind::traffic, 3, 200), step(Kind::server_freeze, 0, 0, 0),
        step(Kind::wait_interim, 1), step(Kind::disconnect)},
       {.sessions = 1, .causes = {1}, .retransmission = true}},
      {"failover",
       "the preferred server stays silent past charon's retransmissions: the following requests "
       "go to the second server, which gets the rest of the session",
       {step(Kind::connect), step(Kind::traffic, 3, 200), step(Kind::server_freeze, 0, 0, -1),
        step(Kind::wait_interim, 1), step(Kind::disconnect)},
       {.sessions = 1, .causes = {1}, .retransmission = true, .failover = true}},
      {"disconnect",
       "the gateway deletes the IKE_SA: Stop with User-Request",
       {step(Kind::connect), step(Kind::traffic, 2, 500), step(Kind::disconnect_gateway)},
       {.sessions = 1, .causes = {1}}},
      {"disconnect-no-lifetime",
       "the gateway deletes an IKE_SA that has no lifetime (rekey_time = 0): the Stop should say "
       "User-Request (or Admin-Reset)",
       {step(Kind::connect), step(Kind::traffic, 2, 500), step(Kind::disconnect_gateway)},
       {.sessions = 1, .causes = {1}},
       "Acct-Terminate-Cause",
       "strongSwan 5.9.8 says Session-Timeout (5): with no IKE lifetime configured its hard "
       "lifetime reads as passed, so a local delete raises the IKE_SA-expired alert",
       true},
  };
}

std::string format_seconds(double seconds) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << seconds;
  return out.str();
}

// --- traffic: forked into a namespace, plain sockets ---------------------------------------

struct PingJob {
  unsigned count = 0;
  unsigned size = 0;
};

/** The road warrior's side: count datagrams of size octets from the virtual IP to the echo
 * service, one at a time, each waited for up to 2 s; exits with how many came back. */
int ping_through_tunnel(void* argument) {
  const auto& job = *static_cast<const PingJob*>(argument);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    return 255;
  }
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, virtual_ip, &local.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    return 254;
  }
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(echo_port);
  ::inet_pton(AF_INET, protected_address, &remote.sin_addr);
  std::vector<std::uint8_t> datagram(job.size);
  std::vector<std::uint8_t> reply(job.size + 64);
  int echoed = 0;
  for (unsigned i = 0; i < job.count; ++i) {
    std::fill(datagram.begin(), datagram.end(), static_cast<std::uint8_t>(i));
    if (::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&remote),
                 sizeof remote) != static_cast<ssize_t>(datagram.size())) {
      continue;
    }
    const auto n = ::recv(fd, reply.data(), reply.size(), 0);
    if (n == static_cast<ssize_t>(job.size) &&
        std::equal(datagram.begin(), datagram.end(), reply.begin())) {
      ++echoed;
    }
  }
  ::close(fd);
  return echoed;
}

/** The gateway's side: echoes every datagram to 203.0.113.1:7 back, for at most 15 minutes (the
 * lab stops it long before). */
int echo_service(void*) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(echo_port);
  ::inet_pton(AF_INET, protected_address, &local.sin_addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    return 1;
  }
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::vector<std::uint8_t> buffer(65536);
  const auto until = Clock::now() + std::chrono::minutes(15);
  while (Clock::now() < until) {
    sockaddr_in peer{};
    socklen_t peer_size = sizeof peer;
    const auto n = ::recvfrom(fd, buffer.data(), buffer.size(), 0,
                              reinterpret_cast<sockaddr*>(&peer), &peer_size);
    if (n > 0) {
      ::sendto(fd, buffer.data(), static_cast<std::size_t>(n), 0,
               reinterpret_cast<sockaddr*>(&peer), peer_size);
    }
  }
  return 0;
}

// --- what the traffic predicts -------------------------------------------------------------

struct Bounds {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  bool holds(std::uint64_t value) const { return value >= low && value <= high; }
};

std::string to_text(const Bounds& bounds) {
  return bounds.low == bounds.high
             ? std::to_string(bounds.low)
             : std::to_string(bounds.low) + ".." + std::to_string(bounds.high);
}

/** One accounting session as the scenario expects it: the IKE_SA that began it and those its
 * rekeys made, and the traffic sent while it was up. */
struct ExpectedSession {
  std::vector<unsigned> ike_sas; // unique ids, first the one that began it
  Bounds packets;                // each way: at least what was echoed, at most what was sent
  Bounds octets;
};

// --- the lab itself ------------------------------------------------------------------------

class Lab {
public:
  Lab(const LabScenario& scenario, const LabOptions& options, LabResult& result)
      : scenario_(scenario), options_(options), result_(result) {}

  void run();
  void judge();
  void note(const std::string& line);
  void set_up();
  void start_servers();
  void start_charons();
  void perform(const LabStep& s);
  void wait_for_records(std::uint32_t status, std::uint64_t at_least, double seconds,
                        const std::string& what);
  std::uint64_t stored_records(std::uint32_t status);
  std::vector<unsigned> gateway_ike_sas();
  unsigned current_ike_sa();
  std::string swanctl(const std::string& side, std::vector<std::string> args,
                      int timeout_seconds = 30);
  void wait_for_text(const fs::path& file, const std::string& text, double seconds,
                     const std::string& what, pid_t pid);
  void check(const std::string& what, bool passed, const std::string& detail) {
    result_.checks.push_back({what, passed, detail});
  }

  const LabScenario& scenario_;
  const LabOptions& options_;
  LabResult& result_;
  Clock::time_point began_ = Clock::now();
  fs::path work_;
  std::string gw_ns_;
  std::string rw_ns_;
  Namespaces namespaces_;
  Processes processes_;
  pid_t primary_ = 0;
  pid_t secondary_ = 0;
  pid_t radius_capture_ = 0;
  pid_t ike_capture_ = 0;
  pid_t charon_gw_ = 0;
  pid_t charon_rw_ = 0;
  SwanConfig config_;
  std::vector<ExpectedSession> expected_;
  std::set<unsigned> stopped_servers_; // server_stop without server_resume yet
};

void Lab::note(const std::string& line) {
  const double t = std::chrono::duration<double>(Clock::now() - began_).count();
  result_.log.push_back(format_seconds(t) + " s  " + line);
  if (options_.progress) {
    *options_.progress << "lab " << scenario_.name << ": " << format_seconds(t) << " s  " << line
                       << '\n'
                       << std::flush;
  }
}

void Lab::wait_for_text(const fs::path& file, const std::string& text, double seconds,
                        const std::string& what, pid_t pid) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    std::ifstream in(file);
    std::stringstream content;
    content << in.rdbuf();
    if (content.str().find(text) != std::string::npos) {
      return;
    }
    if (pid && !processes_.running(pid)) {
      throw std::runtime_error(what + " exited; its output: " + file.string());
    }
    pause_checked(milliseconds(50));
  }
  throw std::runtime_error(what + " not ready after " + format_seconds(seconds) +
                           " s; its output: " + file.string());
}

/** Namespaces `acctlab-lab-{gw,rw}-PID` of a lab run that was killed (SIGKILL cannot be caught)
 * are removed when no process is left in them and PID is gone. */
void remove_stale_namespaces(Lab& lab) {
  const auto listing = run_command({"ip", "netns", "list"}, {}, milliseconds(10000));
  std::istringstream lines(listing.output);
  for (std::string line; std::getline(lines, line);) {
    const auto name = line.substr(0, line.find(' '));
    for (const std::string prefix : {"acctlab-lab-gw-", "acctlab-lab-rw-"}) {
      if (name.rfind(prefix, 0) != 0) {
        continue;
      }
      const auto pid = name.substr(prefix.size());
      if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos ||
          fs::exists("/proc/" + pid)) {
        continue;
      }
      const auto pids = run_command({"ip", "netns", "pids", name}, {}, milliseconds(10000));
      if (pids.ok() && pids.output.find_first_not_of(" \n") == std::string::npos) {
        run_command({"ip", "netns", "del", name}, {}, milliseconds(10000));
        lab.note("removed " + name + ", left by a lab run that was killed");
      }
    }
  }
}

void Lab::set_up() {
  remove_stale_namespaces(*this);
  const auto id = std::to_string(::getpid());
  gw_ns_ = "acctlab-lab-gw-" + id;
  rw_ns_ = "acctlab-lab-rw-" + id;
  const auto gw_if = "lgw" + id;
  const auto rw_if = "lrw" + id;
  const milliseconds t(10000);
  namespaces_.add(gw_ns_);
  namespaces_.add(rw_ns_);
  run_checked({"ip", "link", "add", gw_if, "netns", gw_ns_, "type", "veth", "peer", "name", rw_if,
               "netns", rw_ns_},
              {}, t);
  run_checked(
      {"ip", "-n", gw_ns_, "addr", "add", std::string(gateway_address) + "/24", "dev", gw_if}, {},
      t);
  run_checked({"ip", "-n", rw_ns_, "addr", "add", std::string(peer_address) + "/24", "dev", rw_if},
              {}, t);
  // The network behind the gateway, and the second server's loopback address.
  run_checked(
      {"ip", "-n", gw_ns_, "addr", "add", std::string(protected_address) + "/32", "dev", "lo"}, {},
      t);
  for (const auto& ns : {gw_ns_, rw_ns_}) {
    run_checked({"ip", "-n", ns, "link", "set", "lo", "up"}, {}, t);
  }
  run_checked({"ip", "-n", gw_ns_, "link", "set", gw_if, "up"}, {}, t);
  run_checked({"ip", "-n", rw_ns_, "link", "set", rw_if, "up"}, {}, t);
  note("namespaces " + gw_ns_ + " (gateway " + gateway_address + ") and " + rw_ns_ +
       " (road warrior " + peer_address + "), veth " + gw_if + "/" + rw_if);

  // tcpdump: RADIUS (and ICMP port unreachable) on the gateway's loopback; IKE on the veth.
  result_.capture = (work_ / "radius.pcap").string();
  radius_capture_ =
      processes_.spawn({"tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-s", "0", "-Z",
                        "root", "-w", result_.capture, "udp port 1813 or icmp"},
                       {.netns = gw_ns_, .output = (work_ / "tcpdump-radius.out").string()});
  ike_capture_ = processes_.spawn(
      {"tcpdump", "-i", gw_if, "-n", "-U", "--immediate-mode", "-s", "0", "-Z", "root", "-w",
       (work_ / "ike.pcap").string(), "udp port 500 or udp port 4500"},
      {.netns = gw_ns_, .output = (work_ / "tcpdump-ike.out").string()});
  wait_for_text(work_ / "tcpdump-radius.out", "listening on", 10, "tcpdump (lo)", radius_capture_);
  wait_for_text(work_ / "tcpdump-ike.out", "listening on", 10, "tcpdump (veth)", ike_capture_);
  start_servers();
  processes_.spawn_function(gw_ns_, echo_service, nullptr);
  start_charons();
}

void Lab::start_servers() {
  const auto clients = work_ / "clients.conf";
  {
    std::ofstream out(clients);
    out << "# The lab's gateway: charon sends from the gateway namespace's loopback.\n"
        << "client lab-gateway {\n  ipaddr = 127.0.0.1\n  secret = " << config_.secret
        << "\n}\nclient lab-gateway-2 {\n  ipaddr = 127.0.0.2\n  secret = " << config_.secret
        << "\n}\n";
  }
  int slot = 0;
  for (const auto& server : config_.servers) {
    ++slot;
    const auto db = (work_ / ("server-" + std::to_string(slot) + ".db")).string();
    const auto log = work_ / ("server-" + std::to_string(slot) + ".log");
    const pid_t pid = processes_.spawn({options_.acctlab, "serve", "--listen",
                                        server.address + ":" + std::to_string(server.port),
                                        "--clients", clients.string(), "--db", db, "--stats", "0"},
                                       {.netns = gw_ns_, .output = log.string()});
    wait_for_text(log, "listening on", 10, "acctlab serve " + server.address, pid);
    result_.databases.push_back(db);
    (slot == 1 ? primary_ : secondary_) = pid;
  }
  note("acctlab serve on 127.0.0.1:1813 (preferred) and 127.0.0.2:1813, in the gateway namespace");
}

void Lab::start_charons() {
  write_swan_configs(config_, work_);
  for (const auto& [side, ns] :
       {std::pair{std::string("gw"), gw_ns_}, std::pair{std::string("rw"), rw_ns_}}) {
    const auto dir = work_ / side;
    const pid_t pid = processes_.spawn(
        {charon_path}, {.netns = ns,
                        .private_run = (dir / "run").string(),
                        .output = (dir / "charon.out").string(),
                        .env = {{"STRONGSWAN_CONF", (dir / "strongswan.conf").string()}}});
    (side == "gw" ? charon_gw_ : charon_rw_) = pid;
    const auto socket = dir / "charon.vici";
    const auto until = Clock::now() + std::chrono::seconds(10);
    while (!fs::exists(socket)) {
      if (Clock::now() > until || !processes_.running(pid)) {
        throw std::runtime_error("charon (" + side + ") did not open its VICI socket; see " +
                                 (dir / "charon.out").string() + " and " +
                                 (dir / "charon.log").string());
      }
      pause_checked(milliseconds(50));
    }
    swanctl(side, {"--load-all", "--file", (dir / "swanctl.conf").string()});
  }
  note("charon in both namespaces (" + config_.auth + "), eap-radius accounting every " +
       std::to_string(config_.interim_interval) + " s");
}

std::string Lab::swanctl(const std::string& side, std::vector<std::string> args,
                         int timeout_seconds) {
  const auto dir = work_ / side;
  std::vector<std::string> argv{"swanctl", args.front()};
  argv.push_back("--uri");
  argv.push_back("unix://" + (dir / "charon.vici").string());
  argv.insert(argv.end(), args.begin() + 1, args.end());
  return run_checked(argv, {.env = {{"STRONGSWAN_CONF", (dir / "strongswan.conf").string()}}},
                     std::chrono::seconds(timeout_seconds));
}

std::vector<unsigned> Lab::gateway_ike_sas() {
  std::vector<unsigned> ids;
  const auto listing = swanctl("gw", {"--list-sas", "--raw"});
  std::size_t at = 0;
  while ((at = listing.find("uniqueid=", at)) != std::string::npos) {
    at += 9;
    ids.push_back(static_cast<unsigned>(std::strtoul(listing.c_str() + at, nullptr, 10)));
    // CHILD_SAs have unique ids of their own: an IKE_SA's comes right after its name.
    const auto child = listing.find("child-sas", at);
    const auto next = listing.find("uniqueid=", at);
    if (child != std::string::npos && next != std::string::npos && child < next) {
      at = listing.find("}", child);
    }
  }
  return ids;
}

unsigned Lab::current_ike_sa() {
  const auto ids = gateway_ike_sas();
  return ids.empty() ? 0 : *std::max_element(ids.begin(), ids.end());
}

std::uint64_t Lab::stored_records(std::uint32_t status) {
  std::uint64_t total = 0;
  for (const auto& path : result_.databases) {
    try {
      storage::Database db(path, {.read_only = true, .create = false});
      auto query = db.prepare("SELECT count(*) FROM records WHERE status_type = ?1");
      query.bind(1, static_cast<std::int64_t>(status));
      if (query.step()) {
        total += static_cast<std::uint64_t>(query.column_int64(0));
      }
    } catch (const std::exception&) {
      // Not created yet, or busy: counted at the next poll.
    }
  }
  return total;
}

void Lab::wait_for_records(std::uint32_t status, std::uint64_t at_least, double seconds,
                           const std::string& what) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (stored_records(status) < at_least) {
    if (Clock::now() > until) {
      throw std::runtime_error("no " + what + " stored within " + format_seconds(seconds) + " s");
    }
    pause_checked(milliseconds(100));
  }
}

void Lab::perform(const LabStep& s) {
  using radius::AcctStatusType;
  const auto start = static_cast<std::uint32_t>(AcctStatusType::start);
  const auto stop = static_cast<std::uint32_t>(AcctStatusType::stop);
  const auto interim = static_cast<std::uint32_t>(AcctStatusType::interim_update);
  const double interval = config_.interim_interval;
  switch (s.kind) {
    case Kind::connect: {
      note("connect: the road warrior initiates");
      const auto starts = stored_records(start);
      swanctl("rw", {"--initiate", "--child", "lab", "--timeout", "20"});
      const unsigned ike = current_ike_sa();
      if (ike == 0) {
        // charon checks the Start out synchronously and deletes the IKE_SA when no server
        // answers it (whatever accounting_close_on_timeout says, which covers updates).
        throw std::runtime_error("no IKE_SA at the gateway after the connect: charon deletes "
                                 "the IKE_SA when its Start is not answered (gw/charon.log: "
                                 "\"deleting IKE_SA after RADIUS timeout\")");
      }
      expected_.push_back({{ike}});
      if (!stopped_servers_.empty()) {
        // A silent server cannot store it; the capture shows where the Start went.
        pause_checked(milliseconds(500));
        note("IKE_SA " + std::to_string(ike) +
             " up (a server is stopped: not waiting for the Start to be stored)");
        break;
      }
      wait_for_records(start, starts + 1, 10, "Start");
      note("IKE_SA " + std::to_string(ike) + " up; Start stored");
      break;
    }
    case Kind::traffic: {
      PingJob job{s.count, s.size};
      const pid_t pid = processes_.spawn_function(rw_ns_, ping_through_tunnel, &job);
      const int echoed = processes_.wait(pid, milliseconds(2500 * s.count + 2000));
      if (echoed < 0 || echoed > static_cast<int>(s.count)) {
        throw std::runtime_error("traffic did not finish (" + std::to_string(echoed) + ")");
      }
      auto& session = expected_.back();
      const unsigned ip_size = s.size + ip_udp_overhead;
      session.packets.low += static_cast<unsigned>(echoed);
      session.packets.high += s.count;
      session.octets.low += static_cast<std::uint64_t>(echoed) * ip_size;
      session.octets.high += static_cast<std::uint64_t>(s.count) * ip_size;
      note("traffic: " + std::to_string(s.count) + " datagrams of " + std::to_string(s.size) +
           " octets (" + std::to_string(ip_size) + " IP octets) each way, " +
           std::to_string(echoed) + " echoed");
      break;
    }
    case Kind::wait_interim: {
      const auto interims = stored_records(interim);
      wait_for_records(interim, interims + s.count, interval * (s.count + 2) + 5, "Interim-Update");
      note(std::to_string(s.count) + " more Interim-Update(s) stored");
      break;
    }
    case Kind::wait:
      pause_checked(milliseconds(static_cast<long>(s.seconds * 1000)));
      break;
    case Kind::rekey_child_peer:
      swanctl("rw", {"--rekey", "--child", "lab"});
      pause_checked(milliseconds(1000));
      note("CHILD_SA rekeyed by the road warrior");
      break;
    case Kind::rekey_child:
      swanctl("gw", {"--rekey", "--child", "lab"});
      pause_checked(milliseconds(1000));
      note("CHILD_SA rekeyed by the gateway");
      break;
    case Kind::rekey_ike: {
      swanctl("gw", {"--rekey", "--ike", "rw"});
      pause_checked(milliseconds(1000));
      const unsigned ike = current_ike_sa();
      expected_.back().ike_sas.push_back(ike);
      note("IKE_SA rekeyed by the gateway: now IKE_SA " + std::to_string(ike));
      break;
    }
    case Kind::reauth: {
      const auto starts = stored_records(start);
      swanctl("rw", {"--rekey", "--ike", "rw", "--reauth"});
      wait_for_records(start, starts + 1, 15, "Start after the reauthentication");
      pause_checked(milliseconds(1000));
      const unsigned ike = current_ike_sa();
      expected_.push_back({{ike}});
      note("reauthenticated by the road warrior: IKE_SA " + std::to_string(ike) + ", new Start");
      break;
    }
    case Kind::peer_gone: {
      const auto stops = stored_records(stop);
      processes_.signal(charon_rw_, SIGKILL);
      processes_.wait(charon_rw_, milliseconds(5000));
      note("road warrior's charon killed (SIGKILL): no DELETE, the peer is gone");
      if (!stopped_servers_.empty()) {
        pause_checked(milliseconds(10000)); // DPD gives up after about 6 s
        note("a server is stopped: waited 10 s for dead peer detection");
        break;
      }
      wait_for_records(stop, stops + 1, 40, "Stop after dead peer detection");
      note("the gateway's DPD gave up: Stop stored");
      break;
    }
    case Kind::server_freeze: {
      // seconds 0: shorter than charon's retransmission budget (it is answered in the end);
      // negative: longer (charon gives the request up and turns to the other server). An
      // update falls due within `interval` of the freeze and is retransmitted 1 s later, so
      // interval + 1.5 s sees a retransmission and still ends inside the budget (7.1 s).
      const double budget = config_.radius_retransmit_budget();
      const double freeze = s.seconds > 0    ? s.seconds
                            : s.seconds == 0 ? std::min(interval + 1.5, budget - 1.0)
                                             : interval + budget + 1.0;
      processes_.signal(primary_, SIGSTOP);
      note("preferred server frozen (SIGSTOP) for " + format_seconds(freeze) +
           " s; charon gives a request up after " + format_seconds(budget) + " s");
      pause_checked(milliseconds(static_cast<long>(freeze * 1000)));
      processes_.signal(primary_, SIGCONT);
      note("preferred server thawed (SIGCONT)");
      break;
    }
    case Kind::server_stop:
    case Kind::server_resume: {
      const auto slot = std::min<std::size_t>(s.count, config_.servers.size() - 1);
      const pid_t pid = slot == 0 ? primary_ : secondary_;
      const bool stopping = s.kind == Kind::server_stop;
      processes_.signal(pid, stopping ? SIGSTOP : SIGCONT);
      if (stopping) {
        stopped_servers_.insert(static_cast<unsigned>(slot));
      } else {
        stopped_servers_.erase(static_cast<unsigned>(slot));
      }
      note("server " + config_.servers[slot].address +
           (stopping ? " stopped answering (SIGSTOP)" : " answers again (SIGCONT)"));
      break;
    }
    case Kind::disconnect:
    case Kind::disconnect_gateway: {
      const auto stops = stored_records(stop);
      const bool gateway = s.kind == Kind::disconnect_gateway;
      swanctl(gateway ? "gw" : "rw", {"--terminate", "--ike", "rw", "--timeout", "20"});
      if (!stopped_servers_.empty()) {
        pause_checked(milliseconds(500));
        note(std::string(gateway ? "the gateway" : "the road warrior") +
             " deleted the IKE_SA (a server is stopped: not waiting for the Stop to be stored)");
        break;
      }
      wait_for_records(stop, stops + 1, 15, "Stop");
      note(std::string(gateway ? "the gateway" : "the road warrior") +
           " deleted the IKE_SA: Stop stored");
      break;
    }
  }
}

void Lab::run() {
  note("scenario " + scenario_.name + ": " + scenario_.summary);
  set_up();
  for (const auto& s : scenario_.steps) {
    perform(s);
  }
  // Answers still in flight reach the capture before it closes.
  pause_checked(milliseconds(500));
}

// --- judging -------------------------------------------------------------------------------

struct WireRequest {
  double time = 0;
  std::string destination;
  radius::AccountingRecord record;
  unsigned copies = 1; // the same octets sent this many times
  bool answered = false;
};

struct WireSession {
  std::string id;
  std::vector<const WireRequest*> requests;
  std::set<unsigned> nas_ports;
};

void Lab::judge() {
  const auto& dict = radius::Dictionary::builtin();
  auto loaded = conformance::load_trace_from_pcap({result_.capture});
  for (const auto& error : loaded.errors) {
    check("capture readable", false, error);
  }
  auto& trace = loaded.trace;
  trace.default_secret = config_.secret;
  trace.interim_interval = config_.interim_interval;

  // The wire: each distinct request once (copies counted), with whether an answer came.
  std::vector<WireRequest> requests;
  std::map<std::vector<std::uint8_t>, std::size_t> by_octets;
  std::map<std::pair<std::string, std::uint8_t>, std::size_t> by_identifier;
  for (const auto& packet : trace.packets) {
    auto decoded = radius::decode_packet(packet.raw, dict);
    if (!decoded) {
      continue;
    }
    if (decoded->code() == radius::Code::accounting_request) {
      if (auto it = by_octets.find(packet.raw); it != by_octets.end()) {
        ++requests[it->second].copies;
        continue;
      }
      by_octets[packet.raw] = requests.size();
      by_identifier[{packet.source + ">" + packet.destination, decoded->identifier()}] =
          requests.size();
      requests.push_back(
          {packet.time, packet.destination, radius::make_accounting_record(*decoded, dict)});
    } else if (decoded->code() == radius::Code::accounting_response) {
      const auto it =
          by_identifier.find({packet.destination + ">" + packet.source, decoded->identifier()});
      if (it != by_identifier.end()) {
        requests[it->second].answered = true;
      }
    }
  }
  std::vector<WireSession> sessions;
  for (const auto& request : requests) {
    auto it = std::find_if(sessions.begin(), sessions.end(),
                           [&](const WireSession& s) { return s.id == request.record.session_id; });
    if (it == sessions.end()) {
      sessions.push_back({request.record.session_id});
      it = std::prev(sessions.end());
    }
    it->requests.push_back(&request);
    if (request.record.nas_port) {
      it->nas_ports.insert(*request.record.nas_port);
    }
  }
  result_.requests_on_wire = requests.size();
  result_.sessions = sessions.size();

  const auto& expect = scenario_.expect;
  {
    std::string ids;
    for (const auto& s : sessions) {
      ids += (ids.empty() ? "" : ", ") + s.id;
    }
    check("sessions on the wire", sessions.size() == expect.sessions,
          std::to_string(sessions.size()) + " (expected " + std::to_string(expect.sessions) +
              "): " + ids);
  }
  // One accounting session per IKE_SA lineage: Acct-Session-Id "PREFIX-N", N the unique id of
  // the IKE_SA that began it; NAS-Port the unique id of the IKE_SA at the time (rekeys move it).
  for (std::size_t i = 0; i < sessions.size() && i < expected_.size(); ++i) {
    const auto& wire = sessions[i];
    const auto& want = expected_[i];
    const auto dash = wire.id.rfind('-');
    const auto suffix = dash == std::string::npos ? std::string() : wire.id.substr(dash + 1);
    std::string ports;
    bool ports_ok = true;
    for (const auto port : wire.nas_ports) {
      ports += (ports.empty() ? "" : ",") + std::to_string(port);
      ports_ok = ports_ok &&
                 std::find(want.ike_sas.begin(), want.ike_sas.end(), port) != want.ike_sas.end();
    }
    std::string sas;
    for (const auto id : want.ike_sas) {
      sas += (sas.empty() ? "" : ",") + std::to_string(id);
    }
    check("session " + wire.id + " is IKE_SA " + sas,
          suffix == std::to_string(want.ike_sas.front()) && ports_ok,
          "Acct-Session-Id suffix " + suffix + ", NAS-Port " + ports + "; gateway IKE_SA(s) " +
              sas);
  }
  // Start, Stop and causes, counters.
  std::vector<unsigned> causes;
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    const auto& s = sessions[i];
    unsigned starts = 0;
    unsigned stops = 0;
    unsigned interims = 0;
    const WireRequest* last_stop = nullptr;
    for (const auto* r : s.requests) {
      const auto status = r->record.status_type.value_or(0);
      starts += status == 1;
      interims += status == 3;
      if (status == 2) {
        ++stops;
        last_stop = r;
      }
    }
    check("session " + s.id + ": one Start, one Stop", starts == 1 && stops == 1,
          std::to_string(starts) + " Start, " + std::to_string(interims) + " Interim-Update, " +
              std::to_string(stops) + " Stop");
    if (last_stop) {
      causes.push_back(last_stop->record.terminate_cause.value_or(0));
    }
    if (last_stop && i < expected_.size()) {
      const auto& want = expected_[i];
      const auto& r = last_stop->record;
      const auto in_octets = r.input_octets.value_or(0);
      const auto out_octets = r.output_octets.value_or(0);
      const auto in_packets = r.input_packets.value_or(0);
      const auto out_packets = r.output_packets.value_or(0);
      check("session " + s.id + ": Stop counters as the traffic predicts",
            want.octets.holds(in_octets) && want.octets.holds(out_octets) &&
                want.packets.holds(in_packets) && want.packets.holds(out_packets),
            "in " + std::to_string(in_octets) + " octets/" + std::to_string(in_packets) +
                " packets, out " + std::to_string(out_octets) + "/" + std::to_string(out_packets) +
                "; predicted " + to_text(want.octets) + " octets, " + to_text(want.packets) +
                " packets each way");
    }
  }
  {
    auto text = [](const std::vector<unsigned>& list) {
      std::string out;
      for (const auto c : list) {
        out += (out.empty() ? "" : ",") + std::to_string(c);
      }
      return out.empty() ? std::string("none") : out;
    };
    check("Acct-Terminate-Cause", causes == expect.causes,
          text(causes) + " (expected " + text(expect.causes) + "; 1 User-Request, 3 Lost-Service)");
  }
  // Retransmissions: the same octets again (charon keeps Identifier and Authenticator).
  unsigned retransmitted = 0;
  unsigned copies = 0;
  for (const auto& r : requests) {
    if (r.copies > 1) {
      ++retransmitted;
      copies += r.copies;
    }
  }
  if (expect.retransmission) {
    check("retransmission", retransmitted > 0,
          std::to_string(retransmitted) + " request(s) sent more than once (" +
              std::to_string(copies) + " datagrams)");
  }

  // The databases: each distinct request stored once, on the server it reached.
  std::map<std::string, std::uint64_t> records_on;
  std::uint64_t stored = 0;
  std::uint64_t duplicates = 0;
  std::map<std::string, std::string> session_state;
  std::map<std::string, std::string> session_counters;
  for (std::size_t i = 0; i < result_.databases.size(); ++i) {
    try {
      storage::Database db(result_.databases[i], {.read_only = true, .create = false});
      const auto n = db.query_int64("SELECT count(*) FROM records").value_or(0);
      records_on[config_.servers[i].address] = static_cast<std::uint64_t>(n);
      stored += static_cast<std::uint64_t>(n);
      duplicates += static_cast<std::uint64_t>(
          db.query_int64("SELECT coalesce(sum(duplicates), 0) FROM nas").value_or(0));
      auto rows = db.prepare("SELECT acct_session_id, state, input_octets, output_octets, "
                             "terminate_cause FROM sessions WHERE state = 'closed'");
      while (rows.step()) {
        session_state[rows.column_text(0)] = rows.column_text(1);
        session_counters[rows.column_text(0)] =
            std::to_string(rows.column_optional_int64(2).value_or(-1)) + "/" +
            std::to_string(rows.column_optional_int64(3).value_or(-1)) + " cause " +
            std::to_string(rows.column_optional_int64(4).value_or(-1));
      }
    } catch (const std::exception& e) {
      check("database " + result_.databases[i], false, e.what());
    }
  }
  result_.records = stored;
  {
    std::string where;
    for (const auto& [address, n] : records_on) {
      where += (where.empty() ? "" : ", ") + address + ": " + std::to_string(n);
    }
    unsigned answered = 0;
    for (const auto& r : requests) {
      answered += r.answered;
    }
    check("stored once each", stored == requests.size(),
          std::to_string(stored) + " records (" + where + ") for " +
              std::to_string(requests.size()) + " distinct requests on the wire (" +
              std::to_string(answered) + " answered), " + std::to_string(duplicates) +
              " duplicate(s) recognised");
  }
  for (const auto& s : sessions) {
    const bool closed = session_state.count(s.id) > 0;
    check("session " + s.id + " closed in the database", closed,
          closed ? "closed, in/out octets " + session_counters[s.id] : "no closed row");
  }
  if (expect.failover) {
    const auto second = config_.servers.size() > 1 ? records_on[config_.servers[1].address] : 0;
    check("failover to the second server", second > 0,
          std::to_string(second) + " record(s) on " +
              (config_.servers.size() > 1 ? config_.servers[1].address : std::string("-")));
  }

  // The strongswan profile over the capture: the conformance engine's verdict.
  auto profile = conformance::load_profile("strongswan", dict);
  if (!profile) {
    check("strongswan profile", false, profile.error().to_string());
    return;
  }
  result_.verdict = conformance::check_trace(trace, *profile, dict);
  result_.judged = true;
  const auto parties = result_.verdict.party_counts();
  const auto nas_errors = parties.errors_of(conformance::Party::nas);
  std::string first;
  for (const auto& finding : result_.verdict.findings) {
    if (finding.severity == conformance::Severity::error &&
        finding.party == conformance::Party::nas) {
      first = "; first: " + finding.rule_id + " " + finding.message;
      break;
    }
  }
  check("strongswan profile: no NAS error", nas_errors == 0,
        std::to_string(result_.verdict.requests) + " requests, " +
            std::to_string(result_.verdict.count(conformance::Severity::error)) + " errors (" +
            std::to_string(nas_errors) + " the NAS's), " +
            std::to_string(result_.verdict.count(conformance::Severity::warning)) + " warnings" +
            first);
}

} // namespace

bool LabResult::known_failure(const LabCheck& check) const {
  return !check.passed && !known_check.empty() && check.what.find(known_check) != std::string::npos;
}

bool LabResult::expected_failure() const {
  return std::any_of(checks.begin(), checks.end(),
                     [&](const LabCheck& c) { return known_failure(c); });
}

bool LabResult::passed() const {
  if (!error.empty() || !judged) {
    return false;
  }
  for (const auto& check : checks) {
    if (!check.passed && !known_failure(check)) {
      return false;
    }
  }
  // A known defect that no longer shows is news: the expectation is out of date.
  return known_check.empty() || expected_failure();
}

const std::vector<LabScenario>& lab_scenarios() {
  static const auto scenarios = make_scenarios();
  return scenarios;
}

const LabScenario* find_lab_scenario(const std::string& name) {
  for (const auto& scenario : lab_scenarios()) {
    if (scenario.name == name) {
      return &scenario;
    }
  }
  return nullptr;
}

std::string lab_unavailable() {
  if (auto missing = missing_privileges(); !missing.empty()) {
    return missing + ": network namespaces need root with CAP_NET_ADMIN and CAP_SYS_ADMIN";
  }
  if (::access(charon_path, X_OK) != 0) {
    return std::string("no ") + charon_path + " (install strongswan-charon)";
  }
  if (::access(eap_radius_plugin, R_OK) != 0) {
    return "no eap-radius plugin (install libcharon-extra-plugins)";
  }
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) {
    return "no /dev/net/tun (kernel-libipsec needs it)";
  }
  for (const char* tool : {"swanctl", "tcpdump", "ip", "pki"}) {
    bool found = false;
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      found = found || ::access((fs::path(dir) / tool).c_str(), X_OK) == 0;
    }
    if (!found) {
      return std::string("no ") + tool + " in PATH (scripts/setup.sh installs it)";
    }
  }
  return {};
}

LabResult run_lab_scenario(const LabScenario& scenario, const LabOptions& options) {
  LabResult result;
  result.name = scenario.name;
  result.summary = scenario.summary;
  result.known_check = scenario.known_check;
  result.known_defect = scenario.known_defect;
  const auto began = Clock::now();
  fs::path work;
  if (options.keep_dir.empty()) {
    char pattern[] = "/tmp/acctlab-lab.XXXXXX";
    if (!::mkdtemp(pattern)) {
      result.error = "cannot make a temporary directory";
      return result;
    }
    work = pattern;
  } else {
    work = fs::path(options.keep_dir) / scenario.name;
    std::error_code ec;
    fs::remove_all(work, ec);
    fs::create_directories(work, ec);
    if (ec) {
      result.error = "cannot make " + work.string() + ": " + ec.message();
      return result;
    }
    result.work_dir = work.string();
  }
  bool interrupted = false;
  {
    Lab lab(scenario, options, result);
    lab.work_ = work;
    lab.config_.auth = options.auth;
    lab.config_.interim_interval = options.interim_interval;
    lab.config_.ike_lifetime = !scenario.no_ike_lifetime;
    try {
      lab.run();
    } catch (const Interrupted&) {
      interrupted = true;
      result.error = "interrupted";
    } catch (const std::exception& e) {
      result.error = e.what();
      lab.note("FAILED: " + result.error);
    }
    // Tear-down: the processes (newest first: charons send what they owe, tcpdump flushes
    // last), then the namespaces with the veth pair in them.
    lab.processes_.stop_all();
    lab.namespaces_.remove_all();
    if (!interrupted) {
      try {
        lab.judge();
      } catch (const std::exception& e) {
        result.checks.push_back({"judged", false, e.what()});
      }
    }
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - began).count();
  if (options.keep_dir.empty()) {
    std::error_code ec;
    fs::remove_all(work, ec);
    result.capture.clear();
    result.databases.clear();
  } else {
    std::ofstream log(work / "lab.log");
    for (const auto& line : result.log) {
      log << line << '\n';
    }
  }
  if (interrupted) {
    throw Interrupted();
  }
  return result;
}

} // namespace acctlab::lab
