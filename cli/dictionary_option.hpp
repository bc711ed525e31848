#pragma once
// The --dictionary option every subcommand takes: our built-in dictionary unless a root file
// (for example /usr/share/freeradius/dictionary) is given.

#include "radius/dictionary.hpp"
#include "radius/dictionary_parser.hpp"

#include <CLI/CLI.hpp>
#include <memory>
#include <stdexcept>
#include <string>

namespace acctlab::cli {

inline void add_dictionary_option(CLI::App& command, std::string& path) {
  command.add_option("--dictionary", path,
                     "Root dictionary file in FreeRADIUS format instead of acctlab's own");
}

/** Loads the dictionary named by --dictionary (or the built-in one); throws a one-line error. */
inline const radius::Dictionary& resolve_dictionary(const std::string& path) {
  if (path.empty()) {
    return radius::Dictionary::builtin();
  }
  static std::unique_ptr<radius::Dictionary> loaded;
  auto result = radius::load_dictionary(path);
  if (!result) {
    throw std::runtime_error("dictionary: " + result.error().to_string());
  }
  loaded = std::make_unique<radius::Dictionary>(std::move(result).value());
  return *loaded;
}

} // namespace acctlab::cli
