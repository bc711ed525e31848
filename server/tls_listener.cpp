#include "server/tls_listener.hpp"

#include "radius/host_port.hpp"
#include "radius/key_log_file.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstring>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdexcept>
#include <unordered_map>

namespace acctlab::server {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// RFC 2865 §3: a RADIUS packet is 20 to 4096 octets; RFC 6613 §2.6.4: over a stream anything
// else is malformed and the connection is closed.
constexpr std::size_t min_packet = 20;
constexpr std::size_t max_packet = 4096;
// Room for one whole packet after any partial one: a read never needs a second buffer.
constexpr std::size_t read_buffer = 2 * max_packet;
// After stop(), connections still owed answers get this long before they are closed anyway.
constexpr auto drain_deadline = std::chrono::seconds(5);

// RFC 9765 §3.3 / the bis draft: ALPN "radius/1.0" names classic RADIUS over (D)TLS.
constexpr unsigned char alpn_radius[] = {10, 'r', 'a', 'd', 'i', 'u', 's', '/', '1', '.', '0'};

tcp::endpoint parse_tls_listen(const std::string& text) {
  const auto split = radius::split_host_port(text, 2083); // RFC 6614 §2.1: RadSec's port
  if (!split) {
    throw std::runtime_error("bad --listen-tls '" + text + "': " + split.error());
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(split->host, ec);
  if (ec) {
    throw std::runtime_error("bad --listen-tls '" + text + "': '" + split->host +
                             "' is not an address");
  }
  return {address, split->port};
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address().to_string();
  return (endpoint.address().is_v6() ? "[" + address + "]" : address) + ":" +
         std::to_string(endpoint.port());
}

IpAddress ip_of(const tcp::endpoint& endpoint) {
  auto parsed = IpAddress::parse(endpoint.address().to_string()); // maps ::ffff:a.b.c.d to IPv4
  return parsed ? *parsed : IpAddress{};
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                unsigned int in_length, void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_length, alpn_radius, sizeof alpn_radius, in,
                            in_length) == OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  // A client that offers no radius/1.0 gets no ALPN answer rather than a failed handshake.
  return SSL_TLSEXT_ERR_NOACK;
}

} // namespace

std::string_view to_string(TlsEvent event) {
  switch (event) {
    case TlsEvent::accepted:
      return "accepted";
    case TlsEvent::refused:
      return "refused";
    case TlsEvent::handshake_failed:
      return "handshake-failed";
    case TlsEvent::established:
      return "established";
    case TlsEvent::closed_idle:
      return "closed-idle";
    case TlsEvent::closed_error:
      return "closed-error";
    case TlsEvent::closed_peer:
      return "closed-peer";
  }
  return "?";
}

class TlsListener::Impl : public std::enable_shared_from_this<TlsListener::Impl> {
public:
  class Connection;

  Impl(asio::io_context& io, TlsOptions options, TlsRequestHandler& handler)
      : io_(io), options_(std::move(options)), handler_(handler),
        context_(ssl::context::tls_server) {
    configure_context();
    for (const auto& text : options_.listen) {
      const auto endpoint = parse_tls_listen(text);
      auto acceptor = std::make_unique<tcp::acceptor>(io_);
      boost::system::error_code ec;
      acceptor->open(endpoint.protocol(), ec);
      if (!ec && endpoint.address().is_v6()) {
        acceptor->set_option(asio::ip::v6_only(true), ec);
      }
      if (!ec) {
        acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
        acceptor->bind(endpoint, ec);
      }
      if (!ec) {
        acceptor->listen(asio::socket_base::max_listen_connections, ec);
      }
      if (ec) {
        throw std::runtime_error("cannot listen (TLS) on " + text + ": " + ec.message());
      }
      acceptors_.push_back(std::move(acceptor));
    }
  }

  void start() {
    for (auto& acceptor : acceptors_) {
      do_accept(*acceptor);
    }
  }
  void stop();
  void resume();
  void pause(const std::shared_ptr<Connection>& connection) { paused_.push_back(connection); }
  void on_closed(Connection* connection, const IpAddress& address);

