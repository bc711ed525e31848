#pragma once
// The exit statuses of every acctlab subcommand, in one place (docs/cli.md lists them). A
// subcommand that judges maps its verdict here; one that runs something maps its result here.

#include "conformance/engine.hpp"

namespace acctlab::cli::exit_status {

/** Pass: the command did its work and nothing it judged failed. */
inline constexpr int ok = 0;
/** Fail: what was judged or run failed (error findings, a failed scenario, requests not validly
 * answered), or the work could not be completed (a socket, the database). */
inline constexpr int failed = 1;
/** Bad usage or unusable input: a bad argument (CLI11's message), a file that does not exist or
 * cannot be read as what it should be, a configuration or profile in error, an output that
 * cannot be written. */
inline constexpr int usage = 2;
/** Incomplete: part of the input was not read (a damaged capture); no verdict is given. */
inline constexpr int incomplete = 3;
/** No accounting traffic: the input holds nothing to judge. */
inline constexpr int no_accounting_traffic = 4;

/** The one-line summary every --help that judges shows. */
inline constexpr const char* judged_help =
    "Exit status (docs/cli.md): 0 pass, 1 fail, 2 bad usage or input, 3 incomplete input (part "
    "of a capture not read), 4 no accounting traffic.";

/** A verdict's status. */
inline int of(conformance::OverallVerdict outcome) {
  switch (outcome) {
    case conformance::OverallVerdict::pass:
      return ok;
    case conformance::OverallVerdict::fail:
      return failed;
    case conformance::OverallVerdict::incomplete:
      return incomplete;
    case conformance::OverallVerdict::no_accounting_traffic:
      return no_accounting_traffic;
  }
  return failed;
}

} // namespace acctlab::cli::exit_status
