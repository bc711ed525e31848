#include "conformance/radsec_probe.hpp"

#include "client/lab_certificates.hpp"
#include "radius/authenticator.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"

#include <filesystem>
#include <functional>
#include <openssl/rand.h>
#include <optional>
#include <thread>

namespace acctlab::conformance {
namespace {

using gateway::RadsecStream;
using Bytes = std::vector<std::uint8_t>;
using Clock = std::chrono::steady_clock;

Rule probe_rule(std::string id, std::string source, Severity severity, std::string summary,
                std::string pass, std::string fail) {
  Rule rule;
  rule.id = std::move(id);
  rule.source = std::move(source);
  rule.severity = severity;
  rule.scope = Scope::exchange;
  rule.party = Party::server;
  rule.summary = std::move(summary);
  rule.example_pass = std::move(pass);
  rule.example_fail = std::move(fail);
  return rule;
}

/** What one probe concluded: nothing (pass), a failure, or a note that it could not judge. */
struct Outcome {
  std::optional<std::string> failure;
  std::optional<std::string> note; // reported as info
};

class Prober {
public:
  explicit Prober(const RadsecProbeOptions& options) : options_(options) {}

  std::unique_ptr<RadsecStream> connect(const gateway::RadsecConfig& config, std::string& error) {
    return RadsecStream::connect(options_.host, options_.port, config, options_.answer_timeout,
                                 error);
  }

  /** A signed Accounting-Request (Start) whose session names the probe. */
  Bytes request(std::uint8_t identifier, const std::string& tag) {
    const auto& dict = radius::Dictionary::builtin();
    radius::Packet packet(radius::Code::accounting_request, identifier);
    packet.add(dict.find("Acct-Session-Id")->number, "radsec-probe-" + tag);
    packet.add(dict.find("User-Name")->number, std::string_view("acctlab-probe"));
    packet.add_integer(dict.find("Acct-Status-Type")->number, 1); // Start
    packet.add(dict.find("NAS-Identifier")->number, std::string_view("acctlab-radsec-probe"));
    auto wire = radius::encode_packet(packet, dict);
    radius::sign_request(wire, options_.secret);
    return wire;
  }

  /** True when answer is a signed Accounting-Response to request. */
  bool answers(const Bytes& answer, const Bytes& request) const {
    radius::Authenticator authenticator{};
    std::copy(request.begin() + 4, request.begin() + 20, authenticator.begin());
    return answer.size() >= 20 && answer[1] == request[1] &&
           answer[0] == static_cast<std::uint8_t>(radius::Code::accounting_response) &&
           radius::verify_response_authenticator(answer, authenticator, options_.secret);
  }

  Outcome handshake(std::string& description) {
    std::string error;
    auto stream = connect(options_.tls, error);
    if (!stream) {
      return {"the handshake with our certificate failed: " + error, std::nullopt};
    }
    description =
        stream->version() + (stream->alpn().empty() ? ", no ALPN" : ", ALPN " + stream->alpn());
    const auto version = stream->version();
    if (version != "TLSv1.2" && version != "TLSv1.3") {
      return {"negotiated " + version + "; TLS 1.2 is the minimum", std::nullopt};
    }
    if (version != "TLSv1.3") {
      return {std::nullopt, "negotiated " + version + " although TLS 1.3 was offered"};
    }
    return {};
  }

  /** Sends the pieces as separate records and expects each request answered. */
  Outcome exchange(const std::vector<Bytes>& records, const std::vector<Bytes>& requests,
                   const std::string& what) {
    std::string error;
    auto stream = connect(options_.tls, error);
    if (!stream) {
      return {"could not connect: " + error, std::nullopt};
    }
    for (const auto& record : records) {
      if (!stream->write(record)) {
        return {what + ": the write failed", std::nullopt};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20)); // separate TCP segments too
    }
    std::vector<bool> answered(requests.size(), false);
    for (std::size_t i = 0; i < requests.size(); ++i) {
      Bytes answer;
      const auto status = stream->read_packet(answer, options_.answer_timeout);
      if (status != RadsecStream::ReadStatus::packet) {
        return {what + ": " + std::to_string(i) + " of " + std::to_string(requests.size()) +
                    " answered, then " +
                    (status == RadsecStream::ReadStatus::closed ? "the connection closed"
                                                                : "no answer in time"),
                std::nullopt};
      }
      bool matched = false;
      for (std::size_t k = 0; k < requests.size(); ++k) {
        if (!answered[k] && answers(answer, requests[k])) {
          answered[k] = matched = true;
        }
      }
      if (!matched) {
        return {what + ": an answer (Identifier " + std::to_string(answer[1]) +
                    ") that matches no request or does not verify",
                std::nullopt};
      }
    }
    return {};
  }

