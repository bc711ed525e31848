// Reports of a strongSwan lab run: text for a terminal, JSON, and JUnit XML for CI (a test suite
// per scenario, a test case per end-state check and one for the profile's verdict).

#include "conformance/report.hpp"
#include "lab/strongswan_lab.hpp"
#include "radius/markup.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <iomanip>
#include <sstream>

namespace acctlab::lab {
namespace {

std::string seconds_text(double seconds) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << seconds << " s";
  return out.str();
}

} // namespace

std::string render_lab_text(const std::vector<LabResult>& results) {
  std::ostringstream out;
  std::size_t passed = 0;
  double total = 0;
  for (const auto& result : results) {
    passed += result.passed();
    total += result.seconds;
    const bool xfail = result.passed() && result.expected_failure();
    const bool xpass = !result.known_check.empty() && !result.expected_failure() &&
                       result.error.empty() && result.judged;
    out << (xfail             ? "XFAIL "
            : result.passed() ? "PASS "
            : xpass           ? "XPASS "
                              : "FAIL ")
        << result.name << " (" << seconds_text(result.seconds) << "): " << result.sessions
        << " session(s), " << result.requests_on_wire << " distinct requests on the wire, "
        << result.records << " records stored\n";
    if (!result.error.empty()) {
      out << "     error: " << result.error << '\n';
    }
    for (const auto& check : result.checks) {
      out << "     "
          << (check.passed                  ? "ok    "
              : result.known_failure(check) ? "known "
                                            : "FAIL  ")
          << check.what << ": " << check.detail << '\n';
    }
    if (xfail) {
      out << "     known defect of the NAS: " << result.known_defect << '\n';
    } else if (xpass) {
      out << "     the known defect did not show (" << result.known_defect
          << "): update the scenario's expectation\n";
    }
    if (result.model.ran || !result.model.error.empty()) {
      const auto& m = result.model;
      out << "     side by side      model (IOS, acctlab conform)   real (strongSwan)\n"
          << "       verdict         " << std::left << std::setw(31)
          << (m.ran ? (m.passed ? "PASS" : "FAIL") : "not run: " + m.error)
          << (result.passed() ? "PASS" : "FAIL") << "\n       sessions        " << std::setw(31)
          << m.sessions << result.sessions << "\n       records         " << std::setw(31)
          << m.records << result.records << "\n       profile errors  " << std::setw(31)
          << std::to_string(m.errors) + " (cisco-ios-ipsec)"
          << std::to_string(result.verdict.count(conformance::Severity::error)) + " (strongswan)"
          << std::right << '\n';
    }
    if (!result.work_dir.empty()) {
      out << "     kept: " << result.work_dir << " (radius.pcap, ike.pcap, server-*.db, lab.log)\n";
    }
  }
  for (const auto& result : results) {
    if (!result.passed()) {
      out << "\n== " << result.name << ": what happened\n";
      for (const auto& line : result.log) {
        out << "   " << line << '\n';
      }
      if (result.judged && result.verdict.has_errors()) {
        out << conformance::render_text(result.verdict);
      }
    }
  }
  out << '\n'
      << passed << " of " << results.size() << " lab scenario(s) passed in " << seconds_text(total)
      << '\n';
  return out.str();
}

LabDemoStep run_lab_demo_step(const std::string& keep_dir, const std::string& acctlab,
                              std::ostream& out) {
  LabDemoStep step;
  out << "== 2b. A real NAS: strongSwan 5.9 in network namespaces of its own, accounting to two "
         "acctlab servers (acctlab lab strongswan)\n";
  step.skipped = lab_unavailable();
  if (!step.skipped.empty()) {
    out << "   SKIPPED: " << step.skipped
        << "\n   (run the demo as root with the strongSwan packages of scripts/setup.sh, or "
           "`acctlab lab strongswan --all` later)\n\n";
    return step;
  }
  LabOptions options;
  options.keep_dir = keep_dir;
  options.acctlab = acctlab;
  std::vector<LabResult> results;
  for (const char* name : {"traffic", "reauth"}) {
    out << "   " << name << " ..." << std::flush;
    results.push_back(run_lab_scenario(*find_lab_scenario(name), options));
    const auto& result = results.back();
    out << (result.passed() ? " pass" : " FAIL") << " (" << seconds_text(result.seconds) << ", "
        << result.sessions << " session(s), " << result.records << " records)\n";
    // What a newcomer should see: sessions, counters against the prediction, causes.
    for (const auto& check : result.checks) {
      if (check.what.find("sessions on the wire") != std::string::npos ||
          check.what.find("counters") != std::string::npos ||
          check.what.find("Cause") != std::string::npos) {
        out << "     " << (check.passed ? "ok   " : "FAIL ") << check.what << ": " << check.detail
            << '\n';
      }
    }
  }
  step.ran = true;
  step.passed =
      std::all_of(results.begin(), results.end(), [](const LabResult& r) { return r.passed(); });
  if (!step.passed) {
    std::istringstream report(render_lab_text(results));
    for (std::string line; std::getline(report, line);) {
      out << (line.empty() ? "" : "   ") << line << '\n';
    }
  }
  out << "   captures and databases: " << keep_dir
      << "/NAME/ (radius.pcap, ike.pcap, server-1.db, server-2.db); all eleven scenarios: "
         "acctlab lab strongswan --all\n\n";
  return step;
}

