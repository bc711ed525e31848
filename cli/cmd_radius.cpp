// acctlab decode | encode | dict: the protocol core on the command line.

#include "cli/command_registry.hpp"
#include "cli/dictionary_option.hpp"
#include "cli/exit_status.hpp"
#include "radius/authenticator.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"
#include "radius/value.hpp"

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace acctlab::cli {
namespace {

std::string read_all(std::istream& in) {
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Accepts hex with or without spaces/colons/0x, or a raw binary file.
radius::Octets read_packet_input(const std::string& input, bool raw_file) {
  std::string data;
  if (raw_file) {
    std::ifstream file(input, std::ios::binary);
    if (!file) {
      throw std::runtime_error("cannot read " + input);
    }
    data = read_all(file);
    return radius::Octets(data.begin(), data.end());
  }
  data = input == "-" ? read_all(std::cin) : input;
  std::string digits;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const char c = data[i];
    if (c == '0' && i + 1 < data.size() && (data[i + 1] == 'x' || data[i + 1] == 'X')) {
      ++i;
    } else if (std::isxdigit(static_cast<unsigned char>(c))) {
      digits += c;
    } else if (!std::isspace(static_cast<unsigned char>(c)) && c != ':' && c != '-') {
      throw std::runtime_error(std::string("not a hex digit: '") + c + "'");
    }
  }
  auto octets = radius::from_hex(digits);
  if (!octets) {
    throw std::runtime_error("odd number of hex digits");
  }
  return *octets;
}

void install_decode(CLI::App& app, int& exit_code) {
  struct Options {
    std::string input;
    bool file = false;
    std::string secret;
    std::string request_authenticator;
    std::string dictionary;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("decode", "Decode a RADIUS packet from hex (or a raw file)");
  cmd->add_option("input", options->input, "Hex octets, '-' for stdin, or a file with --file")
      ->required();
  cmd->add_flag("--file", options->file, "INPUT is a file holding the raw packet");
  cmd->add_option("--secret", options->secret, "Shared secret: verify the authenticators");
  cmd->add_option("--request-authenticator", options->request_authenticator,
                  "For a response: the request's authenticator (32 hex digits)");
  add_dictionary_option(*cmd, options->dictionary);
  cmd->footer("Exit status (docs/cli.md): 0 decoded (and every authenticator checked is valid), "
              "1 an authenticator is invalid, 2 bad usage or a malformed packet.\n"
              "Example: acctlab decode 0404001e... --secret testing123");
  cmd->callback([options, &exit_code] {
    const auto& dict = resolve_dictionary(options->dictionary);
    const auto wire = read_packet_input(options->input, options->file);
    auto packet = radius::decode_packet(wire, dict);
    if (!packet) {
      std::cerr << "acctlab decode: malformed packet: " << packet.error().message() << '\n';
      exit_code = exit_status::usage;
      return;
    }
    std::cout << radius::render_packet(*packet, dict);
    if (options->secret.empty()) {
      return;
    }
    const auto code = packet->code();
    bool valid = true;
    if (code == radius::Code::accounting_request || code == radius::Code::coa_request ||
        code == radius::Code::disconnect_request) {
      valid = radius::verify_request_authenticator(wire, options->secret);
      std::cout << "# Request Authenticator: " << (valid ? "valid" : "INVALID") << '\n';
    } else if (!options->request_authenticator.empty()) {
      auto octets = radius::from_hex(options->request_authenticator);
      if (!octets || octets->size() != 16) {
        throw std::runtime_error("--request-authenticator needs 32 hex digits");
      }
      radius::Authenticator request{};
      std::copy(octets->begin(), octets->end(), request.begin());
      valid = radius::verify_response_authenticator(wire, request, options->secret);
      std::cout << "# Response Authenticator: " << (valid ? "valid" : "INVALID") << '\n';
    } else if (code != radius::Code::access_request && code != radius::Code::status_server) {
      std::cout << "# Response Authenticator: not checked (needs --request-authenticator)\n";
    }
    radius::Authenticator request{};
    const radius::Authenticator* request_ptr = nullptr;
    if (auto octets = radius::from_hex(options->request_authenticator);
        octets && octets->size() == 16) {
      std::copy(octets->begin(), octets->end(), request.begin());
      request_ptr = &request;
    }
    const auto ma = radius::check_message_authenticator(wire, options->secret, request_ptr);
    if (ma != radius::MessageAuthenticatorCheck::absent) {
      std::cout << "# Message-Authenticator: " << radius::to_string(ma) << '\n';
      valid = valid && ma == radius::MessageAuthenticatorCheck::valid;
    }
    exit_code = valid ? exit_status::ok : exit_status::failed;
  });
}

void install_encode(CLI::App& app, int& exit_code) {
  struct Options {
    std::string input = "-";
    std::string secret;
    std::string request_authenticator;
    std::string dictionary;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("encode", "Encode a packet from its text form to hex");
  cmd->add_option("input", options->input, "Text form, or '-' (default) for stdin");
  cmd->add_option("--secret", options->secret,
                  "Shared secret: compute the authenticator and Message-Authenticator");
  cmd->add_option("--request-authenticator", options->request_authenticator,
                  "Sign as a response to a request with this authenticator");
  add_dictionary_option(*cmd, options->dictionary);
  cmd->footer(
      R"(Example: acctlab encode 'Accounting-Request id=4 { Acct-Session-Id = "00000001", Acct-Status-Type = Start }' --secret testing123)");
  cmd->callback([options, &exit_code] {
    const auto& dict = resolve_dictionary(options->dictionary);
    const std::string text = options->input == "-" ? read_all(std::cin) : options->input;
    auto packet = radius::parse_packet_text(text, dict);
    if (!packet) {
      std::cerr << "acctlab encode: line " << packet.error().line << ": " << packet.error().message
                << '\n';
      exit_code = exit_status::usage;
      return;
    }
    // Each attribute fits its length octet (the text form checks that, naming the line), but
    // their sum may not fit a packet: RFC 2865 §3 caps the Length field at 4096.
    auto encoded = radius::try_encode_packet(*packet, dict);
    if (!encoded) {
      std::cerr << "acctlab encode: " << encoded.error().message() << '\n';
      exit_code = exit_status::usage;
      return;
    }
    auto wire = std::move(encoded).value();
    if (!options->secret.empty()) {
      if (!options->request_authenticator.empty()) {
        auto octets = radius::from_hex(options->request_authenticator);
        if (!octets || octets->size() != 16) {
          throw std::runtime_error("--request-authenticator needs 32 hex digits");
        }
        radius::Authenticator request{};
        std::copy(octets->begin(), octets->end(), request.begin());
        radius::sign_response(wire, request, options->secret);
      } else {
        radius::sign_request(wire, options->secret);
      }
    }
    std::cout << radius::to_hex(wire) << '\n';
  });
}

void install_dict(CLI::App& app, int& exit_code) {
  struct Options {
    std::string query;
    std::string dictionary;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("dict", "Look up an attribute by name or number");
  cmd->add_option("attribute", options->query,
                  "A name (Acct-Status-Type), a number (40) or vendor.number (26.9.1)")
      ->required();
  add_dictionary_option(*cmd, options->dictionary);
  cmd->callback([options, &exit_code] {
    const auto& dict = resolve_dictionary(options->dictionary);
    const radius::AttributeDef* def = dict.find(options->query);
    if (!def) {
      std::uint32_t vendor = 0;
      std::uint32_t number = 0;
      const std::string& q = options->query;
      if (q.starts_with("26.") && std::sscanf(q.c_str(), "26.%u.%u", &vendor, &number) == 2) {
        def = dict.find(radius::AttrKey{vendor, number});
      } else if (std::sscanf(q.c_str(), "%u", &number) == 1 &&
                 q.find_first_not_of("0123456789") == std::string::npos) {
        def = dict.find(radius::AttrKey{0, number});
      }
    }
    if (!def) {
      std::cerr << "acctlab dict: no attribute \"" << options->query << "\"\n";
      exit_code = exit_status::usage;
      return;
    }
    std::cout << "name:   " << def->name << '\n';
    std::cout << "number: " << (def->oid.empty() ? std::to_string(def->number) : def->oid) << '\n';
    if (def->vendor) {
      const auto* vendor = dict.vendor(def->vendor);
      std::cout << "vendor: " << (vendor ? vendor->name : "?") << " (" << def->vendor << ")\n";
    }
    std::cout << "type:   " << radius::type_name(def->type) << '\n';
    if (def->has_tag || def->array || def->concat || def->encrypt) {
      std::cout << "flags: " << (def->has_tag ? " has_tag" : "") << (def->array ? " array" : "")
                << (def->concat ? " concat" : "")
                << (def->encrypt ? " encrypt=" + std::to_string(def->encrypt) : "") << '\n';
    }
    std::cout << "source: " << def->file << ':' << def->line << '\n';
    for (const auto& [number, name] : def->values) {
      std::cout << "value:  " << name << " = " << number << '\n';
    }
  });
}

const RegisterCommand decode_registration{10, install_decode};
const RegisterCommand encode_registration{11, install_encode};
const RegisterCommand dict_registration{12, install_dict};

} // namespace
} // namespace acctlab::cli
