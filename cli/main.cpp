// acctlab: RADIUS accounting server and conformance tester. This file only wires subcommands.

#include "cli/command_registry.hpp"
#include "cli/version.hpp" // generated: ACCTLAB_VERSION, ACCTLAB_GIT_COMMIT

#include <algorithm>
#include <exception>
#include <iostream>

namespace acctlab::cli {
std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> registry;
  return registry;
}
} // namespace acctlab::cli

int main(int argc, char** argv) {
  using namespace acctlab::cli;
  CLI::App app{"acctlab: RADIUS accounting server and conformance tester for IPsec VPN gateways"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "acctlab " ACCTLAB_VERSION " (commit " ACCTLAB_GIT_COMMIT ")");
  int exit_code = 0;
  auto& registry = command_registry();
  std::sort(registry.begin(), registry.end(),
            [](const CommandEntry& a, const CommandEntry& b) { return a.order < b.order; });
  for (const auto& entry : registry) {
    entry.install(app, exit_code);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "acctlab: " << e.what() << '\n';
    return 1;
  }
  return exit_code;
}
