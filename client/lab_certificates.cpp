#include "client/lab_certificates.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

namespace acctlab::gateway {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

bool add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!extension) {
    return false;
  }
  const bool added = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return added;
}

/** A certificate for key, signed by issuer_key (self-signed when issuer is null). */
Cert make_certificate(EVP_PKEY* key, const char* common_name, X509* issuer, EVP_PKEY* issuer_key,
                      bool is_ca, const char* san, const char* usage) {
  Cert cert(X509_new());
  if (!cert) {
    return nullptr;
  }
  X509_set_version(cert.get(), 2); // v3
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f; // positive
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert.get()));
  BN_free(number);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("acctlab lab"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert.get(), key);
  X509* signer = issuer ? issuer : cert.get();
  bool ok = true;
  if (is_ca) {
    ok = add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE") &&
         add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    ok = add_extension(cert.get(), signer, NID_basic_constraints, "CA:FALSE") &&
         add_extension(cert.get(), signer, NID_subject_alt_name, san) &&
         add_extension(cert.get(), signer, NID_ext_key_usage, usage);
  }
  if (!ok || X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0) {
    return nullptr;
  }
  return cert;
}

bool write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* file = std::fopen(path.c_str(), "w");
  if (!file) {
    return false;
  }
  const bool ok = cert
                      ? PEM_write_X509(file, cert) == 1
                      : PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  return std::fclose(file) == 0 && ok;
}

} // namespace

std::optional<std::string> make_lab_certificates(const std::string& dir, LabCertificates& out) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto path = [&dir](const char* name) {
    return (std::filesystem::path(dir) / name).string();
  };
  Key ca_key(EVP_EC_gen("P-256"));
  Key server_key(EVP_EC_gen("P-256"));
  Key client_key(EVP_EC_gen("P-256"));
  if (!ca_key || !server_key || !client_key) {
    return "cannot make EC keys";
  }
  Cert ca = make_certificate(ca_key.get(), "acctlab lab CA", nullptr, nullptr, true, "", "");
  if (!ca) {
    return "cannot make the CA certificate";
  }
  Cert server = make_certificate(server_key.get(), "localhost", ca.get(), ca_key.get(), false,
                                 "DNS:localhost,IP:127.0.0.1,IP:::1", "serverAuth");
  Cert client = make_certificate(client_key.get(), "acctlab-gateway", ca.get(), ca_key.get(), false,
                                 "DNS:acctlab-gateway", "clientAuth");
  if (!server || !client) {
    return "cannot make the server and client certificates";
  }
  out.ca = path("ca.pem");
  out.server_cert = path("server.pem");
  out.server_key = path("server.key");
  out.client_cert = path("client.pem");
  out.client_key = path("client.key");
  if (!write_pem(out.ca, ca.get(), nullptr) || !write_pem(out.server_cert, server.get(), nullptr) ||
      !write_pem(out.server_key, nullptr, server_key.get()) ||
      !write_pem(out.client_cert, client.get(), nullptr) ||
      !write_pem(out.client_key, nullptr, client_key.get())) {
    return "cannot write the certificates into " + dir;
  }
  return std::nullopt;
}

} // namespace acctlab::gateway
