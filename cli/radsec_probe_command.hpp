#pragma once
// `acctlab conform --probe-radsec HOST:PORT`: the RadSec probe's command, kept apart from
// cmd_conform.cpp's scenario runner.

#include <string>

namespace acctlab::cli {

struct RadsecProbeArgs {
  std::string target; // HOST:PORT
  std::string certificate;
  std::string private_key;
  std::string ca;
  std::string secret = "radsec";
  int idle_wait_seconds = 0;
  std::string report = "text";
  std::string out;
  std::string work_dir = "acctlab-conform";
};

/** Runs the probe and prints the report; the exit status (0 pass, 1 fail, 2 bad input). */
int run_radsec_probe_command(const RadsecProbeArgs& args);

} // namespace acctlab::cli
