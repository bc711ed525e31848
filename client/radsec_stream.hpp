#pragma once
// A RadSec (RFC 6614) client connection: TCP + TLS via OpenSSL, blocking with timeouts. The
// gateway's TLS transport, the RadSec probe and the tests use it. Each write() is one TLS record,
// so a caller can split a packet over records or put two packets in one record on purpose.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace acctlab::radius {
class KeyLogFile;
}

namespace acctlab::gateway {

struct RadsecConfig {
  std::string certificate; // PEM: the client's certificate (chain); empty sends none
  std::string private_key; // PEM
  std::string ca;          // PEM: CAs the server's certificate must chain to
  /** Checked against the server certificate's names when not empty (and sent as SNI). */
  std::string server_name;
  /** ALPN offered; the bis draft's "radius/1.0" by default, empty offers none. */
  std::vector<std::string> alpn{"radius/1.0"};
  /** Appends the session's secrets here in the NSS key log format (for `pcap analyze
   * --tls-keylog` and Wireshark); empty uses $SSLKEYLOGFILE when set, as curl does. */
  std::string keylog_file;
  /** The highest version offered: "TLSv1.2" to hold a session to TLS 1.2; empty allows 1.3. */
  std::string max_version;
  /** TLS 1.2 cipher suites offered, in OpenSSL's cipher list syntax; empty keeps its default. */
  std::string tls12_ciphers;
};

class RadsecStream {
public:
  /** Connects and completes the handshake within timeout; the error text otherwise. */
  static std::unique_ptr<RadsecStream> connect(const std::string& host, std::uint16_t port,
                                               const RadsecConfig& config,
                                               std::chrono::milliseconds timeout,
                                               std::string& error);
  ~RadsecStream();
  RadsecStream(const RadsecStream&) = delete;
  RadsecStream& operator=(const RadsecStream&) = delete;

  /** Sends bytes as one TLS record (up to 16384 octets); false when the connection failed. */
  bool write(std::span<const std::uint8_t> bytes,
             std::chrono::milliseconds timeout = std::chrono::seconds(5));

  enum class ReadStatus : std::uint8_t { packet, timeout, closed, error };
  /** The next RADIUS packet, framed by its Length field. */
  ReadStatus read_packet(std::vector<std::uint8_t>& packet, std::chrono::milliseconds timeout);
  /** Waits until the peer closes the connection (true) or timeout passes (false); packets that
   * arrive meanwhile are discarded. */
  bool wait_closed(std::chrono::milliseconds timeout);

  std::string version() const; // "TLSv1.3"
  std::string alpn() const;    // the protocol the server selected, empty when none
  std::uint16_t local_port() const;
  int native_handle() const { return fd_; }

private:
  RadsecStream() = default;
  struct SslDeleter {
    void operator()(void* ssl) const;
  };
  int fd_ = -1;
  void* ctx_ = nullptr;
  std::unique_ptr<void, SslDeleter> ssl_;
  std::unique_ptr<radius::KeyLogFile> keylog_; // --tls-keylog or SSLKEYLOGFILE
  std::vector<std::uint8_t> buffer_;
};

} // namespace acctlab::gateway
