#pragma once
// Rules are data: each has an id, a source (a row of the feature document's tables or an RFC
// section), a severity, a scope and a one-line summary, plus the check that finds violations.
// Findings are what checks produce; every report renders the same Finding list.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace acctlab::conformance {

enum class Severity : std::uint8_t { info, warning, error };
enum class Scope : std::uint8_t { packet, exchange, session };
/** Whom a finding concerns: the NAS (what it sent), the server (what it answered, or did not),
 * or the path between them (loss, reordering). A lab validating a NAS fails on the NAS's
 * errors only. */
enum class Party : std::uint8_t { nas, server, path };

std::string_view to_string(Severity severity) noexcept;
std::string_view to_string(Scope scope) noexcept;
std::string_view to_string(Party party) noexcept;
std::optional<Party> parse_party(std::string_view text) noexcept;
std::optional<Severity> parse_severity(std::string_view text) noexcept;

/** What proves a finding: trace packets (by index), stored rows, the NAS and session, frames. */
struct Evidence {
  std::vector<std::size_t> packets;     // indices into the trace
  std::vector<std::int64_t> packet_ids; // rows of the packets table, when the trace came from one
  std::vector<std::uint32_t> identifiers;
  std::string nas;
  std::string session_id;
  std::string file; // capture file, for traffic that came from one
  std::vector<std::uint64_t> frames;
};

struct Finding {
  std::string rule_id;
  Severity severity = Severity::error;
  Scope scope = Scope::packet;
  std::string message;
  Evidence evidence;
  Party party = Party::nas;
};

class Analysis;
class FindingSink;
struct Rule;

/** A check looks at the whole analysed trace and reports each violation it sees to the sink. */
using CheckFn = std::function<void(const Rule& rule, const Analysis& analysis, FindingSink& sink)>;

struct Rule {
  std::string id;
  std::string source; // "seed Table 1 row acct-session-id", "RFC 2866 §5.5"
  Severity severity = Severity::error;
  Scope scope = Scope::packet;
  /** Whom the rule's findings concern; a packet rule's finding on a packet the server sent
   * concerns the server (the engine decides from the evidence). */
  Party party = Party::nas;
  std::string summary; // one line
  std::string detail;  // optional longer explanation shown by `acctlab rules ID`
  /** What passes and what fails the rule, one short example each (`acctlab rules ID`). */
  std::string example_pass;
  std::string example_fail;
  CheckFn check;
};

/** Collects findings; a check calls report() once per violation. */
class FindingSink {
public:
  void report(const Rule& rule, std::string message, Evidence evidence);
  /** Reports with a severity other than the rule's (e.g. an info note about a spelling). */
  void report(const Rule& rule, Severity severity, std::string message, Evidence evidence);
  /** Reports about another party than the rule's (e.g. an unanswered request lost on the path). */
  void report(const Rule& rule, Severity severity, Party party, std::string message,
              Evidence evidence);
  const std::vector<Finding>& findings() const { return findings_; }
  std::vector<Finding> take() { return std::move(findings_); }

private:
  std::vector<Finding> findings_;
};

} // namespace acctlab::conformance