std::string render_lab_json(const std::vector<LabResult>& results) {
  boost::json::array scenarios;
  bool all = true;
  for (const auto& result : results) {
    all = all && result.passed();
    boost::json::object item;
    item["name"] = result.name;
    item["summary"] = result.summary;
    item["passed"] = result.passed();
    if (!result.known_check.empty()) {
      item["known_defect"] = result.known_defect;
      item["known_defect_seen"] = result.expected_failure();
    }
    item["error"] = result.error;
    item["seconds"] = result.seconds;
    item["sessions"] = result.sessions;
    item["requests_on_wire"] = result.requests_on_wire;
    item["records"] = result.records;
    boost::json::array checks;
    for (const auto& check : result.checks) {
      checks.push_back(boost::json::object{
          {"what", check.what}, {"passed", check.passed}, {"detail", check.detail}});
    }
    item["checks"] = std::move(checks);
    boost::json::array log;
    for (const auto& line : result.log) {
      log.emplace_back(line);
    }
    item["log"] = std::move(log);
    if (!result.work_dir.empty()) {
      item["work_dir"] = result.work_dir;
      item["capture"] = result.capture;
      boost::json::array databases;
      for (const auto& db : result.databases) {
        databases.emplace_back(db);
      }
      item["databases"] = std::move(databases);
    }
    if (result.judged) {
      item["report"] = boost::json::parse(conformance::render_json(result.verdict));
    }
    if (result.model.ran || !result.model.error.empty()) {
      item["model"] = boost::json::object{
          {"passed", result.model.passed},     {"error", result.model.error},
          {"sessions", result.model.sessions}, {"records", result.model.records},
          {"errors", result.model.errors},     {"warnings", result.model.warnings}};
    }
    scenarios.push_back(std::move(item));
  }
  boost::json::object root;
  root["nas"] = "strongswan";
  root["verdict"] = all ? "pass" : "fail";
  root["scenarios"] = std::move(scenarios);
  return boost::json::serialize(root) + "\n";
}

std::string render_lab_junit(const std::vector<LabResult>& results) {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"acctlab lab "
         "strongswan\">\n";
  for (const auto& result : results) {
    std::size_t failures = result.error.empty() ? 0 : 1;
    for (const auto& check : result.checks) {
      failures += check.passed || result.known_failure(check) ? 0 : 1;
    }
    const auto name = radius::escape_markup("strongswan " + result.name);
    out << "  <testsuite name=\"" << name << "\" tests=\""
        << result.checks.size() + (result.error.empty() ? 0 : 1) << "\" failures=\"" << failures
        << "\" time=\"" << std::fixed << std::setprecision(3) << result.seconds << "\">\n";
    if (!result.error.empty()) {
      out << "    <testcase classname=\"" << name << "\" name=\"run\">\n      <failure message=\""
          << radius::escape_markup(result.error) << "\"/>\n    </testcase>\n";
    }
    for (const auto& check : result.checks) {
      out << "    <testcase classname=\"" << name << "\" name=\""
          << radius::escape_markup(check.what) << "\">";
      if (result.known_failure(check)) {
        out << "<skipped message=\"known defect of the NAS: "
            << radius::escape_markup(result.known_defect) << "\"/><system-out>"
            << radius::escape_markup(check.detail) << "</system-out>";
      } else if (check.passed) {
        out << "<system-out>" << radius::escape_markup(check.detail) << "</system-out>";
      } else {
        out << "\n      <failure message=\"" << radius::escape_markup(check.detail) << "\"/>\n    ";
      }
      out << "</testcase>\n";
    }
    out << "  </testsuite>\n";
    if (result.model.ran || !result.model.error.empty()) {
      // The same scenario file on the IOS model, beside the real gateway.
      const auto& m = result.model;
      out << "  <testsuite name=\"" << name << ": IOS model\" tests=\"1\" failures=\""
          << (m.passed ? 0 : 1) << "\">\n    <testcase classname=\"" << name
          << "\" name=\"IOS model (acctlab conform)\">";
      const std::string figures = std::to_string(m.sessions) + " session(s), " +
                                  std::to_string(m.records) + " records, " +
                                  std::to_string(m.errors) + " errors (cisco-ios-ipsec)";
      if (m.passed) {
        out << "<system-out>" << radius::escape_markup(figures) << "</system-out>";
      } else {
        out << "<failure message=\"" << radius::escape_markup(m.error.empty() ? figures : m.error)
            << "\"/>";
      }
      out << "</testcase>\n  </testsuite>\n";
    }
    if (result.judged) {
      out << conformance::junit_suites(result.verdict, "strongswan " + result.name + ": ");
    }
  }
  out << "</testsuites>\n";
  return out.str();
}

} // namespace acctlab::lab
