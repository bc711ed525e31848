#include "radius/packet_codec.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace acctlab::radius {
namespace {

std::uint32_t read_be(const std::uint8_t* p, std::size_t size) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < size; ++i) {
    value = (value << 8) | p[i];
  }
  return value;
}

void write_be(Octets& out, std::uint32_t value, std::size_t size) {
  for (std::size_t i = size; i-- > 0;) {
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  }
}

DecodeResult<std::size_t> check_header(std::span<const std::uint8_t> datagram) {
  if (datagram.empty()) {
    return Unexpected{DecodeFailure{DecodeError::empty_datagram, 0}};
  }
  if (datagram.size() < header_size) {
    return Unexpected{DecodeFailure{DecodeError::truncated_header, datagram.size()}};
  }
  const std::size_t length = read_be(datagram.data() + 2, 2);
  if (length < header_size) {
    return Unexpected{DecodeFailure{DecodeError::length_too_small, 2}};
  }
  if (length > max_packet_size) {
    return Unexpected{DecodeFailure{DecodeError::length_too_large, 2}};
  }
  // RFC 2865 §3: octets beyond Length are padding and are ignored; a Length beyond the datagram
  // is a silent discard.
  if (length > datagram.size()) {
    return Unexpected{DecodeFailure{DecodeError::length_exceeds_datagram, 2}};
  }
  return length;
}

// Walks the attribute area; calls visit(type, value_offset, value_length) for each attribute.
template <class Visit>
std::optional<DecodeFailure> walk_attributes(std::span<const std::uint8_t> packet, Visit&& visit) {
  std::size_t pos = header_size;
  while (pos < packet.size()) {
    if (packet.size() - pos < 2) {
      return DecodeFailure{DecodeError::attribute_header_truncated, pos};
    }
    const std::size_t length = packet[pos + 1];
    if (length < 2) {
      return DecodeFailure{DecodeError::attribute_length_too_small, pos + 1};
    }
    if (pos + length > packet.size()) {
      return DecodeFailure{DecodeError::attribute_overflows_packet, pos};
    }
    visit(packet[pos], pos + 2, length - 2);
    pos += length;
  }
  return std::nullopt;
}

struct VendorFormat {
  std::uint8_t type_size = 1;
  std::uint8_t length_size = 1;
};

VendorFormat format_of(const Dictionary& dict, std::uint32_t vendor) {
  if (const auto* def = dict.vendor(vendor)) {
    return {def->type_size, def->length_size};
  }
  return {};
}

std::string name_of(const Attribute& attribute, const Dictionary& dict) {
  if (const auto* def = dict.find(attribute.key())) {
    return def->name;
  }
  // The text form's names for attributes without a definition.
  if (attribute.is_vendor()) {
    return "Attr-26." + std::to_string(attribute.vendor) + "." +
           std::to_string(attribute.vendor_type);
  }
  return "Attr-" + std::to_string(attribute.type);
}

// The limits of one attribute on the wire; format is the vendor's for a sub-attribute.
std::optional<EncodeFailure> check_shape(const Attribute& attribute, std::size_t size,
                                         VendorFormat format, const Dictionary& dict,
                                         std::size_t index) {
  // RFC 2865 §5: one Length octet that counts the Type and Length octets too, so 255 - 2.
  std::size_t limit = max_attribute_value;
  if (attribute.is_vendor()) {
    // RFC 2865 §5.26: the sub-attribute's type field is as wide as the vendor's format says; a
    // wider type would be written modulo the field and name another attribute.
    if (format.type_size < 4 && (attribute.vendor_type >> (8 * format.type_size)) != 0) {
      return EncodeFailure{.error = EncodeError::vendor_type_too_wide,
                           .attribute = name_of(attribute, dict),
                           .vendor = attribute.vendor,
                           .index = index,
                           .size = attribute.vendor_type,
                           .limit = (std::size_t{1} << (8 * format.type_size)) - 1};
    }
    // One Vendor-Specific of 255 octets: type, length, Vendor-Id, then the sub-attribute's own
    // type and length fields. A value is not split over two sub-attributes: nothing says the
    // receiver joins them (WiMAX's continuation flag, format=1,1,c, is not implemented).
    limit = max_attribute_value - 4 - format.type_size - format.length_size;
  }
  if (size > limit) {
    return EncodeFailure{.error = EncodeError::value_too_long,
                         .attribute = name_of(attribute, dict),
                         .index = index,
                         .size = size,
                         .limit = limit};
  }
  return std::nullopt;
}

