// The only file of acctlab_web that includes Beast and Asio.
#include "web/http_server.hpp"

#include "radius/host_port.hpp"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <charconv>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

namespace acctlab::web {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

bool parse_listen(std::string_view text, std::string& address, std::uint16_t& port) {
  const auto split = radius::split_host_port(text);
  if (!split) {
    return false;
  }
  address = split->host == "localhost" ? "127.0.0.1" : split->host;
  port = split->port;
  return true;
}

bool is_loopback(std::string_view address) {
  boost::system::error_code ec;
  const auto parsed = net::ip::make_address(std::string(address), ec);
  if (ec) {
    return false; // a name other than localhost (parse_listen maps that one): not known loopback
  }
  if (parsed.is_v6() && parsed.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, parsed.to_v6()).is_loopback();
  }
  return parsed.is_loopback();
}

namespace {

constexpr std::size_t header_limit = 8 * 1024;
constexpr std::size_t body_limit = 4 * 1024; // the site takes no bodies; a small one is tolerated
constexpr auto io_timeout = std::chrono::seconds(30);

struct Shared {
  Site& site;
  ServerOptions options;
  std::unique_ptr<net::ssl::context> tls; // set: HTTPS only
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> event_streams{0};
};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

/** One connection, plain (beast::tcp_stream) or TLS (TlsStream). */
template <class Stream> class Connection : public std::enable_shared_from_this<Connection<Stream>> {
public:
  Connection(tcp::socket socket, Shared& shared) requires std::is_same_v<Stream, beast::tcp_stream>
      : stream_(std::move(socket)), shared_(shared), timer_(stream_.get_executor()) {
    init();
  }
  Connection(tcp::socket socket, Shared& shared) requires std::is_same_v<Stream, TlsStream>
      : stream_(std::move(socket), *shared.tls), shared_(shared), timer_(stream_.get_executor()) {
    init();
  }
  ~Connection() {
    --shared_.connections;
    if (streaming_) {
      --shared_.event_streams;
    }
  }

  void start() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(io_timeout);
      stream_.async_handshake(net::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  return self->close(); // not TLS, or a failed handshake
                                }
                                self->do_read();
                              });
    } else {
      do_read();
    }
  }

private:
  void init() {
    ++shared_.connections;
    beast::error_code ec;
    const auto remote = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    peer_ = ec ? std::string("?") : remote.address().to_string();
  }

  void do_read() {
    parser_.emplace();
    parser_->header_limit(header_limit);
    parser_->body_limit(body_limit);
    beast::get_lowest_layer(stream_).expires_after(io_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::eof || ec == net::ssl::error::stream_truncated) {
      return close();
    }
    if (ec) {
      // Oversized or malformed requests get an answer, then the connection closes.
      const bool too_large = ec == http::error::header_limit || ec == http::error::body_limit ||
                             ec == http::error::buffer_overflow;
      Response r{too_large ? 413u : 400u,
                 "text/plain; charset=utf-8",
                 too_large ? "request too large\n" : "bad request\n",
                 {}};
      return send(std::move(r), false, false);
    }
    const auto& request = parser_->get();
    const bool keep_alive = request.keep_alive();
    const bool head = request.method() == http::verb::head;
    const std::string_view target(request.target().data(), request.target().size());
    const auto cookie_field = request[http::field::cookie];
    const std::string_view cookie(cookie_field.data(), cookie_field.size());
    if (target == "/events" && request.method() == http::verb::get &&
        shared_.site.authorized(cookie)) {
      cookie_ = cookie; // each poll asks for this account's counters, while its session lasts
      return start_events();
    }
    const std::string_view method(request.method_string().data(), request.method_string().size());
    const auto authorization_field = request[http::field::authorization];
    const std::string_view authorization(authorization_field.data(), authorization_field.size());
    Request site_request{
        method, target, cookie, authorization, request.body(), peer_, shared_.tls != nullptr};
    send(shared_.site.handle(site_request), keep_alive, head);
  }

  void send(Response r, bool keep_alive, bool head) {
    auto response = std::make_shared<http::response<http::string_body>>();
    response->version(11);
    response->result(r.status);
    response->set(http::field::server, "acctlab");
    response->set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : security_headers()) {
      response->set(name, value);
    }
    for (const auto& [name, value] : r.headers) {
      response->set(name, value);
    }
    response->keep_alive(keep_alive);
    const auto length = r.body.size();
    if (!head) {
      response->body() = std::move(r.body);
    }
    response->content_length(length);
    beast::get_lowest_layer(stream_).expires_after(io_timeout);
    http::async_write(
        stream_, *response,
        [self = this->shared_from_this(), response, keep_alive](beast::error_code ec, std::size_t) {
          if (ec || !keep_alive) {
            return self->close();
          }
          self->do_read();
        });
  }

  // Server-sent events (HTML Living Standard §9.2): a text/event-stream response whose end is
  // the end of the connection. Every poll asks the site whether PRAGMA data_version moved.
  void start_events() {
    if (shared_.event_streams.fetch_add(1) >= shared_.options.max_event_streams) {
      --shared_.event_streams;
      return send(Response{503, "text/plain; charset=utf-8", "too many event streams\n", {}}, false,
                  false);
    }
    streaming_ = true;
    deadline_ = std::chrono::steady_clock::now() + shared_.options.event_stream_lifetime;
    std::string head = "HTTP/1.1 200 OK\r\nServer: acctlab\r\nContent-Type: text/event-stream\r\n"
                       "Connection: close\r\n";
    for (const auto& [name, value] : security_headers()) {
      head += name + ": " + value + "\r\n";
    }
    if (shared_.tls) {
      head += "Strict-Transport-Security: max-age=31536000\r\n";
    }
    head += "\r\nretry: 2000\n\n";
    write_event(std::move(head));
  }

  void write_event(std::string text) {
    auto data = std::make_shared<std::string>(std::move(text));
    beast::get_lowest_layer(stream_).expires_after(io_timeout);
    net::async_write(stream_, net::buffer(*data),
                     [self = this->shared_from_this(), data](beast::error_code ec, std::size_t) {
                       if (ec) {
                         return self->close();
                       }
                       self->poll();
                     });
  }

  void poll() {
    if (std::chrono::steady_clock::now() >= deadline_) {
      return close();
    }
    if (auto update = shared_.site.live_update(version_, cookie_)) {
      version_ = update->first;
      idle_polls_ = 0;
      return write_event("event: counters\nid: " + std::to_string(update->first) +
                         "\ndata: " + update->second + "\n\n");
    }
    // A comment now and then finds clients that went away (the write fails).
    if (++idle_polls_ >= 15) {
      idle_polls_ = 0;
      return write_event(": keep-alive\n\n");
    }
    timer_.expires_after(shared_.options.poll_interval);
    timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec) {
        return self->close();
      }
      self->poll();
    });
  }

  void close() {
    beast::error_code ignored;
    auto& socket = beast::get_lowest_layer(stream_).socket();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  Stream stream_;
  std::string peer_;
  std::string cookie_;
  beast::flat_buffer buffer_{header_limit + body_limit};
  std::optional<http::request_parser<http::string_body>> parser_;
  Shared& shared_;
  net::steady_timer timer_;
  bool streaming_ = false;
  std::int64_t version_ = -1;
  int idle_polls_ = 0;
  std::chrono::steady_clock::time_point deadline_{};
};

} // namespace

