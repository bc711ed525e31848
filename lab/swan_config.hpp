#pragma once
// The configurations a strongSwan lab writes: strongswan.conf and swanctl.conf for the gateway
// and the road warrior, and with auth "cert" a CA and two certificates made by pki on the spot.

#include <filesystem>
#include <string>
#include <vector>

namespace acctlab::lab {

struct RadiusServer {
  std::string address;
  unsigned port = 1813;
  unsigned preference = 0; // eap-radius: the highest reachable one gets the requests
};

struct SwanConfig {
  std::string auth = "psk"; // psk or cert
  unsigned interim_interval = 3;
  /** The gateway's IKE_SA lifetime: rekey_time = 1h (no rekey within a lab run), or none
   * (rekey_time = 0). */
  bool ike_lifetime = true;
  std::string secret = "acctlab-lab-secret";
  std::string nas_identifier = "acctlab-lab-gw";
  std::vector<RadiusServer> servers{{"127.0.0.1", 1813, 50}, {"127.0.0.2", 1813, 0}};
  // eap-radius: a request is sent `tries` times, waiting timeout x base^i after the i-th.
  double radius_timeout = 1.0;
  double radius_base = 1.4;
  unsigned radius_tries = 4;
  // charon (IKE) at the gateway: DPD every dpd_delay s, given up after tries + 1 sends.
  unsigned dpd_delay = 2;
  double ike_timeout = 1.0;
  double ike_base = 1.4;
  unsigned ike_tries = 2;

  /** Seconds from a RADIUS request's first send to charon giving it up. */
  double radius_retransmit_budget() const;
};

/** Writes work/gw and work/rw (strongswan.conf, swanctl.conf, credentials). Throws
 * std::runtime_error when pki fails. */
void write_swan_configs(const SwanConfig& config, const std::filesystem::path& work);

} // namespace acctlab::lab
