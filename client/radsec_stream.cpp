#include "client/radsec_stream.hpp"

#include "radius/key_log_file.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace acctlab::gateway {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool wait_fd(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  const int ready = ::poll(&p, 1, remaining_ms(deadline));
  return ready > 0;
}

std::string ssl_error_text() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += text.empty() ? "" : "; ";
    text += buffer;
  }
  return text.empty() ? "TLS error" : text;
}

int connect_tcp(const std::string& host, std::uint16_t port, Clock::time_point deadline,
                std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found) {
    error = "'" + host + "' is not a numeric address";
    return -1;
  }
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(found);
    error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int rc = ::connect(fd, found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  if (rc != 0 && errno == EINPROGRESS) {
    if (!wait_fd(fd, POLLOUT, deadline)) {
      ::close(fd);
      error = "TCP connect timed out";
      return -1;
    }
    int so_error = 0;
    socklen_t length = sizeof so_error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length);
    rc = so_error == 0 ? 0 : -1;
    errno = so_error;
  }
  if (rc != 0) {
    error = std::string("TCP connect: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void append_keylog(const SSL* ssl, const char* line) {
  static_cast<radius::KeyLogFile*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)))->write(line);
}

} // namespace

void RadsecStream::SslDeleter::operator()(void* ssl) const {
  SSL_free(static_cast<SSL*>(ssl));
}

std::unique_ptr<RadsecStream> RadsecStream::connect(const std::string& host, std::uint16_t port,
                                                    const RadsecConfig& config,
                                                    std::chrono::milliseconds timeout,
                                                    std::string& error) {
  const auto deadline = Clock::now() + timeout;
  // OpenSSL writes to the socket with write(2): a peer that closed first would raise SIGPIPE and
  // end the process; a closed connection is an ordinary result here.
  static const bool sigpipe_ignored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    error = ssl_error_text();
    return nullptr;
  }
  std::unique_ptr<RadsecStream> stream(new RadsecStream());
  stream->ctx_ = ctx;
  // The bis draft: TLS 1.2 at least, no compression.
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (!config.max_version.empty()) {
    if (config.max_version != "TLSv1.2" && config.max_version != "TLSv1.3") {
      error = "unknown TLS version " + config.max_version + " (TLSv1.2 or TLSv1.3)";
      return nullptr;
    }
    SSL_CTX_set_max_proto_version(ctx, config.max_version == "TLSv1.2" ? TLS1_2_VERSION
                                                                       : TLS1_3_VERSION);
  }
  if (!config.tls12_ciphers.empty() &&
      SSL_CTX_set_cipher_list(ctx, config.tls12_ciphers.c_str()) != 1) {
    error = "no usable TLS 1.2 cipher suite in " + config.tls12_ciphers;
    return nullptr;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (!config.keylog_file.empty()) {
    std::string problem;
    stream->keylog_ = radius::KeyLogFile::open(config.keylog_file, problem);
    if (!stream->keylog_) {
      error = "TLS key log " + problem;
      return nullptr;
    }
  } else if (const char* env = std::getenv("SSLKEYLOGFILE"); env && *env) {
    // The environment's wish, as browsers read it: a file that cannot be opened is ignored.
    std::string ignored;
    stream->keylog_ = radius::KeyLogFile::open(env, ignored);
  }
  if (stream->keylog_) {
    SSL_CTX_set_app_data(ctx, stream->keylog_.get());
    SSL_CTX_set_keylog_callback(ctx, append_keylog);
  }
  if (!config.certificate.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, config.certificate.c_str()) != 1) {
      error = "certificate " + config.certificate + ": " + ssl_error_text();
      return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, config.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
      error = "private key " + config.private_key + ": " + ssl_error_text();
      return nullptr;
    }
  }
  if (!config.ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, config.ca.c_str(), nullptr) != 1) {
      error = "CA " + config.ca + ": " + ssl_error_text();
      return nullptr;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (!config.alpn.empty()) {
    std::vector<unsigned char> wire;
    for (const auto& protocol : config.alpn) {
      wire.push_back(static_cast<unsigned char>(protocol.size()));
      wire.insert(wire.end(), protocol.begin(), protocol.end());
    }
    SSL_CTX_set_alpn_protos(ctx, wire.data(), static_cast<unsigned>(wire.size()));
  }
  stream->fd_ = connect_tcp(host, port, deadline, error);
  if (stream->fd_ < 0) {
    return nullptr;
  }
  SSL* ssl = SSL_new(ctx);
  stream->ssl_.reset(ssl);
  SSL_set_fd(ssl, stream->fd_);
  if (!config.server_name.empty()) {
    SSL_set_tlsext_host_name(ssl, config.server_name.c_str());
    SSL_set1_host(ssl, config.server_name.c_str());
  }
  for (;;) {
    const int rc = SSL_connect(ssl);
    if (rc == 1) {
      break;
    }
    const int why = SSL_get_error(ssl, rc);
    if ((why == SSL_ERROR_WANT_READ && wait_fd(stream->fd_, POLLIN, deadline)) ||
        (why == SSL_ERROR_WANT_WRITE && wait_fd(stream->fd_, POLLOUT, deadline))) {
      continue;
    }
    if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
      error = "TLS handshake timed out";
    } else {
      error = "TLS handshake failed: " + ssl_error_text();
      const long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) {
        error +=
            std::string(" (server certificate: ") + X509_verify_cert_error_string(verify) + ")";
      }
    }
    return nullptr;
  }
  return stream;
}