// RFC 2865 §5.26: Vendor-Id (4 octets) then the vendor's sub-attributes. Returns false when the
// contents do not follow the vendor's format; the caller then keeps the VSA as raw octets.
bool split_vsa(std::span<const std::uint8_t> value, const Dictionary& dict, std::uint16_t group,
               std::size_t value_offset, Packet& packet, std::span<const std::uint8_t> wire) {
  if (value.size() < 4) {
    return false;
  }
  const std::uint32_t vendor = read_be(value.data(), 4);
  if (vendor == 0) {
    return false;
  }
  const auto format = format_of(dict, vendor);
  const std::size_t header = format.type_size + format.length_size;
  std::size_t pos = 4;
  if (pos >= value.size()) {
    return false;
  }
  // Validate everything first, so a bad VSA never leaves half its sub-attributes behind.
  while (pos < value.size()) {
    if (value.size() - pos < header) {
      return false;
    }
    std::size_t length = value.size() - pos;
    if (format.length_size > 0) {
      length = read_be(value.data() + pos + format.type_size, format.length_size);
      if (length < header || pos + length > value.size()) {
        return false;
      }
    }
    pos += length;
  }
  pos = 4;
  while (pos < value.size()) {
    const std::uint32_t type = read_be(value.data() + pos, format.type_size);
    std::size_t length = value.size() - pos;
    if (format.length_size > 0) {
      length = read_be(value.data() + pos + format.type_size, format.length_size);
    }
    packet.add_raw(Attribute{.type = vendor_specific_type,
                             .vendor = vendor,
                             .vendor_type = type,
                             .vsa_group = group},
                   wire.subspan(value_offset + pos + header, length - header));
    pos += length;
  }
  return true;
}

} // namespace

std::optional<DecodeFailure> check_framing(std::span<const std::uint8_t> datagram) {
  auto length = check_header(datagram);
  if (!length) {
    return length.error();
  }
  return walk_attributes(datagram.first(*length), [](std::uint8_t, std::size_t, std::size_t) {});
}

std::size_t append_proxy_states(std::span<const std::uint8_t> datagram,
                                std::vector<std::uint8_t>& out) {
  auto length = check_header(datagram);
  if (!length) {
    return 0;
  }
  const auto wire = datagram.first(*length);
  std::size_t appended = 0;
  walk_attributes(wire, [&](std::uint8_t type, std::size_t offset, std::size_t size) {
    if (type == proxy_state_type) {
      const auto whole = wire.subspan(offset - 2, size + 2);
      out.insert(out.end(), whole.begin(), whole.end());
      ++appended;
    }
  });
  return appended;
}

DecodeResult<Packet> decode_packet(std::span<const std::uint8_t> datagram, const Dictionary& dict) {
  auto length = check_header(datagram);
  if (!length) {
    return Unexpected{length.error()};
  }
  const auto wire = datagram.first(*length);
  Packet packet(static_cast<Code>(wire[0]), wire[1]);
  Authenticator authenticator;
  std::copy_n(wire.begin() + 4, authenticator.size(), authenticator.begin());
  packet.set_authenticator(authenticator);
  packet.reserve(32, wire.size());

  std::uint16_t group = 0;
  auto failure =
      walk_attributes(wire, [&](std::uint8_t type, std::size_t offset, std::size_t size) {
        const auto value = wire.subspan(offset, size);
        if (type == vendor_specific_type) {
          ++group;
          if (split_vsa(value, dict, group, offset, packet, wire)) {
            return;
          }
        }
        packet.add_raw(Attribute{.type = type}, value);
      });
  if (failure) {
    return Unexpected{*failure};
  }
  return packet;
}

std::string EncodeFailure::message() const {
  switch (error) {
    case EncodeError::value_too_long:
      return attribute + " is " + std::to_string(size) +
             " octets; the most one attribute holds is " + std::to_string(limit);
    case EncodeError::vendor_type_too_wide:
      return attribute + ": vendor " + std::to_string(vendor) + " has a " +
             std::to_string(limit > 0xFF ? 2 : 1) + "-octet type field (types up to " +
             std::to_string(limit) + ")";
    case EncodeError::packet_too_long:
      break;
  }
  return "the packet is " + std::to_string(size) + " octets; RFC 2865 §3 allows " +
         std::to_string(limit);
}

