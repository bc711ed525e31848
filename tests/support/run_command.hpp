#pragma once
// Running the acctlab binary (and other programs) from tests, as a user runs them.

#include <cstdio>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace acctlab::test {

struct CommandResult {
  int status = -1;    // the exit status; -1 when it could not start or did not exit normally
  std::string output; // standard output (append 2>&1 to the command for standard error too)
};

/** Runs command through /bin/sh and collects its standard output. */
inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) {
    return result;
  }
  char buffer[4096];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) {
    result.output.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

/** The binary of this build with these arguments; output holds stdout and stderr together. */
inline CommandResult run_acctlab(const std::string& arguments) {
  return run_command(std::string(ACCTLAB_BINARY_DIR) + "/acctlab " + arguments + " 2>&1");
}

/** The lines of a program's output (or any text), without their newlines. */
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

} // namespace acctlab::test
