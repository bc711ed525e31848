#pragma once
// Profiles: what a NAS documents it sends, per Acct-Status-Type, as a file a user can copy and
// edit. The format is described in docs/conformance.md; in short, one directive or row a line:
//
//   name               cisco-ios-ipsec
//   id-prefix          CISCO
//   stop-only-allowed  yes
//   interim-tolerance  10%
//   Start              Acct-Session-Id              1            seed Table 1 row acct-session-id
//   Stop,Interim-Update Acct-Input-Gigawords       0-1 warning  RFC 2869 §5.1
//   Start              avpair:isakmp-initiator-ip|isakmp-initator-ip  1  seed Table 1 row ...
//   *                  User-Password                0            RFC 2866 §5.13
//
// A row is STATUS[,STATUS...] NAME COUNT [SEVERITY] SOURCE..., where COUNT is 0, 1, 0-1, 0+,
// 1+ or N-M, and SOURCE (the rest of the line) is required: every rule cites where it comes from.

#include "conformance/rule.hpp"
#include "radius/dictionary.hpp"
#include "radius/result.hpp"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::conformance {

struct CountRange {
  std::uint32_t min = 0;
  std::uint32_t max = std::numeric_limits<std::uint32_t>::max(); // max() means "no limit"
  bool contains(std::size_t n) const { return n >= min && n <= max; }
  std::string text() const; // "0", "1", "0-1", "0+"
};

/** One row of a profile: how many times an attribute (or Cisco AV pair) appears for a status. */
struct PresenceRow {
  int line = 0;
  std::optional<std::uint32_t> status; // Acct-Status-Type value; nullopt for '*' (every request)
  std::string status_text;             // as written
  bool avpair = false;                 // a Cisco-AVPair name rather than an attribute
  /** The attribute or AV-pair names: first the canonical one, then the alternatives written
   * after '|' (AV-pair spellings; attributes that stand for it, e.g. NAS-IPv6-Address for
   * NAS-IP-Address on an IPv6 NAS). */
  std::vector<std::string> names;
  radius::AttrKey key;               // for an attribute: the first name's
  std::vector<radius::AttrKey> keys; // for an attribute: every name's, in order
  CountRange count;
  Severity severity = Severity::error;
  std::string source;
  std::string id; // PREFIX-STATUS-NAME
};

struct ProfileOptions {
  /** The seed: "only the stop packet will be sent without the start if configured to do so". */
  bool stop_only_allowed = false;
  /** Interim cadence tolerance as a fraction of the interval. */
  double interim_tolerance = 0.10;
  /** The NAS's update interval (seconds) when the trace and the records don't say. */
  std::optional<double> interim_interval;
  /** Acct-Session-Time may differ from the time elapsed since Start by this many seconds. */
  double session_time_tolerance = 2.0;
  /** An answer slower than this (seconds) is a warning. */
  double max_latency = 1.0;
  /** A request unanswered this long (seconds) should have been sent again (RFC 2866 §2). */
  double retransmit_wait = 30.0;
  /** Event-Timestamp may differ from the receive time (less Acct-Delay-Time) by this much. */
  double clock_tolerance = 300.0;
  /** The fastest link a NAS's counters may grow at, bits per second (both directions). */
  double max_link_rate = 100e9;
};

struct Profile {
  std::string name;
  std::string id_prefix;
  std::string description;
  std::string path;
  ProfileOptions options;
  std::vector<PresenceRow> rows;
};

struct ProfileError {
  std::string file;
  int line = 0;
  std::string message;
  std::string to_string() const; // "file:line: message"
};

/** Parses a profile; attribute names are checked against dict. Any bad line is an error. */
Expected<Profile, ProfileError> parse_profile(std::string_view text, const std::string& file,
                                              const radius::Dictionary& dict);

/**
 * Loads a profile by path (anything with a '/' or an existing file) or by name from the search
 * path: $ACCTLAB_PROFILE_DIR, the source tree's conformance/profiles, then profiles/ beside the
 * running binary and ../share/acctlab/profiles.
 */
Expected<Profile, ProfileError> load_profile(const std::string& name_or_path,
                                             const radius::Dictionary& dict);

/** The directories searched for profiles by name, in order. */
std::vector<std::string> profile_search_path();
/** Names of the profiles found on the search path (first directory that has any). */
std::vector<std::string> available_profiles();

/** Acct-Status-Type names a profile row may use: Start, Stop, Interim-Update (Interim,
 * Watchdog), Accounting-On, Accounting-Off, or a number. */
std::optional<std::uint32_t> parse_status_name(std::string_view text);

} // namespace acctlab::conformance
