// acctlab serve --web: the accounting server and the report viewer over one database, as a lab
// runs them: a record sent over UDP shows up in the viewer's JSON while the server keeps running.

#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"
#include "tests/support/loopback_socket.hpp"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace acctlab;

namespace {

std::string http_request(std::uint16_t port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    (void)!write(fd, request.data(), request.size());
    char buffer[4096];
    for (int i = 0; i < 1000; ++i) {
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n <= 0) {
        break;
      }
      reply.append(buffer, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  return reply;
}

std::string http_get(std::uint16_t port, const std::string& path, const std::string& cookie = {}) {
  return http_request(port, "GET " + path +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: " + "close\r\n" +
                                (cookie.empty() ? "" : "Cookie: " + cookie + "\r\n") + "\r\n");
}

/** Sends from source (a loopback address: 127.0.0.1 or another of 127.0.0.0/8). */
bool send_and_wait_answer(std::uint16_t port, const radius::Octets& wire,
                          const char* source = "127.0.0.1") {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source, &from.sin_addr);
  bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from);
  timeval timeout{0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool answered = false;
  for (int attempt = 0; attempt < 50 && !answered; ++attempt) {
    sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    std::uint8_t reply[64];
    answered = recv(fd, reply, sizeof reply, 0) >= 20 && reply[0] == 5;
  }
  close(fd);
  return answered;
}

} // namespace

TEST_CASE("serve --web shows what the server stored", "[cli][serve][web]") {
  char dir_template[] = "/tmp/acctlab-serve-web-XXXXXX";
  REQUIRE(mkdtemp(dir_template));
  const std::string db = std::string(dir_template) + "/acct.db";
  const auto udp = test::free_loopback_port(SOCK_DGRAM);
  const auto tcp = test::free_loopback_port(SOCK_STREAM);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const std::string binary = std::string(ACCTLAB_BINARY_DIR) + "/acctlab";
    const std::string listen = "127.0.0.1:" + std::to_string(udp);
    const std::string web = "127.0.0.1:" + std::to_string(tcp);
    execl(binary.c_str(), binary.c_str(), "serve", "--listen", listen.c_str(), "--db", db.c_str(),
          "--web", web.c_str(), "--stats", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  auto packet = radius::parse_packet_text(
      R"(Accounting-Request id=7 { Acct-Session-Id = "web-00000001", User-Name = "joe@cclient", Acct-Status-Type = Start, NAS-IP-Address = 127.0.0.1 })",
      radius::Dictionary::builtin());
  REQUIRE(packet);
  auto wire = radius::encode_packet(*packet, radius::Dictionary::builtin());
  radius::sign_request(wire, "testing123");
  CHECK(send_and_wait_answer(udp, wire));

  std::string page;
  for (int i = 0; i < 50 && page.find("web-00000001") == std::string::npos; ++i) {
    page = http_get(tcp, "/api/sessions");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(page);
  CHECK(page.starts_with("HTTP/1.1 200"));
  CHECK(page.find("web-00000001") != std::string::npos);
  CHECK(page.find("joe@cclient") != std::string::npos);

  kill(child, SIGTERM);
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::filesystem::remove_all(dir_template);
}

TEST_CASE("serve --web: an operator sees its group's NAS, and the groups follow SIGHUP",
          "[cli][serve][web][operator]") {
  char dir_template[] = "/tmp/acctlab-serve-operator-XXXXXX";
  REQUIRE(mkdtemp(dir_template));
  const std::string dir = dir_template;
  const std::string binary = std::string(ACCTLAB_BINARY_DIR) + "/acctlab";
  const auto write_clients = [&](const char* first, const char* second) {
    FILE* f = std::fopen((dir + "/clients.conf").c_str(), "w");
    std::fprintf(f,
                 "client one {\n ipaddr = 127.0.0.1\n secret = testing123\n group = %s\n}\n"
                 "client two {\n ipaddr = 127.0.0.2\n secret = testing123\n group = %s\n}\n",
                 first, second);
    std::fclose(f);
  };
  write_clients("east", "west");
  REQUIRE(std::system(("printf 'password3\\n' | " + binary + " users add wes --role operator " +
                       "--nas-group west --accounts " + dir + "/viewer.accounts 2>/dev/null")
                          .c_str()) == 0);
  const auto udp = test::free_loopback_port(SOCK_DGRAM);
  const auto tcp = test::free_loopback_port(SOCK_STREAM);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const std::string listen = "127.0.0.1:" + std::to_string(udp);
    const std::string web = "127.0.0.1:" + std::to_string(tcp);
    const std::string db = dir + "/acct.db";
    const std::string clients = dir + "/clients.conf";
    const std::string accounts = dir + "/viewer.accounts";
    execl(binary.c_str(), binary.c_str(), "serve", "--listen", listen.c_str(), "--db", db.c_str(),
          "--clients", clients.c_str(), "--web", web.c_str(), "--web-accounts", accounts.c_str(),
          "--stats", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  // One NAS behind each client: a Start from 127.0.0.1 and one from 127.0.0.2.
  for (const auto& [source, session] :
       {std::pair{"127.0.0.1", "east-000001"}, std::pair{"127.0.0.2", "west-000001"}}) {
    auto packet =
        radius::parse_packet_text(std::string("Accounting-Request id=9 { Acct-Session-Id = \"") +
                                      session + "\", User-Name = \"" + session +
                                      "@lab\", Acct-Status-Type = Start, "
                                      "NAS-Identifier = \"nas-" +
                                      session + "\" }",
                                  radius::Dictionary::builtin());
    REQUIRE(packet);
    auto wire = radius::encode_packet(*packet, radius::Dictionary::builtin());
    radius::sign_request(wire, "testing123");
    CHECK(send_and_wait_answer(udp, wire, source));
  }
  const std::string body = "user=wes&password=password3";
  const auto login = http_request(
      tcp, "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: "
           "application/x-www-form-urlencoded\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
  const auto at = login.find("acctlab_session=");
  REQUIRE(at != std::string::npos);
  const auto cookie = login.substr(at, login.find(';', at) - at);
  std::string sessions;
  for (int i = 0; i < 50 && sessions.find("west-000001") == std::string::npos; ++i) {
    sessions = http_get(tcp, "/api/sessions", cookie);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(sessions);
  CHECK(sessions.find("west-000001") != std::string::npos);
  CHECK(sessions.find("east-000001") == std::string::npos);

  // The groups trade clients; the server's reload hands the new groups to its viewer.
  write_clients("west", "east");
  kill(child, SIGHUP);
  for (int i = 0; i < 50 && sessions.find("east-000001") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    sessions = http_get(tcp, "/api/sessions", cookie);
  }
  CHECK(sessions.find("east-000001") != std::string::npos);
  CHECK(sessions.find("west-000001") == std::string::npos);

  kill(child, SIGTERM);
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::filesystem::remove_all(dir);
}
