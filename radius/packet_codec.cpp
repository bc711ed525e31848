#include "radius/packet_codec.hpp"

#include <algorithm>

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

Octets encode_packet(const Packet& packet, const Dictionary& dict) {
  Octets out;
  out.reserve(256);
  out.push_back(static_cast<std::uint8_t>(packet.code()));
  out.push_back(packet.identifier());
  out.push_back(0);
  out.push_back(0);
  out.insert(out.end(), packet.authenticator().begin(), packet.authenticator().end());

  const auto& attributes = packet.attributes();
  for (std::size_t i = 0; i < attributes.size();) {
    const auto& attribute = attributes[i];
    if (!attribute.is_vendor()) {
      const auto value = packet.value(attribute);
      const std::size_t size = std::min(value.size(), max_attribute_value);
      out.push_back(attribute.type);
      out.push_back(static_cast<std::uint8_t>(size + 2));
      out.insert(out.end(), value.begin(), value.begin() + static_cast<std::ptrdiff_t>(size));
      ++i;
      continue;
    }
    // One Vendor-Specific holds this sub-attribute and the following ones of the same group.
    const auto format = format_of(dict, attribute.vendor);
    const std::size_t vsa_start = out.size();
    out.push_back(vendor_specific_type);
    out.push_back(0);
    write_be(out, attribute.vendor, 4);
    std::size_t j = i;
    for (; j < attributes.size() && attributes[j].vendor == attribute.vendor &&
           attributes[j].vsa_group == attribute.vsa_group;
         ++j) {
      const auto value = packet.value(attributes[j]);
      const std::size_t header = format.type_size + format.length_size;
      const std::size_t used = out.size() - vsa_start;
      if (used + header > 255 || (j > i && used + header + value.size() > 255)) {
        break; // the rest of the group continues in a new Vendor-Specific
      }
      const std::size_t room = 255 - used - header;
      const std::size_t size = std::min(value.size(), room);
      write_be(out, attributes[j].vendor_type, format.type_size);
      if (format.length_size > 0) {
        write_be(out, static_cast<std::uint32_t>(size + header), format.length_size);
      }
      out.insert(out.end(), value.begin(), value.begin() + static_cast<std::ptrdiff_t>(size));
    }
    out[vsa_start + 1] = static_cast<std::uint8_t>(out.size() - vsa_start);
    i = j;
  }
  out[2] = static_cast<std::uint8_t>(out.size() >> 8);
  out[3] = static_cast<std::uint8_t>(out.size());
  return out;
}

} // namespace acctlab::radius
