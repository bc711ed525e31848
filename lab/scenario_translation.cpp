#include "lab/scenario_translation.hpp"

#include "client/scenario.hpp"
#include "conformance/profile.hpp"
#include "conformance/tester.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace acctlab::lab {
namespace {

using gateway::ScenarioStep;
using Op = ScenarioStep::Op;
using Kind = LabStep::Kind;

constexpr unsigned ip_udp_overhead = 28;

std::string at(const ScenarioStep& step, const std::string& message) {
  return std::to_string(step.line) + ": " + message;
}

} // namespace

Expected<LabScenario, std::string> translate_scenario(std::string_view text,
                                                      const std::string& name,
                                                      const TranslationOptions& options) {
  auto parsed = gateway::parse_scenario(text);
  if (!parsed) {
    return Unexpected(parsed.error().to_string());
  }
  const auto& scenario = *parsed;
  if (scenario.peers.size() != 1) {
    return Unexpected(std::string(" the lab has one road warrior; the scenario declares ") +
                      std::to_string(scenario.peers.size()) + " peers");
  }
  if (scenario.slots.size() > 2) {
    return Unexpected(std::string(" the lab has two servers; the scenario declares ") +
                      std::to_string(scenario.slots.size()) + " slots");
  }
  LabScenario lab;
  lab.name = name;
  for (const auto& line : scenario.comments) {
    lab.summary += (lab.summary.empty() ? "" : " ") + line;
  }
  if (lab.summary.empty()) {
    lab.summary = "scenario file " + name;
  }
  lab.expect.sessions = 0;
  bool connected = false;
  for (const auto& step : scenario.steps) {
    switch (step.op) {
      case Op::connect:
        if (connected) {
          return Unexpected(at(step, "connect while connected"));
        }
        connected = true;
        lab.steps.push_back({Kind::connect});
        ++lab.expect.sessions;
        break;
      case Op::sa_up:
        // The first CHILD_SA comes up with the IKE_SA; strongSwan accounts per IKE_SA, so the
        // pair changes nothing on the wire. Lifetimes are not translated: the lab rekeys only
        // when the scenario says so.
        if (step.pair != "1") {
          return Unexpected(at(step, "the lab has one CHILD_SA (pair 1); pair " + step.pair));
        }
        break;
      case Op::traffic: {
        if (step.input.packets != step.output.packets || step.input.octets != step.output.octets) {
          return Unexpected(at(step, "the lab's traffic is echoed datagrams: in and out must be "
                                     "equal"));
        }
        const auto packets = step.input.packets;
        if (packets == 0) {
          break;
        }
        if (step.input.octets % packets != 0 || step.input.octets / packets <= ip_udp_overhead ||
            step.input.octets / packets > 1400 || packets > 200) {
          return Unexpected(at(step, "traffic must be at most 200 packets of one size between 29 "
                                     "and 1400 IP octets"));
        }
        lab.steps.push_back({Kind::traffic, static_cast<unsigned>(packets),
                             static_cast<unsigned>(step.input.octets / packets - ip_udp_overhead)});
        break;
      }
      case Op::rekey_ipsec:
        // By the road warrior: a gateway-initiated CHILD_SA rekey loses usage in strongSwan 5.9.8
        // (scenario child-rekey-gateway shows that apart).
        lab.steps.push_back({Kind::rekey_child_peer});
        break;
      case Op::rekey_ike:
        lab.steps.push_back({Kind::rekey_ike});
        break;
      case Op::sa_down:
      case Op::ike_delete:
        if (!connected) {
          return Unexpected(at(step, "not connected"));
        }
        connected = false;
        lab.steps.push_back({Kind::disconnect});
        lab.expect.causes.push_back(1);
        break;
      case Op::dead:
        if (!connected) {
          return Unexpected(at(step, "not connected"));
        }
        connected = false;
        lab.steps.push_back({Kind::peer_gone});
        lab.expect.causes.push_back(3);
        break;
      case Op::advance:
        lab.steps.push_back(
            {Kind::wait, 0, 0,
             std::chrono::duration<double>(step.duration).count() * options.time_scale});
        break;
      case Op::server_down:
      case Op::server_up: {
        const int slot = scenario.slot_index(step.slot);
        lab.steps.push_back({step.op == Op::server_down ? Kind::server_stop : Kind::server_resume,
                             static_cast<unsigned>(slot < 0 ? 0 : slot)});
        break;
      }
      case Op::server_drop_answers:
        return Unexpected(at(step, "the lab's servers cannot drop answers (only down and up)"));
      case Op::nas_ip:
        return Unexpected(at(step, "the lab's gateway has one address (192.0.2.1): nas-ip cannot "
                                   "change it"));
    }
  }
  if (connected) {
    // A scenario that ends connected: the lab disconnects, so the session's Stop is judged.
    lab.steps.push_back({Kind::disconnect});
    lab.expect.causes.push_back(1);
  }
  if (lab.steps.empty() || lab.steps.front().kind != Kind::connect) {
    // Servers may go down before the connect; anything else first is refused.
    bool only_servers = true;
    for (const auto& s : lab.steps) {
      if (s.kind == Kind::connect) {
        break;
      }
      only_servers = only_servers && (s.kind == Kind::server_stop ||
                                      s.kind == Kind::server_resume || s.kind == Kind::wait);
    }
    if (!only_servers || lab.expect.sessions == 0) {
      return Unexpected(std::string(" the scenario must connect before anything else happens to "
                                    "the peer"));
    }
  }
  return lab;
}

Expected<LabScenario, std::string> translate_scenario_file(const std::string& path,
                                                           const TranslationOptions& options) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    return Unexpected(path + ": cannot read");
  }
  auto lab = translate_scenario(text.str(), std::filesystem::path(path).stem().string(), options);
  if (!lab) {
    return Unexpected(path + ":" + lab.error());
  }
  return lab;
}

LabResult::Model run_model(const std::string& path, const std::string& work_dir) {
  LabResult::Model model;
  const auto& dict = radius::Dictionary::builtin();
  auto profile = conformance::load_profile("cisco-ios-ipsec", dict);
  if (!profile) {
    model.error = profile.error().to_string();
    return model;
  }
  conformance::TesterOptions options;
  options.work_dir = work_dir;
  const auto result = conformance::run_conformance(path, *profile, dict, options);
  model.ran = result.error.empty();
  model.error = result.error;
  model.passed = result.passed();
  model.sessions = result.verdict.sessions.size();
  model.records = result.records;
  model.errors = result.verdict.count(conformance::Severity::error);
  model.warnings = result.verdict.count(conformance::Severity::warning);
  return model;
}

} // namespace acctlab::lab
