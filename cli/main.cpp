// acctlab: RADIUS accounting server and conformance tester. This file only wires subcommands.

#include "cli/command_registry.hpp"
#include "cli/exit_status.hpp"
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
    // CLI11 prints its message (or the help); its own codes (105, 109, ...) do not leak: --help
    // and --version exit 0, every other parse error is bad usage (docs/cli.md).
    const int cli11 = app.exit(e);
    return cli11 == 0 ? exit_status::ok : exit_status::usage;
  } catch (const std::exception& e) {
    // Thrown by a command for input it cannot use: a profile, a clients file, an output file.
    std::cerr << "acctlab: " << e.what() << '\n';
    return exit_status::usage;
  }
  return exit_code;
}
