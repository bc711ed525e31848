// Runs the data-driven packet vectors in tests/vectors/*.vec. Commands:
//   dictionary builtin | PATH      (PATH relative to the vector file)
//   secret S | -                   (- : encode without signing)
//   encode <text form>             then: expect <hex>
//   decode <hex> | -               (- : the previous encode's output) then:
//                                  expect <one-line text> | expect error <decode_error_name>
//   count N                        (the number of encode/decode cases in the file so far)
// Every successful encode is decoded again and must equal the parsed packet (round trip).

#include "radius/authenticator.hpp"
#include "radius/dictionary_parser.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"
#include "radius/value.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>

namespace fs = std::filesystem;
using namespace acctlab::radius;

namespace {

std::string strip(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) {
    s.pop_back();
  }
  return s;
}

std::string hex_only(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

void run_file(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::unique_ptr<Dictionary> owned;
  const Dictionary* dict = &Dictionary::builtin();
  std::string secret;
  Octets last_output;
  std::string pending; // "encode" or "decode": which expect comes next
  std::string last_text;
  int cases = 0;
  bool counted = false;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = strip(line);
    if (line.empty() || line[0] == '#') {
      continue;
    }
    const auto space = line.find(' ');
    const std::string command = line.substr(0, space);
    std::string argument = space == std::string::npos ? "" : line.substr(space + 1);
    while (!argument.empty() && argument.front() == ' ') {
      argument.erase(0, 1);
    }
    INFO(path.filename().string() << ":" << number << ": " << line);
    if (command == "dictionary") {
      if (argument == "builtin") {
        dict = &Dictionary::builtin();
      } else {
        auto loaded = load_dictionary((path.parent_path() / argument).string());
        INFO((loaded ? "" : loaded.error().to_string()));
        REQUIRE(loaded);
        owned = std::make_unique<Dictionary>(std::move(loaded).value());
        dict = owned.get();
      }
    } else if (command == "secret") {
      secret = argument == "-" ? "" : argument;
    } else if (command == "encode") {
      ++cases;
      auto packet = parse_packet_text(argument, *dict);
      INFO((packet ? "" : packet.error().message));
      REQUIRE(packet);
      auto encoded = try_encode_packet(*packet, *dict);
      INFO((encoded ? "" : encoded.error().message()));
      REQUIRE(encoded);
      last_output = *encoded;
      if (!secret.empty()) {
        sign_request(last_output, secret);
      }
      // Round trip: decode(encode(p)) == p, the authenticator aside when signing set it.
      auto again = decode_packet(last_output, *dict);
      REQUIRE(again);
      auto expected = *packet;
      expected.set_authenticator(again->authenticator());
      CHECK(*again == expected);
      pending = "encode";
    } else if (command == "decode") {
      ++cases;
      Octets wire = last_output;
      if (argument != "-") {
        auto octets = from_hex(hex_only(argument));
        REQUIRE(octets);
        wire = *octets;
      }
      auto packet = decode_packet(wire, *dict);
      last_text =
          packet ? render_packet(*packet, *dict, {.show_authenticator = false, .one_line = true})
                 : "error " + std::string(to_string(packet.error().error));
      if (packet) {
        // And the other way: a decoded packet encodes back to the same octets (up to Length).
        const std::size_t length = (std::size_t{wire[2]} << 8) | wire[3];
        auto encoded = try_encode_packet(*packet, *dict);
        INFO((encoded ? "" : encoded.error().message()));
        REQUIRE(encoded);
        CHECK(to_hex(*encoded) == to_hex(std::span(wire).first(length)));
      }
      pending = "decode";
    } else if (command == "expect") {
      REQUIRE(!pending.empty());
      if (pending == "encode") {
        CHECK(to_hex(last_output) == hex_only(argument));
      } else {
        CHECK(last_text == argument);
      }
      pending.clear();
    } else if (command == "count") {
      CHECK(std::to_string(cases) == argument);
      counted = true;
    } else {
      FAIL("unknown vector command " << command);
    }
  }
  INFO(path.filename().string() << " must end with a count line");
  CHECK(counted);
}

} // namespace

TEST_CASE("packet vectors", "[radius][vectors]") {
  const fs::path dir = fs::path(ACCTLAB_SOURCE_DIR) / "tests" / "vectors";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".vec") {
      SECTION(entry.path().filename().string()) {
        run_file(entry.path());
      }
      ++files;
    }
  }
  CHECK(files >= 3);
}
