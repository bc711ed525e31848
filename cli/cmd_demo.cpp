// acctlab demo: the README's main job. For now it encodes the Start record of the feature
// document's `debug radius` example, decodes it back, verifies it, and prints it as IOS does.

#include "cli/command_registry.hpp"
#include "radius/authenticator.hpp"
#include "radius/ios_debug.hpp"
#include "radius/packet_codec.hpp"
#include "radius/text_form.hpp"

#include <iostream>

namespace acctlab::cli {
namespace {

// The feature document's account start record (debug radius, id 4, len 220).
constexpr const char* document_start = R"(Accounting-Request id=4 {
  Acct-Session-Id = "00000001"
  Cisco-AVPair = "isakmp-group-id=cclient"
  Framed-IP-Address = 10.13.13.1
  Cisco-AVPair = "vrf-id=cisco"
  Cisco-AVPair = "isakmp-initator-ip=11.1.2.2"
  Cisco-AVPair = "connect-progress=No Progress"
  User-Name = "joe@cclient"
  Acct-Status-Type = Start
  Cisco-NAS-Port = "FastEthernet0/0.1"
  NAS-Port = 0
  NAS-IP-Address = 10.1.1.147
  Acct-Delay-Time = 0
})";

void install_demo(CLI::App& app, int& exit_code) {
  auto secret = std::make_shared<std::string>("testing123");
  auto* cmd = app.add_subcommand("demo", "Run the lab demo");
  cmd->add_option("--secret", *secret, "Shared secret for the demo records");
  cmd->callback([secret, &exit_code] {
    const auto& dict = radius::Dictionary::builtin();
    auto packet = radius::parse_packet_text(document_start, dict);
    if (!packet) {
      std::cerr << "acctlab demo: " << packet.error().message << '\n';
      exit_code = 1;
      return;
    }
    auto wire = radius::encode_packet(*packet, dict);
    radius::sign_request(wire, *secret);
    auto decoded = radius::decode_packet(wire, dict);
    if (!decoded) {
      std::cerr << "acctlab demo: " << decoded.error().message() << '\n';
      exit_code = 1;
      return;
    }
    std::cout << "RADIUS(00000001): Encoded Accounting-Request id "
              << unsigned{decoded->identifier()} << ", len " << wire.size() << '\n';
    for (const auto& line : radius::ios_debug_lines(*decoded, dict)) {
      std::cout << line << '\n';
    }
    const bool valid = radius::verify_request_authenticator(wire, *secret);
    auto unsigned_copy = *decoded;
    unsigned_copy.set_authenticator(packet->authenticator());
    const bool same = unsigned_copy == *packet;
    std::cout << "\nRequest Authenticator (secret \"" << *secret
              << "\"): " << (valid ? "valid" : "INVALID") << '\n'
              << "Decoded packet equals the encoded one: " << (same ? "yes" : "NO") << '\n';
    exit_code = valid && same ? 0 : 1;
  });
}

const RegisterCommand demo_registration{1, install_demo};

} // namespace
} // namespace acctlab::cli