  std::vector<std::string> local_endpoints() const {
    std::vector<std::string> names;
    for (const auto& acceptor : acceptors_) {
      names.push_back(endpoint_text(acceptor->local_endpoint()));
    }
    return names;
  }
  std::vector<std::uint16_t> local_ports() const {
    std::vector<std::uint16_t> ports;
    for (const auto& acceptor : acceptors_) {
      ports.push_back(acceptor->local_endpoint().port());
    }
    return ports;
  }
  std::size_t open_connections() const { return connections_.size(); }

  const TlsOptions& options() const { return options_; }
  TlsRequestHandler& handler() { return handler_; }
  ssl::context& context() { return context_; }
  bool stopping() const { return stopping_; }

private:
  void configure_context() {
    auto* ctx = context_.native_handle();
    // The bis draft: TLS 1.2 at least, 1.3 preferred (OpenSSL negotiates the highest both have);
    // no TLS compression; no 0-RTT data, which a replayed accounting record could abuse.
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_max_early_data(ctx, 0);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
    boost::system::error_code ec;
    auto need = [](const std::string& value, const char* option) {
      if (value.empty()) {
        throw std::runtime_error(std::string("TLS needs ") + option);
      }
    };
    need(options_.certificate, "--tls-cert (the server's certificate, PEM)");
    need(options_.private_key, "--tls-key (the server's private key, PEM)");
    need(options_.ca, "--tls-ca (the CA that signs client certificates, PEM)");
    context_.use_certificate_chain_file(options_.certificate, ec);
    if (ec) {
      throw std::runtime_error("--tls-cert " + options_.certificate + ": " + ec.message());
    }
    context_.use_private_key_file(options_.private_key, ssl::context::pem, ec);
    if (ec) {
      throw std::runtime_error("--tls-key " + options_.private_key + ": " + ec.message());
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      throw std::runtime_error("--tls-key " + options_.private_key +
                               " does not belong to --tls-cert " + options_.certificate);
    }
    context_.load_verify_file(options_.ca, ec);
    if (ec) {
      throw std::runtime_error("--tls-ca " + options_.ca + ": " + ec.message());
    }
    // Mutual authentication in the initial handshake: no certificate, no connection.
    context_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    if (!options_.keylog_file.empty()) {
      std::string error;
      keylog_ = radius::KeyLogFile::open(options_.keylog_file, error);
      if (!keylog_) {
        throw std::runtime_error("--tls-keylog " + error);
      }
      // Not the context's app data: Asio keeps its verify callback there and deletes it.
      static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
      SSL_CTX_set_ex_data(ctx, index, keylog_.get());
      SSL_CTX_set_keylog_callback(ctx, [](const SSL* ssl, const char* line) {
        static_cast<radius::KeyLogFile*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), index))
            ->write(line);
      });
    }
    ERR_clear_error();
  }

  void do_accept(tcp::acceptor& acceptor);

  asio::io_context& io_;
  TlsOptions options_;
  TlsRequestHandler& handler_;
  // --tls-keylog; declared before context_, so it outlives the context that calls it.
  std::unique_ptr<radius::KeyLogFile> keylog_;
  ssl::context context_;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections_;
  std::unordered_map<std::string, std::size_t> per_address_;
  std::vector<std::weak_ptr<Connection>> paused_;
  bool stopping_ = false;
};

