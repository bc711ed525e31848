#include "lab/swan_config.hpp"

#include "lab/process.hpp"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace acctlab::lab {
namespace {

namespace fs = std::filesystem;

// kernel-libipsec: this kernel may lack ESP transforms, so ESP runs in userspace over a TUN
// device, UDP-encapsulated (encap = yes).
constexpr const char* charon_plugins = "random nonce aes sha1 sha2 md5 hmac gmp kdf pem pkcs1 "
                                       "x509 pubkey attr kernel-libipsec kernel-netlink "
                                       "socket-default vici updown";
constexpr const char* swanctl_plugins = "random nonce aes sha1 sha2 md5 hmac gmp pem pkcs1 x509 "
                                        "pubkey";
constexpr const char* psk = "acctlab-lab-psk-0123456789";

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  if (!(out << text)) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

std::string strongswan_conf(const fs::path& dir, const std::string& charon_extra,
                            const std::string& plugins_extra, const std::string& load_extra) {
  std::ostringstream out;
  out << "# Written by acctlab lab strongswan for this run only.\n"
      << "charon {\n"
      << "  load = " << charon_plugins << load_extra << "\n"
      << "  install_virtual_ip = yes\n"
      << charon_extra << "  filelog {\n    charon {\n      path = " << (dir / "charon.log").string()
      << "\n      time_format = %H:%M:%S\n      default = 1\n      cfg = 2\n      ike = 2\n"
      << "    }\n  }\n"
      << "  plugins {\n    vici {\n      socket = unix://" << (dir / "charon.vici").string()
      << "\n    }\n    kernel-libipsec {\n      load = yes\n    }\n"
      << plugins_extra << "  }\n}\n"
      << "swanctl {\n  load = " << swanctl_plugins << "\n}\n";
  return out.str();
}

std::string auth_section(const SwanConfig& config, const std::string& local,
                         const std::string& remote) {
  std::ostringstream out;
  out << "    local {\n      auth = " << (config.auth == "cert" ? "pubkey" : "psk")
      << "\n      id = " << local << "\n";
  if (config.auth == "cert") {
    out << "      certs = " << local.substr(0, 2) << ".pem\n";
  }
  out << "    }\n    remote {\n      auth = " << (config.auth == "cert" ? "pubkey" : "psk")
      << "\n      id = " << remote << "\n    }\n";
  return out.str();
}

std::string secrets(const SwanConfig& config, const std::string& side) {
  if (config.auth == "cert") {
    (void)side; // swanctl --load-all loads private/*.key and x509/*.pem by itself
    return {};
  }
  return std::string("secrets {\n  ike-lab {\n    id-gw = gw.acctlab.test\n    id-rw = "
                     "rw.acctlab.test\n    secret = ") +
         psk + "\n  }\n}\n";
}

/** pki writes to standard output: a shell redirects it (glue, not logic). */
void pki(const std::string& command) {
  run_checked({"sh", "-c", "pki " + command}, {}, std::chrono::seconds(60));
}

void make_certificates(const fs::path& work) {
  const auto ca_key = (work / "ca.key").string();
  const auto ca_cert = (work / "ca.pem").string();
  pki("--gen --type rsa --size 2048 --outform pem > " + ca_key);
  pki("--self --ca --lifetime 2 --in " + ca_key + " --dn 'CN=acctlab lab CA' --outform pem > " +
      ca_cert);
  for (const std::string side : {"gw", "rw"}) {
    const auto dir = work / side;
    const auto key = (dir / "private" / (side + ".key")).string();
    pki("--gen --type rsa --size 2048 --outform pem > " + key);
    pki("--issue --lifetime 2 --cacert " + ca_cert + " --cakey " + ca_key + " --type priv --in " +
        key + " --dn 'CN=" + side + ".acctlab.test' --san " + side +
        ".acctlab.test --outform pem > " + (dir / "x509" / (side + ".pem")).string());
    fs::copy_file(ca_cert, dir / "x509ca" / "ca.pem", fs::copy_options::overwrite_existing);
  }
}

} // namespace

double SwanConfig::radius_retransmit_budget() const {
  double total = 0;
  for (unsigned i = 0; i < radius_tries; ++i) {
    total += radius_timeout * std::pow(radius_base, i);
  }
  return total;
}

void write_swan_configs(const SwanConfig& config, const fs::path& work) {
  for (const std::string side : {"gw", "rw"}) {
    for (const char* sub : {"run", "x509", "x509ca", "private", "rsa", "ecdsa", "pkcs8"}) {
      fs::create_directories(work / side / sub);
    }
  }
  std::ostringstream radius;
  radius << "    eap-radius {\n      accounting = yes\n      accounting_interval = "
         << config.interim_interval
         << "\n      # A timed-out update does not end the IKE_SA (the failover scenario).\n"
         << "      accounting_close_on_timeout = no\n      nas_identifier = "
         << config.nas_identifier << "\n      retransmit_timeout = " << config.radius_timeout
         << "\n      retransmit_base = " << config.radius_base
         << "\n      retransmit_tries = " << config.radius_tries << "\n      servers {\n";
  int n = 0;
  for (const auto& server : config.servers) {
    radius << "        server" << ++n << " {\n          address = " << server.address
           << "\n          secret = " << config.secret << "\n          acct_port = " << server.port
           << "\n          auth_port = 1812\n          preference = " << server.preference
           << "\n        }\n";
  }
  radius << "      }\n    }\n";
  std::ostringstream ike;
  ike << "  retransmit_timeout = " << config.ike_timeout
      << "\n  retransmit_base = " << config.ike_base
      << "\n  retransmit_tries = " << config.ike_tries << "\n";
  write_file(work / "gw" / "strongswan.conf",
             strongswan_conf(work / "gw", ike.str(), radius.str(), " eap-radius"));
  write_file(work / "rw" / "strongswan.conf", strongswan_conf(work / "rw", "", "", ""));

  std::ostringstream gw;
  gw << "connections {\n  rw {\n    version = 2\n    local_addrs = 192.0.2.1\n"
     << "    remote_addrs = %any\n    proposals = aes128-sha256-modp2048\n    encap = yes\n"
     << "    pools = rw_pool\n    rekey_time = " << (config.ike_lifetime ? "1h" : "0")
     << "\n    dpd_delay = " << config.dpd_delay << "s\n"
     << auth_section(config, "gw.acctlab.test", "rw.acctlab.test")
     << "    children {\n      lab {\n        local_ts = 203.0.113.1/32\n"
     << "        esp_proposals = aes128-sha256\n        rekey_time = 0\n      }\n    }\n"
     << "  }\n}\npools {\n  rw_pool {\n    addrs = 198.51.100.10/32\n  }\n}\n"
     << secrets(config, "gw");
  write_file(work / "gw" / "swanctl.conf", gw.str());
  std::ostringstream rw;
  rw << "connections {\n  rw {\n    version = 2\n    local_addrs = 192.0.2.2\n"
     << "    remote_addrs = 192.0.2.1\n    vips = 0.0.0.0\n    proposals = aes128-sha256-modp2048\n"
     << "    encap = yes\n    rekey_time = 0\n"
     << auth_section(config, "rw.acctlab.test", "gw.acctlab.test")
     << "    children {\n      lab {\n        remote_ts = 203.0.113.1/32\n"
     << "        esp_proposals = aes128-sha256\n        rekey_time = 0\n      }\n    }\n"
     << "  }\n}\n"
     << secrets(config, "rw");
  write_file(work / "rw" / "swanctl.conf", rw.str());
  if (config.auth == "cert") {
    make_certificates(work);
  }
}

} // namespace acctlab::lab
