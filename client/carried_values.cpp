#include "client/carried_values.hpp"

#include "client/accounting_packet.hpp"
#include "radius/dictionary.hpp"
#include "radius/packet_codec.hpp"

namespace acctlab::gateway {
namespace {

// The Vendor-Specific attribute (RFC 2865 §5.26) that carries Cisco's sub-attributes.
constexpr std::uint8_t vendor_specific = 26;

struct Shape {
  radius::Attribute attribute;
  std::string_view prefix; // octets the builder puts before the value
};

Shape shape_of(Carried carried) {
  const radius::Attribute avpair_shape{
      .type = vendor_specific, .vendor = attr::cisco_vendor, .vendor_type = attr::cisco_avpair};
  switch (carried) {
    case Carried::user_name:
      return {radius::Attribute{.type = attr::user_name}, {}};
    case Carried::group_id:
      return {avpair_shape, avpair::group_id};
    case Carried::phase1_id:
      return {avpair_shape, avpair::phase1_id};
    case Carried::vrf_id:
      return {avpair_shape, avpair::vrf_id};
    case Carried::nas_port:
      break;
  }
  return {radius::Attribute{.type = vendor_specific,
                            .vendor = attr::cisco_vendor,
                            .vendor_type = attr::cisco_nas_port},
          {}};
}

} // namespace

std::optional<std::string> check_carried(Carried carried, std::string_view what,
                                         std::string_view value) {
  const Shape shape = shape_of(carried);
  const auto failure = radius::check_attribute(shape.attribute, shape.prefix.size() + value.size(),
                                               radius::Dictionary::builtin());
  if (!failure) {
    return std::nullopt;
  }
  std::string message = std::string(what) + " is " + std::to_string(value.size()) + " octets; " +
                        failure->attribute + " holds at most " + std::to_string(failure->limit);
  if (!shape.prefix.empty()) {
    const std::size_t room =
        failure->limit > shape.prefix.size() ? failure->limit - shape.prefix.size() : 0;
    message += ", and \"" + std::string(shape.prefix) + "\" takes " +
               std::to_string(shape.prefix.size()) + " of them (at most " + std::to_string(room) +
               " for the value)";
  }
  return message;
}

} // namespace acctlab::gateway