  /** Sends a packet the server must discard; expects the connection closed and no answer. */
  Outcome discarded(const Bytes& packet, const std::string& what) {
    std::string error;
    auto stream = connect(options_.tls, error);
    if (!stream) {
      return {"could not connect: " + error, std::nullopt};
    }
    if (!stream->write(packet)) {
      return {}; // closed before we could even finish: what the rule asks
    }
    Bytes answer;
    const auto status = stream->read_packet(answer, options_.answer_timeout);
    if (status == RadsecStream::ReadStatus::packet) {
      return {what + ": answered (code " + std::to_string(answer[0]) +
                  ") instead of discarded with the connection closed",
              std::nullopt};
    }
    if (status == RadsecStream::ReadStatus::timeout) {
      return {what + ": discarded, but the connection stayed open " +
                  std::to_string(options_.answer_timeout.count()) + " ms",
              std::nullopt};
    }
    return {};
  }

  Outcome unknown_certificate() {
    gateway::LabCertificates stranger;
    const auto dir =
        (std::filesystem::path(options_.work_dir) / "radsec-probe-unknown-ca").string();
    if (auto failed = gateway::make_lab_certificates(dir, stranger)) {
      return {std::nullopt, "could not make an unknown CA's certificate: " + *failed};
    }
    auto config = options_.tls;
    config.certificate = stranger.client_cert;
    config.private_key = stranger.client_key;
    std::string error;
    auto stream = connect(config, error);
    if (!stream) {
      if (error.rfind("TLS handshake failed", 0) != 0) {
        return {"could not probe: " + error, std::nullopt}; // no TCP, no refusal to judge
      }
      return {}; // refused in the handshake
    }
    // TLS 1.3: the server's verdict on our certificate arrives after the client's handshake.
    const auto request = this->request(1, "unknown-ca");
    if (!stream->write(request)) {
      return {};
    }
    Bytes answer;
    const auto status = stream->read_packet(answer, options_.answer_timeout);
    if (status == RadsecStream::ReadStatus::packet) {
      return {"a certificate from an unknown CA was accepted and its request answered",
              std::nullopt};
    }
    if (status == RadsecStream::ReadStatus::timeout) {
      return {"a certificate from an unknown CA kept its connection open (no answer, no close)",
              std::nullopt};
    }
    return {};
  }

  Outcome idle_timeout() {
    if (options_.idle_wait.count() <= 0) {
      return {std::nullopt, "not probed (give --probe-idle SECONDS)"};
    }
    std::string error;
    auto stream = connect(options_.tls, error);
    if (!stream) {
      return {"could not connect: " + error, std::nullopt};
    }
    const auto start = Clock::now();
    const auto limit = options_.idle_wait + std::chrono::seconds(5);
    if (!stream->wait_closed(std::chrono::duration_cast<std::chrono::milliseconds>(limit))) {
      return {"an idle connection was still open after " + std::to_string(limit.count()) + " s",
              std::nullopt};
    }
    const auto waited = std::chrono::duration<double>(Clock::now() - start).count();
    return {std::nullopt,
            "closed after " + std::to_string(static_cast<int>(waited + 0.5)) + " s idle"};
  }

  Outcome status_server_id0() {
    std::string error;
    auto stream = connect(options_.tls, error);
    if (!stream) {
      return {"could not connect: " + error, std::nullopt};
    }
    radius::Packet probe(radius::Code::status_server, 0);
    const std::uint8_t zeros[16] = {};
    probe.add(radius::message_authenticator_type, std::span<const std::uint8_t>(zeros));
    auto wire = radius::encode_packet(probe, radius::Dictionary::builtin());
    RAND_bytes(wire.data() + 4, 16); // RFC 5997 §3: a random Request Authenticator
    radius::sign_request(wire, options_.secret);
    if (!stream->write(wire)) {
      return {"the write failed", std::nullopt};
    }
    Bytes answer;
    if (stream->read_packet(answer, options_.answer_timeout) != RadsecStream::ReadStatus::packet) {
      return {"Status-Server with Identifier 0 got no answer", std::nullopt};
    }
    radius::Authenticator authenticator{};
    std::copy(wire.begin() + 4, wire.begin() + 20, authenticator.begin());
    if (answer[1] != 0 ||
        !radius::verify_response_authenticator(answer, authenticator, options_.secret)) {
      return {"the answer to Status-Server (Identifier " + std::to_string(answer[1]) +
                  ") does not verify",
              std::nullopt};
    }
    return {};
  }

private:
  const RadsecProbeOptions& options_;
};

} // namespace

