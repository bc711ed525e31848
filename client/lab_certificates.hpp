#pragma once
// Throwaway RadSec certificates for a lab run: a CA, a server certificate for 127.0.0.1/::1 and
// a client certificate, EC P-256, made with OpenSSL's API so `acctlab conform --tls` needs no
// PKI of its own. Never for production: the keys are written unencrypted.

#include <optional>
#include <string>

namespace acctlab::gateway {

struct LabCertificates {
  std::string ca;          // PEM files, in the directory given
  std::string server_cert; // CN localhost, SAN IP:127.0.0.1, IP:::1, DNS:localhost
  std::string server_key;
  std::string client_cert; // CN acctlab-gateway, SAN DNS:acctlab-gateway
  std::string client_key;
};

/** Writes the certificates into dir (created if missing); the error text on failure. */
std::optional<std::string> make_lab_certificates(const std::string& dir, LabCertificates& out);

} // namespace acctlab::gateway
