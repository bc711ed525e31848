#include "conformance/rule.hpp"

namespace acctlab::conformance {

std::string_view to_string(Severity severity) noexcept {
  switch (severity) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::error:
      return "error";
  }
  return "error";
}

std::string_view to_string(Scope scope) noexcept {
  switch (scope) {
    case Scope::packet:
      return "packet";
    case Scope::exchange:
      return "exchange";
    case Scope::session:
      return "session";
  }
  return "packet";
}

std::string_view to_string(Party party) noexcept {
  switch (party) {
    case Party::nas:
      return "nas";
    case Party::server:
      return "server";
    case Party::path:
      return "path";
  }
  return "nas";
}

std::optional<Party> parse_party(std::string_view text) noexcept {
  if (text == "nas") {
    return Party::nas;
  }
  if (text == "server") {
    return Party::server;
  }
  if (text == "path") {
    return Party::path;
  }
  return std::nullopt;
}

std::optional<Severity> parse_severity(std::string_view text) noexcept {
  if (text == "error") {
    return Severity::error;
  }
  if (text == "warning") {
    return Severity::warning;
  }
  if (text == "info") {
    return Severity::info;
  }
  return std::nullopt;
}

void FindingSink::report(const Rule& rule, std::string message, Evidence evidence) {
  report(rule, rule.severity, std::move(message), std::move(evidence));
}

void FindingSink::report(const Rule& rule, Severity severity, std::string message,
                         Evidence evidence) {
  report(rule, severity, rule.party, std::move(message), std::move(evidence));
}

void FindingSink::report(const Rule& rule, Severity severity, Party party, std::string message,
                         Evidence evidence) {
  findings_.push_back(
      {rule.id, severity, rule.scope, std::move(message), std::move(evidence), party});
}

} // namespace acctlab::conformance