const std::vector<Rule>& radsec_probe_rules() {
  static const std::vector<Rule> rules = {
      probe_rule("RADSEC-HANDSHAKE", "draft-ietf-radext-radiusdtls-bis (TLS 1.2 minimum, 1.3)",
                 Severity::error,
                 "The server completes a mutually authenticated handshake, TLS 1.2 or newer",
                 "TLSv1.3 with the client's certificate verified", "TLSv1.1, or no handshake"),
      probe_rule("RADSEC-SPLIT-RECORDS", "RFC 6613 §2.6 (framing by the Length field)",
                 Severity::error, "A packet split over several TLS records is reassembled",
                 "3 + 10 + the rest octets in three records: answered",
                 "the server waits for more, or closes"),
      probe_rule("RADSEC-TWO-PER-RECORD", "RFC 6613 §2.6 (framing by the Length field)",
                 Severity::error, "Two packets in one TLS record are both answered",
                 "both Identifiers answered", "only the first answered"),
      probe_rule("RADSEC-ATTRIBUTE-LENGTH", "RFC 6613 §2.6.4, RFC 2865 §5", Severity::error,
                 "A packet with an attribute Length of 0 or 1 is discarded and the connection "
                 "closed",
                 "no answer, connection closed", "an answer, or the connection left open"),
      probe_rule("RADSEC-WRONG-LENGTH", "RFC 6613 §2.6.4, RFC 2865 §3", Severity::error,
                 "A header Length below 20 or above 4096 closes the connection",
                 "Length 4097: connection closed", "the server waits for 4097 octets"),
      probe_rule("RADSEC-UNKNOWN-CERT", "draft-ietf-radext-radiusdtls-bis (mutual authentication)",
                 Severity::error, "A client certificate from an unknown CA is refused",
                 "handshake alert, connection closed", "the request answered"),
      probe_rule("RADSEC-IDLE-TIMEOUT", "RFC 6613 §2.6 (idle connections)", Severity::warning,
                 "An idle connection is closed by the server's idle timeout",
                 "closed after the configured idle time", "still open long after it"),
      probe_rule("RADSEC-STATUS-SERVER-ID0", "RFC 5997 §3, RFC 6613 §2.6.5", Severity::error,
                 "Status-Server with Identifier 0 is answered",
                 "Accounting-Response with Identifier 0 that verifies", "no answer"),
  };
  return rules;
}

Verdict probe_radsec(const RadsecProbeOptions& options) {
  Prober prober(options);
  const auto& rules = radsec_probe_rules();
  Verdict verdict;
  verdict.profile = "radsec-probe " + options.host + ":" + std::to_string(options.port);
  verdict.rules = rules;
  const auto run = [&](const std::string& id) -> Outcome {
    std::string description;
    if (id == "RADSEC-HANDSHAKE") {
      auto outcome = prober.handshake(description);
      if (!outcome.failure && !outcome.note) {
        outcome.note = description;
      }
      return outcome;
    }
    if (id == "RADSEC-SPLIT-RECORDS") {
      const auto request = prober.request(11, "split");
      return prober.exchange({Bytes(request.begin(), request.begin() + 3),
                              Bytes(request.begin() + 3, request.begin() + 13),
                              Bytes(request.begin() + 13, request.end())},
                             {request}, "split over three records");
    }
    if (id == "RADSEC-TWO-PER-RECORD") {
      const auto first = prober.request(21, "pair-a");
      const auto second = prober.request(22, "pair-b");
      Bytes both = first;
      both.insert(both.end(), second.begin(), second.end());
      return prober.exchange({both}, {first, second}, "two packets in one record");
    }
    if (id == "RADSEC-ATTRIBUTE-LENGTH") {
      for (std::uint8_t length : {0, 1}) {
        auto packet = prober.request(31, "attribute-length");
        const auto user_name =
            static_cast<std::uint8_t>(radius::Dictionary::builtin().find("User-Name")->number);
        packet.insert(packet.end(), {user_name, length});
        packet[2] = static_cast<std::uint8_t>(packet.size() >> 8);
        packet[3] = static_cast<std::uint8_t>(packet.size());
        radius::sign_request(packet, options.secret);
        auto outcome = prober.discarded(packet, "attribute Length " + std::to_string(length));
        if (outcome.failure) {
          return outcome;
        }
      }
      return {};
    }
    if (id == "RADSEC-WRONG-LENGTH") {
      for (const unsigned claimed : {4097u, 19u}) {
        auto packet = prober.request(41, "wrong-length");
        packet[2] = static_cast<std::uint8_t>(claimed >> 8);
        packet[3] = static_cast<std::uint8_t>(claimed);
        auto outcome = prober.discarded(packet, "Length " + std::to_string(claimed));
        if (outcome.failure) {
          return outcome;
        }
      }
      return {};
    }
    if (id == "RADSEC-UNKNOWN-CERT") {
      return prober.unknown_certificate();
    }
    if (id == "RADSEC-IDLE-TIMEOUT") {
      return prober.idle_timeout();
    }
    return prober.status_server_id0();
  };
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto outcome = run(rules[i].id);
    RuleOutcome counted;
    counted.rule = i;
    auto add = [&](Severity severity, const std::string& message) {
      Finding finding;
      finding.rule_id = rules[i].id;
      finding.severity = severity;
      finding.scope = Scope::exchange;
      finding.party = Party::server;
      finding.message = message;
      verdict.findings.push_back(std::move(finding));
      (severity == Severity::error     ? counted.errors
       : severity == Severity::warning ? counted.warnings
                                       : counted.infos) += 1;
    };
    if (outcome.failure) {
      add(rules[i].severity, *outcome.failure);
    }
    if (outcome.note) {
      add(Severity::info, *outcome.note);
    }
    verdict.outcomes.push_back(counted);
  }
  // Worst first, as every verdict lists its findings.
  std::stable_sort(verdict.findings.begin(), verdict.findings.end(),
                   [](const Finding& a, const Finding& b) { return a.severity > b.severity; });
  return verdict;
}

} // namespace acctlab::conformance