RadsecStream::~RadsecStream() {
  if (ssl_) {
    SSL_shutdown(static_cast<SSL*>(ssl_.get())); // close_notify, best effort
  }
  ssl_.reset();
  if (ctx_) {
    SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool RadsecStream::write(std::span<const std::uint8_t> bytes, std::chrono::milliseconds timeout) {
  auto* ssl = static_cast<SSL*>(ssl_.get());
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_write(ssl, bytes.data(), static_cast<int>(bytes.size()));
    if (rc > 0) {
      return true; // without partial writes, SSL_write sends all of it as one record
    }
    const int why = SSL_get_error(ssl, rc);
    if ((why == SSL_ERROR_WANT_WRITE && wait_fd(fd_, POLLOUT, deadline)) ||
        (why == SSL_ERROR_WANT_READ && wait_fd(fd_, POLLIN, deadline))) {
      continue;
    }
    return false;
  }
}

RadsecStream::ReadStatus RadsecStream::read_packet(std::vector<std::uint8_t>& packet,
                                                   std::chrono::milliseconds timeout) {
  auto* ssl = static_cast<SSL*>(ssl_.get());
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (buffer_.size() >= 4) {
      const std::size_t length = (std::size_t{buffer_[2]} << 8) | buffer_[3];
      if (length < 20 || length > 4096) {
        return ReadStatus::error;
      }
      if (buffer_.size() >= length) {
        packet.assign(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(length));
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(length));
        return ReadStatus::packet;
      }
    }
    std::uint8_t chunk[4096];
    ERR_clear_error();
    const int rc = SSL_read(ssl, chunk, sizeof chunk);
    if (rc > 0) {
      buffer_.insert(buffer_.end(), chunk, chunk + rc);
      continue;
    }
    const int why = SSL_get_error(ssl, rc);
    if (why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) {
      if (!wait_fd(fd_, why == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
        return ReadStatus::timeout;
      }
      continue;
    }
    if (why == SSL_ERROR_ZERO_RETURN || why == SSL_ERROR_SYSCALL) {
      return ReadStatus::closed; // close_notify, or the TCP connection ended
    }
    // An alert or a failed record: the server refused us (e.g. our certificate, seen in TLS 1.3
    // only after the handshake) — the connection is over either way.
    return ReadStatus::closed;
  }
}

bool RadsecStream::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<std::uint8_t> ignored;
  for (;;) {
    const auto status = read_packet(ignored, std::chrono::milliseconds(remaining_ms(deadline)));
    if (status == ReadStatus::closed || status == ReadStatus::error) {
      return true;
    }
    if (status == ReadStatus::timeout || Clock::now() >= deadline) {
      return false;
    }
  }
}

std::string RadsecStream::version() const {
  return SSL_get_version(static_cast<SSL*>(ssl_.get()));
}

std::string RadsecStream::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(static_cast<SSL*>(ssl_.get()), &data, &length);
  return std::string(reinterpret_cast<const char*>(data), length);
}

std::uint16_t RadsecStream::local_port() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
  return address.ss_family == AF_INET6
             ? ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port)
             : ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

} // namespace acctlab::gateway
