#pragma once
// Each cli/cmd_*.cpp registers its subcommands here at static-initialisation time, so adding a
// command touches only its own file. The files are compiled into the binary directly (not into a
// library), which guarantees their registrars run.

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace acctlab::cli {

/** Adds a subcommand to app; the callback it installs runs the command and sets exit_code. */
using CommandInstaller = std::function<void(CLI::App& app, int& exit_code)>;

struct CommandEntry {
  int order; // position in --help
  CommandInstaller install;
};

std::vector<CommandEntry>& command_registry();

struct RegisterCommand {
  RegisterCommand(int order, CommandInstaller install) {
    command_registry().push_back({order, std::move(install)});
  }
};

} // namespace acctlab::cli
