#pragma once
// Input files named on the command line: one that does not exist or cannot be opened is bad
// input (exit status 2, docs/cli.md) before any work starts; one that opens but cannot be read
// whole is the command's business (a damaged capture is incomplete, status 3).

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace acctlab::cli {

/** False, with one line per file on stderr ("acctlab CMD: FILE: cannot be opened"), when a file
 * cannot be opened for reading. */
inline bool inputs_readable(const std::vector<std::string>& files, const std::string& command) {
  bool readable = true;
  for (const auto& file : files) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec) || !std::ifstream(file, std::ios::binary)) {
      std::cerr << "acctlab " << command << ": " << file << ": cannot be opened\n";
      readable = false;
    }
  }
  return readable;
}

} // namespace acctlab::cli