struct HttpServer::Impl {
  Impl(Site& site, ServerOptions opts)
      : shared{site, std::move(opts)}, acceptor(ioc), signals(ioc) {
    if (!shared.options.tls_cert.empty() || !shared.options.tls_key.empty()) {
      shared.tls = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
      shared.tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                              net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                              net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
      shared.tls->use_certificate_chain_file(shared.options.tls_cert); // throws, naming why
      shared.tls->use_private_key_file(shared.options.tls_key, net::ssl::context::pem);
    }
    beast::error_code ec;
    const auto address = net::ip::make_address(shared.options.address, ec);
    const tcp::endpoint endpoint(address, shared.options.port);
    if (!ec) {
      acceptor.open(endpoint.protocol(), ec);
    }
    if (!ec) {
      acceptor.set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
      acceptor.bind(endpoint, ec);
    }
    if (!ec) {
      acceptor.listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      throw std::system_error(ec, "cannot listen on " + shared.options.address + " port " +
                                      std::to_string(shared.options.port));
    }
  }

  void do_accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) {
        return;
      }
      if (!ec) {
        if (shared.connections.load() >= shared.options.max_connections) {
          beast::error_code ignored;
          socket.close(ignored);
        } else if (shared.tls) {
          std::make_shared<Connection<TlsStream>>(std::move(socket), shared)->start();
        } else {
          std::make_shared<Connection<beast::tcp_stream>>(std::move(socket), shared)->start();
        }
      }
      do_accept();
    });
  }

  void wait_signal() {
    signals.async_wait([this](beast::error_code ec, int signal) {
      if (ec) {
        return;
      }
      if (signal == SIGHUP) {
        shared.options.on_hangup();
        return wait_signal();
      }
      ioc.stop();
    });
  }

  Shared shared;
  net::io_context ioc;
  tcp::acceptor acceptor;
  net::signal_set signals;
  std::vector<std::thread> threads;
  bool started = false;
};

HttpServer::HttpServer(Site& site, ServerOptions options)
    : impl_(std::make_unique<Impl>(site, std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
}

std::uint16_t HttpServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

void HttpServer::start() {
  if (impl_->started) {
    return;
  }
  impl_->started = true;
  impl_->do_accept();
  const int n = std::max(1, impl_->shared.options.threads);
  for (int i = 0; i < n; ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
}

void HttpServer::run(bool handle_signals) {
  if (handle_signals) {
    impl_->signals.add(SIGINT);
    impl_->signals.add(SIGTERM);
    if (impl_->shared.options.on_hangup) {
      impl_->signals.add(SIGHUP);
    }
    impl_->wait_signal();
  }
  start();
  for (auto& t : impl_->threads) {
    if (t.joinable()) {
      t.join();
    }
  }
}

void HttpServer::stop() {
  if (!impl_) {
    return;
  }
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) {
      t.join();
    }
  }
  impl_->threads.clear();
}

} // namespace acctlab::web
