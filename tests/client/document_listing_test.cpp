// The reference gateway against the feature document's own text: `acctlab gateway` plays
// client/scenarios/document-debug.scn, as a user runs it, against a recording RADIUS server on
// loopback that holds the document's secret (`radius-server key nsite`), and each record that
// arrived is compared, attribute by attribute, with the `debug radius` listing parsed from the
// document (/work/shared/seed, not a copy typed in here).

#include "client/debug_radius.hpp"
#include "radius/authenticator.hpp"
#include "tests/client/loopback_responder.hpp"
#include "tests/support/run_command.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

using namespace acctlab::gateway;
using acctlab::test::LoopbackResponder;
using acctlab::test::Received;
using acctlab::test::run_acctlab;
using acctlab::test::wire_attributes;
using acctlab::test::WireAttribute;

namespace {

std::string scenarios() {
  return std::string(ACCTLAB_SOURCE_DIR) + "/client/scenarios/";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/** The printed value of a listed attribute in the wire's terms: "Start [1]" is 1. */
std::string listed_value(const ListedAttribute& a) {
  const auto open = a.value.rfind('[');
  if (open != std::string::npos && a.value.back() == ']') {
    return a.value.substr(open + 1, a.value.size() - open - 2);
  }
  return a.value;
}

/** A wire attribute's value as IOS prints it (text, dotted address or decimal). */
std::string wire_value(const WireAttribute& a) {
  if (a.vendor != 0 || a.type == 1 || a.type == 44) {
    return a.text();
  }
  if ((a.type == 4 || a.type == 8) && a.value.size() == 4) {
    return std::to_string(a.value[0]) + "." + std::to_string(a.value[1]) + "." +
           std::to_string(a.value[2]) + "." + std::to_string(a.value[3]);
  }
  return std::to_string(a.integer());
}

bool is_text(const ListedAttribute& a) {
  return a.vendor_length || a.type == 1 || a.type == 44;
}

const ListedAttribute* listed(const ListedRequest& r, unsigned type) {
  for (const auto& a : r.attributes) {
    if (a.type == type && !a.vendor_length) {
      return &a;
    }
  }
  return nullptr;
}

std::string session_of(const std::vector<WireAttribute>& attributes) {
  for (const auto& a : attributes) {
    if (a.type == 44 && a.vendor == 0) {
      return a.text();
    }
  }
  return {};
}

std::uint32_t status_of(const std::vector<WireAttribute>& attributes) {
  for (const auto& a : attributes) {
    if (a.type == 40 && a.vendor == 0) {
      return a.integer();
    }
  }
  return 0;
}

/** The month of a stamp: "*Aug 23 04:06:20.135" is "*Aug". */
std::string month(const std::string& stamp) {
  return stamp.substr(0, stamp.find(' '));
}

/** wire with the attributes of the given types left out, its Length fixed. */
std::vector<std::uint8_t> without(const std::vector<std::uint8_t>& wire,
                                  const std::vector<unsigned>& types) {
  std::vector<std::uint8_t> out(wire.begin(), wire.begin() + 20);
  for (std::size_t i = 20; i + 2 <= wire.size() && wire[i + 1] >= 2;) {
    const std::size_t length = wire[i + 1];
    if (std::find(types.begin(), types.end(), wire[i]) == types.end()) {
      out.insert(out.end(), wire.begin() + static_cast<long>(i),
                 wire.begin() + static_cast<long>(i + length));
    }
    i += length;
  }
  out[2] = static_cast<std::uint8_t>(out.size() >> 8);
  out[3] = static_cast<std::uint8_t>(out.size());
  return out;
}

/** The Request Authenticator wire gets with the listing's Identifier, as hex. */
std::string signed_as(std::vector<std::uint8_t> wire, unsigned identifier,
                      const std::string& secret) {
  wire[1] = static_cast<std::uint8_t>(identifier);
  acctlab::radius::sign_request(wire, secret);
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string hex;
  for (std::size_t i = 4; i < 20; ++i) {
    hex += digits[wire[i] >> 4];
    hex += digits[wire[i] & 15];
  }
  return hex;
}

} // namespace

TEST_CASE("document-debug sends the document's three listed records", "[client][fidelity]") {
  const std::string document_path = ACCTLAB_SEED_DOCUMENT;
  INFO("the feature document: " << document_path
                                << " (cmake -DACCTLAB_SEED_DOCUMENT=PATH names another copy)");
  REQUIRE(std::filesystem::is_regular_file(document_path));
  const auto listings = parse_debug_radius(read_text(document_path));
  // The Start of 00000001, the Stop of 00000002, the Interim-Update ("Watchdog") of 00000003.
  REQUIRE(listings.size() == 3);

  // As a new user runs it: the configuration's own key (nsite), no --secret.
  LoopbackResponder server("nsite");
  const auto run = run_acctlab("gateway --config " + scenarios() + "document-debug.cfg " +
                               "--scenario " + scenarios() + "document-debug.scn --server " +
                               server.address() + " --debug radius");
  INFO(run.output.substr(0, 4000));
  REQUIRE(run.status == 0);
  const auto received = server.received();
  // Five records: the three listed, and the Starts of sessions 00000002 and 00000003.
  CHECK(received.size() == 5);
  const auto ours = parse_debug_radius(run.output);

  for (const auto& listing : listings) {
    const auto* id = listed(listing, 44);
    const auto* status = listed(listing, 40);
    REQUIRE(id);
    REQUIRE(status);
    const std::string which = status->value + " of session " + id->value;
    INFO(which);
    const Received* got = nullptr;
    for (const auto& r : received) {
      const auto attributes = wire_attributes(r.wire);
      if (session_of(attributes) == id->value &&
          std::to_string(status_of(attributes)) == listed_value(*status)) {
        CHECK(got == nullptr); // once: nothing was retransmitted
        got = &r;
      }
    }
    REQUIRE(got != nullptr);
    CHECK(got->authentic);

    // The printed length against the printed attributes: 20 octets of header plus their
    // lengths (a VSA counts with its Vendor-Specific header).
    const std::size_t listed_sum =
        std::accumulate(listing.attributes.begin(), listing.attributes.end(), std::size_t{20},
                        [](std::size_t sum, const ListedAttribute& a) {
                          return sum + a.vendor_length.value_or(a.length);
                        });
    // Lines stamped with another month than the Send line's were pasted in (the Stop's two
    // "*Apr 23" gigaword lines among "*Aug 23").
    std::vector<unsigned> pasted;
    std::size_t pasted_octets = 0;
    for (const auto& a : listing.attributes) {
      if (month(a.stamp) != month(listing.attributes.front().stamp)) {
        pasted.push_back(a.type);
        pasted_octets += a.vendor_length.value_or(a.length);
      }
    }
    if (listing.length == listed_sum) {
      CHECK(got->wire.size() == listing.length);
      CHECK(pasted.empty());
    } else {
      // The Stop: "len 238", yet its lines add up to 250; the difference is the two pasted
      // gigaword lines (238 + 6 + 6 = 250). A packet has one length: ours carries every printed
      // line (the listing and Table 2 name the gigawords), so it is the sum.
      INFO("printed len " << listing.length << ", printed lines " << listed_sum << ", pasted "
                          << pasted_octets);
      CHECK(listing.length + pasted_octets == listed_sum);
      CHECK(got->wire.size() == listed_sum);
    }

    // Attribute by attribute, in order: type, lengths, value.
    const auto attributes = wire_attributes(got->wire);
    REQUIRE(attributes.size() == listing.attributes.size());
    for (std::size_t i = 0; i < attributes.size(); ++i) {
      const auto& want = listing.attributes[i];
      const auto& have = attributes[i];
      INFO("attribute " << i + 1 << ": " << want.name << " [" << want.type << "] " << want.length
                        << " \"" << want.value << "\"");
      if (want.vendor_length) {
        CHECK(have.type == 26);
        CHECK(have.vendor == 9);
        CHECK(have.vendor_type == want.type);
        CHECK(have.length == *want.vendor_length);
        CHECK(have.sub_length == want.length);
      } else {
        CHECK(have.type == want.type);
        CHECK(have.length == want.length);
      }
      constexpr std::size_t header = 2; // type and length, as a Cisco sub-attribute has too
      if (is_text(want) && want.value.size() + header != want.length) {
        // The Interim prints "isakmp-initiator-ip=11.1.1.2" (28 octets) with length 29 (and
        // 35 for its VSA, 200 for the packet): 28 + 2 = 30, one more than printed. 29 octets
        // hold IOS's "isakmp-initator-ip=11.1.1.2", the spelling the Start and Stop print.
        CHECK(have.text() == "isakmp-initator-ip=11.1.1.2");
        CHECK(have.text().size() + header == want.length);
      } else {
        CHECK(wire_value(have) == listed_value(want));
      }
    }

    // The gateway's own debug output names the record with the listing's AAA context.
    const auto mine = std::find_if(ours.begin(), ours.end(), [&](const ListedRequest& r) {
      const auto* s = listed(r, 44);
      const auto* t = listed(r, 40);
      return s && t && s->value == id->value && t->value == status->value;
    });
    REQUIRE(mine != ours.end());
    CHECK(mine->aaa_id == listing.aaa_id);
    CHECK(mine->length == got->wire.size());

    // The printed Request Authenticator is MD5 over the packet as sent and the secret
    // (RFC 2866 §3), so it tells what the document's router really sent. With the listing's
    // Identifier, the secret nsite and ...
    const auto printed = listing.authenticator;
    REQUIRE(printed.size() == 32);
    if (!pasted.empty()) {
      // ... without the pasted lines, the Stop's bytes are the router's (len 238).
      CHECK(signed_as(got->wire, listing.identifier, "nsite") != printed);
      CHECK(signed_as(without(got->wire, pasted), listing.identifier, "nsite") == printed);
    } else if (listing.destination.starts_with("10.1.1.4:")) {
      // ... the Start's only with the NAS-IP-Address the other two print, 100.1.1.147: its
      // printed 10.1.1.147 (and server 10.1.1.4) were edited after the capture.
      CHECK(signed_as(got->wire, listing.identifier, "nsite") != printed);
      auto edited = got->wire;
      for (std::size_t i = 20; i + 6 <= edited.size(); i += edited[i + 1]) {
        if (edited[i] == 4 && edited[i + 1] == 6) {
          edited[i + 2] = 100;
        }
      }
      CHECK(signed_as(edited, listing.identifier, "nsite") == printed);
    } else {
      // ... the Interim's as ours is: the same octets.
      CHECK(signed_as(got->wire, listing.identifier, "nsite") == printed);
    }
  }
}

TEST_CASE("parse_debug_radius reads what the gateway prints", "[client][debug]") {
  const std::string text = "*00:00:00.000: RADIUS(00000002): sending\n"
                           "*00:00:00.000: RADIUS(00000002): Send Accounting-Request to "
                           "127.0.0.1:1813 id 7,\nlen 44\n"
                           "*00:00:00.000: RADIUS: authenticator 38 F5 EB 46 4D BE 4A 6F - 45 "
                           "EB EF 7D B7 19\nFB 3F\n"
                           "*00:00:00.000: RADIUS: Vendor, Cisco [26] 36\n"
                           "*00:00:00.000: RADIUS: Cisco AVpair [1] 30 \"connect-progress=No\n"
                           "Progress\"\n"
                           "*00:00:00.000: RADIUS: Acct-Output-Giga-Wor[53] 6 0\n"
                           "prose that is not a listing [1] 2 x\n"
                           "*00:00:00.004: RADIUS: Received from id 21645/7 127.0.0.1:1813, "
                           "Accounting-response, len 20\n"
                           "*00:00:00.004: RADIUS: Acct-Session-Id [44] 10 \"00000001\"\n";
  const auto requests = parse_debug_radius(text);
  REQUIRE(requests.size() == 1);
  const auto& r = requests[0];
  CHECK(r.aaa_id == "00000002");
  CHECK(r.destination == "127.0.0.1:1813");
  CHECK(r.identifier == 7);
  CHECK(r.length == 44);
  CHECK(r.authenticator == "38F5EB464DBE4A6F45EBEF7DB719FB3F");
  REQUIRE(r.attributes.size() == 2); // the line after "Received from" is the response's
  CHECK(r.attributes[0].name == "Cisco AVpair");
  CHECK(r.attributes[0].vendor_length == 36);
  CHECK(r.attributes[0].length == 30);
  CHECK(r.attributes[0].value == "connect-progress=No Progress");
  CHECK(r.attributes[1].name == "Acct-Output-Giga-Wor");
  CHECK(r.attributes[1].type == 53);
  CHECK(r.attributes[1].value == "0");
  CHECK_FALSE(r.attributes[1].vendor_length);
  CHECK(r.attributes[1].stamp == "*00:00:00.000");
}