std::optional<EncodeFailure> check_attribute(const Attribute& shape, std::size_t value_size,
                                             const Dictionary& dict, std::size_t index) {
  return check_shape(shape, value_size,
                     shape.is_vendor() ? format_of(dict, shape.vendor) : VendorFormat{}, dict,
                     index);
}

EncodeResult try_encode_packet(const Packet& packet, const Dictionary& dict) {
  Octets out;
  out.reserve(256);
  out.push_back(static_cast<std::uint8_t>(packet.code()));
  out.push_back(packet.identifier());
  out.push_back(0);
  out.push_back(0);
  out.insert(out.end(), packet.authenticator().begin(), packet.authenticator().end());

  const auto& attributes = packet.attributes();
  std::optional<std::size_t> overflow; // the first attribute that ends beyond max_packet_size
  for (std::size_t i = 0; i < attributes.size();) {
    const auto& attribute = attributes[i];
    const std::size_t first = i;
    if (!attribute.is_vendor()) {
      const auto value = packet.value(attribute);
      if (auto failure = check_shape(attribute, value.size(), VendorFormat{}, dict, i)) {
        return Unexpected{std::move(*failure)};
      }
      out.push_back(attribute.type);
      out.push_back(static_cast<std::uint8_t>(value.size() + 2));
      out.insert(out.end(), value.begin(), value.end());
      ++i;
    } else {
      // One Vendor-Specific holds this sub-attribute and the following ones of the same group.
      const auto format = format_of(dict, attribute.vendor);
      const std::size_t header = format.type_size + format.length_size;
      const std::size_t vsa_start = out.size();
      out.push_back(vendor_specific_type);
      out.push_back(0);
      write_be(out, attribute.vendor, 4);
      std::size_t j = i;
      for (; j < attributes.size() && attributes[j].vendor == attribute.vendor &&
             attributes[j].vsa_group == attribute.vsa_group;
           ++j) {
        const auto value = packet.value(attributes[j]);
        if (auto failure = check_shape(attributes[j], value.size(), format, dict, j)) {
          return Unexpected{std::move(*failure)};
        }
        // The rest of the group continues in a new Vendor-Specific when this one would outgrow
        // its Length octet (RFC 2865 §5.26), or when the vendor's sub-attributes have no length
        // field: the receiver then takes everything after the type as one value. The first
        // sub-attribute always fits: check_shape bounds it by an empty Vendor-Specific's room.
        const std::size_t used = out.size() - vsa_start;
        if (j > i && (format.length_size == 0 || used + header + value.size() > 255)) {
          break;
        }
        write_be(out, attributes[j].vendor_type, format.type_size);
        if (format.length_size > 0) {
          write_be(out, static_cast<std::uint32_t>(value.size() + header), format.length_size);
        }
        out.insert(out.end(), value.begin(), value.end());
      }
      out[vsa_start + 1] = static_cast<std::uint8_t>(out.size() - vsa_start);
      i = j;
    }
    if (!overflow && out.size() > max_packet_size) {
      overflow = first;
    }
  }
  if (overflow) {
    // Every attribute may be legal and their sum not: the Length field tops out at 4096 and a
    // receiver discards the packet (RFC 2865 §3, RFC 2866 §3).
    EncodeFailure failure{.error = EncodeError::packet_too_long,
                          .index = *overflow,
                          .size = out.size(),
                          .limit = max_packet_size};
    return Unexpected{std::move(failure)};
  }
  out[2] = static_cast<std::uint8_t>(out.size() >> 8);
  out[3] = static_cast<std::uint8_t>(out.size());
  return out;
}

// A throw, not an assert: an assert is compiled out of release builds, where the packet would go
// out wrong again without a word, and a wrong packet is never the lesser harm. The callers of
// this form build their packets from fixed parts (the feature document's records, generated
// traffic, tests), so the exception marks a programming error, never bad input; everything that
// carries values from a user, a file or the network calls try_encode_packet.
Octets encode_packet(const Packet& packet, const Dictionary& dict) {
  auto encoded = try_encode_packet(packet, dict);
  if (!encoded) {
    throw std::length_error("encode_packet: " + encoded.error().message());
  }
  return std::move(encoded).value();
}

} // namespace acctlab::radius