class TlsListener::Impl::Connection : public TlsReply,
                                      public std::enable_shared_from_this<Connection> {
public:
  Connection(std::shared_ptr<Impl> owner, tcp::socket socket, TlsOrigin origin)
      : owner_(std::move(owner)), stream_(std::move(socket), owner_->context()),
        timer_(stream_.get_executor()), origin_(std::move(origin)) {}

  void start() {
    auto self = shared_from_this();
    timer_.expires_after(owner_->options().handshake_timeout);
    timer_.async_wait([self](boost::system::error_code ec) {
      if (!ec && !self->established_) {
        self->close(TlsEvent::handshake_failed,
                    "no finished handshake within " +
                        std::to_string(self->owner_->options().handshake_timeout.count()) + " s");
      }
    });
    stream_.async_handshake(ssl::stream_base::server,
                            [self](boost::system::error_code ec) { self->on_handshake(ec); });
  }

  void send(std::span<const std::uint8_t> answer) override {
    if (closed_) {
      return;
    }
    if (outstanding_ > 0) {
      --outstanding_;
    }
    out_.insert(out_.end(), answer.begin(), answer.end());
    if (!writing_ && !write_posted_) {
      // The rest of this commit's answers to this connection come in the same handler: write
      // them all as one TLS record and one send, after it, rather than the first one alone.
      write_posted_ = true;
      asio::post(stream_.get_executor(), [self = shared_from_this()] {
        self->write_posted_ = false;
        if (!self->closed_ && !self->writing_ && !self->out_.empty()) {
          self->do_write();
        }
      });
    }
    maybe_resume();
  }

  void release() override {
    if (closed_) {
      return;
    }
    if (outstanding_ > 0) {
      --outstanding_;
    }
    maybe_close_drained();
    maybe_resume();
  }

  /** The listener stops: read no more, close once nothing is owed. */
  void drain() {
    draining_ = true;
    if (!established_) {
      close(TlsEvent::closed_error, "server stopping");
      return;
    }
    maybe_close_drained();
    if (closed_) {
      return;
    }
    auto self = shared_from_this();
    timer_.expires_after(drain_deadline);
    timer_.async_wait([self](boost::system::error_code ec) {
      if (!ec) {
        self->close(TlsEvent::closed_error, "server stopped with answers still owed");
      }
    });
  }

  /** Called when commits complete or an answer went out: read again if allowed now. */
  void maybe_resume() {
    if (!paused_ || closed_ || draining_ || in_packets_) {
      return;
    }
    if (!can_take()) {
      if (!owner_->handler().accepting()) {
        owner_->pause(shared_from_this()); // resumed when commits complete
      }
      return; // else its own answers resume it as they go out
    }
    paused_ = false;
    process_buffer();
    if (!closed_ && !paused_ && !reading_) {
      do_read();
    }
  }

  const IpAddress& address() const { return origin_.address; }

private:
  bool can_take() const {
    return outstanding_ < owner_->options().max_outstanding_per_connection &&
           owner_->handler().accepting();
  }

  void on_handshake(boost::system::error_code ec) {
    if (closed_) {
      return;
    }
    auto* ssl = stream_.native_handle();
    if (ec) {
      std::string reason = ec.message();
      const long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) {
        reason += " (certificate: " + std::string(X509_verify_cert_error_string(verify)) + ")";
      }
      ERR_clear_error();
      close(TlsEvent::handshake_failed, "TLS handshake failed: " + reason);
      return;
    }
    X509* certificate = SSL_get0_peer_certificate(ssl);
    if (certificate) {
      char subject[512] = {};
      X509_NAME_oneline(X509_get_subject_name(certificate), subject, sizeof subject);
      origin_.subject = subject;
    }
    const auto& wanted = origin_.client.certificate_name;
    if (!wanted.empty() && (!certificate || X509_check_host(certificate, wanted.data(),
                                                            wanted.size(), 0, nullptr) != 1)) {
      close(TlsEvent::handshake_failed, "the client certificate (" + origin_.subject +
                                            ") does not name " + wanted + " (client " +
                                            origin_.client.name + ")");
      return;
    }
    established_ = true;
    const unsigned char* alpn = nullptr;
    unsigned int alpn_length = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
    owner_->handler().on_tls_event(
        TlsEvent::established, origin_.client.shortname,
        "TLS connection from " + origin_.peer + " established: " + SSL_get_version(ssl) + " " +
            SSL_get_cipher_name(ssl) + ", certificate " + origin_.subject +
            (alpn_length ? ", ALPN " + std::string(reinterpret_cast<const char*>(alpn), alpn_length)
                         : ", no ALPN"));
    last_packet_ = Clock::now();
    arm_idle();
    do_read();
  }

  void arm_idle() {
    timer_.cancel();
    const auto idle = owner_->options().idle_timeout;
    if (idle.count() <= 0 || draining_) {
      return;
    }
    auto self = shared_from_this();
    // While answers are owed past the idle time (commits stalled), look again each second rather
    // than spin on a deadline already past.
    timer_.expires_at(std::max(last_packet_ + idle, Clock::now() + std::chrono::seconds(1)));
    timer_.async_wait([self](boost::system::error_code ec) {
      if (ec || self->closed_ || self->draining_) {
        return;
      }
      const auto idle_for = self->owner_->options().idle_timeout;
      if (self->outstanding_ == 0 && Clock::now() - self->last_packet_ >= idle_for) {
        self->close(TlsEvent::closed_idle,
                    "idle for " + std::to_string(idle_for.count()) + " s; closed");
        return;
      }
      self->arm_idle(); // a packet came meanwhile, or answers are still owed
    });
  }

  void do_read() {
    reading_ = true;
    auto self = shared_from_this();
    stream_.async_read_some(
        asio::buffer(in_.data() + have_, in_.size() - have_),
        [self](boost::system::error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(boost::system::error_code ec, std::size_t n) {
    reading_ = false;
    if (closed_) {
      return;
    }
    if (ec) {
      close(TlsEvent::closed_peer, ec == asio::error::eof || ec == ssl::error::stream_truncated
                                       ? "closed by the peer"
                                       : "read failed: " + ec.message());
      return;
    }
    have_ += n;
    if (draining_) {
      maybe_close_drained();
      return;
    }
    process_buffer();
    if (!closed_ && !paused_) {
      do_read();
    }
  }

  /** Frames packets by their Length field (RFC 6613 §2.6.4): a record may hold part of one
   * packet or several. */
  void process_buffer() {
    std::size_t pos = 0;
    in_packets_ = true;
    while (!closed_ && have_ - pos >= 4) {
      const std::size_t length = (std::size_t{in_[pos + 2]} << 8) | in_[pos + 3];
      if (length < min_packet || length > max_packet) {
        const auto take = std::min(have_ - pos, max_packet);
        owner_->handler().on_tls_malformed(std::span(in_.data() + pos, take), origin_,
                                           "Length " + std::to_string(length) +
                                               " outside 20..4096");
        in_packets_ = false;
        close(TlsEvent::closed_error,
              "Length field " + std::to_string(length) + " cannot frame a RADIUS packet");
        return;
      }
      if (have_ - pos < length) {
        break;
      }
      if (!can_take()) {
        paused_ = true;
        owner_->pause(shared_from_this());
        break;
      }
      ++outstanding_;
      last_packet_ = Clock::now();
      const bool keep = owner_->handler().on_tls_packet(std::span(in_.data() + pos, length),
                                                        origin_, shared_from_this());
      pos += length;
      if (!keep) {
        in_packets_ = false;
        close(TlsEvent::closed_error, "packet discarded; connection closed");
        return;
      }
    }
    in_packets_ = false;
    owner_->handler().on_tls_read_done();
    if (pos > 0) {
      std::memmove(in_.data(), in_.data() + pos, have_ - pos);
      have_ -= pos;
    }
  }

  void do_write() {
    writing_ = true;
    writing_buffer_.swap(out_);
    out_.clear();
    auto self = shared_from_this();
    asio::async_write(stream_, asio::buffer(writing_buffer_),
                      [self](boost::system::error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (self->closed_) {
                          return;
                        }
                        if (ec) {
                          self->close(TlsEvent::closed_peer, "write failed: " + ec.message());
                          return;
                        }
                        if (!self->out_.empty()) {
                          self->do_write();
                          return;
                        }
                        self->maybe_close_drained();
                      });
  }

  void maybe_close_drained() {
    if (draining_ && outstanding_ == 0 && !writing_ && !write_posted_ && out_.empty()) {
      close(TlsEvent::closed_peer, "server stopping; every answer sent");
    }
  }

  void close(TlsEvent why, const std::string& line) {
    if (closed_) {
      return;
    }
    closed_ = true;
    if (!established_) {
      why = TlsEvent::handshake_failed; // closed_* events are for established connections
    }
    timer_.cancel();
    boost::system::error_code ec;
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ec);
    stream_.lowest_layer().close(ec);
    owner_->handler().on_tls_event(why, origin_.client.shortname,
                                   "TLS connection from " + origin_.peer + ": " + line);
    owner_->on_closed(this, origin_.address);
  }

  std::shared_ptr<Impl> owner_;
  ssl::stream<tcp::socket> stream_;
  asio::steady_timer timer_;
  TlsOrigin origin_;
  std::array<std::uint8_t, read_buffer> in_{};
  std::size_t have_ = 0;
  std::vector<std::uint8_t> out_;
  std::vector<std::uint8_t> writing_buffer_;
  std::size_t outstanding_ = 0;
  Clock::time_point last_packet_{};
  bool established_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool write_posted_ = false;
  bool paused_ = false;
  bool draining_ = false;
  bool closed_ = false;
  bool in_packets_ = false;
};

void TlsListener::Impl::do_accept(tcp::acceptor& acceptor) {
  acceptor.async_accept(
      [self = shared_from_this(), &acceptor](boost::system::error_code ec, tcp::socket socket) {
        if (self->stopping_) {
          return;
        }
        if (ec) {
          // EMFILE and the like: try again rather than stop accepting for good.
          if (ec != asio::error::operation_aborted) {
            self->do_accept(acceptor);
          }
          return;
        }
        boost::system::error_code peer_ec;
        const auto remote = socket.remote_endpoint(peer_ec);
        const auto local = socket.local_endpoint(peer_ec);
        if (peer_ec) {
          self->do_accept(acceptor);
          return;
        }
        self->handler_.on_tls_event(TlsEvent::accepted, "",
                                    "TCP connection from " + endpoint_text(remote));
        const IpAddress address = ip_of(remote);
        const auto address_text = address.to_string();
        const Client* client = self->handler_.tls_client(address);
        std::string refusal;
        if (!client) {
          refusal = "no TLS client (proto = tls) matches " + address_text;
        } else if (self->connections_.size() >= self->options_.max_connections) {
          refusal = "already " + std::to_string(self->connections_.size()) +
                    " TLS connections (the most allowed)";
        } else if (self->per_address_[address_text] >= self->options_.max_connections_per_address) {
          refusal = "already " + std::to_string(self->per_address_[address_text]) +
                    " TLS connections from " + address_text + " (the most allowed per address)";
        }
        if (!refusal.empty()) {
          if (self->per_address_[address_text] == 0) {
            self->per_address_.erase(address_text);
          }
          self->handler_.on_tls_event(TlsEvent::refused, client ? client->shortname : "",
                                      "refused TLS connection from " + endpoint_text(remote) +
                                          ": " + refusal);
          socket.close(peer_ec);
          self->do_accept(acceptor);
          return;
        }
        socket.set_option(tcp::no_delay(true), peer_ec);
        TlsOrigin origin;
        origin.address = address;
        origin.port = remote.port();
        origin.local_address = local.address().to_string();
        origin.local_port = local.port();
        origin.client = *client;
        origin.peer = endpoint_text(remote);
        auto connection = std::make_shared<Connection>(self, std::move(socket), std::move(origin));
        self->connections_.emplace(connection.get(), connection);
        ++self->per_address_[address_text];
        connection->start();
        self->do_accept(acceptor);
      });
}

void TlsListener::Impl::on_closed(Connection* connection, const IpAddress& address) {
  connections_.erase(connection);
  const auto key = address.to_string();
  if (auto it = per_address_.find(key); it != per_address_.end() && --it->second == 0) {
    per_address_.erase(it);
  }
}

void TlsListener::Impl::stop() {
  if (stopping_) {
    return;
  }
  stopping_ = true;
  for (auto& acceptor : acceptors_) {
    boost::system::error_code ec;
    acceptor->close(ec);
  }
  std::vector<std::shared_ptr<Connection>> open;
  for (auto& [raw, weak] : connections_) {
    if (auto connection = weak.lock()) {
      open.push_back(std::move(connection));
    }
  }
  for (auto& connection : open) {
    connection->drain();
  }
}

void TlsListener::Impl::resume() {
  if (paused_.empty()) {
    return;
  }
  std::vector<std::weak_ptr<Connection>> waiting;
  waiting.swap(paused_);
  for (auto& weak : waiting) {
    if (auto connection = weak.lock()) {
      connection->maybe_resume();
      // One still unable to take a request has paused itself again (process_buffer) or stays
      // paused for its own outstanding answers, which resume it when they go out.
    }
  }
}

TlsListener::TlsListener(asio::io_context& io, TlsOptions options, TlsRequestHandler& handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), handler)) {}
TlsListener::~TlsListener() = default;
void TlsListener::start() {
  impl_->start();
}
void TlsListener::stop() {
  impl_->stop();
}
void TlsListener::resume() {
  impl_->resume();
}
std::vector<std::string> TlsListener::local_endpoints() const {
  return impl_->local_endpoints();
}
std::vector<std::uint16_t> TlsListener::local_ports() const {
  return impl_->local_ports();
}
std::size_t TlsListener::open_connections() const {
  return impl_->open_connections();
}

} // namespace acctlab::server
