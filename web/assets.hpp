#pragma once
// The static files the pages use, compiled into the binary: the server never opens a file by a
// name taken from a request.

#include <string_view>

namespace acctlab::web {

struct Asset {
  std::string_view name;
  std::string_view content_type;
  std::string_view body;
};

/** The asset with exactly this name ("style.css"), or nullptr. */
const Asset* find_asset(std::string_view name);

} // namespace acctlab::web
